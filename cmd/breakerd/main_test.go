package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCheckConfigPrintsRoutingTableWithoutSecrets(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-live-openai-abcdef")
	t.Setenv("AZURE_API_KEY", "azure-live-key-123456")
	t.Setenv("AZURE_API_BASE", "https://example-resource.openai.azure.com")
	t.Setenv("GROQ_API_KEY", "gsk-live-groq-98765")
	t.Setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/secret")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"check-config", filepath.Join("..", "..", "config.yaml")}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	s := out.String()
	for _, want := range []string{"OK", "gpt-4o-mini/openai/gpt-4o-mini (primary, order 1)", "gpt-4o-mini-eastus (primary, order 2)",
		"llama-3.1-8b/openai/llama-3.1-8b-instant (fallback)", "[REDACTED]", "gpt-4o-mini/openai/gpt-4o-mini:chat"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	for _, secret := range []string{"sk-live-openai-abcdef", "azure-live-key-123456", "gsk-live-groq-98765", "B0/secret"} {
		if strings.Contains(s+errOut.String(), secret) {
			t.Errorf("output leaks %q", secret)
		}
	}
}

func TestCheckConfigOnSeedWarnsAndFailsWithoutKeys(t *testing.T) {
	seed := filepath.Join("..", "..", "config", "testdata", "litellm_config.yaml")
	var out, errOut bytes.Buffer
	for _, k := range []string{"OPENAI_API_KEY", "ANTHROPIC_API_KEY"} {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)
	}
	if code := run(context.Background(), []string{"check-config", seed}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "environment variable OPENAI_API_KEY is not set") {
		t.Fatalf("exit %d, stderr %s", code, errOut.String())
	}
	// With one provider's key, its deployments run; the others are left
	// out, with a warning.
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), []string{"check-config", seed}, &out, &errOut); code != 0 ||
		!strings.Contains(errOut.String(), "environment variable OPENAI_API_KEY is not set: this deployment is left out of routing") ||
		!strings.Contains(out.String(), "claude-3-5-sonnet/anthropic/claude-3-5-sonnet-20241022") {
		t.Fatalf("exit %d, stdout %s\nstderr %s", code, out.String(), errOut.String())
	}
	t.Setenv("OPENAI_API_KEY", "sk-openai-test-key")
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), []string{"check-config", seed}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), `warning: `) || !strings.Contains(errOut.String(), "gpt-4o-azure") {
		t.Fatalf("no warning for the undefined fallback: %s", errOut.String())
	}
	if !strings.Contains(errOut.String(), "anthropic/claude-3-5-sonnet-20241022 was retired by Anthropic on 2025-10-22") {
		t.Fatalf("no warning that the guide's Claude model is retired: %s", errOut.String())
	}
	// least-cost: the table says what each deployment costs.
	for _, want := range []string{"gpt-4o-mini/openai/gpt-4o-mini (primary, $0.15 in + $0.6 out per 1M tokens)",
		"claude-3-5-sonnet/anthropic/claude-3-5-sonnet-20241022 (fallback, its model retired by Anthropic on 2025-10-22, $3 in + $15 out per 1M tokens)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// Under least-cost, check-config shows a deployment's long-context and
// service tier prices beside its own; and which deployments take chat
// through the Responses API, and which give tool calls thought signatures.
func TestCheckConfigShowsPriceTiers(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-openai-test-key")
	path := filepath.Join(t.TempDir(), "tiers.yaml")
	if err := os.WriteFile(path, []byte("router_settings: {routing_strategy: least-cost}\nmodel_list:\n"+
		"  - model_name: g\n    litellm_params: {model: openai/gpt-5.4}\n    model_info: {input_cost_per_token_priority: 0.000005, output_cost_per_token_priority: 0.00003}\n"+
		"  - model_name: c\n    litellm_params: {model: openai/gpt-5.1-codex}\n"+
		"  - model_name: gem\n    litellm_params: {model: gemini/gemini-3-pro-preview, api_key: g-0123456789}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"check-config", path}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"g/openai/gpt-5.4 (primary, $2.5 in + $15 out per 1M tokens ($5 + $22.5 past 272k input tokens) ($5 + $30 at the priority tier))",
		"c/openai/gpt-5.1-codex: takes chat requests through the Responses API, translated",
		"gem/gemini/gemini-3-pro-preview: gives an assistant's tool call without a thought signature Google's stand-in"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// A LiteLLM proxy config with settings breakerd lacks: check-config
// passes, warns about each ignored setting, and says that clients need
// the master key without printing it.
func TestCheckConfigOnLiteLLMProxyConfig(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-openai-test-key")
	t.Setenv("AZURE_API_KEY", "azure-test-key-123")
	t.Setenv("LITELLM_MASTER_KEY", "sk-master-secret-4242")
	var out, errOut bytes.Buffer
	cfg := filepath.Join("..", "..", "config", "testdata", "litellm_proxy_config.yaml")
	if code := run(context.Background(), []string{"check-config", cfg}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if got := strings.Count(errOut.String(), "a LiteLLM setting that breakerd does not use"); got != 2 {
		t.Fatalf("%d ignored-setting warnings, want 2 (drop_params is honoured, and mode: chat read):\n%s", got, errOut.String())
	}
	if got := strings.Count(errOut.String(), "is a limit only with router_settings.enable_pre_call_checks: true"); got != 2 {
		t.Fatalf("%d rpm/tpm warnings, want 2:\n%s", got, errOut.String())
	}
	for _, want := range []string{"API clients must send the master key [REDACTED]",
		"circuit breaker: open after 4 failures in 1m0s; trials after 30s",
		"from LiteLLM's settings: allowed_fails 3: open after 4 failures in a minute; cooldown_time 30s: stay open 30s",
		"gpt-4o-primary (primary, weight 600)", "gpt-4o/azure/gpt-4o-eu (primary, weight 2)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String()+errOut.String(), "sk-master-secret-4242") {
		t.Fatal("check-config prints the master key")
	}
}

// checkConfig runs check-config on yaml, which must pass, and returns its
// standard output and error.
func checkConfig(t *testing.T, yaml string) (out, errOut *bytes.Buffer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut = &bytes.Buffer{}, &bytes.Buffer{}
	if code := run(context.Background(), []string{"check-config", path}, out, errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	return out, errOut
}

func TestCheckConfigShowsAliasesAndRefusalFallbacks(t *testing.T) {
	out, _ := checkConfig(t, "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-unused-key}\n"+
		"  - model_name: big\n    litellm_params: {model: openai/y, api_key: sk-unused-key}\n"+
		"router_settings:\n  model_group_alias: {z: a, b: {model: a, hidden: true}}\n  context_window_fallbacks: [{a: [big]}]\n  content_policy_fallbacks: [{big: [a]}]\n")
	for _, want := range []string{"aliases: b -> a (hidden), z -> a\n", "prompts too long for a model go on: a -> big\n",
		"prompts refused by a content policy go on: big -> a\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestCheckConfigShowsEnforcedRateLimits(t *testing.T) {
	out, errOut := checkConfig(t, "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-unused-key, rpm: 60, tpm: 9000}\n"+
		"router_settings:\n  routing_strategy: ordered\n  optional_pre_call_checks: [enforce_model_rate_limits]\n")
	if want := "a/openai/x (primary, limit 60 rpm, limit 9000 tpm)"; !strings.Contains(out.String(), want) {
		t.Fatalf("output lacks %q:\n%s", want, out.String())
	}
	if errOut.String() != "" {
		t.Fatalf("warnings for enforced limits: %s", errOut.String())
	}
}

func TestCheckConfigSaysWhenLiteLLMsMetricNamesAreOn(t *testing.T) {
	for _, tc := range []struct {
		callbacks string
		on        bool
	}{{"[prometheus]", true}, {"[langfuse]", false}} {
		out, _ := checkConfig(t, "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-unused-key}\n"+
			"litellm_settings:\n  success_callback: "+tc.callbacks+"\n")
		if got := strings.Contains(out.String(), "metrics: /metrics has LiteLLM's metric names too"); got != tc.on {
			t.Errorf("callbacks %s: says LiteLLM's names are on: %v, want %v:\n%s", tc.callbacks, got, tc.on, out.String())
		}
	}
}

// With the pre-call checks on, the routing table shows each deployment's
// context window, configured or known.
func TestCheckConfigShowsContextWindows(t *testing.T) {
	out, _ := checkConfig(t, "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o-mini, api_key: sk-unused-key}\n"+
		"  - model_name: b\n    litellm_params: {model: openai/x, api_key: sk-unused-key, max_input_tokens: 4096}\n"+
		"router_settings:\n  enable_pre_call_checks: true\n")
	for _, want := range []string{"(primary, prompts up to 128000 tokens)", "(primary, prompts up to 4096 tokens)"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// With tag routing on, the routing table shows each deployment's tags.
func TestCheckConfigShowsTags(t *testing.T) {
	out, _ := checkConfig(t, "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-unused-key, tags: [paid, eu]}\n"+
		"router_settings:\n  enable_tag_filtering: true\n")
	if want := "(primary, tags paid eu)"; !strings.Contains(out.String(), want) {
		t.Fatalf("output lacks %q:\n%s", want, out.String())
	}
}

// A Claude deployment that takes fast mode or US-only inference says so,
// with what they cost.
func TestCheckConfigShowsFastModeAndUSOnly(t *testing.T) {
	out, _ := checkConfig(t, "model_list:\n  - model_name: opus\n    litellm_params: {model: anthropic/claude-opus-5, api_key: sk-ant-unused-key}\n"+
		"  - model_name: haiku\n    litellm_params: {model: anthropic/claude-haiku-4-5, api_key: sk-ant-unused-key}\n")
	for _, want := range []string{"opus/anthropic/claude-opus-5: takes fast mode (speed: fast), at 2 times its prices",
		"opus/anthropic/claude-opus-5: takes inference_geo us (US-only inference), at 1.1 times its prices"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "haiku/anthropic/claude-haiku-4-5: takes") {
		t.Fatalf("haiku takes neither:\n%s", out.String())
	}
}

// An OpenRouter deployment says its calls are charged the cost its
// answers report.
func TestCheckConfigShowsReportedCost(t *testing.T) {
	out, _ := checkConfig(t, "model_list:\n  - model_name: or\n    litellm_params: {model: openrouter/anthropic/claude-sonnet-4.5, api_key: sk-or-unused-key}\n")
	if want := "or/openrouter/anthropic/claude-sonnet-4.5: its calls are charged the cost its answers report (usage.cost)"; !strings.Contains(out.String(), want) {
		t.Fatalf("output lacks %q:\n%s", want, out.String())
	}
}

// Where alerts go is said, each notifier with what it is sent, and none
// of their secrets; a config without one says no alert is sent.
func TestCheckConfigShowsWhereAlertsGo(t *testing.T) {
	const models = "model_list:\n  - model_name: m\n    litellm_params: {model: openai/gpt-4o-mini, api_key: sk-unused-key}\n"
	out, errOut := checkConfig(t, models+`router_settings:
  alerting:
    reminder_interval: 1h
    notifiers:
      - {type: slack, name: oncall, webhook_url: "https://hooks.slack.com/services/T0/B0/check-config-hook"}
      - {type: webhook, name: am, url: "https://am.example/hook?token=check-config-token", format: alertmanager, secret: check-config-signing,
         providers: [openai], transitions: [open, resolved]}
      - {type: pagerduty, name: pd, routing_key: check-config-routing-key}
`)
	s := out.String() + errOut.String()
	for _, want := range []string{"alerts: to 3 notifiers; openings within 10s grouped into one message", "reminded every 1h0m0s while a circuit stays open",
		`  slack "oncall" (incoming webhook [REDACTED]): every kind`, `  webhook "am" ([REDACTED], alertmanager format, signed): open, resolved; only providers openai`,
		`  pagerduty "pd" (routing key [REDACTED]): every kind`} {
		if !strings.Contains(s, want) {
			t.Fatalf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "check-config-") {
		t.Fatalf("output shows a secret:\n%s", s)
	}
	if out, _ := checkConfig(t, models); !strings.Contains(out.String(), "alerts: none sent (no notifier") {
		t.Fatalf("without a notifier:\n%s", out.String())
	}
}

// A deployment whose reasoning chat clients get in content says so.
func TestCheckConfigShowsMergedReasoning(t *testing.T) {
	out, _ := checkConfig(t, "model_list:\n  - model_name: r1\n    litellm_params: {model: deepseek/deepseek-reasoner, api_key: sk-unused-key, merge_reasoning_content_in_choices: true}\n")
	if want := "r1/deepseek/deepseek-reasoner: merge_reasoning_content_in_choices (chat clients get its reasoning in content"; !strings.Contains(out.String(), want) {
		t.Fatalf("output lacks %q:\n%s", want, out.String())
	}
}

// A Bedrock deployment signed with an AWS key shows that, and its
// region, but no part of the key.
func TestCheckConfigShowsBedrocksKeyWithoutIt(t *testing.T) {
	out, errOut := checkConfig(t, "model_list:\n  - model_name: c\n    litellm_params: {model: bedrock/anthropic.claude-3-5-haiku-20241022-v1:0, "+
		"aws_access_key_id: AKIDCHECKCONFIG, aws_secret_access_key: check-config-secret, aws_region_name: eu-west-3}\n"+
		"  - model_name: r\n    litellm_params: {model: bedrock/amazon.nova-pro-v1:0, aws_role_name: \"arn:aws:iam::1:role/r\", "+
		"aws_access_key_id: AKIDCHECKCONFIG, aws_secret_access_key: check-config-secret}\n")
	s := out.String() + errOut.String()
	for _, want := range []string{"signed, AWS key in eu-west-3", "https://bedrock-runtime.eu-west-3.amazonaws.com", "signed, role arn:aws:iam::1:role/r"} {
		if !strings.Contains(s, want) {
			t.Fatalf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "AKIDCHECKCONFIG") || strings.Contains(s, "check-config-secret") {
		t.Fatalf("output shows the key:\n%s", s)
	}
}

// An Azure deployment that takes Microsoft Entra ID tokens shows where
// they come from, but not its secret or token.
func TestCheckConfigShowsEntraIDWithoutItsSecret(t *testing.T) {
	out, errOut := checkConfig(t, "model_list:\n  - model_name: a\n    litellm_params: {model: azure/gpt-4o, api_base: \"https://r.openai.azure.com\", "+
		"tenant_id: t1, client_id: app-check-config, client_secret: entra-check-config-secret}\n"+
		"  - model_name: b\n    litellm_params: {model: azure/gpt-4o, api_base: \"https://r.openai.azure.com\", azure_ad_token: eyJ-check-config-token}\n")
	s := out.String() + errOut.String()
	for _, want := range []string{"Entra ID tokens for the app app-check-config, by its client secret", "the Entra ID token in azure_ad_token"} {
		if !strings.Contains(s, want) {
			t.Fatalf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "entra-check-config-secret") || strings.Contains(s, "eyJ-check-config-token") {
		t.Fatalf("output shows a secret:\n%s", s)
	}
}

// A deployment's budgets, its provider's and its own, show in its role.
func TestCheckConfigShowsBudgets(t *testing.T) {
	out, _ := checkConfig(t, "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-unused-key, max_budget: 5, budget_duration: 1h}\n"+
		"router_settings:\n  provider_budget_config: {openai: {budget_limit: 100, time_period: 1d}}\n")
	if want := "(primary, provider budget $100 per 1d, budget $5 per 1h)"; !strings.Contains(out.String(), want) {
		t.Fatalf("output lacks %q:\n%s", want, out.String())
	}
}

// A watsonx.ai deployment shows which credential its calls carry, never
// the key, token or ZenApiKey.
func TestCheckConfigShowsWatsonxCredentialWithoutIt(t *testing.T) {
	const base = "api_base: \"https://us-south.ml.cloud.ibm.com\", project_id: p"
	out, errOut := checkConfig(t, "model_list:\n  - model_name: a\n    litellm_params: {model: watsonx/ibm/granite, api_key: ibm-check-config-key, "+base+"}\n"+
		"  - model_name: b\n    litellm_params: {model: watsonx/ibm/granite, token: wx-check-config-token, "+base+"}\n"+
		"  - model_name: c\n    litellm_params: {model: watsonx/ibm/granite, zen_api_key: zen-check-config-key, "+base+"}\n")
	s := out.String() + errOut.String()
	for _, want := range []string{"IBM Cloud IAM tokens for its API key", "a token given", "Cloud Pak's ZenApiKey"} {
		if !strings.Contains(s, want) {
			t.Fatalf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "check-config-key") || strings.Contains(s, "check-config-token") {
		t.Fatalf("output shows a secret:\n%s", s)
	}
}

func TestCheckConfigShowsHTTP2PriorKnowledge(t *testing.T) {
	out, _ := checkConfig(t, "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-unused-key, api_base: \"http://vllm.internal:8000/v1\", http2_prior_knowledge: true}\n")
	if want := "http://vllm.internal:8000/v1 (h2c)"; !strings.Contains(out.String(), want) {
		t.Fatalf("output lacks %q:\n%s", want, out.String())
	}
}

func TestCheckConfigSaysWhoMayCall(t *testing.T) {
	out, _ := checkConfig(t, "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-unused-key}\n"+
		"server:\n  cors_allowed_origins: [\"https://app.example\"]\n")
	for _, want := range []string{"API clients: anyone who can reach the listener", "web pages may call the API from: https://app.example"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"frobnicate"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "unknown command") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
}

// The demo, shortened: the primary breaks and heals; the client sees no
// error, the circuit opens and recovers, and few calls reach the dead
// provider.
func TestDemoShowsOutageWithoutClientErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo for 4 seconds")
	}
	var out bytes.Buffer
	sum, err := runDemo(context.Background(), demoOptions{Listen: "127.0.0.1:0", Duration: 4 * time.Second, RPS: 40,
		BreakAt: 500 * time.Millisecond, HealAt: 2 * time.Second, Recovery: 500 * time.Millisecond, Tick: time.Second}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if sum.ClientErrors != 0 || !sum.Opened || !sum.Recovered || sum.ServedBackup == 0 || sum.Requests < 50 {
		t.Fatalf("summary %+v\n%s", sum, out.String())
	}
	// 5 failures trip it; at most a few trials reach the dead provider.
	if sum.DeadCalls > 10 {
		t.Fatalf("%d calls reached the dead provider\n%s", sum.DeadCalls, out.String())
	}
	for _, want := range []string{`closed -> open \(5 consecutive failures; last: 503 Service Unavailable`, `half_open -> closed`, `\n  client errors +0\n`} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("output lacks %q\n%s", want, out.String())
		}
	}
}

func TestAlertTest(t *testing.T) {
	var hits int
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer ok.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(403) }))
	defer bad.Close()
	defer http.DefaultClient.CloseIdleConnections()
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	write := func(alerting string) {
		if err := os.WriteFile(path, []byte("model_list:\n  - model_name: g\n    litellm_params: {model: openai/m}\nrouter_settings:\n  alerting:\n"+alerting), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("    webhook_url: " + ok.URL + "/hook-secret-path\n")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"alert-test", "--config", path}, &out, &errOut); code != 0 || hits != 1 ||
		!strings.Contains(out.String(), "ok    webhook") {
		t.Fatalf("exit %d hits %d: %s %s", code, hits, out.String(), errOut.String())
	}
	write("    webhook_url: " + ok.URL + "\n    slack_webhook: " + bad.URL + "/services/T/B/secret-slack-path\n")
	out.Reset()
	errOut.Reset()
	code := run(context.Background(), []string{"alert-test", "--config", path}, &out, &errOut)
	if code != 1 || !strings.Contains(out.String(), "FAIL  slack") || !strings.Contains(out.String(), "HTTP 403") ||
		!strings.Contains(errOut.String(), "1 of 2 notifiers failed") {
		t.Fatalf("exit %d: %s %s", code, out.String(), errOut.String())
	}
	if strings.Contains(out.String()+errOut.String(), "secret-slack-path") {
		t.Fatal("alert-test printed a webhook URL")
	}
}

// check-config says where shared state lives, without a password that
// redis_url may carry.
func TestCheckConfigShowsSharedState(t *testing.T) {
	out, _ := checkConfig(t, "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-unused-key}\n"+
		"router_settings:\n  max_fallbacks: 2\n  redis_url: redis://:hunter2-redis-password@127.0.0.1:1/0\n  redis_namespace: team-a\n")
	for _, want := range []string{"max_fallbacks 2,", "shared state: in Redis (redis_url), namespace team-a: trips, trials, failure rates and enforced rate limits are fleet-wide\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	sentinel, _ := checkConfig(t, "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-unused-key}\n"+
		"router_settings:\n  state: redis\n  cache_kwargs: {service_name: mymaster, sentinel_nodes: [[10.0.0.5, 26379]], sentinel_password: hunter2-sentinel}\n")
	if want := "shared state: in the Redis master mymaster that the sentinels at 10.0.0.5:26379 name, namespace breakerd:"; !strings.Contains(sentinel.String(), want) ||
		strings.Contains(sentinel.String(), "hunter2") {
		t.Errorf("output lacks %q, or shows the sentinels' password:\n%s", want, sentinel.String())
	}
	if strings.Contains(out.String(), "hunter2") {
		t.Fatalf("the Redis password is in the output:\n%s", out.String())
	}
}

// A tag with no value used to panic inside go-yaml and exit 0.
func TestCheckConfigBadTagIsALocatedError(t *testing.T) {
	for _, text := range []string{"model_list: !\n", "model_list: !!str\n"} {
		path := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"check-config", path}, &out, &errOut)
		if code != 1 || !strings.Contains(errOut.String(), path+":1:13: model_list: the tag") {
			t.Fatalf("%q: exit %d, stderr %s", text, code, errOut.String())
		}
	}
}

// Every subcommand takes its config the same way, flags may follow other
// arguments, and --help is not an error.
func TestCommandLineForms(t *testing.T) {
	local := filepath.Join("..", "..", "examples", "local.yaml")
	cli := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"check-config FILE", []string{"check-config", local}, 0, "examples/local.yaml: OK", ""},
		{"check-config --config FILE", []string{"check-config", "--config", local}, 0, "examples/local.yaml: OK", ""},
		{"check-config with both forms", []string{"check-config", "--config", local, local}, 1, "", "not both"},
		{"alert-test FILE reads that file", []string{"alert-test", local}, 1, "", "no notifiers configured"},
		{"alert-test --config FILE", []string{"alert-test", "--config", local}, 1, "", "no notifiers configured"},
		{"rules prints to stdout by default", []string{"rules"}, 0, "alert: CircuitBreakerOpen", ""},
		{"rules --out - prints too", []string{"rules", "--out", "-"}, 0, "alert: CircuitBreakerOpen", ""},
		{"mockllm --help is not an error", []string{"mockllm", "--help"}, 0, "", "-listen"},
		{"breaker --help lists the actions", []string{"breaker", "--help"}, 0, "", "reset    close it and forget its backoff"},
		{"breaker with an unknown action", []string{"breaker", "explode", "x", "--addr", "127.0.0.1:1"}, 1, "", "usage: breakerd breaker open|close"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(adminEnv, "some-admin-token-123456")
			code, out, errOut := cli(tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
		})
	}
	// rules writes files only when asked.
	dir := t.TempDir()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	if code, _, _ := cli("rules"); code != 0 {
		t.Fatal("rules failed")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("rules with no flags wrote %v", entries)
	}
}

// status and breaker reach the admin API by host:port, by the config's
// address and token, with flags after the breaker's name.
func TestAdminCommandsFindTheirTarget(t *testing.T) {
	const token = "cli-admin-token-0123456789"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(401)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			_, _ = w.Write([]byte(`{"changed":true,"state":"forced_open"}`))
			return
		}
		_, _ = w.Write([]byte(`{"breakers":[{"name":"g/openai/m:chat","state":"closed"}]}`))
	}))
	defer srv.Close()
	defer http.DefaultClient.CloseIdleConnections()
	hostPort := strings.TrimPrefix(srv.URL, "http://")
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte("model_list:\n  - model_name: g\n    litellm_params: {model: openai/m, api_key: sk-some-key}\n"+
		"server:\n  listen: "+hostPort+"\nadmin:\n  token: "+token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(adminEnv, "")
	for _, args := range [][]string{
		{"status", "--config", cfg},
		{"breaker", "open", "g/openai/m:chat", "--config", cfg},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
		}
	}
	t.Setenv(adminEnv, token)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"status", "--addr", hostPort}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "g/openai/m:chat") {
		t.Fatalf("--addr host:port: exit %d: %s %s", code, out.String(), errOut.String())
	}
}

// A demo shorter than the default keeps the plan's shape instead of
// promising a break after the run ends.
func TestShortDemoScalesItsPlan(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"demo", "--duration", "600ms", "--listen", "127.0.0.1:0"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "plan:    primary fails at 100ms, heals at 300ms") {
		t.Fatalf("output:\n%s", out.String())
	}
}

// lineWatch is a log sink that says when a line holding a string arrives.
type lineWatch struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want map[string]chan struct{}
}

func (l *lineWatch) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for s, ch := range l.want {
		if strings.Contains(l.buf.String(), s) {
			close(ch)
			delete(l.want, s)
		}
	}
	return len(p), nil
}

func (l *lineWatch) wait(t *testing.T, s string) {
	l.mu.Lock()
	ch := make(chan struct{})
	if strings.Contains(l.buf.String(), s) {
		close(ch)
	} else {
		l.want[s] = ch
	}
	l.mu.Unlock()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("no %q in the log:\n%s", s, l.buf.String())
	}
}

// startServe runs "breakerd serve" on a one-deployment config with extra
// flags until it logs that it serves. stop cancels it and fails the test
// unless it exits 0.
func startServe(t *testing.T, flags ...string) (logs *lineWatch, stop func()) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("model_list:\n  - model_name: g\n    litellm_params: {model: openai/m, api_key: sk-some-key}\nserver:\n  shutdown_drain: 0s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs = &lineWatch{want: map[string]chan struct{}{}}
	done := make(chan int, 1)
	args := append([]string{"serve", path, "--listen", "127.0.0.1:0"}, flags...)
	go func() { done <- run(ctx, args, io.Discard, logs) }()
	logs.wait(t, "breakerd serving")
	return logs, func() {
		t.Helper()
		cancel()
		if code := <-done; code != 0 {
			t.Fatalf("serve exited %d:\n%s", code, logs.buf.String())
		}
	}
}

// SIGHUP reloads the config instead of killing breakerd.
func TestSIGHUPReloads(t *testing.T) {
	logs, stop := startServe(t)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	logs.wait(t, "config reloaded")
	stop()
}

// Memory defaults: a soft limit only from a container's limit, never a
// small fixed one; the environment wins.
func TestMemoryDefaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   map[string]string
		files map[string]string
		gogc  int
		limit int64
	}{
		{"no container", nil, nil, 0, 0},
		{"cgroup v2 limit", nil, map[string]string{"/sys/fs/cgroup/memory.max": "536870912\n"}, 0, 536870912 / 10 * 9},
		{"cgroup v2 without a limit", nil, map[string]string{"/sys/fs/cgroup/memory.max": "max\n"}, 0, 0},
		{"cgroup v1 limit", nil, map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "1073741824"}, 0, 1073741824 / 10 * 9},
		{"cgroup v1 without a limit", nil, map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712"}, 0, 0},
		{"GOMEMLIMIT wins", map[string]string{"GOMEMLIMIT": "1GiB"}, map[string]string{"/sys/fs/cgroup/memory.max": "536870912"}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gogc, limit, _ := memoryDefaults(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok },
				func(f string) ([]byte, error) {
					if v, ok := tc.files[f]; ok {
						return []byte(v), nil
					}
					return nil, os.ErrNotExist
				})
			if gogc != tc.gogc || limit != tc.limit {
				t.Fatalf("gogc %d limit %d, want %d %d", gogc, limit, tc.gogc, tc.limit)
			}
		})
	}
}

// check-config shows what breakerd understood of each deployment: its
// provider and API, resolved base URL, and request parameters (what it
// renames and leaves out for the upstream too).
func TestCheckConfigShowsProvidersAndParameters(t *testing.T) {
	t.Setenv("GROQ_API_KEY", "gsk-test-key-123456")
	out, _ := checkConfig(t, "model_list:\n  - model_name: fast\n    litellm_params: {model: groq/llama-3.1-8b-instant, temperature: 0.2}\n"+
		"  - model_name: c\n    litellm_params: {model: anthropic/claude-3-5-haiku-latest, api_key: sk-ant-test-123, drop_params: true}\n"+
		"  - model_name: long\n    litellm_params: {model: groq/llama-3.3-70b-versatile, max_tokens: 4096, region_name: eu}\n"+
		"  - model_name: local\n    litellm_params: {model: ollama/qwen3}\n"+
		"  - model_name: g\n    litellm_params: {model: gemini/gemini-2.5-flash, api_key: g-test-123456}\n"+
		"  - model_name: o\n    litellm_params: {model: openai/gpt-5.4, api_key: sk-test-123456}\n")
	for _, want := range []string{"groq (openai API)", "https://api.groq.com/openai/v1", "fast/groq/llama-3.1-8b-instant: temperature=0.2, unless the request sets them",
		"g/gemini/gemini-2.5-flash: its upstream refuses prompt_cache_key, prompt_cache_retention, messages' reasoning_content, thinking_blocks (left out); " +
			"frequency_penalty, presence_penalty, thinking (left out at their default, else parameters it cannot take)",
		"o/openai/gpt-5.4: sends max_tokens as max_completion_tokens",
		"o/openai/gpt-5.4: takes function tools in chat completions only with reasoning_effort none",
		"g/gemini/gemini-2.5-flash: fits the JSON Schemas of tools and response formats to the 22 keywords its model takes",
		"o/openai/gpt-5.4: with a reasoning_effort other than none, its upstream refuses logprobs, temperature, top_logprobs, top_p (left out",
		"long/groq/llama-3.3-70b-versatile: max_tokens=4096, unless", // a count of tokens, not a token
		"long/groq/llama-3.3-70b-versatile (primary, region eu)",
		"5m0s / 2m0s first, 20s", // the local model server's wait for its first chunk
		"c/anthropic/claude-3-5-haiku-latest: drop_params"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "gsk-test-key-123456") {
		t.Fatal("check-config prints the key read from GROQ_API_KEY")
	}
}

// Allocations are sampled for heap profiles only when --pprof can serve
// them.
func TestServeSamplesAllocationsOnlyForPprof(t *testing.T) {
	was := runtime.MemProfileRate
	t.Cleanup(func() { runtime.MemProfileRate = was })
	for _, tc := range []struct {
		flags []string
		want  int
	}{{nil, 0}, {[]string{"--pprof", "127.0.0.1:0"}, 512 * 1024}, {nil, 0}} {
		_, stop := startServe(t, tc.flags...)
		got := runtime.MemProfileRate
		stop()
		if got != tc.want {
			t.Fatalf("serve %v: runtime.MemProfileRate %d, want %d", tc.flags, got, tc.want)
		}
	}
}

// serve --pprof serves Go's profiles on their own listener, not on the
// gateway's port.
func TestServePprofOnItsOwnListener(t *testing.T) {
	logs, stop := startServe(t, "--pprof", "127.0.0.1:0", "--log-format", "json")
	addrOf := func(msg string) string {
		logs.mu.Lock()
		defer logs.mu.Unlock()
		for _, line := range strings.Split(logs.buf.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == msg {
				return rec.Addr
			}
		}
		t.Fatalf("no %q line with an addr:\n%s", msg, logs.buf.String())
		return ""
	}
	pprofAddr, gwAddr := addrOf("pprof serving"), addrOf("breakerd serving")
	for _, tc := range []struct {
		addr string
		want int
	}{{pprofAddr, http.StatusOK}, {gwAddr, http.StatusNotFound}} {
		resp, err := http.Get("http://" + tc.addr + "/debug/pprof/heap?debug=1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("GET %s/debug/pprof/heap: %s, want %d", tc.addr, resp.Status, tc.want)
		}
		if tc.want == http.StatusOK && !strings.Contains(string(body), "heap profile") {
			t.Fatalf("not a heap profile: %.200s", body)
		}
	}
	stop()
}

// check-config names the files a config's include merged in.
func TestCheckConfigNamesIncludedFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"config.yaml": "include: [models.yaml]\n",
		"models.yaml": "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-included-0123}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"check-config", filepath.Join(dir, "config.yaml")}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if want := "included: " + filepath.Join(dir, "models.yaml") + "\n"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}
	if !strings.Contains(out.String(), "a/openai/x (primary)") {
		t.Errorf("output lacks the included deployment:\n%s", out.String())
	}
}

// check-config shows a deployment's own retries.
func TestCheckConfigShowsADeploymentsRetries(t *testing.T) {
	out, _ := checkConfig(t, "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-unused-key, num_retries: 0}\n")
	if want := "a/openai/x (primary, 0 retries)"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}
}

// check-config says what a config holds that is secret, and where it came
// from, but never prints the secret.
func TestCheckConfigNamesSecretsWithoutPrintingThem(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-unused-key"
	for _, tc := range []struct {
		name, yaml, env, want, secret string
	}{
		{name: "headers by name", yaml: head + ", headers: {X-Gateway-Key: gw-secret-0123456789, x-title: app}}\n",
			want: "a/openai/x: sends headers X-Gateway-Key, X-Title (values not shown)", secret: "gw-secret-0123456789"},
		{name: "the master key's variable", yaml: head + "}\n", env: "sk-master-from-env-0123456789",
			want: "API clients must send the master key [REDACTED] (from $LITELLM_MASTER_KEY", secret: "sk-master-from-env-0123456789"},
		{name: "a credential among request parameters", yaml: head + ", temperature: 0.2, extra_body: {user_token: tok-0123456789}}\n",
			want: "user_token=[REDACTED]", secret: "tok-0123456789"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("LITELLM_MASTER_KEY", tc.env)
			}
			out, errOut := checkConfig(t, tc.yaml)
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, out.String())
			}
			if strings.Contains(out.String()+errOut.String(), tc.secret) {
				t.Errorf("check-config prints %q", tc.secret)
			}
		})
	}
}

// --port (LiteLLM's flag) replaces server.listen's port and keeps its
// host: a config that binds loopback stays on loopback.
func TestServePortKeepsTheHost(t *testing.T) {
	logs, stop := startServe(t, "--listen", "127.0.0.1:1", "--port", "0")
	logs.mu.Lock()
	s := logs.buf.String()
	logs.mu.Unlock()
	stop()
	if !strings.Contains(s, "addr=127.0.0.1:") || strings.Contains(s, "addr=127.0.0.1:1 ") {
		t.Fatalf("logs:\n%s\nwant serving on 127.0.0.1 at a port of the kernel's choosing", s)
	}
}

// A deployment that would call OpenAI with no key is a warning before
// its first 401; with the provider's variable set, it is not.
func TestCheckConfigWarnsOfAMissingKey(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	os.Unsetenv("OPENAI_API_KEY")
	const cfg = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o-mini}\n"
	if _, errOut := checkConfig(t, cfg); !strings.Contains(errOut.String(),
		"warning: deployment a/openai/gpt-4o-mini: openai's API needs a key, and it has no api_key and $OPENAI_API_KEY is not set") {
		t.Fatalf("stderr: %s", errOut.String())
	}
	t.Setenv("OPENAI_API_KEY", "sk-from-the-environment")
	if _, errOut := checkConfig(t, cfg); strings.Contains(errOut.String(), "needs a key") {
		t.Fatalf("stderr: %s", errOut.String())
	}
}

// files_settings' accounts show, with where their files go, never their
// keys.
func TestCheckConfigShowsFilesSettings(t *testing.T) {
	out, errOut := checkConfig(t, "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-unused-key}\n"+
		"files_settings:\n  - {custom_llm_provider: azure, api_base: \"https://r.openai.azure.com\", api_key: az-files-check-secret}\n")
	s := out.String() + errOut.String()
	if !strings.Contains(s, "files_settings/azure at https://r.openai.azure.com, key [REDACTED]") || strings.Contains(s, "az-files-check-secret") {
		t.Fatalf("output:\n%s", s)
	}
}

// check-config says which groups keep sessions on a deployment, and by
// what (a group of one deployment has nothing to keep), the groups an
// auto router sends to in turn, the health checks and the response cache.
func TestCheckConfigShowsAffinityAndAutoRouters(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte(`model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4, api_key: sk-ant-aaaaaaaa}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4, api_key: sk-ant-bbbbbbbb}
  - model_name: solo
    litellm_params: {model: openai/gpt-4o, api_key: sk-cccccccc}
    model_info: {disable_background_health_check: true}
  - model_name: smart-router
    litellm_params:
      model: auto_router/complexity_router
      complexity_router_config: {tiers: {SIMPLE: solo, MEDIUM: claude}}
router_settings:
  optional_pre_call_checks: [session_affinity]
  deployment_affinity_ttl_seconds: 1800
general_settings: {background_health_checks: true, health_check_interval: 120, enable_health_check_routing: true,
  pass_through_endpoints: [{path: /cohere, target: "https://api.cohere.com", include_subpath: true}]}
litellm_settings: {cache: true, cache_params: {type: redis, host: cache.internal, ttl: 300, supported_call_types: [acompletion]}}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"check-config", cfg}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"for 30m0s after the last: claude (by session)\n", "aliases: smart-router -> claude, then solo (first by the prompt's complexity: SIMPLE solo, MEDIUM claude)\n",
		"health checks: a one-token call to each deployment at start and every 2m0s, judged: a failed check opens its deployment's circuit, a passing trial closes it; not checked: solo/openai/gpt-4o\n",
		"response cache: chat answers kept 5m0s in memory and in Redis at cache.internal:6379\n",
		"pass-through: /cohere (and below) -> https://api.cohere.com, 0 headers set, no key asked, through breaker passthrough:/cohere\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "solo (by") {
		t.Errorf("a group of one deployment is listed:\n%s", out.String())
	}
}

// check-config says which fallbacks serve not what their group does (a
// chat model behind an embedding one, by LiteLLM's default_fallbacks),
// and so are passed over, and prints the client headers forwarded.
func TestCheckConfigShowsFallbacksPassedOverAndForwardedHeaders(t *testing.T) {
	out, _ := checkConfig(t, "model_list:\n  - model_name: embed\n    litellm_params: {model: openai/text-embedding-3-small, api_key: sk-unused-key}\n"+
		"  - model_name: chat\n    litellm_params: {model: openai/gpt-4o-mini, api_key: sk-unused-key}\n"+
		"litellm_settings:\n  default_fallbacks: [chat]\n  model_group_settings: {forward_client_headers_to_llm_api: [chat]}\n")
	for _, want := range []string{"chat/openai/gpt-4o-mini (fallback, serves no embeddings: passed over)",
		"headers forwarded upstream: clients' x- headers (not x-stainless-*, x-amz-* or keys) and anthropic-beta, on requests for chat\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// check-config shows the route controls, the clients allowed, and a
// deployment whose certificate is not checked.
func TestCheckConfigShowsRoutesAndUncheckedCertificates(t *testing.T) {
	out, _ := checkConfig(t, "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-unused-key, api_base: \"https://llm.internal/v1\", ssl_verify: false}\n"+
		"general_settings:\n  master_key: sk-master-key-0123456789\n  allowed_routes: [/chat/completions, /models]\n  public_routes: [/models]\n"+
		"  allowed_ips: [10.0.0.0/8, 192.0.2.7]\n  use_x_forwarded_for: true\n")
	for _, want := range []string{"routes served: only /chat/completions, /models (others get a 403",
		"API clients only from: 10.0.0.0/8, 192.0.2.7/32 (X-Forwarded-For's last address; others get a 403)\n",
		"routes open without the master key: /models\n", "https://llm.internal/v1 (certificate not checked)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
