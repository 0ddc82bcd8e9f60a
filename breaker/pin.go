package breaker

import _ "unsafe" // for go:linkname

// procPin and procUnpin give the current processor's id. Counters are striped
// by it so that two cores never write the same cache line on the hot path.
// The runtime keeps these two linknames stable for exactly this use
// (see the "hall of shame" note on runtime.procPin).
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// procID returns the id of the processor the caller runs on. The caller may
// migrate right after; the id is only a hint for choosing a stripe.
func procID() int {
	id := procPin()
	procUnpin()
	return id
}
