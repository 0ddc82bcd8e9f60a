package fleet

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Answers keeps the response cache's answers (gateway.AnswerStore) in a
// Redis of their own (LiteLLM's cache_params host), apart from the
// fleet's shared state. A Redis that cannot be reached only means no
// answer is found or kept there: the first failure after a success is
// logged, the rest counted.
type Answers struct {
	rdb     redis.UniversalClient
	ns      string
	timeout time.Duration
	log     *slog.Logger
	down    atomic.Bool
	errors  atomic.Uint64
}

// NewAnswers returns answers kept in rdb under namespace ns ("ns:answer:
// key"), each round trip bounded by timeout (100ms when 0); log may be
// nil.
func NewAnswers(rdb redis.UniversalClient, ns string, timeout time.Duration, log *slog.Logger) *Answers {
	if timeout <= 0 {
		timeout = 100 * time.Millisecond
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Answers{rdb: rdb, ns: ns, timeout: timeout, log: log}
}

// Answer returns the answer kept under key; ok is false when none is, or
// Redis cannot be reached.
func (a *Answers) Answer(key string) ([]byte, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	b, err := getAnswer(ctx, a.rdb, a.ns, key)
	if err != nil {
		a.failed(err)
		return nil, false
	}
	a.down.Store(false)
	return b, b != nil
}

// SetAnswer keeps value under key for ttl.
func (a *Answers) SetAnswer(key string, value []byte, ttl time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	if err := setAnswer(ctx, a.rdb, a.ns, key, value, ttl); err != nil {
		a.failed(err)
		return
	}
	a.down.Store(false)
}

// Errors counts the round trips that failed.
func (a *Answers) Errors() uint64 { return a.errors.Load() }

func (a *Answers) failed(err error) {
	a.errors.Add(1)
	if !a.down.Swap(true) {
		a.log.Warn("response cache's Redis unreachable: answers only in memory", "error", err.Error())
	}
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
