// Package events is breakerd's single fan-out: breaker transitions and
// gateway events (fallback, retry, rejection) are published once and read
// by every subscriber (metrics, tracing, alerting, logs).
//
// Publishing never blocks: each subscriber has its own bounded queue and
// goroutine, and a subscriber that falls behind loses events (counted in
// Dropped) instead of slowing requests. A subscriber sees events in the
// order they were published, so each breaker's transitions stay in order.
package events

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/breakerd/breakerd/breaker"
)

// Kind says what an Event is.
type Kind string

const (
	// Transition is a breaker state change; Event.Transition is set.
	Transition Kind = "transition"
	// Fallback is a request moving to another deployment.
	Fallback Kind = "fallback"
	// Retry is a retry on the same deployment.
	Retry Kind = "retry"
	// Rejection is a deployment passed over without an upstream call.
	Rejection Kind = "rejection"
	// Budget is a budget used up: what it covers is passed over until
	// its window ends. Labels hold its scope, name, budget (as the config
	// wrote it) and until (RFC 3339); Reason says it in words.
	Budget Kind = "budget"
	// Cooldown is a provider's 429 beginning a deployment's cooldown:
	// Deployment and Operation are set, Reason is the provider's message,
	// and Labels hold the breaker's labels, its name (breaker) and until
	// (RFC 3339).
	Cooldown Kind = "cooldown"
	// Slow is an upstream call that took at least the slow-alert threshold
	// to answer (a stream, to its first chunk), or that hung that long
	// before it was cut: Deployment and Operation are set, Reason says how
	// long, and Labels hold the breaker's labels and its name (breaker).
	Slow Kind = "slow"
	// Hanging is an upstream call that has given no answer (a stream, no
	// first chunk) for the slow-alert threshold, and is still waiting:
	// fields as Slow's.
	Hanging Kind = "hanging"
)

// Event is one published event. Which fields are set depends on Kind.
type Event struct {
	Kind       Kind
	At         time.Time
	Transition breaker.Transition
	// Group is the requested model group (Fallback).
	Group string
	// Deployment is the deployment concerned (Retry, Rejection, and the
	// one left behind for Fallback); To is the next one (Fallback).
	Deployment string
	To         string
	Operation  string
	// Reason: "open", "failure", "bulkhead_full", "rate_limited", or
	// (Fallback only) "context_window" or "content_policy".
	Reason string
	// Labels are the deployment's labels (provider, model, ...).
	Labels map[string]string
}

// Subscriber handles events on its own goroutine.
type Subscriber interface {
	Handle(Event)
}

// SubscriberFunc adapts a function to Subscriber.
type SubscriberFunc func(Event)

// Handle calls f.
func (f SubscriberFunc) Handle(e Event) { f(e) }

// Bus fans events out to subscribers. The zero value is not usable; call
// NewBus.
type Bus struct {
	mu     sync.RWMutex
	subs   []*sub
	closed bool
}

type sub struct {
	name string
	// ch holds pointers, shared by every queue an event is in: a queue of
	// events by value would be thousands of slots of a few hundred bytes
	// with pointers in them, which the garbage collector scans in every
	// cycle, queued events or not (4 MB for the daemon's queues, more
	// than the rest of its heap).
	ch       chan *Event
	h        Subscriber
	dropped  atomic.Uint64
	accepted atomic.Uint64
	done     chan struct{}

	mu      sync.Mutex
	handled uint64
	// progress is closed and replaced after each handled event.
	progress chan struct{}
}

// NewBus returns a bus with no subscribers.
func NewBus() *Bus { return &Bus{} }

// Subscribe adds a subscriber with a queue of size events (at least 1).
// name identifies it in Stats.
func (b *Bus) Subscribe(name string, size int, h Subscriber) {
	s := &sub{name: name, ch: make(chan *Event, max(size, 1)), h: h, done: make(chan struct{}), progress: make(chan struct{})}
	b.mu.Lock()
	b.subs = append(b.subs, s)
	b.mu.Unlock()
	go s.run()
}

func (s *sub) run() {
	defer close(s.done)
	for e := range s.ch {
		func() {
			defer func() { _ = recover() }() // one bad event must not stop the subscriber
			s.h.Handle(*e)
		}()
		s.mu.Lock()
		s.handled++
		close(s.progress)
		s.progress = make(chan struct{})
		s.mu.Unlock()
	}
}

// Flush waits until every subscriber has handled every event it accepted
// before the call, or ctx ends.
func (b *Bus) Flush(ctx context.Context) error {
	b.mu.RLock()
	subs := b.subs
	b.mu.RUnlock()
	for _, s := range subs {
		target := s.accepted.Load()
		for {
			s.mu.Lock()
			handled, progress := s.handled, s.progress
			s.mu.Unlock()
			if handled >= target {
				break
			}
			select {
			case <-progress:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// Publish hands e to every subscriber without waiting. A subscriber whose
// queue is full loses e.
func (b *Bus) Publish(e Event) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return
	}
	p := &e
	for _, s := range b.subs {
		select {
		case s.ch <- p:
			s.accepted.Add(1)
		default:
			s.dropped.Add(1)
		}
	}
}

// Stat describes one subscriber.
type Stat struct {
	Name    string
	Queued  int
	Handled uint64
	Dropped uint64
}

// Stats returns each subscriber's queue depth and counters.
func (b *Bus) Stats() []Stat {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]Stat, len(b.subs))
	for i, s := range b.subs {
		s.mu.Lock()
		handled := s.handled
		s.mu.Unlock()
		out[i] = Stat{Name: s.name, Queued: len(s.ch), Handled: handled, Dropped: s.dropped.Load()}
	}
	return out
}

// Close stops accepting events and waits until every subscriber has
// handled its queue, or ctx ends.
func (b *Bus) Close(ctx context.Context) error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		for _, s := range b.subs {
			close(s.ch)
		}
	}
	subs := b.subs
	b.mu.Unlock()
	for _, s := range subs {
		select {
		case <-s.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// TransitionEvent wraps a breaker transition.
func TransitionEvent(t breaker.Transition) Event {
	return Event{Kind: Transition, At: t.At, Transition: t, Labels: t.Labels}
}
