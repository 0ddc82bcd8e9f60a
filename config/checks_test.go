package config

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// LiteLLM's affinity checks load: session_affinity and deployment_affinity
// switch breakerd's on, for every group or (model_group_affinity_config)
// for one; the two breakerd always does load without a word; the TTL is
// an hour unless set.
func TestAffinityChecksLoad(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-test-key}\n" +
		"  - model_name: b\n    litellm_params: {model: openai/y, api_key: sk-test-key}\nrouter_settings:\n"
	for _, tc := range []struct {
		name, yaml string
		all        Affinity
		groups     map[string]Affinity
		ttl        time.Duration
		warnings   []string
		err        string
	}{
		{"none", "  num_retries: 1\n", Affinity{}, nil, time.Hour, nil, ""},
		{"every group's", "  optional_pre_call_checks: [session_affinity, deployment_affinity, prompt_caching, responses_api_deployment_check, encrypted_content_affinity]\n" +
			"  deployment_affinity_ttl_seconds: 600\n", Affinity{Session: true, Key: true, Prompt: true}, nil, 10 * time.Minute, nil, ""},
		{"a group's own", "  optional_pre_call_checks: [session_affinity]\n  model_group_affinity_config: {b: [deployment_affinity], nowhere: [session_affinity]}\n",
			Affinity{Session: true}, map[string]Affinity{"b": {Key: true}}, time.Hour,
			[]string{`t.yaml:8:59: router_settings.model_group_affinity_config.nowhere: "nowhere" is not a model_name in model_list; ignored`}, ""},
		{"an unknown check in a group's", "  model_group_affinity_config: {b: [sesion_affinity]}\n", Affinity{}, nil, 0, nil,
			`router_settings.model_group_affinity_config.b[0]: unknown check "sesion_affinity"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(head+tc.yaml), env(nil))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := cfg.Router
			if r.Affinity != tc.all || !reflect.DeepEqual(r.GroupAffinity, tc.groups) || r.AffinityTTL != tc.ttl {
				t.Fatalf("affinity %+v, groups %+v, ttl %s", r.Affinity, r.GroupAffinity, r.AffinityTTL)
			}
			warningsStartWith(t, cfg.Warnings, tc.warnings)
		})
	}
}

// LiteLLM's background health checks load: every 300 s unless set; the
// routing switch alone runs none, and says so.
func TestBackgroundHealthChecksLoad(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-test-key}\ngeneral_settings:\n"
	for _, tc := range []struct {
		name, yaml string
		want       Probes
		warning    string
	}{
		{"off", "  master_key: sk-a-long-master-key-value\n", Probes{}, ""},
		{"default interval", "  background_health_checks: true\n", Probes{Interval: 300 * time.Second}, ""},
		{"all set", "  background_health_checks: true\n  health_check_interval: 30\n  enable_health_check_routing: true\n  health_check_ignore_transient_errors: true\n",
			Probes{Interval: 30 * time.Second, Routing: true, IgnoreTransient: true, TripAtOnce: true}, ""},
		{"with allowed_fails_policy, checks count as calls", "  background_health_checks: true\n  enable_health_check_routing: true\n" +
			"router_settings:\n  allowed_fails_policy: {InternalServerErrorAllowedFails: 1}\n",
			Probes{Interval: 300 * time.Second, Routing: true}, ""},
		{"some groups", "  background_health_checks: true\n  background_health_check_model_groups: [a, nowhere]\n",
			Probes{Interval: 300 * time.Second, Groups: []string{"a"}},
			`general_settings.background_health_check_model_groups[1]: "nowhere" is no model_name in model_list; nothing is checked for it`},
		{"no groups", "  background_health_checks: true\n  background_health_check_model_groups: []\n",
			Probes{Interval: 300 * time.Second, Groups: []string{}}, ""},
		{"routing without checks", "  enable_health_check_routing: true\n", Probes{},
			"general_settings.enable_health_check_routing: needs general_settings.background_health_checks: true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(head+tc.yaml), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Health.Probes, tc.want) {
				t.Fatalf("probes %+v, want %+v", cfg.Health.Probes, tc.want)
			}
			if w := strings.Join(cfg.Warnings, "\n"); (tc.warning == "") == strings.Contains(w, "health_check") || !strings.Contains(w, tc.warning) {
				t.Fatalf("warnings %q, want %q", w, tc.warning)
			}
		})
	}
}

// A deployment's own health check settings load from LiteLLM's
// model_info keys; a health_check_model becomes the name clients would
// ask a wildcard deployment for, and one it cannot serve, or one on a
// deployment of a single model, is warned of and not used.
func TestDeploymentHealthCheckSettingsLoad(t *testing.T) {
	seven := 7
	for _, tc := range []struct {
		name, model, modelName, info string
		want                         Check
		warning, err                 string
	}{
		{"none", "openai/x", "a", "{}", Check{}, "", ""},
		{"all of LiteLLM's keys", "openai/x", "a", "{disable_background_health_check: true, health_check_timeout: 5, health_check_max_tokens: 7, " +
			"health_check_params: {temperature: 0, metadata: {probe: yes}}, health_check_reasoning_effort: none}",
			Check{Off: true, Timeout: 5 * time.Second, MaxTokens: &seven, Params: map[string]json.RawMessage{
				"temperature": json.RawMessage(`0`), "metadata": json.RawMessage(`{"probe":"yes"}`), "reasoning_effort": json.RawMessage(`"none"`)}}, "", ""},
		{"no max tokens", "openai/x", "a", "{health_check_supports_max_tokens: false}", Check{NoMaxTokens: true}, "", ""},
		{"a wildcard's model, by its provider prefix", "openai/*", "openai/*", "{health_check_model: openai/gpt-4o-mini}",
			Check{Model: "openai/gpt-4o-mini"}, "", ""},
		{"a catch-all's model", "openai/*", "*", "{health_check_model: openai/gpt-4o-mini}", Check{Model: "gpt-4o-mini"}, "", ""},
		{"any provider's", "*", "*", "{health_check_model: anthropic/claude-haiku-4-5}", Check{Model: "anthropic/claude-haiku-4-5"}, "", ""},
		{"a model the wildcard does not serve", "openai/*", "openai/*", "{health_check_model: anthropic/claude-haiku-4-5}", Check{},
			`model_list[0].model_info.health_check_model: "anthropic/claude-haiku-4-5" is not a model this deployment (openai/*, model_name "openai/*") serves`, ""},
		{"a deployment of one model", "openai/x", "a", "{health_check_model: openai/y}", Check{},
			"model_list[0].model_info.health_check_model: applies to wildcard deployments (model: provider/*); this deployment is checked with its own model, openai/x", ""},
		{"the check's model in its params", "openai/x", "a", "{health_check_params: {model: y}}", Check{}, "",
			"model_list[0].model_info.health_check_params.model: is the check's own"},
		{"a timeout that is no duration", "openai/x", "a", "{health_check_timeout: soon}", Check{}, "",
			`model_list[0].model_info.health_check_timeout: "soon" is not a duration`},
		{"no tokens", "openai/x", "a", "{health_check_max_tokens: 0}", Check{}, "",
			"model_list[0].model_info.health_check_max_tokens: must be"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := "model_list:\n  - model_name: " + strconv.Quote(tc.modelName) + "\n    litellm_params: {model: " + strconv.Quote(tc.model) +
				", api_key: sk-test-key}\n    model_info: " + tc.info + "\n"
			cfg := parseExpecting(t, []byte(yaml), env(nil), tc.err)
			if cfg == nil {
				return
			}
			if got := cfg.Deployments[0].Check; !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("check %+v, want %+v", got, tc.want)
			}
			if w := strings.Join(cfg.Warnings, "\n"); (tc.warning == "") == strings.Contains(w, "health_check") || !strings.Contains(w, tc.warning) {
				t.Fatalf("warnings %q, want %q", w, tc.warning)
			}
		})
	}
}

// LiteLLM's pass_through_endpoints load: the path, the target, the
// headers (as secrets, variables resolved) and the switches; a path that
// is breakerd's own is warned of and left out; a bad path or target is an
// error that names it.
func TestPassThroughEndpointsLoad(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-test-key}\ngeneral_settings:\n  pass_through_endpoints:\n"
	for _, tc := range []struct {
		name, yaml string
		want       []PassThrough
		warning    string
		err        string
	}{
		{"LiteLLM's example", "    - {path: /v1/rerank, target: \"https://api.cohere.com/v1/rerank\", forward_headers: True, " +
			"headers: {content-type: application/json, Authorization: os.environ/CO_KEY}, cost_per_request: 0.002}\n",
			[]PassThrough{{Path: "/v1/rerank", Target: "https://api.cohere.com/v1/rerank", ForwardHeaders: true,
				Headers: map[string]Secret{"content-type": "application/json", "Authorization": "co-key-value"}}},
			"general_settings.pass_through_endpoints[0].cost_per_request: a LiteLLM setting that breakerd does not use", ""},
		{"include_subpath and auth", "    - {path: /vendor, target: \"http://vendor.internal:8080\", include_subpath: true, auth: true}\n",
			[]PassThrough{{Path: "/vendor", Target: "http://vendor.internal:8080", IncludeSubpath: true, Auth: true}}, "", ""},
		{"breakerd's own path", "    - {path: /health, target: \"http://x.internal\"}\n", nil,
			"general_settings.pass_through_endpoints[0].path: /health is one of breakerd's own paths", ""},
		{"no path", "    - {path: rerank, target: \"http://x.internal\"}\n", nil, "",
			`general_settings.pass_through_endpoints[0].path: must be a path, starting with /, got "rerank"`},
		{"no URL", "    - {path: /r, target: \"x.internal/r\"}\n", nil, "",
			`general_settings.pass_through_endpoints[0].target: must be an http:// or https:// URL, got "x.internal/r"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseExpecting(t, []byte(head+tc.yaml), env(map[string]string{"CO_KEY": "co-key-value"}), tc.err)
			if cfg == nil {
				return
			}
			if !reflect.DeepEqual(cfg.PassThrough, tc.want) {
				t.Fatalf("pass-through %+v, want %+v", cfg.PassThrough, tc.want)
			}
			if w := strings.Join(cfg.Warnings, "\n"); (tc.warning == "") == strings.Contains(w, "pass_through") || !strings.Contains(w, tc.warning) {
				t.Fatalf("warnings %q, want %q", w, tc.warning)
			}
		})
	}
}

// LiteLLM Router's default_litellm_params are every chat deployment's
// request defaults, where it sets none of its own (an embedding model
// gets none); keys that are no request parameter are warned about.
func TestRouterDefaultParams(t *testing.T) {
	cfg := parseExpecting(t, []byte("model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-test-key, temperature: 0.2}\n"+
		"  - model_name: b\n    litellm_params: {model: openai/y, api_key: sk-test-key}\n"+
		"  - model_name: e\n    litellm_params: {model: openai/text-embedding-3-small, api_key: sk-test-key}\n"+
		"router_settings:\n  default_litellm_params: {temperature: 0.7, max_tokens: 4096, api_key: sk-other}\n"), env(nil), "")
	if d := cfg.Deployments[2].Defaults; len(d) != 0 {
		t.Fatalf("an embedding model got the chat defaults %v", d)
	}
	got := func(i int, k string) string { return string(cfg.Deployments[i].Defaults[k]) }
	if got(0, "temperature") != "0.2" || got(0, "max_tokens") != "4096" || got(1, "temperature") != "0.7" || got(1, "max_tokens") != "4096" {
		t.Fatalf("defaults %v and %v", cfg.Deployments[0].Defaults, cfg.Deployments[1].Defaults)
	}
	if w := strings.Join(cfg.Warnings, "\n"); !strings.Contains(w, "router_settings.default_litellm_params.api_key: not used") || strings.Contains(w, ".temperature") {
		t.Fatalf("warnings:\n%s", w)
	}
}
