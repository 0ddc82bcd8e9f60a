package breaker

import (
	"math"
	"sync/atomic"
	"time"
)

// RateLimit caps a quantity per period, such as requests or tokens per
// minute. It is a bucket of Limit units that refills continuously at
// Limit per Per: an idle limit allows a burst of Limit, and after that
// Limit per Per. Unlike a fixed per-minute window it never lets 2×Limit
// through around a window's edge.
//
// It keeps one atomic word (the generic cell rate algorithm's theoretical
// arrival time), so Take is lock-free. A nil *RateLimit allows everything.
//
// Processes that share a limit each keep a RateLimit, and each feeds its
// own the others' usage with AddRemote: Used reports what to share.
type RateLimit struct {
	now      func() int64
	interval float64 // nanoseconds one unit occupies
	capacity int64   // nanoseconds the whole bucket spans: Per
	tat      atomic.Int64
	used     atomic.Uint64 // float64 bits: units of Take and Add, ever
}

// NewRateLimit returns a limit of limit units per per, read from clock
// (the system clock if nil). It returns nil, which allows everything, when
// limit or per is not positive.
func NewRateLimit(limit float64, per time.Duration, clock Clock) *RateLimit {
	if !(limit > 0) || per <= 0 {
		return nil
	}
	interval := float64(per) / limit
	// Below one unit per period, the bucket still holds one unit.
	return &RateLimit{now: nanotimeOf(clock), interval: interval, capacity: max(int64(per), int64(math.Ceil(interval)))}
}

// Take takes n units if they fit in what is left now, and reports so. If
// they do not, it takes nothing and returns how long until they would;
// wait is 0 when n is more than the whole limit and never fits. Take(0)
// asks whether anything is left without taking it: false once Add has
// used the bucket up.
func (l *RateLimit) Take(n float64) (ok bool, wait time.Duration) {
	if l == nil {
		return true, 0
	}
	cost := l.cost(n)
	for {
		now := l.now()
		old := l.tat.Load()
		tat := max(old, now)
		next := satAdd(tat, cost)
		over := next - now - l.capacity // how far past a full bucket taking would go
		if n == 0 {
			over = tat - now - l.capacity + 1 // something must be left
		}
		if over > 0 {
			if cost > l.capacity {
				return false, 0
			}
			return false, time.Duration(over)
		}
		if l.tat.CompareAndSwap(old, next) {
			l.addUsed(n)
			return true, 0
		}
	}
}

// Add records n units used whether or not they fit, such as the tokens of
// a call that already happened. It may leave the bucket overdrawn, and
// then Take refuses until enough time has passed.
func (l *RateLimit) Add(n float64) {
	if l == nil || n <= 0 {
		return
	}
	l.charge(n)
	l.addUsed(n)
}

// AddRemote records n units that other processes sharing the limit used,
// as Add does, except that they do not count toward Used: they are
// theirs to share, not this process's.
func (l *RateLimit) AddRemote(n float64) {
	if l == nil || n <= 0 {
		return
	}
	l.charge(n)
}

// Used returns the units this process has taken (Take) and recorded
// (Add) since the limit was made; the difference between two readings
// is what it used in between. It is 0 for a nil limit.
func (l *RateLimit) Used() float64 {
	if l == nil {
		return 0
	}
	return math.Float64frombits(l.used.Load())
}

func (l *RateLimit) charge(n float64) {
	cost := l.cost(n)
	for {
		old := l.tat.Load()
		if l.tat.CompareAndSwap(old, satAdd(max(old, l.now()), cost)) {
			return
		}
	}
}

func (l *RateLimit) addUsed(n float64) {
	for {
		old := l.used.Load()
		if l.used.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+n)) {
			return
		}
	}
}

// Remaining returns how many units Take could take now.
func (l *RateLimit) Remaining() float64 {
	if l == nil {
		return math.Inf(1)
	}
	now := l.now()
	used := max(l.tat.Load()-now, 0)
	return max(float64(l.capacity-used)/l.interval, 0)
}

func (l *RateLimit) cost(n float64) int64 {
	c := math.Ceil(n * l.interval)
	if c >= math.MaxInt64/2 {
		return math.MaxInt64 / 2
	}
	return int64(max(c, 0))
}

// satAdd adds without wrapping past the largest time.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
