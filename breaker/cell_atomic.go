//go:build race || !(amd64 || arm64 || riscv64 || ppc64le || s390x || loong64)

package breaker

import "sync/atomic"

// cell is one counter in a stripe; see cell.go. This build writes it
// atomically: the race detector cannot see that a pinned processor owns
// its stripe, and 32-bit platforms could tear a plain 64-bit store.
type cell struct{ v atomic.Uint64 }

func (c *cell) add(n uint64) { c.v.Add(n) }
func (c *cell) reset()       { c.v.Store(0) }
func (c *cell) load() uint64 { return c.v.Load() }
