package breaker

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrOpen matches (with errors.Is) every rejection by an open or
	// forced-open breaker. Use errors.As with *OpenError for details.
	ErrOpen = errors.New("circuit breaker is open")
	// ErrHalfOpenFull matches a rejection in half-open because every trial
	// slot is taken.
	ErrHalfOpenFull = errors.New("circuit breaker is half-open and its trial calls are taken")
	// ErrBulkheadFull is returned when a bulkhead's slots and queue are full.
	ErrBulkheadFull = errors.New("bulkhead is full")
	// ErrBulkheadTimeout is returned when a queued call waited longer than
	// the bulkhead's max wait.
	ErrBulkheadTimeout = errors.New("bulkhead wait timed out")
)

// OpenError is the error returned while a breaker rejects calls. It matches
// ErrOpen, or ErrHalfOpenFull when the rejection came from half-open.
type OpenError struct {
	// Breaker is the name of the breaker that rejected the call.
	Breaker string
	// State is the breaker's state at rejection.
	State State
	// RetryAt is when the breaker lets a trial call through. It is zero
	// for a forced-open breaker, which waits for an admin.
	RetryAt      time.Time
	halfOpenFull bool
}

// Error names the breaker and, for an open one, when trials resume.
func (e *OpenError) Error() string {
	switch {
	case e.halfOpenFull:
		return fmt.Sprintf("circuit breaker %q is half-open and its trial calls are taken", e.Breaker)
	case e.RetryAt.IsZero():
		return fmt.Sprintf("circuit breaker %q is %s", e.Breaker, e.State)
	}
	return fmt.Sprintf("circuit breaker %q is open until %s", e.Breaker, e.RetryAt.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrOpen) and errors.Is(err, ErrHalfOpenFull) work.
func (e *OpenError) Is(target error) bool {
	if e.halfOpenFull {
		return target == ErrHalfOpenFull
	}
	return target == ErrOpen
}

// RetryAfter returns how long after now the breaker lets a trial through,
// never less than zero. For a forced-open breaker it returns zero.
func (e *OpenError) RetryAfter(now time.Time) time.Duration {
	if e.RetryAt.IsZero() || !e.RetryAt.After(now) {
		return 0
	}
	return e.RetryAt.Sub(now)
}
