package breaker

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"time"
)

// Breaker is a circuit breaker. Create it with New; it is safe for
// concurrent use, and its methods never block on a lock in the call path.
type Breaker struct {
	s       Settings
	coarse  *CoarseClock // its fast path is read directly; never nil (see New)
	clockFn func() int64
	// timers is the clock's timers, nil when it has none (a CoarseClock,
	// a Clock of the caller's): then every check reads the clock.
	timers timerClock
	// seqLive says whether counts.curSeq is the current window bucket
	// (seqLive), with a timer armed for the bucket's end (see seqNow).
	seqLive  atomic.Int32
	cur      atomic.Pointer[epoch]
	counts   counters
	lastFail atomic.Int64
	// lastCause is the latest failure's cause, as a caller described it
	// with NoteFailure; nil when none was.
	lastCause atomic.Pointer[failureNote]
	events    dispatcher
}

// epoch is one stay in one state. It never changes state: a transition
// swaps in a new epoch with a compare-and-swap, so exactly one caller wins
// each transition and a call reported against an old epoch cannot move the
// breaker.
type epoch struct {
	state     State
	gen       uint64
	since     int64
	openUntil int64 // Open: when trials may start
	// due is set by a timer at openUntil, on a clock with timers: until
	// then an open breaker rejects without reading the clock.
	due    atomic.Bool
	trips  int // opens since the last full recovery, for backoff
	reason string
	// openedAt is when the current outage began (0 when there is none);
	// rejectedAtOpen is the rejected total at that moment.
	openedAt       int64
	rejectedAtOpen uint64

	// Closed.
	done     func(Outcome, time.Duration)
	consec   atomic.Int64
	startSeq int64
	ring     *countWindow

	// Open and ForcedOpen: the shared rejection error, built once.
	err *OpenError

	// HalfOpen.
	slots   []atomic.Int64 // issue time of each trial permit; 0 is free
	trialOK atomic.Int64
	fullErr *OpenError
}

// New returns a closed breaker. It panics if s fails Validate, since a bad
// breaker configuration is a programming error; validate first when the
// settings come from a user.
func New(s Settings) *Breaker {
	if err := s.Validate(); err != nil {
		panic("breaker: " + err.Error())
	}
	s.applyDefaults()
	b := &Breaker{s: s, clockFn: nanotimeOf(s.Clock)}
	b.coarse, _ = s.Clock.(*CoarseClock)
	b.timers, _ = s.Clock.(timerClock)
	if b.coarse == nil {
		// A clock that never ticks: its fast path never applies, so every
		// read goes to clockFn, and nanotime needs no nil check.
		b.coarse = &CoarseClock{}
	}
	b.counts.init(int64(s.Window), s.WindowBuckets)
	b.events.init(s.HistorySize)
	b.cur.Store(b.newEpoch(nil, Closed, b.nanotime(), 0, "created"))
	return b
}

// nanotime returns the breaker's clock in Unix nanoseconds.
func (b *Breaker) nanotime() int64 {
	// The coarse clock's fast path, inlined; clockFn covers the rest,
	// including a parked coarse clock.
	if n := b.coarse.now.Load(); n != 0 {
		return n
	}
	return b.clockFn()
}

// Name returns the breaker's name.
func (b *Breaker) Name() string { return b.s.Name }

// Labels returns the breaker's labels. Do not modify the map.
func (b *Breaker) Labels() map[string]string { return b.s.Labels }

// Settings returns the breaker's settings with defaults filled in.
func (b *Breaker) Settings() Settings { return b.s }

// State returns the current state. An open breaker whose timeout has passed
// reports Open until a call moves it to half-open.
func (b *Breaker) State() State { return b.cur.Load().state }

// Counts returns the running totals. It is cheap enough for every scrape.
func (b *Breaker) Counts() Counts { return b.counts.totals() }

func (b *Breaker) newEpoch(prev *epoch, st State, now int64, openUntil int64, reason string) *epoch {
	e := &epoch{state: st, since: now, openUntil: openUntil, reason: reason}
	if prev != nil {
		e.gen = prev.gen + 1
		e.trips = prev.trips
	}
	switch st {
	case Closed:
		e.trips = 0
		e.startSeq = b.counts.seqOf(now)
		if b.s.WindowCalls > 0 {
			e.ring = newCountWindow(b.s.WindowCalls)
		}
		e.done = func(o Outcome, d time.Duration) { b.reportClosed(e, o, d) }
	case Disabled:
		e.done = func(Outcome, time.Duration) {}
	case Open:
		e.err = &OpenError{Breaker: b.s.Name, State: Open, RetryAt: time.Unix(0, openUntil)}
		switch {
		case b.timers == nil:
		case openUntil <= now:
			e.due.Store(true)
		default:
			// Armed before the epoch is published, so it never rejects
			// past openUntil for want of a timer. An epoch that loses its
			// transition, or is left early, lets its timer fire unheeded.
			b.timers.AfterFunc(time.Duration(openUntil-now), func() { e.due.Store(true) })
		}
	case ForcedOpen:
		e.err = &OpenError{Breaker: b.s.Name, State: ForcedOpen}
	case HalfOpen:
		e.slots = make([]atomic.Int64, b.s.HalfOpenMaxCalls)
		e.fullErr = &OpenError{Breaker: b.s.Name, State: HalfOpen, halfOpenFull: true}
	}
	return e
}

// Allow asks to make one call. On success it returns done, which the caller
// must call exactly once with the call's outcome and duration (the time to
// first token, for a stream). A done that is never called in half-open
// holds a trial slot until HalfOpenMaxWait. On rejection the error matches
// ErrOpen or ErrHalfOpenFull and is an *OpenError.
//
// In the closed state Allow takes no lock and allocates nothing.
func (b *Breaker) Allow() (done func(Outcome, time.Duration), err error) {
	e := b.cur.Load()
	if e.done != nil { // Closed or Disabled
		return e.done, nil
	}
	if e.state == Open && !b.mayBeDue(e) {
		b.counts.reject()
		return nil, e.err
	}
	return b.allowSlow(e)
}

// mayBeDue reports whether open epoch e may have reached openUntil. On a
// clock with timers it reads e's timer flag, not the clock; allowSlow
// then checks the time.
func (b *Breaker) mayBeDue(e *epoch) bool {
	if b.timers != nil {
		return e.due.Load()
	}
	return b.nanotime() >= e.openUntil
}

// Values of Breaker.seqLive.
const (
	seqStale  = iota // read the clock for the bucket
	seqArming        // one caller is arming the bucket's timer
	seqLive          // counts.curSeq is current until the timer fires
)

// seqNow returns the current window bucket. On a clock with timers it
// reads the clock once per bucket: a timer marks the bucket's end, and
// until it fires the bucket is known without a clock read. A timer that
// fires late leaves a few calls in the bucket before, which the window
// tolerates. No call in a bucket means no timer for the next: an idle
// breaker does not wake up.
func (b *Breaker) seqNow() int64 {
	if b.seqLive.Load() == seqLive {
		return b.counts.curSeq.Load()
	}
	now := b.nanotime()
	seq := b.counts.seqOf(now)
	if b.timers != nil && b.seqLive.CompareAndSwap(seqStale, seqArming) {
		// Live before the timer exists, so that only its firing, never
		// this store, can follow it: one timer at a time.
		b.seqLive.Store(seqLive)
		b.timers.AfterFunc(time.Duration((seq+1)*b.counts.width-now), func() { b.seqLive.Store(seqStale) })
	}
	return seq
}

func (b *Breaker) allowSlow(e *epoch) (func(Outcome, time.Duration), error) {
	for {
		switch e.state {
		case Closed, Disabled:
			return e.done, nil
		case ForcedOpen:
			b.counts.reject()
			return nil, e.err
		case Open:
			now := b.nanotime()
			if now < e.openUntil {
				b.counts.reject()
				return nil, e.err
			}
			b.transition(e, HalfOpen, now, 0, fmt.Sprintf("open timeout %s elapsed", time.Duration(now-e.since).Round(time.Millisecond)))
		case HalfOpen:
			now := b.nanotime()
			for i := range e.slots {
				v := e.slots[i].Load()
				if (v == 0 || now-v >= int64(b.s.HalfOpenMaxWait)) && e.slots[i].CompareAndSwap(v, now) {
					var release func()
					if b.s.TrialGate != nil {
						r, ok := b.s.TrialGate(b.s.Name)
						if !ok {
							e.slots[i].CompareAndSwap(now, 0)
							break // another process holds the shared trials
						}
						release = r
					}
					return b.trialDone(e, i, now, release), nil
				}
			}
			b.counts.reject()
			return nil, e.fullErr
		}
		e = b.cur.Load()
	}
}

// trialDone builds the done function of one half-open trial permit.
func (b *Breaker) trialDone(e *epoch, slot int, issued int64, release func()) func(Outcome, time.Duration) {
	var reported atomic.Bool
	return func(o Outcome, d time.Duration) {
		if !reported.CompareAndSwap(false, true) {
			return
		}
		if release != nil {
			release()
		}
		now := b.nanotime()
		slow := b.record(now, o, d)
		e.slots[slot].CompareAndSwap(issued, 0)
		if b.cur.Load() != e {
			return
		}
		switch o {
		case Success:
			if n := e.trialOK.Add(1); n >= int64(b.s.SuccessThreshold) {
				b.transition(e, Closed, now, 0, fmt.Sprintf("%d trial calls succeeded", n))
			}
		case Failure:
			reason := "trial call failed"
			if slow {
				reason = "trial call was slow and failed"
			}
			b.trip(e, now, b.withCause(reason))
		}
	}
}

// NoteFailure records why the call about to be reported as a Failure
// failed: kind is a short class from a small fixed set ("http_503",
// "timeout", "connection"), fit for a metric label; cause says it in words
// ("503 Service Unavailable: overloaded"). Snapshot, and the reason of a
// trip the failure causes, name them. Call it before the call's done
// function; neither may hold a secret. It costs an allocation, so it is
// for failures, not every call.
func (b *Breaker) NoteFailure(kind, cause string) {
	if cause != "" || kind != "" {
		b.lastCause.Store(&failureNote{kind: kind, cause: cause})
	}
}

// failureNote is what NoteFailure records.
type failureNote struct{ kind, cause string }

// LastFailureCause returns the kind and cause NoteFailure last recorded,
// or "".
func (b *Breaker) LastFailureCause() (kind, cause string) {
	if n := b.lastCause.Load(); n != nil {
		return n.kind, n.cause
	}
	return "", ""
}

// withCause appends the last failure's cause, if one was noted, to a trip
// reason: "5 consecutive failures; last: 503 Service Unavailable".
func (b *Breaker) withCause(reason string) string {
	if _, c := b.LastFailureCause(); c != "" {
		return reason + "; last: " + c
	}
	return reason
}

// isSlow reports whether a call of outcome o that took d counts as slow.
func (b *Breaker) isSlow(o Outcome, d time.Duration) bool {
	return b.s.SlowCallDuration > 0 && d >= b.s.SlowCallDuration && o != Ignored
}

// record tallies a finished call and reports whether it was slow.
func (b *Breaker) record(now int64, o Outcome, d time.Duration) bool {
	slow := b.isSlow(o, d)
	b.counts.record(b.counts.seqOf(now), o, slow)
	if o == Failure {
		b.lastFail.Store(now)
	}
	return slow
}

func (b *Breaker) reportClosed(e *epoch, o Outcome, d time.Duration) {
	if o == Success && !b.isSlow(o, d) {
		// The hot path, which needs the time only to the bucket.
		b.counts.record(b.seqNow(), Success, false)
		if e.ring != nil {
			e.ring.add(Success, false)
		}
		if e.consec.Load() != 0 {
			e.consec.Store(0)
		}
		return
	}
	now := b.nanotime()
	slow := b.record(now, o, d)
	if o == Ignored {
		return
	}
	if e.ring != nil {
		e.ring.add(o, slow)
	}
	if o == Success {
		if e.consec.Load() != 0 {
			e.consec.Store(0)
		}
		if slow && b.s.SlowCallRateThreshold > 0 {
			b.checkRates(e, now)
		}
		return
	}
	n := e.consec.Add(1)
	if thr := b.failureThreshold(now); thr > 0 && n >= int64(thr) {
		b.trip(e, now, b.withCause(fmt.Sprintf("%d consecutive failures", n)))
		return
	}
	if b.s.FailureRateThreshold > 0 || b.s.WindowFailures > 0 || (slow && b.s.SlowCallRateThreshold > 0) {
		b.checkRates(e, now)
	}
}

// windowStats returns the calls, failures and slow calls that the rate
// conditions of epoch e look at.
func (b *Breaker) windowStats(e *epoch, now int64) (calls, fails, slow uint64) {
	if e.ring != nil {
		return e.ring.stats()
	}
	return b.counts.window(now, b.counts.n, e.startSeq)
}

func (b *Breaker) windowDesc() string {
	if b.s.WindowCalls > 0 {
		return "the last " + strconv.Itoa(b.s.WindowCalls) + " calls"
	}
	return b.s.Window.String()
}

// checkRates trips the breaker when the window's failures, failure rate or
// slow-call rate reach their thresholds.
func (b *Breaker) checkRates(e *epoch, now int64) {
	calls, fails, slow := b.windowStats(e, now)
	if n := b.s.WindowFailures; n > 0 && fails >= uint64(n) {
		b.trip(e, now, b.withCause(fmt.Sprintf("%d failures in %s", fails, b.windowDesc())))
		return
	}
	if calls == 0 || calls < uint64(b.s.MinimumCalls) {
		return
	}
	if thr := b.s.FailureRateThreshold; thr > 0 {
		if r := float64(fails) / float64(calls); r >= thr {
			b.trip(e, now, b.withCause(fmt.Sprintf("failure rate %.0f%% >= %.0f%% over %d calls in %s", r*100, thr*100, calls, b.windowDesc())))
			return
		}
	}
	if thr := b.s.SlowCallRateThreshold; thr > 0 {
		if r := float64(slow) / float64(calls); r >= thr {
			b.trip(e, now, fmt.Sprintf("slow-call rate %.0f%% >= %.0f%% (calls >= %s) over %d calls in %s", r*100, thr*100, b.s.SlowCallDuration, calls, b.windowDesc()))
		}
	}
}

// tier returns the adaptive tier in force, or nil.
func (b *Breaker) tier(now int64) *Tier {
	if len(b.s.Adaptive) == 0 {
		return nil
	}
	perMin := b.requestsPerMinute(now)
	var best *Tier
	for i := range b.s.Adaptive {
		t := &b.s.Adaptive[i]
		if perMin >= t.MinRequestsPerMinute && (best == nil || t.MinRequestsPerMinute > best.MinRequestsPerMinute) {
			best = t
		}
	}
	return best
}

// requestsPerMinute is the call rate over the last minute (or the whole
// window when it is shorter, scaled to a minute).
func (b *Breaker) requestsPerMinute(now int64) float64 {
	n := int64(time.Minute) / b.counts.width
	if n > b.counts.n {
		n = b.counts.n
	}
	if n < 1 {
		n = 1
	}
	calls, _, _ := b.counts.window(now, n, 0)
	return float64(calls) * float64(time.Minute) / float64(n*b.counts.width)
}

func (b *Breaker) failureThreshold(now int64) int {
	if t := b.tier(now); t != nil && t.ConsecutiveFailures != 0 {
		return t.ConsecutiveFailures
	}
	return b.s.ConsecutiveFailures
}

// openTimeout is the timeout for the trips-th open in a row.
func (b *Breaker) openTimeout(now int64, trips int) time.Duration {
	d := b.s.OpenTimeout
	if t := b.tier(now); t != nil && t.OpenTimeout > 0 {
		d = t.OpenTimeout
	}
	if b.s.MaxOpenTimeout > d {
		for i := 1; i < trips && d < b.s.MaxOpenTimeout; i++ {
			d *= 2
		}
		d = min(d, b.s.MaxOpenTimeout)
	}
	return d
}

// trip opens the breaker from epoch e.
func (b *Breaker) trip(e *epoch, now int64, reason string) bool {
	trips := e.trips + 1
	return b.transitionTrips(e, Open, now, now+int64(b.openTimeout(now, trips)), trips, reason, false)
}

func (b *Breaker) transition(from *epoch, to State, now, openUntil int64, reason string) bool {
	return b.transitionTrips(from, to, now, openUntil, from.trips, reason, false)
}

// transitionTrips swaps epoch from for a new one in state to. It reports
// false, doing nothing, when another caller moved the breaker first.
func (b *Breaker) transitionTrips(from *epoch, to State, now, openUntil int64, trips int, reason string, remote bool) bool {
	next := b.newEpoch(from, to, now, openUntil, reason)
	next.trips = trips
	if to == Closed {
		next.trips = 0
	}
	// Everything about next is settled before the swap publishes it:
	// another goroutine may start its own transition from next at once.
	counts := b.counts.totals()
	// An outage lasts from the first open until the breaker closes again,
	// through any half-open trials and re-opens in between.
	next.openedAt, next.rejectedAtOpen = from.openedAt, from.rejectedAtOpen
	switch {
	case (to == Open || to == ForcedOpen) && from.openedAt == 0:
		next.openedAt, next.rejectedAtOpen = now, counts.Rejected
	case to == Closed || to == Disabled:
		next.openedAt, next.rejectedAtOpen = 0, 0
	}
	if !b.cur.CompareAndSwap(from, next) {
		return false
	}
	t := Transition{
		Breaker: b.s.Name,
		Labels:  b.s.Labels,
		From:    from.state,
		To:      to,
		At:      time.Unix(0, now),
		Reason:  reason,
		Counts:  counts,
		Seq:     next.gen,
		Remote:  remote,
	}
	if from.state == Closed {
		t.Window = b.windowOf(from, now)
	}
	if to == Open {
		t.OpenUntil = time.Unix(0, openUntil)
	}
	if from.openedAt != 0 {
		t.OpenedAt = time.Unix(0, from.openedAt)
		t.RejectedWhileOpen = counts.Rejected - from.rejectedAtOpen
	}
	b.events.emit(t)
	return true
}
