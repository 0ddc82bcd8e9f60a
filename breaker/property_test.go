package breaker

import (
	"sync"
	"testing"
	"time"
)

// FuzzCountsAddUp drives a breaker with an arbitrary sequence of calls,
// clock moves and admin actions, and checks that the totals always match
// what was reported and always add up.
func FuzzCountsAddUp(f *testing.F) {
	f.Add([]byte{1, 1, 1, 1, 1, 6, 0, 0, 2, 3})
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	f.Add([]byte{7, 1, 8, 1, 1, 9, 10, 6, 6, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		clk := NewManualClock(t0)
		b := New(Settings{Name: "fuzz", Clock: clk, ConsecutiveFailures: 3, FailureRateThreshold: 0.5,
			MinimumCalls: 4, SlowCallDuration: time.Second, SlowCallRateThreshold: 0.8,
			Window: 10 * time.Second, WindowBuckets: 5, HalfOpenMaxCalls: 2, OpenTimeout: 5 * time.Second})
		var want Counts
		var held []func(Outcome, time.Duration)
		report := func(o Outcome, d time.Duration) {
			recording := b.State() != Disabled
			done, err := b.Allow()
			if err != nil {
				want.Rejected++
				return
			}
			done(o, d)
			if !recording {
				return
			}
			want.expect(o, d >= time.Second)
		}
		for _, op := range ops {
			switch op % 12 {
			case 0:
				report(Success, 0)
			case 1:
				report(Failure, 0)
			case 2:
				report(Ignored, 0)
			case 3:
				report(Success, 2*time.Second)
			case 4:
				report(Failure, 2*time.Second)
			case 5:
				clk.Advance(time.Second)
			case 6:
				clk.Advance(7 * time.Second)
			case 7:
				b.ForceOpen("")
			case 8:
				b.ForceClose("")
			case 9:
				b.Disable("")
			case 10:
				b.Enable("")
			case 11:
				if b.State() == Disabled {
					continue
				}
				if done, err := b.Allow(); err == nil {
					held = append(held, done)
				} else {
					want.Rejected++
				}
			}
			got := b.Counts()
			if got.Calls != got.Successes+got.Failures+got.Ignored {
				t.Fatalf("calls %d != %d+%d+%d", got.Calls, got.Successes, got.Failures, got.Ignored)
			}
			want.Calls = want.Successes + want.Failures + want.Ignored
			if got != want {
				t.Fatalf("after op %d: counts %+v, want %+v", op, got, want)
			}
			w := b.Window()
			if w.Calls > got.Successes+got.Failures || w.Failures > w.Calls || w.FailureRate < 0 || w.FailureRate > 1 {
				t.Fatalf("window %+v inconsistent with totals %+v", w, got)
			}
		}
		for _, done := range held {
			done(Success, 0)
		}
		b.WaitListeners()
	})
}

// TestConcurrentCountsLoseNothing reports calls from many goroutines at
// once and checks that every call is counted exactly once, both through
// the per-processor stripes and through the spill stripe that processors
// beyond the breaker's stripes share. Run without -race it exercises the
// plain per-processor cells; with -race, the atomic ones.
func TestConcurrentCountsLoseNothing(t *testing.T) {
	for _, spillOnly := range []bool{false, true} {
		name := "per-processor stripes"
		if spillOnly {
			name = "spill stripe only"
		}
		t.Run(name, func(t *testing.T) {
			clk := NewManualClock(t0)
			b := New(Settings{Name: "hammer", Clock: clk, Window: time.Second, WindowBuckets: 4})
			if spillOnly { // as if every processor came after the breaker
				b.counts.stripes = b.counts.stripes[len(b.counts.stripes)-1:]
			}

			const goroutines, perG = 16, 20000
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range perG {
						if g == 0 && i%1000 == 0 {
							clk.Advance(300 * time.Millisecond) // buckets get reused meanwhile
						}
						if i%2 == 0 {
							b.counts.reject()
							continue
						}
						b.counts.record(b.counts.seqOf(clk.Now().UnixNano()), Outcome(i%3), i%5 == 0)
					}
				})
			}
			wg.Wait()

			var want Counts
			for i := range perG {
				if i%2 == 0 {
					want.Rejected++
					continue
				}
				want.expect(Outcome(i%3), i%5 == 0)
			}
			want.Successes *= goroutines
			want.Failures *= goroutines
			want.Ignored *= goroutines
			want.Rejected *= goroutines
			want.Slow *= goroutines
			want.Calls = want.Successes + want.Failures + want.Ignored
			if got := b.Counts(); got != want {
				t.Fatalf("counts = %+v, want %+v", got, want)
			}
			if spillOnly && b.counts.spillStripe().rejected.load() != want.Rejected {
				t.Fatalf("spill stripe counted %d of %d rejections", b.counts.spillStripe().rejected.load(), want.Rejected)
			}
		})
	}
}

// expect adds one reported call to the counts a test expects.
func (c *Counts) expect(o Outcome, slow bool) {
	switch o {
	case Success:
		c.Successes++
	case Failure:
		c.Failures++
	case Ignored:
		c.Ignored++
	}
	if slow && o != Ignored {
		c.Slow++
	}
}
