package gateway

import (
	"math"
	"sync/atomic"
	"time"
)

// loadStats are the live figures LiteLLM's dynamic routing strategies
// order deployments by: a moving average of successful calls' latency
// (latency-based-routing) and this minute's requests and tokens
// (usage-based-routing). Updates are lock-free; a lost race costs one
// sample, which the average does not miss.
type loadStats struct {
	latencyBits atomic.Uint64 // float64 seconds; 0 until the first success
	minute      atomic.Int64  // Unix minute the counts belong to
	requests    atomic.Int64
	tokens      atomic.Int64
}

// latencyWeight is the weight of a new sample in the moving average:
// about the last ten calls count.
const latencyWeight = 0.2

// latency returns the moving average in seconds; 0 for a deployment not
// yet measured, which puts it first, so that it gets measured (as LiteLLM
// does).
func (s *loadStats) latency() float64 { return math.Float64frombits(s.latencyBits.Load()) }

// observe records one successful call's latency (a stream's time to first
// chunk).
func (s *loadStats) observe(d time.Duration) {
	v := d.Seconds()
	if old := s.latency(); old > 0 {
		v = old + latencyWeight*(v-old)
	}
	s.latencyBits.Store(math.Float64bits(v))
}

// count adds a request and its tokens to the minute of now.
func (s *loadStats) count(now time.Time, tokens int) {
	s.roll(now)
	s.requests.Add(1)
	s.tokens.Add(int64(tokens))
}

// usage orders by this minute's tokens, then requests (usage-based
// routing: the deployment with the most of its minute left first).
func (s *loadStats) usage(now time.Time) float64 {
	if s.minute.Load() != now.Unix()/60 {
		return 0
	}
	return float64(s.tokens.Load()) + float64(s.requests.Load())/1e6
}

// roll starts a new minute's counts when now has moved past the current.
func (s *loadStats) roll(now time.Time) {
	m := now.Unix() / 60
	if old := s.minute.Load(); old != m && s.minute.CompareAndSwap(old, m) {
		s.requests.Store(0)
		s.tokens.Store(0)
	}
}
