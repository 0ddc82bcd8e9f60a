//go:build !race && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64)

package breaker

import "sync/atomic"

// cell is one counter in a stripe. Only the stripe's owner writes it (see
// counters.record), so an increment needs no locked instruction: this is the
// per-CPU counter of the Linux kernel and of sync.Pool's private slot.
// Readers load it atomically; on these 64-bit platforms an aligned word
// store is never torn, so a reader sees some value the owner wrote.
//
// Race-detector builds and other platforms use the atomic cell in
// cell_atomic.go instead, which behaves the same and costs a locked add.
type cell struct{ v uint64 }

// add and reset are for the owner only.
func (c *cell) add(n uint64) { c.v += n }
func (c *cell) reset()       { c.v = 0 }

// load may be called by anyone, at any time.
func (c *cell) load() uint64 { return atomic.LoadUint64(&c.v) }
