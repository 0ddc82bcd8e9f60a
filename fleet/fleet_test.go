package fleet_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/daemon"
	"github.com/breakerd/breakerd/fleet"
	"github.com/breakerd/breakerd/gateway"
	"github.com/breakerd/breakerd/internal/external"
	"github.com/breakerd/breakerd/mockllm"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).reaper"))
}

var t0 = time.Date(2026, 1, 26, 12, 0, 0, 0, time.UTC)

// redisServer is a real redis-server on a free loopback port.
type redisServer struct {
	t    testing.TB
	bin  string
	port int
	cmd  *exec.Cmd
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	r := newRedis(t)
	t.Cleanup(r.stop)
	return r
}

// startRedisB starts a redis-server for a benchmark and returns its address.
func startRedisB(b *testing.B) string {
	b.Helper()
	r := newRedis(b)
	b.Cleanup(r.stop)
	return r.addr()
}

func newRedis(t testing.TB) *redisServer {
	t.Helper()
	bin := external.Program(t, "redis-server")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &redisServer{t: t, bin: bin, port: port}
	r.start()
	return r
}

func (r *redisServer) addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }

// start runs redis-server and waits for its "Ready to accept connections".
func (r *redisServer) start() {
	r.t.Helper()
	cmd := exec.Command(r.bin, "--port", fmt.Sprint(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "Ready to accept connections") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	r.cmd = cmd
}

func (r *redisServer) stop() {
	if r.cmd != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// instance is one breakerd replica in the fleet.
type instance struct {
	d      *daemon.Daemon
	url    string
	clock  *breaker.ManualClock
	opened chan breaker.Transition
	// changed receives a signal after every transition.
	changed chan struct{}
	client  *http.Client
}

const fleetConfig = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${PRIMARY}/v1", timeout: 3s}
  - model_name: backup
    litellm_params: {model: anthropic/claude-3-5-sonnet, api_base: "${BACKUP}"}
  - model_name: slow
    litellm_params: {model: openai/slow, api_base: "${SLOW}/v1"}
router_settings:
  routing_strategy: ordered
  fallbacks: [{gpt-4o-mini: [backup]}]
  state: redis
  redis_host: 127.0.0.1
  redis_port: ${REDIS_PORT}
  redis_namespace: ${NS}
  circuit_breaker:
    failure_threshold: ${THRESHOLD}
    recovery_timeout: 30
    success_threshold: 2
    half_open_max_calls: 2
    failure_rate_threshold: 0.5
    minimum_calls: ${MIN_CALLS}
server:
  shutdown_drain: 0s
`

type stack struct {
	t                     *testing.T
	redis                 *redisServer
	primary, backup, slow *mockllm.Server
	insts                 []*instance
	cfg                   *config.Config
}

// newFleet starts Redis, the mock upstreams and n replicas. Consecutive
// failures trip after 5; the fleet failure rate needs 1000 calls.
func newFleet(t *testing.T, n int) *stack {
	return newFleetWith(t, n, map[string]string{"THRESHOLD": "5", "MIN_CALLS": "1000"})
}

func newFleetWith(t *testing.T, n int, vars map[string]string) *stack {
	t.Helper()
	s := &stack{t: t, redis: startRedis(t), primary: mockllm.New(mockllm.Options{Name: "primary"}),
		backup: mockllm.New(mockllm.Options{Name: "backup"}), slow: mockllm.New(mockllm.Options{Name: "slow"})}
	s.slow.SetFaults(mockllm.Faults{LatencyMS: 2000})
	vars["REDIS_PORT"] = fmt.Sprint(s.redis.port)
	if vars["NS"] == "" {
		vars["NS"] = "test-" + strings.ReplaceAll(t.Name(), "/", "-")
	}
	for name, m := range map[string]*mockllm.Server{"PRIMARY": s.primary, "BACKUP": s.backup, "SLOW": s.slow} {
		srv := httptest.NewServer(m.Handler())
		t.Cleanup(srv.Close)
		vars[name] = srv.URL
	}
	// Numbers are not strings: put them in the text itself.
	text := strings.NewReplacer("${THRESHOLD}", vars["THRESHOLD"], "${MIN_CALLS}", vars["MIN_CALLS"]).Replace(fleetConfig)
	if c := vars["COOLDOWNS"]; c != "" {
		// LiteLLM's cooldown settings instead of the circuit_breaker block.
		text = text[:strings.Index(text, "  circuit_breaker:")] + c + text[strings.Index(text, "server:"):]
	}
	cfg, err := config.Parse("fleet.yaml", []byte(text), func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	s.cfg = cfg
	for i := 0; i < n; i++ {
		s.add()
	}
	return s
}

// add starts one more replica.
func (s *stack) add() *instance {
	t := s.t
	in := &instance{clock: breaker.NewManualClock(t0), opened: make(chan breaker.Transition, 100),
		changed: make(chan struct{}, 1), client: &http.Client{Transport: &http.Transport{}}}
	upstream := &http.Client{Transport: &http.Transport{}}
	var err error
	in.d, err = daemon.New(daemon.Options{Config: s.cfg, Clock: in.clock, Client: upstream, AlertTick: -1})
	if err != nil {
		t.Fatal(err)
	}
	in.d.Gateway().Registry().AddListener(func(tr breaker.Transition) {
		if tr.To == breaker.Open {
			in.opened <- tr
		}
		select {
		case in.changed <- struct{}{}:
		default:
		}
	})
	srv := httptest.NewServer(in.d.Handler())
	in.url = srv.URL
	t.Cleanup(func() {
		srv.Close()
		in.client.CloseIdleConnections()
		in.d.Close()
		upstream.CloseIdleConnections()
	})
	s.insts = append(s.insts, in)
	return in
}

func (in *instance) chat(t *testing.T, model string) (int, http.Header) {
	t.Helper()
	resp, err := in.client.Post(in.url+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

func (in *instance) breaker(t *testing.T) *breaker.Breaker {
	b, ok := in.d.Gateway().Registry().Lookup("gpt-4o-mini/openai/gpt-4o-mini:chat")
	if !ok {
		t.Fatal("no breaker")
	}
	return b
}

// waitState waits, without polling, until the instance's primary chat
// breaker is in state want. within is a guard, not a timing: a replica
// that missed a change's message (one published before its subscription
// was up) gets the change at its next resync, two seconds on, later on a
// loaded machine; a guard of one second failed CI once so.
func (in *instance) waitState(t *testing.T, within time.Duration, want breaker.State) {
	t.Helper()
	deadline := time.After(within)
	for in.breaker(t).State() != want {
		select {
		case <-in.changed:
		case <-deadline:
			t.Fatalf("breaker is %s, not %s, after %s", in.breaker(t).State(), want, within)
		}
	}
}

// waitBackend waits until the instance's fleet reports Redis up (or down).
func (in *instance) waitBackend(t *testing.T, within time.Duration, up bool) {
	t.Helper()
	deadline := time.After(within)
	for {
		f := in.d.Fleet()
		ch := f.Changes()
		if f.Up() == up {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("backend up=%v not reached within %s", up, within)
		}
	}
}

func TestTripPropagatesToEveryReplicaWithinOneSecond(t *testing.T) {
	s := newFleet(t, 3)
	a, b, c := s.insts[0], s.insts[1], s.insts[2]
	s.primary.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	for i := 0; i < 5; i++ {
		if code, _ := a.chat(t, "gpt-4o-mini"); code != 200 {
			t.Fatalf("request %d: %d (the fallback should serve it)", i, code)
		}
	}
	trip := <-a.opened
	deadline := time.After(time.Second)
	for _, in := range []*instance{b, c} {
		select {
		case tr := <-in.opened:
			if !tr.Remote || !tr.OpenUntil.Equal(trip.OpenUntil.Truncate(time.Millisecond)) {
				t.Fatalf("remote open %+v, local %+v", tr, trip)
			}
		case <-deadline:
			t.Fatal("a replica did not see the trip within 1s")
		}
	}
	calls := s.primary.Stats().Chat
	for _, in := range []*instance{b, c} {
		for i := 0; i < 5; i++ {
			code, h := in.chat(t, "gpt-4o-mini")
			if code != 200 || h.Get("X-Breakerd-Fallback") != "true" {
				t.Fatalf("status %d fallback %q", code, h.Get("X-Breakerd-Fallback"))
			}
		}
	}
	if got := s.primary.Stats().Chat; got != calls {
		t.Fatalf("B and C made %d calls to the dead provider", got-calls)
	}
}

func TestFleetWideTrialLimit(t *testing.T) {
	s := newFleet(t, 3)
	s.primary.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	for i := 0; i < 5; i++ {
		s.insts[0].chat(t, "gpt-4o-mini")
	}
	<-s.insts[0].opened
	for _, in := range s.insts[1:] {
		<-in.opened
	}
	// Trials hang (then time out after 3s): every trial permit stays taken.
	s.primary.SetFaults(mockllm.Faults{Hang: true})
	before := s.primary.Stats().Requests
	for _, in := range s.insts {
		in.clock.Advance(30 * time.Second)
	}
	var wg sync.WaitGroup
	var fallbacks atomic.Int64
	for _, in := range s.insts {
		for j := 0; j < 4; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, h := in.chat(t, "gpt-4o-mini"); h.Get("X-Breakerd-Fallback") == "true" {
					fallbacks.Add(1)
				}
			}()
		}
	}
	wg.Wait()
	if trials := s.primary.Stats().Requests - before; trials < 1 || trials > 2 {
		t.Fatalf("%d trial calls reached the provider across the fleet; the limit is 2", trials)
	}
	if fallbacks.Load() != 12 {
		t.Fatalf("%d of 12 requests were served by the fallback", fallbacks.Load())
	}
}

func TestRedisDownServesLocallyAndResyncs(t *testing.T) {
	s := newFleet(t, 3)
	a, b := s.insts[0], s.insts[1]
	s.redis.stop()
	for _, in := range s.insts {
		for i := 0; i < 3; i++ {
			if code, _ := in.chat(t, "gpt-4o-mini"); code != 200 {
				t.Fatalf("a request failed because Redis is down: %d", code)
			}
		}
	}
	for _, in := range s.insts {
		in.waitBackend(t, 5*time.Second, false)
	}
	_, body := get(t, a, "/metrics")
	if !strings.Contains(body, `breakerd_state_backend_up{backend="redis"} 0`) {
		t.Fatal("breakerd_state_backend_up is not 0 while Redis is down")
	}
	// A trips while Redis is down: only A knows.
	s.primary.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	for i := 0; i < 5; i++ {
		if code, _ := a.chat(t, "gpt-4o-mini"); code != 200 {
			t.Fatalf("status %d", code)
		}
	}
	if a.breaker(t).State() != breaker.Open || b.breaker(t).State() != breaker.Closed {
		t.Fatal("unexpected states while Redis is down")
	}
	s.redis.start()
	for _, in := range s.insts {
		in.waitBackend(t, 10*time.Second, true)
	}
	for _, in := range s.insts[1:] {
		in.waitState(t, 10*time.Second, breaker.Open)
	}
	_, body = get(t, a, "/metrics")
	if !strings.Contains(body, `breakerd_state_backend_up{backend="redis"} 1`) {
		t.Fatal("breakerd_state_backend_up did not return to 1")
	}
}

func get(t *testing.T, in *instance, path string) (int, string) {
	resp, err := in.client.Get(in.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSlowCallNeverBlocksOtherReplicas(t *testing.T) {
	s := newFleet(t, 3)
	slowDone := make(chan struct{})
	go func() {
		defer close(slowDone)
		s.insts[0].chat(t, "slow") // 2s upstream latency
	}()
	if err := s.slow.WaitRequests(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	for _, in := range s.insts[1:] {
		for i := 0; i < 10; i++ {
			if code, _ := in.chat(t, "gpt-4o-mini"); code != 200 {
				t.Fatalf("status %d", code)
			}
		}
	}
	select {
	case <-slowDone:
		t.Fatal("the other replicas' 20 calls only finished after the slow call")
	default:
	}
	<-slowDone
}

func TestLateReplicaPicksUpOpenState(t *testing.T) {
	s := newFleet(t, 1)
	a := s.insts[0]
	s.primary.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	for i := 0; i < 5; i++ {
		a.chat(t, "gpt-4o-mini")
	}
	trip := <-a.opened
	late := s.add() // starts after the trip: reads the state key at start
	at, ok := late.breaker(t).RetryAt()
	if !ok || !at.Equal(trip.OpenUntil.Truncate(time.Millisecond)) {
		t.Fatalf("late replica: open=%v until %v, want %v", ok, at, trip.OpenUntil)
	}
}

func TestFirstReplicaToRecoverClosesForEveryone(t *testing.T) {
	s := newFleet(t, 3)
	a := s.insts[0]
	s.primary.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	for i := 0; i < 5; i++ {
		a.chat(t, "gpt-4o-mini")
	}
	for _, in := range s.insts {
		<-in.opened
	}
	s.primary.SetFaults(mockllm.Faults{})
	a.clock.Advance(30 * time.Second) // only A's recovery timeout has passed
	for i := 0; i < 2; i++ {
		if _, h := a.chat(t, "gpt-4o-mini"); h.Get("X-Breakerd-Fallback") != "false" {
			t.Fatalf("trial %d was not served by the primary", i)
		}
	}
	for _, in := range s.insts {
		in.waitState(t, 10*time.Second, breaker.Closed)
	}
}

// The fleet's window trips every replica's breaker where no replica's own
// calls would: a failure rate over the fleet's calls, and LiteLLM's
// allowed_fails over the fleet's failures in a minute (LiteLLM counts them
// in its shared cache).
func TestFleetWindowTrips(t *testing.T) {
	for _, tc := range []struct {
		name  string
		vars  map[string]string
		calls int // failing calls each of the three replicas makes
		want  string
	}{
		{
			// No replica alone reaches minimum_calls (6) nor 5 failures in
			// a row (threshold 100), but the fleet's 9 failing calls do.
			name:  "failure rate",
			vars:  map[string]string{"THRESHOLD": "100", "MIN_CALLS": "6"},
			calls: 3, want: "fleet failure rate 100% >= 50% over ",
		},
		{
			// allowed_fails 5: 6 failures in a minute, 2 on each replica.
			name:  "allowed_fails",
			vars:  map[string]string{"THRESHOLD": "5", "MIN_CALLS": "1000", "COOLDOWNS": "  allowed_fails: 5\n  cooldown_time: 30\n"},
			calls: 2, want: "fleet failures 6 in 1m0s",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newFleetWith(t, 3, tc.vars)
			s.primary.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
			for _, in := range s.insts {
				for i := 0; i < tc.calls; i++ {
					in.chat(t, "gpt-4o-mini")
				}
			}
			for _, in := range s.insts {
				in.waitState(t, 10*time.Second, breaker.Open)
			}
			var reasons []string
			for _, in := range s.insts {
				select {
				case tr := <-in.opened:
					reasons = append(reasons, tr.Reason)
				default:
				}
			}
			if !strings.Contains(strings.Join(reasons, "|"), tc.want) {
				t.Fatalf("reasons %q, want one with %q", reasons, tc.want)
			}
		})
	}
}

func TestAdminActionsApplyToTheFleet(t *testing.T) {
	s := newFleet(t, 3)
	s.insts[0].breaker(t).ForceOpen("manual: open") // what POST /admin/breakers/{name}/open does
	for _, in := range s.insts[1:] {
		in.waitState(t, 10*time.Second, breaker.ForcedOpen)
	}
	s.insts[1].breaker(t).Enable("manual: enable")
	for _, in := range []*instance{s.insts[0], s.insts[2]} {
		in.waitState(t, 10*time.Second, breaker.Closed)
	}
}

func TestNamespacesKeepGatewaysApart(t *testing.T) {
	s := newFleetWith(t, 1, map[string]string{"THRESHOLD": "5", "MIN_CALLS": "1000", "NS": "gateway-a"})
	other := *s
	other.insts = nil
	cfgB := *s.cfg
	cfgB.Router.Redis.Namespace = "gateway-b"
	other.cfg = &cfgB
	b := other.add()
	s.insts[0].breaker(t).ForceOpen("manual: open")
	// Give the message every chance to arrive, then check it did not.
	c := s.add() // same namespace as A: proves delivery works meanwhile
	c.waitState(t, 10*time.Second, breaker.ForcedOpen)
	if b.breaker(t).State() != breaker.Closed {
		t.Fatal("a gateway in another namespace saw the trip")
	}
}

// Enforced rpm limits are the fleet's: what one replica used counts
// against every replica's share once both have flushed.
func TestRateLimitsAreSharedAcrossReplicas(t *testing.T) {
	s := newFleetWith(t, 0, map[string]string{"THRESHOLD": "5", "MIN_CALLS": "1000"})
	s.cfg.Router.EnforceRateLimits = true
	s.cfg.Deployments[0].RPM = 4 // gpt-4o-mini's only deployment
	a, b := s.add(), s.add()
	// The first flush only reads the shared totals (nothing used yet).
	a.d.Fleet().Flush()
	b.d.Fleet().Flush()
	for i := range 3 {
		if code, h := a.chat(t, "gpt-4o-mini"); code != 200 || h.Get("X-Breakerd-Fallback") != "false" {
			t.Fatalf("A's request %d: %d, fallback %q", i, code, h.Get("X-Breakerd-Fallback"))
		}
	}
	a.d.Fleet().Flush()
	b.d.Fleet().Flush()
	// B has used nothing itself, but only 1 of the minute's 4 is left.
	if code, h := b.chat(t, "gpt-4o-mini"); code != 200 || h.Get("X-Breakerd-Fallback") != "false" {
		t.Fatalf("B's first request: %d, fallback %q", code, h.Get("X-Breakerd-Fallback"))
	}
	if code, h := b.chat(t, "gpt-4o-mini"); code != 200 || h.Get("X-Breakerd-Fallback") != "true" {
		t.Fatalf("B's second request: %d, fallback %q; want the backup, the fleet's 4 being used", code, h.Get("X-Breakerd-Fallback"))
	}
	if n := s.primary.Stats().Chat; n != 4 {
		t.Fatalf("the primary got %d calls, want the fleet's limit of 4", n)
	}
}

// A provider's budget is the fleet's: what one replica's calls cost
// counts against every replica's once both have flushed, and the other
// passes the provider over.
func TestProviderBudgetIsSharedAcrossReplicas(t *testing.T) {
	s := newFleet(t, 0)
	s.cfg.Router.ProviderBudgets = map[string]config.Budget{"openai": {Limit: 0.000001, Period: time.Hour, Text: "1h"}}
	a, b := s.add(), s.add()
	if code, h := a.chat(t, "gpt-4o-mini"); code != 200 || h.Get("X-Breakerd-Fallback") != "false" {
		t.Fatalf("A's request: %d, fallback %q", code, h.Get("X-Breakerd-Fallback")) // spends more than the budget
	}
	a.d.Fleet().Flush()
	b.d.Fleet().Flush()
	if code, h := b.chat(t, "gpt-4o-mini"); code != 200 || h.Get("X-Breakerd-Fallback") != "true" {
		t.Fatalf("B's request: %d, fallback %q; want the backup, the fleet's budget for openai being spent", code, h.Get("X-Breakerd-Fallback"))
	}
	if n := s.primary.Stats().Chat; n != 1 {
		t.Fatalf("the primary got %d calls, want 1", n)
	}
}

// A budget and an rpm limit that a config reload adds are the fleet's
// too, not only those of the config a replica started with.
func TestLimitsAReloadAddsAreShared(t *testing.T) {
	s := newFleet(t, 0)
	a, b := s.add(), s.add()
	reloaded := *s.cfg
	reloaded.Router.ProviderBudgets = map[string]config.Budget{"openai": {Limit: 0.000001, Period: time.Hour, Text: "1h"}}
	for _, in := range []*instance{a, b} {
		if _, err := in.d.Reload(&reloaded); err != nil {
			t.Fatal(err)
		}
	}
	if code, h := a.chat(t, "gpt-4o-mini"); code != 200 || h.Get("X-Breakerd-Fallback") != "false" {
		t.Fatalf("A's request: %d, fallback %q", code, h.Get("X-Breakerd-Fallback")) // spends more than the budget
	}
	a.d.Fleet().Flush()
	b.d.Fleet().Flush()
	if code, h := b.chat(t, "gpt-4o-mini"); code != 200 || h.Get("X-Breakerd-Fallback") != "true" {
		t.Fatalf("B's request: %d, fallback %q; want the backup, the budget the reload added being spent", code, h.Get("X-Breakerd-Fallback"))
	}

	// An rpm limit: the fleet's 2 a minute.
	limited := reloaded
	limited.Router.ProviderBudgets = nil
	limited.Router.EnforceRateLimits = true
	limited.Deployments = slices.Clone(reloaded.Deployments)
	limited.Deployments[0].RPM = 2
	for _, in := range []*instance{a, b} {
		if _, err := in.d.Reload(&limited); err != nil {
			t.Fatal(err)
		}
		in.d.Fleet().Flush() // the first flush of a new limit only reads the shared total
	}
	before := s.primary.Stats().Chat
	if code, h := a.chat(t, "gpt-4o-mini"); code != 200 || h.Get("X-Breakerd-Fallback") != "false" {
		t.Fatalf("A's request under the limit: %d, fallback %q", code, h.Get("X-Breakerd-Fallback"))
	}
	a.d.Fleet().Flush()
	b.d.Fleet().Flush()
	b.chat(t, "gpt-4o-mini") // the fleet's second
	b.chat(t, "gpt-4o-mini") // over the fleet's 2: the backup
	if n := s.primary.Stats().Chat - before; n != 2 {
		t.Fatalf("the primary got %d calls under the reloaded limit, want the fleet's 2", n)
	}
}

// Shared usage counts once, and a replica back from an outage starts
// counting again from the shared total instead of charging what it missed.
// The fleets run no background loop here: the test flushes them.
func TestSharedRateLimitUsageAcrossAnOutage(t *testing.T) {
	r := startRedis(t)
	clk := breaker.NewManualClock(t0)
	newReplica := func() (*fleet.Fleet, *breaker.RateLimit) {
		rdb := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
		t.Cleanup(func() { rdb.Close() })
		l := breaker.NewRateLimit(10, time.Minute, clk)
		// A 1ns flush interval makes the reconnect after the outage due at once.
		return fleet.New(fleet.Options{Client: rdb, Namespace: "rl-outage", Registry: breaker.NewRegistry(breaker.Settings{}),
			Clock: clk, FlushInterval: time.Nanosecond, RateLimits: map[string]*breaker.RateLimit{"d:rpm": l}}), l
	}
	fa, la := newReplica()
	fb, lb := newReplica()
	flush := func() { fa.Flush(); fb.Flush() }
	remaining := func(want float64, when string) {
		t.Helper()
		if got := lb.Remaining(); got != want {
			t.Fatalf("%s: B has %v left, want %v", when, got, want)
		}
	}
	flush() // the first flush only reads the shared totals
	la.Take(3)
	flush()
	flush() // nothing new: nothing charged twice
	remaining(7, "after A used 3")

	// The outage: Redis refuses every command, and keeps its data. (A
	// restarted redis-server here would come back empty.)
	admin := redis.NewClient(&redis.Options{Addr: r.addr(), PoolSize: 1, MaxRetries: -1})
	t.Cleanup(func() { admin.Close() })
	ctx := context.Background()
	if err := admin.ConfigSet(ctx, "requirepass", "outage-password").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.ClientKillByFilter(ctx, "TYPE", "normal", "SKIPME", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	la.Take(2)
	flush()
	if fa.Up() || fb.Up() {
		t.Fatal("the fleets did not notice Redis going down")
	}
	if err := admin.ConfigSet(ctx, "requirepass", "").Err(); err != nil {
		t.Fatal(err)
	}
	flush()
	if !fa.Up() || !fb.Up() {
		t.Fatal("the fleets did not reconnect")
	}
	remaining(7, "after the outage")
	la.Take(1)
	flush()
	remaining(6, "after A used 1 more")
	if la.Remaining() != 4 {
		t.Fatalf("A has %v left, want 4 (its own 6 used)", la.Remaining())
	}
}

// Budgets are the fleet's: each replica adds what it spent to one shared
// window, and sees what all of them spent in it, counted once, with the
// window's end the same everywhere; once that passes, the next spend
// opens a new window for all.
func TestBudgetsAreSharedAcrossReplicas(t *testing.T) {
	r := startRedis(t)
	clk := breaker.NewManualClock(t0)
	newReplica := func() (*fleet.Fleet, *gateway.Budget) {
		rdb := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
		t.Cleanup(func() { rdb.Close() })
		b := &gateway.Budget{Scope: "provider", Name: "openai", Config: config.Budget{Limit: 1, Period: time.Hour, Text: "1h"}}
		return fleet.New(fleet.Options{Client: rdb, Namespace: "budgets", Registry: breaker.NewRegistry(breaker.Settings{}),
			Clock: clk, FlushInterval: time.Nanosecond, Budgets: map[string]fleet.Budget{"provider:openai": b}}), b
	}
	fa, ba := newReplica()
	fb, bb := newReplica()
	flush := func() { fa.Flush(); fb.Flush() }
	sees := func(b *gateway.Budget, who string, want float64, ends time.Time) {
		t.Helper()
		got, end := b.Spent(clk.Now())
		if math.Abs(got-want) > 1e-12 || !end.Equal(ends) {
			t.Fatalf("%s sees $%v spent until %v, want $%v until %v", who, got, end, want, ends)
		}
	}
	flush()
	sees(ba, "A", 0, time.Time{})
	ba.Spend(clk.Now(), 0.6)
	clk.Advance(time.Minute)
	flush()
	flush() // nothing new: nothing counted twice
	sees(bb, "B", 0.6, t0.Add(time.Hour))
	bb.Spend(clk.Now(), 0.5)
	flush() // A hears of it at its next flush
	flush()
	sees(ba, "A", 1.1, t0.Add(time.Hour))
	sees(bb, "B", 1.1, t0.Add(time.Hour))
	clk.Advance(time.Hour) // the window ends
	flush()
	sees(ba, "A", 0, time.Time{})
	ba.Spend(clk.Now(), 0.25)
	flush()
	sees(bb, "B", 0.25, clk.Now().Add(time.Hour))
}

// What must happen once in a fleet happens at one replica: a key one
// replica claims (a finished batch, charged there) is no other's, nor
// its own again.
func TestFirstClaimsOncePerFleet(t *testing.T) {
	s := newFleet(t, 2)
	a, b := s.insts[0].d.Fleet(), s.insts[1].d.Fleet()
	if !a.First("batch:x") {
		t.Fatal("the first claim was refused")
	}
	if b.First("batch:x") || a.First("batch:x") {
		t.Fatal("a key was claimed twice")
	}
	if !b.First("batch:y") {
		t.Fatal("another key was refused")
	}
}

// twoDeployments starts Redis, two mock upstreams (one, two) and n
// replicas sharing state, whose config has one group of both and extra's
// settings (router_settings' and general_settings' own lines); it returns
// the replicas' addresses. more are top-level blocks.
func twoDeployments(t *testing.T, n int, router, general string, more ...string) (urls []string, one, two *mockllm.Server) {
	t.Helper()
	r := startRedis(t)
	vars := map[string]string{"REDIS_PORT": fmt.Sprint(r.port)}
	one, two = mockllm.New(mockllm.Options{Name: "one"}), mockllm.New(mockllm.Options{Name: "two"})
	for name, m := range map[string]*mockllm.Server{"ONE": one, "TWO": two} {
		srv := httptest.NewServer(m.Handler())
		t.Cleanup(srv.Close)
		vars[name] = srv.URL
	}
	cfg, err := config.Parse("fleet.yaml", []byte(`
model_list:
  - model_name: chat
    litellm_params: {model: openai/m, api_base: "${ONE}/v1", api_key: sk-one-key}
    model_info: {id: one}
  - model_name: chat
    litellm_params: {model: openai/m, api_base: "${TWO}/v1", api_key: sk-two-key}
    model_info: {id: two}
router_settings:
`+router+`  state: redis
  redis_host: 127.0.0.1
  redis_port: ${REDIS_PORT}
  redis_namespace: two
general_settings:
`+general+`  max_parallel_requests: 100
`+strings.Join(more, "")+`server:
  shutdown_drain: 0s
`), func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		d, err := daemon.New(daemon.Options{Config: cfg, Clock: breaker.NewManualClock(t0), AlertTick: -1})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(d.Handler())
		t.Cleanup(func() { srv.Close(); d.Close() })
		urls = append(urls, srv.URL)
	}
	return urls, one, two
}

// chatAt asks the replica at url for "chat" (in session, when set), and
// wants an answer; it returns the answer's headers.
func chatAt(t *testing.T, url, session string) http.Header {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/chat/completions", strings.NewReader(`{"model":"chat","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Content-Type", "application/json")
	if session != "" {
		req.Header.Set("x-litellm-session-id", session)
	}
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	return resp.Header
}

// Deployment affinity holds across the fleet: a session pinned to a
// deployment at one replica goes to the same deployment at every other,
// whichever the routing strategy (simple-shuffle) would have picked there.
func TestAffinityPinsAreTheFleets(t *testing.T) {
	urls, _, _ := twoDeployments(t, 2, "  optional_pre_call_checks: [session_affinity]\n", "")
	ask := func(url, session string) string {
		t.Helper()
		return chatAt(t, url, session).Get("X-Breakerd-Deployment")
	}
	used := map[string]bool{}
	for i := range 12 {
		session := fmt.Sprint("s", i)
		first := ask(urls[0], session)
		used[first] = true
		for turn := range 3 {
			if got := ask(urls[turn%2], session); got != first {
				t.Fatalf("session %s: turn %d went to %s at replica %d, after %s at replica 0", session, turn, got, turn%2, first)
			}
		}
	}
	if len(used) != 2 {
		t.Fatalf("12 sessions all went to %v: shuffling picks both deployments", used)
	}
}

// Background health checks run at one replica of a fleet each interval:
// three replicas that start together make one round of checks, not three.
func TestHealthChecksRunAtOneReplica(t *testing.T) {
	_, one, two := twoDeployments(t, 3, "", "  background_health_checks: true\n  health_check_interval: 60\n  enable_health_check_routing: true\n")
	if a, b := one.Stats().Chat, two.Stats().Chat; a != 1 || b != 1 {
		t.Fatalf("deployments checked %d and %d times by three replicas; want once each", a, b)
	}
}

// With cache_params.type: redis the response cache is the fleet's: an
// answer one replica kept is given again by another, with no upstream
// call.
func TestResponseCacheIsTheFleets(t *testing.T) {
	urls, one, two := twoDeployments(t, 2, "  routing_strategy: ordered\n", "", "litellm_settings:\n  cache: true\n  cache_params: {type: redis, ttl: 60}\n")
	ask := func(url string) string {
		t.Helper()
		return chatAt(t, url, "").Get("X-Breakerd-Cache")
	}
	if ask(urls[0]) != "" || ask(urls[1]) != "hit" || ask(urls[1]) != "hit" {
		t.Fatal("the second replica did not answer from the first one's answer")
	}
	if n := one.Stats().Chat + two.Stats().Chat; n != 1 {
		t.Fatalf("%d upstream calls, want 1", n)
	}
}

// LiteLLM's usual cache config names a Redis of its own (cache_params'
// host and port), with no shared breaker state: replicas share their
// answers there, streams' too, and a Redis that is down only costs the
// answers kept in it.
func TestResponseCacheInItsOwnRedis(t *testing.T) {
	r := startRedis(t)
	urls, up := cacheReplicas(t, `{type: redis, host: 127.0.0.1, port: `+fmt.Sprint(r.port)+`, namespace: answers}`)
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	ask := func(url, body string) (http.Header, string) {
		t.Helper()
		resp, err := hc.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body) // to its end: the answer is kept by then
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		return resp.Header, string(b)
	}
	for _, body := range []string{`{"model":"chat","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"chat","messages":[{"role":"user","content":"hi"}],"stream":true}`} {
		h1, first := ask(urls[0], body)
		h2, again := ask(urls[1], body)
		if h1.Get("X-Breakerd-Cache") != "" || h2.Get("X-Breakerd-Cache") != "hit" || again != first || h2.Get("Content-Type") != h1.Get("Content-Type") {
			t.Fatalf("%s: the second replica: cache %q, %q; body %q, want %q", body, h2.Get("X-Breakerd-Cache"), h2.Get("Content-Type"), again, first)
		}
	}
	if n := up.Stats().Chat; n != 2 {
		t.Fatalf("%d upstream calls, want 2 (one answer, one stream)", n)
	}
	rdb := redis.NewClient(&redis.Options{Addr: r.addr()})
	keys, err := rdb.Keys(context.Background(), "answers:answer:*").Result()
	rdb.Close()
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys in the cache's namespace: %v (%v), want 2", keys, err)
	}
	r.stop()
	if h, _ := ask(urls[1], `{"model":"chat","messages":[{"role":"user","content":"a new prompt"}]}`); h.Get("X-Breakerd-Cache") != "" {
		t.Fatal("a new prompt was a hit")
	}
}

// The response cache's own Redis down costs requests no wait: after a
// failure it is not asked for a second (doubling, up to half a minute),
// then asked again, and once it answers it is used as before.
func TestAnswersRestAfterARedisFailure(t *testing.T) {
	r := startRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	clock := breaker.NewManualClock(t0)
	a := fleet.NewAnswers(rdb, "t", 0, clock, nil)
	a.SetAnswer("k", []byte("v"), time.Minute)
	if v, ok := a.Answer("k"); !ok || string(v) != "v" || a.Errors() != 0 {
		t.Fatalf("%q %v, %d errors", v, ok, a.Errors())
	}
	r.stop()
	for range 3 {
		if _, ok := a.Answer("k"); ok {
			t.Fatal("an answer from a Redis that is down")
		}
	}
	if n := a.Errors(); n != 1 {
		t.Fatalf("%d round trips failed, want 1: the others waited", n)
	}
	clock.Advance(time.Second)
	a.Answer("k")
	clock.Advance(time.Second) // the wait is two seconds now
	a.Answer("k")
	if n := a.Errors(); n != 2 {
		t.Fatalf("%d round trips failed, want 2", n)
	}
	r.start()
	clock.Advance(time.Second)
	a.SetAnswer("k", []byte("again"), time.Minute)
	if v, ok := a.Answer("k"); !ok || string(v) != "again" {
		t.Fatalf("after Redis came back: %q %v", v, ok)
	}
}

// With the fleet's Redis down, requests that read or write pins and
// answers wait on it no more: the first failure marks it down, and until
// the flush loop finds it back, they are served locally with no round
// trip.
func TestPinsAndAnswersSkipARedisThatIsDown(t *testing.T) {
	r := startRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	f := fleet.New(fleet.Options{Client: rdb, Namespace: "down", Registry: breaker.NewRegistry(breaker.Settings{}),
		Clock: breaker.NewManualClock(t0), FlushInterval: time.Hour})
	f.SetPin("s", "d1", time.Minute)
	if d, ok := f.Pin("s"); !ok || d != "d1" {
		t.Fatalf("pin %q %v", d, ok)
	}
	r.stop()
	if _, ok := f.Pin("s"); ok || f.Up() {
		t.Fatal("a pin read from a Redis that is down")
	}
	errs := func() float64 {
		reg := prometheus.NewRegistry()
		reg.MustRegister(f)
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == "breakerd_state_backend_errors_total" {
				return mf.GetMetric()[0].GetCounter().GetValue()
			}
		}
		return -1
	}
	before := errs()
	for range 5 {
		f.Pin("s")
		f.SetPin("s", "d2", time.Minute)
		f.Answer("k")
		f.SetAnswer("k", []byte("v"), time.Minute)
	}
	if after := errs(); after != before {
		t.Fatalf("%v more failed round trips while down, want none", after-before)
	}
}
