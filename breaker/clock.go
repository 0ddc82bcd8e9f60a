package breaker

import (
	"sync"
	"sync/atomic"
	"time"
)

// Clock tells a breaker the time. Tests inject a ManualClock; production
// code shares one CoarseClock between many breakers.
type Clock interface {
	Now() time.Time
}

// nanoClock is implemented by clocks that can report Unix nanoseconds
// without building a time.Time, which keeps the hot path cheap.
type nanoClock interface {
	UnixNano() int64
}

type systemClock struct{}

// Now reads the system clock.
func (systemClock) Now() time.Time { return time.Now() }

// SystemClock returns a Clock that reads the system clock on every call.
// It is exact but costs a system-clock read (tens of nanoseconds) per call.
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
// resolution. Reading it is a single atomic load, so breakers that share it
// never read the system clock on their hot path. Stop it when done.
type CoarseClock struct {
	now  atomic.Int64
	stop chan struct{}
	once sync.Once
	done chan struct{}
}

// NewCoarseClock starts a clock that ticks every resolution (1ms if
// resolution <= 0). Its time lags the system clock by at most resolution.
func NewCoarseClock(resolution time.Duration) *CoarseClock {
	if resolution <= 0 {
		resolution = time.Millisecond
	}
	c := &CoarseClock{stop: make(chan struct{}), done: make(chan struct{})}
	c.now.Store(time.Now().UnixNano())
	go c.run(resolution)
	return c
}

func (c *CoarseClock) run(res time.Duration) {
	defer close(c.done)
	t := time.NewTicker(res)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			c.now.Store(now.UnixNano())
		case <-c.stop:
			return
		}
	}
}

// Now returns the time of the last tick.
func (c *CoarseClock) Now() time.Time { return time.Unix(0, c.now.Load()) }

// UnixNano returns the time of the last tick in Unix nanoseconds.
func (c *CoarseClock) UnixNano() int64 { return c.now.Load() }

// Stop ends the background goroutine and waits for it. After Stop the clock
// stays frozen at its last tick. Stop may be called more than once.
func (c *CoarseClock) Stop() {
	c.once.Do(func() { close(c.stop) })
	<-c.done
}

// ManualClock is a Clock that moves only when told to. It is safe for
// concurrent use and meant for tests: no sleeps, exact timing.
type ManualClock struct {
	now atomic.Int64
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

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) { c.now.Add(int64(d)) }

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) { c.now.Store(t.UnixNano()) }
