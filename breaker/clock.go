package breaker

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Clock tells a breaker the time. Tests inject a ManualClock; production
// code uses SystemClock (the default). Both have timers, which spare the
// breaker most clock reads; a Clock without them is read on every call.
type Clock interface {
	Now() time.Time
}

// nanoClock is implemented by clocks that can report Unix nanoseconds
// without building a time.Time, which keeps the hot path cheap.
type nanoClock interface {
	UnixNano() int64
}

// timerClock is implemented by clocks that can run a function once their
// time has moved on by d. A breaker on such a clock reads it only when
// something may be due: a timer tells an open breaker that its trials may
// start, and tells the closed hot path that a window bucket has ended, so
// neither reads the clock per call and nothing wakes while idle.
type timerClock interface {
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type systemClock struct{}

// Now reads the system clock.
func (systemClock) Now() time.Time { return time.Now() }

// AfterFunc runs f in its own goroutine after d, as time.AfterFunc does.
func (systemClock) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	return time.AfterFunc(d, f).Stop
}

// SystemClock returns a Clock that reads the system clock. A breaker on it
// (the default) reads it only when a call fails or is timed, when a trip
// ends, and once per window bucket; timers cover the rest.
func SystemClock() Clock { return systemClock{} }

// nanotimeOf returns a function reporting c's time in Unix nanoseconds.
func nanotimeOf(c Clock) func() int64 {
	if c == nil {
		c = systemClock{}
	}
	if nc, ok := c.(nanoClock); ok {
		return nc.UnixNano
	}
	return func() int64 { return c.Now().UnixNano() }
}

// CoarseClock is a Clock updated by one background goroutine every
// resolution. Reading it is an atomic load. Each tick, though, may wake a
// sleeping thread, which on a VM costs tens of microseconds, and the
// default clock's timers now make a breaker as fast without ticking: use
// it only for code of your own that reads the time millions of times a
// second.
//
// So that an idle process does not wake up a thousand times a second, the
// clock parks after parkAfter ticks, and the next read returns the system
// time and restarts it. Under steady reads that is one restart per
// parkAfter ticks; without reads the clock stays parked. Stop it when done.
type CoarseClock struct {
	now   atomic.Int64 // Unix nanoseconds of the last tick; 0 while parked
	ticks int          // since the last restart; the ticker's own
	wake  chan struct{}
	stop  chan struct{}
	once  sync.Once
	done  chan struct{}
}

// parkAfter is how many ticks a CoarseClock makes before it parks.
const parkAfter = 100

// NewCoarseClock starts a clock that ticks every resolution (1ms if
// resolution <= 0). Its time lags the system clock by at most resolution.
func NewCoarseClock(resolution time.Duration) *CoarseClock {
	if resolution <= 0 {
		resolution = time.Millisecond
	}
	c := newCoarseClock()
	go c.run(resolution)
	return c
}

// newCoarseClock returns a clock without its ticker, for run or a test to
// drive.
func newCoarseClock() *CoarseClock {
	c := &CoarseClock{wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	c.now.Store(time.Now().UnixNano())
	return c
}

func (c *CoarseClock) run(res time.Duration) {
	defer close(c.done)
	t := time.NewTicker(res)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			if !c.tick(now.UnixNano()) {
				continue
			}
			t.Stop()
			select {
			case <-c.wake:
				t.Reset(res)
			case <-c.stop:
				return
			}
		case <-c.stop:
			return
		}
	}
}

// tick records a tick at now and reports whether the clock parks, which
// it does every parkAfter ticks.
func (c *CoarseClock) tick(now int64) (park bool) {
	if c.ticks++; c.ticks < parkAfter {
		c.now.Store(now)
		return false
	}
	c.ticks = 0
	c.now.Store(0)
	return true
}

// Now returns the time of the last tick.
func (c *CoarseClock) Now() time.Time { return time.Unix(0, c.UnixNano()) }

// UnixNano returns the time of the last tick in Unix nanoseconds, or the
// system time if the clock was parked.
func (c *CoarseClock) UnixNano() int64 {
	if n := c.now.Load(); n != 0 {
		return n
	}
	return c.resume()
}

// resume restarts a parked clock and returns the system time.
func (c *CoarseClock) resume() int64 {
	n := time.Now().UnixNano()
	if c.now.CompareAndSwap(0, n) {
		select { // only the read that unparks gets here, once per park
		case c.wake <- struct{}{}:
		default: // a clock not made by NewCoarseClock has no ticker to wake
		}
	}
	return n
}

// Stop ends the background goroutine and waits for it. After Stop the clock
// stays frozen at its last tick, or at the time of Stop if it was parked.
// Stop may be called more than once.
func (c *CoarseClock) Stop() {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	c.now.CompareAndSwap(0, time.Now().UnixNano())
}

// ManualClock is a Clock that moves only when told to. It is safe for
// concurrent use and meant for tests: no sleeps, exact timing. Its zero
// value reads the Unix epoch.
type ManualClock struct {
	now    atomic.Int64
	mu     sync.Mutex // guards timers and nextID
	timers map[uint64]manualTimer
	nextID uint64
}

type manualTimer struct {
	at int64
	f  func()
}

// NewManualClock returns a ManualClock set to t.
func NewManualClock(t time.Time) *ManualClock {
	c := &ManualClock{}
	c.now.Store(t.UnixNano())
	return c
}

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time { return time.Unix(0, c.now.Load()) }

// UnixNano returns the clock's current time in Unix nanoseconds.
func (c *ManualClock) UnixNano() int64 { return c.now.Load() }

// Advance moves the clock forward by d and runs the timers that came due.
func (c *ManualClock) Advance(d time.Duration) { c.fire(c.now.Add(int64(d)), false) }

// Set moves the clock to t and runs the timers that came due. Moving it
// back runs every pending timer: the breaker's timers only say that
// something may be due, and it checks the time when one fires.
func (c *ManualClock) Set(t time.Time) {
	n := t.UnixNano()
	c.fire(n, n < c.now.Swap(n))
}

// AfterFunc runs f once the clock has moved on by d: in Advance or Set,
// in the goroutine that moved it, or at once if d <= 0. stop cancels it
// and reports whether it did so before f ran.
func (c *ManualClock) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	if d <= 0 {
		f()
		return func() bool { return false }
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timers == nil {
		c.timers = make(map[uint64]manualTimer)
	}
	c.nextID++
	id := c.nextID
	c.timers[id] = manualTimer{at: c.now.Load() + int64(d), f: f}
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, pending := c.timers[id]
		delete(c.timers, id)
		return pending
	}
}

// fire runs the timers due at now, or all of them, outside the lock so
// that they may use the clock.
func (c *ManualClock) fire(now int64, all bool) {
	c.mu.Lock()
	var due []manualTimer
	for id, t := range c.timers {
		if all || t.at <= now {
			due = append(due, t)
			delete(c.timers, id)
		}
	}
	c.mu.Unlock()
	slices.SortFunc(due, func(a, b manualTimer) int { return cmp.Compare(a.at, b.at) })
	for _, t := range due {
		t.f()
	}
}
