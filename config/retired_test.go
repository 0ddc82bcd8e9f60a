package config

import (
	"strings"
	"testing"
)

// A deployment of a model its vendor has retired loads, with a warning
// that says when, what its calls meet, and what the vendor names instead;
// at another server that takes the same names (an api_base of its own),
// or a partner platform, it does not.
func TestRetiredModelsAreWarnedOf(t *testing.T) {
	for _, tc := range []struct {
		name, params string
		want         string // "" for no warning
	}{
		{"a retired Claude", "model: anthropic/claude-3-5-sonnet-20241022",
			"t.yaml:4:7: model_list[0].litellm_params.model: anthropic/claude-3-5-sonnet-20241022 was retired by Anthropic on 2025-10-22: " +
				"every call to it fails (a 404), so this deployment answers nothing (its circuit opens at its first call); Anthropic names claude-sonnet-4-6 to use instead"},
		{"a retired Claude's alias", "model: anthropic/claude-3-7-sonnet-latest", "retired by Anthropic on 2026-02-19"},
		{"Claude Sonnet 4's alias", "model: anthropic/claude-sonnet-4-0", "retired by Anthropic on 2026-06-15"},
		{"Claude Opus 4.1", "model: anthropic/claude-opus-4-1-20250805", "retired by Anthropic on 2026-08-05"},
		{"a Claude still served", "model: anthropic/claude-sonnet-4-6", ""},
		{"Claude Opus 4.8, not 4.1's alias", "model: anthropic/claude-opus-4-8", ""},
		{"Claude Sonnet 4.5, not Sonnet 4", "model: anthropic/claude-sonnet-4-5-20250929", ""},
		{"OpenAI's gpt-4", "model: openai/gpt-4", "retired by OpenAI on 2026-10-23: every call to it fails (a 404), so this deployment answers nothing (its circuit opens at its first call)"},
		{"not gpt-4o", "model: openai/gpt-4o", ""},
		{"not gpt-5-codex-mini", "model: openai/gpt-5-codex-mini", ""},
		{"a retired model without a replacement", "model: openai/sora-2-pro", "retired by OpenAI on 2026-09-24: every call to it fails (a 404), so this deployment answers nothing (its circuit opens at its first call)\n"},
		{"a retired Gemini", "model: gemini/gemini-1.5-pro-002", "retired by Google on 2025-09-24"},
		{"the same name at another server", "model: openai/gpt-4\n      api_base: http://vllm.internal:8000/v1", ""},
		{"a partner platform", "model: bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0\n      aws_region_name: us-east-1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yml := "model_list:\n  - model_name: m\n    litellm_params:\n      " + tc.params + "\n      api_key: sk-test-key-123\n"
			cfg, err := Parse("t.yaml", []byte(yml), env(map[string]string{"AWS_ACCESS_KEY_ID": "AKIATEST", "AWS_SECRET_ACCESS_KEY": "secret-test"}))
			if err != nil {
				t.Fatal(err)
			}
			var retired []string
			for _, w := range cfg.Warnings {
				if strings.Contains(w, "was retired") {
					retired = append(retired, w+"\n")
				}
			}
			switch {
			case tc.want == "" && len(retired) > 0:
				t.Fatalf("warned %q", retired)
			case tc.want != "" && (len(retired) != 1 || !strings.Contains(retired[0], tc.want)):
				t.Fatalf("warnings %q, want one with %q", cfg.Warnings, tc.want)
			case (tc.want == "") != (cfg.Deployments[0].Retired == ""):
				t.Fatalf("the deployment says it is %q", cfg.Deployments[0].Retired)
			}
		})
	}
}

// The status page says what the warning says, beside the deployment.
func TestARetiredDeploymentSaysSo(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte("model_list:\n  - model_name: m\n    litellm_params: {model: anthropic/claude-3-5-haiku-20241022, api_key: sk-test-key-123}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Deployments[0].Retired, "retired by Anthropic on 2026-02-19; Anthropic names claude-haiku-4-5 instead"; got != want {
		t.Fatalf("Retired %q, want %q", got, want)
	}
}
