package gateway

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
)

// admitN takes n slots, failing the test if any is refused.
func admitN(t *testing.T, s *shedder, n int) []*admission {
	t.Helper()
	var adms []*admission
	for i := 0; i < n; i++ {
		a, ok := s.admit()
		if !ok {
			t.Fatalf("slot %d of %d refused (limit %d)", i+1, n, s.limit.Load())
		}
		adms = append(adms, &a)
	}
	return adms
}

// window feeds one window of samples of the given overhead and rolls it.
func window(s *shedder, clk *breaker.ManualClock, overhead time.Duration) {
	for i := 0; i < 20; i++ {
		s.observe(overhead)
	}
	clk.Advance(shedWindow)
	s.observe(overhead) // the first sample past the window rolls it
}

// calmShedder is a shedder whose CPUs keep up (no scheduling latency), so
// that only the requests' own time speaks.
func calmShedder(clk *breaker.ManualClock, hardCap int) *shedder {
	s := newShedder(clk, hardCap)
	s.schedLatency = func() time.Duration { return 0 }
	return s
}

func TestSheddingAdaptsToBreakerdsOwnTime(t *testing.T) {
	t.Run("its own time over target while the backlog holds: the limit drops below what is waiting, and the excess is shed", func(t *testing.T) {
		clk := breaker.NewManualClock(time.Unix(0, 0))
		s := calmShedder(clk, 0)
		rel := admitN(t, s, 1000) // as closed-loop clients hold it: steady
		window(s, clk, 80*time.Millisecond)
		window(s, clk, 80*time.Millisecond)
		if got := s.limit.Load(); got != shedInitial {
			t.Fatalf("limit %d after two slow windows: a burst is not overload yet", got)
		}
		window(s, clk, 80*time.Millisecond)
		if got := s.limit.Load(); got != 800 {
			t.Fatalf("limit %d, want 800 (80%% of 1000 in flight)", got)
		}
		if _, ok := s.admit(); ok {
			t.Fatal("a request past the limit was admitted")
		}
		if s.shed.Load() != 1 {
			t.Fatalf("shed %d", s.shed.Load())
		}
		for _, a := range rel[:300] {
			a.release()
		}
		if _, ok := s.admit(); !ok {
			t.Fatal("with room under the limit again, a request was shed")
		}
	})
	t.Run("a busy gateway that keeps up: many in its hands, little own time, the limit grows", func(t *testing.T) {
		clk := breaker.NewManualClock(time.Unix(0, 0))
		s := calmShedder(clk, 0)
		admitN(t, s, 4000)
		window(s, clk, 2*time.Millisecond)
		if got := s.limit.Load(); got <= shedInitial {
			t.Fatalf("limit %d, want it grown past %d", got, shedInitial)
		}
		admitN(t, s, 400)
	})
	t.Run("a slow provider is not overload: thousands waiting on it take no room under the limit", func(t *testing.T) {
		clk := breaker.NewManualClock(time.Unix(0, 0))
		s := calmShedder(clk, 0)
		for range 10 {
			for _, a := range admitN(t, s, 1000) {
				a.leave() // the call is out; its answer or first token is minutes away
			}
		}
		window(s, clk, 2*time.Millisecond)
		admitN(t, s, shedInitial) // a burst as large as the limit, all at once
	})
	t.Run("over a target, requests at their upstream count again: their answers come back to CPUs that are short", func(t *testing.T) {
		clk := breaker.NewManualClock(time.Unix(0, 0))
		s := calmShedder(clk, 0)
		out := admitN(t, s, 1000)
		for _, a := range out {
			a.leave()
		}
		for _, n := range []int{100, 50, 50} { // breakerd's own backlog grows, and it is slow
			admitN(t, s, n)
			window(s, clk, 80*time.Millisecond)
		}
		if got := s.limit.Load(); got != 960 {
			t.Fatalf("limit %d, want 960 (80%% of the 1,200 unanswered)", got)
		}
		if _, ok := s.admit(); ok {
			t.Fatal("over its targets with 1,200 unanswered under a limit of 960, an arrival was admitted")
		}
		window(s, clk, time.Millisecond) // it keeps up again: the limit grows by a tenth
		if _, ok := s.admit(); ok {
			t.Fatalf("one window under its targets, 1,200 unanswered under a limit of %d: an arrival was admitted", s.limit.Load())
		}
		for range shedCalm - 2 {
			window(s, clk, time.Millisecond)
		}
		if s.keptUp.Load() {
			t.Fatal("under its targets for less than a second, requests at their upstream stopped counting")
		}
		window(s, clk, time.Millisecond)
		if !s.keptUp.Load() {
			t.Fatal("under its targets for a second, requests at their upstream still count")
		}
		for _, a := range out[:500] {
			a.back() // answers come back for breakerd to send on
			a.back() // a second call changes nothing
		}
		for _, a := range out {
			a.release()
		}
		if got := s.away.Load(); got != 0 {
			t.Fatalf("%d counted at the upstream after every answer, want 0", got)
		}
	})
	t.Run("an idle gateway keeps its limit", func(t *testing.T) {
		clk := breaker.NewManualClock(time.Unix(0, 0))
		s := calmShedder(clk, 0)
		window(s, clk, time.Millisecond)
		if got := s.limit.Load(); got != shedInitial {
			t.Fatalf("limit %d", got)
		}
	})
	t.Run("never below the floor", func(t *testing.T) {
		clk := breaker.NewManualClock(time.Unix(0, 0))
		s := calmShedder(clk, 0)
		for _, n := range []int{5, 3, 2} { // a small backlog, growing, very slow
			admitN(t, s, n)
			window(s, clk, time.Second)
		}
		if got := s.limit.Load(); got != shedFloor {
			t.Fatalf("limit %d, want the floor %d", got, shedFloor)
		}
		admitN(t, s, shedFloor-10)
	})
	t.Run("streams under way do not count against the limit, and a burst does not cut it below them", func(t *testing.T) {
		clk := breaker.NewManualClock(time.Unix(0, 0))
		s := calmShedder(clk, 0)
		streams := admitN(t, s, 1000)
		for _, a := range streams {
			a.answer() // first chunk sent
			a.answer() // a second call changes nothing
		}
		var waiting []*admission
		for _, n := range []int{100, 50, 50} { // arrivals outpace answers
			waiting = append(waiting, admitN(t, s, n)...)
			window(s, clk, 80*time.Millisecond)
		}
		if got := s.limit.Load(); got != 160 {
			t.Fatalf("limit %d, want 160 (80%% of the 200 waiting, not of the 1,200 in flight)", got)
		}
		if _, ok := s.admit(); ok {
			t.Fatal("an arrival past the limit on waiting requests was admitted")
		}
		for _, a := range waiting[:100] {
			a.answer() // their answers start; the streams run on
		}
		if _, ok := s.admit(); !ok {
			t.Fatal("with 100 waiting under a limit of 160, an arrival was shed")
		}
		for _, a := range streams {
			a.release()
		}
		if got, want := s.inflight.Load(), int64(201); got != want {
			t.Fatalf("in flight %d after the streams ended, want %d", got, want)
		}
	})
	t.Run("a burst that drains is not overload, however slow", func(t *testing.T) {
		clk := breaker.NewManualClock(time.Unix(0, 0))
		s := calmShedder(clk, 0)
		burst := admitN(t, s, 1000)
		window(s, clk, 80*time.Millisecond) // the burst arrived: the backlog grew
		for i := 0; i < 5; i++ {
			for _, a := range burst[i*150 : (i+1)*150] {
				a.answer() // answered as breakerd catches up
			}
			window(s, clk, 80*time.Millisecond)
		}
		if got := s.limit.Load(); got != shedInitial {
			t.Fatalf("limit %d: a draining burst cut it", got)
		}
	})
	t.Run("at the limit and still slow, the limit keeps dropping", func(t *testing.T) {
		clk := breaker.NewManualClock(time.Unix(0, 0))
		s := calmShedder(clk, 0)
		admitN(t, s, 1000)
		for i := 0; i < shedSustained; i++ {
			window(s, clk, 80*time.Millisecond)
		}
		if got := s.limit.Load(); got != 800 {
			t.Fatalf("limit %d, want 800", got)
		}
		// 1,000 still waiting, over the limit: the limit binds, and each
		// slow window cuts it again, as AIMD does.
		window(s, clk, 80*time.Millisecond)
		if got := s.limit.Load(); got != 640 {
			t.Fatalf("limit %d, want 640", got)
		}
	})
	t.Run("server.max_concurrent_requests is a hard cap, streams included", func(t *testing.T) {
		clk := breaker.NewManualClock(time.Unix(0, 0))
		s := calmShedder(clk, 2)
		for _, a := range admitN(t, s, 2) {
			a.answer() // streams under way
		}
		if _, ok := s.admit(); ok {
			t.Fatal("admitted past the hard cap")
		}
	})
}

// CPU overload shows as scheduling latency before it shows in the served
// requests' own time (they wait before their handler starts): that alone
// shrinks the limit.
func TestSchedulingLatencyAloneMeansOverload(t *testing.T) {
	clk := breaker.NewManualClock(time.Unix(0, 0))
	s := newShedder(clk, 0)
	admitN(t, s, 2000)
	s.schedLatency = func() time.Duration { return 40 * time.Millisecond }
	for w := 0; w < shedSustained; w++ {
		for i := 0; i < 20; i++ {
			s.observe(time.Millisecond)
		}
		clk.Advance(shedWindow)
		if a, ok := s.admit(); ok { // an arrival rolls the window
			a.release()
		}
	}
	if got := s.limit.Load(); got != 1600 {
		t.Fatalf("limit %d, want 1600", got)
	}
	// The runtime's own reading works, and idles at little.
	s2 := newShedder(clk, 0)
	if d := s2.runtimeSchedLatency(); d < 0 || d > time.Second {
		t.Fatalf("scheduling latency %v", d)
	}
}

// While breakerd is over a target (here the CPUs' scheduling latency), and
// for acceptHold after, connections from twice the limit wait, refusal or
// not, streams already answered left out. acceptHold runs by the clock: a
// listener that holds back arrivals must not hold itself paused because no
// arrival rolled a window.
func TestAcceptPausesWhileOverATarget(t *testing.T) {
	clk := breaker.NewManualClock(time.Unix(1000, 0))
	s := newShedder(clk, 0)
	s.limit.Store(100)
	if s.pauseAccept(1 << 20) {
		t.Fatal("paused while calm")
	}
	s.schedLatency = func() time.Duration { return 40 * time.Millisecond }
	window(s, clk, time.Millisecond)
	if s.lastRefusal.Load() != 0 || s.limit.Load() != 100 {
		t.Fatalf("a refusal, or the limit moved to %d: the case is not over a target alone", s.limit.Load())
	}
	streams := admitN(t, s, 50)
	for _, tc := range []struct {
		name     string
		open     int64
		answered bool
		want     bool
	}{
		{"below twice the limit", 199, false, false},
		{"at twice the limit", 200, false, true},
		{"50 of them relaying answered streams", 249, true, false},
		{"past twice the limit with the streams left out", 250, true, true},
	} {
		if tc.answered {
			for _, a := range streams {
				a.answer()
			}
		}
		if got := s.pauseAccept(tc.open); got != tc.want {
			t.Errorf("%s (%d open, limit 100): paused %v, want %v", tc.name, tc.open, got, tc.want)
		}
	}
	capped := newShedder(clk, 1) // the hard cap does not hold connections back: the adaptive limit does
	capped.overAt.Store(s.overAt.Load())
	if capped.pauseAccept(2*shedFloor - 1) {
		t.Error("held back under twice the adaptive limit's floor for a hard cap of 1")
	}
	clk.Advance(acceptHold - 1)
	if !s.pauseAccept(250) {
		t.Fatal("not paused within acceptHold of the last window over a target")
	}
	clk.Advance(1)
	if s.pauseAccept(1 << 20) {
		t.Fatal("still paused acceptHold after the last window over a target, with no window rolled since")
	}
}

// A refusal is answered with a body encoded once, per API shape and
// cause; it must read as writeAPIError's answer for that shape and cause.
func TestRefusalsNameTheirCause(t *testing.T) {
	for _, tc := range []struct {
		name          string
		path          string
		maxConcurrent int
		inflight      int64
		want          string
	}{
		{"the adaptive limit, chat", "/v1/chat/completions", 0, 5,
			`{"error":{"message":"breakerd is overloaded: it answers the excess at once instead of queueing it; retry shortly","type":"service_unavailable","param":null,"code":"server_overloaded"}}` + "\n"},
		{"the adaptive limit under a cap not reached", "/v1/chat/completions", 10, 5,
			`{"error":{"message":"breakerd is overloaded: it answers the excess at once instead of queueing it; retry shortly","type":"service_unavailable","param":null,"code":"server_overloaded"}}` + "\n"},
		{"the hard cap", "/v1/chat/completions", 10, 10,
			`{"error":{"message":"breakerd is serving its maximum of 10 concurrent requests","type":"service_unavailable","param":null,"code":"server_overloaded"}}` + "\n"},
		{"the hard cap, Messages", "/v1/messages", 10, 10,
			`{"error":{"message":"breakerd is serving its maximum of 10 concurrent requests","type":"api_error"},"type":"error"}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &Gateway{cfg: &config.Config{Server: config.Server{MaxConcurrent: tc.maxConcurrent}},
				shed: newShedder(breaker.NewManualClock(time.Unix(0, 0)), tc.maxConcurrent), refusals: encodeRefusals(tc.maxConcurrent)}
			g.shed.inflight.Store(tc.inflight)
			w := httptest.NewRecorder()
			g.refuseOverloaded(w, httptest.NewRequest(http.MethodPost, tc.path, nil))
			if w.Code != 503 || w.Header().Get("Retry-After") != "1" || w.Header().Get("Content-Type") != "application/json" ||
				w.Header().Get("Connection") != "" || w.Body.String() != tc.want {
				t.Fatalf("%d %v\n%s\nwant\n%s", w.Code, w.Header(), w.Body, tc.want)
			}
		})
	}
}

// After a refusal, and for acceptPause, connections from twice the
// adaptive limit (never under twice the floor) wait; before any refusal,
// and after the pause, none do.
func TestAcceptPausesPastTwiceTheLimitAfterARefusal(t *testing.T) {
	clk := breaker.NewManualClock(time.Unix(1000, 0))
	s := calmShedder(clk, 0) // never over a target: the pause is the refusal's alone
	s.limit.Store(100)
	if s.pauseAccept(1 << 20) {
		t.Fatal("paused before any refusal")
	}
	admitN(t, s, 100)
	if _, ok := s.admit(); ok {
		t.Fatal("the 101st request was admitted under a limit of 100")
	}
	for _, tc := range []struct {
		limit, open int64
		want        bool
	}{{100, 199, false}, {100, 200, true}, {10, 127, false}, {10, 128, true}} {
		s.limit.Store(tc.limit)
		if got := s.pauseAccept(tc.open); got != tc.want {
			t.Errorf("limit %d, %d open: paused %v, want %v", tc.limit, tc.open, got, tc.want)
		}
	}
	clk.Advance(acceptPause)
	if s.pauseAccept(1 << 20) {
		t.Fatal("still paused acceptPause after the last refusal")
	}
}
