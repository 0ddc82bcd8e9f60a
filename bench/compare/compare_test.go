// Package compare benchmarks breakerd's breaker against sony/gobreaker v2
// and failsafe-go on the same machine, in the same run. It is a separate
// module so that the breaker package keeps no dependencies.
//
//	cd bench/compare && go test -bench . -benchmem
package compare

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/breakerd/breakerd/breaker"
	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/sony/gobreaker/v2"
)

var errFail = errors.New("fail")

func breakerd(b *testing.B) *breaker.Breaker {
	clk := breaker.NewCoarseClock(time.Millisecond)
	b.Cleanup(clk.Stop)
	return breaker.New(breaker.Settings{Name: "bench", FailureRateThreshold: 0.5, Clock: clk})
}

// breakerdDefault is a breaker with default Settings (the system clock,
// the time window on), as a user or the gateway gets it.
func breakerdDefault() *breaker.Breaker {
	return breaker.New(breaker.Settings{Name: "bench", FailureRateThreshold: 0.5})
}

func gobreakerCB() *gobreaker.CircuitBreaker[any] {
	return gobreaker.NewCircuitBreaker[any](gobreaker.Settings{Name: "bench", Timeout: time.Hour})
}

func BenchmarkClosedSuccess(b *testing.B) {
	ctx := context.Background()
	b.Run("breakerd/Execute", func(b *testing.B) {
		br := breakerd(b)
		fn := func(context.Context) error { return nil }
		b.ReportAllocs()
		for b.Loop() {
			_ = br.Execute(ctx, fn)
		}
	})
	b.Run("breakerd/Allow", func(b *testing.B) {
		br := breakerd(b)
		b.ReportAllocs()
		for b.Loop() {
			done, _ := br.Allow()
			done(breaker.Success, 0)
		}
	})
	b.Run("breakerd-default-clock/Execute", func(b *testing.B) {
		br := breakerdDefault()
		fn := func(context.Context) error { return nil }
		b.ReportAllocs()
		for b.Loop() {
			_ = br.Execute(ctx, fn)
		}
	})
	b.Run("breakerd-default-clock/Allow", func(b *testing.B) {
		br := breakerdDefault()
		b.ReportAllocs()
		for b.Loop() {
			done, _ := br.Allow()
			done(breaker.Success, 0)
		}
	})
	b.Run("gobreaker/Execute", func(b *testing.B) {
		cb := gobreakerCB()
		fn := func() (any, error) { return nil, nil }
		b.ReportAllocs()
		for b.Loop() {
			_, _ = cb.Execute(fn)
		}
	})
	b.Run("failsafe-go/Run", func(b *testing.B) {
		cb := circuitbreaker.NewBuilder[any]().WithFailureRateThreshold(0.5, 10, time.Minute).WithDelay(time.Hour).Build()
		ex := failsafe.With[any](cb)
		fn := func() error { return nil }
		b.ReportAllocs()
		for b.Loop() {
			_ = ex.Run(fn)
		}
	})
}

func BenchmarkOpenRejection(b *testing.B) {
	ctx := context.Background()
	b.Run("breakerd/Execute", func(b *testing.B) {
		br := breakerd(b)
		br.ForceOpen("bench")
		fn := func(context.Context) error { return nil }
		b.ReportAllocs()
		for b.Loop() {
			_ = br.Execute(ctx, fn)
		}
	})
	b.Run("breakerd/Allow", func(b *testing.B) {
		br := breakerd(b)
		br.OpenUntil(time.Now().Add(time.Hour), "bench")
		b.ReportAllocs()
		for b.Loop() {
			_, _ = br.Allow()
		}
	})
	b.Run("breakerd-default-clock/Execute", func(b *testing.B) {
		br := breakerdDefault()
		br.OpenUntil(time.Now().Add(time.Hour), "bench")
		fn := func(context.Context) error { return nil }
		b.ReportAllocs()
		for b.Loop() {
			_ = br.Execute(ctx, fn)
		}
	})
	b.Run("breakerd-default-clock/Allow", func(b *testing.B) {
		br := breakerdDefault()
		br.OpenUntil(time.Now().Add(time.Hour), "bench")
		b.ReportAllocs()
		for b.Loop() {
			_, _ = br.Allow()
		}
	})
	b.Run("gobreaker/Execute", func(b *testing.B) {
		cb := gobreakerCB()
		for i := 0; i < 10; i++ {
			_, _ = cb.Execute(func() (any, error) { return nil, errFail })
		}
		if cb.State() != gobreaker.StateOpen {
			b.Fatal("gobreaker did not open")
		}
		fn := func() (any, error) { return nil, nil }
		b.ReportAllocs()
		for b.Loop() {
			_, _ = cb.Execute(fn)
		}
	})
	b.Run("failsafe-go/Run", func(b *testing.B) {
		cb := circuitbreaker.NewBuilder[any]().WithDelay(time.Hour).Build()
		cb.Open()
		ex := failsafe.With[any](cb)
		fn := func() error { return nil }
		b.ReportAllocs()
		for b.Loop() {
			_ = ex.Run(fn)
		}
	})
}

func BenchmarkClosedSuccessParallel(b *testing.B) {
	ctx := context.Background()
	b.Run("breakerd/Execute", func(b *testing.B) {
		br := breakerd(b)
		fn := func(context.Context) error { return nil }
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = br.Execute(ctx, fn)
			}
		})
	})
	b.Run("breakerd-default-clock/Execute", func(b *testing.B) {
		br := breakerdDefault()
		fn := func(context.Context) error { return nil }
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = br.Execute(ctx, fn)
			}
		})
	})
	b.Run("gobreaker/Execute", func(b *testing.B) {
		cb := gobreakerCB()
		fn := func() (any, error) { return nil, nil }
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = cb.Execute(fn)
			}
		})
	})
	b.Run("failsafe-go/Run", func(b *testing.B) {
		cb := circuitbreaker.NewBuilder[any]().WithFailureRateThreshold(0.5, 10, time.Minute).WithDelay(time.Hour).Build()
		ex := failsafe.With[any](cb)
		fn := func() error { return nil }
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = ex.Run(fn)
			}
		})
	})
}
