package breaker

import "time"

// WindowStats describe the sliding window that the rate conditions judge.
type WindowStats struct {
	Calls       uint64  `json:"calls"`
	Failures    uint64  `json:"failures"`
	Slow        uint64  `json:"slow"`
	FailureRate float64 `json:"failure_rate"`
	SlowRate    float64 `json:"slow_rate"`
}

// Snapshot is a point-in-time view of a breaker, the Go counterpart of the
// seed's get_status() with more detail.
type Snapshot struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	State  State             `json:"state"`
	Since  time.Time         `json:"since"`
	// Reason is why the breaker entered its state.
	Reason string `json:"reason"`
	// RetryAt is when an open breaker lets a trial through.
	RetryAt time.Time `json:"retry_at,omitzero"`
	Counts  Counts    `json:"counts"`
	// ConsecutiveFailures counts failures in a row in the closed state.
	ConsecutiveFailures int64 `json:"consecutive_failures"`
	// TrialSuccesses and TrialsInFlight describe the half-open state.
	TrialSuccesses int64       `json:"trial_successes"`
	TrialsInFlight int         `json:"trials_in_flight"`
	Window         WindowStats `json:"window"`
	LastFailure    time.Time   `json:"last_failure,omitzero"`
	// LastFailureCause is why the last failure failed, when the caller
	// said (NoteFailure).
	LastFailureCause string `json:"last_failure_cause,omitempty"`
	// LastFailureKind classes it: http_503, timeout, connection, ...
	LastFailureKind string `json:"last_failure_kind,omitempty"`
	// Trips counts opens since the last full recovery (drives backoff).
	Trips   int          `json:"trips"`
	History []Transition `json:"history"`
}

// Snapshot returns the breaker's current view. It allocates and takes a
// short lock for the history, so call it for status pages, not per call.
func (b *Breaker) Snapshot() Snapshot {
	e := b.cur.Load()
	now := b.nanotime()
	s := Snapshot{
		Name:    b.s.Name,
		Labels:  b.s.Labels,
		State:   e.state,
		Since:   time.Unix(0, e.since),
		Reason:  e.reason,
		Counts:  b.counts.totals(),
		Trips:   e.trips,
		History: b.events.historyCopy(),
	}
	switch e.state {
	case Open:
		s.RetryAt = time.Unix(0, e.openUntil)
	case Closed:
		s.ConsecutiveFailures = e.consec.Load()
	case HalfOpen:
		s.TrialSuccesses = e.trialOK.Load()
		for i := range e.slots {
			if v := e.slots[i].Load(); v != 0 && now-v < int64(b.s.HalfOpenMaxWait) {
				s.TrialsInFlight++
			}
		}
	}
	s.Window = b.windowOf(e, now)
	if lf := b.lastFail.Load(); lf != 0 {
		s.LastFailure = time.Unix(0, lf)
		s.LastFailureKind, s.LastFailureCause = b.LastFailureCause()
	}
	return s
}

// Window returns the current window statistics without the rest of a
// snapshot; metrics read it at scrape time.
func (b *Breaker) Window() WindowStats {
	return b.windowOf(b.cur.Load(), b.nanotime())
}

// windowOf reports the window as epoch e sees it. Outside the closed state
// it reports the plain time window.
func (b *Breaker) windowOf(e *epoch, now int64) WindowStats {
	var calls, fails, slow uint64
	if e.state == Closed {
		calls, fails, slow = b.windowStats(e, now)
	} else {
		calls, fails, slow = b.counts.window(now, b.counts.n, 0)
	}
	w := WindowStats{Calls: calls, Failures: fails, Slow: slow}
	if calls > 0 {
		w.FailureRate = float64(fails) / float64(calls)
		w.SlowRate = float64(slow) / float64(calls)
	}
	return w
}

// RetryAt returns when an open breaker lets a trial through, and false if
// the breaker is not in the Open state.
func (b *Breaker) RetryAt() (time.Time, bool) {
	e := b.cur.Load()
	if e.state != Open {
		return time.Time{}, false
	}
	return time.Unix(0, e.openUntil), true
}

// AllowsAt reports whether a call at t would be let through: the breaker
// is closed, half-open or disabled, or open with its retry time reached
// (the call would be a trial). Health and metrics judge routability by it.
func (b *Breaker) AllowsAt(t time.Time) bool {
	e := b.cur.Load()
	if e.state.Allows() {
		return true
	}
	return e.state == Open && t.UnixNano() >= e.openUntil
}
