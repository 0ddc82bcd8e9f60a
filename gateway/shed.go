package gateway

import (
	"math"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"github.com/breakerd/breakerd/breaker"
)

// Load shedding: when more requests arrive than breakerd can process, the
// excess is answered at once (a 503 with Retry-After: 1) instead of
// queueing without bound until every request is slow and the breakers
// blame healthy providers for breakerd's own backlog.
//
// The limit on requests in flight adapts, AIMD on breakerd's own latency,
// as Netflix's concurrency-limits and Envoy's adaptive concurrency filter
// do, but on the gateway's own time only: each served request's overhead
// (its time in breakerd, upstream waits and retry backoff excluded, the
// figure of X-Breakerd-Overhead-Ms). LLM calls run long, and a slow
// provider raises the number in flight without raising breakerd's own
// time, so it grows the limit instead of shrinking it.
//
// breakerd's own time shows in two signals, and either one over its target
// means overload: the median overhead of the requests served in a window
// (100 ms), and the Go scheduler's latency in the window (its 90th
// percentile, from runtime/metrics): how long goroutines that could run
// waited for a CPU. The second catches what the first cannot see: under
// CPU overload requests wait before their handler even starts. Over a
// target, the limit drops to 80% of what is in flight (or of itself, if
// less), once that has lasted three windows in which the requests waiting
// did not fall (a burst of arrivals that is draining is not overload), and
// the excess is shed until breakerd catches up; under both,
// a limit that is nearly used grows by 10%. server.max_concurrent_requests,
// when set, stays a hard cap above it.
//
// The adaptive limit counts the requests not yet answered. A stream stops
// counting once its first chunk is on its way to the client: a stream
// that relays for minutes costs CPU per chunk, not per second, and a
// thousand idle streams are no reason to refuse the next request; counted,
// they let a brief burst cut the limit below the streams already running
// and refuse every arrival until some ended. For the same reason, while
// breakerd keeps up (a second of windows under both targets), a request
// does not count while its upstream call is out (until the answer, or a
// stream's first chunk, comes back) or while it waits to retry: a slow
// provider, or a reasoning model minutes from its first token, piles
// requests up there, not in breakerd's queues. Over a target they count
// again, at once: their answers come back to CPUs that are short, and
// wait for one (bench/load -overload: left out even then, breakerd shed
// almost nothing and grew to 684 MB; left out after any one window under
// the targets, it held about 100 MB more than counting them). The hard
// cap counts every request until it ends.
const (
	shedWindow    = 100 * time.Millisecond
	shedTarget    = 20 * time.Millisecond // median own time that means breakerd is the bottleneck
	schedTarget   = 25 * time.Millisecond // scheduling latency (p90) that means the CPUs are
	shedSustained = 3                     // windows in a row over a target before the limit drops: a burst is not overload
	shedCalm      = 10                    // windows in a row under both targets before requests at their upstream stop counting
	shedFloor     = 64                    // never shed below this many in flight
	shedInitial   = 4096
	shedSampleCap = 10 * time.Second
	acceptPause   = 200 * time.Millisecond // after a refusal, connections past twice the limit wait this long
	acceptHold    = 3 * time.Second        // and this long after breakerd was last over a target (bench/load -overload: 1 s held 145-224 MB, 3 s 105-128)
)

// shedder is the adaptive concurrency limit. Admission is two atomic
// operations; samples go to a bucketed histogram that one caller rolls
// over at the end of each window.
type shedder struct {
	clock      breaker.Clock
	hardCap    int64        // 0: none
	inflight   atomic.Int64 // admitted and not finished: what the hard cap bounds
	unanswered atomic.Int64 // admitted and not yet answered
	away       atomic.Int64 // of those, waiting on an upstream or to retry
	// keptUp is set while the last shedCalm windows were under both
	// targets: the limit then bounds unanswered - away, else unanswered.
	keptUp atomic.Bool
	limit  atomic.Int64
	shed   atomic.Uint64
	// lastRefusal is when a request was last refused, and overAt when the
	// last window over a target ended (clock, Unix ns; 0: never), for
	// pauseAccept.
	lastRefusal atomic.Int64
	overAt      atomic.Int64

	mu        sync.Mutex // rolling the window
	windowEnd atomic.Int64
	buckets   [24]atomic.Uint64 // overhead in powers of two from 62.5 µs
	// sched reads the scheduler's latency histogram (cumulative), and
	// lastSched is the previous window's reading; under mu.
	sched     []metrics.Sample
	lastSched []uint64
	// overWindows counts overloaded windows in a row; lastWaiting is the
	// previous window's count of unanswered requests; calmWindows counts
	// windows in a row under both targets; under mu.
	overWindows, calmWindows int
	lastWaiting              int64
	// schedLatency returns the window's scheduling latency (p90); tests
	// replace it.
	schedLatency func() time.Duration
}

// runtimeSchedLatency returns the 90th percentile of how long goroutines
// waited to run since the last call, from runtime/metrics.
func (s *shedder) runtimeSchedLatency() time.Duration {
	metrics.Read(s.sched)
	if s.sched[0].Value.Kind() != metrics.KindFloat64Histogram {
		return 0
	}
	h := s.sched[0].Value.Float64Histogram()
	if len(s.lastSched) != len(h.Counts) {
		s.lastSched = make([]uint64, len(h.Counts))
	}
	var total uint64
	delta := make([]uint64, len(h.Counts))
	for i, c := range h.Counts {
		delta[i] = c - s.lastSched[i]
		total += delta[i]
		s.lastSched[i] = c
	}
	if total == 0 {
		return 0
	}
	var seen uint64
	for i, c := range delta {
		seen += c
		if seen*10 >= total*9 {
			return time.Duration(h.Buckets[i] * float64(time.Second))
		}
	}
	return 0
}

func newShedder(clock breaker.Clock, hardCap int) *shedder {
	s := &shedder{clock: clock, hardCap: int64(hardCap), sched: []metrics.Sample{{Name: "/sched/latencies:seconds"}}}
	s.keptUp.Store(true)
	s.calmWindows = shedCalm // calm until shown otherwise
	s.schedLatency = s.runtimeSchedLatency
	s.limit.Store(shedInitial)
	if s.hardCap > 0 {
		s.limit.Store(min(s.hardCap, shedInitial))
	}
	return s
}

// admission is an admitted request's place in the shedder's counts.
type admission struct {
	s        *shedder
	answered bool
	away     bool
}

// leave marks the request as waiting on its upstream call, or to retry,
// until back.
func (a *admission) leave() {
	if a.s != nil && !a.away {
		a.away = true
		a.s.away.Add(1)
	}
}

// back ends leave: the answer or first chunk is in, or the wait is over.
func (a *admission) back() {
	if a.away {
		a.away = false
		a.s.away.Add(-1)
	}
}

// answer takes the request out of the adaptive limit's count: its answer
// has started (a stream's first chunk is sent). Later calls do nothing.
func (a *admission) answer() {
	a.back()
	if !a.answered {
		a.answered = true
		a.s.unanswered.Add(-1)
	}
}

// release ends the request.
func (a *admission) release() {
	a.answer()
	a.s.inflight.Add(-1)
}

// admit takes a slot, or reports that the request is to be shed.
func (s *shedder) admit() (admission, bool) {
	s.maybeRoll() // arrivals end windows too: under overload few requests finish
	n, u := s.inflight.Add(1), s.unanswered.Add(1)
	if s.keptUp.Load() {
		u -= s.away.Load()
	}
	if (s.hardCap > 0 && n > s.hardCap) || (u > s.limit.Load() && u > shedFloor) {
		s.inflight.Add(-1)
		s.unanswered.Add(-1)
		s.shed.Add(1)
		s.lastRefusal.Store(s.clock.Now().UnixNano())
		return admission{}, false
	}
	return admission{s: s}, true
}

// pauseAccept is Gateway.PauseAccept.
func (s *shedder) pauseAccept(open int64) bool {
	adaptive := max(s.limit.Load(), shedFloor)
	lim := adaptive
	if s.hardCap > 0 {
		lim = min(lim, s.hardCap)
	}
	if open < 2*lim {
		return false
	}
	now := s.clock.Now().UnixNano()
	if last := s.lastRefusal.Load(); last != 0 && now-last < int64(acceptPause) {
		return true
	}
	// Over a target within acceptHold, by the clock: keptUp changes only
	// as arrivals roll windows, and arrivals are what a paused listener
	// holds back. Only the adaptive limit counts here, the measure of
	// what breakerd's CPUs can take (a hard cap of a few requests is no
	// reason to hold back connections when none was refused), and
	// streams already answered are left out: thousands of them are no
	// reason either.
	over := s.overAt.Load()
	return over != 0 && now-over < int64(acceptHold) && open-(s.inflight.Load()-s.unanswered.Load()) >= 2*adaptive
}

// observe records a served request's own time and, at the end of a
// window, adjusts the limit.
func (s *shedder) observe(overhead time.Duration) {
	overhead = min(max(overhead, 0), shedSampleCap)
	b := 0
	if overhead > 0 {
		b = min(max(int(math.Log2(float64(overhead)/float64(62500*time.Nanosecond)))+1, 0), len(s.buckets)-1)
	}
	s.buckets[b].Add(1)
	s.maybeRoll()
}

// maybeRoll ends the window if its time has come: one caller adjusts the
// limit, the others go on.
func (s *shedder) maybeRoll() {
	now := s.clock.Now().UnixNano()
	if now < s.windowEnd.Load() || !s.mu.TryLock() {
		return
	}
	defer s.mu.Unlock()
	if now < s.windowEnd.Load() {
		return
	}
	s.windowEnd.Store(now + int64(shedWindow))
	sched := s.schedLatency()
	var counts [len(s.buckets)]uint64
	var total uint64
	for i := range s.buckets {
		counts[i] = s.buckets[i].Swap(0)
		total += counts[i]
	}
	median := time.Duration(0)
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen*2 >= total {
			median = time.Duration(62500 * math.Pow(2, float64(i-1)))
			break
		}
	}
	over := median > shedTarget || sched > schedTarget
	s.calmWindows++
	if over {
		s.calmWindows = 0
		s.overAt.Store(now)
	}
	keptUp := s.calmWindows >= shedCalm
	s.keptUp.Store(keptUp)
	limit, waiting := s.limit.Load(), s.unanswered.Load()
	if keptUp {
		waiting -= s.away.Load()
	}
	// Over a target is overload while the requests waiting hold or grow
	// (closed-loop clients hold them steady); a burst that is draining
	// (down by a tenth or more since the last window) is not.
	draining := waiting*10 < s.lastWaiting*9
	s.lastWaiting = waiting
	if over && !draining {
		s.overWindows++
	} else {
		s.overWindows = 0
	}
	switch {
	case over && !draining && s.overWindows >= shedSustained:
		limit = max(min(limit, waiting)*8/10, shedFloor)
	case over:
		// Not yet sustained: hold the limit.
	case waiting*10 >= limit*8:
		limit = limit*11/10 + 1
	}
	if s.hardCap > 0 {
		limit = min(limit, s.hardCap) // the hard cap is checked on its own
	}
	s.limit.Store(limit)
}
