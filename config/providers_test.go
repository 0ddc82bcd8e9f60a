package config

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// A provider's key and address come from the first of the variables
// LiteLLM reads them from that is set, in LiteLLM's order; with none set,
// the warning names them all.
func TestProviderVariablesInLiteLLMsOrder(t *testing.T) {
	for _, tc := range []struct {
		name, model string
		vars        map[string]string
		key, base   string
		warning     string
	}{
		{"Together AI's own name first", "together_ai/m", map[string]string{"TOGETHER_API_KEY": "tk-first-key", "TOGETHERAI_API_KEY": "tk-later-key"},
			"tk-first-key", "https://api.together.xyz/v1", ""},
		{"LiteLLM's older name still", "together_ai/m", map[string]string{"TOGETHERAI_API_KEY": "tk-later-key"}, "tk-later-key", "https://api.together.xyz/v1", ""},
		{"an empty one is passed over", "together_ai/m", map[string]string{"TOGETHER_API_KEY": "", "TOGETHER_AI_TOKEN": "tk-token-key"}, "tk-token-key", "https://api.together.xyz/v1", ""},
		{"Hugging Face's token", "huggingface/m", map[string]string{"HF_TOKEN": "hf_token_value"}, "hf_token_value", "https://router.huggingface.co/v1", ""},
		{"Perplexity's address", "perplexity/sonar", map[string]string{"PERPLEXITY_API_KEY": "pplx-key-value", "PERPLEXITY_API_BASE": "https://pplx.internal"},
			"pplx-key-value", "https://pplx.internal", ""},
		{"a local server's needs none", "xinference/bge", nil, "", "http://127.0.0.1:9997/v1", ""},
		{"nor LM Studio's", "lm_studio/qwen", nil, "", "http://localhost:1234/v1", ""},
		{"nor Lemonade's", "lemonade/Qwen3-0.6B-GGUF", nil, "", "http://localhost:8000/api/v1", ""},
		{"nor Docker Model Runner's", "docker_model_runner/ai/smollm2", nil, "", "http://localhost:12434/engines/v1", ""},
		{"Heroku's app address, its API under /v1", "heroku/claude-4-sonnet",
			map[string]string{"HEROKU_API_BASE": "https://us.inference.heroku.com", "HEROKU_API_KEY": "inf-key-value"}, "inf-key-value", "https://us.inference.heroku.com/v1", ""},
		{"CompactifAI's key", "compactifai/cai-llama-3-1-8b-slim", map[string]string{"COMPACTIFAI_API_KEY": "cai-key-value"}, "cai-key-value", "https://api.compactif.ai/v1", ""},
		{"none set", "together_ai/m", nil, "", "https://api.together.xyz/v1",
			"$TOGETHER_API_KEY (nor $TOGETHER_AI_API_KEY, $TOGETHERAI_API_KEY, $TOGETHER_AI_TOKEN) is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte("model_list:\n  - model_name: m\n    litellm_params: {model: "+tc.model+"}\n"), env(tc.vars))
			if err != nil {
				t.Fatal(err)
			}
			d := cfg.Deployments[0]
			if d.APIKey.Value() != tc.key || d.APIBase != tc.base {
				t.Fatalf("key %q base %q, want %q %q", d.APIKey.Value(), d.APIBase, tc.key, tc.base)
			}
			if w := strings.Join(cfg.KeyWarnings(), "\n"); !strings.Contains(w, tc.warning) || (tc.warning == "") != (w == "") {
				t.Fatalf("key warnings %q, want %q", w, tc.warning)
			}
		})
	}
}

// LiteLLM's vllm/ runs vLLM in its own process: breakerd leaves such a
// deployment out, and says how to call a vLLM server instead.
func TestInProcessVLLMIsLeftOutWithAHint(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte("model_list:\n  - model_name: m\n    litellm_params: {model: vllm/facebook/opt-125m}\n"+
		"  - model_name: n\n    litellm_params: {model: hosted_vllm/facebook/opt-125m, api_base: http://vllm:8000/v1}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(cfg.Warnings, "\n"); len(cfg.Deployments) != 1 || !strings.Contains(w, "write hosted_vllm/<model> with its api_base") {
		t.Fatalf("%d deployments; warnings:\n%s", len(cfg.Deployments), w)
	}
}

// What a provider's API refuses follows its deployments: Gemini's fields
// and the reasoning Grok models' penalties (by model), Mistral's and
// Groq's message fields, OpenAI's models' what OpenAI refuses them;
// other providers and models refuse nothing.
func TestProvidersRefusals(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte(`model_list:
  - model_name: grok45
    litellm_params: {model: xai/grok-4.5, api_key: xai-0123456789}
  - model_name: grokmini
    litellm_params: {model: xai/grok-3-mini-beta, api_key: xai-0123456789}
  - model_name: grok2
    litellm_params: {model: xai/grok-2-1212, api_key: xai-0123456789}
  - model_name: gemini
    litellm_params: {model: gemini/gemini-2.5-flash, api_key: g-0123456789}
  - model_name: mistral
    litellm_params: {model: mistral/mistral-large-latest, api_key: m-0123456789}
  - model_name: groq
    litellm_params: {model: groq/openai/gpt-oss-120b, api_key: gsk-0123456789}
  - model_name: openai
    litellm_params: {model: openai/gpt-4o, api_key: sk-0123456789}
  - model_name: gpt5
    litellm_params: {model: openai/gpt-5, api_key: sk-0123456789}
  - model_name: gpt54
    litellm_params: {model: openai/gpt-5.4, api_key: sk-0123456789}
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		group      string
		refuses    []string
		inMessages bool
	}{
		{"grok45", []string{"frequency_penalty", "presence_penalty"}, false},
		{"grokmini", []string{"frequency_penalty", "presence_penalty"}, false},
		{"grok2", nil, false},
		{"gemini", []string{"frequency_penalty", "presence_penalty", "prompt_cache_key", "prompt_cache_retention", "thinking"}, true},
		{"mistral", nil, true},
		{"groq", nil, true},
		{"openai", []string{"reasoning_effort", "thinking"}, false},
		{"gpt5", []string{"frequency_penalty", "presence_penalty", "temperature", "thinking", "top_p"}, false},
		{"gpt54", []string{"thinking"}, false},
	} {
		for _, d := range cfg.Deployments {
			if d.Group != tc.group {
				continue
			}
			if got := slices.Sorted(maps.Keys(d.Refuses)); !slices.Equal(got, tc.refuses) || (len(d.RefusesInMessages) > 0) != tc.inMessages {
				t.Errorf("%s: refuses %v, in messages %v; want %v, %v", tc.group, got, d.RefusesInMessages, tc.refuses, tc.inMessages)
			}
		}
	}
	if xai, _ := LookupProvider("xai"); len(xai.Refuses) != 0 || len(geminiRefuses) != 5 {
		t.Fatal("a model's refusals leaked into its provider's")
	}
}

// OpenAI's reasoning models get max_tokens as max_completion_tokens, by
// the model a deployment runs (an Azure deployment's base_model); other
// models, and OpenAI-compatible servers' of other names, keep it.
func TestReasoningModelsMaxCompletionTokens(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte(`model_list:
  - model_name: gpt54
    litellm_params: {model: openai/gpt-5.4, api_key: sk-0123456789}
  - model_name: o3mini
    litellm_params: {model: openai/o3-mini, api_key: sk-0123456789}
  - model_name: azure5
    litellm_params: {model: azure/prod-eu, api_base: "https://r.openai.azure.com", api_key: az-0123456789, api_version: "2025-04-01-preview"}
    model_info: {base_model: azure/gpt-5-mini}
  - model_name: gpt4o
    litellm_params: {model: openai/gpt-4o, api_key: sk-0123456789}
  - model_name: llama
    litellm_params: {model: openai/llama-3.3, api_base: "http://localhost:8000/v1", api_key: none}
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"gpt54": true, "o3mini": true, "azure5": true, "gpt4o": false, "llama": false}
	for _, d := range cfg.Deployments {
		if got := d.ParamRenames["max_tokens"] == "max_completion_tokens"; got != want[d.Group] {
			t.Errorf("%s: renames %v", d.Group, d.ParamRenames)
		}
	}
}

// GPT-5.1 and later refuse sampling and log probabilities while they
// reason: up to GPT-5.4 when a request sets a reasoning_effort other
// than none, from GPT-5.5 unless it sets none; their pro and codex models
// always reason, and earlier models are not concerned.
func TestOpenAIModelsThatRefuseSamplingWhileReasoning(t *testing.T) {
	for _, tc := range []struct {
		model                     string
		whileReasoning, byDefault bool
		always                    bool // temperature refused whatever the effort
	}{
		{"gpt-5.1", true, false, false},
		{"gpt-5.2-2025-12-11", true, false, false},
		{"gpt-5.4-mini", true, false, false},
		{"gpt-5.5", true, true, false},
		{"gpt-6-luna", true, true, false},
		{"gpt-5.2-pro", true, false, true},
		{"gpt-5.1-codex", true, false, true},
		{"gpt-5-mini", false, false, true},
		{"gpt-4.1", false, false, false},
	} {
		mp := OpenAIModelParams(tc.model)
		_, always := mp.Refuses["temperature"]
		if got := mp.RefusesReasoning["temperature"] != "" && mp.RefusesReasoning["logprobs"] != ""; got != tc.whileReasoning || mp.ReasonsByDefault != tc.byDefault || always != tc.always {
			t.Errorf("%s: while reasoning %v, by default %v, always %v; want %v, %v, %v", tc.model, got, mp.ReasonsByDefault, always, tc.whileReasoning, tc.byDefault, tc.always)
		}
	}
}

// A reasoning_effort a model does not take is sent as the nearest it
// does, the lesser of two as near: GPT-5's minimal at GPT-5.1 is none,
// GPT-5.2's xhigh at o3 high, none at GPT-5 minimal, medium at GPT-5 pro
// high, GPT-5.2 Chat takes only medium, and the codex models low to high
// (xhigh from GPT-5.1 Codex Max).
func TestNearestEffort(t *testing.T) {
	for _, tc := range []struct{ model, effort, want string }{
		{"gpt-5.1", "minimal", "none"},
		{"gpt-5.1", "xhigh", "high"},
		{"o3-mini", "xhigh", "high"},
		{"o4-mini", "none", "low"},
		{"gpt-5-mini", "none", "minimal"},
		{"gpt-5-pro", "medium", "high"},
		{"gpt-5.2-chat-latest", "high", "medium"},
		{"gpt-5.4", "xhigh", "xhigh"},
		{"gpt-5.4-pro", "low", "medium"},
		{"gpt-5.4", "turbo", "turbo"}, // not on the scale: the upstream answers for it
		{"gpt-4o", "high", "high"},    // no efforts known
		{"gpt-5.5", "none", "none"},   // nor GPT-5.5's: not GPT-5's
		{"gpt-5-codex", "minimal", "low"},
		{"gpt-5.1-codex", "xhigh", "high"},
		{"gpt-5.1-codex-mini", "none", "low"},
		{"gpt-5.1-codex-max", "xhigh", "xhigh"},
		{"gpt-5.3-codex", "none", "low"},
	} {
		if got := NearestEffort(tc.effort, OpenAIModelParams(tc.model).Efforts); got != tc.want {
			t.Errorf("%s at %s: %s, want %s", tc.effort, tc.model, got, tc.want)
		}
	}
}

// xAI's grok-3-mini takes a reasoning_effort of low or high: medium is
// sent as low, the lesser of two as near.
func TestGrokMiniEfforts(t *testing.T) {
	xai, _ := LookupProvider("xai")
	mp := xai.paramsOf("grok-3-mini-fast")
	if !mp.Reasons || NearestEffort("medium", mp.Efforts) != "low" || NearestEffort("xhigh", mp.Efforts) != "high" {
		t.Fatalf("grok-3-mini: %+v", mp)
	}
	if mp := xai.paramsOf("grok-4"); mp.Reasons || len(mp.Efforts) != 0 {
		t.Fatalf("grok-4: %+v", mp)
	}
}

// Claude Code's betas reach Bedrock, Vertex AI and Azure AI Foundry as
// each takes them: renamed where it knows one by another name, the
// others left out (a 400 there); Anthropic's own API gets them all.
func TestAnthropicBetas(t *testing.T) {
	const claudeCode = "claude-code-20250219,interleaved-thinking-2025-05-14,advanced-tool-use-2025-11-20,prompt-caching-scope-2026-01-05,context-1m-2025-08-07"
	for _, tc := range []struct{ platform, want string }{
		{"bedrock", "tool-search-tool-2025-10-19,context-1m-2025-08-07"},
		{"vertex_ai", "interleaved-thinking-2025-05-14,tool-search-tool-2025-10-19,context-1m-2025-08-07"},
		{"azure_ai", "interleaved-thinking-2025-05-14,advanced-tool-use-2025-11-20,prompt-caching-scope-2026-01-05,context-1m-2025-08-07"},
		{"anthropic", claudeCode},
	} {
		if got := AnthropicBetas(tc.platform, claudeCode); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.platform, got, tc.want)
		}
	}
	if got := AnthropicBetas("vertex_ai", "advanced-tool-use-2025-11-20, tool-search-tool-2025-10-19"); got != "tool-search-tool-2025-10-19" {
		t.Errorf("a beta and its platform name: %s, want it once", got)
	}
}
