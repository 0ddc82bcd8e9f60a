package config

import (
	"maps"
	"testing"
	"time"
)

// LiteLLM's budgets are read under either of their names: a provider's
// (router_settings.provider_budget_config) and a deployment's
// (max_budget over budget_duration). A budget without its limit or
// window, with a window that is not one, or for a provider breakerd does
// not know, is an error that says so where it is.
func TestBudgets(t *testing.T) {
	const model = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o, api_key: sk-123456"
	for _, tc := range []struct {
		name, yaml string
		provider   map[string]Budget
		deployment *Budget
		proxy      *Budget
		err        string
	}{
		{name: "the proxy's", yaml: model + "}\nlitellm_settings:\n  max_budget: 250\n  budget_duration: 30d\n",
			proxy: &Budget{Limit: 250, Period: 30 * 24 * time.Hour, Text: "30d"}},
		{name: "the proxy's, never reset", yaml: model + "}\nlitellm_settings:\n  max_budget: 250\n",
			proxy: &Budget{Limit: 250, Period: 36500 * 24 * time.Hour, Text: "ever"}},
		{name: "LiteLLM's docs", yaml: model + "}\nrouter_settings:\n  provider_budget_config:\n    openai: {budget_limit: 0.5, time_period: 1d}\n" +
			"    anthropic: {max_budget: 100, budget_duration: 1mo}\n",
			provider: map[string]Budget{"openai": {Limit: 0.5, Period: 24 * time.Hour, Text: "1d"}, "anthropic": {Limit: 100, Months: 1, Text: "1mo"}}},
		{name: "a deployment's", yaml: model + ", max_budget: 20, budget_duration: 30m}\n",
			deployment: &Budget{Limit: 20, Period: 30 * time.Minute, Text: "30m"}},
		{name: "an unknown provider", yaml: model + "}\nrouter_settings:\n  provider_budget_config:\n    opneai: {budget_limit: 1, time_period: 1d}\n",
			err: `router_settings.provider_budget_config.opneai: unknown provider "opneai" (did you mean "openai"?)`},
		{name: "no limit", yaml: model + ", budget_duration: 1d}\n", err: "model_list[0].litellm_params: a budget needs its limit in USD (max_budget)"},
		{name: "no window", yaml: model + "}\nrouter_settings:\n  provider_budget_config:\n    openai: {budget_limit: 1}\n",
			err: "router_settings.provider_budget_config.openai: a budget needs its window (time_period: 1d, 7d, 30d, 1mo, ...)"},
		{name: "not a window", yaml: model + ", max_budget: 1, budget_duration: daily}\n",
			err: `model_list[0].litellm_params.budget_duration: "daily" is not a budget window`},
		{name: "nothing to spend", yaml: model + ", max_budget: 0, budget_duration: 1d}\n",
			err: "model_list[0].litellm_params.max_budget: must be more than 0 USD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseExpecting(t, []byte(tc.yaml), env(nil), tc.err)
			if cfg == nil {
				return
			}
			if len(cfg.Router.ProviderBudgets) != len(tc.provider) {
				t.Fatalf("provider budgets %v, want %v", cfg.Router.ProviderBudgets, tc.provider)
			}
			for p, b := range tc.provider {
				if cfg.Router.ProviderBudgets[p] != b {
					t.Errorf("%s's budget %+v, want %+v", p, cfg.Router.ProviderBudgets[p], b)
				}
			}
			if d := cfg.Deployments[0].Budget; (d == nil) != (tc.deployment == nil) || d != nil && *d != *tc.deployment {
				t.Fatalf("deployment budget %+v, want %+v", d, tc.deployment)
			}
			if p := cfg.Router.ProxyBudget; (p == nil) != (tc.proxy == nil) || p != nil && *p != *tc.proxy {
				t.Fatalf("proxy budget %+v, want %+v", p, tc.proxy)
			}
		})
	}
}

// A window of months ends on the same day of a later month.
func TestBudgetWindowEnds(t *testing.T) {
	start := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		b    Budget
		want time.Time
	}{
		{Budget{Period: 24 * time.Hour}, start.Add(24 * time.Hour)},
		{Budget{Months: 1}, time.Date(2026, 2, 15, 10, 0, 0, 0, time.UTC)},
	} {
		if got := tc.b.End(start); !got.Equal(tc.want) {
			t.Errorf("%+v ends %v, want %v", tc.b, got, tc.want)
		}
	}
}

// LiteLLM's tag budgets are read from litellm_settings.tag_budget_config,
// under either pair of names.
func TestTagBudgetConfig(t *testing.T) {
	cfg := parseExpecting(t, []byte("model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o, api_key: sk-123456}\n"+
		"litellm_settings:\n  tag_budget_config:\n    product:chat-bot: {max_budget: 50, budget_duration: 1d}\n    team-b: {budget_limit: 5, time_period: 1h}\n"), env(nil), "")
	want := map[string]Budget{"product:chat-bot": {Limit: 50, Period: 24 * time.Hour, Text: "1d"}, "team-b": {Limit: 5, Period: time.Hour, Text: "1h"}}
	if !maps.Equal(cfg.Router.TagBudgets, want) {
		t.Fatalf("tag budgets %v, want %v", cfg.Router.TagBudgets, want)
	}
}
