package daemon_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/breakerd/breakerd/alerting"
	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/daemon"
	"github.com/breakerd/breakerd/events"
	"github.com/breakerd/breakerd/mockllm"
)

// inbox records what a loopback endpoint receives.
type inbox struct {
	mu     sync.Mutex
	bodies []string
}

func (b *inbox) handler(w http.ResponseWriter, r *http.Request) {
	data, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.bodies = append(b.bodies, string(data))
	b.mu.Unlock()
	_, _ = w.Write([]byte("ok"))
}

func (b *inbox) all() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.bodies...)
}

// breakerd with mock providers trips a breaker: exactly one Slack message
// and one webhook arrive; on recovery, exactly one resolution each.
func TestAlertsEndToEnd(t *testing.T) {
	slackIn, hookIn := &inbox{}, &inbox{}
	slackSrv := httptest.NewServer(http.HandlerFunc(slackIn.handler))
	hookSrv := httptest.NewServer(http.HandlerFunc(hookIn.handler))
	defer slackSrv.Close()
	defer hookSrv.Close()
	primary, backup := mockllm.New(mockllm.Options{Name: "p"}), mockllm.New(mockllm.Options{Name: "b"})
	pSrv, bSrv := httptest.NewServer(primary.Handler()), httptest.NewServer(backup.Handler())
	defer pSrv.Close()
	defer bSrv.Close()
	vars := map[string]string{"P": pSrv.URL, "B": bSrv.URL, "SLACK": slackSrv.URL + "/services/T/B/X", "HOOK": hookSrv.URL}
	cfg, err := config.Parse("t.yaml", []byte(`
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${P}/v1"}
  - model_name: claude
    litellm_params: {model: anthropic/claude-3-5-sonnet, api_base: "${B}"}
router_settings:
  routing_strategy: ordered
  fallbacks: [claude]
  circuit_breaker: {failure_threshold: 5, recovery_timeout: 30, success_threshold: 2}
  alerting:
    webhook_url: ${HOOK}
    slack_webhook: ${SLACK}
server:
  shutdown_drain: 0s
`), func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	clock := breaker.NewManualClock(t0)
	upstream := &http.Client{Transport: &http.Transport{}}
	d, err := daemon.New(daemon.Options{Config: cfg, Clock: clock, Client: upstream, AlertTick: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.Handler())
	hc := &http.Client{Transport: &http.Transport{}}
	sdk := openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("k"), option.WithMaxRetries(0), option.WithHTTPClient(hc))
	chat := func() {
		if _, err := sdk.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}); err != nil {
			t.Fatal(err)
		}
	}
	settle := func() {
		d.Gateway().Registry().WaitListeners()
		if err := d.Bus().Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}

	primary.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	for i := 0; i < 10; i++ { // 5 failures trip it; 5 more fast-fail
		chat()
	}
	settle()
	clock.Advance(10 * time.Second) // the group window closes
	d.Alerts().Tick()
	primary.SetFaults(mockllm.Faults{})
	clock.Advance(20 * time.Second) // recovery_timeout (30s) after the trip
	chat()
	chat()
	settle()
	srv.Close()
	hc.CloseIdleConnections()
	d.Close() // drains the alert queues
	upstream.CloseIdleConnections()

	slackMsgs, hooks := slackIn.all(), hookIn.all()
	if len(slackMsgs) != 2 || len(hooks) != 2 {
		t.Fatalf("%d Slack messages and %d webhooks, want 2 each (open, resolved):\n%v\n%v", len(slackMsgs), len(hooks), slackMsgs, hooks)
	}
	if !strings.Contains(slackMsgs[0], "Circuit OPEN: gpt-4o-mini/openai/gpt-4o-mini:chat") || !strings.Contains(slackMsgs[0], `"color":"danger"`) ||
		!strings.Contains(slackMsgs[0], "claude/anthropic/claude-3-5-sonnet") {
		t.Fatalf("slack opening %s", slackMsgs[0])
	}
	if !strings.Contains(slackMsgs[1], "recovered after 30s") || !strings.Contains(slackMsgs[1], `"color":"good"`) {
		t.Fatalf("slack recovery %s", slackMsgs[1])
	}
	var open, res alerting.Payload
	_ = json.Unmarshal([]byte(hooks[0]), &open)
	_ = json.Unmarshal([]byte(hooks[1]), &res)
	if open.Kind != "open" || res.Kind != "resolved" || open.Alerts[0].Key != res.Alerts[0].Key ||
		!strings.HasPrefix(open.Alerts[0].Reason, "5 consecutive failures; last: 503 Service Unavailable: ") ||
		res.Alerts[0].RejectedWhileOpen != 5 {
		t.Fatalf("webhooks %+v / %+v", open, res)
	}
}

// breakerd spends a provider's budget: exactly one Slack message says so,
// naming the budget and when its window ends, and the next requests,
// passed over, send nothing more.
func TestBudgetSpentAlertEndToEnd(t *testing.T) {
	for _, alerting := range []string{
		"  alerting:\n    slack_webhook: ${SLACK}\n", // breakerd's
		"general_settings:\n  alerting: [slack]\n  alert_types: [budget_alerts]\n" + // LiteLLM's
			"environment_variables:\n  SLACK_WEBHOOK_URL: ${SLACK}\n",
	} {
		t.Run(strings.Fields(alerting)[0], func(t *testing.T) { budgetSpentAlert(t, alerting) })
	}
}

func budgetSpentAlert(t *testing.T, alerting string) {
	s := newAlertStack(t, "  provider_budget_config: {openai: {budget_limit: 0.000001, time_period: 1d}}\n"+alerting)
	for range 3 { // the first spends the budget; the others go to claude
		s.chat(t)
	}
	msgs := s.finish(t)
	if len(msgs) != 1 || !strings.Contains(msgs[0], "Budget SPENT: provider openai ($0.000001 per 1d)") ||
		!strings.Contains(msgs[0], t0.Add(24*time.Hour).Format(time.RFC3339)) || !strings.Contains(msgs[0], `"color":"warning"`) {
		t.Fatalf("%d Slack messages, want 1 saying the budget is spent:\n%v", len(msgs), msgs)
	}
	if n := s.primary.Stats().Chat; n != 1 {
		t.Fatalf("the primary got %d calls, want 1", n)
	}
	// And one log line, for on-call.
	if l := s.logs.String(); strings.Count(l, "budget spent") != 1 || !strings.Contains(l, "scope=provider name=openai") {
		t.Fatalf("logs:\n%s", l)
	}
}

// alertStack is breakerd on a manual clock, with a primary and a backup
// mock (gpt-4o-mini, falling back to claude), a Slack inbox and its logs
// kept; its config's router_settings end with tail, in which ${SLACK} is
// the inbox's webhook URL.
type alertStack struct {
	d       *daemon.Daemon
	url     string
	clock   *breaker.ManualClock
	primary *mockllm.Server
	backup  *mockllm.Server
	slack   *inbox
	logs    *syncBuffer
	hc      *http.Client
	sdk     openai.Client
	closers []func()
}

func newAlertStack(t *testing.T, tail string) *alertStack {
	t.Helper()
	s := &alertStack{clock: breaker.NewManualClock(t0), primary: mockllm.New(mockllm.Options{Name: "p"}), slack: &inbox{}, logs: &syncBuffer{}}
	s.backup = mockllm.New(mockllm.Options{Name: "b"})
	slackSrv, pSrv, bSrv := httptest.NewServer(http.HandlerFunc(s.slack.handler)), httptest.NewServer(s.primary.Handler()), httptest.NewServer(s.backup.Handler())
	s.closers = append(s.closers, slackSrv.Close, pSrv.Close, bSrv.Close)
	t.Cleanup(func() {
		for _, c := range s.closers {
			c()
		}
	})
	tail = strings.ReplaceAll(tail, "${SLACK}", slackSrv.URL+"/services/T/B/X") // environment_variables' values are literal
	cfg, err := config.Parse("t.yaml", []byte(`
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "`+pSrv.URL+`/v1"}
  - model_name: claude
    litellm_params: {model: anthropic/claude-3-5-sonnet, api_base: "`+bSrv.URL+`"}
router_settings:
  routing_strategy: ordered
  fallbacks: [claude]
`+tail+"server:\n  shutdown_drain: 0s\n"), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	upstream := &http.Client{Transport: &http.Transport{}}
	s.d, err = daemon.New(daemon.Options{Config: cfg, Clock: s.clock, Client: upstream, AlertTick: -1,
		Logger: slog.New(slog.NewTextHandler(s.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.d.Handler())
	s.url, s.hc = srv.URL, &http.Client{Transport: &http.Transport{}}
	s.sdk = openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("k"), option.WithMaxRetries(0), option.WithHTTPClient(s.hc))
	s.closers = append([]func(){srv.Close, s.hc.CloseIdleConnections, s.d.Close, upstream.CloseIdleConnections}, s.closers...)
	return s
}

// chat asks gpt-4o-mini, and wants an answer.
func (s *alertStack) chat(t *testing.T) {
	t.Helper()
	if _, err := s.sdk.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}); err != nil {
		t.Fatal(err)
	}
}

// finish delivers every alert (closing breakerd drains their queues) and
// returns the Slack messages.
func (s *alertStack) finish(t *testing.T) []string {
	t.Helper()
	if err := s.d.Bus().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, c := range s.closers[:4] {
		c()
	}
	s.closers = s.closers[4:]
	return s.slack.all()
}

// A provider's 429 begins a cooldown: with LiteLLM's alert_types naming
// cooldown_deployment, exactly one Slack message says so, naming the
// breaker and what serves meanwhile, however many 429s follow.
func TestCooldownAlertEndToEnd(t *testing.T) {
	s := newAlertStack(t, "general_settings:\n  alerting: [slack]\n  alert_types: [cooldown_deployment]\n"+
		"environment_variables:\n  SLACK_WEBHOOK_URL: ${SLACK}\n")
	s.primary.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 429, RetryAfter: 10})
	for i := range 4 { // a cooldown, then another after it ends: within ten minutes, one alert
		if i == 2 {
			// The alert says what serves now: let it be written before
			// the cooldown ends (alerts are written as the bus delivers).
			if err := s.d.Bus().Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			s.clock.Advance(11 * time.Second)
		}
		s.chat(t)
	}
	// /health: degraded, not down; served by the fallback meanwhile.
	resp, err := s.hc.Get(s.url + "/health?verbose")
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Status string `json:"status"`
		Groups []struct {
			Name     string `json:"name"`
			ServedBy string `json:"served_by"`
		} `json:"groups"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if resp.StatusCode != 200 || h.Status != "degraded" || len(h.Groups) == 0 || h.Groups[0].ServedBy != "claude/anthropic/claude-3-5-sonnet" {
		t.Fatalf("/health while the primary cools down: %d %+v", resp.StatusCode, h)
	}
	msgs := s.finish(t)
	if n := s.primary.Stats().Chat; n != 2 {
		t.Fatalf("the primary got %d calls, want 2: one per cooldown", n)
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0], "Rate limited: gpt-4o-mini/openai/gpt-4o-mini:chat is cooling down") ||
		!strings.Contains(msgs[0], "*Now served by*\\n`claude/anthropic/claude-3-5-sonnet") || !strings.Contains(msgs[0], `"title":"Until"`) {
		t.Fatalf("%d Slack messages, want 1 naming the breaker and the fallback:\n%v", len(msgs), msgs)
	}
}

// During the primary's outage, a fallback whose upstream does not serve
// its model (the seed guide's Claude, retired since) is no fallback: the
// alert says why its circuit opened, and the primary's does not claim it
// serves; /health says the group cannot be served.
func TestARetiredFallbackInTheOutagesAlert(t *testing.T) {
	s := newAlertStack(t, "  alerting:\n    slack_webhook: ${SLACK}\n")
	s.primary.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	s.backup.SetFaults(mockllm.Faults{MissingModels: []string{"claude-3-5-sonnet"}})
	for range 6 { // 5 failures open the primary's circuit
		_, err := s.sdk.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("err %v, want breakerd's 503", err)
		}
	}
	if n := s.backup.Stats().Messages; n != 1 {
		t.Fatalf("the retired fallback got %d calls, want 1: its circuit open after", n)
	}
	resp, err := s.hc.Get(s.url + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/health %d with no deployment left to serve, want 503", resp.StatusCode)
	}
	s.d.Gateway().Registry().WaitListeners()
	if err := s.d.Bus().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(10 * time.Second) // the group window closes
	s.d.Alerts().Tick()
	msgs := strings.Join(s.finish(t), "\n")
	if !strings.Contains(msgs, "claude/anthropic/claude-3-5-sonnet:chat") || !strings.Contains(msgs, "its upstream does not serve its model") ||
		!strings.Contains(msgs, "model: claude-3-5-sonnet") || !strings.Contains(msgs, "gpt-4o-mini/openai/gpt-4o-mini:chat") {
		t.Fatalf("Slack messages without both openings and the fallback's reason:\n%s", msgs)
	}
	if strings.Contains(msgs, "Now served by*\\n`claude") || !strings.Contains(msgs, "Now served by*\\nno fallback: requests fail fast") {
		t.Fatalf("the alert does not say nothing serves:\n%s", msgs)
	}
}

// LiteLLM's alerting_threshold: a deployment whose answer takes longer
// gets one Slack message (llm_too_slow), however many slow answers follow
// within ten minutes; a fast one gets none.
func TestSlowAlertEndToEnd(t *testing.T) {
	s := newAlertStack(t, "general_settings:\n  alerting: [slack]\n  alert_types: [llm_too_slow]\n  alerting_threshold: 0.05\n"+
		"environment_variables:\n  SLACK_WEBHOOK_URL: ${SLACK}\n")
	s.chat(t) // fast: nothing
	s.primary.SetFaults(mockllm.Faults{LatencyMS: 60})
	for range 3 {
		s.chat(t)
	}
	got := s.finish(t)
	if len(got) != 1 || !strings.Contains(got[0], "Slow: gpt-4o-mini/openai/gpt-4o-mini:chat: answered after") ||
		!strings.Contains(got[0], "alerting_threshold 50ms") {
		t.Fatalf("%d Slack messages, want one slow alert:\n%s", len(got), strings.Join(got, "\n"))
	}
	var ms int
	if _, err := fmt.Sscanf(got[0][strings.Index(got[0], "answered after ")+len("answered after "):], "%dms", &ms); err != nil || ms < 50 {
		t.Fatalf("the alert is not the slow answer's (%d ms, %v):\n%s", ms, err, got[0])
	}
}

// LiteLLM's llm_requests_hanging: a call that has waited
// alerting_threshold for its answer gets a Slack message while it still
// waits, not once it is cut; two such calls to one deployment get one; a
// call answered in time none.
func TestHangingAlertEndToEnd(t *testing.T) {
	s := newAlertStack(t, "general_settings:\n  alerting: [slack]\n  alert_types: [llm_requests_hanging]\n  alerting_threshold: 30\n"+
		"environment_variables:\n  SLACK_WEBHOOK_URL: ${SLACK}\n")
	var hangs atomic.Int64
	s.d.Bus().Subscribe("test", 10, events.SubscriberFunc(func(e events.Event) {
		if e.Kind == events.Hanging {
			hangs.Add(1)
		}
	}))
	s.chat(t)
	s.clock.Advance(time.Minute)
	if err := s.d.Bus().Flush(context.Background()); err != nil || hangs.Load() != 0 {
		t.Fatalf("a call answered in time was reported hanging (%v)", err)
	}
	s.primary.SetFaults(mockllm.Faults{Hang: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hung := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := s.sdk.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
			hung <- err
		}()
	}
	if err := s.primary.WaitRequests(ctx, 2); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(30 * time.Second) // the threshold: both calls still wait
	cancel()
	for range 2 {
		<-hung
	}
	got := s.finish(t)
	if len(got) != 1 || !strings.Contains(got[0], "Hanging: gpt-4o-mini/openai/gpt-4o-mini:chat: has given no answer for 30s, and is still waiting") {
		t.Fatalf("%d Slack messages, want one hanging alert:\n%s", len(got), strings.Join(got, "\n"))
	}
}
