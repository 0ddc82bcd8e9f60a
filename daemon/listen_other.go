//go:build !linux

package daemon

import "net"

// listenConfig leaves keep-alive to Go, which sets it on each accepted
// connection.
func listenConfig() *net.ListenConfig { return &net.ListenConfig{} }
