//go:build !unix

package daemon

// openFileLimit is unknown here: no default connection limit.
func openFileLimit() uint64 { return 0 }
