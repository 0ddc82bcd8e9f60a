package breaker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"
)

// Defaults used where a Settings field is zero.
const (
	DefaultConsecutiveFailures = 5
	DefaultOpenTimeout         = 30 * time.Second
	DefaultHalfOpenMaxCalls    = 3
	DefaultSuccessThreshold    = 2
	DefaultWindow              = 60 * time.Second
	DefaultWindowBuckets       = 60
	DefaultMinimumCalls        = 10
	DefaultHalfOpenMaxWait     = 60 * time.Second
	DefaultHistorySize         = 32
)

// Settings configures a Breaker. The zero value is usable: it trips after 5
// consecutive failures, stays open 30s, and closes after 2 of at most 3
// concurrent trial calls succeed. Negative numbers disable a condition where
// noted.
type Settings struct {
	// Name identifies the breaker in errors, transitions and metrics.
	Name string
	// Labels are carried on every transition (e.g. provider, model).
	// The breaker does not modify the map.
	Labels map[string]string

	// ConsecutiveFailures trips the breaker after that many failures in a
	// row. 0 means DefaultConsecutiveFailures; negative disables it.
	ConsecutiveFailures int

	// FailureRateThreshold, in (0, 1], trips the breaker when the failure
	// rate over the window reaches it. 0 disables it.
	FailureRateThreshold float64
	// WindowFailures, when > 0, trips the breaker once that many calls
	// have failed within the window, whatever succeeded between them
	// (LiteLLM's allowed_fails: failures in a minute). Unlike the rates it
	// needs no MinimumCalls. 0 disables it.
	WindowFailures int
	// SlowCallRateThreshold, in (0, 1], trips the breaker when the share of
	// calls slower than SlowCallDuration reaches it. 0 disables it.
	SlowCallRateThreshold float64
	// SlowCallDuration is the duration from which a call counts as slow.
	// 0 disables slow-call accounting.
	SlowCallDuration time.Duration
	// MinimumCalls is how many calls the window needs before a rate counts.
	// 0 means DefaultMinimumCalls.
	MinimumCalls int
	// Window is the span of the time-based sliding window (default 60s).
	// It slides in WindowBuckets buckets (default 60), so old outcomes
	// leave one bucket at a time instead of all at once.
	Window        time.Duration
	WindowBuckets int
	// WindowCalls, when > 0, makes the rate conditions use the last
	// WindowCalls calls instead of the time window.
	WindowCalls int

	// OpenTimeout is how long the breaker stays open before trials
	// (default 30s).
	OpenTimeout time.Duration
	// MaxOpenTimeout, when greater than OpenTimeout, enables exponential
	// backoff: each re-open without a full recovery doubles the timeout,
	// up to MaxOpenTimeout.
	MaxOpenTimeout time.Duration

	// HalfOpenMaxCalls caps concurrent trial calls (default 3).
	HalfOpenMaxCalls int
	// SuccessThreshold is how many trial successes close the breaker
	// (default 2).
	SuccessThreshold int
	// HalfOpenMaxWait is how long a trial permit may stay unreported before
	// its slot is given to another call (default 60s). It keeps a lost
	// permit from wedging the breaker in half-open.
	HalfOpenMaxWait time.Duration

	// Classifier maps a call's error to an outcome. The default treats
	// nil as Success, the caller's own context cancellation as Ignored and
	// any other error, context.DeadlineExceeded included, as Failure.
	// Exclude and caller cancellation are checked before it.
	Classifier func(error) Outcome
	// Exclude lists errors (matched with errors.Is) that are Ignored, like
	// pybreaker's exclude.
	Exclude []error

	// Adaptive, when set, picks thresholds by the request rate over the
	// last minute; see Tier.
	Adaptive []Tier

	// TrialGate, when set, must also admit each half-open trial call; it
	// lets several processes share one trial limit. It is consulted only in
	// half-open, never on the closed-state path. release is called once
	// the trial is reported (or its permit expires unreported: then never).
	TrialGate func(breaker string) (release func(), ok bool)

	// Clock supplies the time. nil means the system clock.
	Clock Clock
	// HistorySize bounds the transitions kept for Snapshot (default 32).
	HistorySize int
}

// Tier swaps the failure threshold and open timeout while the request rate
// over the last minute is at least MinRequestsPerMinute. The tier with the
// highest matching MinRequestsPerMinute wins; below every tier the base
// settings apply. Whether tiers tighten or loosen under load is up to the
// values given.
type Tier struct {
	MinRequestsPerMinute float64
	ConsecutiveFailures  int
	OpenTimeout          time.Duration
}

// Validate reports the first invalid field, if any.
func (s Settings) Validate() error {
	switch {
	case s.FailureRateThreshold < 0 || s.FailureRateThreshold > 1:
		return fmt.Errorf("failure rate threshold %v: must be between 0 and 1", s.FailureRateThreshold)
	case s.SlowCallRateThreshold < 0 || s.SlowCallRateThreshold > 1:
		return fmt.Errorf("slow-call rate threshold %v: must be between 0 and 1", s.SlowCallRateThreshold)
	case s.SlowCallRateThreshold > 0 && s.SlowCallDuration <= 0:
		return errors.New("slow-call rate threshold needs a positive slow-call duration")
	case s.MinimumCalls < 0:
		return fmt.Errorf("minimum calls %d: must not be negative", s.MinimumCalls)
	case s.Window < 0, s.OpenTimeout < 0, s.MaxOpenTimeout < 0, s.HalfOpenMaxWait < 0, s.SlowCallDuration < 0:
		return errors.New("durations must not be negative")
	case s.WindowBuckets < 0 || s.WindowCalls < 0 || s.WindowFailures < 0 || s.HalfOpenMaxCalls < 0 || s.SuccessThreshold < 0 || s.HistorySize < 0:
		return errors.New("counts must not be negative")
	}
	for _, t := range s.Adaptive {
		if t.MinRequestsPerMinute < 0 || t.OpenTimeout < 0 {
			return fmt.Errorf("adaptive tier %v: must not be negative", t)
		}
	}
	return nil
}

func (s *Settings) applyDefaults() {
	s.ConsecutiveFailures = cmp.Or(s.ConsecutiveFailures, DefaultConsecutiveFailures)
	s.MinimumCalls = cmp.Or(s.MinimumCalls, DefaultMinimumCalls)
	s.Window = cmp.Or(s.Window, DefaultWindow)
	s.WindowBuckets = cmp.Or(s.WindowBuckets, DefaultWindowBuckets)
	s.OpenTimeout = cmp.Or(s.OpenTimeout, DefaultOpenTimeout)
	s.HalfOpenMaxCalls = cmp.Or(s.HalfOpenMaxCalls, DefaultHalfOpenMaxCalls)
	s.SuccessThreshold = cmp.Or(s.SuccessThreshold, DefaultSuccessThreshold)
	s.HalfOpenMaxWait = cmp.Or(s.HalfOpenMaxWait, DefaultHalfOpenMaxWait)
	s.HistorySize = cmp.Or(s.HistorySize, DefaultHistorySize)
	if s.Clock == nil {
		s.Clock = systemClock{}
	}
}

// classify decides a call's outcome. ctx is the caller's context.
func (s *Settings) classify(ctx context.Context, err error) Outcome {
	if err == nil {
		return s.classifyWith(nil)
	}
	for _, ex := range s.Exclude {
		if errors.Is(err, ex) {
			return Ignored
		}
	}
	// The caller giving up says nothing about the service.
	if errors.Is(err, context.Canceled) && ctx != nil && errors.Is(ctx.Err(), context.Canceled) {
		return Ignored
	}
	return s.classifyWith(err)
}

func (s *Settings) classifyWith(err error) Outcome {
	if s.Classifier != nil {
		return s.Classifier(err)
	}
	if err == nil {
		return Success
	}
	return Failure
}
