//go:build unix

package daemon

import "syscall"

// openFileLimit returns the process's open-file limit (the soft one, which
// Go raises to the hard one at start), or 0 when it cannot be read.
func openFileLimit() uint64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	return uint64(r.Cur) // unlimited reads as a huge number, which gives no default limit
}
