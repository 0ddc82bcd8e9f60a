package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/gateway"
	"github.com/breakerd/breakerd/mockllm"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
)

// routingGateway is a gateway of yaml's config, with no variables set,
// for tests of the routes it orders (Route); routeModels lists a route's
// upstream models.
func routingGateway(t *testing.T, yaml string) (*gateway.Gateway, *config.Config) {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(gateway.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.Close)
	return gw, cfg
}

func routeModels(ds []*gateway.Deployment) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Config.Model)
	}
	return strings.Join(out, ",")
}

func TestRoutingStrategies(t *testing.T) {
	const base = `
model_list:
  - model_name: g
    litellm_params: {model: openai/gpt-4o, api_base: http://a, order: 2}
  - model_name: g
    litellm_params: {model: openai/gpt-4o-mini, api_base: http://b, order: 1}
  - model_name: g
    litellm_params: {model: openai/custom, api_base: http://c, order: 3, input_cost_per_token: 0.0000001, output_cost_per_token: 0}
  - model_name: g
    litellm_params: {model: openai/self-hosted, api_base: http://e, order: 4}
  - model_name: g
    litellm_params: {model: azure/prod-eu, api_base: http://f, order: 5}
    model_info: {base_model: azure/gpt-4.1-nano}
  - model_name: other
    litellm_params: {model: openai/o, api_base: http://d}
router_settings:
  fallbacks: [{g: [other, gpt-4o-azure]}]
  routing_strategy: `
	tests := []struct {
		strategy string
		want     string
	}{
		{"ordered", "gpt-4o-mini,gpt-4o,custom,self-hosted,prod-eu,o"},
		// Cheapest first, by configured or list prices (prod-eu's are its
		// base_model's); a deployment without a price goes after the
		// priced ones: an unknown price is not a free one.
		{"least-cost", "custom,prod-eu,gpt-4o-mini,gpt-4o,self-hosted,o"},
	}
	// The orders are ordered's; with them, any strategy keeps their tiers
	// (TestOrderTiers).
	unordered := regexp.MustCompile(`, order: \d`).ReplaceAllString(base, "")
	for _, tc := range tests {
		t.Run(tc.strategy, func(t *testing.T) {
			yaml := base
			if tc.strategy != "ordered" {
				yaml = unordered
			}
			gw, cfg := routingGateway(t, yaml+tc.strategy+"\n")
			if !slices.ContainsFunc(cfg.Warnings, func(w string) bool { return strings.Contains(w, "gpt-4o-azure") }) {
				t.Fatalf("warnings %v, want one about the fallback gpt-4o-azure", cfg.Warnings)
			}
			if got := routeModels(gw.Route("g")); got != tc.want {
				t.Fatalf("route %s, want %s", got, tc.want)
			}
		})
	}
	t.Run("simple-shuffle varies the order within a group", func(t *testing.T) {
		gw, _ := routingGateway(t, unordered+"simple-shuffle\n")
		firsts := map[string]bool{}
		for i := 0; i < 200; i++ {
			r := gw.Route("g")
			firsts[r[0].Config.Model] = true
			if r[5].Config.Model != "o" {
				t.Fatal("the fallback group must come after the group's own deployments")
			}
		}
		if len(firsts) != 5 {
			t.Fatalf("first choices %v, want all five deployments over 200 requests", firsts)
		}
	})
}

// A fallback may name one deployment by its model_info.id (LiteLLM's
// exact targeting): that deployment alone is tried, not its group's
// others, and its breaker still passes it over when open.
func TestFallbackToOneDeploymentByID(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: chat
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
  - model_name: reserve
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
    model_info: {id: emergency-deployment}
  - model_name: reserve
    litellm_params: {model: openai/gpt-4.1-mini, api_base: "${MOCK_C}/v1", api_key: sk-c-secret}
litellm_settings:
  fallbacks: [{chat: [emergency-deployment]}]
router_settings:
  num_retries: 0
`, "a", "b", "c")
	e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	_, h, err := e.chat("chat")
	if err != nil || h.Get("X-Breakerd-Deployment") != "emergency-deployment" || h.Get("X-Breakerd-Fallback") != "true" {
		t.Fatalf("err %v, deployment %q, fallback %q: want the targeted deployment", err, h.Get("X-Breakerd-Deployment"), h.Get("X-Breakerd-Fallback"))
	}
	e.mocks["b"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	if _, _, err := e.chat("chat"); err == nil {
		t.Fatal("with the targeted deployment down too, the request was served")
	}
	if n := e.mocks["c"].Stats().Requests; n != 0 {
		t.Fatalf("the targeted deployment's group's other deployment got %d requests; a fallback by id tries that one alone", n)
	}
	// A context_window_fallbacks entry may name one too.
	e = newEnv(t, `
model_list:
  - model_name: small
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
  - model_name: reserve
    litellm_params: {model: openai/gpt-4.1, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
    model_info: {id: long-context}
router_settings:
  context_window_fallbacks: [{small: [long-context]}]
`, "a", "b")
	e.mocks["a"].SetFaults(mockllm.Faults{ContextTokens: 3})
	status, h, body := e.post("/v1/chat/completions", `{"model":"small","messages":[{"role":"user","content":"one two three four five"}]}`)
	if status != 200 || h.Get("X-Breakerd-Deployment") != "long-context" {
		t.Fatalf("too long for small: %d, served by %q: %v", status, h.Get("X-Breakerd-Deployment"), body)
	}
}

// LiteLLM's order makes tiers in a group, whatever its strategy: the
// lowest tier's deployments are tried first, arranged among themselves by
// the strategy, then the next tier's, then those without an order.
func TestOrderTiers(t *testing.T) {
	const head = `
model_list:
  - model_name: g
    litellm_params: {model: openai/backup, api_base: http://a, order: 2}
  - model_name: g
    litellm_params: {model: openai/primary-a, api_base: http://b, order: 1}
  - model_name: g
    litellm_params: {model: openai/last, api_base: http://c}
  - model_name: g
    litellm_params: {model: openai/primary-b, api_base: http://d, order: 1}
  - model_name: g
    litellm_params: {model: openai/backup-cheap, api_base: http://e, order: 2, input_cost_per_token: 0.0000001, output_cost_per_token: 0}
router_settings:
  routing_strategy: `
	for _, tc := range []struct {
		strategy string
		firsts   []string // the ones that may come first, over 200 routes
		rest     string   // the rest, in order
	}{
		{"simple-shuffle", []string{"primary-a", "primary-b"}, ""},
		{"least-busy", []string{"primary-a"}, "primary-b,backup,backup-cheap,last"},
		{"least-cost", []string{"primary-a"}, "primary-b,backup-cheap,backup,last"},
		{"ordered", []string{"primary-a"}, "primary-b,backup,backup-cheap,last"},
	} {
		t.Run(tc.strategy, func(t *testing.T) {
			gw, _ := routingGateway(t, head+tc.strategy+"\n")
			firsts := map[string]bool{}
			for i := 0; i < 200; i++ {
				got := strings.Split(routeModels(gw.Route("g")), ",")
				firsts[got[0]] = true
				if !slices.Contains(got[:2], "primary-a") || !slices.Contains(got[:2], "primary-b") {
					t.Fatalf("route %v: the first tier is not first", got)
				}
				if tail := strings.Join(got[2:], ","); tc.rest != "" && strings.Join(got[1:], ",") != tc.rest ||
					!slices.Contains([]string{"backup,backup-cheap,last", "backup-cheap,backup,last"}, tail) {
					t.Fatalf("route %v, want the second tier, then the deployment with no order", got)
				}
			}
			if len(firsts) != len(tc.firsts) {
				t.Fatalf("first choices %v, want %v", firsts, tc.firsts)
			}
		})
	}
}

// LiteLLM's routing_groups: a model group listed in one routes its own
// deployments by that group's strategy, on its own route and as another
// group's fallback; every other group routes by routing_strategy.
func TestRoutingGroupsHaveStrategiesOfTheirOwn(t *testing.T) {
	const yaml = `
model_list:
  - model_name: g
    litellm_params: {model: openai/g2, api_base: http://a, order: 2}
  - model_name: g
    litellm_params: {model: openai/g1, api_base: http://b, order: 1}
  - model_name: cheap
    litellm_params: {model: openai/expensive, api_base: http://c, input_cost_per_token: 0.00001, output_cost_per_token: 0}
  - model_name: cheap
    litellm_params: {model: openai/inexpensive, api_base: http://d, input_cost_per_token: 0.000001, output_cost_per_token: 0}
  - model_name: shuffled
    litellm_params: {model: openai/s1, api_base: http://e}
  - model_name: shuffled
    litellm_params: {model: openai/s2, api_base: http://f}
router_settings:
  routing_strategy: simple-shuffle
  fallbacks: [{shuffled: [g, cheap]}]
  routing_groups:
    - group_name: by-priority
      models: [g]
      routing_strategy: priority
    - group_name: by-cost
      models: [cheap]
      routing_strategy: cost-based-routing
`
	gw, _ := routingGateway(t, yaml)
	for group, want := range map[string]string{"g": "g1,g2", "cheap": "inexpensive,expensive"} {
		for i := 0; i < 20; i++ {
			if got := routeModels(gw.Route(group)); got != want {
				t.Fatalf("%s's route %s, want %s every time", group, got, want)
			}
		}
	}
	firsts := map[string]bool{}
	for i := 0; i < 200; i++ {
		r := gw.Route("shuffled")
		firsts[r[0].Config.Model] = true
		if got := routeModels(r[2:]); got != "g1,g2,inexpensive,expensive" {
			t.Fatalf("the fallbacks %s, want each in its own group's order", got)
		}
	}
	if len(firsts) != 2 {
		t.Fatalf("first choices of a group in no routing group %v, want both over 200 requests (simple-shuffle)", firsts)
	}
}

// simple-shuffle with LiteLLM's weight (or rpm) picks each deployment
// first in proportion to its weight; one without a weight comes last.
func TestSimpleShuffleFollowsWeights(t *testing.T) {
	yaml := `
model_list:
  - {model_name: g, litellm_params: {model: openai/heavy, weight: 8}}
  - {model_name: g, litellm_params: {model: openai/light, rpm: 2}}
  - {model_name: g, litellm_params: {model: openai/none}}
router_settings:
  routing_strategy: simple-shuffle
`
	gw, _ := routingGateway(t, yaml)
	const n = 4000
	firsts := map[string]int{}
	for range n {
		r := gw.Route("g")
		firsts[r[0].Config.Model]++
		if r[2].Config.Model != "none" {
			t.Fatalf("route %s, %s, %s: the unweighted deployment must come last", r[0].Config.Model, r[1].Config.Model, r[2].Config.Model)
		}
	}
	// Expected share 0.8; the bounds are 10 standard deviations wide, so
	// only a wrong distribution fails.
	if share := float64(firsts["heavy"]) / n; share < 0.74 || share > 0.86 {
		t.Fatalf("the weight-8 deployment came first in %.3f of routes, want about 0.8 (%v)", share, firsts)
	}
}

func TestAzureDeploymentURLAndKeyHeader(t *testing.T) {
	var path, key, auth, version atomic.Value
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path.Store(r.URL.Path)
		version.Store(r.URL.Query().Get("api-version"))
		key.Store(r.Header.Get("api-key"))
		auth.Store(r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"x","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`))
	}))
	defer upstream.Close()
	yaml := `
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: azure/my-gpt4o-deployment
      api_base: ` + upstream.URL + `
      api_version: "2024-06-01"
      api_key: azure-secret-key
`
	resp, err := http.Post(serveGateway(t, yaml)+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	if resp.StatusCode != 200 || resp.Header.Get("X-Breakerd-Provider") != "azure" {
		t.Fatalf("status %d provider %q", resp.StatusCode, resp.Header.Get("X-Breakerd-Provider"))
	}
	if path.Load() != "/openai/deployments/my-gpt4o-deployment/chat/completions" || version.Load() != "2024-06-01" ||
		key.Load() != "azure-secret-key" || auth.Load() != "" {
		t.Fatalf("path %v version %v api-key %v auth %v", path.Load(), version.Load(), key.Load(), auth.Load())
	}
}

// With router_settings.enable_pre_call_checks, a deployment's rpm and tpm
// are limits: one that has used its minute's share is passed over with no
// upstream call and no breaker failure, and when every deployment has, the
// client gets OpenAI's 429 with Retry-After.
func TestRateLimitedDeploymentsArePassedOver(t *testing.T) {
	const cfg = `
model_list:
  - model_name: limited
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_PRIMARY}/v1", api_key: sk-primary-key, rpm: 2}
  - model_name: spare
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_SPARE}/v1", api_key: sk-spare-key}
  - model_name: alone
    litellm_params: {model: openai/o1, api_base: "${MOCK_SPARE}/v1", api_key: sk-spare-key, rpm: 1}
  - model_name: tokens
    litellm_params: {model: openai/o3, api_base: "${MOCK_SPARE}/v1", api_key: sk-spare-key, tpm: 1}
router_settings:
  routing_strategy: ordered
  enable_pre_call_checks: true
  fallbacks: [{limited: [spare]}]
`
	const chat = `{"model":"%s","messages":[{"role":"user","content":"hi"}]}`
	t.Run("over its rpm a deployment is passed over to the fallback, and serves again once the minute refills", func(t *testing.T) {
		e := newEnv(t, cfg, "primary", "spare")
		var served []string
		for range 3 {
			status, h, body := e.post("/v1/chat/completions", fmt.Sprintf(chat, "limited"))
			if status != 200 {
				t.Fatalf("status %d: %v", status, body)
			}
			served = append(served, h.Get("X-Breakerd-Deployment")+" fallback="+h.Get("X-Breakerd-Fallback"))
		}
		want := []string{"limited/openai/gpt-4o-mini fallback=false", "limited/openai/gpt-4o-mini fallback=false", "spare/openai/gpt-4o fallback=true"}
		if !slices.Equal(served, want) {
			t.Fatalf("served by %v, want %v", served, want)
		}
		if n := e.mocks["primary"].Stats().Chat; n != 2 {
			t.Fatalf("the primary got %d calls, want 2: a limited deployment gets none", n)
		}
		if c := e.breaker("limited/openai/gpt-4o-mini:chat").Counts(); c.Failures != 0 || c.Successes != 2 {
			t.Fatalf("breaker counts %+v: a rate limit is not the deployment's failure", c)
		}
		e.clock.Advance(30 * time.Second) // one request's share
		if _, h, _ := e.post("/v1/chat/completions", fmt.Sprintf(chat, "limited")); h.Get("X-Breakerd-Fallback") != "false" {
			t.Fatalf("after 30s served by %s", h.Get("X-Breakerd-Deployment"))
		}
	})
	t.Run("when every deployment is over its rpm the client gets a 429 with Retry-After", func(t *testing.T) {
		e := newEnv(t, cfg, "primary", "spare")
		if status, _, body := e.post("/v1/chat/completions", fmt.Sprintf(chat, "alone")); status != 200 {
			t.Fatalf("first request: %d %v", status, body)
		}
		status, h, body := e.post("/v1/chat/completions", fmt.Sprintf(chat, "alone"))
		errBody, _ := body["error"].(map[string]any)
		if status != 429 || h.Get("Retry-After") != "60" || errBody["code"] != "rate_limit_exceeded" || errBody["type"] != "requests" {
			t.Fatalf("status %d, Retry-After %q, body %v", status, h.Get("Retry-After"), body)
		}
		if n := e.mocks["spare"].Stats().Chat; n != 1 {
			t.Fatalf("the upstream got %d calls, want 1", n)
		}
	})
	t.Run("tpm counts the tokens upstreams report, and an overdrawn deployment waits", func(t *testing.T) {
		e := newEnv(t, cfg, "primary", "spare")
		_, _, _ = e.post("/v1/chat/completions", fmt.Sprintf(chat, "tokens"))
		status, h, body := e.post("/v1/chat/completions", fmt.Sprintf(chat, "tokens"))
		errBody, _ := body["error"].(map[string]any)
		if status != 429 || errBody["type"] != "tokens" || h.Get("Retry-After") == "" {
			t.Fatalf("status %d, Retry-After %q, body %v", status, h.Get("Retry-After"), body)
		}
		e.clock.Advance(time.Hour)
		if status, _, body := e.post("/v1/chat/completions", fmt.Sprintf(chat, "tokens")); status != 200 {
			t.Fatalf("an hour later: %d %v", status, body)
		}
	})
}

// LiteLLM's model_group_alias: clients may name a group by an alias, and
// GET /v1/models lists the aliases that are not hidden.
func TestModelGroupAliases(t *testing.T) {
	e := newEnv(t, twoGroups+`  model_group_alias:
    gpt-4: gpt-4o-mini
    legacy: {model: claude-3-5-sonnet, hidden: true}
`, "primary", "backup")
	for alias, deployment := range map[string]string{"gpt-4": "gpt-4o-mini/openai/gpt-4o-mini", "legacy": "claude-3-5-sonnet/openai/claude-3-5-sonnet"} {
		out, h, err := e.chat(alias)
		if err != nil {
			t.Fatalf("%s: %v", alias, err)
		}
		if h.Get("X-Breakerd-Deployment") != deployment || h.Get("X-Breakerd-Fallback") != "false" {
			t.Fatalf("%s served by %s (fallback %s), want %s", alias, h.Get("X-Breakerd-Deployment"), h.Get("X-Breakerd-Fallback"), deployment)
		}
		if out.Model == alias {
			t.Fatalf("%s: the upstream got the alias, not the deployment's model", alias)
		}
	}
	if ids := e.modelIDs(); strings.Join(ids, ",") != "gpt-4o-mini,claude-3-5-sonnet,gpt-4" {
		t.Fatalf("models %v: want the groups, then the aliases that are not hidden", ids)
	}
	if m, err := e.client.Models.Get(context.Background(), "legacy"); err != nil || m.ID != "legacy" {
		t.Fatalf("retrieving a hidden alias: %v %+v", err, m)
	}
	status, _, body := e.post("/v1/chat/completions", `{"model":"gpt-5","messages":[{"role":"user","content":"hi"}]}`)
	msg, _ := body["error"].(map[string]any)["message"].(string)
	if status != 404 || !strings.HasSuffix(msg, "Known models: gpt-4o-mini, claude-3-5-sonnet, gpt-4") {
		t.Fatalf("status %d, message %q", status, msg)
	}
}

// An alias named as a group (an old model's name, sent to its
// successor) wins over the group, as LiteLLM looks an alias up first; the
// name is listed once.
func TestAnAliasNamedAsAGroupWins(t *testing.T) {
	e := newEnv(t, twoGroups+"  model_group_alias: {gpt-4o-mini: claude-3-5-sonnet}\n", "primary", "backup")
	_, h, err := e.chat("gpt-4o-mini")
	if err != nil {
		t.Fatal(err)
	}
	if d := h.Get("X-Breakerd-Deployment"); d != "claude-3-5-sonnet/openai/claude-3-5-sonnet" || e.mocks["primary"].Stats().Chat != 0 {
		t.Fatalf("served by %q, primary called %d times: want the alias's group alone", d, e.mocks["primary"].Stats().Chat)
	}
	if ids := e.modelIDs(); strings.Join(ids, ",") != "gpt-4o-mini,claude-3-5-sonnet" {
		t.Fatalf("models %v: want each name once", ids)
	}
}

// LiteLLM's context_window_fallbacks: a prompt too long for a group's
// model goes on to the groups configured for longer prompts, with no
// breaker failure; without such a group the upstream's 400 reaches the
// client as before.
func TestContextWindowFallbacks(t *testing.T) {
	const cfg = `
model_list:
  - model_name: small
    litellm_params: {model: anthropic/claude-haiku, api_base: "${MOCK_SMALL}", api_key: sk-small-key}
  - model_name: large
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_LARGE}/v1", api_key: sk-large-key}
  - model_name: alone
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_SMALL}/v1", api_key: sk-small-key}
router_settings:
  routing_strategy: ordered
  context_window_fallbacks: [{small: [large]}]
`
	const long = `{"model":"%s","messages":[{"role":"user","content":"one two three four five six seven eight"}]}`
	const short = `{"model":"%s","messages":[{"role":"user","content":"hi"}]}`
	e := newEnv(t, cfg, "small", "large")
	e.mocks["small"].SetFaults(mockllm.Faults{ContextTokens: 5})

	status, h, body := e.post("/v1/chat/completions", fmt.Sprintf(long, "small"))
	if status != 200 || h.Get("X-Breakerd-Deployment") != "large/openai/gpt-4o" || h.Get("X-Breakerd-Fallback") != "true" {
		t.Fatalf("too long for small: %d, served by %q (fallback %s): %v", status, h.Get("X-Breakerd-Deployment"), h.Get("X-Breakerd-Fallback"), body)
	}
	if _, h, _ := e.post("/v1/chat/completions", fmt.Sprintf(short, "small")); h.Get("X-Breakerd-Deployment") != "small/anthropic/claude-haiku" {
		t.Fatalf("a short prompt was served by %q", h.Get("X-Breakerd-Deployment"))
	}
	if c := e.breaker("small/anthropic/claude-haiku:chat").Counts(); c.Failures != 0 {
		t.Fatalf("a prompt too long counted against the model: %+v", c)
	}
	// LiteLLM's disable_fallbacks: the model's own refusal, no fallback.
	status, _, body = e.post("/v1/chat/completions", `{"model":"small","disable_fallbacks":true,"messages":[{"role":"user","content":"one two three four five six seven eight"}]}`)
	if errBody, _ := body["error"].(map[string]any); status != 400 || !strings.Contains(fmt.Sprint(errBody["message"]), "prompt is too long") || e.mocks["large"].Stats().Chat != 1 {
		t.Fatalf("with disable_fallbacks: %d %v, large called %d times; want small's 400 and no call to large", status, body, e.mocks["large"].Stats().Chat)
	}

	status, _, body = e.post("/v1/chat/completions", fmt.Sprintf(long, "alone"))
	errBody, _ := body["error"].(map[string]any)
	if status != 400 || errBody["code"] != "context_length_exceeded" {
		t.Fatalf("without context_window_fallbacks: %d %v, want the upstream's 400", status, body)
	}

	e.mocks["large"].SetFaults(mockllm.Faults{ContextTokens: 6})
	status, _, body = e.post("/v1/chat/completions", fmt.Sprintf(long, "small"))
	errBody, _ = body["error"].(map[string]any)
	if status != 400 || errBody["code"] != "context_length_exceeded" {
		t.Fatalf("too long for the fallback too: %d %v, want its 400", status, body)
	}
	if n := e.mocks["large"].Stats().Chat; n != 2 {
		t.Fatalf("large got %d calls, want 2", n)
	}
}

// LiteLLM's content_policy_fallbacks: a prompt a group's provider refuses
// by its content policy goes on to the configured groups, with no breaker
// failure.
func TestContentPolicyFallbacks(t *testing.T) {
	const cfg = `
model_list:
  - model_name: strict
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_STRICT}/v1", api_key: sk-strict-key}
  - model_name: lenient
    litellm_params: {model: anthropic/claude-haiku, api_base: "${MOCK_LENIENT}", api_key: sk-lenient-key}
router_settings:
  content_policy_fallbacks: [{strict: [lenient]}]
`
	e := newEnv(t, cfg, "strict", "lenient")
	e.mocks["strict"].SetFaults(mockllm.Faults{BlockedWords: []string{"dragons"}})
	status, h, body := e.post("/v1/chat/completions", `{"model":"strict","messages":[{"role":"user","content":"tell me about dragons"}]}`)
	if status != 200 || h.Get("X-Breakerd-Deployment") != "lenient/anthropic/claude-haiku" || h.Get("X-Breakerd-Fallback") != "true" {
		t.Fatalf("%d, served by %q (fallback %s): %v", status, h.Get("X-Breakerd-Deployment"), h.Get("X-Breakerd-Fallback"), body)
	}
	if c := e.breaker("strict/openai/gpt-4o-mini:chat").Counts(); c.Failures != 0 {
		t.Fatalf("a policy refusal counted against the model: %+v", c)
	}
	e.mocks["lenient"].SetFaults(mockllm.Faults{BlockedWords: []string{"dragons"}})
	status, _, body = e.post("/v1/chat/completions", `{"model":"strict","messages":[{"role":"user","content":"dragons"}]}`)
	if msg, _ := body["error"].(map[string]any)["message"].(string); status != 400 || msg != "Output blocked by content filtering policy" {
		t.Fatalf("refused by the fallback too: %d %v, want its 400", status, body)
	}
}

// OpenRouter refuses a prompt its moderation flags with a 403, which is
// the prompt's, not the key's: no breaker failure and no fallback of
// another kind; it goes to content_policy_fallbacks where there are some,
// and otherwise reaches the client as OpenRouter gave it.
func TestOpenRoutersModerationIsAContentRefusal(t *testing.T) {
	const models = `
model_list:
  - model_name: routed
    litellm_params: {model: openrouter/anthropic/claude-sonnet-4.6, api_base: "${MOCK_ROUTER}/api/v1", api_key: sk-or-key-123}
  - model_name: other
    litellm_params: {model: openai/gpt-4.1, api_base: "${MOCK_OTHER}/v1", api_key: sk-other-key}
router_settings:
`
	const flagged = `{"model":"routed","messages":[{"role":"user","content":"tell me about dragons"}]}`
	for _, tc := range []struct {
		name, router string
		status       int
	}{
		{"with content_policy_fallbacks", "  content_policy_fallbacks: [{routed: [other]}]\n", 200},
		{"with fallbacks of other kinds only", "  fallbacks: [{routed: [other]}]\n", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, models+tc.router, "router", "other")
			e.mocks["router"].SetFaults(mockllm.Faults{BlockedWords: []string{"dragons"}})
			for range 6 {
				status, _, body := e.post("/v1/chat/completions", flagged)
				errObj, _ := body["error"].(map[string]any)
				msg, _ := errObj["message"].(string)
				if status != tc.status || status == 403 && !strings.Contains(msg, "Your input was flagged") {
					t.Fatalf("%d %v, want %d", status, body, tc.status)
				}
			}
			if c := e.breaker("routed/openrouter/anthropic/claude-sonnet-4.6:chat").Counts(); c.Failures != 0 {
				t.Fatalf("flagged prompts counted against the deployment: %+v", c)
			}
		})
	}
}

// LiteLLM's max_fallbacks: a request tries at most that many fallback
// groups; the ones past it get no call.
func TestMaxFallbacksBoundsTheGroupsTried(t *testing.T) {
	const cfg = `
model_list:
  - model_name: a
    litellm_params: {model: openai/a, api_base: "${MOCK_A}/v1", api_key: sk-a-key}
  - model_name: b
    litellm_params: {model: openai/b, api_base: "${MOCK_B}/v1", api_key: sk-b-key}
  - model_name: c
    litellm_params: {model: openai/c, api_base: "${MOCK_C}/v1", api_key: sk-c-key}
router_settings:
  fallbacks: [{a: [b, c]}]
  max_fallbacks: 1
`
	e := newEnv(t, cfg, "a", "b", "c")
	for _, name := range []string{"a", "b"} {
		e.mocks[name].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
	}
	status, _, body := e.post("/v1/chat/completions", `{"model":"a","messages":[{"role":"user","content":"hi"}]}`)
	if status != 503 {
		t.Fatalf("status %d %v, want 503 with a and its one allowed fallback down", status, body)
	}
	if a, b, c := e.mocks["a"].Stats().Chat, e.mocks["b"].Stats().Chat, e.mocks["c"].Stats().Chat; a == 0 || b == 0 || c != 0 {
		t.Fatalf("calls a=%d b=%d c=%d, want c, the second fallback, never called", a, b, c)
	}
}

// LiteLLM's live strategies order a group's deployments by what they
// observe: in-flight calls (least-busy), recent latency
// (latency-based-routing) and this minute's usage (usage-based-routing).
// A deployment with nothing observed yet comes first, in config order.
func TestLiveRoutingStrategies(t *testing.T) {
	const cfg = `
model_list:
  - model_name: g
    litellm_params: {model: openai/a, api_base: "${MOCK_SLOW}/v1"}
  - model_name: g
    litellm_params: {model: openai/b, api_base: "${MOCK_FAST}/v1"}
router_settings:
  routing_strategy: `
	first := func(e *env) string { return e.gw.Route("g")[0].Config.Model }
	for _, strategy := range []string{"latency-based-routing", "usage-based-routing", "usage-based-routing-v2"} {
		t.Run(strategy, func(t *testing.T) {
			e := newEnv(t, cfg+strategy+"\n", "slow", "fast")
			e.mocks["slow"].SetFaults(mockllm.Faults{LatencyMS: 30})
			if got := first(e); got != "a" {
				t.Fatalf("before any call, %s first; want config order", got)
			}
			if _, h, err := e.chat("g"); err != nil || h.Get("X-Breakerd-Deployment") != "g/openai/a" {
				t.Fatalf("first call: %v %v", err, h)
			}
			if got := first(e); got != "b" {
				t.Fatalf("after a call to a, %s first; want b (unmeasured, or less used)", got)
			}
			if _, h, err := e.chat("g"); err != nil || h.Get("X-Breakerd-Deployment") != "g/openai/b" {
				t.Fatalf("second call: %v %v", err, h)
			}
			if strategy == "latency-based-routing" {
				for i := 0; i < 3; i++ { // b stays ahead: it is faster
					if _, h, err := e.chat("g"); err != nil || h.Get("X-Breakerd-Deployment") != "g/openai/b" {
						t.Fatalf("call %d: %v %v", i+3, err, h)
					}
				}
			}
		})
	}
	t.Run("least-busy", func(t *testing.T) {
		e := newEnv(t, cfg+"least-busy\n", "slow", "fast")
		if got := first(e); got != "a" {
			t.Fatalf("idle: %s first; want config order", got)
		}
		a := e.gw.Route("g")[0]
		release, err := a.Bulkhead.Acquire(context.Background()) // one call in flight on a
		if err != nil {
			t.Fatal(err)
		}
		if got := first(e); got != "b" {
			t.Fatalf("with a call in flight on a, %s first", got)
		}
		release()
		if got := first(e); got != "a" {
			t.Fatalf("idle again: %s first", got)
		}
	})
	t.Run("usage resets each minute", func(t *testing.T) {
		e := newEnv(t, cfg+"usage-based-routing\n", "slow", "fast")
		if _, _, err := e.chat("g"); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		if got := first(e); got != "a" {
			t.Fatalf("a new minute: %s first; want config order", got)
		}
	})
}

// LiteLLM's reliability docs put fallbacks in litellm_settings: there
// they fail over as in router_settings.
func TestLiteLLMSettingsFallbacksFailOver(t *testing.T) {
	cfg := strings.Replace(twoGroups, "  fallbacks: [claude-3-5-sonnet]\n", "", 1) +
		"litellm_settings:\n  fallbacks: [{gpt-4o-mini: [claude-3-5-sonnet]}]\n"
	e := newEnv(t, cfg, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	out, h, err := e.chat("gpt-4o-mini")
	if err != nil || h.Get("X-Breakerd-Fallback") != "true" || !strings.Contains(out.Choices[0].Message.Content, "backup") {
		t.Fatalf("err %v headers %v", err, h)
	}
}

// LiteLLM's allowed_fails and cooldown_time, without a circuit_breaker
// block, drive the breaker: allowed_fails: 1 lets one failure in a minute
// pass and cools the deployment down at the second, for cooldown_time,
// whatever succeeded between them (LiteLLM counts failures, not failures
// in a row).
func TestLiteLLMAllowedFailsAndCooldownTime(t *testing.T) {
	cfg := twoGroups[:strings.Index(twoGroups, "  circuit_breaker:")] + "  allowed_fails: 1\n  cooldown_time: 30\n"
	e := newEnv(t, cfg, "primary", "backup")
	b := e.breaker(primaryChat)
	for i, step := range []struct {
		fail bool
		open bool
	}{{fail: true}, {fail: false}, {fail: false}, {fail: true, open: true}} {
		faults := mockllm.Faults{}
		if step.fail {
			faults = mockllm.Faults{ErrorRate: 1, Status: 500}
		}
		e.mocks["primary"].SetFaults(faults)
		if _, _, err := e.chat("gpt-4o-mini"); err != nil {
			t.Fatal(err)
		}
		if open := b.State() == breaker.Open; open != step.open {
			t.Fatalf("after call %d (failed: %t): %s", i+1, step.fail, b.State())
		}
	}
	if at, ok := b.RetryAt(); !ok || !at.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("open until %v, want t0+30s", at)
	}
}

// fastAndSmart begins a config with two groups, fast and smart, on the
// mocks of those names.
const fastAndSmart = `
model_list:
  - model_name: fast
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_FAST}/v1", api_key: sk-fast-secret-key}
  - model_name: smart
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_SMART}/v1", api_key: sk-smart-secret-key}
`

// LiteLLM's auto routers are served as config reads them: the router's
// name is answered by its first group, as any request for that group is
// (not a fallback), and by its next group when that one fails, counted as
// a fallback; a breaker open on the first sends requests straight on.
func TestAutoRouterServesItsGroupsInTurn(t *testing.T) {
	e := newEnv(t, fastAndSmart+`  - model_name: smart-cheap-router
    litellm_params:
      model: auto_router/adaptive_router
      adaptive_router_config: {available_models: [fast, smart]}
router_settings:
  retry_backoff: 1ms
  circuit_breaker: {failure_threshold: 2, recovery_timeout: 30, success_threshold: 1}
`, "fast", "smart")
	served := func(want, fallback string) {
		t.Helper()
		out, h, err := e.chat("smart-cheap-router")
		if err != nil {
			t.Fatal(err)
		}
		if got := h.Get("X-Breakerd-Deployment"); got != want || h.Get("X-Breakerd-Fallback") != fallback {
			t.Fatalf("served by %s (fallback %s), want %s (fallback %s)", got, h.Get("X-Breakerd-Fallback"), want, fallback)
		}
		if out.Model == "smart-cheap-router" {
			t.Fatal("the upstream got the router's name, not the deployment's model")
		}
	}
	served("fast/openai/gpt-4o-mini", "false")
	if ids := e.modelIDs(); !slices.Contains(ids, "smart-cheap-router") {
		t.Fatalf("models %v: the router's name is not listed", ids)
	}

	e.mocks["fast"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
	served("smart/openai/gpt-4o", "true")
	served("smart/openai/gpt-4o", "true")
	if s := e.breaker("fast/openai/gpt-4o-mini:chat").State(); s != breaker.Open {
		t.Fatalf("fast's breaker is %v after two failures, want open", s)
	}
	before := e.mocks["fast"].Stats().Chat
	served("smart/openai/gpt-4o", "true")
	if n := e.mocks["fast"].Stats().Chat; n != before {
		t.Fatalf("fast was called %d more times with its circuit open", n-before)
	}

	// The Responses API reads the same alias.
	e.mocks["fast"].SetFaults(mockllm.Faults{})
	resp, err := e.client.Responses.New(context.Background(), responses.ResponseNewParams{
		Model: "smart-cheap-router", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")}})
	if err != nil || resp.Status != "completed" {
		t.Fatalf("Responses API: %v %+v", err, resp)
	}
}

// A fallback may name an auto router: its groups follow in turn, as a
// request for it would have them.
func TestFallbackToAnAutoRouter(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: primary
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_P}/v1", api_key: sk-p-secret-key}
  - model_name: fast
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_F}/v1", api_key: sk-f-secret-key}
  - model_name: router
    litellm_params:
      model: auto_router/adaptive_router
      adaptive_router_config: {available_models: [fast]}
router_settings:
  retry_backoff: 1ms
  fallbacks: [{primary: [router]}]
`, "p", "f")
	e.mocks["p"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
	_, h, err := e.chat("primary")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("X-Breakerd-Deployment"); got != "fast/openai/gpt-4o-mini" {
		t.Fatalf("served by %q, want the router's group", got)
	}
}

// LiteLLM's complexity router: a request starts at the group of its
// prompt's tier, as LiteLLM's default scorer classifies it (a greeting
// SIMPLE, code MEDIUM, code with technical terms COMPLEX, two reasoning
// markers REASONING), in every API that carries a prompt; the tier's
// group serves as the router's own (no fallback), and when its circuit is
// open the router's other groups follow.
func TestComplexityRouterPicksByThePrompt(t *testing.T) {
	e := newEnv(t, fastAndSmart+`  - model_name: deep
    litellm_params: {model: openai/o3, api_base: "${MOCK_DEEP}/v1", api_key: sk-deep-secret-key}
  - model_name: router
    litellm_params:
      model: auto_router/complexity_router
      complexity_router_config:
        tiers: {SIMPLE: fast, MEDIUM: smart, COMPLEX: deep, REASONING: deep}
router_settings:
  retry_backoff: 1ms
  circuit_breaker: {failure_threshold: 1, recovery_timeout: 30, success_threshold: 1}
`, "fast", "smart", "deep")
	const complex = "Implement the algorithm for a distributed cache: its architecture, latency and throughput under load, in rust"
	ask := func(prompt string) http.Header {
		t.Helper()
		var resp *http.Response
		if _, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "router",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("You are helpful."), openai.UserMessage(prompt)}},
			option.WithResponseInto(&resp)); err != nil {
			t.Fatal(err)
		}
		return resp.Header
	}
	for _, tc := range []struct{ prompt, tier, deployment string }{
		{"hi there!", "SIMPLE", "fast/openai/gpt-4o-mini"},
		{"Write a python function that parses dates", "MEDIUM", "smart/openai/gpt-4o"},
		{complex, "COMPLEX", "deep/openai/o3"},
		{"Think step by step and show your work: which is larger, 9.11 or 9.9?", "REASONING", "deep/openai/o3"},
	} {
		h := ask(tc.prompt)
		if h.Get("X-Breakerd-Complexity-Tier") != tc.tier || h.Get("X-Breakerd-Deployment") != tc.deployment || h.Get("X-Breakerd-Fallback") != "false" {
			t.Errorf("%q: tier %s, served by %s (fallback %s); want %s, %s", tc.prompt, h.Get("X-Breakerd-Complexity-Tier"),
				h.Get("X-Breakerd-Deployment"), h.Get("X-Breakerd-Fallback"), tc.tier, tc.deployment)
		}
	}

	// The Messages and Responses APIs' prompts are read too.
	var hr *http.Response
	ac := e.anthropicClient()
	if _, err := ac.Messages.New(context.Background(), anthropic.MessageNewParams{Model: "router", MaxTokens: 64,
		System:   []anthropic.TextBlockParam{{Text: "You are helpful."}},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(complex))}}, aoption.WithResponseInto(&hr)); err != nil {
		t.Fatal(err)
	}
	if hr.Header.Get("X-Breakerd-Complexity-Tier") != "COMPLEX" || hr.Header.Get("X-Breakerd-Deployment") != "deep/openai/o3" {
		t.Errorf("Messages API: tier %s, served by %s", hr.Header.Get("X-Breakerd-Complexity-Tier"), hr.Header.Get("X-Breakerd-Deployment"))
	}
	if _, err := e.client.Responses.New(context.Background(), responses.ResponseNewParams{Model: "router",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hello")}}, option.WithResponseInto(&hr)); err != nil {
		t.Fatal(err)
	}
	if hr.Header.Get("X-Breakerd-Complexity-Tier") != "SIMPLE" || hr.Header.Get("X-Breakerd-Deployment") != "fast/openai/gpt-4o-mini" {
		t.Errorf("Responses API: tier %s, served by %s", hr.Header.Get("X-Breakerd-Complexity-Tier"), hr.Header.Get("X-Breakerd-Deployment"))
	}

	// deep is down: a COMPLEX prompt is served by the router's other groups.
	e.mocks["deep"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
	ask(complex)
	if s := e.breaker("deep/openai/o3:chat").State(); s != breaker.Open {
		t.Fatalf("deep is %v after a failure, want open", s)
	}
	if h := ask(complex); h.Get("X-Breakerd-Deployment") != "smart/openai/gpt-4o" || h.Get("X-Breakerd-Fallback") != "true" {
		t.Fatalf("with deep's circuit open, served by %s (fallback %s), want smart", h.Get("X-Breakerd-Deployment"), h.Get("X-Breakerd-Fallback"))
	}
}
