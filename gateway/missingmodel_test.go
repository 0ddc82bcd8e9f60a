package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/mockllm"
)

// A deployment whose upstream does not serve its model (retired, or
// misnamed) can serve nothing: its circuit opens at the first such answer,
// without a retry, and the request goes on to the next deployment; the
// next requests go straight there.
func TestAModelItsUpstreamDoesNotServeOpensItsCircuit(t *testing.T) {
	cfg := strings.Replace(twoGroups, "  retry_backoff: 1ms", "  retry_backoff: 1ms\n  num_retries: 2", 1)
	e := newEnv(t, cfg, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{MissingModels: []string{"gpt-4o-mini"}})
	for i := range 2 {
		_, h, err := e.chat("gpt-4o-mini")
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		if h.Get("X-Breakerd-Deployment") == "" || h.Get("X-Breakerd-Fallback") != "true" {
			t.Fatalf("request %d answered by %q (fallback %q), want the backup", i+1, h.Get("X-Breakerd-Deployment"), h.Get("X-Breakerd-Fallback"))
		}
	}
	if n := e.mocks["primary"].Stats().Chat; n != 1 {
		t.Fatalf("the primary was called %d times, want once: no retry, and its circuit open after", n)
	}
	s := e.breaker(primaryChat).Snapshot()
	if s.State != breaker.Open || !strings.Contains(s.Reason, "does not serve its model") || !strings.Contains(s.Reason, "gpt-4o-mini") ||
		s.LastFailureKind != "model_missing" {
		t.Fatalf("primary's breaker %v, reason %q, last failure's class %q: want open, saying its model is not served, of class model_missing",
			s.State, s.Reason, s.LastFailureKind)
	}
}

// During an outage of the primary, a fallback of a model its provider
// has retired (the seed config's claude-3-5-sonnet-20241022, at
// Anthropic) is no answer: the client gets the gateway's 503, which names
// both deployments' failures, not a 404 for a model it did not ask for.
func TestARetiredFallbackDuringAnOutage(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_PRIMARY}/v1", api_key: sk-primary-secret-key}
  - model_name: claude
    litellm_params: {model: anthropic/claude-3-5-sonnet-20241022, api_base: "${MOCK_BACKUP}", api_key: sk-backup-secret-key}
router_settings:
  fallbacks: [{gpt-4o-mini: [claude]}]
`, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	e.mocks["backup"].SetFaults(mockllm.Faults{MissingModels: []string{"claude-3-5-sonnet-20241022"}})
	_, _, err := e.chat("gpt-4o-mini")
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("err %v, want the gateway's 503", err)
	}
	if msg := apiErr.Message; !strings.Contains(msg, "503") || !strings.Contains(msg, "model: claude-3-5-sonnet-20241022") {
		t.Fatalf("the 503 says %q; want both failures named", msg)
	}
	if st := e.breaker("claude/anthropic/claude-3-5-sonnet-20241022:chat").State(); st != breaker.Open {
		t.Fatalf("the retired fallback's breaker is %v, want open", st)
	}
}

// A model a client names through a wildcard deployment, which its
// upstream does not have, is the client's mistake: the upstream's 404
// reaches it, and no circuit opens.
func TestAMissingModelAskedThroughAWildcardIsTheClients(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: "openai/*"
    litellm_params: {model: "openai/*", api_base: "${MOCK_A}/v1", api_key: sk-a-secret-key}
`, "a")
	e.mocks["a"].SetFaults(mockllm.Faults{MissingModels: []string{"gpt-9"}})
	for i := range 2 {
		_, _, err := e.chat("openai/gpt-9")
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "model_not_found" {
			t.Fatalf("request %d: err %v, want the upstream's 404 model_not_found", i+1, err)
		}
	}
	if n := e.mocks["a"].Stats().Chat; n != 2 {
		t.Fatalf("the upstream was called %d times, want 2: no circuit opened", n)
	}
}

// A health check that finds the deployment's model not served opens its
// circuit at once, before any client meets it, where checks count toward
// the breakers (enable_health_check_routing); where they are only
// counted and logged, it does not.
func TestAHealthCheckFindsTheModelMissing(t *testing.T) {
	for _, tc := range []struct {
		name, general string
		want          breaker.State
	}{
		// allowed_fails_policy: a failed check counts as a call does,
		// without opening the circuit at once.
		{"checks that route", "general_settings: {background_health_checks: true, enable_health_check_routing: true}\n", breaker.Open},
		{"checks only logged", "general_settings: {background_health_checks: true}\n", breaker.Closed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := strings.Replace(twoGroups, "  retry_backoff: 1ms", "  retry_backoff: 1ms\n  allowed_fails_policy: {InternalServerErrorAllowedFails: 3}", 1)
			e := newEnv(t, cfg+tc.general, "primary", "backup")
			e.mocks["primary"].SetFaults(mockllm.Faults{MissingModels: []string{"gpt-4o-mini"}})
			e.gw.Probe(context.Background())
			if n := e.mocks["primary"].Stats().Chat; n != 1 {
				t.Fatalf("%d checks of the primary, want 1", n)
			}
			s := e.breaker(primaryChat).Snapshot()
			if s.State != tc.want || tc.want == breaker.Open && !strings.Contains(s.Reason, "does not serve its model") {
				t.Fatalf("primary's breaker %v (%q) after its check, want %v", s.State, s.Reason, tc.want)
			}
		})
	}
}

// A deployment whose account is out of credit (OpenAI's insufficient_quota
// 429, Anthropic's "credit balance is too low" 400) or disabled (OpenAI's
// account_deactivated 401, Anthropic's "This organization has been
// disabled." 400) can serve nothing until someone pays or the vendor
// restores it: its circuit opens at the first such answer, naming the
// cause, and the request goes on without a retry, where a 429 would only
// cool it down and a 400 would reach the client.
func TestAnAccountThatCannotServeOpensItsCircuit(t *testing.T) {
	const openAI, anthropic = `{model: openai/gpt-4o-mini, api_base: "${MOCK_PRIMARY}/v1", api_key: sk-primary-secret-key}`,
		`{model: anthropic/claude-sonnet-4-6, api_base: "${MOCK_PRIMARY}", api_key: sk-primary-secret-key}`
	for _, tc := range []struct {
		name, primary, breakerName string
		faults                     mockllm.Faults
		kind, why                  string
	}{
		{"OpenAI's insufficient_quota", openAI, "gpt-4o-mini/openai/gpt-4o-mini:chat", mockllm.Faults{OutOfCredit: true},
			"out_of_credit", "its upstream account is out of credit"},
		{"Anthropic's credit balance", anthropic, "gpt-4o-mini/anthropic/claude-sonnet-4-6:chat", mockllm.Faults{OutOfCredit: true},
			"out_of_credit", "its upstream account is out of credit"},
		{"OpenAI's deactivated account", openAI, "gpt-4o-mini/openai/gpt-4o-mini:chat", mockllm.Faults{AccountDisabled: true},
			"account_disabled", "its upstream account is disabled"},
		{"Anthropic's disabled organization", anthropic, "gpt-4o-mini/anthropic/claude-sonnet-4-6:chat", mockllm.Faults{AccountDisabled: true},
			"account_disabled", "its upstream account is disabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: `+tc.primary+`
  - model_name: backup
    litellm_params: {model: openai/gpt-4.1, api_base: "${MOCK_BACKUP}/v1", api_key: sk-backup-secret-key}
router_settings:
  num_retries: 2
  retry_backoff: 1ms
  fallbacks: [{gpt-4o-mini: [backup]}]
`, "primary", "backup")
			e.mocks["primary"].SetFaults(tc.faults)
			for i := range 2 {
				if _, h, err := e.chat("gpt-4o-mini"); err != nil || h.Get("X-Breakerd-Fallback") != "true" {
					t.Fatalf("request %d: %v (fallback %q), want the backup's answer", i+1, err, h.Get("X-Breakerd-Fallback"))
				}
			}
			if n := e.mocks["primary"].Stats().Requests; n != 1 {
				t.Fatalf("the primary was called %d times, want once", n)
			}
			s := e.breaker(tc.breakerName).Snapshot()
			if s.State != breaker.Open || !strings.Contains(s.Reason, tc.why) || s.LastFailureKind != tc.kind {
				t.Fatalf("primary's breaker %v, reason %q, last failure's class %q", s.State, s.Reason, s.LastFailureKind)
			}
		})
	}
}

// A deployment whose api_base has no such path (/v1 written twice, here)
// serves nothing: the upstream's 404 "Invalid URL" opens its circuit at
// once, naming the cause, and the request goes on, where the client got
// the upstream's 404 as its own mistake.
func TestAWrongAPIBaseOpensItsCircuit(t *testing.T) {
	cfg := strings.Replace(twoGroups, "api_base: ${MOCK_PRIMARY}/v1", "api_base: ${MOCK_PRIMARY}/v1/v1", 1)
	e := newEnv(t, cfg, "primary", "backup")
	if _, h, err := e.chat("gpt-4o-mini"); err != nil || h.Get("X-Breakerd-Fallback") != "true" {
		t.Fatalf("%v (fallback %q), want the fallback's answer", err, h.Get("X-Breakerd-Fallback"))
	}
	s := e.breaker(primaryChat).Snapshot()
	if s.State != breaker.Open || !strings.Contains(s.Reason, "its api_base does not serve this API: 404 Not Found: Invalid URL (POST /v1/v1/chat/completions)") ||
		s.LastFailureKind != "wrong_path" {
		t.Fatalf("primary's breaker %v, reason %q, last failure's class %q", s.State, s.Reason, s.LastFailureKind)
	}
}

// A deployment whose OpenAI organization is not verified to stream the
// model refuses streamed requests with a 400 that is its account's, not
// the request's: the stream goes on to the next deployment, without a
// breaker failure, and an unstreamed request is still served there; with
// no other deployment, the client gets the 400 saying so.
func TestAnOrganizationNotVerifiedToStream(t *testing.T) {
	e := newEnv(t, twoGroups, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{UnverifiedStreams: true})
	if text, err := e.chatStream("gpt-4o-mini"); err != nil || !strings.Contains(text, "backup") {
		t.Fatalf("stream: %q %v, want the backup's", text, err)
	}
	if _, h, err := e.chat("gpt-4o-mini"); err != nil || h.Get("X-Breakerd-Fallback") != "false" {
		t.Fatalf("unstreamed: %v (fallback %q), want the primary's answer", err, h.Get("X-Breakerd-Fallback"))
	}
	if c := e.breaker(primaryChat).Counts(); c.Failures != 0 {
		t.Fatalf("the refusal counted against the primary: %+v", c)
	}
	alone := newEnv(t, strings.Replace(twoGroups, "  fallbacks: [claude-3-5-sonnet]\n", "", 1), "primary", "backup")
	alone.mocks["primary"].SetFaults(mockllm.Faults{UnverifiedStreams: true})
	_, err := alone.chatStream("gpt-4o-mini")
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || !strings.Contains(apiErr.Message, "must be verified to stream") {
		t.Fatalf("%v, want the 400 saying so", err)
	}
}
