package breaker

import (
	"sync"
	"time"
)

// Transition describes one state change. Listeners receive it, and
// Snapshot keeps the latest ones. An open breaker whose open time is
// extended (OpenUntil, for a provider's Retry-After) also emits one, from
// Open to Open, so that shared state sees the new time; Extends reports
// it, and counters of state changes leave it out.
type Transition struct {
	Breaker string            `json:"breaker"`
	Labels  map[string]string `json:"labels,omitempty"`
	From    State             `json:"from"`
	To      State             `json:"to"`
	At      time.Time         `json:"at"`
	// Reason says why, e.g. "5 consecutive failures" or
	// "failure rate 62% >= 50% over 40 calls in 1m0s".
	Reason string `json:"reason"`
	// Counts are the breaker's totals at the transition.
	Counts Counts `json:"counts"`
	// Window is the closed-state window that was being judged; it is
	// zero for transitions that leave any other state.
	Window WindowStats `json:"window"`
	// OpenUntil is when trials may start, for transitions to Open.
	OpenUntil time.Time `json:"open_until,omitzero"`
	// OpenedAt is when the outage that this transition continues or ends
	// began; zero when the breaker was closed or disabled before.
	OpenedAt time.Time `json:"opened_at,omitzero"`
	// RejectedWhileOpen counts calls fast-failed since OpenedAt.
	RejectedWhileOpen uint64 `json:"rejected_while_open"`
	// Seq numbers the breaker's transitions from 1, without gaps.
	Seq uint64 `json:"seq"`
	// Remote is set on transitions applied with ApplyRemote: another
	// process made them, so code that shares state must not share them
	// again.
	Remote bool `json:"remote,omitempty"`
}

// Listener receives transitions. Listeners of one breaker run one at a
// time, in transition order, on a goroutine of their own: never on the
// caller's, so a slow listener delays other listeners but no call. A
// listener may call back into the breaker. A panicking listener is
// recovered and the next one runs.
type Listener func(Transition)

// AddListener registers l for every later transition.
func (b *Breaker) AddListener(l Listener) { b.events.add(l) }

// dispatcher delivers transitions to listeners in sequence order. It holds
// its mutex only to queue and hand over, never while a listener runs.
type dispatcher struct {
	mu        sync.Mutex
	listeners []Listener
	pending   map[uint64]Transition // arrived before their predecessor
	next      uint64
	queue     []Transition
	running   bool
	idle      *sync.Cond
	history   []Transition // ring, oldest first once full
	histNext  int
	histLen   int
}

func (d *dispatcher) init(historySize int) {
	d.next = 1
	d.pending = map[uint64]Transition{}
	d.history = make([]Transition, historySize)
	d.idle = sync.NewCond(&d.mu)
}

func (d *dispatcher) add(l Listener) {
	d.mu.Lock()
	d.listeners = append(d.listeners[:len(d.listeners):len(d.listeners)], l)
	d.mu.Unlock()
}

// emit queues t. Two callers may win consecutive transitions and arrive in
// either order, so transitions wait in pending until their turn.
func (d *dispatcher) emit(t Transition) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pending[t.Seq] = t
	for {
		nt, ok := d.pending[d.next]
		if !ok {
			break
		}
		delete(d.pending, d.next)
		d.next++
		d.history[d.histNext] = nt
		d.histNext = (d.histNext + 1) % len(d.history)
		d.histLen = min(d.histLen+1, len(d.history))
		if len(d.listeners) > 0 {
			d.queue = append(d.queue, nt)
		}
	}
	if len(d.queue) > 0 && !d.running {
		d.running = true
		go d.drain()
	}
}

// drain runs listeners until the queue is empty, then exits: there is no
// goroutine per breaker while nothing happens.
func (d *dispatcher) drain() {
	for {
		d.mu.Lock()
		batch, ls := d.queue, d.listeners
		d.queue = nil
		if len(batch) == 0 {
			d.running = false
			d.idle.Broadcast()
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		for _, t := range batch {
			for _, l := range ls {
				callListener(l, t)
			}
		}
	}
}

func callListener(l Listener, t Transition) {
	defer func() { _ = recover() }()
	l(t)
}

// wait blocks until every queued transition has been delivered.
func (d *dispatcher) wait() {
	d.mu.Lock()
	for d.running || len(d.queue) > 0 {
		d.idle.Wait()
	}
	d.mu.Unlock()
}

func (d *dispatcher) historyCopy() []Transition {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Transition, 0, d.histLen)
	start := (d.histNext - d.histLen + len(d.history)) % len(d.history)
	for i := 0; i < d.histLen; i++ {
		out = append(out, d.history[(start+i)%len(d.history)])
	}
	return out
}

// WaitListeners blocks until every transition so far has reached every
// listener. Shutdown code and tests use it; calls never need it.
func (b *Breaker) WaitListeners() { b.events.wait() }

// Extends reports whether t only moved an open breaker's OpenUntil later:
// the state did not change.
func (t Transition) Extends() bool { return t.From == Open && t.To == Open }
