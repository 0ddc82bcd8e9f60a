package breaker

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestBulkhead(t *testing.T) {
	t.Run("admits up to MaxConcurrent then rejects without a queue", func(t *testing.T) {
		b := NewBulkhead(BulkheadSettings{MaxConcurrent: 2})
		r1, err1 := b.Acquire(context.Background())
		r2, err2 := b.Acquire(context.Background())
		_, err3 := b.Acquire(context.Background())
		if err1 != nil || err2 != nil || !errors.Is(err3, ErrBulkheadFull) {
			t.Fatalf("errors %v %v %v", err1, err2, err3)
		}
		if b.InFlight() != 2 || b.Rejected() != 1 {
			t.Fatalf("in flight %d rejected %d", b.InFlight(), b.Rejected())
		}
		r1()
		r2()
		if b.InFlight() != 0 {
			t.Fatalf("in flight %d after release", b.InFlight())
		}
	})
	t.Run("a queued call gets the next free slot", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := NewBulkhead(BulkheadSettings{MaxConcurrent: 1, MaxQueue: 1})
			r1, _ := b.Acquire(context.Background())
			got := make(chan error, 1)
			go func() {
				r, err := b.Acquire(context.Background())
				if err == nil {
					r()
				}
				got <- err
			}()
			synctest.Wait()
			if b.Queued() != 1 {
				t.Fatalf("queued %d, want 1", b.Queued())
			}
			if _, err := b.Acquire(context.Background()); !errors.Is(err, ErrBulkheadFull) {
				t.Fatalf("third call: %v, want ErrBulkheadFull (queue full)", err)
			}
			r1()
			if err := <-got; err != nil {
				t.Fatalf("queued call: %v", err)
			}
		})
	})
	t.Run("a queued call times out after MaxWait", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := NewBulkhead(BulkheadSettings{MaxConcurrent: 1, MaxQueue: 5, MaxWait: 2 * time.Second})
			r1, _ := b.Acquire(context.Background())
			defer r1()
			start := time.Now()
			_, err := b.Acquire(context.Background())
			if !errors.Is(err, ErrBulkheadTimeout) || time.Since(start) != 2*time.Second {
				t.Fatalf("got %v after %s", err, time.Since(start))
			}
		})
	})
	t.Run("a queued call honours its context", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := NewBulkhead(BulkheadSettings{MaxConcurrent: 1, MaxQueue: 5})
			r1, _ := b.Acquire(context.Background())
			defer r1()
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if _, err := b.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("got %v", err)
			}
			if b.Queued() != 0 {
				t.Fatalf("queued %d after giving up", b.Queued())
			}
		})
	})
	t.Run("zero MaxConcurrent means no limit", func(t *testing.T) {
		b := NewBulkhead(BulkheadSettings{})
		for i := 0; i < 100; i++ {
			if err := b.Execute(context.Background(), func(context.Context) error { return nil }); err != nil {
				t.Fatal(err)
			}
		}
	})
}
