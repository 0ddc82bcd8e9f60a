package breaker

import (
	"context"
	"time"
)

// Execute runs fn if the breaker allows it and records its outcome, which
// Settings decide from fn's error. A rejected call returns the breaker's
// error without running fn. A panic in fn counts as a failure and is
// re-raised. The duration, used for slow-call detection, is only measured
// when SlowCallDuration is set.
func (b *Breaker) Execute(ctx context.Context, fn func(context.Context) error) error {
	if e := b.cur.Load(); e.state == Closed {
		return b.executeClosed(ctx, e, fn)
	}
	done, err := b.Allow()
	if err != nil {
		return err
	}
	var start int64
	if b.s.SlowCallDuration > 0 {
		start = b.nanotime()
	}
	finished := false
	defer func() {
		if !finished {
			// fn panicked (or the classifier did): count it, then re-raise.
			done(Failure, b.elapsed(start))
		}
	}()
	err = fn(ctx)
	o := b.s.classify(ctx, err)
	finished = true
	done(o, b.elapsed(start))
	return err
}

// executeClosed is Execute's fast path: the same steps as Allow and done,
// without the call through the done function value.
func (b *Breaker) executeClosed(ctx context.Context, e *epoch, fn func(context.Context) error) error {
	var start int64
	if b.s.SlowCallDuration > 0 {
		start = b.nanotime()
	}
	finished := false
	defer func() {
		if !finished {
			b.reportClosed(e, Failure, b.elapsed(start))
		}
	}()
	err := fn(ctx)
	o := Success
	if err != nil || b.s.Classifier != nil {
		o = b.s.classify(ctx, err)
	}
	finished = true
	b.reportClosed(e, o, b.elapsed(start))
	return err
}

func (b *Breaker) elapsed(start int64) time.Duration {
	if start == 0 {
		return 0
	}
	return time.Duration(b.nanotime() - start)
}

// Do is Execute for a function that returns a value.
func Do[T any](ctx context.Context, b *Breaker, fn func(context.Context) (T, error)) (T, error) {
	var v T
	err := b.Execute(ctx, func(ctx context.Context) error {
		var err error
		v, err = fn(ctx)
		return err
	})
	return v, err
}

// Classify returns the outcome the breaker's settings give to err, for
// callers of Allow. ctx is the caller's context: its own cancellation is
// Ignored.
func (b *Breaker) Classify(ctx context.Context, err error) Outcome {
	return b.s.classify(ctx, err)
}
