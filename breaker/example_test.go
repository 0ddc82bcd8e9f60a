package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/breakerd/breakerd/breaker"
)

// The seed guide's story: five failures open the breaker, later calls fail
// fast without reaching the provider, and 30 seconds later trial calls
// close it again.
func Example() {
	clock := breaker.NewManualClock(time.Date(2026, 1, 26, 9, 0, 0, 0, time.UTC))
	b := breaker.New(breaker.Settings{
		Name:                "openai",
		ConsecutiveFailures: 5,                // pybreaker fail_max
		OpenTimeout:         30 * time.Second, // reset_timeout
		SuccessThreshold:    2,
		Clock:               clock,
	})
	b.AddListener(func(t breaker.Transition) {
		fmt.Printf("%s: %s -> %s (%s)\n", t.Breaker, t.From, t.To, t.Reason)
	})

	providerUp := false
	calls := 0
	chat := func(ctx context.Context) error {
		calls++
		if !providerUp {
			return errors.New("500 internal server error")
		}
		return nil
	}

	for i := 1; i <= 6; i++ {
		err := b.Execute(context.Background(), chat)
		b.WaitListeners()
		fmt.Printf("call %d: fast-failed=%v\n", i, errors.Is(err, breaker.ErrOpen))
	}
	fmt.Println("provider calls so far:", calls)

	providerUp = true
	clock.Advance(30 * time.Second)
	for i := 0; i < 2; i++ {
		_ = b.Execute(context.Background(), chat)
	}
	b.WaitListeners()
	fmt.Println("state:", b.State())

	// Output:
	// call 1: fast-failed=false
	// call 2: fast-failed=false
	// call 3: fast-failed=false
	// call 4: fast-failed=false
	// openai: closed -> open (5 consecutive failures)
	// call 5: fast-failed=false
	// call 6: fast-failed=true
	// provider calls so far: 5
	// openai: open -> half_open (open timeout 30s elapsed)
	// openai: half_open -> closed (2 trial calls succeeded)
	// state: closed
}

// Allow suits calls whose outcome is known later, such as a stream that
// succeeds once its first token arrives.
func ExampleBreaker_Allow() {
	b := breaker.New(breaker.Settings{Name: "anthropic:chat"})
	done, err := b.Allow()
	if err != nil {
		fmt.Println("rejected:", err)
		return
	}
	// ... start the stream, wait for the first token ...
	done(breaker.Success, 420*time.Millisecond)
	fmt.Println(b.Counts().Successes)
	// Output: 1
}

func ExampleBulkhead() {
	bh := breaker.NewBulkhead(breaker.BulkheadSettings{MaxConcurrent: 10, MaxQueue: 100, MaxWait: 5 * time.Second})
	err := bh.Execute(context.Background(), func(ctx context.Context) error { return nil })
	fmt.Println(err, bh.InFlight())
	// Output: <nil> 0
}
