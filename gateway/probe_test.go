package gateway_test

import (
	"context"
	"strings"
	"testing"

	"github.com/breakerd/breakerd/mockllm"
)

// A wildcard deployment is health-checked for each model clients have
// asked it for, not for its template (which names no model to call).
func TestHealthChecksOfAWildcard(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: "openai/*"
    litellm_params: {model: "openai/*", api_base: "${MOCK_A}/v1", api_key: sk-a-secret-key}
`, "a")
	e.gw.Probe(context.Background())
	if n := e.mocks["a"].Stats().Chat; n != 0 {
		t.Fatalf("%d checks before any model was asked for", n)
	}
	if _, _, err := e.chat("openai/gpt-4o"); err != nil {
		t.Fatal(err)
	}
	e.gw.Probe(context.Background())
	if n := e.mocks["a"].Stats().Chat; n != 2 {
		t.Fatalf("%d calls after a request and a round of checks, want 2", n)
	}
	if body := e.mocks["a"].LastBody(); !strings.Contains(body, `"model":"gpt-4o"`) || !strings.Contains(body, `"max_completion_tokens":1`) {
		t.Fatalf("the check sent %s", body)
	}
}

// A deployment's own health check settings (LiteLLM's model_info keys)
// shape its check: off, its token limit, its fields, its timeout; and
// background_health_check_model_groups leaves other groups unchecked.
func TestHealthCheckSettingsOfADeployment(t *testing.T) {
	for _, tc := range []struct {
		name, info, general string
		faults              mockllm.Faults
		calls               int64
		body, notBody, log  []string
	}{
		{"the default check", "{}", "", mockllm.Faults{}, 1, []string{`"max_completion_tokens":1`}, nil, nil},
		{"off", "{disable_background_health_check: true}", "", mockllm.Faults{}, 0, nil, nil, nil},
		{"its group not listed", "{}", "general_settings: {background_health_checks: true, background_health_check_model_groups: [other]}\n",
			mockllm.Faults{}, 0, nil, nil, nil},
		{"its group listed", "{}", "general_settings: {background_health_checks: true, background_health_check_model_groups: [chat]}\n",
			mockllm.Faults{}, 1, nil, nil, nil},
		{"its token limit", "{health_check_max_tokens: 5}", "", mockllm.Faults{}, 1, []string{`"max_completion_tokens":5`}, nil, nil},
		{"no token limit", "{health_check_supports_max_tokens: false}", "", mockllm.Faults{}, 1, nil, []string{"max_completion_tokens"}, nil},
		{"its fields", "{health_check_params: {temperature: 0, user: health-check}, health_check_reasoning_effort: minimal}", "", mockllm.Faults{}, 1,
			[]string{`"temperature":0`, `"user":"health-check"`, `"reasoning_effort":"minimal"`, `"messages":[`}, nil, nil},
		{"its timeout", "{health_check_timeout: 0.05}", "", mockllm.Faults{LatencyMS: 10_000}, 1, nil, nil,
			[]string{`"operation":"chat health check`, "timeout"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, `
model_list:
  - model_name: chat
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_A}/v1", api_key: sk-a-secret-key}
    model_info: `+tc.info+`
  - model_name: other
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_B}/v1", api_key: sk-b-secret-key}
`+tc.general, "a", "b")
			e.mocks["a"].SetFaults(tc.faults)
			e.gw.Probe(context.Background())
			if n := e.mocks["a"].Stats().Chat; n != tc.calls {
				t.Fatalf("%d checks of the deployment, want %d", n, tc.calls)
			}
			body := e.mocks["a"].LastBody()
			for _, want := range tc.body {
				if !strings.Contains(body, want) {
					t.Errorf("the check sent %s, without %s", body, want)
				}
			}
			for _, not := range tc.notBody {
				if strings.Contains(body, not) {
					t.Errorf("the check sent %s, with %s", body, not)
				}
			}
			for _, want := range tc.log {
				if !strings.Contains(e.logs.String(), want) {
					t.Errorf("the log lacks %s:\n%s", want, e.logs.String())
				}
			}
		})
	}
}

// A wildcard deployment's health_check_model is checked from the first
// round, before any client asks for it, through the breakers clients'
// calls to it then use.
func TestHealthCheckModelOfAWildcard(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: "*"
    litellm_params: {model: "openai/*", api_base: "${MOCK_A}/v1", api_key: sk-a-secret-key}
    model_info: {health_check_model: openai/gpt-4o-mini}
`, "a")
	e.gw.Probe(context.Background())
	if n := e.mocks["a"].Stats().Chat; n != 1 {
		t.Fatalf("%d checks, want 1", n)
	}
	if body := e.mocks["a"].LastBody(); !strings.Contains(body, `"model":"gpt-4o-mini"`) {
		t.Fatalf("the check sent %s", body)
	}
	if _, _, err := e.chat("gpt-4o-mini"); err != nil {
		t.Fatal(err)
	}
	var chat []string
	for _, name := range e.gw.Registry().Names() {
		if strings.HasSuffix(name, ":chat") {
			chat = append(chat, name)
		}
	}
	if len(chat) != 1 || e.mocks["a"].Stats().Chat != 2 {
		t.Fatalf("chat breakers %v after %d calls: the check and the client's call should share one", chat, e.mocks["a"].Stats().Chat)
	}
}
