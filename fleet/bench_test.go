package fleet_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/fleet"
)

// BenchmarkClosedCall compares a closed-state call through a breaker that
// shares its state through Redis (with the fleet flushing every 200ms in
// the background) against a local-only breaker. The call path is the same
// code: no network on it.
func BenchmarkClosedCall(b *testing.B) {
	clk := breaker.NewCoarseClock(time.Millisecond)
	defer clk.Stop()
	settings := breaker.Settings{FailureRateThreshold: 0.5, Clock: clk}
	ctx := context.Background()
	fn := func(context.Context) error { return nil }

	b.Run("local", func(b *testing.B) {
		reg := breaker.NewRegistry(settings)
		br := reg.Get("bench")
		b.ReportAllocs()
		for b.Loop() {
			_ = br.Execute(ctx, fn)
		}
	})
	b.Run("redis", func(b *testing.B) {
		rs := startRedisB(b)
		rdb := redis.NewClient(&redis.Options{Addr: rs})
		defer rdb.Close()
		reg := breaker.NewRegistry(settings)
		var f *fleet.Fleet
		br := reg.GetOrCreate("bench", func(s *breaker.Settings) {
			s.TrialGate = func(n string) (func(), bool) { return f.TrialGate(n) }
		})
		f = fleet.New(fleet.Options{Client: rdb, Namespace: fmt.Sprintf("bench-%d", time.Now().UnixNano()), Registry: reg, Clock: clk})
		f.Start()
		defer f.Close()
		b.ReportAllocs()
		for b.Loop() {
			_ = br.Execute(ctx, fn)
		}
		if !f.Up() {
			b.Fatal("redis was not reachable during the benchmark")
		}
	})
}
