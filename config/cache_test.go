package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// LiteLLM's response cache loads: ten minutes, every API breakerd caches,
// unless cache_params say otherwise; a type kept elsewhere than memory is
// said, one breakerd cannot do turns the cache off with a warning.
func TestResponseCacheLoads(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-test-key}\nlitellm_settings:\n"
	all := []string{"chat", "embeddings", "completions"}
	for _, tc := range []struct {
		name, yaml string
		want       *Cache
		warning    string
		err        string
	}{
		{"off", "  num_retries: 1\n", nil, "", ""},
		{"defaults", "  cache: true\n", &Cache{TTL: 10 * time.Minute, APIs: all, MaxBytes: 64 << 20}, "", ""},
		{"set", "  cache: true\n  cache_params: {type: local, ttl: 30, supported_call_types: [acompletion, rerank], mode: default_off}\n",
			&Cache{TTL: 30 * time.Second, APIs: []string{"chat"}, DefaultOff: true, MaxBytes: 64 << 20},
			`litellm_settings.cache_params.supported_call_types[1]: "rerank" answers are not cached by breakerd`, ""},
		{"redis, kept in memory", "  cache: true\n  cache_params: {type: redis, host: localhost, port: 6379}\n",
			&Cache{TTL: 10 * time.Minute, APIs: all, MaxBytes: 64 << 20}, `cache_params.type: "redis": answers are kept in each replica's memory`, ""},
		{"semantic: off", "  cache: true\n  cache_params: {type: redis-semantic, similarity_threshold: 0.8}\n", nil,
			`"redis-semantic": answers are not cached (breakerd does not match prompts by meaning)`, ""},
		{"an unknown type", "  cache: true\n  cache_params: {type: memcached}\n", nil, "", `unknown cache type "memcached"`},
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
			if !reflect.DeepEqual(cfg.Cache, tc.want) {
				t.Fatalf("cache %+v, want %+v", cfg.Cache, tc.want)
			}
			if w := strings.Join(cfg.Warnings, "\n"); !strings.Contains(w, tc.warning) || (tc.warning == "") == strings.Contains(w, "cache") {
				t.Fatalf("warnings %q, want %q", w, tc.warning)
			}
		})
	}
}

// With router_settings' Redis, cache_params.type: redis shares the
// answers there; cache_params' own host is not used, and says so.
func TestResponseCacheInTheFleetsRedis(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte(`model_list:
  - model_name: a
    litellm_params: {model: openai/x, api_key: sk-test-key}
router_settings: {redis_host: 127.0.0.1, redis_port: 6379}
litellm_settings:
  cache: true
  cache_params: {type: redis, host: cache.internal}
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Cache == nil || !cfg.Cache.Shared {
		t.Fatalf("cache %+v: want it shared", cfg.Cache)
	}
	if w := strings.Join(cfg.Warnings, "\n"); !strings.Contains(w, "cache_params.host: is not used: answers are kept in router_settings' Redis") {
		t.Fatalf("warnings:\n%s", w)
	}
}
