package config

import (
	"maps"
	"regexp"
	"slices"
)

// LiteLLM configs carry settings for features breakerd does not have
// (spend tracking, caching, per-deployment rate limits, ...). Rejecting
// them would break "a LiteLLM config works as it is", and ignoring any
// unknown key would hide typos. So breakerd knows LiteLLM's keys by name:
// they load with a warning saying they are ignored, and what breakerd
// offers instead where it has an equivalent. Other unknown keys are
// errors, with the nearest key (breakerd's or LiteLLM's) suggested.

var index = regexp.MustCompile(`\[\d+\]`)

// liteLLMKeys returns the LiteLLM keys breakerd ignores in the mapping at
// parent (a key path with list indices written as []), each with a hint.
// allKeys reports that every key there is LiteLLM's.
func liteLLMKeys(parent string) (keys map[string]string, allKeys bool) {
	switch parent {
	case "":
		return nil, false
	case "general_settings":
		return nil, true // LiteLLM's proxy-server settings; breakerd reads only master_key
	case "litellm_settings":
		return nil, true // LiteLLM's SDK settings; breakerd reads num_retries and request_timeout
	case "model_list[]":
		return map[string]string{"model_info": ""}, false
	case "model_list[].litellm_params":
		return map[string]string{
			"max_retries":            "router_settings.num_retries does this",
			"organization":           "",
			"region_name":            "",
			"custom_llm_provider":    "the provider is the prefix of model",
			"temperature":            "",
			"max_tokens":             "default_max_tokens sets Anthropic's max_tokens",
			"top_p":                  "",
			"seed":                   "",
			"tags":                   "",
			"mock_response":          "breakerd mockllm is a fake upstream",
			"drop_params":            "",
			"use_in_pass_through":    "",
			"input_cost_per_second":  "input_cost_per_token and output_cost_per_token drive least-cost",
			"output_cost_per_second": "input_cost_per_token and output_cost_per_token drive least-cost",
		}, false
	case "router_settings":
		return map[string]string{
			"allowed_fails":          "circuit_breaker.failure_threshold does this",
			"allowed_fails_policy":   "circuit_breaker.failure_conditions does this",
			"cooldown_time":          "circuit_breaker.recovery_timeout does this",
			"disable_cooldowns":      "circuit_breaker.enabled: false does this",
			"retry_policy":           "num_retries and circuit_breaker.failure_conditions do this",
			"retry_after":            "retry_backoff does this",
			"routing_strategy_args":  "",
			"provider_budget_config": "",
			"default_litellm_params": "",
			"cache_responses":        "",
			"caching_groups":         "",
			"enable_tag_filtering":   "",
			"polling_interval":       "",
		}, false
	}
	return nil, false
}

// liteLLMOnly reports whether key in the mapping at path's parent is a
// LiteLLM setting breakerd ignores, and the hint for it.
func liteLLMOnly(parent, key string) (hint string, ok bool) {
	keys, all := liteLLMKeys(index.ReplaceAllString(parent, "[]"))
	if all {
		return "", true
	}
	hint, ok = keys[key]
	return hint, ok
}

// liteLLMNames returns the LiteLLM keys of the mapping at parent, sorted,
// as candidates for "did you mean".
func liteLLMNames(parent string) []string {
	keys, _ := liteLLMKeys(index.ReplaceAllString(parent, "[]"))
	return slices.Sorted(maps.Keys(keys))
}
