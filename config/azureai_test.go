package config

import (
	"strings"
	"testing"
)

// Azure AI Foundry deployments (azure_ai/), as LiteLLM calls them: at
// *.services.ai.azure.com, the key in an api-key header and the API under
// /models; at a serverless endpoint, the key as a bearer token; api_version
// (or the one a whole URL names) sent as api-version.
func TestAzureAIFoundry(t *testing.T) {
	const head = "model_list:\n  - model_name: m\n    litellm_params:\n      model: azure_ai/DeepSeek-R1\n      api_key: az-ai-key-123\n"
	for _, tc := range []struct {
		name, yaml             string
		env                    map[string]string
		base, query, keyHeader string
		says                   string
	}{
		{name: "a Foundry resource", yaml: "      api_base: https://my-res.services.ai.azure.com\n      api_version: 2024-05-01-preview\n",
			base: "https://my-res.services.ai.azure.com/models", query: "api-version=2024-05-01-preview", keyHeader: "api-key"},
		{name: "a whole URL", yaml: "      api_base: https://my-res.services.ai.azure.com/models/chat/completions?api-version=2024-05-01-preview\n",
			base: "https://my-res.services.ai.azure.com/models", query: "api-version=2024-05-01-preview", keyHeader: "api-key"},
		{name: "a serverless endpoint, from the variable", env: map[string]string{"AZURE_AI_API_BASE": "https://Mistral-large-x.eastus2.models.ai.azure.com/"},
			base: "https://Mistral-large-x.eastus2.models.ai.azure.com"},
		{name: "an Azure OpenAI resource", yaml: "      api_base: https://res.openai.azure.com/openai/v1\n",
			base: "https://res.openai.azure.com/openai/v1", keyHeader: "api-key"},
		{name: "no address", says: `provider "azure_ai" needs the address of its server: api_base is not set, nor $AZURE_AI_API_BASE`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(head+tc.yaml+"  - model_name: o\n    litellm_params: {model: openai/gpt-4o}\n"), env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if tc.says != "" {
				if len(cfg.Deployments) != 1 || !strings.Contains(strings.Join(cfg.Warnings, "\n"), tc.says) {
					t.Fatalf("%d deployments, warnings %q", len(cfg.Deployments), cfg.Warnings)
				}
				return
			}
			d := cfg.Deployments[0]
			if d.APIBase != tc.base || d.Query != tc.query || d.KeyHeader != tc.keyHeader || d.Dialect != DialectOpenAI || d.Model != "DeepSeek-R1" {
				t.Fatalf("at %s?%s, key in %q; want %s?%s, %q", d.APIBase, d.Query, d.KeyHeader, tc.base, tc.query, tc.keyHeader)
			}
		})
	}
}

// Claude on Azure AI Foundry (azure/claude-*), as LiteLLM calls it:
// Anthropic's API at the api_base, the key in an api-key header, no
// Azure api-version.
func TestClaudeOnAzureFoundry(t *testing.T) {
	for _, base := range []string{"https://res.services.ai.azure.com/anthropic", "https://res.services.ai.azure.com/anthropic/v1/messages"} {
		cfg, err := Parse("t.yaml", []byte("model_list:\n  - model_name: c\n    litellm_params: {model: azure/claude-sonnet-4-5, api_key: az-key-123456, api_base: \""+base+"\"}\n"), env(nil))
		if err != nil {
			t.Fatal(err)
		}
		d := cfg.Deployments[0]
		if d.Dialect != DialectAnthropic || d.KeyHeader != "api-key" || d.APIBase != "https://res.services.ai.azure.com/anthropic" || d.APIVersion != "" || d.Model != "claude-sonnet-4-5" {
			t.Fatalf("%s: dialect %s, key in %q, at %s, version %q", base, d.Dialect, d.KeyHeader, d.APIBase, d.APIVersion)
		}
	}
}
