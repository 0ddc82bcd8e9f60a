// Command idle measures what breakers on the default clock cost while
// nothing calls them: goroutines, and the process's CPU time over an idle
// spell, after each breaker has taken calls (arming its window-bucket
// timer) and half of them have opened (arming their open-timeout timers).
//
//	cd bench/compare && go run ./idle -breakers 1000 -idle 60s
package main

import (
	"flag"
	"fmt"
	"runtime"
	"syscall"
	"time"

	"github.com/breakerd/breakerd/breaker"
)

func main() {
	n := flag.Int("breakers", 1000, "breakers to create")
	idle := flag.Duration("idle", time.Minute, "how long to stay idle")
	flag.Parse()

	before := runtime.NumGoroutine()
	bs := make([]*breaker.Breaker, *n)
	for i := range bs {
		bs[i] = breaker.New(breaker.Settings{Name: fmt.Sprint("b", i), FailureRateThreshold: 0.5})
		for range 100 {
			done, _ := bs[i].Allow()
			done(breaker.Success, 0)
		}
		if i%2 == 1 {
			bs[i].OpenUntil(time.Now().Add(*idle/2), "idle test")
		}
	}
	runtime.GC()
	// The first phase holds each breaker's one bucket timer and the open
	// breakers' timeouts; the second should hold nothing at all.
	first := *idle/2 + 2*time.Second
	cpu0 := cpuTime()
	time.Sleep(first)
	cpu1 := cpuTime()
	time.Sleep(*idle - first)
	cpu2 := cpuTime()
	fmt.Printf("breakers %d (half open until %s), goroutines before %d, after %d\n", *n, *idle/2, before, runtime.NumGoroutine())
	fmt.Printf("idle %s: process CPU %s (timers due in it: %d bucket ends, %d open timeouts)\n", first, cpu1-cpu0, *n, *n/2)
	fmt.Printf("idle %s after that: process CPU %s\n", *idle-first, cpu2-cpu1)
	runtime.KeepAlive(bs)
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
