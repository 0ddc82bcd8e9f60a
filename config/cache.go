package config

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// cacheCallTypes are LiteLLM's call types (supported_call_types) by the
// client API breakerd caches for each; "" for one it does not cache.
var cacheCallTypes = map[string]string{
	"completion": "chat", "acompletion": "chat",
	"embedding": "embeddings", "aembedding": "embeddings",
	"text_completion": "completions", "atext_completion": "completions",
	"transcription": "", "atranscription": "", "rerank": "", "arerank": "", "responses": "", "aresponses": "",
}

// cacheTypes are LiteLLM's cache types, with what breakerd does for each:
// "" keeps answers in the replica's memory as it is; other text says why
// that differs from what was asked, or (off) that nothing is cached.
var cacheTypes = map[string]struct{ note, off string }{
	"local": {},
	"redis": {note: "kept in each replica's memory, not in Redis (no Redis is set: cache_params' host or url, $REDIS_URL or $REDIS_HOST, or router_settings' redis_host): a replica answers again what another has"},
	"disk":  {note: "kept in memory, not on disk: lost at restart"},
	"s3":    {off: "breakerd keeps answers in memory only"}, "gcs": {off: "breakerd keeps answers in memory only"},
	"azure-blob":     {off: "breakerd keeps answers in memory only"},
	"redis-semantic": {off: "breakerd does not match prompts by meaning"}, "qdrant-semantic": {off: "breakerd does not match prompts by meaning"},
}

// cache reads LiteLLM's response cache: litellm_settings.cache: true with
// cache_params (type, ttl, supported_call_types, mode). With type redis
// (LiteLLM's proxy's default) the answers are kept in Redis too: the
// cache's own (cacheRedis), else the fleet's (shared state, router_settings'
// Redis); without either, in memory.
func (c *converter) cache(ls rawLiteLLM, sharedState bool) *Cache {
	const p = "litellm_settings.cache_params"
	if ls.Cache == nil || !*ls.Cache {
		return nil
	}
	cc := &Cache{TTL: 10 * time.Minute, APIs: []string{"chat", "embeddings", "completions"}, MaxBytes: 64 << 20}
	params := ls.CacheParams
	typ, _ := params["type"].(string)
	if typ == "" || typ == "redis" {
		cc.Redis = c.cacheRedis(params, sharedState)
		switch {
		case cc.Redis != nil || sharedState:
			typ, cc.Shared = "redis", true
		case typ == "":
			typ = "local" // LiteLLM's default is redis, but there is none
		}
	}
	switch kind, ok := cacheTypes[typ]; {
	case cc.Shared:
	case !ok:
		c.errf(p+".type", "unknown cache type %q (local, redis, disk, s3, gcs, azure-blob, redis-semantic or qdrant-semantic)", typ)
		return nil
	case kind.off != "":
		c.warnf(p+".type", "%q: answers are not cached (%s)", typ, kind.off)
		return nil
	case kind.note != "":
		c.warnf(p+".type", "%q: answers are %s", typ, kind.note)
	}
	for _, k := range []string{"ttl", "default_in_memory_ttl"} {
		if v, ok := params[k]; ok {
			cc.TTL = c.duration(p+"."+k, v, cc.TTL, false)
			break
		}
	}
	if v, ok := params["supported_call_types"]; ok {
		list, _ := v.([]any)
		cc.APIs = nil
		for i, e := range list {
			name, _ := e.(string)
			api, known := cacheCallTypes[name]
			switch {
			case !known:
				c.errf(fmt.Sprintf("%s.supported_call_types[%d]", p, i), "unknown call type %q", name)
			case api == "":
				c.warnf(fmt.Sprintf("%s.supported_call_types[%d]", p, i), "%q answers are not cached by breakerd (chat, embeddings and legacy completions are)", name)
			case !slices.Contains(cc.APIs, api):
				cc.APIs = append(cc.APIs, api)
			}
		}
	}
	switch mode, _ := params["mode"].(string); mode {
	case "", "default_on":
	case "default_off":
		cc.DefaultOff = true
	default:
		c.errf(p+".mode", "must be default_on or default_off, got %q", mode)
	}
	return cc
}

// cacheRedis reads the response cache's own Redis: cache_params' host
// (with port, password, username, namespace and ssl) or url, else, with
// no fleet's Redis (sharedState), LiteLLM's variables ($REDIS_URL, or
// $REDIS_HOST with $REDIS_PORT, $REDIS_PASSWORD, $REDIS_USERNAME and
// $REDIS_SSL); nil when none names one.
func (c *converter) cacheRedis(params map[string]any, sharedState bool) *Redis {
	const p = "litellm_settings.cache_params"
	str := func(k string) string {
		switch v := params[k].(type) {
		case string:
			return c.resolve(p+"."+k, v)
		case nil:
			return ""
		default:
			return fmt.Sprint(v)
		}
	}
	env := func(name string) string { v, _ := c.env(name); return v }
	host, port, url := str("host"), str("port"), str("url")
	rd := &Redis{Namespace: cmp.Or(str("namespace"), "breakerd"), Username: str("username"), Password: Secret(str("password"))}
	ssl := str("ssl")
	rd.MasterName, rd.SentinelPassword = str("service_name"), Secret(str("sentinel_password"))
	rd.Sentinels = c.redisNodes(p+".sentinel_nodes", params["sentinel_nodes"])
	rd.ClusterNodes = c.redisNodes(p+".redis_startup_nodes", params["redis_startup_nodes"])
	if host == "" && url == "" && rd.Sentinels == nil && rd.ClusterNodes == nil && !sharedState {
		host, port, url = env("REDIS_HOST"), env("REDIS_PORT"), env("REDIS_URL")
		rd.Username, rd.Password, ssl = env("REDIS_USERNAME"), Secret(env("REDIS_PASSWORD")), env("REDIS_SSL")
		c.redisTopologyFromEnv(rd)
	}
	rd.TLS, _ = strconv.ParseBool(ssl)
	switch {
	case rd.Sentinels != nil:
		if rd.MasterName == "" {
			c.errf(p+".sentinel_nodes", "needs service_name, the name of the master the sentinels watch")
		}
		return rd
	case rd.ClusterNodes != nil:
		return rd
	case url != "":
		rd.URL = Secret(url)
	case host != "":
		if n, err := strconv.Atoi(cmp.Or(port, "6379")); err != nil || n <= 0 || n > 65535 {
			c.errf(p+".port", "must be a port number, got %q", port)
		}
		rd.Addr = net.JoinHostPort(host, cmp.Or(port, "6379"))
	default:
		return nil
	}
	return rd
}

// redisTopologyFromEnv reads LiteLLM's variables for a Redis Sentinel's
// or a Redis Cluster's nodes (JSON lists) into rd: $REDIS_SERVICE_NAME,
// $REDIS_SENTINEL_NODES and $REDIS_SENTINEL_PASSWORD, or
// $REDIS_CLUSTER_NODES.
func (c *converter) redisTopologyFromEnv(rd *Redis) {
	env := func(name string) string { v, _ := c.env(name); return v }
	rd.MasterName, rd.SentinelPassword = env("REDIS_SERVICE_NAME"), Secret(env("REDIS_SENTINEL_PASSWORD"))
	for _, v := range []struct {
		name  string
		nodes *[]string
	}{{"REDIS_SENTINEL_NODES", &rd.Sentinels}, {"REDIS_CLUSTER_NODES", &rd.ClusterNodes}} {
		if raw := env(v.name); raw != "" {
			var nodes any
			if err := json.Unmarshal([]byte(raw), &nodes); err != nil {
				c.warnings = append(c.warnings, fmt.Sprintf("$%s: not JSON (%v); ignored", v.name, err))
				continue
			}
			*v.nodes = c.redisNodes("$"+v.name, nodes)
		}
	}
}

// redisNodes reads LiteLLM's list of Redis nodes at path: [host, port]
// pairs (sentinel_nodes), {host, port} maps (redis_startup_nodes), or
// host:port strings; nil when v is nil.
func (c *converter) redisNodes(path string, v any) []string {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		c.errf(path, "must be a list of nodes: [host, port], {host: H, port: P}, or \"host:port\"")
		return nil
	}
	nodes := []string{}
	for i, n := range list {
		var host, port string
		switch n := n.(type) {
		case string:
			host, port, _ = strings.Cut(n, ":")
		case []any:
			if len(n) == 2 {
				host, port = fmt.Sprint(n[0]), fmt.Sprint(n[1])
			}
		case map[string]any:
			host, port = fmt.Sprint(n["host"]), fmt.Sprint(n["port"])
		}
		if p, err := strconv.Atoi(port); host == "" || err != nil || p <= 0 || p > 65535 {
			c.errf(fmt.Sprintf("%s[%d]", path, i), "is not a node: write [host, port], {host: H, port: P}, or \"host:port\"")
			continue
		}
		nodes = append(nodes, net.JoinHostPort(host, port))
	}
	return nodes
}

// cachingGroups reads router_settings.caching_groups into the cache's
// Groups: each list's groups keep their answers under its first's name.
// A group in two lists is an error; a list when no cache is on, or a
// group the config does not define, a warning.
func (c *converter) cachingGroups(raw []any, cfg *Config) {
	const p = "router_settings.caching_groups"
	if len(raw) == 0 {
		return
	}
	var lists [][]string
	for i, v := range raw {
		var list []string
		switch v := v.(type) {
		case []any:
			for _, g := range v {
				if s, ok := g.(string); ok {
					list = append(list, s)
				}
			}
		case string: // a Python tuple: ("openai-gpt-4o", "azure-gpt-4o")
			for g := range strings.SplitSeq(strings.Trim(strings.TrimSpace(v), "()[]"), ",") {
				if g = strings.Trim(strings.TrimSpace(g), `"'`); g != "" {
					list = append(list, g)
				}
			}
		}
		if len(list) < 2 {
			c.errf(fmt.Sprintf("%s[%d]", p, i), "must be a list of two or more model groups that share the cache, got %v", v)
			continue
		}
		lists = append(lists, list)
	}
	if cfg.Cache == nil {
		c.warnf(p, "the response cache is off (litellm_settings.cache): the groups share nothing")
		return
	}
	for i, list := range lists {
		for j, g := range list {
			at := fmt.Sprintf("%s[%d][%d]", p, i, j)
			if shared, dup := cfg.Cache.Groups[g]; dup {
				c.errf(at, "model group %q is in two caching groups (the first keeps answers under %q)", g, shared)
				continue
			}
			if !slices.Contains(cfg.Groups, g) {
				c.warnf(at, "model group %q is not in model_list: nothing to share", g)
			}
			if cfg.Cache.Groups == nil {
				cfg.Cache.Groups = map[string]string{}
			}
			cfg.Cache.Groups[g] = list[0]
		}
	}
}
