// Package breaker is a lock-free circuit breaker, bulkhead, rate limit and
// breaker registry. It depends on the standard library only.
//
// A Breaker moves between three states. Closed lets every call through and
// watches the outcomes. When an enabled trip condition fires (consecutive
// failures, failures within a sliding window, failure rate over it,
// slow-call rate) it opens:
// calls fail fast with an error matching ErrOpen. After the open timeout the
// next call moves it to half-open, where at most Settings.HalfOpenMaxCalls
// trial calls run at once; enough trial successes close it again and any
// trial failure re-opens it. Two admin overrides, forced-open and disabled,
// pin the state until Enable or ForceClose.
//
// The call path takes no lock, executes no locked instruction and
// allocates nothing: state is an immutable epoch behind an atomic pointer,
// and each processor counts into a stripe of its own. Time comes from a
// Clock, the system clock by default. On it (and on a ManualClock) timers
// stand in for most clock reads: a successful call reads the clock once
// per window bucket, an open breaker rejects without reading it, and an
// idle breaker arms no timer. A CoarseClock shared between many breakers
// is read instead on every call, at the cost of a tick every millisecond
// while in use.
//
// Use Execute or Do for a call whose outcome is its error. Use Allow when the
// outcome is known later, for example after a stream's first token.
//
// Bulkhead bounds calls in flight and RateLimit bounds calls or tokens per
// period; both are independent of Breaker, and a caller refused by either
// should not count that as the dependency's failure.
package breaker
