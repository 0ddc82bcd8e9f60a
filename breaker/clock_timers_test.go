package breaker

import (
	"sync/atomic"
	"testing"
	"time"
)

// countingClock is a ManualClock that counts its reads, to show which
// paths read the clock.
type countingClock struct {
	*ManualClock
	reads atomic.Int64
}

func (c *countingClock) UnixNano() int64 { c.reads.Add(1); return c.ManualClock.UnixNano() }
func (c *countingClock) Now() time.Time  { c.reads.Add(1); return c.ManualClock.Now() }

func (c *ManualClock) pendingTimers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

func newCounting(t *testing.T, s Settings) (*Breaker, *countingClock) {
	t.Helper()
	clk := &countingClock{ManualClock: NewManualClock(time.Unix(1_700_000_000, 0))}
	s.Clock = clk
	return New(s), clk
}

func TestClosedSuccessReadsTheClockOncePerBucket(t *testing.T) {
	b, clk := newCounting(t, Settings{Name: "x", FailureRateThreshold: 0.5, Window: 10 * time.Second, WindowBuckets: 10})
	for range 3 { // three buckets
		before := clk.reads.Load()
		for range 1000 {
			done, err := b.Allow()
			if err != nil {
				t.Fatal(err)
			}
			done(Success, 0)
		}
		if got := clk.reads.Load() - before; got != 1 {
			t.Fatalf("1000 successes in one bucket read the clock %d times, want 1", got)
		}
		clk.Advance(time.Second)
	}
	if c := b.Counts(); c.Successes != 3000 {
		t.Fatalf("successes = %d, want 3000", c.Successes)
	}
	calls, _, _ := b.counts.window(clk.UnixNano()-1, b.counts.n, 0)
	if calls != 3000 {
		t.Fatalf("window holds %d calls, want 3000", calls)
	}
}

func TestSuccessesLandInTheBucketOfTheirTime(t *testing.T) {
	// The window must slide exactly as with a clock read per call: calls
	// older than the window drop out of the failure rate.
	b, clk := newCounting(t, Settings{Name: "x", FailureRateThreshold: 0.5, MinimumCalls: 4, Window: 4 * time.Second, WindowBuckets: 4})
	for range 10 {
		done, _ := b.Allow()
		done(Success, 0)
	}
	clk.Advance(5 * time.Second) // the successes leave the window
	done, _ := b.Allow()
	done(Success, 0)
	for range 3 {
		done, _ := b.Allow()
		done(Failure, 0)
	}
	if got := b.State(); got != Open {
		t.Fatalf("state = %v, want open: 3 of the last 4 calls in the window failed", got)
	}
}

func TestOpenBreakerRejectsWithoutReadingTheClock(t *testing.T) {
	b, clk := newCounting(t, Settings{Name: "x", ConsecutiveFailures: 1, OpenTimeout: 30 * time.Second})
	done, _ := b.Allow()
	done(Failure, 0)
	if b.State() != Open {
		t.Fatal("breaker did not open")
	}
	before := clk.reads.Load()
	for range 1000 {
		if _, err := b.Allow(); err == nil {
			t.Fatal("open breaker allowed a call")
		}
	}
	if got := clk.reads.Load() - before; got != 0 {
		t.Fatalf("1000 rejections read the clock %d times, want 0", got)
	}
	clk.Advance(30*time.Second - 1)
	if _, err := b.Allow(); err == nil {
		t.Fatal("allowed a call before the open timeout")
	}
	clk.Advance(1)
	if _, err := b.Allow(); err != nil {
		t.Fatalf("no trial once the open timeout elapsed: %v", err)
	}
	if b.State() != HalfOpen {
		t.Fatalf("state = %v, want half-open", b.State())
	}
}

func TestTimerThatFiresEarlyIsCheckedAgainstTheClock(t *testing.T) {
	// Moving a ManualClock back fires every timer: the breaker must still
	// reject until openUntil.
	b, clk := newCounting(t, Settings{Name: "x", ConsecutiveFailures: 1, OpenTimeout: 30 * time.Second})
	done, _ := b.Allow()
	done(Failure, 0)
	clk.Set(clk.ManualClock.Now().Add(-time.Second))
	if _, err := b.Allow(); err == nil {
		t.Fatal("allowed a call before the open timeout after an early timer")
	}
}

func TestIdleBreakerArmsNoTimer(t *testing.T) {
	b, clk := newCounting(t, Settings{Name: "x", Window: 10 * time.Second, WindowBuckets: 10})
	if n := clk.pendingTimers(); n != 0 {
		t.Fatalf("a new breaker armed %d timers", n)
	}
	done, _ := b.Allow()
	done(Success, 0)
	if n := clk.pendingTimers(); n != 1 {
		t.Fatalf("after a call: %d timers pending, want 1 (the bucket's end)", n)
	}
	for range 5 {
		clk.Advance(time.Second)
		if n := clk.pendingTimers(); n != 0 {
			t.Fatalf("idle breaker has %d timers pending, want 0", n)
		}
	}
}

func TestManualClockTimers(t *testing.T) {
	clk := NewManualClock(time.Unix(0, 0))
	var fired []int
	clk.AfterFunc(2*time.Second, func() { fired = append(fired, 2) })
	clk.AfterFunc(time.Second, func() { fired = append(fired, 1) })
	stop := clk.AfterFunc(3*time.Second, func() { fired = append(fired, 3) })
	clk.AfterFunc(0, func() { fired = append(fired, 0) })
	clk.Advance(2500 * time.Millisecond)
	if !stop() {
		t.Fatal("stop of a pending timer reported false")
	}
	clk.Advance(time.Hour)
	if stop() {
		t.Fatal("second stop reported true")
	}
	want := []int{0, 1, 2}
	if len(fired) != len(want) || fired[0] != 0 || fired[1] != 1 || fired[2] != 2 {
		t.Fatalf("fired %v, want %v", fired, want)
	}
}
