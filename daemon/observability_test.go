package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/conversations"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/realtime"
	"github.com/openai/openai-go/v3/responses"
	"github.com/prometheus/client_golang/prometheus/testutil"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/daemon"
	"github.com/breakerd/breakerd/events"
	"github.com/breakerd/breakerd/health"
	"github.com/breakerd/breakerd/internal/external"
	"github.com/breakerd/breakerd/mockllm"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 1, 26, 12, 0, 0, 0, time.UTC)

const cfgText = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: ${PRIMARY}/v1
      api_key: sk-primary-secret-key
  - model_name: claude-3-5-sonnet
    litellm_params:
      model: anthropic/claude-3-5-sonnet-20241022
      api_base: ${BACKUP}
      api_key: sk-ant-secret-key
router_settings:
  routing_strategy: ordered
  fallbacks: [claude-3-5-sonnet]
  circuit_breaker:
    failure_threshold: 5
    recovery_timeout: 30
`

type stack struct {
	d        *daemon.Daemon
	url      string
	clock    *breaker.ManualClock
	primary  *mockllm.Server
	backup   *mockllm.Server
	spans    *tracetest.InMemoryExporter
	sdk      openai.Client
	headers  *headerLog
	upstream *http.Client
}

// headerLog records the traceparent of each request a mock receives.
type headerLog struct {
	mu           sync.Mutex
	traceparents []string
}

func (h *headerLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.traceparents = append(h.traceparents, r.Header.Get("traceparent"))
		h.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func newStack(t *testing.T) *stack {
	t.Helper()
	return newStackFrom(t, cfgText)
}

// newStackFrom is newStack with another config, which names its mocks
// ${PRIMARY} and ${BACKUP}.
func newStackFrom(t *testing.T, cfgText string) *stack {
	t.Helper()
	s := &stack{clock: breaker.NewManualClock(t0), headers: &headerLog{},
		primary: mockllm.New(mockllm.Options{Name: "primary"}), backup: mockllm.New(mockllm.Options{Name: "backup"})}
	p := httptest.NewServer(s.headers.wrap(s.primary.Handler()))
	b := httptest.NewServer(s.backup.Handler())
	vars := map[string]string{"PRIMARY": p.URL, "BACKUP": b.URL}
	cfg, err := config.Parse("t.yaml", []byte(cfgText), func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	s.spans = tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(s.spans))
	s.upstream = &http.Client{Transport: &http.Transport{}}
	s.d, err = daemon.New(daemon.Options{Config: cfg, Clock: s.clock, TracerProvider: tp, Client: s.upstream})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.d.Handler())
	s.url = srv.URL
	hc := &http.Client{Transport: &http.Transport{}}
	s.sdk = openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("k"), option.WithMaxRetries(0), option.WithHTTPClient(hc))
	t.Cleanup(func() {
		srv.Close()
		hc.CloseIdleConnections()
		s.d.Close()
		s.upstream.CloseIdleConnections()
		p.Close()
		b.Close()
		_ = tp.Shutdown(context.Background())
	})
	return s
}

func (s *stack) chat(t *testing.T, opts ...option.RequestOption) {
	t.Helper()
	if _, err := s.sdk.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}, opts...); err != nil {
		t.Fatal(err)
	}
}

// settle waits until every request has finished (a client can read its
// whole answer before the handler reports it to the observers) and every
// transition has reached every subscriber.
func (s *stack) settle(t *testing.T) {
	t.Helper()
	for s.d.Gateway().Shedding().InFlight > 0 {
		runtime.Gosched()
	}
	s.d.Gateway().Registry().WaitListeners()
	if err := s.d.Bus().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

const primaryBreaker = "gpt-4o-mini/openai/gpt-4o-mini:chat"

func TestMetricsAfterScriptedOutage(t *testing.T) {
	s := newStack(t)
	s.chat(t) // one good call
	s.primary.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	for i := 0; i < 8; i++ { // 5 failures open the circuit, 3 fast-fail
		s.chat(t)
	}
	s.primary.SetFaults(mockllm.Faults{})
	s.clock.Advance(30 * time.Second)
	s.chat(t)
	s.chat(t) // two trials close it
	s.settle(t)

	reg := s.d.Metrics().Registry()
	for _, tc := range []struct {
		metric string
		labels map[string]string
		want   float64
	}{
		{"circuit_breaker_failures_total", map[string]string{"breaker": primaryBreaker}, 5},
		{"circuit_breaker_calls_total", map[string]string{"breaker": primaryBreaker, "outcome": "rejected"}, 3},
		{"circuit_breaker_calls_total", map[string]string{"breaker": primaryBreaker, "outcome": "success"}, 3},
		{"circuit_breaker_state", map[string]string{"breaker": primaryBreaker}, 0},
		{"circuit_breaker_state_info", map[string]string{"breaker": primaryBreaker, "state": "closed"}, 1},
		{"circuit_breaker_state_info", map[string]string{"breaker": primaryBreaker, "state": "open"}, 0},
		{"circuit_breaker_state_changes_total", map[string]string{"breaker": primaryBreaker, "from_state": "closed", "to_state": "open"}, 1},
		{"circuit_breaker_state_changes_total", map[string]string{"breaker": primaryBreaker, "from_state": "half_open", "to_state": "closed"}, 1},
		{"circuit_breaker_open_duration_seconds_sum", map[string]string{"breaker": primaryBreaker}, 30},
		{"circuit_breaker_open_duration_seconds_count", map[string]string{"breaker": primaryBreaker}, 1},
		{"breakerd_requests_total", map[string]string{"model_group": "gpt-4o-mini", "status_code": "200"}, 11},
		{"breakerd_overhead_duration_seconds_count", map[string]string{"model_group": "gpt-4o-mini"}, 11},
		{"breakerd_request_duration_seconds_count", map[string]string{"model_group": "gpt-4o-mini"}, 11},
		{"breakerd_requests_served_by_fallback_total", map[string]string{"model_group": "gpt-4o-mini"}, 8},
		{"breakerd_upstream_attempt_duration_seconds_count", map[string]string{"model": "gpt-4o-mini", "outcome": "success"}, 3},
		{"breakerd_upstream_attempt_duration_seconds_count", map[string]string{"model": "gpt-4o-mini", "outcome": "error"}, 5},
		{"breakerd_fallbacks_total", map[string]string{"model_group": "gpt-4o-mini", "reason": "failure"}, 5},
		{"breakerd_fallbacks_total", map[string]string{"model_group": "gpt-4o-mini", "reason": "open"}, 3},
		{"breakerd_upstream_calls_avoided_total", map[string]string{"model": "gpt-4o-mini", "operation": "chat"}, 3},
		{"breakerd_tokens_total", map[string]string{"model": "claude-3-5-sonnet-20241022", "type": "input"}, 16},
		{"breakerd_events_dropped_total", map[string]string{"subscriber": "metrics"}, 0},
	} {
		if got := value(t, s, tc.metric, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.metric, tc.labels, got, tc.want)
		}
	}
	if got := value(t, s, "breakerd_spend_avoided_usd_total", map[string]string{"model": "gpt-4o-mini"}); got <= 0 {
		t.Errorf("spend avoided %v, want > 0 from gpt-4o-mini's list price", got)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %+v", err, problems)
	}
}

// With LiteLLM's prometheus callback in the config, /metrics also has
// LiteLLM's metrics, under its names and labels, telling the same outage:
// dashboards and alert rules written for a LiteLLM proxy keep working.
func TestLiteLLMMetricNames(t *testing.T) {
	s := newStackFrom(t, strings.Replace(cfgText, "      api_key: sk-primary-secret-key\n",
		"      api_key: sk-primary-secret-key\n      rpm: 600\n      input_cost_per_token: 0.000001\n      output_cost_per_token: 0.000004\n"+
			"    model_info: {id: primary-eu}\n", 1)+
		"litellm_settings:\n  callbacks: [prometheus]\n")
	primary := map[string]string{"model_id": "primary-eu"}
	if got := value(t, s, "litellm_deployment_state", primary); got != 0 {
		t.Fatalf("state %v before any call, want 0 (healthy)", got)
	}
	// One good call, streamed.
	stream := s.sdk.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	for stream.Next() {
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	stream.Close()
	// The stream's success is judged when its relay ends, which may be
	// after the client read its end: wait for it, or it could land among
	// the failures below and break their run of five.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !s.d.Gateway().Wait(ctx) {
		t.Fatal("the stream is still relayed")
	}
	s.primary.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	for i := 0; i < 8; i++ { // 5 failures open the circuit, 3 fast-fail
		s.chat(t)
	}
	s.backup.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	if _, err := s.sdk.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}); err == nil {
		t.Fatal("served with both deployments down")
	}
	s.settle(t)
	for _, tc := range []struct {
		metric string
		labels map[string]string
		want   float64
	}{
		{"litellm_deployment_state", map[string]string{"model_id": "primary-eu", "litellm_model_name": "openai/gpt-4o-mini", "api_provider": "openai"}, 2},
		{"litellm_deployment_cooled_down_total", map[string]string{"model_id": "primary-eu", "exception_status": "503"}, 1},
		{"litellm_deployment_total_requests_total", map[string]string{"model_id": "primary-eu", "requested_model": "gpt-4o-mini"}, 6},
		{"litellm_deployment_success_responses_total", primary, 1},
		{"litellm_deployment_failure_responses_total", map[string]string{"model_id": "primary-eu", "exception_status": "503", "exception_class": "ServiceUnavailableError"}, 5},
		{"litellm_deployment_rpm_limit", primary, 600},
		{"litellm_llm_api_latency_metric_count", primary, 6},
		{"litellm_proxy_total_requests_metric_total", map[string]string{"requested_model": "gpt-4o-mini", "status_code": "200", "route": "/v1/chat/completions"}, 9},
		{"litellm_proxy_failed_requests_metric_total", map[string]string{"requested_model": "gpt-4o-mini", "exception_status": "503",
			"exception_class": "ServiceUnavailableError", "route": "/v1/chat/completions"}, 1},
		{"litellm_request_total_latency_metric_count", map[string]string{"requested_model": "gpt-4o-mini"}, 10},
		{"litellm_input_tokens_metric_total", map[string]string{"model": "claude-3-5-sonnet-20241022"},
			value(t, s, "breakerd_tokens_total", map[string]string{"model": "claude-3-5-sonnet-20241022", "type": "input"})},
		{"litellm_llm_api_time_to_first_token_metric_count", primary, 1},
		{"litellm_overhead_latency_metric_count", map[string]string{"model_group": "gpt-4o-mini", "model_id": "primary-eu"}, 1},
		{"litellm_overhead_latency_metric_count", map[string]string{"model_group": "claude-3-5-sonnet"}, 8},
		{"litellm_deployment_latency_per_output_token_count", primary, 1},
		{"litellm_requests_metric_total", map[string]string{"model_id": "primary-eu", "model": "gpt-4o-mini", "api_provider": "openai"}, 1},
		{"litellm_requests_metric_total", map[string]string{"model": "claude-3-5-sonnet-20241022"}, 8},
		{"litellm_spend_metric_total", primary,
			value(t, s, "breakerd_tokens_total", map[string]string{"model": "gpt-4o-mini", "type": "input"})*0.000001 +
				value(t, s, "breakerd_tokens_total", map[string]string{"model": "gpt-4o-mini", "type": "output"})*0.000004},
		// Five fell back after a 503, three past the open circuit (no
		// deployment available: LiteLLM's 429), and the last found the
		// fallback failing too.
		{"litellm_deployment_successful_fallbacks_total", map[string]string{"requested_model": "gpt-4o-mini",
			"fallback_model": "claude-3-5-sonnet", "exception_status": "503", "exception_class": "ServiceUnavailableError"}, 5},
		{"litellm_deployment_successful_fallbacks_total", map[string]string{"requested_model": "gpt-4o-mini",
			"fallback_model": "claude-3-5-sonnet", "exception_status": "429", "exception_class": "RateLimitError"}, 3},
		{"litellm_deployment_failed_fallbacks_total", map[string]string{"requested_model": "gpt-4o-mini",
			"fallback_model": "claude-3-5-sonnet", "exception_status": "429"}, 1},
	} {
		if got := value(t, s, tc.metric, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.metric, tc.labels, got, tc.want)
		}
	}
	if problems, err := testutil.GatherAndLint(s.d.Metrics().Registry()); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %+v", err, problems)
	}
	text := scrape(t, s)
	for _, secret := range []string{"sk-primary-secret-key", "sk-ant-secret-key"} {
		if strings.Contains(text, secret) {
			t.Errorf("/metrics contains %q", secret)
		}
	}
	promtoolCheck(t, text)
}

// Spend prices the prompt tokens read from Claude's prompt cache and
// written to it at their own list prices (a tenth and 1.25 times the
// input's), not as fresh input, in breakerd's metrics and LiteLLM's.
func TestSpendPricesCachedPrompts(t *testing.T) {
	s := newStackFrom(t, cfgText+"litellm_settings:\n  callbacks: [prometheus]\n")
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	client := anthropic.NewClient(aoption.WithBaseURL(s.url), aoption.WithAPIKey("k"), aoption.WithMaxRetries(0), aoption.WithHTTPClient(hc))
	system := strings.Repeat("policy ", 1200) // 1,201 tokens as the mock counts them
	for range 2 {                             // written, then read
		if _, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{Model: "claude-3-5-sonnet", MaxTokens: 64,
			System:   []anthropic.TextBlockParam{{Text: system, CacheControl: anthropic.NewCacheControlEphemeralParam()}},
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hello there"))}}); err != nil {
			t.Fatal(err)
		}
	}
	s.settle(t)
	claude := map[string]string{"model": "claude-3-5-sonnet-20241022"}
	if got := value(t, s, "breakerd_tokens_total", map[string]string{"model": "claude-3-5-sonnet-20241022", "type": "input"}); got != 2*(3+1201) {
		t.Fatalf("input tokens %v, want %d: the cached prefix counts", got, 2*(3+1201))
	}
	out := value(t, s, "breakerd_tokens_total", map[string]string{"model": "claude-3-5-sonnet-20241022", "type": "output"})
	want := (2*3*3.00 + 1201*3.75 + 1201*0.30 + out*15.00) / 1e6
	if got := value(t, s, "litellm_spend_metric_total", claude); math.Abs(got-want) > 1e-12 {
		t.Fatalf("spend $%v, want $%v", got, want)
	}
	if got := value(t, s, "breakerd_spend_usd_total", claude); math.Abs(got-want) > 1e-12 {
		t.Fatalf("breakerd's spend $%v, want $%v", got, want)
	}
	for typ, want := range map[string]float64{"read": 1201, "write": 1201} {
		if got := value(t, s, "breakerd_cached_tokens_total", map[string]string{"model": "claude-3-5-sonnet-20241022", "type": typ}); got != want {
			t.Errorf("%v prompt-cache tokens %s, want %v", got, typ, want)
		}
	}
	// The attempts' spans say so in GenAI's terms.
	var cached []string
	for _, sp := range s.spans.GetSpans() {
		for _, kv := range sp.Attributes {
			if k := string(kv.Key); strings.HasPrefix(k, "gen_ai.usage.cache_") {
				cached = append(cached, k+"="+kv.Value.Emit())
			}
		}
	}
	if want := []string{"gen_ai.usage.cache_read.input_tokens=0", "gen_ai.usage.cache_creation.input_tokens=1201",
		"gen_ai.usage.cache_read.input_tokens=1201", "gen_ai.usage.cache_creation.input_tokens=0"}; !slices.Equal(cached, want) {
		t.Fatalf("spans' cache usage %q, want %q", cached, want)
	}
}

// OpenAI's automatic prompt caching through breakerd: a long prompt sent
// again reads its prefix from the cache (mockllm plays it), which counts
// as cached tokens and is priced at the cached input price (half of
// gpt-4o-mini's input price), for chat and streams alike.
func TestSpendPricesOpenAICachedPrompts(t *testing.T) {
	s := newStackFrom(t, cfgText)
	system := strings.Repeat("policy ", 1200) // with "hello there": 1,203 tokens, 1,152 of them cached from the second call
	params := openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(system), openai.UserMessage("hello there")}}
	for range 2 {
		if _, err := s.sdk.Chat.Completions.New(context.Background(), params); err != nil {
			t.Fatal(err)
		}
	}
	st := s.sdk.Chat.Completions.NewStreaming(context.Background(), params) // no include_usage: breakerd asks for it
	var acc openai.ChatCompletionAccumulator
	for st.Next() {
		acc.AddChunk(st.Current())
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	s.settle(t)
	mini := map[string]string{"model": "gpt-4o-mini"}
	if got := value(t, s, "breakerd_cached_tokens_total", map[string]string{"model": "gpt-4o-mini", "type": "read"}); got != 2*1152 {
		t.Fatalf("%v prompt-cache tokens read, want %d", got, 2*1152)
	}
	out := value(t, s, "breakerd_tokens_total", map[string]string{"model": "gpt-4o-mini", "type": "output"})
	want := (1203*0.15 + 2*(51*0.15+1152*0.075) + out*0.60) / 1e6
	if got := value(t, s, "breakerd_spend_usd_total", mini); math.Abs(got-want) > 1e-12 {
		t.Fatalf("spend $%v, want $%v", got, want)
	}
}

// A provider's budget is on /metrics, breakerd's and LiteLLM's: what is
// left of it (its limit less what answered calls cost, as spend counts
// them), and the calls passed over once it is spent.
func TestBudgetMetrics(t *testing.T) {
	s := newStackFrom(t, cfgText+"  provider_budget_config:\n    openai: {budget_limit: 0.000001, time_period: 1d}\n"+
		"litellm_settings:\n  callbacks: [prometheus]\n")
	s.chat(t) // OpenAI's: spends more than its budget
	s.chat(t) // passed over to the fallback
	s.settle(t)
	if s.primary.Stats().Chat != 1 {
		t.Fatalf("the primary got %d calls, want 1", s.primary.Stats().Chat)
	}
	spent := value(t, s, "breakerd_spend_usd_total", map[string]string{"provider": "openai"})
	openai := map[string]string{"scope": "provider", "name": "openai"}
	for _, tc := range []struct {
		metric string
		labels map[string]string
		want   float64
	}{
		{"breakerd_budget_remaining_usd", openai, 0.000001 - spent},
		{"breakerd_budget_limit_usd", map[string]string{"scope": "provider", "name": "openai", "window": "1d"}, 0.000001},
		{"litellm_provider_remaining_budget_metric", map[string]string{"api_provider": "openai"}, 0.000001 - spent},
		{"breakerd_passed_over_total", map[string]string{"provider": "openai", "operation": "chat", "reason": "budget"}, 1},
	} {
		if got := value(t, s, tc.metric, tc.labels); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("%s%v = %v, want %v", tc.metric, tc.labels, got, tc.want)
		}
	}
	if spent <= 0.000001 {
		t.Fatalf("spent $%v: the test needs a call that spends the budget", spent)
	}
	// LiteLLM's GET /provider/budgets says the same.
	resp, err := http.Get(s.url + "/provider/budgets")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Providers map[string]struct {
			Limit  float64 `json:"budget_limit"`
			Period string  `json:"time_period"`
			Spend  float64 `json:"spend"`
			Reset  string  `json:"budget_reset_at"`
		} `json:"providers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	o := got.Providers["openai"]
	if len(got.Providers) != 1 || o.Limit != 0.000001 || o.Period != "1d" || math.Abs(o.Spend-spent) > 1e-15 ||
		o.Reset != s.clock.Now().Add(24*time.Hour).UTC().Format(time.RFC3339) {
		t.Fatalf("/provider/budgets: %+v", got)
	}
	// The status page says why the deployment is passed over.
	sresp, err := http.Get(s.url + "/status.json")
	if err != nil {
		t.Fatal(err)
	}
	defer sresp.Body.Close()
	var st health.StatusView
	if err := json.NewDecoder(sresp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	var says []string
	for _, g := range st.Groups {
		for _, d := range g.Deployments {
			says = append(says, d.Name+": "+d.BudgetSpent)
		}
	}
	if !slices.Contains(says, "gpt-4o-mini/openai/gpt-4o-mini: its provider budget of $0.000001 per 1d is spent ($"+
		strconv.FormatFloat(spent, 'g', 4, 64)+") until "+o.Reset) {
		t.Fatalf("the status page says %q", says)
	}
}

// A request that falls back through two groups counts, in LiteLLM's
// fallback metrics, a failed fallback to the first and a successful one
// to the second, both for the requested group's failure.
func TestLiteLLMFallbacksThroughTwoGroups(t *testing.T) {
	s := newStackFrom(t, `
model_list:
  - model_name: a
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${PRIMARY}/v1", api_key: sk-primary-secret-key}
  - model_name: b
    litellm_params: {model: openai/gpt-4o, api_base: "${PRIMARY}/v1", api_key: sk-primary-secret-key}
  - model_name: c
    litellm_params: {model: anthropic/claude-3-5-sonnet-20241022, api_base: "${BACKUP}", api_key: sk-ant-secret-key}
router_settings:
  routing_strategy: ordered
  fallbacks: [{a: [b, c]}]
litellm_settings:
  callbacks: [prometheus]
`)
	s.primary.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	if _, err := s.sdk.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "a",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}); err != nil {
		t.Fatal(err)
	}
	s.settle(t)
	fell := map[string]string{"requested_model": "a", "exception_status": "503", "exception_class": "ServiceUnavailableError"}
	with := func(k, v string) map[string]string { m := maps.Clone(fell); m[k] = v; return m }
	if got := value(t, s, "litellm_deployment_failed_fallbacks_total", with("fallback_model", "b")); got != 1 {
		t.Errorf("%v failed fallbacks to b, want 1", got)
	}
	if got := value(t, s, "litellm_deployment_successful_fallbacks_total", with("fallback_model", "c")); got != 1 {
		t.Errorf("%v successful fallbacks to c, want 1", got)
	}
}

// scrape returns /metrics as Prometheus reads it.
func scrape(t *testing.T, s *stack) string {
	t.Helper()
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	return string(body)
}

// promtoolCheck runs promtool's metrics linter on an exposition.
func promtoolCheck(t *testing.T, text string) {
	t.Helper()
	cmd := exec.Command(external.Program(t, "promtool"), "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// Without the callback, none of LiteLLM's metrics are there.
func TestNoLiteLLMMetricNamesByDefault(t *testing.T) {
	s := newStack(t)
	mfs, err := s.d.Metrics().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "litellm_") {
			t.Fatalf("%s without litellm_settings.callbacks: [prometheus]", mf.GetName())
		}
	}
}

// A deployment passed over for a prompt over its context window is
// counted, by reason, and the request served by the one it fits.
func TestPassedOverMetric(t *testing.T) {
	small := strings.Replace(cfgText, "api_key: sk-primary-secret-key\n", "api_key: sk-primary-secret-key\n      max_input_tokens: 10\n", 1) +
		"  enable_pre_call_checks: true\nlitellm_settings:\n  callbacks: [prometheus]\n"
	s := newStackFrom(t, small)
	if _, err := s.sdk.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(strings.Repeat("a long prompt ", 20))}}); err != nil {
		t.Fatal(err)
	}
	s.chat(t) // a short one fits
	s.settle(t)
	if got := value(t, s, "breakerd_passed_over_total", map[string]string{"model": "gpt-4o-mini", "operation": "chat", "reason": "context_window"}); got != 1 {
		t.Errorf("passed over %v times for its context window, want 1", got)
	}
	if got := value(t, s, "breakerd_requests_served_by_fallback_total", map[string]string{"model_group": "gpt-4o-mini"}); got != 1 {
		t.Errorf("%v served by the fallback, want 1", got)
	}
	// LiteLLM's: a fallback for ContextWindowExceededError.
	if got := value(t, s, "litellm_deployment_successful_fallbacks_total", map[string]string{"requested_model": "gpt-4o-mini",
		"fallback_model": "claude-3-5-sonnet", "exception_status": "400", "exception_class": "ContextWindowExceededError"}); got != 1 {
		t.Errorf("%v successful fallbacks for the context window, want 1", got)
	}
}

// What an upstream says is left of its own rate limits is on /metrics,
// breakerd's and LiteLLM's: OpenAI's x-ratelimit-* and Anthropic's
// anthropic-ratelimit-* headers, with answers and 429s, until the limit's
// reset. An upstream that says nothing has no series, rather than one
// that reads as none left.
func TestUpstreamRateLimitRemaining(t *testing.T) {
	s := newStackFrom(t, cfgText+"litellm_settings:\n  callbacks: [prometheus]\n")
	s.primary.SetFaults(mockllm.Faults{RPMLimit: 5})
	s.chat(t)
	s.chat(t)
	s.settle(t)
	openaiLeft := map[string]string{"deployment": "gpt-4o-mini/openai/gpt-4o-mini", "provider": "openai", "limit": "requests"}
	if got := value(t, s, "breakerd_upstream_rate_limit_remaining", openaiLeft); got != 3 {
		t.Errorf("%v requests left at OpenAI, want 3", got)
	}
	if got := value(t, s, "litellm_remaining_requests_metric", map[string]string{"model_group": "gpt-4o-mini", "api_provider": "openai",
		"litellm_model_name": "openai/gpt-4o-mini", "model_id": "gpt-4o-mini/openai/gpt-4o-mini"}); got != 3 {
		t.Errorf("LiteLLM's: %v requests left, want 3", got)
	}
	mfs, err := s.d.Metrics().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if n := mf.GetName(); n == "breakerd_upstream_rate_limit_remaining" || n == "litellm_remaining_tokens_metric" {
			for _, m := range mf.GetMetric() {
				for _, lp := range m.GetLabel() {
					if lp.GetValue() == "tokens" || lp.GetValue() == "anthropic" {
						t.Errorf("%s %v: a limit the upstream did not report", n, m.GetLabel())
					}
				}
			}
		}
	}
	// Once the limit's reset (the mock's minute) has passed, the whole
	// limit, as OpenAI's x-ratelimit-limit-requests gave it.
	s.clock.Advance(61 * time.Second)
	if got := value(t, s, "breakerd_upstream_rate_limit_remaining", openaiLeft); got != 5 {
		t.Errorf("after the reset, %v requests left at OpenAI, want the whole 5", got)
	}
	// A 429 says what is left too: nothing.
	s.primary.SetFaults(mockllm.Faults{RPMLimit: 2}) // the mock's window already holds 2
	s.chat(t)                                        // served by the fallback
	s.settle(t)
	if got := value(t, s, "breakerd_upstream_rate_limit_remaining", openaiLeft); got != 0 {
		t.Errorf("after a 429, %v requests left at OpenAI, want 0", got)
	}
	// Anthropic's own headers.
	s.backup.SetFaults(mockllm.Faults{RPMLimit: 1})
	if _, err := s.sdk.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "claude-3-5-sonnet",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}); err != nil {
		t.Fatal(err)
	}
	s.settle(t)
	if got := value(t, s, "breakerd_upstream_rate_limit_remaining", map[string]string{"provider": "anthropic", "limit": "requests"}); got != 0 {
		t.Errorf("%v requests left at Anthropic, want 0", got)
	}
}

func TestRateLimitMetrics(t *testing.T) {
	limited := strings.Replace(cfgText, "api_key: sk-primary-secret-key\n", "api_key: sk-primary-secret-key\n      rpm: 1\n", 1) +
		"  enable_pre_call_checks: true\n"
	s := newStackFrom(t, limited)
	s.chat(t) // the primary's one request of the minute
	s.chat(t) // passed over to the fallback
	s.settle(t)
	primary := map[string]string{"deployment": "gpt-4o-mini/openai/gpt-4o-mini", "limit": "requests"}
	for _, tc := range []struct {
		metric string
		labels map[string]string
		want   float64
	}{
		{"breakerd_rate_limited_total", map[string]string{"model": "gpt-4o-mini", "operation": "chat"}, 1},
		{"breakerd_fallbacks_total", map[string]string{"model_group": "gpt-4o-mini", "reason": "rate_limited"}, 1},
		{"breakerd_rate_limit_remaining", primary, 0},
		{"circuit_breaker_failures_total", map[string]string{"breaker": primaryBreaker}, 0},
	} {
		if got := value(t, s, tc.metric, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.metric, tc.labels, got, tc.want)
		}
	}
	s.clock.Advance(30 * time.Second)
	if got := value(t, s, "breakerd_rate_limit_remaining", primary); got != 0.5 {
		t.Errorf("after 30s, %v requests left, want 0.5", got)
	}
	if problems, err := testutil.GatherAndLint(s.d.Metrics().Registry()); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %+v", err, problems)
	}
}

// value returns the sum of the series of metric whose labels include
// labels.
func value(t *testing.T, s *stack, metric string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := s.d.Metrics().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	base, suffix := metric, ""
	for _, suf := range []string{"_sum", "_count"} {
		if b, ok := strings.CutSuffix(metric, suf); ok {
			base, suffix = b, suf
		}
	}
	var sum float64
	found := false
	for _, mf := range mfs {
		if mf.GetName() != base {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			found = true
			switch {
			case suffix == "_sum":
				sum += m.GetHistogram().GetSampleSum()
			case suffix == "_count":
				sum += float64(m.GetHistogram().GetSampleCount())
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			}
		}
	}
	if !found {
		t.Fatalf("no series %s%v", metric, labels)
	}
	return sum
}

func TestMetricsEndpointShowsSeedNamesAfterTrip(t *testing.T) {
	s := newStack(t)
	s.primary.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
	for i := 0; i < 6; i++ {
		s.chat(t)
	}
	s.settle(t)
	text := scrape(t, s)
	lbl := `{breaker="` + primaryBreaker + `",model="gpt-4o-mini",model_group="gpt-4o-mini",operation="chat",provider="openai"}`
	for _, want := range []string{
		"circuit_breaker_state" + lbl + " 1",
		"circuit_breaker_failures_total" + lbl + " 5",
		`circuit_breaker_state_changes_total{breaker="` + primaryBreaker + `",from_state="closed",model="gpt-4o-mini",model_group="gpt-4o-mini",operation="chat",provider="openai",to_state="open"} 1`,
		// Configured breakers exist from startup, at 0.
		`circuit_breaker_state{breaker="claude-3-5-sonnet/anthropic/claude-3-5-sonnet-20241022:chat",model="claude-3-5-sonnet-20241022",model_group="claude-3-5-sonnet",operation="chat",provider="anthropic"} 0`,
		`breakerd_build_info{`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, secret := range []string{"sk-primary-secret-key", "sk-ant-secret-key", "127.0.0.1"} {
		if strings.Contains(text, secret) {
			t.Errorf("/metrics contains %q", secret)
		}
	}
	promtoolCheck(t, text)
}

func TestSpans(t *testing.T) {
	s := newStack(t)
	s.primary.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	s.chat(t, option.WithHeader("traceparent", parent))
	s.settle(t)
	spans := s.spans.GetSpans()
	byName := map[string][]tracetest.SpanStub{}
	for _, sp := range spans {
		byName[sp.Name] = append(byName[sp.Name], sp)
	}
	server := byName["POST /v1/chat/completions"]
	if len(server) != 1 {
		t.Fatalf("spans %v", names(spans))
	}
	if server[0].SpanContext.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || server[0].Parent.SpanID().String() != "00f067aa0ba902b7" {
		t.Fatal("the server span does not continue the client's trace")
	}
	openaiSpan, claudeSpan := byName["chat gpt-4o-mini"], byName["chat claude-3-5-sonnet-20241022"]
	if len(openaiSpan) != 1 || len(claudeSpan) != 1 {
		t.Fatalf("spans %v", names(spans))
	}
	for _, sp := range []tracetest.SpanStub{openaiSpan[0], claudeSpan[0]} {
		if sp.Parent.SpanID() != server[0].SpanContext.SpanID() {
			t.Fatalf("%s is not a child of the server span", sp.Name)
		}
	}
	attrs := func(sp tracetest.SpanStub) map[string]string {
		m := map[string]string{}
		for _, kv := range sp.Attributes {
			m[string(kv.Key)] = kv.Value.String()
		}
		return m
	}
	a := attrs(openaiSpan[0])
	for k, v := range map[string]string{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
		"gen_ai.request.model": "gpt-4o-mini", "error.type": "http_500", "breakerd.breaker.name": primaryBreaker,
		"breakerd.breaker.rejected": "false", "breakerd.attempt": "1", "breakerd.fallback_index": "0"} {
		if a[k] != v {
			t.Errorf("openai span %s = %q, want %q", k, a[k], v)
		}
	}
	c := attrs(claudeSpan[0])
	for k, v := range map[string]string{"gen_ai.provider.name": "anthropic", "gen_ai.response.model": "claude-3-5-sonnet-20241022",
		"breakerd.fallback_index": "1", "breakerd.attempt": "2"} {
		if c[k] != v {
			t.Errorf("claude span %s = %q, want %q", k, c[k], v)
		}
	}
	if c["gen_ai.usage.input_tokens"] == "" || c["gen_ai.usage.output_tokens"] == "" {
		t.Errorf("no usage on the claude span: %v", c)
	}
	// The upstream got the attempt span's traceparent.
	s.headers.mu.Lock()
	tp := s.headers.traceparents
	s.headers.mu.Unlock()
	if len(tp) != 1 || !strings.HasPrefix(tp[0], "00-4bf92f3577b34da6a3ce929d0e0e4736-"+openaiSpan[0].SpanContext.SpanID().String()) {
		t.Fatalf("upstream traceparents %v", tp)
	}

	// A trip makes a transition span of its own.
	for i := 0; i < 4; i++ {
		s.chat(t)
	}
	s.settle(t)
	var transition *tracetest.SpanStub
	for _, sp := range s.spans.GetSpans() {
		if sp.Name == "circuit_breaker closed -> open" {
			transition = &sp
		}
	}
	if transition == nil {
		t.Fatalf("no transition span in %v", names(s.spans.GetSpans()))
	}
	ta := attrs(*transition)
	if !strings.HasPrefix(ta["breakerd.breaker.reason"], "5 consecutive failures; last: 500 Internal Server Error: ") || ta["breakerd.breaker.failures"] != "5" || ta["breakerd.breaker.name"] != primaryBreaker {
		t.Fatalf("transition attributes %v", ta)
	}
	// A fast-failed deployment shows as a rejected span, with no call.
	s.chat(t)
	rejected := 0
	for _, sp := range s.spans.GetSpans() {
		if sp.Name == "chat gpt-4o-mini" && attrs(sp)["breakerd.breaker.rejected"] == "true" {
			rejected++
		}
	}
	if rejected != 1 {
		t.Fatalf("%d rejected spans, want 1", rejected)
	}
}

// Calls on a stored response or a conversation show where an on-call
// person looks: counted in the requests of the model group whose
// deployment stores it (not timed with the model's latency), and traced
// as a server span named by the route, with the deployment, its breaker
// and the status.
func TestCallsOnStoredObjectsAreCountedAndTraced(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	resp, err := s.sdk.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-4o-mini",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.sdk.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{}); err != nil {
		t.Fatal(err)
	}
	conv, err := s.sdk.Conversations.New(ctx, conversations.ConversationNewParams{})
	if err != nil {
		t.Fatal(err)
	}
	s.primary.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	if _, err := s.sdk.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{}); err == nil {
		t.Fatal("a retrieval from a failing deployment succeeded")
	}
	b, _ := s.d.Gateway().Registry().Lookup(primaryBreaker)
	b.ForceOpen("test")
	if _, err := s.sdk.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{}); err == nil {
		t.Fatal("a retrieval from an open deployment succeeded")
	}
	s.settle(t)
	for _, tc := range []struct {
		metric string
		labels map[string]string
		want   float64
	}{
		{"breakerd_requests_total", map[string]string{"model_group": "gpt-4o-mini", "status_code": "200"}, 3}, // the response, its retrieval, the conversation
		{"breakerd_requests_total", map[string]string{"model_group": "gpt-4o-mini", "status_code": "503"}, 2},
		{"breakerd_upstream_calls_avoided_total", map[string]string{"model": "gpt-4o-mini", "operation": "chat"}, 0}, // a retrieval is no chat call avoided
		{"breakerd_request_duration_seconds_count", map[string]string{"model_group": "gpt-4o-mini"}, 1},              // the model's answer alone
		{"circuit_breaker_failures_total", map[string]string{"breaker": primaryBreaker}, 1},
	} {
		if got := value(t, s, tc.metric, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.metric, tc.labels, got, tc.want)
		}
	}
	var gets, creates []tracetest.SpanStub
	for _, sp := range s.spans.GetSpans() {
		switch sp.Name {
		case "GET /v1/responses/{id}":
			gets = append(gets, sp)
		case "POST /v1/conversations":
			creates = append(creates, sp)
		}
	}
	if len(gets) != 3 || len(creates) != 1 {
		t.Fatalf("spans %v", names(s.spans.GetSpans()))
	}
	for i, want := range []string{"200", "503"} {
		a := map[string]string{}
		for _, kv := range gets[i].Attributes {
			a[string(kv.Key)] = kv.Value.Emit()
		}
		if a["http.response.status_code"] != want || a["breakerd.deployment"] != "gpt-4o-mini/openai/gpt-4o-mini" ||
			a["breakerd.breaker.name"] != primaryBreaker || a["gen_ai.operation.name"] != "" || strings.Contains(a["url.path"], "{id}") {
			t.Errorf("retrieval span %d: %v", i, a)
		}
	}
	if !strings.HasPrefix(conv.ID, "conv_") || gets[1].Status.Code.String() != "Error" {
		t.Errorf("conversation %s; failed retrieval's span status %v", conv.ID, gets[1].Status)
	}
}

// A Realtime session an open circuit keeps from a deployment counts as a
// call avoided there, and the session opens at the next deployment.
func TestRealtimeCallsAvoided(t *testing.T) {
	s := newStackFrom(t, `
model_list:
  - model_name: gpt-realtime
    litellm_params: {model: openai/gpt-realtime, api_base: "${PRIMARY}/v1", api_key: sk-primary-secret-key}
  - model_name: gpt-realtime
    litellm_params: {model: openai/gpt-realtime-mini, api_base: "${BACKUP}/v1", api_key: sk-backup-secret-key}
router_settings:
  routing_strategy: ordered
`)
	b, _ := s.d.Gateway().Registry().Lookup("gpt-realtime/openai/gpt-realtime:realtime")
	b.ForceOpen("test")
	ctx := context.Background()
	conn, err := s.sdk.Realtime.Connect(ctx, realtime.RealtimeConnectionOptions{}, option.WithQuery("model", "gpt-realtime"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if raw, err := conn.RecvRaw(ctx); err != nil || !strings.Contains(string(raw), `"model":"gpt-realtime-mini"`) {
		t.Fatalf("first event %s (%v)", raw, err)
	}
	if got := value(t, s, "breakerd_upstream_calls_avoided_total", map[string]string{"model": "gpt-realtime", "operation": "realtime"}); got != 1 {
		t.Fatalf("calls avoided %v, want 1", got)
	}
	if n := s.primary.Stats().Requests; n != 0 {
		t.Fatalf("the open deployment got %d calls", n)
	}
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

func TestBlockedSubscriberDoesNotSlowRequests(t *testing.T) {
	s := newStack(t)
	release := make(chan struct{})
	s.d.Bus().Subscribe("stuck", 1, events.SubscriberFunc(func(events.Event) { <-release }))
	defer close(release)
	s.primary.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 50; i++ {
			s.chat(t) // every one publishes fallback events; the trip publishes a transition
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("requests stalled behind a blocked subscriber")
	}
	var stuck events.Stat
	for _, st := range s.d.Bus().Stats() {
		if st.Name == "stuck" {
			stuck = st
		}
	}
	if stuck.Dropped == 0 {
		t.Fatalf("stats %+v: the blocked subscriber should have lost events", stuck)
	}
	if got := value(t, s, "breakerd_events_dropped_total", map[string]string{"subscriber": "stuck"}); got != float64(stuck.Dropped) {
		t.Fatalf("dropped metric %v, stats %d", got, stuck.Dropped)
	}
}

// Extending an open breaker (a later Retry-After) is not a state change:
// it must not count in circuit_breaker_state_changes_total, which feeds
// the flapping rule.
func TestExtendingAnOpenBreakerIsNotAStateChange(t *testing.T) {
	s := newStack(t)
	b := s.d.Gateway().Registry().Get(primaryBreaker)
	now := s.clock.Now()
	for _, until := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute} {
		if !b.OpenUntil(now.Add(until), "Retry-After") {
			t.Fatalf("OpenUntil(+%s) did nothing", until)
		}
	}
	s.settle(t)
	all := map[string]string{"breaker": primaryBreaker}
	if got := value(t, s, "circuit_breaker_state_changes_total", all); got != 1 {
		t.Fatalf("state changes %v, want 1 (closed to open)", got)
	}
}

// go-redis's own lines come out in breakerd's log format: with JSON logs,
// every line is JSON.
func TestRedisLinesFollowTheLogFormat(t *testing.T) {
	var buf bytes.Buffer
	daemon.RedisLogger(slog.New(slog.NewJSONHandler(&buf, nil))).Printf(context.Background(),
		"redis: %s:%d: connection pool: failed to dial after %d attempts\n", "pool.go", 770, 5)
	var line struct{ Level, Msg, Component string }
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not JSON: %v: %s", err, buf.String())
	}
	if line.Level != "WARN" || line.Component != "redis" || line.Msg != "redis: pool.go:770: connection pool: failed to dial after 5 attempts" {
		t.Fatalf("line %+v", line)
	}
}

// A provider's 429 cooldown shows where an on-call person looks: the
// metrics and /health/circuit-breakers.
func TestCooldownIsVisible(t *testing.T) {
	s := newStack(t)
	s.primary.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 429, RetryAfter: 40})
	s.chat(t)
	s.chat(t) // passed over, no call
	s.settle(t)
	if got := value(t, s, "breakerd_cooldown_remaining_seconds", map[string]string{"deployment": "gpt-4o-mini/openai/gpt-4o-mini", "operation": "chat"}); got != 40 {
		t.Fatalf("cooldown remaining %v, want 40", got)
	}
	if got := value(t, s, "breakerd_rate_limited_total", map[string]string{"model": "gpt-4o-mini", "operation": "chat"}); got != 1 {
		t.Fatalf("rate limited %v, want 1 (the second request)", got)
	}
	rec := httptest.NewRecorder()
	s.d.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health/circuit-breakers", nil))
	var cb struct{ Cooldowns map[string]time.Time }
	if err := json.Unmarshal(rec.Body.Bytes(), &cb); err != nil {
		t.Fatal(err)
	}
	if until, ok := cb.Cooldowns[primaryBreaker]; !ok || !until.Equal(t0.Add(40*time.Second)) {
		t.Fatalf("cooldowns %v in %s", cb.Cooldowns, rec.Body)
	}
}

// A stream that breaks before its usage (OpenAI's comes at its end) is
// charged an estimate: its attempt's span has the estimated counts, and
// says they are one.
func TestBrokenStreamUsageIsMarkedEstimated(t *testing.T) {
	s := newStackFrom(t, cfgText+"  continue_broken_streams: false\n")
	s.primary.SetFaults(mockllm.Faults{CutAfter: 4})
	stream := s.sdk.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("a prompt of a few words that the upstream read")}})
	for stream.Next() {
	}
	if stream.Err() == nil {
		t.Fatal("the stream did not break")
	}
	stream.Close()
	s.settle(t)
	estimated := 0
	for _, sp := range s.spans.GetSpans() {
		attrs := map[string]string{}
		for _, kv := range sp.Attributes {
			attrs[string(kv.Key)] = kv.Value.Emit()
		}
		if attrs["breakerd.usage.estimated"] == "true" {
			estimated++
			if attrs["gen_ai.usage.input_tokens"] == "" || attrs["gen_ai.usage.output_tokens"] == "" || attrs["gen_ai.usage.input_tokens"] == "0" {
				t.Fatalf("an estimated span without its counts: %v", attrs)
			}
		}
	}
	if estimated != 1 {
		t.Fatalf("%d spans say their usage is estimated, want the broken attempt's", estimated)
	}
}

// Spend counts what an upstream said a call cost where it says so
// (OpenRouter's usage.cost: a model breakerd has no price for is not $0),
// and apart, as estimated, what a stream that broke before its usage was
// charged.
func TestSpendCountsBilledAndEstimatedCosts(t *testing.T) {
	s := newStackFrom(t, `
model_list:
  - model_name: mistral
    litellm_params: {model: openrouter/mistralai/mistral-large-2411, api_base: "${PRIMARY}/api/v1", api_key: sk-or-secret-key}
`+strings.TrimPrefix(cfgText, "\nmodel_list:\n")+"litellm_settings:\n  callbacks: [prometheus]\n")
	out, err := s.sdk.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "mistral",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("what does it cost")}})
	if err != nil {
		t.Fatal(err)
	}
	s.primary.SetFaults(mockllm.Faults{CutAfter: 3})
	st := s.sdk.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("tell me a story")}})
	for st.Next() {
	}
	if err := st.Err(); err != nil {
		t.Fatal(err) // continued at the fallback
	}
	s.settle(t)
	billed := float64(out.Usage.PromptTokens)*3e-6 + float64(out.Usage.CompletionTokens)*15e-6 // the mock's OpenRouter prices
	or := map[string]string{"provider": "openrouter"}
	for metric, labels := range map[string]map[string]string{"breakerd_spend_usd_total": or, "litellm_spend_metric_total": {"api_provider": "openrouter"}} {
		if got := value(t, s, metric, labels); math.Abs(got-billed) > 1e-12 {
			t.Errorf("%s%v = $%v, want the billed $%v", metric, labels, got, billed)
		}
	}
	if got := value(t, s, "breakerd_spend_estimated_usd_total", or); got != 0 {
		t.Errorf("estimated spend at OpenRouter $%v, want 0: its usage was said", got)
	}
	mini := map[string]string{"model": "gpt-4o-mini"}
	spent, estimated := value(t, s, "breakerd_spend_usd_total", mini), value(t, s, "breakerd_spend_estimated_usd_total", mini)
	if spent <= 0 || estimated != spent {
		t.Errorf("the broken stream's deployment spent $%v, $%v of it estimated: want all of it", spent, estimated)
	}
	claude := map[string]string{"model": "claude-3-5-sonnet-20241022"}
	if value(t, s, "breakerd_spend_usd_total", claude) <= 0 || value(t, s, "breakerd_spend_estimated_usd_total", claude) != 0 {
		t.Errorf("the continuation's deployment: want its spend, none of it estimated")
	}
}
