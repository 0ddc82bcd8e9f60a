package breaker

import (
	"math"
	"sync"
	"testing"
	"time"
)

func TestRateLimit(t *testing.T) {
	type step struct {
		advance time.Duration
		add     float64 // Add before taking
		take    float64
		ok      bool
		wait    time.Duration
	}
	tests := []struct {
		name  string
		limit float64
		per   time.Duration
		steps []step
	}{
		{name: "an idle limit allows a burst of the whole limit, then refuses until a unit refills",
			limit: 3, per: time.Minute, steps: []step{
				{take: 1, ok: true}, {take: 1, ok: true}, {take: 1, ok: true},
				{take: 1, wait: 20 * time.Second},
				{advance: 20*time.Second - 1, take: 1, wait: 1},
				{advance: 1, take: 1, ok: true},
				{take: 1, wait: 20 * time.Second},
			}},
		{name: "a refused take takes nothing",
			limit: 2, per: time.Minute, steps: []step{
				{take: 2, ok: true}, {take: 1, wait: 30 * time.Second}, {take: 1, wait: 30 * time.Second},
				{advance: 30 * time.Second, take: 1, ok: true},
			}},
		{name: "refills continuously, never above the limit",
			limit: 60, per: time.Minute, steps: []step{
				{advance: time.Hour, take: 60, ok: true},
				{take: 1, wait: time.Second},
				{advance: 10 * time.Second, take: 10, ok: true},
				{take: 1, wait: time.Second},
			}},
		{name: "Add may overdraw, and Take(0) refuses until something is left",
			limit: 1000, per: time.Minute, steps: []step{
				{take: 0, ok: true},
				{add: 1500, take: 0, wait: 30*time.Second + 1},
				{advance: 30 * time.Second, take: 0, wait: 1},
				{advance: 1, take: 0, ok: true},
				{take: 1, wait: 60*time.Millisecond - 1},
			}},
		{name: "more than the whole limit never fits",
			limit: 10, per: time.Minute, steps: []step{{take: 11, wait: 0}, {take: 10, ok: true}}},
		{name: "below one per period, the bucket holds one unit",
			limit: 0.5, per: time.Minute, steps: []step{
				{take: 1, ok: true}, {take: 1, wait: 2 * time.Minute},
				{advance: 2 * time.Minute, take: 1, ok: true},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := NewManualClock(time.Unix(1_700_000_000, 0))
			l := NewRateLimit(tc.limit, tc.per, clk)
			for i, s := range tc.steps {
				clk.Advance(s.advance)
				l.Add(s.add)
				ok, wait := l.Take(s.take)
				if ok != s.ok || wait != s.wait {
					t.Fatalf("step %d: Take(%v) = %v, %v; want %v, %v", i, s.take, ok, wait, s.ok, s.wait)
				}
			}
		})
	}
}

func TestRateLimitRemaining(t *testing.T) {
	clk := NewManualClock(time.Unix(1_700_000_000, 0))
	l := NewRateLimit(100, time.Minute, clk)
	if r := l.Remaining(); r != 100 {
		t.Fatalf("idle: %v left, want 100", r)
	}
	l.Add(40)
	if r := l.Remaining(); math.Abs(r-60) > 1e-9 {
		t.Fatalf("after 40: %v left, want 60", r)
	}
	clk.Advance(6 * time.Second)
	if r := l.Remaining(); math.Abs(r-70) > 1e-9 {
		t.Fatalf("6s later: %v left, want 70", r)
	}
	l.Add(500)
	if r := l.Remaining(); r != 0 {
		t.Fatalf("overdrawn: %v left, want 0", r)
	}
}

// Used counts what this process took and recorded, not what it refused or
// what other processes used (AddRemote), which still uses the bucket up.
func TestRateLimitUsedCountsOnlyThisProcess(t *testing.T) {
	clk := NewManualClock(time.Unix(1_700_000_000, 0))
	l := NewRateLimit(10, time.Minute, clk)
	l.Take(3)
	l.Add(2.5)
	if ok, _ := l.Take(20); ok {
		t.Fatal("took more than the limit")
	}
	l.AddRemote(4)
	if u := l.Used(); u != 5.5 {
		t.Fatalf("used %v, want 5.5 (3 taken + 2.5 added; not the refused 20 nor the remote 4)", u)
	}
	if r := l.Remaining(); math.Abs(r-0.5) > 1e-9 {
		t.Fatalf("%v left, want 0.5: remote usage fills the bucket too", r)
	}
	var none *RateLimit
	none.AddRemote(1)
	if none.Used() != 0 {
		t.Fatal("a nil limit reported usage")
	}
}

func TestRateLimitWithoutALimitAllowsEverything(t *testing.T) {
	for _, l := range []*RateLimit{NewRateLimit(0, time.Minute, nil), NewRateLimit(5, 0, nil), NewRateLimit(math.NaN(), time.Minute, nil)} {
		if l != nil {
			t.Fatalf("got a limit %+v", l)
		}
		l.Add(1e9)
		if ok, wait := l.Take(1e9); !ok || wait != 0 || !math.IsInf(l.Remaining(), 1) {
			t.Fatal("a nil limit refused")
		}
	}
}

// Concurrent takers together never get more than the limit: the CAS loop
// loses no update.
func TestRateLimitConcurrentTakesNeverExceedTheLimit(t *testing.T) {
	clk := NewManualClock(time.Unix(1_700_000_000, 0))
	l := NewRateLimit(500, time.Minute, clk)
	var wg sync.WaitGroup
	got := make([]int, 8)
	for g := range got {
		wg.Go(func() {
			for range 200 {
				if ok, _ := l.Take(1); ok {
					got[g]++
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for _, n := range got {
		total += n
	}
	if total != 500 {
		t.Fatalf("%d takes succeeded, want exactly 500", total)
	}
}
