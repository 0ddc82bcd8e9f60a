package lograte

import (
	"testing"
	"time"
)

func TestOneLineAnIntervalCountingTheRest(t *testing.T) {
	t0 := time.Date(2026, 1, 26, 12, 0, 0, 0, time.UTC)
	var l Limiter
	steps := []struct {
		at          time.Duration
		ok          bool
		wantSkipped int64
	}{
		{0, true, 0},
		{10 * time.Millisecond, false, 0},
		{999 * time.Millisecond, false, 0},
		{time.Second, true, 2},
		{time.Second, false, 0},
		{5 * time.Second, true, 1},
	}
	for _, s := range steps {
		ok, skipped := l.Allow(t0.Add(s.at), time.Second)
		if ok != s.ok || skipped != s.wantSkipped {
			t.Fatalf("at +%s: ok %v skipped %d, want %v %d", s.at, ok, skipped, s.ok, s.wantSkipped)
		}
	}
}
