package breaker

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// benchBreaker is a breaker configured as the gateway runs it: consecutive
// failures plus a 60s time-window failure-rate condition, on a shared
// coarse clock.
func benchBreaker(b *testing.B) *Breaker {
	clk := NewCoarseClock(time.Millisecond)
	b.Cleanup(clk.Stop)
	return New(Settings{Name: "bench", FailureRateThreshold: 0.5, Clock: clk})
}

func BenchmarkAllowDoneClosedSuccess(b *testing.B) {
	br := benchBreaker(b)
	b.ReportAllocs()
	for b.Loop() {
		done, err := br.Allow()
		if err != nil {
			b.Fatal(err)
		}
		done(Success, 0)
	}
}

func BenchmarkExecuteClosedSuccess(b *testing.B) {
	br := benchBreaker(b)
	ctx := context.Background()
	fn := func(context.Context) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if err := br.Execute(ctx, fn); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenRejection(b *testing.B) {
	br := benchBreaker(b)
	br.OpenUntil(time.Now().Add(time.Hour), "bench")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := br.Allow(); err == nil {
			b.Fatal("allowed while open")
		}
	}
}

func BenchmarkAllowDoneClosedSuccessParallel(b *testing.B) {
	br := benchBreaker(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			done, err := br.Allow()
			if err != nil {
				b.Fatal(err)
			}
			done(Success, 0)
		}
	})
}

func BenchmarkExecuteClosedSuccessParallel(b *testing.B) {
	br := benchBreaker(b)
	ctx := context.Background()
	fn := func(context.Context) error { return nil }
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := br.Execute(ctx, fn); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkOpenRejectionParallel(b *testing.B) {
	br := benchBreaker(b)
	br.OpenUntil(time.Now().Add(time.Hour), "bench")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := br.Allow(); err == nil {
				b.Fatal("allowed while open")
			}
		}
	})
}

// BenchmarkExecuteSystemClock shows the cost of a breaker without a shared
// coarse clock: every call reads the system clock.
func BenchmarkExecuteSystemClock(b *testing.B) {
	br := New(Settings{Name: "bench", FailureRateThreshold: 0.5})
	ctx := context.Background()
	fn := func(context.Context) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		_ = br.Execute(ctx, fn)
	}
}

func BenchmarkBulkheadAcquireRelease(b *testing.B) {
	bh := NewBulkhead(BulkheadSettings{MaxConcurrent: 64})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		release, err := bh.Acquire(ctx)
		if err != nil {
			b.Fatal(err)
		}
		release()
	}
}

// BenchmarkCounterIncrement compares two ways to count a call: a locked add
// on one shared atomic, and the breaker's own (pin the processor, plain
// increment of its stripe's cell, unpin). Without -race only: race builds
// use atomic cells.
func BenchmarkCounterIncrement(b *testing.B) {
	b.Run("atomic add", func(b *testing.B) {
		var n atomic.Uint64
		for b.Loop() {
			n.Add(1)
		}
	})
	b.Run("per-processor cell", func(b *testing.B) {
		var c counters
		c.init(int64(time.Minute), 60)
		for b.Loop() {
			c.reject()
		}
	})
}
