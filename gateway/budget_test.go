package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/gateway"
	"github.com/breakerd/breakerd/mockllm"
)

// LiteLLM's budgets: once a provider's (provider_budget_config) or a
// deployment's own (max_budget) is spent by answered calls, its
// deployments are passed over until the budget's window ends, and a
// request with no deployment left within budget gets LiteLLM's 429
// budget_exceeded, with Retry-After at the earliest window's end.
func TestBudgetsPassSpentDeploymentsOver(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: m
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_A}/v1", api_key: sk-a-secret, order: 1}
  - model_name: m
    litellm_params: {model: anthropic/claude-3-5-haiku-20241022, api_base: "${MOCK_B}", api_key: sk-ant-b-secret, order: 2,
      max_budget: 0.000001, budget_duration: 1h}
router_settings:
  routing_strategy: ordered
  provider_budget_config:
    openai: {budget_limit: 0.000001, time_period: 1d}
`, "a", "b")
	served := func(want string) {
		t.Helper()
		_, h, err := e.chat("m")
		if err != nil || h.Get("X-Breakerd-Provider") != want {
			t.Fatalf("served by %q (%v), want %s", h.Get("X-Breakerd-Provider"), err, want)
		}
	}
	served("openai")    // spends more than OpenAI's budget
	served("anthropic") // OpenAI's passed over; spends the deployment's own budget
	// Each budget's using up is reported once, for logs and alerts.
	if got := []string{<-e.budgets, <-e.budgets}; !slices.Equal(got, []string{"provider openai", "deployment m/anthropic/claude-3-5-haiku-20241022"}) || len(e.budgets) != 0 {
		t.Fatalf("budgets reported used up: %q and %d more", got, len(e.budgets))
	}
	if a, b := e.mocks["a"].Stats().Chat, e.mocks["b"].Stats().Messages; a != 1 || b != 1 {
		t.Fatalf("upstream calls %d and %d, want 1 each: a spent budget is passed over without a call", a, b)
	}
	status, h, body := e.post("/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
	errObj, _ := body["error"].(map[string]any)
	msg, _ := errObj["message"].(string)
	if status != http.StatusTooManyRequests || errObj["type"] != "budget_exceeded" || h.Get("Retry-After") != "3600" || h.Get("X-Should-Retry") != "false" ||
		!strings.Contains(msg, "its provider budget of $0.000001 per 1d is spent") || !strings.Contains(msg, "its deployment budget of $0.000001 per 1h is spent") {
		t.Fatalf("all spent: %d Retry-After %q %v", status, h.Get("Retry-After"), body)
	}
	e.clock.Advance(time.Hour) // the deployment's window ends
	served("anthropic")
	e.clock.Advance(24 * time.Hour) // and OpenAI's
	served("openai")
	spent := map[string]bool{}
	for _, b := range e.gw.Budgets() {
		usd, _ := b.Spent(e.clock.Now())
		spent[b.Scope+" "+b.Name] = usd > 0
	}
	if want := map[string]bool{"provider openai": true, "deployment m/anthropic/claude-3-5-haiku-20241022": false}; !maps.Equal(spent, want) {
		t.Fatalf("spent in the windows open now: %v, want %v", spent, want)
	}
}

// A stream's cost counts against the budgets too, once it has ended: its
// usage, which breakerd asks the upstream for when the client did not.
func TestBudgetsCountStreams(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: m
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_A}/v1", api_key: sk-a-secret, order: 1}
  - model_name: m
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_B}/v1", api_key: sk-b-secret, order: 2}
router_settings:
  routing_strategy: ordered
  provider_budget_config:
    openai: {budget_limit: 0.000001, time_period: 1d}
`, "a", "b")
	stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: "m",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream please")}})
	if _, _, err := drain(stream); err != nil {
		t.Fatal(err)
	}
	<-e.done // the stream's request has ended, its cost charged (the client can read the end before)
	status, _, body := e.post("/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
	if errObj, _ := body["error"].(map[string]any); status != http.StatusTooManyRequests || errObj["type"] != "budget_exceeded" {
		t.Fatalf("after a stream spent OpenAI's budget: %d %v", status, body)
	}
	if n := e.mocks["a"].Stats().Chat + e.mocks["b"].Stats().Chat; n != 1 {
		t.Fatalf("%d upstream calls, want the stream's alone", n)
	}
}

// A stream that breaks mid-way cost what its upstream had read and
// written by then, which it bills: the usage it reported before the break
// (Anthropic's message_start carries the prompt's) or, where none came
// (OpenAI's comes at the end), an estimate (the prompt's tokens, a token
// for each delta relayed or each 4 characters of their text, whichever
// is more: Anthropic's deltas carry several tokens) is spent, against the
// budgets and in the spend metrics, as its tokens are counted.
func TestBudgetsCountBrokenStreams(t *testing.T) {
	for _, tc := range []struct {
		name, model, api string
	}{
		{"Claude", "anthropic/claude-3-5-haiku-20241022", "chat"},
		{"OpenAI", "openai/gpt-4o-mini", "chat"},
		{"OpenAI's Responses API", "openai/gpt-4o-mini", "responses"},
		{"Claude's Messages API", "anthropic/claude-3-5-haiku-20241022", "messages"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, `
model_list:
  - model_name: m
    litellm_params: {model: `+tc.model+`, api_base: "${MOCK_A}/v1", api_key: sk-a-secret,
      max_budget: 100, budget_duration: 1d}
`, "a")
			e.mocks["a"].SetFaults(mockllm.Faults{CutAfter: 6, DeltaWords: 3})
			const prompt = "a prompt of a few words that the upstream read"
			var err error
			switch tc.api {
			case "chat":
				_, _, err = drain(e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: "m",
					Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)}}))
			case "responses":
				_, err = drainResponses(e.client.Responses.NewStreaming(context.Background(), responses.ResponseNewParams{Model: "m",
					Input: responses.ResponseNewParamsInputUnion{OfString: openai.String(prompt)}}))
			case "messages":
				ac := e.anthropicClient()
				_, err = drainMessages(ac.Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{Model: "m", MaxTokens: 256,
					Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(prompt))}}))
			}
			if err == nil {
				t.Fatal("the stream did not break")
			}
			<-e.done
			attempt := <-e.attempts
			if u := attempt.Usage; u.InputTokens < 5 || u.Deltas < 2 || u.OutputTokens < 2*u.Deltas {
				t.Fatalf("a broken stream's usage %+v, want its prompt's and the output's: several tokens a delta", u)
			}
			b := e.gw.Budgets()[0]
			if usd, _ := b.Spent(e.clock.Now()); usd <= 0 {
				t.Fatalf("a broken stream spent $%g of the deployment's budget, want its prompt's price", usd)
			}
		})
	}
}

// litellm_settings.max_budget limits every deployment together: once
// answered calls have cost it, every request gets 429 budget_exceeded
// until its window ends.
func TestProxyBudget(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: m
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
  - model_name: c
    litellm_params: {model: anthropic/claude-3-5-haiku-20241022, api_base: "${MOCK_B}", api_key: sk-ant-b-secret}
litellm_settings:
  max_budget: 0.000001
  budget_duration: 1h
`, "a", "b")
	if _, _, err := e.chat("m"); err != nil {
		t.Fatal(err)
	}
	for _, group := range []string{"m", "c"} {
		status, h, body := e.post("/v1/chat/completions", `{"model":"`+group+`","messages":[{"role":"user","content":"hi"}]}`)
		errObj, _ := body["error"].(map[string]any)
		if msg, _ := errObj["message"].(string); status != http.StatusTooManyRequests || errObj["type"] != "budget_exceeded" ||
			h.Get("Retry-After") != "3600" || !strings.Contains(msg, "its proxy budget of $0.000001 per 1h is spent") {
			t.Fatalf("%s after the proxy's budget is spent: %d %v", group, status, body)
		}
	}
	if e.mocks["b"].Stats().Messages != 0 {
		t.Fatal("a group that spent nothing was called: the proxy's budget is every group's")
	}
	e.clock.Advance(time.Hour)
	if _, _, err := e.chat("c"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

// LiteLLM's tag budgets: the answered calls of requests with a tag (the
// body's tags, or x-litellm-tags) count against its budget; once spent, a
// request with the tag gets 429 budget_exceeded until the window ends,
// and other requests are served.
func TestTagBudgets(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: m
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
litellm_settings:
  tag_budget_config:
    product:chat-bot: {max_budget: 0.000001, budget_duration: 1d}
`, "a")
	ask := func(body string, header http.Header) (int, http.Header, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, e.url+"/v1/chat/completions", strings.NewReader(body))
		req.Header = header
		req.Header.Set("Content-Type", "application/json")
		resp, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, resp.Header, out
	}
	const tagged = `{"model":"m","tags":["product:chat-bot"],"messages":[{"role":"user","content":"hi"}]}`
	const untagged = `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
	if status, _, body := ask(tagged, http.Header{}); status != 200 {
		t.Fatalf("the tag's first request: %d %v", status, body) // spends more than its budget
	}
	if got := <-e.budgets; got != "tag product:chat-bot" {
		t.Fatalf("budget reported used up: %q", got)
	}
	for _, tc := range []struct {
		name, body string
		header     http.Header
	}{
		{"the body's tags", tagged, http.Header{}},
		{"LiteLLM's header", untagged, http.Header{"X-Litellm-Tags": {"product:chat-bot"}}},
	} {
		status, h, body := ask(tc.body, tc.header)
		errObj, _ := body["error"].(map[string]any)
		if msg, _ := errObj["message"].(string); status != http.StatusTooManyRequests || errObj["type"] != "budget_exceeded" ||
			h.Get("Retry-After") != "86400" || h.Get("X-Should-Retry") != "false" || !strings.Contains(msg, "tag `product:chat-bot`: its tag budget of $0.000001 per 1d is spent") {
			t.Fatalf("%s, once the tag's budget is spent: %d %v", tc.name, status, body)
		}
	}
	if status, _, body := ask(untagged, http.Header{}); status != 200 {
		t.Fatalf("a request without the tag: %d %v", status, body)
	}
	e.clock.Advance(24 * time.Hour)
	if status, _, body := ask(tagged, http.Header{}); status != 200 {
		t.Fatalf("the tag's request after its window: %d %v", status, body)
	}
}

// A reload keeps what an unchanged budget has spent, and its deployments
// stay passed over; a budget the reload changes starts again, and so do
// the deployments under it.
func TestReloadKeepsWhatBudgetsSpent(t *testing.T) {
	parse := func(limit string) *config.Config {
		cfg, err := config.Parse("t.yaml", []byte(`
model_list:
  - model_name: m
    litellm_params: {model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:9/v1", api_key: sk-a-secret}
router_settings:
  provider_budget_config: {openai: {budget_limit: `+limit+`, time_period: 1d}}
`), func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	clock := breaker.NewManualClock(t0)
	newGateway := func(cfg *config.Config, prev *gateway.Gateway) *gateway.Gateway {
		opts := gateway.Options{Config: cfg, Clock: clock, Previous: prev}
		if prev != nil {
			opts.Registry = prev.Registry()
		}
		gw, err := gateway.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(gw.Close)
		return gw
	}
	over := func(gw *gateway.Gateway) bool {
		why, _ := gw.Route("m")[0].OverBudget(clock.Now())
		return why != ""
	}
	first := newGateway(parse("1"), nil)
	first.Budgets()[0].Spend(clock.Now(), 2)
	same := newGateway(parse("1"), first)
	if same.Budgets()[0] != first.Budgets()[0] || !over(same) {
		t.Fatal("a reload with the same budget forgot what it spent")
	}
	raised := newGateway(parse("5"), same)
	if spent, _ := raised.Budgets()[0].Spent(clock.Now()); spent != 0 || over(raised) {
		t.Fatalf("a changed budget: $%v spent, passed over %v; want a new start", spent, over(raised))
	}
}

// OpenRouter reports what each call cost (usage.cost, in every answer):
// an OpenRouter deployment breakerd has no price for is charged that
// against its budgets and in x-litellm-response-cost, whole and
// streamed, instead of $0.
func TestReportedCostIsCharged(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: m
    litellm_params: {model: openrouter/anthropic/claude-sonnet-4.5, api_base: "${MOCK_OR}/api/v1", api_key: sk-or-secret-key,
      max_budget: 100, budget_duration: 1d}
`, "or")
	var resp *http.Response
	out, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "m",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("what does it cost")}}, option.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	want := float64(out.Usage.PromptTokens)*3e-6 + float64(out.Usage.CompletionTokens)*15e-6 // the mock's OpenRouter prices
	if got, err := strconv.ParseFloat(resp.Header.Get("X-Litellm-Response-Cost"), 64); err != nil || math.Abs(got-want) > 1e-12 {
		t.Fatalf("x-litellm-response-cost %q, want %v", resp.Header.Get("X-Litellm-Response-Cost"), want)
	}
	acc, _, err := drain(e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: "m",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("what does it cost")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}}))
	if err != nil || acc.Usage.PromptTokens == 0 {
		t.Fatalf("stream: %v, usage %+v", err, acc.Usage)
	}
	<-e.done
	<-e.done
	spent := 0.0
	for _, b := range e.gw.Budgets() {
		spent, _ = b.Spent(e.clock.Now())
	}
	if math.Abs(spent-2*want) > 1e-12 {
		t.Fatalf("the budget was charged $%v, want $%v (twice the reported cost)", spent, 2*want)
	}
}

// A call Anthropic's fast mode served (the usage's speed says so) costs
// the model's fast-mode prices (twice at Claude Opus 5), whole and
// streamed, in x-litellm-response-cost and the budgets; one the standard
// speed served, the standard prices.
func TestFastModeIsPriced(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: opus
    litellm_params: {model: anthropic/claude-opus-5, api_base: "${MOCK_ANT}", api_key: sk-ant-secret-key, max_budget: 100, budget_duration: 1d}
`, "ant")
	client := e.anthropicClient()
	params := anthropic.MessageNewParams{Model: "opus", MaxTokens: 256,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("quick, please"))}}
	fast := []aoption.RequestOption{aoption.WithJSONSet("speed", "fast"), aoption.WithHeaderAdd("anthropic-beta", "fast-mode-2026-02-01")}
	spent := func() float64 {
		usd := 0.0
		for _, b := range e.gw.Budgets() {
			usd, _ = b.Spent(e.clock.Now())
		}
		return usd
	}
	for _, tc := range []struct {
		name  string
		opts  []aoption.RequestOption
		times float64
	}{{"fast", fast, 2}, {"standard", nil, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			before := spent()
			var resp *http.Response
			msg, err := client.Messages.New(context.Background(), params, append(tc.opts, aoption.WithResponseInto(&resp))...)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.times * (float64(msg.Usage.InputTokens)*5e-6 + float64(msg.Usage.OutputTokens)*25e-6)
			if got, err := strconv.ParseFloat(resp.Header.Get("X-Litellm-Response-Cost"), 64); err != nil || math.Abs(got-want) > 1e-12 {
				t.Fatalf("x-litellm-response-cost %q, want %v (usage %s)", resp.Header.Get("X-Litellm-Response-Cost"), want, msg.Usage.RawJSON())
			}
			streamed, err := drainMessages(client.Messages.NewStreaming(context.Background(), params, tc.opts...))
			if err != nil {
				t.Fatal(err)
			}
			<-e.done
			<-e.done
			want += tc.times * (float64(streamed.Usage.InputTokens)*5e-6 + float64(streamed.Usage.OutputTokens)*25e-6)
			if got := spent() - before; math.Abs(got-want) > 1e-12 {
				t.Fatalf("the budget was charged $%v, want $%v", got, want)
			}
		})
	}
}

// speed: "fast" goes only to a model that has fast mode at Anthropic's
// own API: a Claude Code session in /fast that falls back to Opus 4.8
// (which refuses it since November 2026) gets its answer at standard
// speed.
func TestFastModeGoesOnlyWhereItIs(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: opus
    litellm_params: {model: anthropic/claude-opus-5-5, api_base: "${MOCK_A}", api_key: sk-ant-secret-key}
  - model_name: older
    litellm_params: {model: anthropic/claude-opus-4-8, api_base: "${MOCK_B}", api_key: sk-ant-secret-key}
`, "a", "b")
	client := e.anthropicClient()
	for group, keeps := range map[string]bool{"opus": true, "older": false} {
		_, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{Model: anthropic.Model(group), MaxTokens: 64,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}},
			aoption.WithJSONSet("speed", "fast"), aoption.WithHeaderAdd("anthropic-beta", "fast-mode-2026-02-01"))
		if err != nil {
			t.Fatal(err)
		}
		mock := map[string]string{"opus": "a", "older": "b"}[group]
		if body := e.mocks[mock].LastBody(); strings.Contains(body, `"speed"`) != keeps {
			t.Fatalf("%s got %s: speed kept %v", group, body, !keeps)
		}
	}
}

// At fast mode's own rate limit (a 429 to speed: "fast"), the call goes
// at standard speed to the same deployment, as Anthropic's documents do
// it, costing the standard prices; the deployment, whose standard
// capacity is there, is not passed over for the requests after it.
func TestFastModeLimitFallsBackToStandardSpeed(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: opus
    litellm_params: {model: anthropic/claude-opus-5, api_base: "${MOCK_A}", api_key: sk-ant-secret-key}
  - model_name: backup
    litellm_params: {model: anthropic/claude-sonnet-4-6, api_base: "${MOCK_B}", api_key: sk-ant-secret-key}
router_settings:
  fallbacks: [{opus: [backup]}]
`, "a", "b")
	e.mocks["a"].SetFaults(mockllm.Faults{FastModeLimited: true})
	client := e.anthropicClient()
	params := anthropic.MessageNewParams{Model: "opus", MaxTokens: 64, Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}}
	var resp *http.Response
	msg, err := client.Messages.New(context.Background(), params, aoption.WithJSONSet("speed", "fast"),
		aoption.WithHeaderAdd("anthropic-beta", "fast-mode-2026-02-01"), aoption.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	want := float64(msg.Usage.InputTokens)*5e-6 + float64(msg.Usage.OutputTokens)*25e-6
	got, _ := strconv.ParseFloat(resp.Header.Get("X-Litellm-Response-Cost"), 64)
	if resp.Header.Get("X-Breakerd-Deployment") != "opus/anthropic/claude-opus-5" || msg.Usage.Speed == "fast" || math.Abs(got-want) > 1e-12 ||
		e.mocks["a"].Stats().Messages != 2 || strings.Contains(e.mocks["a"].LastBody(), `"speed"`) {
		t.Fatalf("served by %s at %q speed for $%v (want $%v), after %d calls to a; a got %s", resp.Header.Get("X-Breakerd-Deployment"),
			msg.Usage.Speed, got, want, e.mocks["a"].Stats().Messages, e.mocks["a"].LastBody())
	}
	if logs := e.logs.String(); !strings.Contains(logs, `"msg":"fast mode at its rate limit: answered at standard speed","model_group":"opus","deployment":"opus/anthropic/claude-opus-5"`) {
		t.Fatalf("logs lack the slowed answer:\n%s", logs)
	}
	if _, err := client.Messages.New(context.Background(), params, aoption.WithResponseInto(&resp)); err != nil ||
		resp.Header.Get("X-Breakerd-Deployment") != "opus/anthropic/claude-opus-5" || e.mocks["b"].Stats().Messages != 0 {
		t.Fatalf("the next request: %v, served by %s; the backup got %d", err, resp.Header.Get("X-Breakerd-Deployment"), e.mocks["b"].Stats().Messages)
	}
}

// inference_geo "us" (US-only inference, a data residency promise) goes
// only where it is kept: Anthropic's own API at Claude 4.6 and later,
// whose usage says so and which costs 1.1 times; an older Claude (which
// answers the key with a 400) is passed over, as a translating
// deployment is; "global" is left out where it is not taken.
func TestUSOnlyInference(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-haiku-4-5, api_base: "${MOCK_OLD}", api_key: sk-ant-secret-key, order: 1}
  - model_name: claude
    litellm_params: {model: anthropic/claude-opus-4-6, api_base: "${MOCK_NEW}", api_key: sk-ant-secret-key, order: 2}
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_GPT}/v1", api_key: sk-openai-secret}
router_settings:
  routing_strategy: ordered
`, "old", "new", "gpt")
	client := e.anthropicClient()
	ask := func(model, geo string) (*anthropic.Message, *http.Response, error) {
		var resp *http.Response
		msg, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{Model: anthropic.Model(model), MaxTokens: 64,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}},
			aoption.WithJSONSet("inference_geo", geo), aoption.WithResponseInto(&resp))
		return msg, resp, err
	}
	msg, resp, err := ask("claude", "us")
	if err != nil {
		t.Fatal(err)
	}
	want := 1.1 * (float64(msg.Usage.InputTokens)*5e-6 + float64(msg.Usage.OutputTokens)*25e-6)
	got, _ := strconv.ParseFloat(resp.Header.Get("X-Litellm-Response-Cost"), 64)
	if resp.Header.Get("X-Breakerd-Deployment") != "claude/anthropic/claude-opus-4-6" || e.mocks["old"].Stats().Messages != 0 ||
		msg.Usage.InferenceGeo != "us" || math.Abs(got-want) > 1e-12 {
		t.Fatalf("served by %s (haiku got %d), inference_geo %q, $%v (want $%v)", resp.Header.Get("X-Breakerd-Deployment"),
			e.mocks["old"].Stats().Messages, msg.Usage.InferenceGeo, got, want)
	}
	if _, resp, err := ask("claude", "global"); err != nil || resp.Header.Get("X-Breakerd-Deployment") != "claude/anthropic/claude-haiku-4-5" ||
		strings.Contains(e.mocks["old"].LastBody(), "inference_geo") {
		t.Fatalf("global: %v, served by %s; haiku got %s", err, resp.Header.Get("X-Breakerd-Deployment"), e.mocks["old"].LastBody())
	}
	_, _, err = ask("gpt", "us")
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Error(), "inference_geo (us)") || e.mocks["gpt"].Stats().Chat != 0 {
		t.Fatalf("us at a translating deployment: %v", err)
	}
}
