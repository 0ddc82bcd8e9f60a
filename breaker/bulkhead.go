package breaker

import (
	"context"
	"sync/atomic"
	"time"
)

// BulkheadSettings configure a Bulkhead.
type BulkheadSettings struct {
	// MaxConcurrent caps calls in flight. 0 or less means no limit.
	MaxConcurrent int
	// MaxQueue caps calls waiting for a slot. 0 means calls never wait:
	// a full bulkhead rejects at once.
	MaxQueue int
	// MaxWait caps how long a queued call waits. 0 means until its
	// context ends.
	MaxWait time.Duration
}

// Bulkhead limits concurrent calls, with an optional bounded wait queue, so
// that one slow dependency cannot take every goroutine and connection. It
// is independent of Breaker.
type Bulkhead struct {
	s        BulkheadSettings
	slots    chan struct{}
	inFlight atomic.Int64
	queued   atomic.Int64
	rejected atomic.Uint64
	release  func()
}

// NewBulkhead returns a bulkhead with the given limits.
func NewBulkhead(s BulkheadSettings) *Bulkhead {
	b := &Bulkhead{s: s}
	if s.MaxConcurrent > 0 {
		b.slots = make(chan struct{}, s.MaxConcurrent)
	}
	b.release = func() {
		b.inFlight.Add(-1)
		if b.slots != nil {
			<-b.slots
		}
	}
	return b
}

// Acquire takes a slot, waiting in the queue if allowed. On success the
// caller must call release exactly once. It fails with ErrBulkheadFull when
// the slots and the queue are full, ErrBulkheadTimeout when MaxWait passes,
// or ctx's error when ctx ends first.
func (b *Bulkhead) Acquire(ctx context.Context) (release func(), err error) {
	if b.slots == nil {
		b.inFlight.Add(1)
		return b.release, nil
	}
	select {
	case b.slots <- struct{}{}:
		b.inFlight.Add(1)
		return b.release, nil
	default:
	}
	if q := b.queued.Add(1); q > int64(b.s.MaxQueue) {
		b.queued.Add(-1)
		b.rejected.Add(1)
		return nil, ErrBulkheadFull
	}
	defer b.queued.Add(-1)
	var timeout <-chan time.Time
	if b.s.MaxWait > 0 {
		t := time.NewTimer(b.s.MaxWait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case b.slots <- struct{}{}:
		b.inFlight.Add(1)
		return b.release, nil
	case <-timeout:
		b.rejected.Add(1)
		return nil, ErrBulkheadTimeout
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Execute runs fn inside the bulkhead.
func (b *Bulkhead) Execute(ctx context.Context, fn func(context.Context) error) error {
	release, err := b.Acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	return fn(ctx)
}

// InFlight returns how many calls hold a slot.
func (b *Bulkhead) InFlight() int { return int(b.inFlight.Load()) }

// Queued returns how many calls wait for a slot.
func (b *Bulkhead) Queued() int { return int(b.queued.Load()) }

// Rejected returns how many calls were turned away (full or timed out).
func (b *Bulkhead) Rejected() uint64 { return b.rejected.Load() }

// Settings returns the bulkhead's limits.
func (b *Bulkhead) Settings() BulkheadSettings { return b.s }
