package gateway_test

import (
	"context"
	"strings"
	"testing"
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
