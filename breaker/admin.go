package breaker

import (
	"cmp"
	"time"
)

// ForceOpen pins the breaker open: every call is rejected until ForceClose,
// Reset or Enable. It reports whether the state changed. An empty reason
// becomes "manual: open".
func (b *Breaker) ForceOpen(reason string) bool {
	return b.moveTo(ForcedOpen, 0, cmp.Or(reason, "manual: open"))
}

// ForceClose closes the breaker and starts a fresh window, from any state.
// An empty reason becomes "manual: close".
func (b *Breaker) ForceClose(reason string) bool {
	return b.moveTo(Closed, 0, cmp.Or(reason, "manual: close"))
}

// Reset closes the breaker like ForceClose and also forgets the backoff
// level, and the last failure time. Totals and history are kept, since they feed
// monotonic counters and the audit trail. It always emits a transition.
func (b *Breaker) Reset(reason string) bool {
	// Unlike the other actions, Reset acts even on a closed breaker: it
	// starts a fresh window, and the audit trail shows the closed->closed
	// transition.
	for {
		e := b.cur.Load()
		if b.transition(e, Closed, b.nanotime(), 0, cmp.Or(reason, "manual: reset")) {
			break
		}
	}
	b.lastFail.Store(0)
	b.lastCause.Store(nil)
	return true
}

// Disable lets every call through and records nothing until Enable.
// An empty reason becomes "manual: disable".
func (b *Breaker) Disable(reason string) bool {
	return b.moveTo(Disabled, 0, cmp.Or(reason, "manual: disable"))
}

// Enable ends Disabled or ForcedOpen, closing the breaker. In any other
// state it does nothing and returns false. An empty reason becomes
// "manual: enable".
func (b *Breaker) Enable(reason string) bool {
	for {
		e := b.cur.Load()
		if e.state != Disabled && e.state != ForcedOpen {
			return false
		}
		if b.transition(e, Closed, b.nanotime(), 0, cmp.Or(reason, "manual: enable")) {
			return true
		}
	}
}

// OpenUntil opens the breaker until t, for example when a provider answers
// with Retry-After. It does nothing while the breaker is forced open or
// disabled, or when it is already open until t or later, or when t is not
// in the future. It reports whether the breaker changed.
func (b *Breaker) OpenUntil(t time.Time, reason string) bool {
	until := t.UnixNano()
	for {
		e := b.cur.Load()
		now := b.nanotime()
		if e.state == ForcedOpen || e.state == Disabled || until <= now || (e.state == Open && e.openUntil >= until) {
			return false
		}
		if b.transitionTrips(e, Open, now, until, max(e.trips, 1), cmp.Or(reason, "open until "+t.UTC().Format(time.RFC3339)), false) {
			return true
		}
	}
}

func (b *Breaker) moveTo(to State, openUntil int64, reason string) bool {
	for {
		e := b.cur.Load()
		if e.state == to {
			return false
		}
		if b.transition(e, to, b.nanotime(), openUntil, reason) {
			return true
		}
	}
}

// Trip opens a closed breaker as its own trip conditions would, with the
// usual open timeout and backoff. Code that judges failures elsewhere (a
// fleet-wide failure rate, say) uses it. It reports whether the breaker
// changed.
func (b *Breaker) Trip(reason string) bool {
	for {
		e := b.cur.Load()
		if e.state != Closed {
			return false
		}
		if b.trip(e, b.nanotime(), reason) {
			return true
		}
	}
}

// ApplyRemote moves the breaker to a state another process decided, and
// marks the transition Remote so that it is not shared back. Open extends
// the open period to until (never shortens it); Closed ends an outage from
// open or half-open; ForcedOpen and Disabled pin the state as their admin
// actions do. It reports whether the breaker changed.
func (b *Breaker) ApplyRemote(to State, until time.Time, reason string) bool {
	for {
		e := b.cur.Load()
		now := b.nanotime()
		switch to {
		case Open:
			u := until.UnixNano()
			if e.state == ForcedOpen || e.state == Disabled || u <= now || (e.state == Open && e.openUntil >= u) {
				return false
			}
			if b.transitionTrips(e, Open, now, u, max(e.trips, 1), reason, true) {
				return true
			}
		case Closed:
			if e.state == Closed {
				return false
			}
			if b.transitionTrips(e, Closed, now, 0, 0, reason, true) {
				return true
			}
		case ForcedOpen, Disabled:
			if e.state == to {
				return false
			}
			if b.transitionTrips(e, to, now, 0, e.trips, reason, true) {
				return true
			}
		default:
			return false
		}
	}
}
