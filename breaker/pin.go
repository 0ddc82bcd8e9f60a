package breaker

import _ "unsafe" // for go:linkname

// procPin pins the calling goroutine to its processor and returns the
// processor's id; procUnpin ends the pin. While pinned the goroutine cannot
// be preempted, so nothing else runs on that processor: counters use this
// to give each processor a stripe only it writes. The runtime keeps these
// two linknames stable for exactly this use (see the "hall of shame" note
// on runtime.procPin).
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()
