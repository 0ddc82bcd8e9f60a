// Package lograte limits how often a repeated log line is written, so a
// storm of the same event (failures, refused requests) leaves a trace
// without flooding the log.
package lograte

import (
	"sync/atomic"
	"time"
)

// Limiter lets one line through per interval. The zero value is ready to
// use; it is safe for concurrent use.
type Limiter struct {
	last    atomic.Int64 // Unix ns of the last line let through
	skipped atomic.Int64
}

// Allow reports whether a line may be written at now, at most one per
// every. When it may, skipped is how many were refused since the last
// one, for the line to say; when it may not, the refusal is counted.
func (l *Limiter) Allow(now time.Time, every time.Duration) (ok bool, skipped int64) {
	n := now.UnixNano()
	last := l.last.Load()
	if (last != 0 && n-last < int64(every)) || !l.last.CompareAndSwap(last, n) {
		l.skipped.Add(1)
		return false, 0
	}
	return true, l.skipped.Swap(0)
}
