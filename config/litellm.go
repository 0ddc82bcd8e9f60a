package config

import (
	"maps"
	"regexp"
	"slices"
	"strings"
)

// LiteLLM configs carry settings for features breakerd does not have
// (spend tracking, caching, per-deployment rate limits, ...). Rejecting
// them would break "a LiteLLM config works as it is", and ignoring any
// unknown key would hide typos. So breakerd knows LiteLLM's keys by name:
// they load with a warning saying they are ignored, and what breakerd
// offers instead where it has an equivalent. Other unknown keys are
// errors, with the nearest key (breakerd's or LiteLLM's) suggested.

var index = regexp.MustCompile(`\[\d+\]`)

// liteLLMOpen lists the mappings whose every key is LiteLLM's: breakerd
// reads a few of them and ignores the rest with a warning.
var liteLLMOpen = []string{
	"general_settings", // LiteLLM's proxy-server settings; breakerd reads master_key
	"litellm_settings", // LiteLLM's SDK settings; breakerd reads retries, timeouts and fallbacks
	"guardrails", "finetune_settings", "mcp_servers", "mcp_aliases",
	"files_settings", // LiteLLM's accounts for files; breakerd reads the provider, key, address and version
	"vector_store_registry", "search_tools", "prompts", "callback_settings", "assistant_settings",
	"model_list[].model_info", // free-form in LiteLLM; breakerd reads the prices and base_model
}

// liteLLMOpenHints says, for some keys of the mappings in liteLLMOpen,
// what breakerd does instead: where ignoring a key changes what clients
// or operators meet, the warning says how.
var liteLLMOpenHints = map[string]map[string]string{
	"general_settings": {
		"custom_auth":       "breakerd cannot run LiteLLM's Python auth code: with master_key set, API clients must send it; without, none is asked",
		"enable_jwt_auth":   "breakerd checks no JWTs: with master_key set, API clients must send it, and a client that sends a JWT is refused",
		"database_url":      "breakerd keeps no database: its models, keys and settings come from this file",
		"store_model_in_db": "breakerd keeps no database: its models come from this file",
		"port":              "server.listen (or serve -listen) sets breakerd's address",
		"host":              "server.listen (or serve -listen) sets breakerd's address",
		"disable_spend_logs": "breakerd keeps no spend logs: spend is counted in /metrics " +
			"(breakerd_spend_usd_total)",
		"store_prompts_in_spend_logs":         "breakerd keeps no spend logs, and never logs prompts",
		"maximum_spend_logs_retention_period": "breakerd keeps no spend logs",
		"proxy_batch_write_at":                "breakerd keeps no database",
		"database_connection_pool_limit":      "breakerd keeps no database",
		"allow_requests_on_db_unavailable":    "breakerd keeps no database, so none can be unavailable",
		"disable_prisma_schema_update":        "breakerd keeps no database",
		"user_header_name":                    "breakerd does not track end users",
		"add_user_information_to_llm_headers": "breakerd has no users to add",
		"json_logs":                           "LiteLLM reads it from litellm_settings (or $JSON_LOGS), as breakerd does: here it does nothing",
		"health_check_staleness_threshold":    "breakerd's health checks count toward the breakers at once, so no check result goes stale",
		"use_shared_health_check":             "with router_settings.state: redis, one replica makes each round of checks and the breakers they move are the fleet's",
		"allowed_ips_from_header":             "use_x_forwarded_for reads the client's address from X-Forwarded-For",
		"routing_strategy":                    "LiteLLM reads it from router_settings, as breakerd does: here it does nothing",
		"num_retries":                         "LiteLLM reads it from router_settings (or litellm_settings), as breakerd does: here it does nothing",
		"allowed_origins":                     "server.cors_allowed_origins lists the origins web pages may call the API from",
		"disable_telemetry":                   "breakerd sends no telemetry anywhere",
	},
	"litellm_settings": {
		"set_verbose":                   "logging.level: debug does this",
		"turn_off_message_logging":      "breakerd never logs prompts or answers",
		"redact_messages_in_exceptions": "breakerd never logs prompts or answers",
		"redact_user_api_key_info":      "breakerd never logs clients' keys",
		"modify_params": "breakerd always does this where a request would otherwise fail: a Claude tool loop's step whose " +
			"thinking did not come back goes without thinking, and a request is fitted to a fallback's model (README: Anthropic)",
	},
}

// liteLLMIgnored holds, per mapping (a key path with list indices written
// as []), the keys of LiteLLM's that breakerd does not use, each with a
// hint naming breakerd's equivalent where it has one. Taken from LiteLLM's
// proxy config documentation; a key LiteLLM itself ignores but that real
// configs carry (enable_cooldowns, default_model, cache_config) is here
// too, since LiteLLM loads it without complaint.
var liteLLMIgnored = map[string]map[string]string{
	"": {
		"guardrails":            "breakerd runs no guardrails: requests reach the providers without these checks, a provider's own content filter aside",
		"finetune_settings":     "a fine-tuning job goes where its training file is: files_settings' account, or the deployment that stores it",
		"mcp_servers":           "breakerd is no MCP gateway and serves no /mcp; the MCP tools of a Responses or Messages request still reach the providers that run them",
		"mcp_aliases":           "breakerd is no MCP gateway and serves no /mcp",
		"vector_store_registry": "breakerd serves OpenAI's Vector Stores API at the deployments that store them; LiteLLM's registry of other stores is not read",
		"search_tools":          "breakerd serves no /v1/search; a request's web search tool still reaches the provider that runs it",
		"prompts":               "breakerd keeps no prompt templates; a Responses request's prompt, one OpenAI stores, reaches OpenAI's deployments only",
		"callback_settings":     "",
		"assistant_settings":    "", "cache_config": "LiteLLM ignores it too",
	},
	"model_list[]":                        {"litellm_credential_name": ""},
	"model_list[].litellm_params":         liteLLMParams,
	"credential_list[].credential_values": liteLLMParams,
	"router_settings": {
		"enable_cooldowns":                 "LiteLLM ignores it too",
		"retry_after":                      "retry_backoff does this",
		"polling_interval":                 "",
		"client_ttl":                       "",
		"default_priority":                 "",
		"set_verbose":                      "logging.level does this",
		"debug_level":                      "logging.level does this",
		"router_general_settings":          "",
		"default_model":                    "LiteLLM ignores it too",
		"alerting_config":                  "router_settings.alerting does this",
		"health_check_staleness_threshold": "breakerd's health checks count toward the breakers at once, so no check result goes stale",
		"use_shared_health_check":          "with router_settings.state: redis, one replica makes each round of checks and the breakers they move are the fleet's",
		"ignore_invalid_deployments":       "breakerd always does this: a deployment it cannot call is left out, with a warning saying why",
		"enable_weighted_failover":         "breakerd always does this: a failed deployment's request goes on to its group's others (by the strategy, weights included) before any fallback",
	},
}

// liteLLMKeys returns the LiteLLM keys breakerd ignores in the mapping at
// parent (a key path with list indices written as []), each with a hint.
// allKeys reports that every key there is LiteLLM's.
func liteLLMKeys(parent string) (keys map[string]string, allKeys bool) {
	for _, open := range liteLLMOpen {
		if parent == open || strings.HasPrefix(parent, open+".") || strings.HasPrefix(parent, open+"[") {
			return nil, true
		}
	}
	return liteLLMIgnored[parent], false
}

// liteLLMOnly reports whether key in the mapping at path's parent is a
// LiteLLM setting breakerd ignores, and the hint for it.
func liteLLMOnly(parent, key string) (hint string, ok bool) {
	parent = index.ReplaceAllString(parent, "[]")
	keys, all := liteLLMKeys(parent)
	if all {
		return liteLLMOpenHints[parent][key], true
	}
	if hint, ok = keys[key]; ok {
		return hint, ok
	}
	if parent == "model_list[].litellm_params" && strings.HasPrefix(key, "supports_") {
		// Model capabilities (supports_vision, supports_function_calling,
		// ...) belong in model_info, but LiteLLM takes any key here.
		return capabilityHint, true
	}
	return "", false
}

// batchJobsHint is the warning's hint for the S3 settings of LiteLLM's
// Bedrock batch jobs.
const batchJobsHint = "for LiteLLM's Bedrock batch jobs (input and output in S3), which breakerd does not run; its batches are OpenAI's, Azure's and Anthropic's"

// capabilityHint is the warning's hint for a model capability.
const capabilityHint = "a model capability, as model_info states it; breakerd does not check capabilities"

// liteLLMNames returns the LiteLLM keys of the mapping at parent, sorted,
// as candidates for "did you mean".
func liteLLMNames(parent string) []string {
	keys, _ := liteLLMKeys(index.ReplaceAllString(parent, "[]"))
	return slices.Sorted(maps.Keys(keys))
}

// liteLLMParams are LiteLLM's keys of litellm_params (and of a
// credential's values, which fill them in) that breakerd does not use.
var liteLLMParams = map[string]string{
	"max_retries":            "router_settings.num_retries does this",
	"s3_bucket_name":         batchJobsHint,
	"s3_region_name":         batchJobsHint,
	"s3_access_key_id":       batchJobsHint,
	"s3_secret_access_key":   batchJobsHint,
	"s3_endpoint_url":        batchJobsHint,
	"aws_batch_role_arn":     batchJobsHint,
	"custom_llm_provider":    "the provider is the prefix of model",
	"mock_response":          "breakerd mockllm is a fake upstream",
	"mock_timeout":           "breakerd mockllm is a fake upstream",
	"use_in_pass_through":    "",
	"use_litellm_proxy":      "",
	"input_cost_per_second":  "input_cost_per_token and output_cost_per_token drive least-cost",
	"output_cost_per_second": "input_cost_per_token and output_cost_per_token drive least-cost",
	"api_type":               "",

	"configurable_clientside_auth_params": "",
	"auto_router_config_path":             autoRouterHint,
	"auto_router_config":                  autoRouterHint,
	"auto_router_embedding_model":         autoRouterHint,
	"mode":                                capabilityHint,
	"max_output_tokens":                   capabilityHint,
}
