package config

import (
	"reflect"
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
		{"routing without checks", "  enable_health_check_routing: true\n", Probes{},
			"general_settings.enable_health_check_routing: needs general_settings.background_health_checks: true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(head+tc.yaml), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Health.Probes != tc.want {
				t.Fatalf("probes %+v, want %+v", cfg.Health.Probes, tc.want)
			}
			if w := strings.Join(cfg.Warnings, "\n"); (tc.warning == "") == strings.Contains(w, "health_check") || !strings.Contains(w, tc.warning) {
				t.Fatalf("warnings %q, want %q", w, tc.warning)
			}
		})
	}
}
