package breaker

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestApplyRemote(t *testing.T) {
	b, clk, rec := newTest(t, Settings{})
	if !b.ApplyRemote(Open, t0.Add(time.Minute), "fleet: opened elsewhere") {
		t.Fatal("remote open did nothing")
	}
	if b.ApplyRemote(Open, t0.Add(10*time.Second), "earlier") {
		t.Fatal("a remote open must not shorten the open period")
	}
	if !b.ApplyRemote(Open, t0.Add(2*time.Minute), "later") {
		t.Fatal("a later remote open-until must extend it")
	}
	if at, _ := b.RetryAt(); !at.Equal(t0.Add(2 * time.Minute)) {
		t.Fatalf("retry at %v", at)
	}
	clk.Advance(2 * time.Minute)
	_ = call(t, b, Success, 0) // half-open trial
	if !b.ApplyRemote(Closed, time.Time{}, "fleet: closed elsewhere") || b.State() != Closed {
		t.Fatalf("state %s", b.State())
	}
	if !b.ApplyRemote(ForcedOpen, time.Time{}, "fleet: manual open") || b.ApplyRemote(ForcedOpen, time.Time{}, "again") {
		t.Fatal("forced open")
	}
	if b.ApplyRemote(Open, t0.Add(time.Hour), "x") {
		t.Fatal("a remote open must not override a forced open")
	}
	var got []string
	for _, tr := range rec.all(b) {
		got = append(got, fmt.Sprintf("%s>%s remote=%v", tr.From, tr.To, tr.Remote))
	}
	want := []string{"closed>open remote=true", "open>open remote=true", "open>half_open remote=false",
		"half_open>closed remote=true", "closed>forced_open remote=true"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("transitions\n%s\nwant\n%s", strings.Join(got, "; "), strings.Join(want, "; "))
	}
}

func TestTripOpensOnlyAClosedBreaker(t *testing.T) {
	b, clk, rec := newTest(t, Settings{OpenTimeout: 20 * time.Second})
	if !b.Trip("fleet failure rate 60% >= 50%") || b.Trip("again") {
		t.Fatal("Trip")
	}
	if at, _ := b.RetryAt(); !at.Equal(clk.Now().Add(20 * time.Second)) {
		t.Fatalf("retry at %v", at)
	}
	if ts := rec.all(b); ts[0].Remote || ts[0].Reason != "fleet failure rate 60% >= 50%" {
		t.Fatalf("%+v", ts[0])
	}
}

func TestTrialGateSharesTheTrialLimit(t *testing.T) {
	granted, released := 0, 0
	gate := func(string) (func(), bool) {
		if granted-released >= 1 {
			return nil, false
		}
		granted++
		return func() { released++ }, true
	}
	b, clk, _ := newTest(t, Settings{ConsecutiveFailures: 1, HalfOpenMaxCalls: 3, SuccessThreshold: 5, TrialGate: gate})
	_ = call(t, b, Failure, 0)
	clk.Advance(30 * time.Second)
	done, err := b.Allow()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Allow(); !errors.Is(err, ErrHalfOpenFull) {
		t.Fatalf("the gate allows one trial at a time, local slots notwithstanding: %v", err)
	}
	done(Success, 0)
	if released != 1 {
		t.Fatal("the gate's permit was not released")
	}
	if _, err := b.Allow(); err != nil {
		t.Fatalf("after release: %v", err)
	}
	// The closed path never asks the gate.
	b.ForceClose("")
	before := granted
	for i := 0; i < 10; i++ {
		_ = call(t, b, Success, 0)
	}
	if granted != before {
		t.Fatal("the gate was consulted in the closed state")
	}
}
