package daemon_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/daemon"
	"github.com/breakerd/breakerd/mockllm"
)

// probeStack is a daemon with LiteLLM's background health checks over two
// mock deployments, a (chat) and e (an embedding model), and no client.
type probeStack struct {
	d     *daemon.Daemon
	clock *breaker.ManualClock
	a, e  *mockllm.Server
	logs  *syncBuffer
}

func newProbeStack(t *testing.T, general string, conditions ...string) *probeStack {
	t.Helper()
	return newProbeStackWith(t, daemon.Options{}, general, conditions...)
}

// newProbeStackWith is newProbeStack with opts for the daemon (its
// config, clock, client and logger are the stack's).
func newProbeStackWith(t *testing.T, opts daemon.Options, general string, conditions ...string) *probeStack {
	t.Helper()
	s := &probeStack{clock: breaker.NewManualClock(t0), a: mockllm.New(mockllm.Options{Name: "a"}), e: mockllm.New(mockllm.Options{Name: "e"}),
		logs: &syncBuffer{}}
	aSrv, eSrv := httptest.NewServer(s.a.Handler()), httptest.NewServer(s.e.Handler())
	t.Cleanup(aSrv.Close)
	t.Cleanup(eSrv.Close)
	vars := map[string]string{"A": aSrv.URL, "E": eSrv.URL}
	cfg, err := config.Parse("t.yaml", []byte(`
model_list:
  - model_name: chat
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${A}/v1", api_key: sk-a-secret}
    model_info: {id: a}
  - model_name: embed
    litellm_params: {model: openai/text-embedding-3-small, api_base: "${E}/v1", api_key: sk-e-secret}
    model_info: {id: e}
  - model_name: codex
    litellm_params: {model: openai/gpt-5-codex, api_base: "${E}/v1", api_key: sk-e-secret}
    model_info: {id: codex, mode: responses}
  - model_name: images
    litellm_params: {model: openai/gpt-image-1, api_base: "${E}/v1", api_key: sk-e-secret}
    model_info: {id: images}
router_settings:
  circuit_breaker:
    failure_threshold: 2
    recovery_timeout: 30
    success_threshold: 1
`+strings.Join(conditions, "")+`general_settings:
  background_health_checks: true
  health_check_interval: 60
`+general+`server:
  shutdown_drain: 0s
`), func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	upstream := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(upstream.CloseIdleConnections)
	opts.Config, opts.Clock, opts.Client, opts.AlertTick = cfg, s.clock, upstream, -1
	opts.Logger = slog.New(slog.NewTextHandler(s.logs, nil))
	s.d, err = daemon.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.d.Close)
	return s
}

func (s *probeStack) state(t *testing.T, name string) breaker.State {
	t.Helper()
	b, ok := s.d.Gateway().Registry().Lookup(name)
	if !ok {
		t.Fatalf("no breaker %s", name)
	}
	return b.State()
}

func (s *probeStack) metric(t *testing.T, op, result string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	s.d.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "breakerd_health_checks_total{") && strings.Contains(line, `operation="`+op+`"`) && strings.Contains(line, `result="`+result+`"`) {
			return line[strings.LastIndexByte(line, ' ')+1:]
		}
	}
	return "0"
}

// LiteLLM's health check driven routing: each deployment gets a call of
// its own at start and every interval (chat, embeddings for an embedding
// model, the Responses API for a responses one; none for an image model),
// with no client traffic; probes that fail open the
// circuit as calls would, and once it lets a trial through, a probe that
// succeeds closes it: the outage and the recovery are both found without
// a client's request.
func TestHealthChecksOpenAndCloseCircuitsWithoutTraffic(t *testing.T) {
	for _, tc := range []struct {
		name, router string
		toOpen       int // failed checks that open the circuit
	}{
		{"the first failed check opens it, as LiteLLM excludes a deployment", "", 1},
		{"with allowed_fails_policy, checks count as calls", "  allowed_fails_policy: {InternalServerErrorAllowedFails: 1}\n", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newProbeStack(t, "  enable_health_check_routing: true\n", tc.router)
			if a, e, r, st := s.a.Stats().Chat, s.e.Stats().Embeddings, s.e.Stats().Responses, s.e.Stats(); a != 1 || e != 1 || r != 1 || st.Media != 0 || st.Chat != 0 {
				t.Fatalf("at start: %d chat calls to a, %d embeddings and %d Responses calls to e (%d chat, %d image); want one each, and none to the image model",
					a, e, r, st.Chat, st.Media)
			}
			s.a.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
			for i := 1; i <= tc.toOpen; i++ {
				s.clock.Advance(60 * time.Second)
				if want := map[bool]breaker.State{false: breaker.Closed, true: breaker.Open}[i == tc.toOpen]; s.state(t, "a:chat") != want {
					t.Fatalf("after %d failed checks a is %s, want %s", i, s.state(t, "a:chat"), want)
				}
			}
			if got := s.metric(t, "chat", "failure"); got != fmt.Sprint(tc.toOpen) {
				t.Fatalf("breakerd_health_checks_total{result=failure} = %s, want %d", got, tc.toOpen)
			}
			if l := s.logs.String(); !strings.Contains(l, `operation="chat health check"`) || tc.toOpen == 1 && !strings.Contains(l, "health check failed: ") {
				t.Fatalf("the failed checks are not logged as health checks, or the trip's reason does not say so:\n%s", l)
			}
			s.a.SetFaults(mockllm.Faults{})
			s.clock.Advance(60 * time.Second) // past recovery_timeout: the check is the trial
			if st := s.state(t, "a:chat"); st != breaker.Closed {
				t.Fatalf("after a successful check past the recovery timeout a is %s, want closed", st)
			}
			if got, want := s.metric(t, "embeddings", "success"), fmt.Sprint(tc.toOpen+2); got != want {
				t.Fatalf("e's checks: %s successes, want %s", got, want)
			}
		})
	}
}

// Without enable_health_check_routing the probes are counted and
// logged, not judged; with health_check_ignore_transient_errors a probe's
// 429 is no failure, even where a call's 429 is one.
func TestHealthChecksThatDoNotRoute(t *testing.T) {
	for _, tc := range []struct {
		name, general, result string
		status                int
	}{
		{"without routing", "", "failure", 500},
		{"transient errors ignored", "  enable_health_check_routing: true\n  health_check_ignore_transient_errors: true\n", "ignored", 429},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// 429s count toward the breaker here, but not a probe's.
			s := newProbeStack(t, tc.general, "    failure_conditions: [{status_code: 500}, {rate_limit: true}]\n")
			status := tc.status
			s.a.SetFaults(mockllm.Faults{ErrorRate: 1, Status: status})
			for range 3 {
				s.clock.Advance(60 * time.Second)
			}
			if st := s.state(t, "a:chat"); st != breaker.Closed {
				t.Fatalf("a is %s after three failed probes, want closed", st)
			}
			if got := s.metric(t, "chat", tc.result); got != "3" {
				t.Fatalf("result=%s: %s, want 3", tc.result, got)
			}
		})
	}
}

// A reload that turns the health checks off stops them.
func TestHealthChecksStopWithTheConfig(t *testing.T) {
	s := newProbeStack(t, "")
	cfg, err := config.Parse("t.yaml", []byte("model_list:\n  - model_name: chat\n    litellm_params: {model: openai/gpt-4o-mini, api_base: \"http://127.0.0.1:9/v1\", api_key: sk-a-secret}\n"), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.d.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	before := s.a.Stats().Chat
	for range 3 {
		s.clock.Advance(60 * time.Second)
	}
	if n := s.a.Stats().Chat; n != before {
		t.Fatalf("%d probes after the reload turned them off", n-before)
	}
}

// A daemon made only to be looked at (check-config) calls no deployment:
// its config's health checks would call every one, with real keys.
func TestAnInspectedDaemonMakesNoHealthChecks(t *testing.T) {
	s := newProbeStackWith(t, daemon.Options{Inspect: true}, "")
	for range 2 {
		s.clock.Advance(60 * time.Second)
	}
	if a, e := s.a.Stats(), s.e.Stats(); a.Chat+e.Chat+e.Embeddings+e.Responses != 0 {
		t.Fatalf("%d chat calls to a, %+v to e", a.Chat, e)
	}
}
