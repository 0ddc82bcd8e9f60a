package breaker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 26, 12, 0, 0, 0, time.UTC)

var errBoom = errors.New("boom")

// newTest returns a breaker on a manual clock and a recorder of its
// transitions.
func newTest(t *testing.T, s Settings) (*Breaker, *ManualClock, *recorder) {
	t.Helper()
	clk := NewManualClock(t0)
	s.Clock = clk
	if s.Name == "" {
		s.Name = "test"
	}
	b := New(s)
	r := &recorder{}
	b.AddListener(r.add)
	t.Cleanup(b.WaitListeners)
	return b, clk, r
}

type recorder struct {
	mu sync.Mutex
	ts []Transition
}

func (r *recorder) add(t Transition) {
	r.mu.Lock()
	r.ts = append(r.ts, t)
	r.mu.Unlock()
}

func (r *recorder) all(b *Breaker) []Transition {
	b.WaitListeners()
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Transition(nil), r.ts...)
}

func (r *recorder) path(b *Breaker) string {
	var parts []string
	for _, t := range r.all(b) {
		parts = append(parts, t.From.String()+">"+t.To.String())
	}
	return strings.Join(parts, " ")
}

// call makes one call with the given outcome through Allow/done.
func call(t *testing.T, b *Breaker, o Outcome, d time.Duration) error {
	t.Helper()
	done, err := b.Allow()
	if err != nil {
		return err
	}
	done(o, d)
	return nil
}

func TestTransitions(t *testing.T) {
	type step struct {
		advance time.Duration
		outcome Outcome
		slow    bool
		admin   string
		wantErr error
	}
	S := func(o Outcome) step { return step{outcome: o} }
	F := step{outcome: Failure}
	rejected := step{outcome: Success, wantErr: ErrOpen}
	full := step{outcome: Success, wantErr: ErrHalfOpenFull}
	wait := func(d time.Duration) step { return step{advance: d, outcome: -1} }
	admin := func(a string) step { return step{admin: a, outcome: -1} }

	tests := []struct {
		name     string
		settings Settings
		steps    []step
		want     State
		path     string
		reason   string // substring of the last transition's reason
	}{
		{
			name:  "five consecutive failures open the breaker",
			steps: []step{F, F, F, F, F, rejected},
			want:  Open, path: "closed>open", reason: "5 consecutive failures",
		},
		{
			name:  "a success resets the consecutive count",
			steps: []step{F, F, F, F, S(Success), F, F, F, F},
			want:  Closed,
		},
		{
			name:  "ignored outcomes neither trip nor reset",
			steps: []step{F, F, S(Ignored), F, F, S(Ignored), F},
			want:  Open, path: "closed>open",
		},
		{
			name:  "still open just before the timeout",
			steps: []step{F, F, F, F, F, wait(30*time.Second - time.Nanosecond), rejected},
			want:  Open,
		},
		{
			name:  "the first call after the timeout is a trial",
			steps: []step{F, F, F, F, F, wait(30 * time.Second), S(Success)},
			want:  HalfOpen, path: "closed>open open>half_open", reason: "open timeout 30s elapsed",
		},
		{
			name:  "success threshold trial successes close it",
			steps: []step{F, F, F, F, F, wait(30 * time.Second), S(Success), S(Success)},
			want:  Closed, path: "closed>open open>half_open half_open>closed", reason: "2 trial calls succeeded",
		},
		{
			name:  "a trial failure re-opens it",
			steps: []step{F, F, F, F, F, wait(30 * time.Second), S(Success), F, rejected},
			want:  Open, path: "closed>open open>half_open half_open>open", reason: "trial call failed",
		},
		{
			name:     "consecutive failures can be disabled",
			settings: Settings{ConsecutiveFailures: -1},
			steps:    []step{F, F, F, F, F, F, F, F, F, F, F},
			want:     Closed,
		},
		{
			name:     "window failures trip whatever succeeded between them",
			settings: Settings{ConsecutiveFailures: -1, WindowFailures: 3},
			steps:    []step{F, S(Success), F, S(Success), S(Success), F, rejected},
			want:     Open, path: "closed>open", reason: "3 failures in 1m0s",
		},
		{
			name:     "window failures need no minimum of calls",
			settings: Settings{ConsecutiveFailures: -1, WindowFailures: 2, MinimumCalls: 100},
			steps:    []step{F, F, rejected},
			want:     Open, reason: "2 failures in 1m0s",
		},
		{
			name:     "failures that left the window do not count",
			settings: Settings{ConsecutiveFailures: -1, WindowFailures: 3},
			steps:    []step{F, F, wait(61 * time.Second), F, S(Success)},
			want:     Closed,
		},
		{
			name:     "failure rate trips once minimum calls are reached",
			settings: Settings{ConsecutiveFailures: -1, FailureRateThreshold: 0.5, MinimumCalls: 4},
			steps:    []step{S(Success), F, S(Success), F},
			want:     Open, reason: "failure rate 50% >= 50% over 4 calls in 1m0s",
		},
		{
			name:     "failure rate waits for minimum calls",
			settings: Settings{ConsecutiveFailures: -1, FailureRateThreshold: 0.5, MinimumCalls: 5},
			steps:    []step{F, F, F, F},
			want:     Closed,
		},
		{
			name:     "failures that left the time window no longer count",
			settings: Settings{ConsecutiveFailures: -1, FailureRateThreshold: 0.5, MinimumCalls: 4},
			steps:    []step{F, F, F, wait(61 * time.Second), S(Success), S(Success), S(Success), F},
			want:     Closed,
		},
		{
			name: "sparse failures spread over the window still trip it",
			settings: Settings{ConsecutiveFailures: -1, FailureRateThreshold: 0.5, MinimumCalls: 6,
				Window: 60 * time.Second, WindowBuckets: 6},
			steps: []step{F, S(Success), wait(10 * time.Second), F, wait(10 * time.Second), F, S(Success),
				wait(10 * time.Second), F},
			want: Open, reason: "failure rate 67% >= 50% over 6 calls",
		},
		{
			name:     "the window slides bucket by bucket",
			settings: Settings{ConsecutiveFailures: -1, FailureRateThreshold: 0.6, MinimumCalls: 4, Window: 40 * time.Second, WindowBuckets: 4},
			// The first two failures leave the window after 40s, so two
			// later failures make only 2 of 4 (50%); a third makes 60%.
			steps: []step{F, F, wait(20 * time.Second), S(Success), S(Success), wait(20 * time.Second), F, F},
			want:  Closed,
		},
		{
			name:     "the window slides bucket by bucket until the rate is reached",
			settings: Settings{ConsecutiveFailures: -1, FailureRateThreshold: 0.6, MinimumCalls: 4, Window: 40 * time.Second, WindowBuckets: 4},
			steps:    []step{F, F, wait(20 * time.Second), S(Success), S(Success), wait(20 * time.Second), F, F, F},
			want:     Open, reason: "failure rate 60% >= 60% over 5 calls",
		},
		{
			name:     "count window judges the last N calls",
			settings: Settings{ConsecutiveFailures: -1, FailureRateThreshold: 0.5, MinimumCalls: 4, WindowCalls: 4},
			steps:    []step{F, F, S(Success), S(Success), S(Success), S(Success), F},
			want:     Closed,
		},
		{
			name:     "count window trips at the threshold",
			settings: Settings{ConsecutiveFailures: -1, FailureRateThreshold: 0.5, MinimumCalls: 4, WindowCalls: 4},
			steps:    []step{S(Success), S(Success), S(Success), F, S(Success), F},
			want:     Open, reason: "over 4 calls in the last 4 calls",
		},
		{
			name: "slow-call rate trips",
			settings: Settings{ConsecutiveFailures: -1, SlowCallRateThreshold: 0.5, SlowCallDuration: time.Second,
				MinimumCalls: 4},
			steps: []step{S(Success), S(Success), {outcome: Success, slow: true}, {outcome: Success, slow: true}},
			want:  Open, reason: "slow-call rate 50% >= 50%",
		},
		{
			name:  "forced open rejects until enabled",
			steps: []step{admin("open"), rejected, wait(time.Hour), rejected, admin("enable"), S(Success)},
			want:  Closed, path: "closed>forced_open forced_open>closed", reason: "manual: enable",
		},
		{
			name:  "disabled records nothing and never trips",
			steps: []step{admin("disable"), F, F, F, F, F, F, F},
			want:  Disabled, path: "closed>disabled",
		},
		{
			name:  "force close ends an outage",
			steps: []step{F, F, F, F, F, admin("close"), S(Success)},
			want:  Closed, path: "closed>open open>closed", reason: "manual: close",
		},
		{
			name:  "reset emits closed to closed",
			steps: []step{admin("reset")},
			want:  Closed, path: "closed>closed", reason: "manual: reset",
		},
		{
			name:     "half-open admits at most HalfOpenMaxCalls trials at once",
			settings: Settings{HalfOpenMaxCalls: 1},
			steps:    []step{F, F, F, F, F, wait(30 * time.Second), admin("hold"), full},
			want:     HalfOpen,
		},
		{
			name:     "an unreported trial permit expires",
			settings: Settings{HalfOpenMaxCalls: 1, HalfOpenMaxWait: 10 * time.Second},
			steps: []step{F, F, F, F, F, wait(30 * time.Second), admin("hold"), full, wait(10 * time.Second),
				S(Success), S(Success)},
			want: Closed,
		},
		{
			name: "adaptive tier tightens the threshold under load",
			settings: Settings{ConsecutiveFailures: 10, Adaptive: []Tier{
				{MinRequestsPerMinute: 5, ConsecutiveFailures: 3}}},
			steps: []step{S(Success), S(Success), S(Success), F, F, F},
			want:  Open, reason: "3 consecutive failures",
		},
		{
			name: "adaptive tier is unused below its rate",
			settings: Settings{ConsecutiveFailures: 10, Adaptive: []Tier{
				{MinRequestsPerMinute: 100, ConsecutiveFailures: 3}}},
			steps: []step{F, F, F, F},
			want:  Closed,
		},
		{
			name: "adaptive tier can loosen the threshold under load",
			settings: Settings{ConsecutiveFailures: 3, Adaptive: []Tier{
				{MinRequestsPerMinute: 4, ConsecutiveFailures: 6}}},
			steps: []step{S(Success), S(Success), F, F, F, F},
			want:  Closed,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, clk, rec := newTest(t, tc.settings)
			for i, st := range tc.steps {
				clk.Advance(st.advance)
				switch st.admin {
				case "open":
					b.ForceOpen("")
				case "close":
					b.ForceClose("")
				case "reset":
					b.Reset("")
				case "disable":
					b.Disable("")
				case "enable":
					b.Enable("")
				case "hold":
					if _, err := b.Allow(); err != nil {
						t.Fatalf("step %d: hold: %v", i, err)
					}
				}
				if st.outcome < 0 {
					continue
				}
				d := time.Duration(0)
				if st.slow {
					d = 2 * time.Second
				}
				err := call(t, b, st.outcome, d)
				if st.wantErr == nil && err != nil {
					t.Fatalf("step %d: unexpected %v", i, err)
				}
				if st.wantErr != nil && !errors.Is(err, st.wantErr) {
					t.Fatalf("step %d: got %v, want %v", i, err, st.wantErr)
				}
			}
			if got := b.State(); got != tc.want {
				t.Fatalf("state %s, want %s", got, tc.want)
			}
			if tc.path != "" {
				if got := rec.path(b); got != tc.path {
					t.Fatalf("path %q, want %q", got, tc.path)
				}
			}
			if tc.reason != "" {
				ts := rec.all(b)
				if len(ts) == 0 || !strings.Contains(ts[len(ts)-1].Reason, tc.reason) {
					t.Fatalf("transitions %+v: want last reason containing %q", ts, tc.reason)
				}
			}
		})
	}
}

func TestOpenErrorCarriesNameAndRetryTime(t *testing.T) {
	b, clk, _ := newTest(t, Settings{Name: "openai/gpt-4o-mini:chat", ConsecutiveFailures: 1})
	_ = call(t, b, Failure, 0)
	clk.Advance(10 * time.Second)
	err := call(t, b, Success, 0)
	var oe *OpenError
	if !errors.As(err, &oe) {
		t.Fatalf("got %v, want *OpenError", err)
	}
	if oe.Breaker != "openai/gpt-4o-mini:chat" || !oe.RetryAt.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("got %+v", oe)
	}
	if got := oe.RetryAfter(clk.Now()); got != 20*time.Second {
		t.Fatalf("RetryAfter = %s, want 20s", got)
	}
	if errors.Is(err, ErrHalfOpenFull) {
		t.Fatal("an open rejection must not match ErrHalfOpenFull")
	}
}

func TestExponentialBackoff(t *testing.T) {
	b, clk, _ := newTest(t, Settings{ConsecutiveFailures: 1, OpenTimeout: 10 * time.Second,
		MaxOpenTimeout: 35 * time.Second, SuccessThreshold: 1})
	// Each failed trial doubles the wait: 10s, 20s, then capped at 35s.
	_ = call(t, b, Failure, 0)
	for _, want := range []time.Duration{10 * time.Second, 20 * time.Second, 35 * time.Second, 35 * time.Second} {
		at, ok := b.RetryAt()
		if !ok {
			t.Fatalf("state %s, want open", b.State())
		}
		if got := at.Sub(clk.Now()); got != want {
			t.Fatalf("open for %s, want %s", got, want)
		}
		clk.Set(at)
		if err := call(t, b, Failure, 0); err != nil {
			t.Fatal(err)
		}
	}
	// A full recovery resets the backoff.
	at, _ := b.RetryAt()
	clk.Set(at)
	_ = call(t, b, Success, 0)
	_ = call(t, b, Failure, 0)
	if at, _ := b.RetryAt(); at.Sub(clk.Now()) != 10*time.Second {
		t.Fatalf("after recovery open for %s, want 10s", at.Sub(clk.Now()))
	}
}

func TestOpenUntil(t *testing.T) {
	b, clk, rec := newTest(t, Settings{})
	until := t0.Add(90 * time.Second)
	if !b.OpenUntil(until, "429 Retry-After: 90") {
		t.Fatal("OpenUntil did nothing")
	}
	if at, ok := b.RetryAt(); !ok || !at.Equal(until) {
		t.Fatalf("RetryAt %v %v", at, ok)
	}
	if b.OpenUntil(t0.Add(10*time.Second), "") {
		t.Fatal("an earlier OpenUntil must not shorten the open period")
	}
	clk.Set(until)
	if err := call(t, b, Success, 0); err != nil {
		t.Fatalf("after until: %v", err)
	}
	if got := rec.path(b); got != "closed>open open>half_open" {
		t.Fatalf("path %q", got)
	}
}

func TestExecuteClassification(t *testing.T) {
	errExcluded := errors.New("excluded")
	tests := []struct {
		name     string
		ctx      func() context.Context
		err      error
		settings Settings
		want     Outcome
	}{
		{name: "nil error is a success", err: nil, want: Success},
		{name: "an error is a failure", err: errBoom, want: Failure},
		{name: "deadline exceeded is a failure", err: context.DeadlineExceeded, want: Failure},
		{name: "the caller's own cancellation is ignored", err: context.Canceled, want: Ignored,
			ctx: func() context.Context { c, cancel := context.WithCancel(context.Background()); cancel(); return c }},
		{name: "a cancellation the caller did not make is a failure", err: context.Canceled, want: Failure},
		{name: "excluded errors are ignored", err: fmt.Errorf("wrapped: %w", errExcluded), want: Ignored,
			settings: Settings{Exclude: []error{errExcluded}}},
		{name: "the classifier decides the rest", err: errBoom, want: Ignored,
			settings: Settings{Classifier: func(error) Outcome { return Ignored }}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, _, _ := newTest(t, tc.settings)
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx()
			}
			err := b.Execute(ctx, func(context.Context) error { return tc.err })
			if !errors.Is(err, tc.err) && err != tc.err {
				t.Fatalf("Execute returned %v, want %v", err, tc.err)
			}
			c := b.Counts()
			got := map[Outcome]uint64{Success: c.Successes, Failure: c.Failures, Ignored: c.Ignored}
			if got[tc.want] != 1 || c.Calls != 1 {
				t.Fatalf("counts %+v, want one %s", c, tc.want)
			}
		})
	}
}

func TestPanicCountsAsFailureAndIsReraised(t *testing.T) {
	b, _, _ := newTest(t, Settings{ConsecutiveFailures: 1})
	func() {
		defer func() {
			if r := recover(); r != "kaboom" {
				t.Fatalf("recovered %v, want the original panic", r)
			}
		}()
		_ = b.Execute(context.Background(), func(context.Context) error { panic("kaboom") })
		t.Fatal("Execute returned normally")
	}()
	if c := b.Counts(); c.Failures != 1 {
		t.Fatalf("counts %+v, want 1 failure", c)
	}
	if b.State() != Open {
		t.Fatalf("state %s, want open", b.State())
	}
}

func TestDoReturnsValue(t *testing.T) {
	b, _, _ := newTest(t, Settings{})
	v, err := Do(context.Background(), b, func(context.Context) (string, error) { return "hi", nil })
	if v != "hi" || err != nil {
		t.Fatalf("Do = %q, %v", v, err)
	}
	b.ForceOpen("")
	_, err = Do(context.Background(), b, func(context.Context) (string, error) {
		t.Fatal("fn ran while open")
		return "", nil
	})
	if !errors.Is(err, ErrOpen) {
		t.Fatalf("Do while open = %v", err)
	}
}

func TestStaleReportDoesNotMoveTheBreaker(t *testing.T) {
	b, clk, _ := newTest(t, Settings{ConsecutiveFailures: 2})
	late, _ := b.Allow() // permit issued while closed, reported after a recovery
	_ = call(t, b, Failure, 0)
	_ = call(t, b, Failure, 0)
	clk.Advance(30 * time.Second)
	_ = call(t, b, Success, 0)
	_ = call(t, b, Success, 0)
	if b.State() != Closed {
		t.Fatalf("state %s", b.State())
	}
	_ = call(t, b, Failure, 0)
	late(Failure, 0) // belongs to the previous closed epoch
	if b.State() != Closed {
		t.Fatal("a report from an earlier epoch tripped the breaker")
	}
	if c := b.Counts(); c.Failures != 4 {
		t.Fatalf("stale report must still be counted: %+v", c)
	}
}

func TestHalfOpenNeverExceedsTrialLimit(t *testing.T) {
	const limit = 3
	b, clk, _ := newTest(t, Settings{ConsecutiveFailures: 1, HalfOpenMaxCalls: limit, SuccessThreshold: 1 << 30})
	_ = call(t, b, Failure, 0)
	clk.Advance(time.Minute)
	var inFlight, peak, admitted atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				done, err := b.Allow()
				if err != nil {
					if !errors.Is(err, ErrHalfOpenFull) {
						t.Errorf("unexpected %v", err)
						return
					}
					continue
				}
				n := inFlight.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				admitted.Add(1)
				inFlight.Add(-1)
				done(Success, 0)
			}
		}()
	}
	wg.Wait()
	if p := peak.Load(); p > limit {
		t.Fatalf("%d trials in flight at once, limit %d", p, limit)
	}
	if admitted.Load() == 0 {
		t.Fatal("no trial was admitted")
	}
	if b.State() != HalfOpen {
		t.Fatalf("state %s", b.State())
	}
}

func TestListenerMayCallBackIntoBreaker(t *testing.T) {
	b, _, _ := newTest(t, Settings{ConsecutiveFailures: 1})
	got := make(chan Snapshot, 4)
	b.AddListener(func(tr Transition) {
		if tr.To == Open {
			// Re-entrant calls: read state and act on the breaker.
			got <- b.Snapshot()
			b.ForceClose("listener closed it")
		}
	})
	_ = call(t, b, Failure, 0)
	b.WaitListeners()
	select {
	case s := <-got:
		if s.State != Open && s.State != Closed {
			t.Fatalf("snapshot state %s", s.State)
		}
	default:
		t.Fatal("listener did not run")
	}
	if b.State() != Closed {
		t.Fatalf("state %s: the listener's ForceClose was lost", b.State())
	}
}

func TestPanickingListenerIsRecovered(t *testing.T) {
	b, _, rec := newTest(t, Settings{ConsecutiveFailures: 1})
	b.AddListener(func(Transition) { panic("listener bug") })
	after := &recorder{}
	b.AddListener(after.add)
	_ = call(t, b, Failure, 0)
	b.ForceClose("")
	if got := after.path(b); got != "closed>open open>closed" {
		t.Fatalf("listener after the panicking one saw %q", got)
	}
	if got := rec.path(b); got != "closed>open open>closed" {
		t.Fatalf("listener before saw %q", got)
	}
}

func TestListenersDoNotBlockCalls(t *testing.T) {
	b, _, _ := newTest(t, Settings{ConsecutiveFailures: 1})
	release := make(chan struct{})
	b.AddListener(func(Transition) { <-release })
	_ = call(t, b, Failure, 0) // trips; the listener blocks
	b.ForceClose("")
	for i := 0; i < 100; i++ {
		if err := call(t, b, Success, 0); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
}

func TestListenersSeeTransitionsInOrder(t *testing.T) {
	b, clk, rec := newTest(t, Settings{ConsecutiveFailures: 1, SuccessThreshold: 1})
	for i := 0; i < 50; i++ {
		_ = call(t, b, Failure, 0)
		clk.Advance(31 * time.Second)
		_ = call(t, b, Success, 0)
	}
	ts := rec.all(b)
	if len(ts) != 150 {
		t.Fatalf("%d transitions, want 150", len(ts))
	}
	for i, tr := range ts {
		if tr.Seq != uint64(i+1) {
			t.Fatalf("transition %d has seq %d", i, tr.Seq)
		}
		if i > 0 && ts[i-1].To != tr.From {
			t.Fatalf("transition %d from %s follows one to %s", i, tr.From, ts[i-1].To)
		}
	}
}

func TestRecoveryTransitionReportsOutage(t *testing.T) {
	b, clk, rec := newTest(t, Settings{ConsecutiveFailures: 1, SuccessThreshold: 1})
	_ = call(t, b, Failure, 0)
	for i := 0; i < 7; i++ {
		_ = call(t, b, Success, 0) // rejected
	}
	clk.Advance(30 * time.Second)
	_ = call(t, b, Success, 0)
	ts := rec.all(b)
	last := ts[len(ts)-1]
	if last.To != Closed || !last.OpenedAt.Equal(t0) || last.RejectedWhileOpen != 7 {
		t.Fatalf("recovery transition %+v", last)
	}
}

func TestSnapshot(t *testing.T) {
	b, clk, _ := newTest(t, Settings{Name: "s", FailureRateThreshold: 0.9, Labels: map[string]string{"provider": "openai"}})
	_ = call(t, b, Success, 0)
	clk.Advance(time.Second)
	_ = call(t, b, Failure, 0)
	_ = call(t, b, Ignored, 0)
	s := b.Snapshot()
	want := Counts{Calls: 3, Successes: 1, Failures: 1, Ignored: 1}
	if s.Counts != want {
		t.Fatalf("counts %+v, want %+v", s.Counts, want)
	}
	if s.ConsecutiveFailures != 1 || s.Window.Calls != 2 || s.Window.FailureRate != 0.5 {
		t.Fatalf("snapshot %+v", s)
	}
	if !s.LastFailure.Equal(t0.Add(time.Second)) || s.Labels["provider"] != "openai" || s.State != Closed {
		t.Fatalf("snapshot %+v", s)
	}
}

func TestHistoryIsBounded(t *testing.T) {
	b, _, _ := newTest(t, Settings{HistorySize: 3})
	for i := 0; i < 5; i++ {
		b.ForceOpen(fmt.Sprint("open ", i))
		b.ForceClose(fmt.Sprint("close ", i))
	}
	h := b.Snapshot().History
	if len(h) != 3 || h[2].Reason != "close 4" || h[0].Reason != "close 3" {
		t.Fatalf("history %+v", h)
	}
}

func TestInvalidSettingsPanic(t *testing.T) {
	for _, s := range []Settings{
		{FailureRateThreshold: 1.5},
		{SlowCallRateThreshold: 0.5},
		{OpenTimeout: -time.Second},
		{MinimumCalls: -1},
	} {
		if s.Validate() == nil {
			t.Errorf("%+v: Validate accepted it", s)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%+v: New did not panic", s)
				}
			}()
			New(s)
		}()
	}
}

func TestRegistry(t *testing.T) {
	r := NewRegistry(Settings{ConsecutiveFailures: 2, Clock: NewManualClock(t0)})
	var seen atomic.Int64
	r.AddListener(func(Transition) { seen.Add(1) })
	b := r.GetOrCreate("zeta", func(s *Settings) { s.ConsecutiveFailures = 1 })
	if r.Get("zeta") != b {
		t.Fatal("Get did not return the existing breaker")
	}
	r.Get("alpha")
	r.Get("mid")
	if got := strings.Join(r.Names(), ","); got != "alpha,mid,zeta" {
		t.Fatalf("names %s", got)
	}
	if b.Settings().ConsecutiveFailures != 1 || r.Get("alpha").Settings().ConsecutiveFailures != 2 {
		t.Fatal("per-name settings were not applied")
	}
	_ = call(t, b, Failure, 0)
	r.WaitListeners()
	if seen.Load() != 1 {
		t.Fatalf("registry listener saw %d transitions", seen.Load())
	}
	if _, ok := r.Lookup("nope"); ok {
		t.Fatal("Lookup found a breaker that was never created")
	}
	if !r.Remove("mid") || r.Remove("mid") {
		t.Fatal("Remove reports wrongly")
	}
	if got := strings.Join(r.Names(), ","); got != "alpha,zeta" {
		t.Fatalf("names after Remove %s", got)
	}
	if again := r.GetOrCreate("zeta", nil); again != b {
		t.Fatal("GetOrCreate replaced a breaker that was not removed")
	}
	r.Remove("zeta")
	if fresh := r.Get("zeta"); fresh == b || fresh.Settings().ConsecutiveFailures != 2 {
		t.Fatal("a removed name did not get a new breaker")
	}
}

func TestCoarseClockAdvancesAndStops(t *testing.T) {
	c := NewCoarseClock(time.Millisecond)
	first := c.UnixNano()
	if first == 0 || c.Now().IsZero() {
		t.Fatal("coarse clock starts unset")
	}
	c.Stop()
	c.Stop() // idempotent
	if got := c.UnixNano(); got < first {
		t.Fatal("coarse clock went backwards")
	}
}

// The clock parks every parkAfter ticks, so an idle process is not woken
// a thousand times a second; the next read gets the system time and wakes
// the ticker, once.
func TestCoarseClockParksAndTheNextReadResumesIt(t *testing.T) {
	c := newCoarseClock() // no ticker goroutine: the test ticks it
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for i := 1; i < parkAfter; i++ {
		if c.tick(base + int64(i)) {
			t.Fatalf("parked after %d ticks, want %d", i, parkAfter)
		}
		if got := c.UnixNano(); got != base+int64(i) {
			t.Fatalf("tick %d: read %d, want the tick's time", i, got)
		}
	}
	if !c.tick(base + parkAfter) {
		t.Fatalf("not parked after %d ticks", parkAfter)
	}
	before := time.Now().UnixNano()
	got := c.UnixNano()
	if got < before {
		t.Fatalf("a read of a parked clock returned %d, want the system time (>= %d)", got, before)
	}
	if c.UnixNano() != got {
		t.Fatal("the read after a resume must see the resumed time until the next tick")
	}
	if n := len(c.wake); n != 1 {
		t.Fatalf("%d wake signals, want exactly 1", n)
	}
	// The ticker's count restarts: another parkAfter ticks before the next park.
	<-c.wake
	for i := 1; i < parkAfter; i++ {
		if c.tick(got + int64(i)) {
			t.Fatalf("parked again after %d ticks", i)
		}
	}
}

// Concurrent admin actions and remote updates race to move the breaker;
// each new state must be complete before others can build on it.
func TestConcurrentTransitionsAreRaceFree(t *testing.T) {
	b, clk, _ := newTest(t, Settings{ConsecutiveFailures: 1})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				switch (g + i) % 4 {
				case 0:
					b.ForceOpen("")
				case 1:
					b.Enable("")
				case 2:
					b.ApplyRemote(Open, clk.Now().Add(time.Minute), "remote")
				case 3:
					b.ApplyRemote(Closed, time.Time{}, "remote")
				}
			}
		}()
	}
	wg.Wait()
	b.WaitListeners()
	h := b.Snapshot().History
	for i := 1; i < len(h); i++ {
		if h[i].Seq != h[i-1].Seq+1 || h[i].From != h[i-1].To {
			t.Fatalf("history out of order at %d: %+v then %+v", i, h[i-1], h[i])
		}
	}
}
