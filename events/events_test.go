package events

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/breakerd/breakerd/breaker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A subscriber's queue costs a pointer a slot, not an event: the garbage
// collector scans every slot of a queue in each cycle, queued or not.
func TestQueueCostsAPointerASlot(t *testing.T) {
	b := NewBus()
	defer b.Close(context.Background())
	const size = 8192
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.Subscribe("big", size, SubscriberFunc(func(Event) {}))
	runtime.ReadMemStats(&after)
	if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(size*16); got > limit {
		t.Fatalf("a queue of %d took %d bytes, more than %d", size, got, limit)
	}
}

func TestEverySubscriberGetsEveryEventInOrder(t *testing.T) {
	b := NewBus()
	var mu sync.Mutex
	got := map[string][]uint64{}
	for _, name := range []string{"metrics", "logs"} {
		b.Subscribe(name, 1000, SubscriberFunc(func(e Event) {
			mu.Lock()
			got[name] = append(got[name], e.Transition.Seq)
			mu.Unlock()
		}))
	}
	for i := uint64(1); i <= 500; i++ {
		b.Publish(TransitionEvent(breaker.Transition{Breaker: "x", Seq: i}))
	}
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, seqs := range got {
		if len(seqs) != 500 {
			t.Fatalf("%s got %d events", name, len(seqs))
		}
		for i, s := range seqs {
			if s != uint64(i+1) {
				t.Fatalf("%s: event %d has seq %d", name, i, s)
			}
		}
	}
}

func TestBlockedSubscriberLosesEventsAndBlocksNobody(t *testing.T) {
	b := NewBus()
	release := make(chan struct{})
	b.Subscribe("stuck", 4, SubscriberFunc(func(Event) { <-release }))
	fast := make(chan Event, 100)
	b.Subscribe("fast", 100, SubscriberFunc(func(e Event) { fast <- e }))
	done := make(chan struct{})
	go func() {
		for i := 0; i < 50; i++ {
			b.Publish(Event{Kind: Retry, Deployment: fmt.Sprint(i)})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked on a stuck subscriber")
	}
	var stuck Stat
	for _, s := range b.Stats() {
		if s.Name == "stuck" {
			stuck = s
		}
	}
	// The stuck one holds one event in hand and 4 queued; the rest drop.
	if stuck.Dropped < 45 || stuck.Dropped > 46 {
		t.Fatalf("stuck subscriber stats %+v", stuck)
	}
	for i := 0; i < 50; i++ {
		if e := <-fast; e.Deployment != fmt.Sprint(i) {
			t.Fatalf("fast subscriber got %q at %d", e.Deployment, i)
		}
	}
	close(release)
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestCloseHonoursItsDeadline(t *testing.T) {
	b := NewBus()
	release := make(chan struct{})
	b.Subscribe("slow", 10, SubscriberFunc(func(Event) { <-release }))
	b.Publish(Event{Kind: Retry})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Close(ctx); err == nil {
		t.Fatal("Close waited for a stuck subscriber past its deadline")
	}
	close(release)
	_ = b.Close(context.Background())
	b.Publish(Event{Kind: Retry}) // after Close: dropped silently, no panic
}

func TestPanickingSubscriberKeepsRunning(t *testing.T) {
	b := NewBus()
	seen := make(chan string, 2)
	b.Subscribe("p", 10, SubscriberFunc(func(e Event) {
		if e.Deployment == "bad" {
			panic("bug")
		}
		seen <- e.Deployment
	}))
	b.Publish(Event{Deployment: "bad"})
	b.Publish(Event{Deployment: "good"})
	_ = b.Close(context.Background())
	if got := <-seen; got != "good" {
		t.Fatalf("got %q", got)
	}
}

func TestFlushWaitsForQueuedEvents(t *testing.T) {
	b := NewBus()
	release := make(chan struct{})
	var mu sync.Mutex
	n := 0
	b.Subscribe("s", 10, SubscriberFunc(func(Event) {
		<-release
		mu.Lock()
		n++
		mu.Unlock()
	}))
	for i := 0; i < 3; i++ {
		b.Publish(Event{})
	}
	flushed := make(chan error)
	go func() { flushed <- b.Flush(context.Background()) }()
	select {
	case <-flushed:
		t.Fatal("Flush returned with events still queued")
	default:
	}
	close(release)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if n != 3 {
		t.Fatalf("handled %d after Flush", n)
	}
	_ = b.Close(context.Background())
}
