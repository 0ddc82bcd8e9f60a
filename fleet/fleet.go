// Package fleet shares breaker state between breakerd replicas through
// Redis, without putting Redis on the request path:
//
//   - a replica that opens (or an admin that forces) a breaker writes the
//     state to a key with a TTL and publishes it; the others apply it with
//     the same open-until time, and a replica that starts or reconnects
//     late reads the keys;
//   - half-open trials take a fleet-wide permit from a counter with a TTL,
//     so a crashed replica's permit expires;
//   - every flush interval each replica adds its new outcomes to shared
//     time buckets and reads the fleet's totals in one pipelined round
//     trip, and trips its breaker on the fleet's failure rate;
//   - every flush interval each replica also adds what it used of each
//     deployment's rpm and tpm limit to a shared counter, and charges its
//     own limit with what the others used since its last flush;
//   - when Redis is down or slow, every replica keeps serving on its local
//     state, logs once, reports breakerd_state_backend_up 0, retries with
//     backoff and re-syncs when Redis is back.
//
// No lock is ever held across an upstream call.
package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/breakerd/breakerd/breaker"
)

// windowBuckets is how many shared buckets make up a breaker's window.
const windowBuckets = 10

// resyncInterval is how often shared states are re-read.
const resyncInterval = 2 * time.Second

// Options configure a Fleet.
type Options struct {
	Client    redis.UniversalClient
	Namespace string
	Registry  *breaker.Registry
	Clock     breaker.Clock
	Logger    *slog.Logger
	// FlushInterval is how often outcomes are shared (default 200ms).
	FlushInterval time.Duration
	// OpTimeout bounds each Redis round trip (default 100ms).
	OpTimeout time.Duration
	// RateLimits are the limits the replicas share, by a name that is
	// the same on every replica (such as "DEPLOYMENT:rpm").
	RateLimits map[string]*breaker.RateLimit
	// Budgets are the spend limits the replicas share, by a name that is
	// the same on every replica (such as "provider:openai").
	Budgets map[string]Budget
}

// Budget is a spend limit the replicas share (gateway.Budget): each adds
// what it spent to the fleet's window, and takes the fleet's total back.
type Budget interface {
	// Local returns the USD this replica has spent, ever.
	Local() float64
	// WindowEnd returns the end of the window a spend at now falls in.
	WindowEnd(now time.Time) time.Time
	// Share takes the fleet's window (its end, zero when none is open)
	// and what the replicas spent in it, as of a Local of local.
	Share(ends time.Time, spent, local float64)
}

// Fleet is one replica's link to the shared state.
type Fleet struct {
	rdb     redis.UniversalClient
	ns      string
	reg     *breaker.Registry
	clock   breaker.Clock
	log     *slog.Logger
	flush   time.Duration
	timeout time.Duration
	id      string

	limits map[string]*breaker.RateLimit
	// budgets are shared budgets, and spentSent each one's Local as last
	// shared.
	budgets   map[string]Budget
	spentSent map[string]float64
	// flushing serializes Flush, so that no usage is shared twice.
	flushing sync.Mutex
	// sent is each limit's Used as last shared; seen is the shared total
	// last read, missing until the first flush after a start or an outage.
	sent, seen map[string]float64

	up      atomic.Bool
	errors  atomic.Uint64
	mu      sync.Mutex
	last    map[string]breaker.Counts // counts already shared, per breaker
	retryAt time.Time                 // next reconnect attempt while down (wall clock)
	backoff time.Duration
	synced  time.Time // last resync, by the wall clock
	// changes is closed and replaced whenever Up changes.
	changes chan struct{}

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a Fleet; call Start to begin sharing.
func New(opts Options) *Fleet {
	if opts.Clock == nil {
		opts.Clock = breaker.SystemClock()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	ctx, cancel := context.WithCancel(context.Background())
	f := &Fleet{rdb: opts.Client, ns: opts.Namespace, reg: opts.Registry, clock: opts.Clock, log: opts.Logger,
		flush: opts.FlushInterval, timeout: opts.OpTimeout, id: hex.EncodeToString(b[:]),
		last: map[string]breaker.Counts{}, ctx: ctx, cancel: cancel, changes: make(chan struct{}),
		limits: opts.RateLimits, sent: map[string]float64{}, seen: map[string]float64{},
		budgets: opts.Budgets, spentSent: map[string]float64{}}
	if f.flush <= 0 {
		f.flush = 200 * time.Millisecond
	}
	if f.timeout <= 0 {
		f.timeout = 100 * time.Millisecond
	}
	if f.ns == "" {
		f.ns = "breakerd"
	}
	f.up.Store(true)
	return f
}

// Share replaces the rate limits and budgets this replica shares, as a
// config reload leaves them: one it did not share before (or a new one
// under a name it did) counts from the next flush, as at a start, and one
// no longer named is no longer shared.
func (f *Fleet) Share(limits map[string]*breaker.RateLimit, budgets map[string]Budget) {
	f.flushing.Lock()
	defer f.flushing.Unlock()
	for name := range f.limits {
		if limits[name] != f.limits[name] {
			delete(f.sent, name)
			delete(f.seen, name)
		}
	}
	for name := range f.budgets {
		if budgets[name] != f.budgets[name] {
			delete(f.spentSent, name)
		}
	}
	f.limits, f.budgets = limits, budgets
}

// onceTTL is how long the fleet remembers a First key: longer than a
// batch is kept and polled.
const onceTTL = 30 * 24 * time.Hour

// First reports whether this replica is the first in the fleet to claim
// key (a set-if-absent, remembered 30 days): for what must happen once
// in the fleet, such as charging a finished batch. With the store
// unreachable it reports true: the replica goes on alone.
func (f *Fleet) First(key string) bool { return f.setNX("once", key, onceTTL) }

// Claim reports whether this replica is the first in the fleet to claim
// key within ttl (a set-if-absent that expires): for what one replica
// does for all in a period, such as a round of health checks. With the
// store unreachable it reports true: the replica goes on alone.
func (f *Fleet) Claim(key string, ttl time.Duration) bool { return f.setNX("claim", key, ttl) }

// setNX sets the kind's key unless it is set, for ttl, and reports
// whether it did (true when Redis cannot be reached).
func (f *Fleet) setNX(kind, key string, ttl time.Duration) bool {
	ctx, cancel := f.opCtx()
	defer cancel()
	first, err := f.rdb.SetNX(ctx, f.key(kind, key), 1, ttl).Result()
	if err != nil {
		f.failed("claim", err)
		return true
	}
	return first
}

// Pin returns the deployment the fleet has pinned key to (deployment
// affinity's, gateway.PinStore), "" when none; ok is false when Redis
// cannot be reached.
func (f *Fleet) Pin(key string) (deployment string, ok bool) {
	if !f.up.Load() {
		return "", false // down: the flush loop finds when it is back; requests do not wait on it
	}
	ctx, cancel := f.opCtx()
	defer cancel()
	d, err := f.rdb.Get(ctx, f.key("pin", key)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", true
	case err != nil:
		f.failed("pin", err)
		return "", false
	}
	return d, true
}

// SetPin pins key to deployment for ttl, for the whole fleet.
func (f *Fleet) SetPin(key, deployment string, ttl time.Duration) {
	if !f.up.Load() {
		return
	}
	ctx, cancel := f.opCtx()
	defer cancel()
	if err := f.rdb.Set(ctx, f.key("pin", key), deployment, ttl).Err(); err != nil {
		f.failed("pin", err)
	}
}

// Answer returns the response cache's answer kept under key
// (gateway.AnswerStore); ok is false when none is, or Redis cannot be
// reached.
func (f *Fleet) Answer(key string) ([]byte, bool) {
	if !f.up.Load() {
		return nil, false
	}
	ctx, cancel := f.opCtx()
	defer cancel()
	b, err := getAnswer(ctx, f.rdb, f.ns, key)
	if err != nil {
		f.failed("answer", err)
		return nil, false
	}
	return b, b != nil
}

// SetAnswer keeps a response cache's answer under key for ttl.
func (f *Fleet) SetAnswer(key string, value []byte, ttl time.Duration) {
	if !f.up.Load() {
		return
	}
	ctx, cancel := f.opCtx()
	defer cancel()
	if err := setAnswer(ctx, f.rdb, f.ns, key, value, ttl); err != nil {
		f.failed("answer", err)
	}
}

// Up reports whether the last Redis round trip worked.
func (f *Fleet) Up() bool { return f.up.Load() }

// Changes returns a channel that is closed the next time Up changes.
func (f *Fleet) Changes() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changes
}

// setUp records the backend's state, waking Changes when it flips.
func (f *Fleet) setUp(up bool) bool {
	if !f.up.CompareAndSwap(!up, up) {
		return false
	}
	f.mu.Lock()
	close(f.changes)
	f.changes = make(chan struct{})
	f.mu.Unlock()
	return true
}

func (f *Fleet) key(kind, name string) string { return f.ns + ":" + kind + ":" + name }
func (f *Fleet) channel() string              { return f.ns + ":events" }

// message is what replicas publish and store for a breaker.
type message struct {
	Breaker string `json:"breaker"`
	State   string `json:"state"`
	UntilMS int64  `json:"until_ms,omitempty"`
	Reason  string `json:"reason"`
	Replica string `json:"replica"`
	AtMS    int64  `json:"at_ms"`
}

// Start syncs from Redis, then shares this replica's transitions and
// outcomes until Close.
func (f *Fleet) Start() {
	f.resync()
	f.reg.AddListener(f.onTransition)
	f.wg.Add(2)
	go f.subscribe()
	go f.flushLoop()
}

// Close stops sharing. It does not close the Redis client.
func (f *Fleet) Close() {
	f.cancel()
	f.wg.Wait()
}

func (f *Fleet) opCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(f.ctx, f.timeout)
}

// failed records a Redis error: the first one after a success is logged,
// the rest only counted, and a reconnect is scheduled with backoff.
func (f *Fleet) failed(what string, err error) {
	f.errors.Add(1)
	if f.setUp(false) {
		f.log.Warn("state backend unreachable: serving on local breaker state", "backend", "redis", "during", what, "error", err.Error())
		f.mu.Lock()
		f.backoff = f.flush
		f.retryAt = time.Now().Add(f.backoff) // reconnects follow the wall clock
		f.mu.Unlock()
	}
}

// onTransition shares a local transition with the fleet.
func (f *Fleet) onTransition(t breaker.Transition) {
	if t.Remote || t.To == breaker.HalfOpen {
		return
	}
	if !f.up.Load() {
		return // resync shares it once Redis is back
	}
	if err := f.share(t.Breaker, t.To, t.OpenUntil, t.Reason, t.At); err != nil {
		f.failed("publish", err)
	}
}

// share writes a breaker's state key and publishes it.
func (f *Fleet) share(name string, st breaker.State, until time.Time, reason string, at time.Time) error {
	m := message{Breaker: name, State: st.String(), Reason: reason, Replica: f.id, AtMS: at.UnixMilli()}
	if st == breaker.Open {
		m.UntilMS = until.UnixMilli()
	}
	body, _ := json.Marshal(m)
	ctx, cancel := f.opCtx()
	defer cancel()
	pipe := f.rdb.Pipeline()
	switch st {
	case breaker.Closed:
		pipe.Del(ctx, f.key("state", name))
	case breaker.Open:
		pipe.Set(ctx, f.key("state", name), body, time.Until(until)+time.Minute)
	default: // forced open, disabled: until an admin changes it
		pipe.Set(ctx, f.key("state", name), body, 7*24*time.Hour)
	}
	pipe.Publish(ctx, f.channel(), body)
	_, err := pipe.Exec(ctx)
	return err
}

// apply moves a local breaker to a state another replica shared.
func (f *Fleet) apply(m message) {
	b, ok := f.reg.Lookup(m.Breaker)
	if !ok || m.Replica == f.id {
		return
	}
	reason := fmt.Sprintf("fleet: %s (replica %s)", m.Reason, m.Replica)
	var st breaker.State
	if err := st.UnmarshalText([]byte(m.State)); err != nil {
		return
	}
	b.ApplyRemote(st, time.UnixMilli(m.UntilMS), reason)
}

func (f *Fleet) subscribe() {
	defer f.wg.Done()
	ps := f.rdb.Subscribe(f.ctx, f.channel())
	defer ps.Close()
	ch := ps.Channel(redis.WithChannelHealthCheckInterval(time.Second))
	for {
		select {
		case <-f.ctx.Done():
			return
		case msg, ok := <-ch:
			if !ok {
				return
			}
			var m message
			if json.Unmarshal([]byte(msg.Payload), &m) == nil {
				f.apply(m)
			}
		}
	}
}

// resync reads every breaker's shared state and applies it; a local open
// or forced state that Redis does not know (it opened while Redis was
// down) is shared instead.
func (f *Fleet) resync() {
	all := f.reg.All()
	ctx, cancel := f.opCtx()
	defer cancel()
	pipe := f.rdb.Pipeline()
	gets := make([]*redis.StringCmd, len(all))
	for i, b := range all {
		gets[i] = pipe.Get(ctx, f.key("state", b.Name()))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		f.failed("resync", err)
		return
	}
	for i, b := range all {
		var m message
		if data, err := gets[i].Bytes(); err == nil && json.Unmarshal(data, &m) == nil {
			if m.Replica != f.id {
				f.apply(m)
				continue
			}
		}
		snap := b.Snapshot()
		switch snap.State {
		case breaker.Open, breaker.ForcedOpen, breaker.Disabled:
			if err := f.share(b.Name(), snap.State, snap.RetryAt, snap.Reason, snap.Since); err != nil {
				f.failed("resync", err)
				return
			}
		}
	}
}

func (f *Fleet) flushLoop() {
	defer f.wg.Done()
	t := time.NewTicker(f.flush)
	defer t.Stop()
	for {
		select {
		case <-f.ctx.Done():
			return
		case <-t.C:
			f.Flush()
		}
	}
}

// Flush shares this replica's new outcomes and rate-limit usage, trips
// breakers on the fleet's failure rate and charges rate limits with the
// other replicas' usage, in one pipelined round trip. While Redis is down
// it only tries to reconnect, with backoff.
func (f *Fleet) Flush() {
	f.flushing.Lock()
	defer f.flushing.Unlock()
	now := f.clock.Now()
	if !f.up.Load() {
		wall := time.Now()
		f.mu.Lock()
		due := !wall.Before(f.retryAt)
		f.mu.Unlock()
		if !due {
			return
		}
		ctx, cancel := f.opCtx()
		err := f.rdb.Ping(ctx).Err()
		cancel()
		if err != nil {
			f.mu.Lock()
			f.backoff = min(f.backoff*2, 5*time.Second)
			f.retryAt = wall.Add(f.backoff)
			f.mu.Unlock()
			return
		}
		f.setUp(true)
		f.log.Info("state backend reachable again: re-syncing", "backend", "redis")
		f.resync()
	}
	// A periodic resync catches messages lost while a subscription was
	// reconnecting.
	if wall := time.Now(); wall.Sub(f.synced) >= resyncInterval {
		f.synced = wall
		f.resync()
	}
	type read struct {
		b    *breaker.Breaker
		cmds []*redis.MapStringStringCmd
	}
	var reads []read
	ctx, cancel := f.opCtx()
	defer cancel()
	pipe := f.rdb.Pipeline()
	for _, b := range f.reg.All() {
		s := b.Settings()
		width := s.Window / windowBuckets
		if width <= 0 {
			continue
		}
		seq := now.UnixNano() / int64(width)
		c := b.Counts()
		f.mu.Lock()
		prev := f.last[b.Name()]
		f.last[b.Name()] = c
		f.mu.Unlock()
		if ds, df, dl := c.Successes-prev.Successes, c.Failures-prev.Failures, c.Slow-prev.Slow; ds+df > 0 {
			k := f.key("win", b.Name()) + ":" + strconv.FormatInt(seq, 10)
			pipe.HIncrBy(ctx, k, "calls", int64(ds+df))
			pipe.HIncrBy(ctx, k, "failures", int64(df))
			pipe.HIncrBy(ctx, k, "slow", int64(dl))
			pipe.PExpire(ctx, k, s.Window+2*width)
		}
		if b.State() == breaker.Closed && (s.FailureRateThreshold > 0 || s.SlowCallRateThreshold > 0 || s.WindowFailures > 0) {
			r := read{b: b}
			for i := int64(0); i < windowBuckets; i++ {
				r.cmds = append(r.cmds, pipe.HGetAll(ctx, f.key("win", b.Name())+":"+strconv.FormatInt(seq-i, 10)))
			}
			reads = append(reads, r)
		}
	}
	usage := f.queueUsage(ctx, pipe)
	spends := f.queueSpend(ctx, pipe, now)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		clear(f.seen) // the others' usage meanwhile is unknown: start again from the next total
		f.failed("flush", err)
		return
	}
	f.chargeUsage(usage)
	f.shareSpend(spends)
	for _, r := range reads {
		var calls, fails, slow int64
		for _, cmd := range r.cmds {
			h := cmd.Val()
			c, _ := strconv.ParseInt(h["calls"], 10, 64)
			fl, _ := strconv.ParseInt(h["failures"], 10, 64)
			sl, _ := strconv.ParseInt(h["slow"], 10, 64)
			calls, fails, slow = calls+c, fails+fl, slow+sl
		}
		f.judge(r.b, calls, fails, slow)
	}
}

// usage is one limit's part of a flush.
type usage struct {
	name       string
	used, sent float64 // Used now, and the part of it shared by this flush
	total      *redis.FloatCmd
}

// queueUsage adds each limit's usage since the last flush to its shared
// counter. The counter only grows; it expires an hour after its last use.
func (f *Fleet) queueUsage(ctx context.Context, pipe redis.Pipeliner) []usage {
	var out []usage
	for name, l := range f.limits {
		u := usage{name: name, used: l.Used()}
		u.sent = u.used - f.sent[name]
		k := f.key("ratelimit", name)
		u.total = pipe.IncrByFloat(ctx, k, u.sent)
		pipe.Expire(ctx, k, time.Hour)
		out = append(out, u)
	}
	return out
}

// chargeUsage charges each limit with what the other replicas used: the
// growth of the shared total since the last flush, less this replica's
// part. A limit seen for the first time (after a start or an outage) only
// records the total, since how much of it is recent is unknown.
func (f *Fleet) chargeUsage(us []usage) {
	for _, u := range us {
		f.sent[u.name] = u.used
		total := u.total.Val()
		if prev, ok := f.seen[u.name]; ok {
			f.limits[u.name].AddRemote(total - prev - u.sent)
		}
		f.seen[u.name] = total
	}
}

// spendScript adds a replica's new spend (ARGV[2]) to a budget's shared
// window, opening one that ends at ARGV[3] when none is open at ARGV[1]
// (Unix milliseconds), and returns the window's end and spend: "0" and
// "0" when none is open and there is nothing to add. The window outlives
// its end by an hour, then goes (timed from ARGV[1], not Redis's clock).
var spendScript = redis.NewScript(`
local raw = redis.call('HGET', KEYS[1], 'ends')
local delta = tonumber(ARGV[2])
if tonumber(raw or '0') <= tonumber(ARGV[1]) then
  if delta <= 0 then return {'0', '0'} end
  redis.call('HSET', KEYS[1], 'ends', ARGV[3], 'spent', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) - tonumber(ARGV[1]) + 3600000)
  return {ARGV[3], ARGV[2]}
end
return {raw, redis.call('HINCRBYFLOAT', KEYS[1], 'spent', ARGV[2])}
`)

// spend is one budget's part of a flush.
type spend struct {
	name  string
	local float64 // Local when queued
	cmd   *redis.Cmd
}

// queueSpend adds each budget's spend since the last flush to its shared
// window.
func (f *Fleet) queueSpend(ctx context.Context, pipe redis.Pipeliner, now time.Time) []spend {
	var out []spend
	for name, b := range f.budgets {
		sp := spend{name: name, local: b.Local()}
		delta := sp.local - f.spentSent[name]
		sp.cmd = spendScript.Eval(ctx, pipe, []string{f.key("budget", name)}, now.UnixMilli(),
			strconv.FormatFloat(delta, 'g', -1, 64), b.WindowEnd(now).UnixMilli())
		out = append(out, sp)
	}
	return out
}

// shareSpend gives each budget the fleet's window and spend.
func (f *Fleet) shareSpend(spends []spend) {
	for _, sp := range spends {
		vals, err := sp.cmd.StringSlice()
		if err != nil || len(vals) != 2 {
			continue
		}
		ends, err1 := strconv.ParseInt(vals[0], 10, 64)
		total, err2 := strconv.ParseFloat(vals[1], 64)
		if err1 != nil || err2 != nil {
			continue
		}
		f.spentSent[sp.name] = sp.local
		var end time.Time
		if ends > 0 {
			end = time.UnixMilli(ends)
		}
		f.budgets[sp.name].Share(end, total, sp.local)
	}
}

// judge trips b when the fleet's window crosses its failure count or
// rate thresholds.
func (f *Fleet) judge(b *breaker.Breaker, calls, fails, slow int64) {
	s := b.Settings()
	if n := s.WindowFailures; n > 0 && fails >= int64(n) {
		b.Trip(fmt.Sprintf("fleet failures %d in %s", fails, s.Window))
		return
	}
	if calls == 0 || calls < int64(s.MinimumCalls) {
		return
	}
	if thr := s.FailureRateThreshold; thr > 0 {
		if r := float64(fails) / float64(calls); r >= thr {
			b.Trip(fmt.Sprintf("fleet failure rate %.0f%% >= %.0f%% over %d calls in %s", r*100, thr*100, calls, s.Window))
			return
		}
	}
	if thr := s.SlowCallRateThreshold; thr > 0 {
		if r := float64(slow) / float64(calls); r >= thr {
			b.Trip(fmt.Sprintf("fleet slow-call rate %.0f%% >= %.0f%% over %d calls in %s", r*100, thr*100, calls, s.Window))
		}
	}
}

// TrialGate admits a half-open trial only while fewer than the breaker's
// HalfOpenMaxCalls trials run across the fleet. The counter expires after
// HalfOpenMaxWait, so a crashed replica's permit does not wedge the
// fleet. While Redis is down the local limit alone applies.
func (f *Fleet) TrialGate(name string) (release func(), ok bool) {
	b, found := f.reg.Lookup(name)
	if !found || !f.up.Load() {
		return func() {}, true
	}
	s := b.Settings()
	k := f.key("trials", name)
	ctx, cancel := f.opCtx()
	defer cancel()
	pipe := f.rdb.TxPipeline()
	incr := pipe.Incr(ctx, k)
	pipe.PExpire(ctx, k, s.HalfOpenMaxWait)
	if _, err := pipe.Exec(ctx); err != nil {
		f.failed("trial permit", err)
		return func() {}, true
	}
	decr := func() {
		dctx, dcancel := context.WithTimeout(context.Background(), f.timeout)
		defer dcancel()
		f.rdb.Decr(dctx, k)
	}
	if incr.Val() > int64(s.HalfOpenMaxCalls) {
		decr()
		return nil, false
	}
	var once sync.Once
	return func() { once.Do(func() { go decr() }) }, true
}

var (
	descUp     = prometheus.NewDesc("breakerd_state_backend_up", "1 when the shared state backend (Redis) answers, 0 when replicas run on local state.", []string{"backend"}, nil)
	descErrors = prometheus.NewDesc("breakerd_state_backend_errors_total", "Failed round trips to the shared state backend.", []string{"backend"}, nil)
)

// Describe implements prometheus.Collector.
func (f *Fleet) Describe(ch chan<- *prometheus.Desc) {
	ch <- descUp
	ch <- descErrors
}

// Collect implements prometheus.Collector.
func (f *Fleet) Collect(ch chan<- prometheus.Metric) {
	v := 0.0
	if f.up.Load() {
		v = 1
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, v, "redis")
	ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(f.errors.Load()), "redis")
}
