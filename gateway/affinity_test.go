package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/breakerd/breakerd/mockllm"
)

// affinityConfig has one group of two deployments, a first by order, and
// LiteLLM's affinity checks as given.
const affinityConfig = `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4, api_base: "${MOCK_A}", api_key: sk-ant-a-secret, order: 1}
    model_info: {id: a}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4, api_base: "${MOCK_B}", api_key: sk-ant-b-secret, order: 2}
    model_info: {id: b}
router_settings:
  routing_strategy: ordered
  retry_backoff: 1ms
  deployment_affinity_ttl_seconds: 60
  circuit_breaker: {failure_threshold: 1, recovery_timeout: 30, success_threshold: 1}
`

// LiteLLM's session_affinity: a session's requests go to the deployment
// that served it last, as long as that one's circuit lets them: after a
// failover the session stays where it moved (its prompt cache is there)
// even once the first deployment is back, while other sessions and
// requests with none go by the routing strategy; the pin ends a TTL after
// its last use. The session is read from LiteLLM's header, Claude Code's,
// and the body's litellm_session_id.
func TestSessionAffinityKeepsASessionWhereItIsServed(t *testing.T) {
	e := newEnv(t, affinityConfig+"  optional_pre_call_checks: [session_affinity]\n", "a", "b")
	ctx := context.Background()
	chat := func(session string) string {
		t.Helper()
		var hr *http.Response
		opts := []option.RequestOption{option.WithResponseInto(&hr)}
		if session != "" {
			opts = append(opts, option.WithHeader("x-litellm-session-id", session))
		}
		_, err := e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "claude",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return hr.Header.Get("X-Breakerd-Deployment")
	}
	claudeCode := func(session string) string {
		t.Helper()
		var hr *http.Response
		client := e.anthropicClient()
		_, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: "claude", MaxTokens: 16,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}},
			aoption.WithHeader("x-claude-code-session-id", session), aoption.WithResponseInto(&hr))
		if err != nil {
			t.Fatal(err)
		}
		return hr.Header.Get("X-Breakerd-Deployment")
	}
	inBody := func(session string) string {
		t.Helper()
		status, h, body := e.post("/v1/chat/completions", `{"model":"claude","litellm_session_id":"`+session+`","messages":[{"role":"user","content":"hi"}]}`)
		if status != 200 || h.Get("X-Breakerd-Ignored-Params") != "" {
			t.Fatalf("status %d, ignored %q: %v", status, h.Get("X-Breakerd-Ignored-Params"), body)
		}
		return h.Get("X-Breakerd-Deployment")
	}
	for name, ask := range map[string]func(string) string{"x-litellm-session-id": chat, "x-claude-code-session-id": claudeCode, "litellm_session_id": inBody} {
		if got := ask("s-" + name); got != "a" {
			t.Fatalf("%s: served by %s, want a (first by order)", name, got)
		}
		e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
		if got := ask("s-" + name); got != "b" {
			t.Fatalf("%s: with a failing, served by %s", name, got)
		}
		e.mocks["a"].SetFaults(mockllm.Faults{})
		e.breaker("a:chat").Reset("test: a is back")
		if got := ask("s-" + name); got != "b" {
			t.Fatalf("%s: the session moved back to %s once a was back; want it kept on b", name, got)
		}
		if got, none := ask("another-"+name), chat(""); got != "a" || none != "a" {
			t.Fatalf("%s: another session went to %s, a request with none to %s; want a", name, got, none)
		}
	}
	e.clock.Advance(61 * time.Second)
	if got := chat("s-x-litellm-session-id"); got != "a" {
		t.Fatalf("past the TTL the session went to %s, want a", got)
	}
}

// deployment_affinity pins by the client's API key instead, and
// model_group_affinity_config gives a group its own checks.
func TestKeyAffinityAndPerGroupChecks(t *testing.T) {
	for _, tc := range []struct{ name, checks string }{
		{"optional_pre_call_checks", "  optional_pre_call_checks: [deployment_affinity]\n"},
		{"model_group_affinity_config", "  model_group_affinity_config: {claude: [deployment_affinity]}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, affinityConfig+tc.checks, "a", "b")
			ask := func(key string) string {
				t.Helper()
				var hr *http.Response
				_, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "claude",
					Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}, option.WithAPIKey(key), option.WithResponseInto(&hr))
				if err != nil {
					t.Fatal(err)
				}
				return hr.Header.Get("X-Breakerd-Deployment")
			}
			e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
			if got := ask("sk-team-one"); got != "b" {
				t.Fatalf("served by %s", got)
			}
			e.mocks["a"].SetFaults(mockllm.Faults{})
			e.breaker("a:chat").Reset("test: a is back")
			if one, two := ask("sk-team-one"), ask("sk-team-two"); one != "b" || two != "a" {
				t.Fatalf("key one went to %s (want b, where it moved), key two to %s (want a)", one, two)
			}
		})
	}
}

// LiteLLM's prompt_caching: a request whose prompt marks a long prefix
// for caching (cache_control) goes to the deployment that served that
// prefix last, where its cache is warm, while that one's circuit lets it;
// another prefix, or a prompt too short to cache, goes by the strategy.
func TestPromptCachingKeepsAPrefixWhereItIsCached(t *testing.T) {
	e := newEnv(t, affinityConfig+"  optional_pre_call_checks: [prompt_caching]\n", "a", "b")
	system := func(topic string) string {
		return `[{"type":"text","text":"` + strings.Repeat("You answer questions about "+topic+". ", 200) + `","cache_control":{"type":"ephemeral"}}]`
	}
	ask := func(sys, question string) string {
		t.Helper()
		status, h, body := e.post("/v1/messages", `{"model":"claude","max_tokens":16,"system":`+sys+`,"messages":[{"role":"user","content":"`+question+`"}]}`)
		if status != 200 {
			t.Fatalf("status %d: %v", status, body)
		}
		return h.Get("X-Breakerd-Deployment")
	}
	if got := ask(system("breakers"), "one"); got != "a" {
		t.Fatalf("first: %s", got)
	}
	short := `[{"type":"text","text":"be brief","cache_control":{"type":"ephemeral"}}]` // too short to be cached
	e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
	if got, s := ask(system("breakers"), "two"), ask(short, "two"); got != "b" || s != "b" {
		t.Fatalf("with a failing: %s, %s", got, s)
	}
	e.mocks["a"].SetFaults(mockllm.Faults{})
	e.breaker("a:chat").Reset("test: a is back")
	if got := ask(system("breakers"), "three"); got != "b" {
		t.Fatalf("the cached prefix went to %s once a was back; want b, where it is cached", got)
	}
	if other, s, plain := ask(system("bulkheads"), "four"), ask(short, "five"), ask(`"be brief"`, "six"); other != "a" || s != "a" || plain != "a" {
		t.Fatalf("another prefix went to %s, a marked one too short to cache to %s, an unmarked one to %s; want a", other, s, plain)
	}
}
