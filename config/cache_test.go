package config

import (
	"maps"
	"reflect"
	"slices"
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
		{"redis, no Redis set: kept in memory", "  cache: true\n  cache_params: {type: redis}\n",
			&Cache{TTL: 10 * time.Minute, APIs: all, MaxBytes: 64 << 20}, `cache_params.type: "redis": answers are kept in each replica's memory`, ""},
		{"redis at cache_params' host", "  cache: true\n  cache_params: {type: redis, host: cache.internal, port: 6380, password: os.environ/RP, namespace: llm, ssl: true}\n",
			&Cache{TTL: 10 * time.Minute, APIs: all, MaxBytes: 64 << 20, Shared: true,
				Redis: &Redis{Addr: "cache.internal:6380", Password: "pw", Namespace: "llm", TLS: true}}, "", ""},
		{"redis at cache_params' url", "  cache: true\n  cache_params: {type: redis, url: \"redis://u:pw@cache.internal:6379/2\"}\n",
			&Cache{TTL: 10 * time.Minute, APIs: all, MaxBytes: 64 << 20, Shared: true,
				Redis: &Redis{URL: "redis://u:pw@cache.internal:6379/2", Namespace: "breakerd"}}, "", ""},
		{"a cluster's nodes", "  cache: true\n  cache_params: {type: redis, redis_startup_nodes: [{host: a, port: 7001}, \"b:7002\"], password: os.environ/RP}\n",
			&Cache{TTL: 10 * time.Minute, APIs: all, MaxBytes: 64 << 20, Shared: true,
				Redis: &Redis{ClusterNodes: []string{"a:7001", "b:7002"}, Password: "pw", Namespace: "breakerd"}}, "", ""},
		{"a sentinel's", "  cache: true\n  cache_params: {type: redis, service_name: mymaster, sentinel_nodes: [[s1, 26379], [s2, 26379]], sentinel_password: sp}\n",
			&Cache{TTL: 10 * time.Minute, APIs: all, MaxBytes: 64 << 20, Shared: true,
				Redis: &Redis{MasterName: "mymaster", Sentinels: []string{"s1:26379", "s2:26379"}, SentinelPassword: "sp", Namespace: "breakerd"}}, "", ""},
		{"a sentinel needs its master's name", "  cache: true\n  cache_params: {type: redis, sentinel_nodes: [[s1, 26379]]}\n", nil, "",
			"litellm_settings.cache_params.sentinel_nodes: needs service_name"},
		{"a node that is none", "  cache: true\n  cache_params: {type: redis, redis_startup_nodes: [a]}\n", nil, "",
			"litellm_settings.cache_params.redis_startup_nodes[0]: is not a node"},
		{"a port that is none", "  cache: true\n  cache_params: {type: redis, host: a, port: http}\n", nil, "",
			`litellm_settings.cache_params.port: must be a port number, got "http"`},
		{"semantic: off", "  cache: true\n  cache_params: {type: redis-semantic, similarity_threshold: 0.8}\n", nil,
			`"redis-semantic": answers are not cached (breakerd does not match prompts by meaning)`, ""},
		{"an unknown type", "  cache: true\n  cache_params: {type: memcached}\n", nil, "", `unknown cache type "memcached"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseExpecting(t, []byte(head+tc.yaml), env(map[string]string{"RP": "pw"}), tc.err)
			if cfg == nil {
				return
			}
			if !reflect.DeepEqual(cfg.Cache, tc.want) {
				t.Fatalf("cache %+v (redis %+v), want %+v (redis %+v)", cfg.Cache, cfg.Cache.Redis, tc.want, tc.want.Redis)
			}
			if w := strings.Join(cfg.Warnings, "\n"); !strings.Contains(w, tc.warning) || (tc.warning == "") == strings.Contains(w, "cache") {
				t.Fatalf("warnings %q, want %q", w, tc.warning)
			}
		})
	}
}

// Which Redis keeps the answers: cache_params' own host, else router_settings'
// (the fleet's), else LiteLLM's $REDIS_URL or $REDIS_HOST; with no type
// set, LiteLLM's proxy's default, redis, where there is one, else memory.
func TestResponseCacheRedis(t *testing.T) {
	for _, tc := range []struct {
		name, router, params string
		vars                 map[string]string
		shared               bool
		redis                *Redis
	}{
		{"cache_params' host, beside the fleet's", "router_settings: {redis_host: 127.0.0.1}\n", "{type: redis, host: cache.internal}", nil,
			true, &Redis{Addr: "cache.internal:6379", Namespace: "breakerd"}},
		{"the fleet's", "router_settings: {redis_host: 127.0.0.1}\n", "{type: redis}", map[string]string{"REDIS_HOST": "env.internal"}, true, nil},
		{"LiteLLM's variables", "", "{type: redis}",
			map[string]string{"REDIS_HOST": "env.internal", "REDIS_PORT": "6390", "REDIS_PASSWORD": "pw", "REDIS_USERNAME": "u", "REDIS_SSL": "True"},
			true, &Redis{Addr: "env.internal:6390", Username: "u", Password: "pw", TLS: true, Namespace: "breakerd"}},
		{"$REDIS_URL", "", "{type: redis}", map[string]string{"REDIS_URL": "rediss://env.internal:6390"},
			true, &Redis{URL: "rediss://env.internal:6390", Namespace: "breakerd"}},
		{"no type, LiteLLM's variable", "", "{ttl: 60}", map[string]string{"REDIS_HOST": "env.internal"},
			true, &Redis{Addr: "env.internal:6379", Namespace: "breakerd"}},
		{"no type, no Redis", "", "{ttl: 60}", nil, false, nil},
		{"LiteLLM's Sentinel variables", "", "{type: redis}",
			map[string]string{"REDIS_SENTINEL_NODES": `[["s1", 26379]]`, "REDIS_SERVICE_NAME": "mymaster", "REDIS_SENTINEL_PASSWORD": "sp", "REDIS_PASSWORD": "pw"},
			true, &Redis{MasterName: "mymaster", Sentinels: []string{"s1:26379"}, SentinelPassword: "sp", Password: "pw", Namespace: "breakerd"}},
		{"LiteLLM's Cluster variable", "", "{type: redis}", map[string]string{"REDIS_CLUSTER_NODES": `[{"host": "c1", "port": 7000}]`},
			true, &Redis{ClusterNodes: []string{"c1:7000"}, Namespace: "breakerd"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseExpecting(t, []byte("model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-test-key}\n"+
				tc.router+"litellm_settings:\n  cache: true\n  cache_params: "+tc.params+"\n"), env(tc.vars), "")
			if cfg.Cache == nil || cfg.Cache.Shared != tc.shared || !reflect.DeepEqual(cfg.Cache.Redis, tc.redis) {
				t.Fatalf("cache %+v, redis %+v; want shared %v, redis %+v", cfg.Cache, cfg.Cache.Redis, tc.shared, tc.redis)
			}
			if w := strings.Join(cfg.Warnings, "\n"); strings.Contains(w, "cache") {
				t.Fatalf("warnings:\n%s", w)
			}
		})
	}
}

// LiteLLM Router's cache_responses turns the response cache on, as
// litellm_settings.cache does, which wins when set.
func TestRouterCacheResponses(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-test-key}\n"
	for _, tc := range []struct {
		name, yaml string
		on         bool
	}{
		{"on", "router_settings: {cache_responses: true}\n", true},
		{"litellm_settings' off wins", "router_settings: {cache_responses: true}\nlitellm_settings: {cache: false}\n", false},
		{"unset", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseExpecting(t, []byte(head+tc.yaml), env(nil), "")
			if (cfg.Cache != nil) != tc.on {
				t.Fatalf("cache %+v, want on %v", cfg.Cache, tc.on)
			}
			if w := strings.Join(cfg.Warnings, "\n"); strings.Contains(w, "cache_responses") {
				t.Fatalf("warnings:\n%s", w)
			}
		})
	}
}

// Shared state's Redis may be a Sentinel's master or a Cluster, from
// LiteLLM Router's cache_kwargs, else (with state: redis and no address)
// LiteLLM's variables for them; a Sentinel needs its master's name.
func TestSharedStateRedisTopology(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-test-key}\nrouter_settings:\n"
	for _, tc := range []struct {
		name, yaml         string
		vars               map[string]string
		state              string
		sentinels, cluster []string
		master, warning    string
		failure            string
	}{
		{name: "a sentinel's master, which turns shared state on", yaml: "  cache_kwargs: {service_name: mymaster, sentinel_nodes: [[10.0.0.5, 26379], \"10.0.0.6:26379\"]}\n",
			state: "redis", sentinels: []string{"10.0.0.5:26379", "10.0.0.6:26379"}, master: "mymaster"},
		{name: "a cluster", yaml: "  state: redis\n  cache_kwargs: {startup_nodes: [{host: 10.0.0.7, port: 7000}]}\n",
			state: "redis", cluster: []string{"10.0.0.7:7000"}},
		{name: "LiteLLM's variables", yaml: "  state: redis\n",
			vars:  map[string]string{"REDIS_SENTINEL_NODES": `[["10.0.0.5", 26379]]`, "REDIS_SERVICE_NAME": "mymaster"},
			state: "redis", sentinels: []string{"10.0.0.5:26379"}, master: "mymaster"},
		{name: "the variables do not turn it on", yaml: "  routing_strategy: simple-shuffle\n",
			vars: map[string]string{"REDIS_CLUSTER_NODES": `["10.0.0.7:7000"]`}, state: "local"},
		{name: "another kwarg", yaml: "  cache_kwargs: {startup_nodes: [\"10.0.0.7:7000\"], max_connections: 50}\n",
			state: "redis", cluster: []string{"10.0.0.7:7000"}, warning: "router_settings.cache_kwargs.max_connections: a LiteLLM setting that breakerd does not use"},
		{name: "a sentinel with no master's name", yaml: "  cache_kwargs: {sentinel_nodes: [[10.0.0.5, 26379]]}\n",
			failure: "router_settings.cache_kwargs.sentinel_nodes: needs service_name"},
		{name: "nothing names a Redis", yaml: "  state: redis\n",
			failure: "router_settings.state: redis needs redis_host (and redis_port, redis_password) or redis_url, or a Sentinel's or a Cluster's nodes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseExpecting(t, []byte(head+tc.yaml), env(tc.vars), tc.failure)
			if cfg == nil {
				return
			}
			r := cfg.Router
			if r.State != tc.state || !slices.Equal(r.Redis.Sentinels, tc.sentinels) || !slices.Equal(r.Redis.ClusterNodes, tc.cluster) || r.Redis.MasterName != tc.master {
				t.Fatalf("state %q, sentinels %q, cluster %q, master %q", r.State, r.Redis.Sentinels, r.Redis.ClusterNodes, r.Redis.MasterName)
			}
			all := strings.Join(cfg.Warnings, "\n")
			if tc.warning != "" && !strings.Contains(all, tc.warning) || tc.warning == "" && len(cfg.Warnings) > 0 {
				t.Fatalf("warnings:\n%s\nwant %q", all, tc.warning)
			}
		})
	}
}

// router_settings.caching_groups: each list's model groups keep their
// answers under its first's name; LiteLLM's Python tuples, written as
// strings, read too; a group in two lists, or a list of one, is an error
// naming it; a list with the cache off, or an unknown group, a warning.
func TestCachingGroups(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-test-key}\n" +
		"  - model_name: b\n    litellm_params: {model: azure/x, api_base: https://r.example, api_key: az-test-key}\n"
	for _, tc := range []struct {
		name, yaml, err, warning string
		groups                   map[string]string
	}{
		{"a list", "router_settings: {caching_groups: [[a, b]]}\nlitellm_settings: {cache: true}\n", "", "", map[string]string{"a": "a", "b": "a"}},
		{"a Python tuple", "router_settings: {caching_groups: ['(\"b\", \"a\")']}\nlitellm_settings: {cache: true}\n", "", "", map[string]string{"a": "b", "b": "b"}},
		{"a group in two", "router_settings: {caching_groups: [[a, b], [b, a]]}\nlitellm_settings: {cache: true}\n",
			`t.yaml:6:45: router_settings.caching_groups[1][0]: model group "b" is in two caching groups`, "", nil},
		{"a list of one", "router_settings: {caching_groups: [[a]]}\nlitellm_settings: {cache: true}\n",
			"t.yaml:6:36: router_settings.caching_groups[0]: must be a list of two or more model groups", "", nil},
		{"an unknown group", "router_settings: {caching_groups: [[a, c]]}\nlitellm_settings: {cache: true}\n", "",
			`t.yaml:6:40: router_settings.caching_groups[0][1]: model group "c" is not in model_list`, map[string]string{"a": "a", "c": "a"}},
		{"the cache off", "router_settings: {caching_groups: [[a, b]]}\n", "",
			"t.yaml:6:19: router_settings.caching_groups: the response cache is off", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseExpecting(t, []byte(head+tc.yaml), env(nil), tc.err)
			if tc.err != "" {
				return
			}
			var want []string
			if tc.warning != "" {
				want = []string{tc.warning}
			}
			warningsStartWith(t, cfg.Warnings, want)
			var got map[string]string
			if cfg.Cache != nil {
				got = cfg.Cache.Groups
			}
			if !maps.Equal(got, tc.groups) {
				t.Fatalf("groups %v, want %v", got, tc.groups)
			}
		})
	}
}
