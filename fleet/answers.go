package fleet

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/breakerd/breakerd/breaker"
)

// Answers keeps the response cache's answers (gateway.AnswerStore) in a
// Redis of their own (LiteLLM's cache_params host), apart from the
// fleet's shared state. A Redis that cannot be reached only means no
// answer is found or kept there: the first failure after a success is
// logged, the rest counted, and it is not asked again for a while (a
// second, doubling to half a minute), so that its outage costs requests
// no wait.
type Answers struct {
	rdb     redis.UniversalClient
	ns      string
	timeout time.Duration
	log     *slog.Logger
	down    atomic.Bool
	errors  atomic.Uint64
	// retryAt is when Redis is asked again after a failure (Unix ns), and
	// backoff the wait after the next one.
	retryAt, backoff atomic.Int64
	clock            breaker.Clock
}

// Backoffs after failures of the answers' Redis.
const (
	answersFirstBackoff = time.Second
	answersMaxBackoff   = 30 * time.Second
)

// NewAnswers returns answers kept in rdb under namespace ns ("ns:answer:
// key"), each round trip bounded by timeout (100ms when 0), the waits
// after failures on clock (the system's when nil); log may be nil.
func NewAnswers(rdb redis.UniversalClient, ns string, timeout time.Duration, clock breaker.Clock, log *slog.Logger) *Answers {
	if clock == nil {
		clock = breaker.SystemClock()
	}
	if timeout <= 0 {
		timeout = 100 * time.Millisecond
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Answers{rdb: rdb, ns: ns, timeout: timeout, log: log, clock: clock}
}

// resting reports whether Redis is not to be asked now, after a failure.
func (a *Answers) resting() bool { return a.clock.Now().UnixNano() < a.retryAt.Load() }

// Answer returns the answer kept under key; ok is false when none is, or
// Redis cannot be reached.
func (a *Answers) Answer(key string) ([]byte, bool) {
	if a.resting() {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	b, err := getAnswer(ctx, a.rdb, a.ns, key)
	if err != nil {
		a.failed(err)
		return nil, false
	}
	a.up()
	return b, b != nil
}

// SetAnswer keeps value under key for ttl.
func (a *Answers) SetAnswer(key string, value []byte, ttl time.Duration) {
	if a.resting() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	if err := setAnswer(ctx, a.rdb, a.ns, key, value, ttl); err != nil {
		a.failed(err)
		return
	}
	a.up()
}

// up records a round trip that worked.
func (a *Answers) up() {
	if a.down.Swap(false) {
		a.backoff.Store(0)
	}
}

// Errors counts the round trips that failed.
func (a *Answers) Errors() uint64 { return a.errors.Load() }

func (a *Answers) failed(err error) {
	a.errors.Add(1)
	if !a.down.Swap(true) {
		a.log.Warn("response cache's Redis unreachable: answers only in memory", "error", err.Error())
	}
	wait := time.Duration(a.backoff.Load())
	wait = min(max(wait*2, answersFirstBackoff), answersMaxBackoff)
	a.backoff.Store(int64(wait))
	a.retryAt.Store(a.clock.Now().Add(wait).UnixNano())
}

// getAnswer reads the answer under key in namespace ns: nil, and no
// error, when there is none.
func getAnswer(ctx context.Context, rdb redis.UniversalClient, ns, key string) ([]byte, error) {
	b, err := rdb.Get(ctx, ns+":answer:"+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	return b, err
}

// setAnswer keeps value under key in namespace ns for ttl.
func setAnswer(ctx context.Context, rdb redis.UniversalClient, ns, key string, value []byte, ttl time.Duration) error {
	return rdb.Set(ctx, ns+":answer:"+key, value, ttl).Err()
}
