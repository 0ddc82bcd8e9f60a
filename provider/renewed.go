package provider

import (
	"context"
	"time"
)

// renewed keeps one credential that expires (an OAuth token, an AWS key
// assumed from a role) and renews it, by fetch, a margin before it does.
// Concurrent calls wait on one fetch rather than each making their own,
// and each gives up when its own context ends. The zero value is not
// usable: make turn with room for one.
type renewed[T any] struct {
	// turn is held by the call that reads or renews the value: a
	// channel, not a mutex, so that a call waiting on a slow fetch gives
	// up when its own context ends.
	turn   chan struct{}
	value  T
	expiry time.Time
	fresh  bool
	// learn is told each value fetched, so that the secrets in it are
	// scrubbed from what leaves breakerd as configured ones are.
	learn func(T)
}

// newRenewed returns a renewed value that tells learn each value fetched.
func newRenewed[T any](learn func(T)) *renewed[T] {
	return &renewed[T]{turn: make(chan struct{}, 1), learn: learn}
}

// get returns the value, fetching a new one when there is none or it
// expires within margin of now. A failed fetch's error is returned, and
// the next call fetches again. what names the value in a wait's error.
func (r *renewed[T]) get(ctx context.Context, now time.Time, margin time.Duration, what string, redact func(string) string,
	fetch func(ctx context.Context, now time.Time) (T, time.Time, error)) (T, error) {
	var zero T
	select {
	case r.turn <- struct{}{}:
		defer func() { <-r.turn }()
	case <-ctx.Done():
		e := transportError(ctx, ctx.Err(), redact)
		e.Message = "waiting for " + what + ": " + e.Message
		return zero, e
	}
	if r.fresh && now.Before(r.expiry.Add(-margin)) {
		return r.value, nil
	}
	v, expiry, err := fetch(ctx, now)
	if err != nil {
		return zero, err
	}
	r.learn(v)
	r.value, r.expiry, r.fresh = v, expiry, true
	return v, nil
}
