package config

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/textproto"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/breakerd/breakerd/breaker"
)

// Defaults for keys the file leaves out.
const (
	DefaultListen       = ":4000"
	DefaultMaxBodyBytes = 10 << 20
	DefaultMaxTokens    = 4096
)

// Providers lists the provider prefixes litellm_params.model accepts.

type converter struct {
	// named holds every model_name in model_list, including groups whose
	// deployments were left out or are in error: naming one elsewhere is
	// not a second error.
	named []string
	// autoRouters are the auto router deployments (autorouter.go).
	autoRouters []autoRouter
	// providerKeys are providers' keys from their variables, read for
	// catch-all deployments.
	providerKeys map[string]Secret
	// dropParams is litellm_settings.drop_params, each deployment's
	// default.
	dropParams bool
	// ids are the deployments' model_info.ids, which fallbacks may name.
	ids []string
	// firstChunkTimeout and chunkIdleTimeout are router_settings'
	// ttft_timeout and stream_idle_timeout, each deployment's default.
	firstChunkTimeout, chunkIdleTimeout time.Duration
	// streamUsage is always_include_stream_usage, for every deployment.
	streamUsage StreamUsage
	// azureADRefresh is litellm_settings.enable_azure_ad_token_refresh:
	// Azure deployments with no credential of their own take the
	// environment's.
	azureADRefresh bool
	// fetchPrivate is server.fetch_private_urls, each deployment's.
	fetchPrivate bool
	// tls is litellm_settings.ssl_verify (or $SSL_VERIFY), each
	// deployment's default.
	tls tlsVerify
	// creds is credential_list, which deployments name.
	creds []rawCredential
	// customProviders are litellm_settings.custom_provider_map's names.
	customProviders []string
	// maxParallel is each deployment's default max_parallel_requests.
	maxParallel int
	// leftOut holds, per model group, why the first of its deployments
	// breakerd left out of routing was; leftOutAt, the model_list entries
	// left out.
	leftOut   map[string]string
	leftOutAt map[int]bool
	// leftOutErrs holds each deployment's reason as an error, for a config
	// none of whose deployments is left in.
	leftOutErrs []error
	src         *sources
	// readFile reads the files a config names (Vertex AI's credentials),
	// relative to dir, the config's own.
	readFile func(string) ([]byte, error)
	dir      string
	pos      map[string]*token.Position
	env      func(string) (string, bool)
	errs     []error
	warnings []string
}

// at is the position of path, or of its nearest recorded ancestor; nil
// when none is recorded.
func (c *converter) at(path string) *token.Position {
	for p := path; p != ""; {
		if pos, ok := c.pos[p]; ok {
			return pos
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return nil
}

func (c *converter) errf(path, format string, args ...any) {
	c.errs = append(c.errs, c.src.errorAt(c.at(path), path, fmt.Sprintf(format, args...)))
}

func (c *converter) warnf(path, format string, args ...any) {
	c.warnings = append(c.warnings, c.src.errorAt(c.at(path), path, fmt.Sprintf(format, args...)).Error())
}

// envRef matches ${NAME}, and the shell's ${NAME:-default} (unset or
// empty) and ${NAME-default} (unset), which Compose-style configs use.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}`)

// resolve expands os.environ/NAME (the whole value) and ${NAME} (anywhere).
func (c *converter) resolve(path, s string) string {
	if name, ok := strings.CutPrefix(s, "os.environ/"); ok {
		v, found := c.env(name)
		if !found {
			c.errf(path, "environment variable %s is not set", name)
		}
		return v
	}
	return envRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := envRef.FindStringSubmatch(m)
		name, op, def := sub[1], sub[2], sub[3]
		v, found := c.env(name)
		switch {
		case op == ":-" && v == "", op == "-" && !found:
			return def
		case !found:
			c.errf(path, "environment variable %s is not set", name)
		}
		return v
	})
}

// unsetVar returns the first variable s refers to that is not set and has
// no default, the one resolve would report, or "".
func (c *converter) unsetVar(s string) string {
	if name, ok := strings.CutPrefix(s, "os.environ/"); ok {
		if _, found := c.env(name); !found {
			return name
		}
		return ""
	}
	for _, sub := range envRef.FindAllStringSubmatch(s, -1) {
		if _, found := c.env(sub[1]); !found && sub[2] == "" {
			return sub[1]
		}
	}
	return ""
}

// resolveScalars replaces each environment reference where the schema
// wants a number or a boolean with the variable's value, so that
// "max_parallel_requests: os.environ/N" decodes as a number. The value
// keeps the reference's position for later errors, and is never quoted in
// them: the variable may hold something else by mistake.
func (c *converter) resolveScalars(refs []scalarRef) {
	for _, r := range refs {
		tk := r.mv.Value.GetToken()
		errs := len(c.errs)
		v := strings.TrimSpace(c.resolve(r.path, tk.Value))
		if len(c.errs) > errs {
			continue // a variable is not set
		}
		ntk := token.New(v, v, tk.Position)
		_, intErr := strconv.ParseInt(v, 10, 64)
		switch {
		case r.kind == reflect.Bool:
			if _, err := strconv.ParseBool(v); err != nil {
				c.errf(r.path, "%s must be true or false, and it is not", tk.Value)
				continue
			}
			r.mv.Value = ast.Bool(ntk)
		case intErr == nil:
			r.mv.Value = ast.Integer(ntk)
		case r.kind == reflect.Float64:
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				c.errf(r.path, "%s must be a number, and it is not", tk.Value)
				continue
			}
			r.mv.Value = ast.Float(ntk)
		default:
			c.errf(r.path, "%s must be a whole number, and it is not", tk.Value)
		}
	}
}

// duration reads seconds (int or float) or a Go duration string ("30s").
func (c *converter) duration(path string, v any, def time.Duration, allowZero bool) time.Duration {
	if v == nil {
		return def
	}
	var d time.Duration
	switch x := v.(type) {
	case uint64:
		d = time.Duration(x) * time.Second
	case int64:
		d = time.Duration(x) * time.Second
	case float64:
		d = time.Duration(x * float64(time.Second))
	case string:
		x = c.resolve(path, x)
		if secs, err := strconv.ParseFloat(x, 64); err == nil {
			d = time.Duration(secs * float64(time.Second))
			break
		}
		var err error
		if d, err = time.ParseDuration(x); err != nil {
			c.errf(path, "%q is not a duration (use seconds, or a value like \"30s\" or \"2m\")", x)
			return def
		}
	default:
		c.errf(path, "%v is not a duration (use seconds, or a value like \"30s\")", v)
		return def
	}
	if d < 0 || (d == 0 && !allowZero) {
		c.errf(path, "must be a positive duration, got %v", v)
		return def
	}
	return d
}

// count reads a non-negative int; zero is rejected unless allowZero.
// setJSON sets (*m)[key] to v as JSON, making *m when nil; a v that
// cannot be JSON is path's error.
// requestDefaults are the request parameters a deployment's
// litellm_params (and router_settings.default_litellm_params) set as
// defaults: each applies when a request does not set it.
var requestDefaults = []string{"temperature", "max_tokens", "max_completion_tokens", "top_p", "seed", "stop", "frequency_penalty",
	"presence_penalty", "response_format", "thinking", "reasoning_effort"}

// routerDefaults applies LiteLLM Router's default_litellm_params to every
// chat deployment: each request parameter among them is a default where
// the deployment sets none of its own (LiteLLM's would override the
// deployment's; a deployment's own setting is the more specific one
// here). Its other keys (api_key, metadata, ...) are warned about.
func (c *converter) routerDefaults(params map[string]any, ds []Deployment) {
	for _, k := range slices.Sorted(maps.Keys(params)) {
		p := "router_settings.default_litellm_params." + k
		if !slices.Contains(requestDefaults, k) {
			c.warnf(p, "not used: breakerd takes these request parameters here: %s", strings.Join(requestDefaults, ", "))
			continue
		}
		for i := range ds {
			// A chat model's only: an embedding, audio or image model
			// would refuse a temperature.
			if _, set := ds[i].Defaults[k]; !set && slices.Contains([]string{"", "chat", "completion", "responses", "batch"}, ds[i].Mode) {
				c.setJSON(p, &ds[i].Defaults, k, params[k])
			}
		}
	}
}

func (c *converter) setJSON(path string, m *map[string]json.RawMessage, key string, v any) {
	raw, err := json.Marshal(v)
	if err != nil {
		c.errf(path, "cannot be sent as JSON: %v", err)
		return
	}
	if *m == nil {
		*m = map[string]json.RawMessage{}
	}
	(*m)[key] = raw
}

func (c *converter) count(path string, v *int, def int, allowZero bool) int {
	if v == nil {
		return def
	}
	if *v < 0 || (*v == 0 && !allowZero) {
		if allowZero {
			c.errf(path, "must not be negative, got %d", *v)
		} else {
			c.errf(path, "must be at least 1, got %d", *v)
		}
		return def
	}
	return *v
}

// zeroIsUnset reads a LiteLLM limit whose reference shows 0 as the
// type's placeholder (general_settings' max_parallel_requests: 0): 0 sets
// no limit, with a warning, rather than failing a config copied from
// LiteLLM's docs. It returns v, or nil for 0.
func (c *converter) zeroIsUnset(path string, v *int) *int {
	if v == nil || *v != 0 {
		return v
	}
	c.warnf(path, "0 sets no limit (LiteLLM's settings reference shows 0 as a placeholder); leave it out, or set a limit")
	return nil
}

func (c *converter) ratio(path string, v *float64) float64 {
	if v == nil {
		return 0
	}
	if *v <= 0 || *v > 1 || math.IsNaN(*v) {
		c.errf(path, "must be a ratio between 0 (exclusive) and 1, got %v (write 50%% as 0.5)", *v)
		return 0
	}
	return *v
}

func (c *converter) convert(raw *rawFile) *Config {
	cfg := &Config{}
	cfg.Server = c.server(raw.Server)
	cfg.Server.MasterKey = Secret(c.resolve("general_settings.master_key", raw.General.MasterKey))
	if raw.General.MasterKey == "" {
		// LiteLLM's proxy takes its master key from this variable when
		// the config sets none: a deployment that relies on it must not
		// come up open to anyone under breakerd.
		if v, ok := c.env("LITELLM_MASTER_KEY"); ok && v != "" {
			cfg.Server.MasterKey, cfg.Server.MasterKeyFrom = Secret(v), "LITELLM_MASTER_KEY"
		}
	}
	switch k := cfg.Server.MasterKey; {
	case k == "" || len(k) >= 16:
	case cfg.Server.MasterKeyFrom != "":
		c.warnings = append(c.warnings, c.src.errorAt(nil, "$"+cfg.Server.MasterKeyFrom,
			"the master key, is shorter than 16 characters, which is easy to guess: fine on a laptop, not on a network").Error())
	default:
		c.warnf("general_settings.master_key", "is shorter than 16 characters, which is easy to guess: fine on a laptop, not on a network")
	}
	if raw.Logging.Format == "" {
		// LiteLLM's switch, else its variable.
		on := raw.LiteLLM.JSONLogs
		if v, ok := c.env("JSON_LOGS"); ok && on == nil {
			b, err := strconv.ParseBool(v)
			on = &b
			if err != nil {
				c.warnings = append(c.warnings, fmt.Sprintf("$JSON_LOGS: %q is not true or false; ignored", v))
			}
		}
		if on != nil && *on {
			raw.Logging.Format = "json"
		}
	}
	cfg.Logging = c.logging(raw.Logging)
	cfg.Metrics.LiteLLMNames = c.callbacks(raw.LiteLLM)
	if len(raw.ModelList) == 0 {
		path := "model_list"
		if _, ok := c.pos[path]; !ok {
			c.pos[path] = &token.Position{Line: 1, Column: 1}
		}
		c.errf(path, "needs at least one deployment: breakerd reads its models from this file only, and keeps none in a database (LiteLLM's store_model_in_db)")
	}
	// LiteLLM's per-call default; a deployment's own timeout wins.
	callTimeout := c.duration("litellm_settings.request_timeout", raw.LiteLLM.RequestTimeout, 0, false)
	c.dropParams = raw.LiteLLM.DropParams != nil && *raw.LiteLLM.DropParams
	if v := cmp.Or(raw.General.AlwaysIncludeStreamUsage, raw.LiteLLM.AlwaysIncludeStreamUsage); v != nil {
		c.streamUsage = map[bool]StreamUsage{true: StreamUsageShown, false: StreamUsageOff}[*v]
	}
	c.azureADRefresh = raw.LiteLLM.EnableAzureADTokenRefresh != nil && *raw.LiteLLM.EnableAzureADTokenRefresh
	c.tls = c.defaultTLS(raw.LiteLLM.SSLVerify)
	streamTimeout := c.duration("router_settings.stream_timeout", raw.RouterSettings.StreamTimeout, 0, false)
	c.firstChunkTimeout = c.duration("router_settings.ttft_timeout", raw.RouterSettings.TTFTTimeout, 0, false)
	c.chunkIdleTimeout = c.duration("router_settings.stream_idle_timeout", raw.RouterSettings.StreamIdleTimeout, 0, false)
	c.credentialList(raw.CredentialList)
	switch {
	case raw.RouterSettings.DefaultMaxParallel != nil:
		c.maxParallel = c.count("router_settings.default_max_parallel_requests", raw.RouterSettings.DefaultMaxParallel, 0, false)
	case raw.General.MaxParallel != nil:
		c.maxParallel = c.count("general_settings.max_parallel_requests", c.zeroIsUnset("general_settings.max_parallel_requests", raw.General.MaxParallel), 0, false)
	}
	c.routes(raw.General, &cfg.Server, raw.Server.MaxBodyBytes != nil)
	if raw.Server.MaxConcurrent == nil && raw.General.GlobalMaxParallel != nil {
		cfg.Server.MaxConcurrent = c.count("general_settings.global_max_parallel_requests",
			c.zeroIsUnset("general_settings.global_max_parallel_requests", raw.General.GlobalMaxParallel), 0, false)
	}
	for _, cp := range raw.LiteLLM.CustomProviderMap {
		c.customProviders = append(c.customProviders, cp.Provider)
	}
	seen := map[string]int{}
	for i, rd := range raw.ModelList {
		d, ok := c.deployment(i, rd, callTimeout, streamTimeout)
		if !ok {
			continue
		}
		base := d.Group + "/" + d.Provider + "/" + d.Model
		seen[base]++
		d.Name = base
		if n := seen[base]; n > 1 {
			d.Name = fmt.Sprintf("%s#%d", base, n)
		}
		if id := c.resolve(fmt.Sprintf("model_list[%d].model_info.id", i), rd.ModelInfo.ID); id != "" && !d.Wildcard {
			// LiteLLM's deployment id, the name its metrics and the
			// operator's dashboards know the deployment by.
			d.Name, d.ID = id, id
		}
		if j := slices.IndexFunc(cfg.Deployments, func(o Deployment) bool { return o.Name == d.Name }); j >= 0 {
			c.errf(fmt.Sprintf("model_list[%d].model_info.id", i), "%q also names model_list[%d]: deployments' names (their breakers and metrics) must differ",
				d.Name, cfg.Deployments[j].Index)
		}
		if !slices.Contains(cfg.Groups, d.Group) {
			cfg.Groups = append(cfg.Groups, d.Group)
		}
		cfg.Deployments = append(cfg.Deployments, d)
		if d.ID != "" {
			c.ids = append(c.ids, d.ID)
		}
	}
	c.routerDefaults(raw.RouterSettings.DefaultLiteLLMParams, cfg.Deployments)
	for _, rd := range raw.ModelList {
		if rd.ModelName != "" && !slices.Contains(c.named, rd.ModelName) {
			c.named = append(c.named, rd.ModelName)
		}
	}
	for i, rd := range raw.ModelList {
		// One line for a group left with nothing to call, at its first
		// deployment; fallbacks and aliases naming it stay quiet.
		g := rd.ModelName
		if g != "" && !slices.Contains(cfg.Groups, g) && !c.isAutoRouter(g) && slices.IndexFunc(raw.ModelList, func(x rawDeployment) bool { return x.ModelName == g }) == i && len(c.errs) == 0 {
			c.warnf(fmt.Sprintf("model_list[%d].model_name", i), "model group %q has no deployment breakerd can call: requests for it get 404, and fallbacks to it are skipped", g)
		}
	}
	for g, why := range c.leftOut {
		if !slices.Contains(cfg.Groups, g) {
			if cfg.LeftOut == nil {
				cfg.LeftOut = map[string]string{}
			}
			cfg.LeftOut[g] = why
		}
	}
	if len(raw.ModelList) > 0 && len(cfg.Deployments) == 0 && len(c.errs) == 0 {
		// Warnings are not shown when loading fails: the reasons become
		// the errors.
		c.errf("model_list", "none of its %d deployments can be called by breakerd, for the reasons that follow", len(raw.ModelList))
		c.errs = append(c.errs, c.leftOutErrs...)
	}
	cfg.FileStores = c.fileStores(raw.FilesSettings)
	cfg.Router = c.router(raw.RouterSettings, raw.LiteLLM, cfg.Groups)
	cfg.Router.StreamCost = raw.LiteLLM.IncludeCostInStreamingUsage != nil && *raw.LiteLLM.IncludeCostInStreamingUsage
	cfg.Router.ForceIPv4 = raw.LiteLLM.ForceIPv4 != nil && *raw.LiteLLM.ForceIPv4
	if raw.LiteLLM.Cache == nil {
		raw.LiteLLM.Cache = raw.RouterSettings.CacheResponses
	}
	cfg.Cache = c.cache(raw.LiteLLM, cfg.Router.State == "redis")
	c.cachingGroups(raw.RouterSettings.CachingGroups, cfg)
	cfg.PassThrough = c.passThrough(raw.General.PassThrough)
	c.groupRetryPolicies(raw.RouterSettings.ModelGroupRetryPolicy, cfg)
	if i := slices.IndexFunc(cfg.Deployments, func(d Deployment) bool { return len(d.Tags) > 0 }); i >= 0 && !cfg.Router.TagFiltering {
		// Once: LiteLLM's configs tag deployments for spend reports too.
		c.warnf(fmt.Sprintf("model_list[%d].litellm_params.tags", cfg.Deployments[i].Index),
			"tags route requests only with router_settings.enable_tag_filtering: true; without it breakerd does not use them")
	}
	c.warnRetired(cfg.Deployments)
	for _, d := range cfg.Deployments {
		if d.Priced || d.Model == "*" || d.Wildcard {
			continue
		}
		// What a price is for here: the order least-cost tries, and the
		// budgets its calls are charged to.
		var costs []string
		if cfg.Router.StrategyOf(d.Group).Strategy == "least-cost" {
			costs = append(costs, "least-cost tries it after its group's priced deployments")
		}
		_, providerBudget := cfg.Router.ProviderBudgets[d.Provider]
		// A provider whose answers say what each call cost has its calls
		// charged that, priced or not.
		info, _ := LookupProvider(d.Provider)
		if !info.ReportsCost && (cfg.Router.ProxyBudget != nil || providerBudget || d.Budget != nil || len(cfg.Router.TagBudgets) > 0) {
			costs = append(costs, "its calls cost $0 against the budgets it counts toward, so they never stop it")
		}
		if len(costs) > 0 {
			c.warnf(fmt.Sprintf("model_list[%d].litellm_params.model", d.Index),
				"%s has no price breakerd knows: %s; set input_cost_per_token and output_cost_per_token, or base_model to the model it runs",
				d.ModelRef, strings.Join(costs, ", and "))
		}
	}
	if !cfg.Router.EnforceRateLimits {
		for _, d := range cfg.Deployments {
			for _, k := range []struct {
				key string
				v   float64
			}{{d.RPMKey, d.RPM}, {d.TPMKey, d.TPM}} {
				if k.v > 0 {
					c.warnf(k.key,
						"weights simple-shuffle routing, as in LiteLLM, and is a limit only with router_settings.enable_pre_call_checks: true")
				}
			}
		}
	}
	if raw.RouterSettings.NumRetries == nil && raw.LiteLLM.NumRetries != nil {
		cfg.Router.NumRetries = c.count("litellm_settings.num_retries", raw.LiteLLM.NumRetries, 0, true)
	}
	cfg.Alerting = c.alerting(raw.RouterSettings.Alerting)
	c.liteLLMAlerting(raw.General, &cfg.Alerting)
	cfg.Health = c.health(raw.Health, cfg.Groups)
	cfg.Health.Probes = c.probes(raw.General, raw.RouterSettings.AllowedFailsPolicy != nil, cfg.Groups)
	cfg.Router.ForwardHeaders, cfg.Router.ForwardOpenAIOrg = c.forwarding(raw.General, raw.LiteLLM, cfg.Groups, cfg.Router.Aliases)
	cfg.Admin = Admin{Token: Secret(c.resolve("admin.token", raw.Admin.Token)), Listen: c.resolve("admin.listen", raw.Admin.Listen)}
	if raw.Admin.Token != "" && len(cfg.Admin.Token) < 16 && len(c.errs) == 0 {
		c.errf("admin.token", "must be at least 16 characters")
	}
	cfg.ProviderKeys = c.providerKeys
	cfg.Warnings = c.warnings
	return cfg
}

func (c *converter) server(r rawServer) Server {
	s := Server{Listen: c.resolve("server.listen", r.Listen), MaxBodyBytes: DefaultMaxBodyBytes}
	if s.Listen == "" {
		s.Listen = DefaultListen
	}
	s.MetricsListen = c.resolve("server.metrics_listen", r.MetricsListen)
	if r.MaxBodyBytes != nil {
		if *r.MaxBodyBytes <= 0 {
			c.errf("server.max_body_bytes", "must be at least 1, got %d", *r.MaxBodyBytes)
		} else {
			s.MaxBodyBytes = *r.MaxBodyBytes
		}
	}
	s.ReadHeaderTimeout = c.duration("server.read_header_timeout", r.ReadHeaderTimeout, 10*time.Second, false)
	s.ShutdownDrain = c.duration("server.shutdown_drain", r.ShutdownDrain, 5*time.Second, true)
	s.ShutdownGrace = c.duration("server.shutdown_grace", r.ShutdownGrace, 30*time.Second, true)
	s.IdleTimeout = c.duration("server.idle_timeout", r.IdleTimeout, 120*time.Second, false)
	s.BodyReadTimeout = c.duration("server.body_read_timeout", r.BodyReadTimeout, 60*time.Second, false)
	s.SendTimeout = c.duration("server.send_timeout", r.SendTimeout, 60*time.Second, false)
	for i, o := range r.CORSOrigins {
		p := fmt.Sprintf("server.cors_allowed_origins[%d]", i)
		o = c.resolve(p, o)
		if u, err := url.Parse(o); o != "*" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil) {
			c.errf(p, "%q is not an origin: write scheme://host[:port] with no path, or \"*\" for any", o)
			continue
		}
		s.CORSOrigins = append(s.CORSOrigins, o)
	}
	s.MaxConcurrent = c.count("server.max_concurrent_requests", r.MaxConcurrent, 0, true)
	s.MaxConnections = c.count("server.max_connections", r.MaxConnections, 0, true)
	s.FetchPrivateURLs = r.FetchPrivateURLs != nil && *r.FetchPrivateURLs
	c.fetchPrivate = s.FetchPrivateURLs
	return s
}

func (c *converter) health(r rawHealth, groups []string) Health {
	h := Health{Policy: r.Policy, OpenFraction: 0.5, CriticalGroups: r.CriticalGroups}
	switch h.Policy {
	case "":
		h.Policy = "routable"
	case "routable", "open_fraction":
	default:
		c.errf("health.policy", "must be routable or open_fraction, got %q", r.Policy)
	}
	if r.OpenFraction != nil {
		h.OpenFraction = c.ratio("health.open_fraction", r.OpenFraction)
	}
	if r.UnroutableFraction != nil {
		h.UnroutableFraction = c.ratio("health.unroutable_fraction", r.UnroutableFraction)
	}
	for i, g := range r.CriticalGroups {
		if why, ok := c.leftOut[g]; ok && !slices.Contains(groups, g) {
			c.errf(fmt.Sprintf("health.critical_groups[%d]", i), "model group %q is critical, but breakerd can call none of its deployments (%s): /health would never be healthy", g, why)
			continue
		}
		if !slices.Contains(groups, g) {
			msg := fmt.Sprintf("unknown model group %q", g)
			if n := nearest(g, groups); n != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", n)
			}
			c.errf(fmt.Sprintf("health.critical_groups[%d]", i), "%s", msg)
		}
	}
	return h
}

func (c *converter) logging(r rawLogging) Logging {
	l := Logging(r)
	if l.Format == "" {
		l.Format = "text"
	}
	if l.Level == "" {
		l.Level = "info"
	}
	if !slices.Contains([]string{"text", "json"}, l.Format) {
		c.errf("logging.format", "must be text or json, got %q", l.Format)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, l.Level) {
		c.errf("logging.level", "must be debug, info, warn or error, got %q", l.Level)
	}
	return l
}

func (c *converter) deployment(i int, rd rawDeployment, defTimeout, defStreamTimeout time.Duration) (Deployment, bool) {
	p := fmt.Sprintf("model_list[%d]", i)
	pp := p + ".litellm_params"
	d := Deployment{Group: c.resolve(p+".model_name", rd.ModelName), Index: i, DefaultMaxTokens: DefaultMaxTokens}
	if d.Group == "" {
		c.errf(p+".model_name", "is required")
	}
	if name := c.unsetVar(rd.Params.Model); name != "" && d.Group != "" {
		// As an unset key does (below): LiteLLM starts and fails its calls.
		c.leaveOut(d, pp+".model", fmt.Sprintf("environment variable %s is not set", name), "set it to call this deployment")
		return d, false
	}
	modelRef := c.resolve(pp+".model", rd.Params.Model)
	d.ModelRef = modelRef
	errs := len(c.errs)
	at := c.credential(pp, &rd.Params)
	keyAt, baseAt, versionAt := at("api_key"), at("api_base"), at("api_version")
	credOK := len(c.errs) == errs // an unknown credential: its values' absence is not news
	prov, model, ok := strings.Cut(modelRef, "/")
	if !ok {
		// A bare name: the provider LiteLLM would infer (gpt-* is OpenAI's).
		prov, model = inferProvider(modelRef), modelRef
		if prov == "" && modelRef != "" && rd.Params.APIBase != "" {
			// A name no provider claims, at an address: the server the
			// address names, as an OpenAI-compatible one.
			prov = "openai"
			c.warnf(pp+".model", "%q names no provider: calling its api_base as an OpenAI-compatible server (write openai/%s to say so)", modelRef, modelRef)
		}
	}
	if prov == "auto_router" && model != "" && d.Group != "" {
		c.readAutoRouter(p, d.Group, model, rd.Params)
		return d, false
	}
	info, known := LookupProvider(prov)
	d.Wildcard = modelRef == "*" || strings.Contains(model, "*")
	switch {
	case modelRef == "*":
	case modelRef == "":
		c.errf(pp+".model", "is required, as provider/model (e.g. openai/gpt-4o-mini)")
		return d, false
	case prov == "":
		c.errf(pp+".model", "cannot tell the provider of %q: write provider/model (e.g. openai/%s, hosted_vllm/%s)", modelRef, modelRef, modelRef)
		return d, false
	case model == "":
		// LiteLLM loads it (its own example config has azure/ for Azure's
		// retired dall-e-2 API, which names no deployment).
		c.leaveOut(d, pp+".model", fmt.Sprintf("%q names no model after the provider", modelRef),
			fmt.Sprintf("write %s<model> (or, for Azure, the deployment's name)", modelRef))
		return d, false
	case !known && slices.Contains(c.customProviders, prov):
		c.leaveOut(d, pp+".model", fmt.Sprintf("provider %q is a custom handler (litellm_settings.custom_provider_map), Python code that breakerd cannot run", prov))
		return d, false
	case !known && slices.Contains(modelMakers, strings.ToLower(prov)):
		// LiteLLM starts with such a deployment and fails its calls.
		fix := fmt.Sprintf("write the provider before it: openrouter/%s, together_ai/%s, or openai/%s with the api_base of a server that runs it", modelRef, modelRef, modelRef)
		if own, ok := makerAPIs[strings.ToLower(prov)]; ok {
			// The maker's own API: nvidia/z-ai/glm-5.2 is NIM's z-ai/glm-5.2.
			if !strings.Contains(model, "/") {
				model = modelRef
			}
			fix = fmt.Sprintf("for %s's own API, write %s/%s; else %s", prov, own, model, fix)
		}
		c.leaveOut(d, pp+".model", fmt.Sprintf("%q names the model's maker, not a provider that serves it", prov), fix)
		return d, false
	case !known:
		// LiteLLM knows far more providers than breakerd: a name close to
		// one breakerd knows is likely a typo, and an error; another is
		// left out of routing, so that the rest of the config still runs.
		if n := nearest(prov, providerNames()); n != "" && editDistance(prov, n) <= 2 {
			c.errf(pp+".model", "unknown provider %q (did you mean %q?); any OpenAI-compatible server works as openai/<model> with api_base (README lists the providers)", prov, n)
			return d, false
		}
		c.leaveOut(d, pp+".model", fmt.Sprintf("provider %q is not one breakerd can call", prov),
			fmt.Sprintf("if the server speaks OpenAI's API, write openai/%s with its api_base (README lists the providers)", model))
		return d, false
	case info.Unsupported != "":
		c.leaveOut(d, pp+".model", fmt.Sprintf("provider %q needs %s, which breakerd does not do yet", prov, info.Unsupported))
		return d, false
	}
	if api, ok := unservedModes[rd.ModelInfo.Mode]; ok {
		// Not a chat model: in chat's routing, its calls would fail.
		c.leaveOut(d, p+".model_info.mode", fmt.Sprintf("mode %q is a model for %s, which breakerd does not serve", rd.ModelInfo.Mode, api),
			servedAPIs)
		return d, false
	}
	d.Mode = rd.ModelInfo.Mode
	modeAt := p + ".model_info.mode"
	if d.Mode == "" && !d.Wildcard {
		d.Mode, modeAt = modeOfModel(model), pp+".model"
		if api, ok := unservedModes[d.Mode]; ok {
			c.leaveOut(d, modeAt, fmt.Sprintf("%q is a model for %s (%s), which breakerd does not serve", model, api, d.Mode),
				servedAPIs)
			return d, false
		}
	}
	m, ok := modeAPIs[d.Mode]
	switch {
	case ok && (info.Dialect != DialectOpenAI && (info.Dialect != DialectAzure || !m.azure) || m.onlyOpen && prov != "openai"):
		c.leaveOut(d, modeAt, fmt.Sprintf("mode %q needs OpenAI's %s API, which provider %q does not speak", d.Mode, m.api, prov))
		return d, false
	case ok && info.Vertex:
		// Vertex AI's OpenAI-compatible endpoint serves chat alone; Imagen
		// and the rest have APIs of Vertex's own.
		c.leaveOut(d, modeAt, fmt.Sprintf("mode %q needs OpenAI's %s API, which Vertex AI's OpenAI-compatible endpoint does not serve (Vertex AI serves %q through its own API)",
			d.Mode, m.api, model))
		return d, false
	}
	// LiteLLM starts with a variable unset and fails that deployment's
	// calls; breakerd leaves the deployment out, so that a config listing
	// providers the user has no key for still runs the others.
	type ref struct{ at, value string }
	conn := []ref{{keyAt, rd.Params.APIKey}, {baseAt, rd.Params.APIBase}, {versionAt, rd.Params.APIVersion}, {pp + ".organization", rd.Params.Organization}}
	for _, h := range []struct {
		key string
		m   map[string]any
	}{{"headers", rd.Params.Headers}, {"extra_headers", rd.Params.ExtraHeaders}} {
		for _, name := range slices.Sorted(maps.Keys(h.m)) {
			if v, ok := h.m[name].(string); ok {
				conn = append(conn, ref{pp + "." + h.key + "." + name, v})
			}
		}
	}
	for _, v := range conn {
		if name := c.unsetVar(v.value); name != "" {
			c.leaveOut(d, v.at, fmt.Sprintf("environment variable %s is not set", name), "set it to call this deployment")
			return d, false
		}
	}
	if modelRef == "*" {
		// LiteLLM's catch-all: each request's model names its provider,
		// resolved per request (Deployment.Resolve).
		d.Model = "*"
		d.APIKey = Secret(c.resolve(keyAt, rd.Params.APIKey))
		d.APIBase = strings.TrimRight(c.resolve(baseAt, rd.Params.APIBase), "/")
		if d.APIBase != "" {
			c.checkAPIBase(baseAt, d.APIBase)
		}
		c.wildcardKeys()
		return c.deploymentRest(d, pp, rd, defTimeout, defStreamTimeout), true
	}
	// LiteLLM's mode "responses" (model_info) is a model of the Responses
	// API alone, as its responses/ marker names one.
	viaResponses := rd.ModelInfo.Mode == "responses" && (info.Dialect == DialectOpenAI || info.Dialect == DialectAzure)
	for _, m := range info.Markers {
		if rest, ok := strings.CutPrefix(model, m.Prefix); ok && rest != "" {
			model, viaResponses = rest, viaResponses || m.Responses // the deployment's own name
			if m.Note != "" {
				c.warnf(pp+".model", "%s", m.Note)
			}
			break
		}
	}
	if !info.Bedrock && !info.SageMaker {
		p := rd.Params
		for _, k := range []struct{ key, value string }{{"aws_access_key_id", p.AWSAccessKeyID}, {"aws_secret_access_key", p.AWSSecretAccessKey},
			{"aws_session_token", p.AWSSessionToken}, {"aws_region_name", p.AWSRegionName}, {"aws_bedrock_runtime_endpoint", p.AWSRuntimeEndpoint},
			{"aws_profile_name", p.AWSProfileName}, {"aws_role_name", p.AWSRoleName}, {"aws_web_identity_token", p.AWSWebIdentityToken},
			{"aws_session_name", p.AWSSessionName}, {"aws_sts_endpoint", p.AWSSTSEndpoint}, {"model_id", p.ModelID},
			{"guardrailConfig", map[bool]string{true: "set"}[p.GuardrailConfig != nil]}} {
			if k.value != "" {
				c.warnf(at(k.key), "is for Amazon Bedrock's and SageMaker's deployments (bedrock/<model>); ignored for provider %q", prov)
			}
		}
	}
	if !info.Entra {
		p := rd.Params
		for _, k := range []struct{ key, value string }{{"azure_ad_token", p.AzureADToken}, {"tenant_id", p.TenantID}, {"client_id", p.ClientID},
			{"client_secret", p.ClientSecret}, {"azure_username", p.AzureUsername}, {"azure_password", p.AzurePassword}} {
			if k.value != "" {
				c.warnf(at(k.key), "is a Microsoft Entra ID credential, for Azure's deployments (azure/, azure_ai/); ignored for provider %q", prov)
			}
		}
	}
	if info.Vertex {
		return c.vertex(d, pp, prov, model, rd, defTimeout, defStreamTimeout)
	}
	if info.Bedrock {
		return c.bedrock(d, pp, prov, model, rd, at, defTimeout, defStreamTimeout)
	}
	if info.SageMaker {
		return c.sagemaker(d, pp, prov, model, rd, at, defTimeout, defStreamTimeout)
	}
	if info.Watsonx {
		return c.watsonx(d, pp, prov, model, rd, at, defTimeout, defStreamTimeout)
	}
	for _, k := range []struct{ key, value string }{{"project_id", rd.Params.ProjectID}, {"watsonx_project", rd.Params.WatsonxProject},
		{"space_id", rd.Params.SpaceID}, {"token", rd.Params.Token}, {"zen_api_key", rd.Params.ZenAPIKey}} {
		if k.value != "" {
			c.warnf(at(k.key), "is for IBM watsonx.ai's deployments (watsonx/<model>); ignored for provider %q", prov)
		}
	}
	d.Provider, d.Model, d.Dialect, d.Embeddings = prov, model, info.Dialect, info.Embeddings
	// By the model the deployment runs: an Azure deployment's base_model.
	mp := info.paramsOf(baseModel(model, rd))
	if viaResponses && !mp.ResponsesOnly {
		mp.ResponsesOnly, mp.Refuses = true, maps.Clone(mp.Refuses)
		if mp.Refuses == nil {
			mp.Refuses = map[string]string{}
		}
		maps.Copy(mp.Refuses, chatOnlyParams)
	}
	d.ParamRenames, d.Refuses = mp.Renames, mp.Refuses
	d.Fit, d.Fit.Renames, d.Fit.Refuses = mp, nil, nil
	d.FlattenContent, d.RefusesInMessages = info.FlattenContent, info.RefusesInMessages
	for _, r := range info.ModelRules {
		if strings.HasPrefix(model, r.Prefix) {
			// Another API at the same provider (Claude on Azure AI Foundry).
			d.Dialect, d.KeyHeader, d.Embeddings = r.Dialect, r.KeyHeader, false
			break
		}
	}
	d.APIKey = Secret(c.resolve(keyAt, rd.Params.APIKey))
	if d.APIKey == "" {
		if v, ok := c.firstEnv(info.KeyEnvs()); ok {
			d.APIKey = Secret(v) // as LiteLLM, which reads the provider's variable
		}
	}
	switch k := d.APIKey.Value(); {
	case k == "" && rd.Params.APIKey != "" && info.KeyEnv != "":
		// A variable set to "" (an environment_variables placeholder the
		// process environment was to fill): calls would go without a key.
		c.warnf(keyAt, "%s is empty: this deployment's calls go without a key, and %s will refuse them", rd.Params.APIKey, prov)
	case len(k) > 2 && k[0] == '<' && k[len(k)-1] == '>':
		// Documentation's placeholder (<my-openai-key>), copied as it is.
		c.warnf(keyAt, "is an example's placeholder (a name in angle brackets), not a key: %s will refuse this deployment's calls; set the key, or os.environ/NAME to read it from a variable", prov)
	case k != "" && len(k) < MinRedactLen:
		c.warnf(keyAt, "is shorter than %d characters, so it cannot be scrubbed from upstream error messages: fine for a placeholder such as EMPTY, not for a real key", MinRedactLen)
	}
	if info.Entra && !c.entra(&d, rd.Params, at) {
		return d, false
	}
	d.APIBase = strings.TrimRight(c.resolve(baseAt, rd.Params.APIBase), "/")
	if d.APIBase == "" {
		if v, ok := c.firstEnv(info.BaseEnvs()); ok {
			d.APIBase = strings.TrimRight(v, "/")
		}
	}
	if d.APIBase != "" {
		checked := d.APIBase
		if info.HostRules != nil {
			checked, _, _ = strings.Cut(checked, "?") // its query is kept (hostRules)
		}
		c.checkAPIBase(baseAt, checked)
		if d.Dialect == DialectOpenAI && rd.Params.APIBase != "" && info.PathSuffix == "" && info.CompatSuffix == "" {
			if why := openAIBasePath(d.APIBase); why != "" {
				c.warnf(baseAt, "%s", why)
			}
		}
		if info.CompatSuffix != "" && !strings.HasSuffix(d.APIBase, info.CompatSuffix) {
			c.warnf(baseAt, "breakerd calls %s's OpenAI-compatible API, at {api_base}/chat/completions, so api_base should end in %s (default %s); LiteLLM calls %s's native API at this address",
				prov, info.CompatSuffix, info.BaseURL, prov)
		}
	}
	if d.APIBase == "" {
		d.APIBase = info.BaseURL
		if before, after, ok := strings.Cut(d.APIBase, "{account}"); ok {
			// The provider's address names the account (Cloudflare's).
			account, set := c.env(info.AccountEnv)
			if !set || account == "" {
				c.leaveOut(d, pp+".model", fmt.Sprintf("provider %q needs its account: api_base is not set, nor $%s", prov, info.AccountEnv),
					"set either to call this deployment")
				return d, false
			}
			d.APIBase = before + url.PathEscape(account) + after
		}
	}
	if d.APIBase != "" && info.PathSuffix != "" && !strings.HasSuffix(d.APIBase, info.PathSuffix) {
		d.APIBase += info.PathSuffix
	}
	switch {
	case d.APIBase != "" || !credOK:
	case rd.Params.APIBase == "" && info.BaseEnv != "":
		// The address LiteLLM would read from the environment is not
		// there either: a variable that is not set, as above.
		c.leaveOut(d, pp+".model", fmt.Sprintf("provider %q needs the address of its server: api_base is not set, nor $%s", prov, strings.Join(info.BaseEnvs(), " or $")),
			"set either to call this deployment")
		return d, false
	default:
		c.errf(pp+".api_base", "is required for %s (the address of the server)", prov)
	}
	if d.Mode == "rerank" && prov == "openai" && d.APIBase == info.BaseURL {
		// OpenAI has none: openai/ is for a server that has one.
		at := p + ".model_info.mode"
		if rd.ModelInfo.Mode == "" {
			at = pp + ".model" // a rerank model by its name
		}
		c.leaveOut(d, at, `a rerank model needs a rerank API, which OpenAI's does not have`,
			"set api_base to a server that has one (vLLM, Infinity), or write cohere/, jina_ai/ or hosted_vllm/")
		return d, false
	}
	d.APIVersion = c.resolve(versionAt, rd.Params.APIVersion)
	if d.Dialect == DialectAzure && d.APIVersion != "" && !AzureV1(d.APIVersion) && !azureDatedVersion.MatchString(d.APIVersion) {
		// Azure answers an api-version it does not know with a 404
		// "Resource not found", which is not told from an unknown id.
		c.warnf(versionAt, "%q is not an Azure OpenAI api-version (a date, 2025-04-01-preview or 2024-10-21, or v1, latest, preview): Azure answers every call 404 \"Resource not found\"",
			d.APIVersion)
	}
	if d.Dialect == DialectAzure && d.APIVersion == "" {
		d.APIVersion = AzureDefaultAPIVersion
		if v, ok := c.env("AZURE_API_VERSION"); ok && v != "" {
			d.APIVersion = v
		}
	}
	azureRenames(&d)
	if info.HostRules != nil && d.APIBase != "" {
		hostRules(&d, info)
	}
	if d.Dialect == DialectAnthropic && d.KeyHeader != "" {
		// An api_base given as Anthropic's whole URL is cut to its base,
		// as LiteLLM cuts it.
		d.APIBase = strings.TrimSuffix(strings.TrimSuffix(d.APIBase, "/messages"), "/v1")
	}
	d = c.deploymentRest(d, pp, rd, defTimeout, defStreamTimeout)
	keyHeaders(&d, info)
	return d, true
}

// hostRules fits a deployment to its provider's rules for the host its
// api_base names (Azure AI Foundry's: the key in an api-key header, and
// its API under /models, at *.services.ai.azure.com), as LiteLLM does: an
// api_base given whole (…/chat/completions?api-version=…) is cut to its
// base, and api_version, or the version it named, is sent as api-version.
func hostRules(d *Deployment, info ProviderInfo) {
	base, query, _ := strings.Cut(d.APIBase, "?")
	base = strings.TrimSuffix(strings.TrimRight(base, "/"), "/chat/completions")
	q, _ := url.ParseQuery(query)
	if d.APIVersion != "" && q.Get("api-version") == "" {
		q.Set("api-version", d.APIVersion)
	}
	d.APIVersion, d.Query = q.Get("api-version"), q.Encode()
	host := ""
	if u, err := url.Parse(base); err == nil {
		host = u.Hostname()
	}
	for _, r := range info.HostRules {
		if strings.HasSuffix(host, r.Suffix) {
			d.KeyHeader = r.KeyHeader
			if r.Path != "" && !strings.HasSuffix(base, r.Path) {
				base += r.Path
			}
			break
		}
	}
	d.APIBase = base
}

// leaveOut warns that deployment d is left out of routing, why and, when
// there is one, what to do; the first reason stays with d's group, for the
// error a request for it gets if none of its deployments is left in.
func (c *converter) leaveOut(d Deployment, path, why string, advice ...string) {
	msg, fix := why+": this deployment is left out of routing", why
	for _, a := range advice {
		msg, fix = msg+"; "+a, fix+"; "+a
	}
	c.warnf(path, "%s", msg)
	// When no deployment is left, the config fails with these: the
	// advice is the fix.
	c.leftOutErrs = append(c.leftOutErrs, c.src.errorAt(c.at(path), path, fix))
	if c.leftOut == nil {
		c.leftOut, c.leftOutAt = map[string]string{}, map[int]bool{}
	}
	c.leftOutAt[d.Index] = true
	if _, ok := c.leftOut[d.Group]; !ok {
		c.leftOut[d.Group] = why
	}
}

// credentialList checks LiteLLM's credential_list: each entry needs a
// name, and a name given twice is a warning (deployments get the first,
// as in LiteLLM).
func (c *converter) credentialList(list []rawCredential) {
	c.creds = list
	first := map[string]int{}
	for i, cr := range list {
		p := fmt.Sprintf("credential_list[%d]", i)
		switch j, dup := first[cr.Name]; {
		case cr.Name == "":
			c.errf(p+".credential_name", "is required: deployments name a credential by it (litellm_credential_name)")
		case dup:
			c.warnf(p+".credential_name", "%q is also credential_list[%d]'s name: deployments naming it get that one's values, as in LiteLLM", cr.Name, j)
		default:
			first[cr.Name] = i
		}
	}
}

// credential fills in p's connection keys (api_key, api_base,
// api_version, the AWS ones and the Entra ID ones) from the credential_list entry p names,
// where p does not set them, and returns where each key's value is: its
// litellm_params path, or the credential's.
func (c *converter) credential(pp string, p *rawParams) (at func(key string) string) {
	from := map[string]string{}
	at = func(key string) string { return cmp.Or(from[key], pp+"."+key) }
	name := p.CredentialName
	if name == "" {
		return at
	}
	j := slices.IndexFunc(c.creds, func(cr rawCredential) bool { return cr.Name == name })
	if j < 0 {
		var names []string
		for _, cr := range c.creds {
			names = append(names, cr.Name)
		}
		msg := fmt.Sprintf("no credential named %q in credential_list", name)
		if n := nearest(name, names); n != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", n)
		}
		c.errf(pp+".litellm_credential_name", "%s; breakerd reads credentials from the config only, not from LiteLLM's database", msg)
		return at
	}
	v := c.creds[j].Values
	for _, f := range []struct {
		own  *string
		cred string
		key  string
	}{{&p.APIKey, v.APIKey, "api_key"}, {&p.APIBase, v.APIBase, "api_base"}, {&p.APIVersion, v.APIVersion, "api_version"},
		{&p.AWSAccessKeyID, v.AWSAccessKeyID, "aws_access_key_id"}, {&p.AWSSecretAccessKey, v.AWSSecretAccessKey, "aws_secret_access_key"},
		{&p.AWSSessionToken, v.AWSSessionToken, "aws_session_token"}, {&p.AWSRegionName, v.AWSRegionName, "aws_region_name"},
		{&p.AWSRuntimeEndpoint, v.AWSRuntimeEndpoint, "aws_bedrock_runtime_endpoint"}, {&p.AWSProfileName, v.AWSProfileName, "aws_profile_name"},
		{&p.AWSRoleName, v.AWSRoleName, "aws_role_name"}, {&p.AWSWebIdentityToken, v.AWSWebIdentityToken, "aws_web_identity_token"},
		{&p.AWSSessionName, v.AWSSessionName, "aws_session_name"}, {&p.AWSSTSEndpoint, v.AWSSTSEndpoint, "aws_sts_endpoint"},
		{&p.AzureADToken, v.AzureADToken, "azure_ad_token"}, {&p.TenantID, v.TenantID, "tenant_id"}, {&p.ClientID, v.ClientID, "client_id"},
		{&p.ClientSecret, v.ClientSecret, "client_secret"}, {&p.AzureUsername, v.AzureUsername, "azure_username"},
		{&p.AzurePassword, v.AzurePassword, "azure_password"}} {
		if *f.own == "" && f.cred != "" {
			*f.own, from[f.key] = f.cred, fmt.Sprintf("credential_list[%d].credential_values.%s", j, f.key)
		}
	}
	return at
}

// deploymentRest reads a deployment's settings other than its model, key
// and base: timeouts, limits, weights and prices.
func (c *converter) deploymentRest(d Deployment, pp string, rd rawDeployment, defTimeout, defStreamTimeout time.Duration) Deployment {
	p := fmt.Sprintf("model_list[%d]", d.Index)
	d.Timeout = c.duration(pp+".timeout", rd.Params.Timeout, cmp.Or(defTimeout, DefaultTimeout), false)
	d.StreamTimeout = c.duration(pp+".stream_timeout", rd.Params.StreamTimeout,
		cmp.Or(defStreamTimeout, min(d.Timeout, DefaultStreamTimeout)), false)
	if r := c.resolve(pp+".region_name", rd.Params.RegionName); r != "" {
		d.Region = strings.ToLower(r)
	} else if a := d.AWSAuth(); a != nil {
		d.Region = regionOf(a.Region)
	}
	d.FirstChunkTimeout = c.duration(pp+".ttft_timeout", rd.Params.TTFTTimeout, c.firstChunkTimeout, false)
	if info, _ := LookupProvider(d.Provider); info.LoadsModels && d.FirstChunkTimeout == 0 && rd.Params.StreamTimeout == nil && defStreamTimeout == 0 {
		// Its first chunk may wait for the model's weights to load; a
		// stall after it is a hang as anywhere.
		d.FirstChunkTimeout = min(d.Timeout, LocalStreamTimeout)
	}
	d.ChunkIdleTimeout = c.duration(pp+".stream_idle_timeout", rd.Params.StreamIdleTimeout, c.chunkIdleTimeout, false)
	d.MaxParallel = c.count(pp+".max_parallel_requests", rd.Params.MaxParallelRequests, c.maxParallel, false)
	if v := rd.Params.NumRetries; v != nil {
		n := c.count(pp+".num_retries", v, 0, true)
		d.NumRetries = &n
	}
	if v := rd.Params.Order; v != nil {
		n := c.count(pp+".order", v, 0, true)
		d.Order = &n
	}
	d.Tags = rd.Params.Tags
	d.Budget = c.deploymentBudget(pp, rd.Params)
	params, where := rd.Params, map[string]string{"weight": pp, "rpm": pp, "tpm": pp}
	if params.RPM == nil && rd.RPM != nil {
		params.RPM, where["rpm"] = rd.RPM, p
	}
	if params.TPM == nil && rd.TPM != nil {
		params.TPM, where["tpm"] = rd.TPM, p
	}
	d.Weight = c.weight(where, params)
	if v := params.RPM; v != nil && *v > 0 {
		d.RPM, d.RPMKey = *v, where["rpm"]+".rpm"
	}
	if v := params.TPM; v != nil && *v > 0 {
		d.TPM, d.TPMKey = *v, where["tpm"]+".tpm"
	}
	d.DefaultMaxTokens = c.count(pp+".default_max_tokens", rd.Params.MaxTokens, DefaultMaxTokens, false)
	for _, k := range []struct { // requestDefaults, each read from its field
		key string
		v   any
	}{{"temperature", rd.Params.Temperature}, {"max_tokens", rd.Params.MaxTokensParam},
		{"max_completion_tokens", rd.Params.MaxCompletion}, {"top_p", rd.Params.TopP}, {"seed", rd.Params.Seed},
		{"stop", rd.Params.Stop}, {"frequency_penalty", rd.Params.FrequencyPenalty},
		{"presence_penalty", rd.Params.PresencePenalty}, {"response_format", rd.Params.ResponseFormat},
		{"thinking", rd.Params.Thinking}, {"reasoning_effort", rd.Params.ReasoningEffort}} {
		if k.v == nil {
			continue
		}
		c.setJSON(pp+"."+k.key, &d.Defaults, k.key, k.v)
	}
	for _, k := range slices.Sorted(maps.Keys(rd.Params.ExtraBody)) {
		at := pp + ".extra_body." + k
		if slices.Contains([]string{"model", "messages", "stream", "input"}, k) {
			c.errf(at, "is the request's own; extra_body adds parameters to it")
			continue
		}
		if _, set := d.Defaults[k]; set {
			c.errf(at, "is also set as litellm_params.%s: set it once", k)
			continue
		}
		c.setJSON(at, &d.Defaults, k, rd.Params.ExtraBody[k])
	}
	c.deploymentTLS(pp, &d, rd.Params.SSLVerify)
	if v := rd.Params.HTTP2PriorKnowledge; v != nil && *v {
		if !strings.HasPrefix(d.APIBase, "http://") {
			c.errf(pp+".http2_prior_knowledge", "applies only to an http:// api_base (cleartext HTTP/2); an https:// upstream already speaks HTTP/2 when the server offers it")
		}
		d.HTTP2PriorKnowledge = true
	}
	c.prices(&d, p, rd)
	d.Check = c.check(p, d, rd.ModelInfo)
	d.MaxInputTokens = c.maxInputTokens(&d, p, rd)
	d.Headers, d.HeaderSecrets = c.headers(pp, rd.Params, d.Dialect)
	d.DropParams = c.dropParams
	d.MergeReasoning = rd.Params.MergeReasoning != nil && *rd.Params.MergeReasoning
	d.StreamUsage = c.streamUsage
	d.FetchPrivateURLs = c.fetchPrivate
	var always []any
	for _, k := range rd.Params.AdditionalDropParams {
		always = append(always, k)
	}
	alwaysAt := pp + ".additional_drop_params"
	switch v := rd.Params.DropParams.(type) {
	case nil:
	case bool:
		d.DropParams = v
	case string: // os.environ/NAME
		b, err := strconv.ParseBool(c.resolve(pp+".drop_params", v))
		if err != nil {
			c.errf(pp+".drop_params", "must be true or false")
		}
		d.DropParams = b
	case []any:
		// drop_params: [tool_choice] names parameters to drop: LiteLLM's
		// additional_drop_params, which this is read as.
		if len(always) > 0 {
			c.errf(pp+".drop_params", "is a list of parameters, and additional_drop_params is too: write them in one")
		}
		always, alwaysAt = v, pp+".drop_params"
	default:
		c.errf(pp+".drop_params", "must be true or false (or a list of parameters to drop, as additional_drop_params), got %v", v)
	}
	d.CachePoints = c.cachePoints(pp+".cache_control_injection_points", rd.Params.CacheControlInjectionPoints)
	c.claudeSampling(pp, &d)
	c.toolsReasoning(pp, &d)
	for i, x := range always {
		at := fmt.Sprintf("%s[%d]", alwaysAt, i)
		switch k, ok := x.(string); {
		case !ok || k == "":
			c.errf(at, "must be the name of a request parameter, got %v", x)
		case slices.Contains([]string{"model", "messages", "input", "stream"}, k):
			c.errf(at, "%q is the request's own and cannot be dropped", k)
		default:
			d.AlwaysDrop = append(d.AlwaysDrop, k)
		}
	}
	return d
}

// credentialName matches the names of headers and parameters that carry
// credentials: a "token", but not "tokens" (max_tokens counts them).
var credentialName = regexp.MustCompile(`(?i)auth|key|token(?:$|[^s])|secret|passw|cookie|signature|credential|session`)

// CredentialName reports whether a header or request parameter of this
// name likely carries a credential, so that its value is never printed.
func CredentialName(name string) bool { return credentialName.MatchString(name) }

// reservedHeaders are the headers of an upstream call that breakerd and
// Go's HTTP client set themselves: the body's framing and the connection.
var reservedHeaders = []string{"Host", "Content-Length", "Content-Type", "Transfer-Encoding", "Connection",
	"Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Upgrade"}

// headers reads litellm_params.headers and extra_headers (whose values
// win, as in LiteLLM), keyed by canonical name, and which of their values
// are secrets (Deployment.HeaderSecrets).
func (c *converter) headers(pp string, p rawParams, dialect Dialect) (h map[string]Secret, secrets []Secret) {
	if p.Organization != "" {
		// OpenAI's organization travels as a header; a catch-all
		// deployment's dialect is known per request only.
		if dialect == DialectOpenAI || dialect == "" {
			h = map[string]Secret{"Openai-Organization": Secret(c.resolve(pp+".organization", p.Organization))}
		} else {
			c.warnf(pp+".organization", "applies to OpenAI's API only; ignored for %s", dialect)
		}
	}
	ua := c.resolve(pp+".custom_user_agent", p.CustomUserAgent)
	if v, ok := c.env("ANTHROPIC_USER_AGENT"); ok && ua == "" && dialect == DialectAnthropic {
		ua = v // LiteLLM's, for every Anthropic deployment without its own
	}
	switch {
	case strings.ContainsAny(ua, "\r\n\x00"):
		c.errf(pp+".custom_user_agent", "must be one line: a header value cannot hold a line break")
	case ua != "":
		if h == nil {
			h = map[string]Secret{}
		}
		h["User-Agent"] = Secret(ua)
	}
	for _, src := range []struct {
		key string
		m   map[string]any
	}{{"headers", p.Headers}, {"extra_headers", p.ExtraHeaders}} {
		for _, name := range slices.Sorted(maps.Keys(src.m)) {
			at := pp + "." + src.key + "." + name
			var v string
			secret := CredentialName(name)
			switch x := src.m[name].(type) {
			case string:
				v = c.resolve(at, x)
				secret = secret || v != x // read from the environment
			case map[string]any, []any, nil:
				c.errf(at, "must be a header value (a string)")
				continue
			default:
				v = fmt.Sprint(x) // X-Priority: 1
			}
			canon := textproto.CanonicalMIMEHeaderKey(name)
			switch {
			case !validHeaderName(name):
				c.errf(at, "%q is not an HTTP header name (letters, digits and !#$%%&'*+-.^_`|~ only)", name)
			case slices.Contains(reservedHeaders, canon):
				c.errf(at, "breakerd sets %s on every upstream call itself", canon)
			case strings.ContainsAny(v, "\r\n\x00"):
				c.errf(at, "must be one line: a header value cannot hold a line break")
			default:
				if h == nil {
					h = map[string]Secret{}
				}
				h[canon] = Secret(v)
				if secret {
					secrets = append(secrets, Secret(v))
				}
			}
		}
	}
	return h, secrets
}

// validHeaderName reports whether name is an HTTP header name: a token
// (RFC 9110, section 5.1).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r > 0x7e || !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}

// prices sets d's prices in USD per token: litellm_params'
// input_cost_per_token, output_cost_per_token, cache_read_input_token_cost
// and cache_creation_input_token_cost, else model_info's (where LiteLLM's
// cost tracking docs put them), else the list prices of its base_model
// (litellm_params' or model_info's: the model an Azure deployment, named
// freely, runs) or of its model. A configured input price with no cache
// prices of its own prices cached tokens as input: the table's cache
// prices belong to its list price. d.Priced is false when none of these
// gives a price.
func (c *converter) prices(d *Deployment, p string, rd rawDeployment) {
	m, priced := knownModel(listedModel(d, rd))
	in, out, read, write, hour := m.in, m.out, m.read, m.write, 0.0
	pp := p + ".litellm_params"
	inSet, readSet, writeSet, hourSet, configured := false, false, false, false, false
	for _, f := range []struct {
		v   *float64
		at  string
		to  *float64
		set *bool
	}{
		{rd.ModelInfo.InputCostPerToken, p + ".model_info.input_cost_per_token", &in, &inSet},
		{rd.ModelInfo.OutputCostPerToken, p + ".model_info.output_cost_per_token", &out, nil},
		{rd.ModelInfo.CacheReadCostPerToken, p + ".model_info.cache_read_input_token_cost", &read, &readSet},
		{rd.ModelInfo.CacheWriteCostPerToken, p + ".model_info.cache_creation_input_token_cost", &write, &writeSet},
		{rd.ModelInfo.CacheWriteHourCostPerToken, p + ".model_info.cache_creation_input_token_cost_above_1hr", &hour, &hourSet},
		{rd.Params.InputCostPerToken, pp + ".input_cost_per_token", &in, &inSet},
		{rd.Params.OutputCostPerToken, pp + ".output_cost_per_token", &out, nil},
		{rd.Params.CacheReadCostPerToken, pp + ".cache_read_input_token_cost", &read, &readSet},
		{rd.Params.CacheWriteCostPerToken, pp + ".cache_creation_input_token_cost", &write, &writeSet},
		{rd.Params.CacheWriteHourCostPerToken, pp + ".cache_creation_input_token_cost_above_1hr", &hour, &hourSet},
	} {
		if f.v == nil {
			continue
		}
		if *f.v < 0 {
			c.errf(f.at, "must not be negative, got %v", *f.v)
		}
		*f.to, priced, configured = *f.v, true, true
		if f.set != nil {
			*f.set = true
		}
	}
	if !readSet && (inSet || m.read == 0) {
		read = in
	}
	if !writeSet && (inSet || m.write == 0) {
		write = in
	}
	if !hourSet {
		hour = m.hourPrice(in, write)
	}
	d.InputCostPerToken, d.OutputCostPerToken, d.CacheReadCostPerToken, d.CacheWriteCostPerToken, d.Priced = in, out, read, write, priced
	d.CacheWriteHourCostPerToken = hour
	// The table's long-context prices go with its prices; configured
	// ones replace them.
	if d.LongContext = c.priceTiers(d, p, rd, m); d.LongContext == nil && !configured {
		d.LongContext = m.long
	}
	d.ServiceTiers = c.serviceTiers(d, p, rd)
	if ClaudeOf(baseModel(d.Model, rd)).Geo {
		d.USOnlyPrice = USOnlyPrice
	}
	if _, set := d.ServiceTiers["fast"]; m.fast > 0 && !set {
		// Anthropic's fast mode: a multiple of the model's prices (its
		// cache's too), whatever they are.
		if d.ServiceTiers == nil {
			d.ServiceTiers = map[string]PriceTier{}
		}
		d.ServiceTiers["fast"] = PriceTier{Input: in * m.fast, Output: out * m.fast, CacheRead: read * m.fast, CacheWrite: write * m.fast,
			CacheWriteHour: hour * m.fast}
	}
	// Batches cost half, unless the config says what they cost.
	d.BatchInputCostPerToken, d.BatchOutputCostPerToken = in/2, out/2
	for _, f := range []struct {
		v  *float64
		at string
		to *float64
	}{
		{rd.ModelInfo.InputCostPerTokenBatches, p + ".model_info.input_cost_per_token_batches", &d.BatchInputCostPerToken},
		{rd.ModelInfo.OutputCostPerTokenBatches, p + ".model_info.output_cost_per_token_batches", &d.BatchOutputCostPerToken},
		{rd.Params.InputCostPerTokenBatches, pp + ".input_cost_per_token_batches", &d.BatchInputCostPerToken},
		{rd.Params.OutputCostPerTokenBatches, pp + ".output_cost_per_token_batches", &d.BatchOutputCostPerToken},
	} {
		if f.v == nil {
			continue
		}
		if *f.v < 0 {
			c.errf(f.at, "must not be negative, got %v", *f.v)
		}
		*f.to = *f.v
	}
}

// tierPrices are the prices LiteLLM's long-context keys name, as
// <price>_above_<N>k_tokens, in the order of PriceTier's fields.
var tierPrices = []string{"input_cost_per_token", "output_cost_per_token", "cache_read_input_token_cost", "cache_creation_input_token_cost",
	"cache_creation_input_token_cost_above_1hr"}

// tierKey parses a LiteLLM long-context price's key,
// input_cost_per_token_above_200k_tokens (or _above_200000_tokens, as
// LiteLLM reads it too): which of tierPrices it is, and its threshold.
func tierKey(key string) (price, above int, ok bool) {
	i := strings.LastIndex(key, "_above_")
	if i < 0 {
		return 0, 0, false
	}
	name, rest := key[:i], key[i+len("_above_"):]
	price = slices.Index(tierPrices, name)
	n, tokens := strings.CutSuffix(rest, "_tokens")
	if price < 0 || !tokens {
		return 0, 0, false
	}
	unit := 1
	if k, ok := strings.CutSuffix(n, "k"); ok {
		n, unit = k, 1000
	}
	above, err := strconv.Atoi(n)
	if err != nil || above < 1 || strings.ContainsAny(n, "+-") {
		return 0, 0, false
	}
	return price, above * unit, true
}

// serviceTierKey parses a LiteLLM service tier's price key,
// input_cost_per_token_flex or _priority: which of tierPrices it is, and
// the tier.
func serviceTierKey(key string) (price int, tier string, ok bool) {
	for _, tier := range []string{"flex", "priority", "fast"} {
		if name, found := strings.CutSuffix(key, "_"+tier); found {
			if price = slices.Index(tierPrices[:4], name); price >= 0 {
				return price, tier, true
			}
		}
	}
	return 0, "", false
}

// pricedKey reports whether key is one of LiteLLM's prices whose name
// holds a tier (tierKey, serviceTierKey), which the inline maps of
// litellm_params and model_info hold.
func pricedKey(key string) bool {
	_, _, long := tierKey(key)
	_, _, service := serviceTierKey(key)
	return long || service
}

// serviceTiers reads a deployment's service tier prices from model_info,
// then litellm_params (whose win): input_cost_per_token_flex,
// output_cost_per_token_priority and their kin, each price the
// deployment's own (d's) where the tier sets none; nil when the config
// sets none.
func (c *converter) serviceTiers(d *Deployment, p string, rd rawDeployment) map[string]PriceTier {
	var out map[string]PriceTier
	for _, m := range []struct {
		keys map[string]any
		at   string
	}{{rd.ModelInfo.Keys, p + ".model_info."}, {rd.Params.Keys, p + ".litellm_params."}} {
		for _, key := range slices.Sorted(maps.Keys(m.keys)) {
			price, tier, ok := serviceTierKey(key)
			if !ok {
				continue
			}
			v, ok := number(m.keys[key])
			if !ok || v < 0 {
				c.errf(m.at+key, "must be a price in USD per token, not negative, got %v", m.keys[key])
				continue
			}
			if out == nil {
				out = map[string]PriceTier{}
			}
			pt, seen := out[tier]
			if !seen {
				pt = PriceTier{Input: d.InputCostPerToken, Output: d.OutputCostPerToken, CacheRead: d.CacheReadCostPerToken,
					CacheWrite: d.CacheWriteCostPerToken, CacheWriteHour: d.CacheWriteHourCostPerToken}
			}
			*[4]*float64{&pt.Input, &pt.Output, &pt.CacheRead, &pt.CacheWrite}[price] = v
			out[tier] = pt
		}
	}
	return out
}

// priceTiers reads a deployment's long-context prices from
// litellm_params, else model_info, where LiteLLM's cost tracking takes
// them: input_cost_per_token_above_200k_tokens, and beside it the
// output_cost_per_token, cache_read_input_token_cost,
// cache_creation_input_token_cost and
// cache_creation_input_token_cost_above_1hr of the same threshold, each
// the deployment's own (d's) where not set, but the 1-hour cache's twice
// the tier's input price for an hourly model m (Claude). A threshold without its
// input price is ignored, as LiteLLM ignores it, with a warning; nil when
// the config sets none.
func (c *converter) priceTiers(d *Deployment, p string, rd rawDeployment, m modelFacts) []PriceTier {
	type tier struct {
		at    string // the first key's path
		price [5]*float64
	}
	byAbove := map[int]*tier{}
	for _, m := range []struct {
		keys map[string]any
		at   string
	}{{rd.Params.Keys, p + ".litellm_params."}, {rd.ModelInfo.Keys, p + ".model_info."}} {
		for _, key := range slices.Sorted(maps.Keys(m.keys)) {
			price, above, ok := tierKey(key)
			if !ok {
				continue
			}
			at := m.at + key
			v, ok := number(m.keys[key])
			if !ok || v < 0 {
				c.errf(at, "must be a price in USD per token, not negative, got %v", m.keys[key])
				continue
			}
			t := byAbove[above]
			if t == nil {
				t = &tier{at: at}
				byAbove[above] = t
			}
			if t.price[price] == nil { // litellm_params' first
				t.price[price] = &v
			}
		}
	}
	var out []PriceTier
	for _, above := range slices.Sorted(maps.Keys(byAbove)) {
		t := byAbove[above]
		if t.price[0] == nil {
			c.warnf(t.at, "is ignored without %s%s beside it (as LiteLLM ignores it)", tierPrices[0], PriceTier{Above: above}.Suffix())
			continue
		}
		pt := PriceTier{Above: above, Input: *t.price[0], Output: d.OutputCostPerToken, CacheRead: d.CacheReadCostPerToken,
			CacheWrite: d.CacheWriteCostPerToken}
		pt.CacheWriteHour = m.hourPrice(pt.Input, d.CacheWriteHourCostPerToken)
		for i, to := range []*float64{&pt.Output, &pt.CacheRead, &pt.CacheWrite, &pt.CacheWriteHour} {
			if v := t.price[i+1]; v != nil {
				*to = *v
			}
		}
		out = append(out, pt)
	}
	return out
}

// number reads a YAML scalar as a float: a number, or a string holding
// one ("2e-6", which YAML 1.1 reads as a string, as LiteLLM takes it).
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case uint64:
		return float64(n), true
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

// maxInputTokens returns a deployment's context window for its input:
// litellm_params' max_input_tokens, else model_info's, else the built-in
// table's for its base_model or model; 0 when none gives one.
func (c *converter) maxInputTokens(d *Deployment, p string, rd rawDeployment) int {
	for _, f := range []struct {
		v  *int
		at string
	}{{rd.Params.MaxInputTokens, p + ".litellm_params.max_input_tokens"}, {rd.ModelInfo.MaxInputTokens, p + ".model_info.max_input_tokens"}} {
		if f.v == nil {
			continue
		}
		if *f.v < 1 {
			c.errf(f.at, "must be at least 1, got %d", *f.v)
		}
		return *f.v
	}
	m, _ := knownModel(listedModel(d, rd))
	return m.window
}

// firstEnv returns the value of the first of names that is set and not
// empty, as LiteLLM's get_secret_str(A) or get_secret_str(B) reads them.
func (c *converter) firstEnv(names []string) (string, bool) {
	for _, n := range names {
		if v, ok := c.env(n); ok && v != "" {
			return v, true
		}
	}
	return "", false
}

// wildcardKeys reads, once, the key of every provider from its variable
// (LiteLLM's way for a catch-all deployment, model: "*").
func (c *converter) wildcardKeys() {
	if c.providerKeys != nil {
		return
	}
	c.providerKeys = map[string]Secret{}
	for _, p := range providerTable {
		if v, ok := c.firstEnv(p.KeyEnvs()); ok {
			c.providerKeys[p.Name] = Secret(v)
		}
	}
}

// weight reads LiteLLM's simple-shuffle weight: weight, else rpm, else
// tpm. where holds the path of the mapping each key was read from.
func (c *converter) weight(where map[string]string, p rawParams) float64 {
	w := 0.0
	for _, k := range []struct {
		key string
		v   *float64
	}{{"weight", p.Weight}, {"rpm", p.RPM}, {"tpm", p.TPM}} { // the first set wins
		if k.v == nil {
			continue
		}
		if *k.v <= 0 {
			c.errf(where[k.key]+"."+k.key, "must be greater than 0, got %v", *k.v)
			continue
		}
		if w == 0 {
			w = *k.v
		}
	}
	return w
}

// checkAPIBase rejects an api_base that cannot be a base URL. Paths are
// appended to it, so a query string or fragment would end up in the middle
// of the URL. The value is never echoed: it may come from the environment
// and carry a token.
// fileStores reads LiteLLM's files_settings: each entry an account of
// OpenAI or Azure OpenAI (the providers whose Files and Batch APIs
// breakerd serves), its key and address as a deployment's are, from the
// entry or the provider's variables.
func (c *converter) fileStores(raw []rawFilesSetting) []Deployment {
	var out []Deployment
	seen := map[string]int{}
	for i, e := range raw {
		p := fmt.Sprintf("files_settings[%d]", i)
		prov := cmp.Or(c.resolve(p+".custom_llm_provider", e.Provider), "openai")
		info, ok := LookupProvider(prov)
		if !ok || (prov != "openai" && info.Dialect != DialectAzure) {
			c.warnf(p+".custom_llm_provider", "breakerd keeps files at openai and azure accounts only; this entry is ignored")
			continue
		}
		d := Deployment{Name: FileStoreGroup + "/" + prov, Group: FileStoreGroup, Provider: prov, Dialect: info.Dialect, Index: -1,
			Timeout: DefaultTimeout, StreamTimeout: DefaultStreamTimeout}
		if seen[prov]++; seen[prov] > 1 {
			d.Name = fmt.Sprintf("%s#%d", d.Name, seen[prov])
		}
		d.APIKey = Secret(c.resolve(p+".api_key", e.APIKey))
		if v, ok := c.firstEnv(info.KeyEnvs()); d.APIKey == "" && ok {
			d.APIKey = Secret(v)
		}
		d.APIBase = strings.TrimRight(c.resolve(p+".api_base", e.APIBase), "/")
		if v, ok := c.firstEnv(info.BaseEnvs()); d.APIBase == "" && ok {
			d.APIBase = strings.TrimRight(v, "/")
		}
		switch {
		case d.APIBase != "":
			c.checkAPIBase(p+".api_base", d.APIBase)
		case info.BaseURL != "":
			d.APIBase = info.BaseURL
		default:
			c.errf(p+".api_base", "is required for %s (the address of its resource)", prov)
		}
		d.APIVersion = c.resolve(p+".api_version", e.APIVersion)
		if d.Dialect == DialectAzure && d.APIVersion == "" {
			d.APIVersion = AzureDefaultAPIVersion
			if v, ok := c.env("AZURE_API_VERSION"); ok && v != "" {
				d.APIVersion = v
			}
		}
		out = append(out, d)
	}
	return out
}

func (c *converter) checkAPIBase(path, base string) {
	u, err := url.Parse(base)
	switch {
	case err != nil:
		c.errf(path, "is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		c.errf(path, "must start with http:// or https:// (e.g. http://localhost:8000/v1)")
	case u.Host == "":
		c.errf(path, "has no host")
	case u.RawQuery != "" || u.ForceQuery:
		c.errf(path, "must not have a query string: breakerd appends the endpoint path to it (for azure, set api_version instead of ?api-version=)")
	case u.Fragment != "":
		c.errf(path, "must not have a #fragment")
	case u.User != nil:
		c.errf(path, "must not carry credentials; use api_key")
	}
}

// azureDatedVersion is the form of Azure OpenAI's dated api-versions.
var azureDatedVersion = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(-preview)?$`)

// endpointPaths are the paths breakerd appends to an OpenAI-compatible
// api_base: one that already ends in one was given whole.
var endpointPaths = []string{"/chat/completions", "/completions", "/embeddings", "/responses"}

// openAIBasePath says what is likely wrong with the path of base, an
// OpenAI-compatible server's api_base, which breakerd appends each
// endpoint's path to ("" when nothing is): none at all (the servers that
// speak the API serve it under /v1), /v1 twice, or an endpoint's path
// already. Such a deployment's calls get a 404, which opens its circuit.
func openAIBasePath(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	path := strings.TrimRight(u.Path, "/")
	for _, p := range endpointPaths {
		if strings.HasSuffix(path, p) {
			return fmt.Sprintf("ends in %s, which breakerd appends to it (calls would go to %s%s): write %s", p, base, p, strings.TrimSuffix(base, p))
		}
	}
	switch {
	case strings.Contains(path+"/", "/v1/v1/"):
		return fmt.Sprintf("has /v1 twice, so calls go to %s/chat/completions: write %s", base, strings.Replace(base, "/v1/v1", "/v1", 1))
	case path == "":
		return fmt.Sprintf("has no path, so calls go to %s/chat/completions: the servers that speak OpenAI's API (vLLM, SGLang, LM Studio, "+
			"llama.cpp, LocalAI) serve it under /v1; write %s/v1, unless this one serves it at its root", base, base)
	}
	return ""
}

// strategies are LiteLLM's routing strategies, all honoured.
var strategies = []string{"simple-shuffle", "least-cost", "ordered", "least-busy", "latency-based-routing",
	"usage-based-routing", "usage-based-routing-v2"}

// strategyNames maps other names configs use to a strategy: LiteLLM's
// Router calls least-cost cost-based-routing, and priority is ordered.
// provider-budget-routing shuffles among the deployments whose provider
// is within budget: simple-shuffle, with provider_budget_config passing
// the others over (as it does with any strategy).
var strategyNames = map[string]struct{ strategy, warning string }{
	"":                        {strategy: "simple-shuffle"},
	"priority":                {strategy: "ordered"},
	"cost-based-routing":      {strategy: "least-cost"},
	"provider-budget-routing": {strategy: "simple-shuffle"},
}

// strategy reads a routing_strategy and its routing_strategy_args, at
// path (router_settings, or one of its routing_groups).
func (c *converter) strategy(path, name string, args map[string]any) GroupStrategy {
	name = c.resolve(path+".routing_strategy", name)
	st := GroupStrategy{Strategy: name}
	if n, ok := strategyNames[name]; ok {
		st.Strategy = n.strategy
		if n.warning != "" {
			c.warnf(path+".routing_strategy", "%s", n.warning)
		}
	}
	if !slices.Contains(strategies, st.Strategy) {
		msg := fmt.Sprintf("unknown routing strategy %q (supported: %s)", name, strings.Join(strategies, ", "))
		if s := nearest(name, strategies); s != "" {
			msg = fmt.Sprintf("unknown routing strategy %q (did you mean %q?)", name, s)
		}
		c.errf(path+".routing_strategy", "%s", msg)
	}
	for _, k := range slices.Sorted(maps.Keys(args)) {
		p := path + ".routing_strategy_args." + k
		switch k {
		case "lowest_latency_buffer":
			v, ok := args[k].(float64)
			if n, isInt := toInt(args[k]); isInt {
				v, ok = float64(n), true
			}
			if !ok || v < 0 {
				c.errf(p, "must be a fraction of the fastest latency, 0 or more (0.5: within 50%%)")
				continue
			}
			st.LatencyBuffer = v
		case "ttl":
			c.warnf(p, "ignored: breakerd's latency is a moving average of the latest calls, with no sample lifetime")
		default:
			c.warnf(p, "a LiteLLM setting that breakerd does not use; ignored")
		}
	}
	return st
}

// routingGroups reads LiteLLM's routing_groups: each names the model
// groups that route by its strategy. A name is given once, and not
// "default" (LiteLLM's, for the models in none); a model is in one
// group at most.
func (c *converter) routingGroups(list []rawRoutingGroup, groups []string) map[string]GroupStrategy {
	if len(list) == 0 {
		return nil
	}
	out := map[string]GroupStrategy{}
	names := map[string]int{}
	in := map[string]string{} // model group -> routing group
	for i, rg := range list {
		p := fmt.Sprintf("router_settings.routing_groups[%d]", i)
		switch j, dup := names[rg.GroupName]; {
		case rg.GroupName == "":
			c.errf(p, "needs group_name")
		case rg.GroupName == "default":
			c.errf(p+".group_name", "default is reserved for the models in no routing group (they route by router_settings.routing_strategy)")
		case dup:
			c.errf(p+".group_name", "%q is also routing_groups[%d]'s name: each routing group's name is its own", rg.GroupName, j)
		}
		names[rg.GroupName] = i
		if len(rg.Models) == 0 {
			c.errf(p, "needs models: the model_names that route by its strategy")
		}
		st := c.strategy(p, rg.RoutingStrategy, rg.RoutingStrategyArgs)
		for k, m := range rg.Models {
			mp := fmt.Sprintf("%s.models[%d]", p, k)
			switch other, dup := in[m]; {
			case dup:
				c.errf(mp, "%q is in routing group %q already: a model routes by one strategy", m, other)
			case !slices.Contains(groups, m):
				c.warnf(mp, "%q is no model_name in model_list; ignored", m)
			default:
				in[m] = rg.GroupName
				out[m] = st
			}
		}
	}
	return out
}

func (c *converter) router(r rawRouter, ls rawLiteLLM, groups []string) Router {
	st := c.strategy("router_settings", r.RoutingStrategy, r.RoutingStrategyArgs)
	rt := Router{Strategy: st.Strategy, LatencyBuffer: st.LatencyBuffer}
	rt.GroupStrategies = c.routingGroups(r.RoutingGroups, groups)
	rt.ContinueStreams = r.ContinueBrokenStreams == nil || *r.ContinueBrokenStreams
	rt.NumRetries = c.count("router_settings.num_retries", r.NumRetries, 0, true)
	rt.Timeout = c.duration("router_settings.timeout", r.Timeout, 600*time.Second, false)
	rt.RetryBackoff = c.duration("router_settings.retry_backoff", r.RetryBackoff, 200*time.Millisecond, false)
	rt.MaxRetryBackoff = c.duration("router_settings.max_retry_backoff", r.MaxRetryBackoff, 5*time.Second, false)
	// LiteLLM reads fallbacks from litellm_settings too (its reliability
	// docs put them there); router_settings' win.
	from := func(key string, router, litellm any) (string, any) {
		if router == nil && litellm != nil {
			return "litellm_settings." + key, litellm
		}
		return "router_settings." + key, router
	}
	defaults := r.DefaultFallbacks
	if defaults == nil {
		defaults = ls.DefaultFallbacks
	}
	p, v := from("fallbacks", r.Fallbacks, ls.Fallbacks)
	rt.Fallbacks = c.fallbacks(p, v, defaults, groups)
	p, v = from("context_window_fallbacks", r.ContextWindowFallbacks, ls.ContextWindowFallbacks)
	rt.ContextWindowFallbacks = c.fallbacks(p, v, nil, groups)
	p, v = from("content_policy_fallbacks", r.ContentPolicyFallbacks, ls.ContentPolicyFallbacks)
	rt.ContentPolicyFallbacks = c.fallbacks(p, v, nil, groups)
	rt.MaxFallbacks = c.count("router_settings.max_fallbacks", r.MaxFallbacks, 5, true)
	c.capFallbacks("router_settings.fallbacks", rt.Fallbacks, rt.MaxFallbacks)
	c.capFallbacks("router_settings.context_window_fallbacks", rt.ContextWindowFallbacks, rt.MaxFallbacks)
	c.capFallbacks("router_settings.content_policy_fallbacks", rt.ContentPolicyFallbacks, rt.MaxFallbacks)
	rt.Aliases = c.aliases(r.ModelGroupAlias, groups)
	c.autoRouterAliases(rt.Aliases, groups)
	rt.ProviderBudgets = c.providerBudgets(r.ProviderBudgetConfig)
	rt.ProxyBudget = c.proxyBudget(ls)
	rt.TagBudgets = c.tagBudgets(ls.TagBudgetConfig)
	if r.EnablePreCallChecks != nil && *r.EnablePreCallChecks {
		rt.EnforceRateLimits, rt.ContextWindowCheck = true, true
	}
	for i, check := range r.OptionalPreCallChecks {
		p := fmt.Sprintf("router_settings.optional_pre_call_checks[%d]", i)
		switch {
		case check == "enforce_model_rate_limits":
			rt.EnforceRateLimits = true
		case affinityCheck(check, &rt.Affinity):
		case preCallHints[check] != "":
			c.warnf(p, "%q is a LiteLLM check that breakerd does not do; ignored (%s)", check, preCallHints[check])
		default:
			c.warnf(p, "%q is a LiteLLM check that breakerd does not do; ignored (breakerd's are enforce_model_rate_limits, session_affinity, deployment_affinity and prompt_caching)", check)
		}
	}
	rt.AffinityTTL = c.duration("router_settings.deployment_affinity_ttl_seconds", r.AffinityTTL, time.Hour, false)
	for _, g := range slices.Sorted(maps.Keys(r.GroupAffinity)) {
		p := "router_settings.model_group_affinity_config." + g
		if !slices.Contains(groups, g) {
			c.warnf(p, "%q is not a model_name in model_list; ignored", g)
			continue
		}
		var a Affinity
		for i, check := range r.GroupAffinity[g] {
			if !affinityCheck(check, &a) {
				c.errf(fmt.Sprintf("%s[%d]", p, i), "unknown check %q (session_affinity, deployment_affinity, prompt_caching, responses_api_deployment_check or encrypted_content_affinity)", check)
			}
		}
		if rt.GroupAffinity == nil {
			rt.GroupAffinity = map[string]Affinity{}
		}
		rt.GroupAffinity[g] = a
	}
	rt.TagFiltering = r.EnableTagFiltering != nil && *r.EnableTagFiltering
	rt.TagsMatchAll = r.TagFilteringMatchAny != nil && !*r.TagFilteringMatchAny
	rt.Breaker = c.breakerConfig(r.CircuitBreaker)
	c.liteLLMCooldowns(r, ls, &rt.Breaker)
	if r.RetryPolicy != nil {
		c.retryPolicy(r.RetryPolicy, &rt)
	}
	rt.State, rt.Redis = c.state(r)
	rt.Bulkhead = Bulkhead{
		MaxQueue: c.count("router_settings.bulkhead.max_queue", r.Bulkhead.MaxQueue, 0, true),
		MaxWait:  c.duration("router_settings.bulkhead.max_wait", r.Bulkhead.MaxWait, 0, true),
	}
	return rt
}

func (c *converter) state(r rawRouter) (string, Redis) {
	const path = "router_settings"
	st := r.State
	rd := Redis{Namespace: c.resolve(path+".redis_namespace", r.RedisNamespace), Password: Secret(c.resolve(path+".redis_password", r.RedisPassword)),
		URL: Secret(c.resolve(path+".redis_url", r.RedisURL))}
	if rd.Namespace == "" {
		rd.Namespace = "breakerd"
	}
	rd.FlushInterval = c.duration(path+".redis_flush_interval", r.RedisFlush, 200*time.Millisecond, false)
	if rd.FlushInterval < 100*time.Millisecond || rd.FlushInterval > 250*time.Millisecond {
		c.errf(path+".redis_flush_interval", "must be between 100ms and 250ms, got %s", rd.FlushInterval)
	}
	host := c.resolve(path+".redis_host", r.RedisHost)
	port := ""
	switch p := r.RedisPort.(type) {
	case nil:
	case string:
		port = c.resolve(path+".redis_port", p)
	default:
		if n, ok := toInt(p); ok && n > 0 && n < 65536 {
			port = strconv.Itoa(n)
		} else {
			c.errf(path+".redis_port", "must be a port number, got %v", p)
		}
	}
	if host != "" {
		rd.Addr = host + ":" + cmp.Or(port, "6379")
	}
	rd.DB = c.count(path+".redis_db", r.RedisDB, 0, true)
	c.redisTopology(path+".cache_kwargs", r.CacheKwargs, &rd)
	named := func() bool { return rd.Addr != "" || rd.URL != "" || rd.Sentinels != nil || rd.ClusterNodes != nil }
	switch st {
	case "":
		// LiteLLM turns Redis on by configuring it.
		st = "local"
		if named() {
			st = "redis"
		}
	case "local", "redis":
	default:
		c.errf(path+".state", "must be local or redis, got %q", st)
	}
	if st == "redis" && !named() {
		c.redisTopologyFromEnv(&rd) // LiteLLM's Redis client reads them too
	}
	switch {
	case st == "redis" && !named():
		c.errf(path+".state", "redis needs redis_host (and redis_port, redis_password) or redis_url, "+
			"or a Sentinel's or a Cluster's nodes (cache_kwargs, or $REDIS_SENTINEL_NODES or $REDIS_CLUSTER_NODES)")
	case rd.Sentinels != nil && rd.MasterName == "":
		c.errf(path+".cache_kwargs.sentinel_nodes", "needs service_name (or $REDIS_SERVICE_NAME), the name of the master the sentinels watch")
	case rd.DB != 0 && rd.ClusterNodes != nil:
		c.errf(path+".redis_db", "a Redis Cluster has only database 0, got %d", rd.DB)
	case rd.DB != 0 && rd.URL != "":
		c.errf(path+".redis_db", "redis_url names its database (redis://host:6379/%d): set one or the other", rd.DB)
	}
	return st, rd
}

// redisTopology reads a Redis Sentinel's or a Redis Cluster's nodes from
// LiteLLM Router's cache_kwargs (at path) into rd: service_name,
// sentinel_nodes and sentinel_password, or startup_nodes. Its other keys
// are warned about.
func (c *converter) redisTopology(path string, kw map[string]any, rd *Redis) {
	for _, k := range slices.Sorted(maps.Keys(kw)) {
		switch v := kw[k]; k {
		case "service_name":
			rd.MasterName = c.resolve(path+"."+k, fmt.Sprint(v))
		case "sentinel_password":
			rd.SentinelPassword = Secret(c.resolve(path+"."+k, fmt.Sprint(v)))
		case "sentinel_nodes":
			rd.Sentinels = c.redisNodes(path+"."+k, v)
		case "startup_nodes":
			rd.ClusterNodes = c.redisNodes(path+"."+k, v)
		default:
			c.warnf(path+"."+k, "a LiteLLM setting that breakerd does not use; ignored (breakerd reads service_name, sentinel_nodes, sentinel_password and startup_nodes here)")
		}
	}
}

// capFallbacks keeps the first limit fallbacks of each group in m, as
// LiteLLM stops after max_fallbacks, and warns about each group cut.
func (c *converter) capFallbacks(path string, m map[string][]string, limit int) {
	for _, g := range slices.Sorted(maps.Keys(m)) {
		if tos := m[g]; len(tos) > limit {
			c.warnf(path, "model group %q has %d fallbacks, but max_fallbacks is %d: %s will not be tried",
				g, len(tos), limit, strings.Join(tos[limit:], ", "))
			m[g] = tos[:limit:limit]
		}
	}
}

// fallbacks reads a list of fallbacks at path: the seed's flat list
// applies to every group, LiteLLM's {group: [fallbacks]} maps to one
// group, mixed freely. LiteLLM's default_fallbacks apply to the groups
// that have no map of their own.
func (c *converter) fallbacks(path string, v any, defaults []string, groups []string) map[string][]string {
	out := map[string][]string{}
	// wild reports whether a wildcard model_name ("*", "anthropic/*")
	// serves name: a request for it is that model's group.
	wild := func(name string) bool {
		return slices.ContainsFunc(groups, func(g string) bool {
			_, ok := MatchGroup(g, name)
			return ok && strings.Contains(g, "*")
		})
	}
	target := func(p string, g any) (string, bool) {
		s, ok := g.(string)
		if !ok {
			c.errf(p, "must be a model group name, got %v", g)
			return "", false
		}
		s = c.resolve(p, s)
		if slices.Contains(groups, s) || wild(s) || c.isAutoRouter(s) { // an auto router: its groups in turn
			return s, true
		}
		if slices.Contains(c.ids, s) {
			return s, true // one deployment, by its model_info.id: LiteLLM's exact targeting
		}
		if slices.Contains(c.named, s) {
			return "", false // its deployments' own messages explain
		}
		if n := nearest(s, groups); n != "" && editDistance(s, n) <= 2 {
			c.errf(p, "unknown model group %q (did you mean %q?)", s, n)
			return "", false
		}
		c.warnf(p, "fallback %q is not a model_name in model_list; it will be skipped", s)
		return "", false
	}
	var defaultTargets []string
	for i, d := range defaults {
		if t, ok := target(fmt.Sprintf("router_settings.default_fallbacks[%d]", i), d); ok {
			defaultTargets = append(defaultTargets, t)
		}
	}
	var list []any
	if v != nil {
		l, ok := v.([]any)
		if !ok {
			c.errf(path, "must be a list of model groups, or of {group: [fallbacks]} maps")
			return out
		}
		list = l
	}
	var everyGroup []string
	own := map[string]bool{} // groups with a {group: [...]} entry
	for i, item := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch x := item.(type) {
		case string:
			if t, ok := target(p, x); ok {
				everyGroup = append(everyGroup, t)
			}
		case map[string]any:
			for from, tos := range x {
				fp := p + "." + from
				from = c.resolve(fp, from)
				if !slices.Contains(groups, from) && slices.Contains(c.named, from) {
					continue
				}
				if !slices.Contains(groups, from) && !wild(from) {
					// As for a fallback, LiteLLM loads it and never uses it:
					// only a likely typo is an error.
					if n := nearest(from, groups); n != "" && editDistance(from, n) <= 2 {
						c.errf(fp, "unknown model group %q (did you mean %q?)", from, n)
					} else {
						c.warnf(fp, "%q is not a model_name in model_list: its fallbacks never apply", from)
					}
					continue
				}
				own[from] = true
				tl, ok := tos.([]any)
				if !ok {
					tl = []any{tos}
				}
				for j, to := range tl {
					if t, ok := target(fmt.Sprintf("%s[%d]", fp, j), to); ok && t != from {
						out[from] = append(out[from], t)
					}
				}
			}
		default:
			c.errf(p, "must be a model group name or a {group: [fallbacks]} map")
		}
	}
	for _, g := range groups {
		extra := everyGroup
		if !own[g] {
			extra = append(slices.Clip(extra), defaultTargets...)
		}
		for _, t := range extra {
			if t != g && !slices.Contains(out[g], t) {
				out[g] = append(out[g], t)
			}
		}
	}
	return out
}

// aliases reads LiteLLM's model_group_alias: {alias: group} or
// {alias: {model: group, hidden: true}}.
func (c *converter) aliases(raw map[string]any, groups []string) map[string]Alias {
	out := map[string]Alias{}
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		v := raw[name]
		p := "router_settings.model_group_alias." + name
		var a Alias
		switch x := v.(type) {
		case string:
			a.Group = c.resolve(p, x)
		case map[string]any:
			for k := range x {
				if k != "model" && k != "hidden" {
					c.errf(p+"."+k, "unknown key %q (model or hidden)", k)
				}
			}
			a.Group, _ = x["model"].(string)
			a.Group = c.resolve(p+".model", a.Group)
			if h, ok := x["hidden"]; ok {
				if a.Hidden, ok = h.(bool); !ok {
					c.errf(p+".hidden", "must be true or false")
				}
			}
		}
		switch {
		case a.Group == "":
			c.errf(p, "must name a model group, as alias: group or alias: {model: group, hidden: true}")
			continue
		case a.Group == name:
			c.warnf(p, "names its own model group; the alias does nothing and is skipped")
			continue
		case slices.Contains(groups, name) && slices.Contains(groups, a.Group):
			// LiteLLM looks a request's model up as an alias first: the
			// alias wins (an old model's clients sent to its successor).
			c.warnf(p, "%q is also a model_name in model_list: requests for it go to %q, as in LiteLLM, where the alias wins; "+
				"its own deployments serve no request", name, a.Group)
		case !slices.Contains(groups, a.Group) && slices.Contains(c.named, a.Group):
			continue
		case !slices.Contains(groups, a.Group):
			// As with fallbacks: a near miss is a typo, anything else may
			// be a group another config defines.
			if n := nearest(a.Group, groups); n != "" && editDistance(a.Group, n) <= 2 {
				c.errf(p, "unknown model group %q (did you mean %q?)", a.Group, n)
			} else {
				c.warnf(p, "%q is not a model_name in model_list; the alias is skipped", a.Group)
			}
			continue
		}
		out[name] = a
	}
	return out
}

// liteLLMCooldowns maps LiteLLM's cooldown settings onto the breaker when
// the config has no circuit_breaker block (which wins when both are set).
// LiteLLM cools a deployment down once its failures in a minute exceed
// allowed_fails, whatever succeeded between them, for cooldown_time
// seconds; the breaker opens after allowed_fails+1 failures in a minute
// (not in a row) and stays open cooldown_time. allowed_fails and
// cooldown_time may be in litellm_settings instead, as LiteLLM's proxy
// docs show them; router_settings' own win.
func (c *converter) liteLLMCooldowns(r rawRouter, ls rawLiteLLM, bc *BreakerConfig) {
	allowedPath, cooldownPath := "router_settings.allowed_fails", "router_settings.cooldown_time"
	if r.AllowedFails == nil && ls.AllowedFails != nil {
		r.AllowedFails, allowedPath = ls.AllowedFails, "litellm_settings.allowed_fails"
	}
	if r.CooldownTime == nil && ls.CooldownTime != nil {
		r.CooldownTime, cooldownPath = ls.CooldownTime, "litellm_settings.cooldown_time"
	}
	set := r.AllowedFails != nil || r.CooldownTime != nil || r.DisableCooldowns != nil || r.AllowedFailsPolicy != nil
	if !set {
		return
	}
	if !reflect.ValueOf(r.CircuitBreaker).IsZero() {
		for _, k := range []struct {
			path string
			on   bool
		}{{allowedPath, r.AllowedFails != nil}, {cooldownPath, r.CooldownTime != nil}, {"router_settings.disable_cooldowns", r.DisableCooldowns != nil},
			{"router_settings.allowed_fails_policy", r.AllowedFailsPolicy != nil}} {
			if k.on {
				c.warnf(k.path, "ignored: router_settings.circuit_breaker is set, and it wins")
			}
		}
		return
	}
	if r.AllowedFails != nil {
		n := c.count(allowedPath, r.AllowedFails, 0, true)
		bc.Settings.ConsecutiveFailures, bc.Settings.WindowFailures, bc.Settings.Window = -1, n+1, time.Minute
		bc.FromLiteLLM = append(bc.FromLiteLLM, fmt.Sprintf("allowed_fails %d: open after %d failures in a minute", n, n+1))
	}
	if r.CooldownTime != nil {
		switch d := c.duration(cooldownPath, r.CooldownTime, 0, true); {
		case d == 0:
			// LiteLLM puts no deployment in cooldown for 0 seconds.
			bc.Enabled = false
			bc.FromLiteLLM = append(bc.FromLiteLLM, "cooldown_time 0: no cooldowns, so breakers off")
			c.warnf(cooldownPath, "0 turns LiteLLM's cooldowns off, and with them breakerd's circuit breakers; set router_settings.circuit_breaker to keep them")
		default:
			bc.Settings.OpenTimeout = d
			bc.FromLiteLLM = append(bc.FromLiteLLM, fmt.Sprintf("cooldown_time %s: stay open %s", d, d))
		}
	}
	if p := r.AllowedFailsPolicy; p != nil {
		general := liteLLMAllowedFails
		if r.AllowedFails != nil && *r.AllowedFails >= 0 {
			general = *r.AllowedFails
		}
		c.allowedFailsPolicy(p, general, bc)
	}
	if r.DisableCooldowns != nil && *r.DisableCooldowns {
		bc.Enabled = false
		bc.FromLiteLLM = append(bc.FromLiteLLM, "disable_cooldowns: breakers off")
	}
	for op, s := range bc.Operations {
		s.ConsecutiveFailures, s.OpenTimeout = bc.Settings.ConsecutiveFailures, bc.Settings.OpenTimeout
		s.WindowFailures, s.Window = bc.Settings.WindowFailures, bc.Settings.Window
		bc.Operations[op] = s
	}
}

func (c *converter) breakerConfig(r rawBreaker) BreakerConfig {
	const path = "router_settings.circuit_breaker"
	bc := BreakerConfig{Enabled: true, RespectRetryAfter: true}
	if r.Enabled != nil {
		bc.Enabled = *r.Enabled
	}
	if r.RespectRetryAfter != nil {
		bc.RespectRetryAfter = *r.RespectRetryAfter
	}
	bc.StreamFailureRate, bc.StreamMinimumCalls = 0.5, 10
	if r.StreamFailureRate != nil {
		if *r.StreamFailureRate == 0 {
			bc.StreamFailureRate = 0 // off
		} else {
			bc.StreamFailureRate = c.ratio(path+".stream_failure_rate_threshold", r.StreamFailureRate)
		}
	}
	if r.StreamMinimumCalls != nil {
		bc.StreamMinimumCalls = c.count(path+".stream_minimum_calls", r.StreamMinimumCalls, 0, false)
		if bc.StreamMinimumCalls > StreamWindow {
			c.errf(path+".stream_minimum_calls", "must be at most %d (the streams judged), got %d", StreamWindow, bc.StreamMinimumCalls)
		}
	}
	bc.Settings = c.breakerSettings(path, r, breaker.Settings{})
	bc.Conditions = c.conditions(path+".failure_conditions", r.FailureConditions)
	for op, o := range r.Operations {
		p := path + ".operations." + op
		if !slices.Contains(OperationNames, op) {
			c.errf(p, "unknown operation %q (one of %s)", op, strings.Join(OperationNames, ", "))
			continue
		}
		if len(o.Operations) > 0 || len(o.FailureConditions) > 0 || o.Enabled != nil || o.RespectRetryAfter != nil ||
			o.StreamFailureRate != nil || o.StreamMinimumCalls != nil {
			c.errf(p, "an operation override may only set thresholds and timeouts")
		}
		if bc.Operations == nil {
			bc.Operations = map[string]breaker.Settings{}
		}
		bc.Operations[op] = c.breakerSettings(p, o, bc.Settings)
	}
	return bc
}

func (c *converter) breakerSettings(path string, r rawBreaker, base breaker.Settings) breaker.Settings {
	s := base
	if r.FailureThreshold != nil {
		s.ConsecutiveFailures = c.count(path+".failure_threshold", r.FailureThreshold, 0, false)
	}
	if r.WindowSize != nil {
		s.Window = c.duration(path+".window_size", r.WindowSize, 0, false)
	}
	if r.WindowBuckets != nil {
		s.WindowBuckets = c.count(path+".window_buckets", r.WindowBuckets, 0, false)
	}
	if r.RecoveryTimeout != nil {
		s.OpenTimeout = c.duration(path+".recovery_timeout", r.RecoveryTimeout, 0, false)
	}
	if r.MaxRecoveryTimeout != nil {
		s.MaxOpenTimeout = c.duration(path+".max_recovery_timeout", r.MaxRecoveryTimeout, 0, false)
	}
	if r.SuccessThreshold != nil {
		s.SuccessThreshold = c.count(path+".success_threshold", r.SuccessThreshold, 0, false)
	}
	if r.HalfOpenMaxCalls != nil {
		s.HalfOpenMaxCalls = c.count(path+".half_open_max_calls", r.HalfOpenMaxCalls, 0, false)
	}
	if r.FailureRateThreshold != nil {
		s.FailureRateThreshold = c.ratio(path+".failure_rate_threshold", r.FailureRateThreshold)
	}
	if r.MinimumCalls != nil {
		s.MinimumCalls = c.count(path+".minimum_calls", r.MinimumCalls, 0, false)
	}
	if r.SlowCallThreshold != nil {
		s.SlowCallDuration = c.duration(path+".slow_call_threshold", r.SlowCallThreshold, 0, false)
	}
	if r.SlowCallRateThreshold != nil {
		s.SlowCallRateThreshold = c.ratio(path+".slow_call_rate_threshold", r.SlowCallRateThreshold)
		if s.SlowCallDuration == 0 {
			c.errf(path+".slow_call_rate_threshold", "needs slow_call_threshold (the duration from which a call is slow)")
		}
	}
	if s.SlowCallDuration > 0 && s.SlowCallRateThreshold == 0 && r.SlowCallThreshold != nil {
		s.SlowCallRateThreshold = 1 // count slow calls; trip only if every call is slow
	}
	if s.MaxOpenTimeout > 0 && s.OpenTimeout > 0 && s.MaxOpenTimeout < s.OpenTimeout {
		c.errf(path+".max_recovery_timeout", "must be at least recovery_timeout (%s)", s.OpenTimeout)
	}
	if err := s.Validate(); err != nil {
		c.errf(path, "%v", err)
	}
	return s
}

var conditionKeys = []string{"status_code", "timeout", "rate_limit", "auth_error"}

func (c *converter) conditions(path string, list []map[string]any) FailureConditions {
	fc := FailureConditions{Timeout: true, Auth: true}
	for i, m := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		for k, v := range m {
			kp := p + "." + k
			switch k {
			case "status_code":
				code, ok := toInt(v)
				switch {
				case !ok || code < 100 || code > 599:
					c.errf(kp, "must be an HTTP status code, got %v", v)
				case code == 429:
					fc.RateLimit = true
				case code == 401 || code == 403:
					fc.Auth = true
				case code < 500:
					c.errf(kp, "%d is a client error; only 5xx, 401, 403 and 429 can count as provider failures", code)
				default:
					fc.Statuses = append(fc.Statuses, code)
				}
			case "timeout", "rate_limit", "auth_error":
				b, ok := v.(bool)
				if !ok {
					c.errf(kp, "must be true or false, got %v", v)
					continue
				}
				switch k {
				case "timeout":
					fc.Timeout = b
					if !b {
						c.warnf(kp, "a provider that hangs will never open a breaker: each request waits out timeout or stream_timeout before moving on")
					}
				case "rate_limit":
					fc.RateLimit = b
				case "auth_error":
					fc.Auth = b
				}
			default:
				msg := fmt.Sprintf("unknown failure condition %q", k)
				if n := nearest(k, conditionKeys); n != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", n)
				} else {
					msg += " (valid: " + strings.Join(conditionKeys, ", ") + ")"
				}
				c.errf(kp, "%s", msg)
			}
		}
	}
	return fc
}

func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case uint64:
		return int(x), true
	case int64:
		return int(x), true
	case int:
		return x, true
	}
	return 0, false
}

func (c *converter) alerting(r rawAlerting) Alerting {
	const path = "router_settings.alerting"
	a := Alerting{
		DashboardURL:     c.resolve(path+".dashboard_url", r.DashboardURL),
		RunbookURL:       c.resolve(path+".runbook_url", r.RunbookURL),
		GroupWindow:      c.duration(path+".group_window", r.GroupWindow, 10*time.Second, true),
		FlapThreshold:    c.count(path+".flap_threshold", r.FlapThreshold, 4, false),
		FlapWindow:       c.duration(path+".flap_window", r.FlapWindow, 10*time.Minute, false),
		StableAfter:      c.duration(path+".stable_after", r.StableAfter, 5*time.Minute, false),
		ReminderInterval: c.duration(path+".reminder_interval", r.ReminderInterval, 0, true),
		QueueSize:        c.count(path+".queue_size", r.QueueSize, 1000, false),
		MaxRetries:       c.count(path+".max_retries", r.MaxRetries, 4, true),
	}
	timeout := c.duration(path+".timeout", r.Timeout, 10*time.Second, false)
	if r.WebhookURL != "" {
		a.Notifiers = append(a.Notifiers, Notifier{Type: "webhook", Name: "webhook", Format: "breakerd", Timeout: timeout,
			URL: Secret(c.resolve(path+".webhook_url", r.WebhookURL))})
	}
	if r.SlackWebhook != "" {
		a.Notifiers = append(a.Notifiers, Notifier{Type: "slack", Name: "slack", Timeout: timeout,
			WebhookURL: Secret(c.resolve(path+".slack_webhook", r.SlackWebhook))})
	}
	for i, rn := range r.Notifiers {
		p := fmt.Sprintf("%s.notifiers[%d]", path, i)
		n := Notifier{Type: rn.Type, Name: rn.Name, Channel: rn.Channel, APIURL: rn.APIURL, Format: rn.Format,
			EventsURL: rn.EventsURL, Breakers: rn.Breakers, Providers: rn.Providers, Transitions: rn.Transitions,
			WebhookURL: Secret(c.resolve(p+".webhook_url", rn.WebhookURL)), Token: Secret(c.resolve(p+".token", rn.Token)),
			URL: Secret(c.resolve(p+".url", rn.URL)), Secret: Secret(c.resolve(p+".secret", rn.Secret)),
			RoutingKey: Secret(c.resolve(p+".routing_key", rn.RoutingKey)),
			Timeout:    c.duration(p+".timeout", rn.Timeout, timeout, false)}
		if n.Name == "" {
			n.Name = fmt.Sprintf("%s-%d", n.Type, i+1)
		}
		for k, v := range rn.Headers {
			if n.Headers == nil {
				n.Headers = map[string]Secret{}
			}
			n.Headers[k] = Secret(c.resolve(p+".headers."+k, v))
		}
		switch n.Type {
		case "slack":
			if n.WebhookURL == "" && (n.Token == "" || n.Channel == "") {
				c.errf(p, "a slack notifier needs webhook_url, or token and channel")
			}
		case "webhook":
			if n.URL == "" {
				c.errf(p+".url", "is required for a webhook notifier")
			}
			switch n.Format {
			case "":
				n.Format = "breakerd"
			case "breakerd", "alertmanager":
			default:
				c.errf(p+".format", "must be breakerd or alertmanager, got %q", n.Format)
			}
		case "pagerduty":
			if n.RoutingKey == "" {
				c.errf(p+".routing_key", "is required for a pagerduty notifier")
			}
			if n.EventsURL == "" {
				n.EventsURL = "https://events.pagerduty.com/v2/enqueue"
			}
		default:
			c.errf(p+".type", "must be slack, webhook or pagerduty, got %q", n.Type)
		}
		for j, tr := range n.Transitions {
			if !slices.Contains(AlertKinds, tr) {
				c.errf(fmt.Sprintf("%s.transitions[%d]", p, j), "unknown transition %q (one of %s)", tr, strings.Join(AlertKinds, ", "))
			}
		}
		a.Notifiers = append(a.Notifiers, n)
	}
	return a
}

// baseModel is the model a deployment is priced and sized as: its
// base_model (litellm_params' or model_info's: the model an Azure
// deployment, named freely, runs), else its model.
func baseModel(model string, rd rawDeployment) string {
	if base := cmp.Or(rd.Params.BaseModel, rd.ModelInfo.BaseModel); base != "" {
		if _, m, ok := strings.Cut(base, "/"); ok {
			base = m // azure/gpt-4o
		}
		return base
	}
	return model
}

// listedModel is the model whose built-in prices and window are d's: its
// base_model (baseModel), else, at a provider of VendorModels, the
// vendor's model its name gives (OpenRouter's anthropic/claude-sonnet-4.5
// is claude-sonnet-4-5: Claude's versions with hyphens, as Anthropic
// names them), else its model.
func listedModel(d *Deployment, rd rawDeployment) string {
	model := baseModel(d.Model, rd)
	if info, _ := LookupProvider(d.Provider); !info.VendorModels || model != d.Model {
		return model
	}
	if _, m, ok := strings.Cut(model, "/"); ok {
		model = m
	}
	if strings.HasPrefix(model, "claude-") {
		model = strings.ReplaceAll(model, ".", "-")
	}
	return model
}

// modelFacts are a well-known model's list prices, in USD per token, and
// its context window for input, in tokens.
type modelFacts struct {
	in, out     float64
	read, write float64 // prompt tokens read from the provider's cache, and written to it
	window      int
	long        []PriceTier // Deployment.LongContext
	// hourly: the model's 1-hour cache writes cost twice its input price
	// (Anthropic's Claude models).
	hourly bool
	// fastKnown is set for a model that takes Anthropic's fast mode, and
	// fast multiplies its prices for the calls fast mode serves (0: not
	// published; fastModePrices).
	fast      float64
	fastKnown bool
}

// hourPrice is the price of a token written to the model's 1-hour cache,
// given its input and cache write prices: twice the input price for an
// hourly model, else the cache write price.
func (m modelFacts) hourPrice(in, write float64) float64 {
	if m.hourly {
		return 2 * in
	}
	return write
}

// knownModel returns the built-in facts of a well-known model (LiteLLM's
// model map has the same), so that least-cost routing and the context
// window check work without configured ones; configured prices and
// max_input_tokens override them. ok is false for a model not in the
// table.
func knownModel(model string) (m modelFacts, ok bool) {
	// Bedrock names Anthropic's models anthropic.<model>, behind a
	// region's prefix for an inference profile (us.anthropic.claude-...);
	// its on-demand price is Anthropic's.
	// Amazon's own (amazon.nova-pro-v1:0) likewise.
	for _, publisher := range []string{"anthropic.", "amazon."} {
		if _, rest, found := strings.Cut(model, publisher); found {
			model = rest
		}
	}
	// Vertex AI's OpenAI-compatible API names Google's models
	// google/<model> (as OpenRouter does); their list price is Google's.
	model = strings.TrimPrefix(model, "google/")
	// OpenAI charges nothing more to write its cache (1.25 times the
	// input price from GPT-5.6, whose windows are not yet published: 0,
	// no check); Anthropic reads at a tenth of the input price and writes
	// for 5 minutes at 1.25 times (for an hour at twice: modelFacts'
	// hourly, for every Claude model). Google's cache writes are priced as
	// input (its storage, by the hour, is not modelled).
	table := []struct {
		prefix      string
		in, out     float64 // USD per million tokens
		read, write float64
		window      int
	}{
		// A longer name first where one is another's prefix.
		{"gpt-4o-mini", 0.15, 0.60, 0.075, 0.15, 128_000},
		{"gpt-4o", 2.50, 10.00, 1.25, 2.50, 128_000},
		{"gpt-4.1-nano", 0.10, 0.40, 0.025, 0.10, 1_047_576},
		{"gpt-4.1-mini", 0.40, 1.60, 0.10, 0.40, 1_047_576},
		{"gpt-4.1", 2.00, 8.00, 0.50, 2.00, 1_047_576},
		{"gpt-4.5-preview", 75.00, 150.00, 37.50, 75.00, 128_000},
		{"gpt-4-turbo", 10.00, 30.00, 10.00, 10.00, 128_000},
		{"gpt-3.5-turbo", 0.50, 1.50, 0.50, 0.50, 16_385},
		{"chatgpt-4o", 5.00, 15.00, 5.00, 5.00, 128_000},
		{"gpt-5.6-sol", 5.00, 30.00, 0.50, 6.25, 0},
		{"gpt-5.6-terra", 2.50, 15.00, 0.25, 3.125, 0},
		{"gpt-5.6-luna", 1.00, 6.00, 0.10, 1.25, 0},
		{"gpt-5.5-pro", 30.00, 180.00, 30.00, 30.00, 1_050_000},
		{"gpt-5.5", 5.00, 30.00, 0.50, 5.00, 1_050_000},
		{"gpt-5.4-nano", 0.20, 1.25, 0.02, 0.20, 272_000},
		{"gpt-5.4-mini", 0.75, 4.50, 0.075, 0.75, 272_000},
		{"gpt-5.4-pro", 30.00, 180.00, 30.00, 30.00, 1_050_000},
		{"gpt-5.4", 2.50, 15.00, 0.25, 2.50, 1_050_000},
		{"gpt-5.3-codex", 1.75, 14.00, 0.175, 1.75, 272_000},
		{"gpt-5.2-pro", 21.00, 168.00, 21.00, 21.00, 272_000},
		{"gpt-5.2", 1.75, 14.00, 0.175, 1.75, 272_000},
		{"gpt-5.1-codex-mini", 0.25, 2.00, 0.025, 0.25, 272_000},
		{"gpt-5.1", 1.25, 10.00, 0.125, 1.25, 272_000},
		{"gpt-5-nano", 0.05, 0.40, 0.005, 0.05, 272_000},
		{"gpt-5-mini", 0.25, 2.00, 0.025, 0.25, 272_000},
		{"gpt-5-pro", 15.00, 120.00, 15.00, 15.00, 272_000},
		{"gpt-5", 1.25, 10.00, 0.125, 1.25, 272_000},
		{"o1-mini", 1.10, 4.40, 0.55, 1.10, 128_000},
		{"o1", 15.00, 60.00, 7.50, 15.00, 200_000},
		{"o3-mini", 1.10, 4.40, 0.55, 1.10, 200_000},
		{"o3-pro", 20.00, 80.00, 20.00, 20.00, 200_000},
		{"o3", 2.00, 8.00, 0.50, 2.00, 200_000},
		{"o4-mini", 1.10, 4.40, 0.275, 1.10, 200_000},
		{"text-embedding-3-small", 0.02, 0, 0.02, 0.02, 8191},
		{"text-embedding-3-large", 0.13, 0, 0.13, 0.13, 8191},
		{"text-embedding-ada-002", 0.10, 0, 0.10, 0.10, 8191},
		{"gemini-3.1-pro", 2.00, 12.00, 0.20, 2.00, 1_048_576},
		{"gemini-3.1-flash-lite", 0.25, 1.50, 0.025, 0.25, 1_048_576},
		{"gemini-3-pro", 2.00, 12.00, 0.20, 2.00, 1_048_576},
		{"gemini-3-flash", 0.50, 3.00, 0.05, 0.50, 1_048_576},
		{"gemini-2.5-pro", 1.25, 10.00, 0.31, 1.25, 1_048_576},
		{"gemini-2.5-flash-lite", 0.10, 0.40, 0.025, 0.10, 1_048_576},
		{"gemini-2.5-flash", 0.30, 2.50, 0.075, 0.30, 1_048_576},
		{"gemini-2.0-flash", 0.10, 0.40, 0.025, 0.10, 1_048_576},
		{"claude-fable-5", 10.00, 50.00, 1.00, 12.50, 1_000_000},
		{"claude-mythos-5", 10.00, 50.00, 1.00, 12.50, 1_000_000},
		{"claude-opus-5", 5.00, 25.00, 0.50, 6.25, 1_000_000},
		{"claude-opus-4-8", 5.00, 25.00, 0.50, 6.25, 1_000_000},
		{"claude-opus-4-7", 5.00, 25.00, 0.50, 6.25, 1_000_000},
		{"claude-opus-4-6", 5.00, 25.00, 0.50, 6.25, 1_000_000},
		{"claude-opus-4-5", 5.00, 25.00, 0.50, 6.25, 200_000},
		{"claude-opus-4", 15.00, 75.00, 1.50, 18.75, 200_000},
		{"claude-haiku-4-5", 1.00, 5.00, 0.10, 1.25, 200_000},
		{"claude-3-5-haiku", 0.80, 4.00, 0.08, 1.00, 200_000},
		{"claude-3-5-sonnet", 3.00, 15.00, 0.30, 3.75, 200_000},
		{"claude-3-7-sonnet", 3.00, 15.00, 0.30, 3.75, 200_000},
		{"claude-sonnet-4-6", 3.00, 15.00, 0.30, 3.75, 1_000_000},
		{"claude-sonnet-4", 3.00, 15.00, 0.30, 3.75, 200_000},
		{"claude-3-haiku", 0.25, 1.25, 0.03, 0.30, 200_000},
		{"claude-3-opus", 15.00, 75.00, 1.50, 18.75, 200_000},
		// DeepSeek's (V3.2, one price for both modes), xAI's and
		// Amazon's: their names are theirs alone. Models others host
		// (Llama on Groq, Together, Bedrock) are priced by their host and
		// are not here.
		{"deepseek-chat", 0.28, 0.42, 0.028, 0.28, 128_000},
		{"deepseek-reasoner", 0.28, 0.42, 0.028, 0.28, 128_000},
		{"grok-4-1-fast", 0.20, 0.50, 0.05, 0.20, 2_000_000},
		{"grok-4-fast", 0.20, 0.50, 0.05, 0.20, 2_000_000},
		{"grok-code-fast", 0.20, 1.50, 0.02, 0.20, 256_000},
		{"grok-4", 3.00, 15.00, 0.75, 3.00, 256_000},
		{"grok-3-mini", 0.30, 0.50, 0.075, 0.30, 131_072},
		{"grok-3", 3.00, 15.00, 0.75, 3.00, 131_072},
		{"nova-pro", 0.80, 3.20, 0.20, 0.80, 300_000},
		{"nova-lite", 0.06, 0.24, 0.015, 0.06, 300_000},
		{"nova-micro", 0.035, 0.14, 0.00875, 0.035, 128_000},
	}
	for _, p := range table {
		if strings.HasPrefix(model, p.prefix) {
			m := modelFacts{in: p.in / 1e6, out: p.out / 1e6, read: p.read / 1e6, write: p.write / 1e6, window: p.window,
				hourly: strings.HasPrefix(p.prefix, "claude-")}
			for _, t := range longContextPrices {
				if strings.HasPrefix(model, t.prefix) {
					if t.above > 0 {
						m.long = []PriceTier{{Above: t.above, Input: t.in / 1e6, Output: t.out / 1e6, CacheRead: t.read / 1e6, CacheWrite: t.write / 1e6,
							CacheWriteHour: m.hourPrice(t.in/1e6, t.write/1e6)}}
					}
					break
				}
			}
			for _, f := range fastModePrices {
				if strings.HasPrefix(model, f.prefix) {
					m.fast, m.fastKnown = f.times, true
					break
				}
			}
			return m, true
		}
	}
	return modelFacts{}, false
}

// FastMode reports whether a Claude model takes Anthropic's fast mode
// (speed: "fast") as of its table (fastModePrices), and how many times
// its standard prices fast mode costs there (0: not published).
func FastMode(model string) (takes bool, times float64) {
	m, _ := knownModel(model)
	return m.fastKnown, m.fast
}

// fastModePrices are the Claude models that take Anthropic's fast mode
// (its research preview; the usage's speed says whether it served a
// call), with the multiple of their standard prices it costs (0: not
// published), from Anthropic's fast mode and pricing pages as of
// December 2026: twice at Opus 5 and 5.5; Fable 5.2 takes it at a price
// not published. Opus 4.6, 4.7 and 4.8 had it (six, six and two times)
// and no longer do: 4.7 and 4.8 refuse it.
var fastModePrices = []struct {
	prefix string
	times  float64
}{
	{"claude-fable-5-2", 0},
	{"claude-opus-5", 2}, // and 5.5
}

// longContextPrices are the list prices of the calls whose prompt, its
// cached part included, has more than above tokens (all their tokens
// at these prices; USD per million tokens), from the providers' pricing
// pages as LiteLLM's model map has them: OpenAI's 1.05M-window models
// (twice the input price and 1.5 times the output's), Gemini's Pro
// models, Claude Sonnet 4 and 4.5 with the 1M-context beta (Claude 4.6
// and later have one price across their window), and xAI's Grok 4 models
// past 128K (their cached input's price unchanged). A longer prefix
// first where one is another's, and a model here is one of the table's.
var longContextPrices = []struct {
	prefix      string
	above       int
	in, out     float64
	read, write float64
}{
	{"gpt-5.5-pro", 0, 0, 0, 0, 0}, // none published: its one price
	{"gpt-5.5", 272_000, 10.00, 45.00, 1.00, 10.00},
	{"gpt-5.4-pro", 272_000, 60.00, 270.00, 60.00, 60.00},
	{"gpt-5.4-mini", 0, 0, 0, 0, 0},
	{"gpt-5.4-nano", 0, 0, 0, 0, 0},
	{"gpt-5.4", 272_000, 5.00, 22.50, 0.50, 5.00},
	{"gemini-3.1-pro", 200_000, 4.00, 18.00, 0.40, 4.00},
	{"gemini-3-pro", 200_000, 4.00, 18.00, 0.40, 4.00},
	{"gemini-2.5-pro", 200_000, 2.50, 15.00, 0.625, 2.50},
	{"claude-sonnet-4-6", 0, 0, 0, 0, 0},
	{"claude-sonnet-4", 200_000, 6.00, 22.50, 0.60, 7.50},
	{"grok-4-1-fast", 128_000, 0.40, 1.00, 0.05, 0.40},
	{"grok-4-fast", 128_000, 0.40, 1.00, 0.05, 0.40},
	{"grok-code-fast", 0, 0, 0, 0, 0},
	{"grok-4", 128_000, 6.00, 30.00, 0.75, 6.00},
}

// ClaudeThinking is how a Claude model takes Anthropic's thinking
// parameter. The zero value is a model ClaudeOf does not know: not
// Claude, or Claude under a name it does not recognize.
type ClaudeThinking int

const (
	// ThinkingUnknown: nothing is known; the request is sent as it is.
	ThinkingUnknown ClaudeThinking = iota
	// ThinkingNone: the model does not think (Claude 3 and 3.5).
	ThinkingNone
	// ThinkingBudget: thinking {type: enabled, budget_tokens}; neither
	// adaptive thinking nor output_config.effort (Claude 3.7 to 4.5).
	ThinkingBudget
	// ThinkingAdaptive: adaptive thinking with output_config.effort, or a
	// budget, deprecated (Claude 4.6).
	ThinkingAdaptive
	// ThinkingAdaptiveOnly: Claude Opus 4.7's contract: adaptive thinking
	// only (a budget, or {type: disabled}, is a 400), no temperature or
	// top_p other than their defaults, and the thinking text omitted
	// unless asked to summarize it.
	ThinkingAdaptiveOnly
)

// Claude is what a Claude model takes of Anthropic's thinking and
// sampling parameters (Anthropic's migration guides). The zero value is a
// model ClaudeOf does not know, sent whatever the client asks.
type Claude struct {
	Thinking ClaudeThinking
	// OneSampler: temperature or top_p, not both (Claude 4.1 to 4.6).
	OneSampler bool
	// Format: structured outputs, output_config.format (Claude Opus 4.1,
	// Sonnet and Haiku 4.5, and later).
	Format bool
	// NoPrefill: a conversation must end with a user message; one that
	// ends with the assistant's (a prefill, for Claude to go on from) is
	// a 400 (Claude 4.6 and later).
	NoPrefill bool
	// Classifiers: safety classifiers may decline a request, answered
	// with stop_reason "refusal" (an HTTP 200), and a request may name
	// models for Anthropic to retry it on (its server-side fallback:
	// Fable 5, Opus 5).
	Classifiers bool
	// Geo: inference_geo takes "us" (US-only inference, at 1.1 times the
	// price) on Anthropic's own API (Claude 4.6 and later); an older
	// model answers it with a 400.
	Geo bool
}

// USOnlyPrice is the multiple of its prices a call costs that US-only
// inference served (inference_geo: "us") at a model that takes it
// (Claude.Geo), as Anthropic's pricing page has it.
const USOnlyPrice = 1.1

// claudeModels maps Claude families, by the prefix of their ids, to what
// they take; a longer prefix first where one is another's. Any other
// Claude id thinks with a budget and takes both samplers.
var claudeModels = []struct {
	prefix string
	Claude
}{
	{"claude-opus-4-7", Claude{Thinking: ThinkingAdaptiveOnly, Format: true, NoPrefill: true, Geo: true}},
	{"claude-opus-4-8", Claude{Thinking: ThinkingAdaptiveOnly, Format: true, NoPrefill: true, Geo: true}},
	{"claude-opus-5", Claude{Thinking: ThinkingAdaptiveOnly, Format: true, NoPrefill: true, Geo: true, Classifiers: true}},
	{"claude-sonnet-5", Claude{Thinking: ThinkingAdaptiveOnly, Format: true, NoPrefill: true, Geo: true}},
	{"claude-fable-5", Claude{Thinking: ThinkingAdaptiveOnly, Format: true, NoPrefill: true, Geo: true, Classifiers: true}},
	{"claude-mythos-5", Claude{Thinking: ThinkingAdaptiveOnly, Format: true, NoPrefill: true, Geo: true}},
	{"claude-opus-4-6", Claude{Thinking: ThinkingAdaptive, OneSampler: true, Format: true, NoPrefill: true, Geo: true}},
	{"claude-sonnet-4-6", Claude{Thinking: ThinkingAdaptive, OneSampler: true, Format: true, NoPrefill: true, Geo: true}},
	{"claude-opus-4-5", Claude{Thinking: ThinkingBudget, OneSampler: true, Format: true}},
	{"claude-sonnet-4-5", Claude{Thinking: ThinkingBudget, OneSampler: true, Format: true}},
	{"claude-haiku-4-5", Claude{Thinking: ThinkingBudget, OneSampler: true, Format: true}},
	{"claude-opus-4-1", Claude{Thinking: ThinkingBudget, OneSampler: true, Format: true}},
	{"claude-3-5-", Claude{Thinking: ThinkingNone}},
	{"claude-3-opus", Claude{Thinking: ThinkingNone}},
	{"claude-3-sonnet", Claude{Thinking: ThinkingNone}},
	{"claude-3-haiku", Claude{Thinking: ThinkingNone}},
}

// ClaudeOf returns what the model of this id takes. The id is matched
// from its "claude-" on, so that Bedrock's
// (us.anthropic.claude-opus-4-7-v1) and Vertex AI's (claude-opus-4-7@...)
// match too; an id without it is the zero Claude.
func ClaudeOf(model string) Claude {
	i := strings.Index(model, "claude-")
	if i < 0 {
		return Claude{}
	}
	for _, f := range claudeModels {
		if strings.HasPrefix(model[i:], f.prefix) {
			return f.Claude
		}
	}
	return Claude{Thinking: ThinkingBudget}
}

// claudeSampling warns of what a Claude model of Opus 4.7's contract
// refuses that the deployment would send or let through: a temperature
// or top_p default other than 1 (every chat request then passes it over,
// or drops it, under drop_params), and, without drop_params, a client's
// temperature or top_p.
func (c *converter) claudeSampling(pp string, d *Deployment) {
	if d.Dialect != DialectAnthropic || ClaudeOf(d.Model).Thinking != ThinkingAdaptiveOnly {
		return
	}
	for _, k := range []string{"temperature", "top_p"} {
		if v, ok := d.Defaults[k]; ok && string(v) != "1" && string(v) != "null" {
			c.warnf(pp+"."+k, "%s takes no %s (Claude Opus 4.7's API contract): every chat request to it would be passed over, or have it dropped under drop_params; remove it", d.Model, k)
			return
		}
	}
	if !d.DropParams {
		c.warnf(pp+".model", "%s takes no temperature or top_p (Claude Opus 4.7's API contract): a chat request that sets one passes this deployment over; set drop_params: true to send it without them, as LiteLLM does", d.Model)
	}
}

// toolsReasoning warns of a reasoning_effort default (other than none)
// on a deployment whose model takes function tools in chat completions
// only without reasoning (GPT-5.2 to 5.6): every chat request with tools
// would pass it over, or go without the effort under drop_params.
func (c *converter) toolsReasoning(pp string, d *Deployment) {
	if v, ok := d.Defaults["reasoning_effort"]; ok && d.Fit.ToolsWithoutReasoning && string(v) != `"none"` {
		c.warnf(pp+".reasoning_effort", "%s takes function tools in chat completions only with reasoning_effort none: every chat request with tools would "+
			"pass this deployment over, or go without the effort under drop_params (its Responses API takes both)", d.Model)
	}
}

// liteLLMErrorClasses are LiteLLM's error classes in allowed_fails_policy
// and retry_policy (without their AllowedFails/Retries suffix).
var liteLLMErrorClasses = []string{"BadRequestError", "AuthenticationError", "TimeoutError", "RateLimitError",
	"ContentPolicyViolationError", "InternalServerError"}

// liteLLMRetryClasses are the classes of LiteLLM's retry_policy: its
// error classes, and (since 2026) 503s, 404s and a default for errors
// with no class of their own (DefaultRetries).
var liteLLMRetryClasses = append(slices.Clip(liteLLMErrorClasses), "ServiceUnavailableError", "NotFoundError", "Default")

// clientErrorClasses are the classes of errors in the request itself,
// which breakerd never retries.
var clientErrorClasses = []string{"BadRequestError", "ContentPolicyViolationError", "NotFoundError"}

// liteLLMAllowedFails is LiteLLM's allowed_fails when a config sets none.
const liteLLMAllowedFails = 3

// allowedFailsPolicy maps LiteLLM's per-error allowed fails. LiteLLM
// allows each class named its own count and every other error (502, 503,
// 504, a refused connection) general, allowed_fails or LiteLLM's default.
// The breaker has one threshold, so it opens at the smallest of general
// and the counts of the classes it counts, + 1: a class allowed no more
// than general counts as a failure; one allowed more is left out, as
// counting it at a lower threshold would cool the deployment down on
// errors the user chose to tolerate. Client errors never count in
// breakerd, and 5xx always do.
func (c *converter) allowedFailsPolicy(p map[string]int, general int, bc *BreakerConfig) {
	const path = "router_settings.allowed_fails_policy"
	least, counted := general, []string{}
	for _, k := range slices.Sorted(maps.Keys(p)) {
		class, ok := strings.CutSuffix(k, "AllowedFails")
		if !ok || !slices.Contains(liteLLMErrorClasses, class) {
			c.unknownClass(path+"."+k, k, "AllowedFails", liteLLMErrorClasses)
			continue
		}
		if p[k] < 0 {
			c.errf(path+"."+k, "must not be negative, got %d", p[k])
			continue
		}
		count := p[k] <= general
		switch class {
		case "BadRequestError", "ContentPolicyViolationError":
			bc.FromLiteLLM = append(bc.FromLiteLLM, k+": a client error, never a provider failure in breakerd")
			continue
		case "AuthenticationError":
			bc.Conditions.Auth = count
		case "TimeoutError":
			bc.Conditions.Timeout = count
		case "RateLimitError":
			bc.Conditions.RateLimit = count
		case "InternalServerError":
			count = true // a 5xx always counts
		}
		if !count {
			bc.FromLiteLLM = append(bc.FromLiteLLM, fmt.Sprintf("%s %d: more than allowed_fails (%d), so not counted as a failure (the breaker has one threshold)", k, p[k], general))
			continue
		}
		counted = append(counted, class)
		least = min(least, p[k])
	}
	bc.Settings.ConsecutiveFailures, bc.Settings.WindowFailures, bc.Settings.Window = -1, least+1, time.Minute
	what := ""
	if len(counted) > 0 {
		what = " " + strings.Join(counted, ", ") + " count as failures;"
	}
	bc.FromLiteLLM = append(bc.FromLiteLLM, fmt.Sprintf("allowed_fails_policy:%s open after %d failures in a minute (one threshold: the smallest of allowed_fails (%d) and the counted classes' counts, + 1)",
		what, least+1, general))
}

// unknownClass reports a policy key that is not one of LiteLLM's error
// classes with suffix: a likely typo is an error that names the class
// meant; another is a warning.
func (c *converter) unknownClass(path, k, suffix string, classes []string) {
	var keys []string
	for _, c := range classes {
		keys = append(keys, c+suffix)
	}
	if n := nearest(k, keys); n != "" && likelyTypo(k, keys) {
		c.errf(path, "unknown key %q (did you mean %q?)", k, n)
		return
	}
	// LiteLLM's policy is a model of these keys, and it drops others
	// (NotFoundErrorRetries, DefaultRetries) without a word.
	c.warnf(path, "not one of the error classes of LiteLLM's policy (%s); ignored, as LiteLLM ignores it", strings.Join(keys, ", "))
}

// retryPolicy maps LiteLLM's per-error retries onto num_retries: breakerd
// retries counted failures only, with one count, so the largest given to
// a provider-side class (timeouts, rate limits, server and auth errors)
// applies; client errors are never retried.
func (c *converter) retryPolicy(p map[string]int, rt *Router) {
	if most := c.mostRetries("router_settings.retry_policy", p); most >= 0 {
		rt.NumRetries = most
		rt.Breaker.FromLiteLLM = append(rt.Breaker.FromLiteLLM, fmt.Sprintf("retry_policy: num_retries %d (the most it gives a provider-side error; client errors are never retried)", most))
	}
}

// groupRetryPolicies reads LiteLLM's model_group_retry_policy: a
// retry_policy per model group, which sets num_retries (the most it
// gives, as retry_policy's) for each of that group's deployments that
// sets none of its own.
func (c *converter) groupRetryPolicies(policies map[string]map[string]int, cfg *Config) {
	for _, group := range slices.Sorted(maps.Keys(policies)) {
		path := "router_settings.model_group_retry_policy." + group
		if !slices.Contains(cfg.Groups, group) {
			if n := nearest(group, cfg.Groups); n != "" && editDistance(group, n) <= 2 {
				c.errf(path, "unknown model group %q (did you mean %q?)", group, n)
			} else {
				c.warnf(path, "%q is not a model_name in model_list; ignored", group)
			}
			continue
		}
		most := c.mostRetries(path, policies[group])
		if most < 0 {
			continue
		}
		for i := range cfg.Deployments {
			if d := &cfg.Deployments[i]; d.Group == group && d.NumRetries == nil {
				d.NumRetries = &most
			}
		}
		cfg.Router.Breaker.FromLiteLLM = append(cfg.Router.Breaker.FromLiteLLM, fmt.Sprintf("model_group_retry_policy: %s's num_retries %d", group, most))
	}
}

// mostRetries checks a LiteLLM retry policy at path and returns the most
// retries it gives an error on the provider's side (-1 for none): client
// errors are never retried.
func (c *converter) mostRetries(path string, p map[string]int) int {
	most := -1
	for _, k := range slices.Sorted(maps.Keys(p)) {
		class, ok := strings.CutSuffix(k, "Retries")
		if !ok || !slices.Contains(liteLLMRetryClasses, class) {
			c.unknownClass(path+"."+k, k, "Retries", liteLLMRetryClasses)
			continue
		}
		if p[k] < 0 {
			c.errf(path+"."+k, "must not be negative, got %d", p[k])
			continue
		}
		if !slices.Contains(clientErrorClasses, class) && p[k] > most {
			most = p[k]
		}
	}
	return most
}

// callbackHint says what takes the place of LiteLLM's loggers.
const callbackHint = "breakerd's /metrics, OpenTelemetry (OTEL_* variables) and alerting take their place"

// callbacks reads LiteLLM's callbacks, success_callback and
// failure_callback: whether one names "prometheus", LiteLLM's metrics;
// each that names others gets a warning that breakerd does not run them.
func (c *converter) callbacks(ls rawLiteLLM) bool {
	prometheus := false
	for _, cb := range []struct {
		key string
		v   any
	}{{"callbacks", ls.Callbacks}, {"success_callback", ls.SuccessCallback}, {"failure_callback", ls.FailureCallback}} {
		if cb.v == nil {
			continue
		}
		p := "litellm_settings." + cb.key
		var names []string
		switch v := cb.v.(type) {
		case string:
			names = []string{v}
		case []any:
			for _, n := range v {
				s, ok := n.(string)
				if !ok {
					c.errf(p, "must be a list of callback names, as LiteLLM takes")
					return false
				}
				names = append(names, s)
			}
		default:
			c.errf(p, "must be a list of callback names, as LiteLLM takes")
			return false
		}
		if slices.Contains(names, "otel") {
			// breakerd's own OpenTelemetry export takes LiteLLM's place.
			set := func(k string) bool { v, ok := c.env(k); return ok && v != "" }
			if !set("OTEL_EXPORTER_OTLP_ENDPOINT") && !set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") && !set("OTEL_ENDPOINT") {
				c.warnf(p, "otel: breakerd exports spans once OTEL_EXPORTER_OTLP_ENDPOINT (or LiteLLM's OTEL_EXPORTER and OTEL_ENDPOINT) is set; none is")
			}
		}
		others := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == "prometheus" || n == "otel" })
		switch {
		case len(others) == 0:
		case len(others) == len(names):
			c.warnf(p, "a LiteLLM setting that breakerd does not use; ignored (%s)", callbackHint)
		default:
			c.warnf(p, "breakerd runs none of %s; ignored (%s); prometheus adds LiteLLM's metric names to /metrics, otel is breakerd's own OpenTelemetry export",
				strings.Join(others, ", "), callbackHint)
		}
		prometheus = prometheus || slices.Contains(names, "prometheus")
	}
	return prometheus
}

// cachePoints reads LiteLLM's cache_control_injection_points: each a
// message location, by role or by index.
func (c *converter) cachePoints(at string, raw []rawCachePoint) []CachePoint {
	var out []CachePoint
	for i, r := range raw {
		p := fmt.Sprintf("%s[%d]", at, i)
		switch {
		case r.Location != "message":
			c.errf(p+".location", "must be message (LiteLLM marks messages), got %q", r.Location)
			continue
		case (r.Role == "") == (r.Index == nil):
			c.errf(p, "names the messages to mark by role or by index, one of them")
			continue
		case r.Role != "" && !slices.Contains([]string{"system", "developer", "user", "assistant", "tool"}, r.Role):
			c.errf(p+".role", "must be system, developer, user, assistant or tool, got %q", r.Role)
			continue
		}
		control := `{"type":"ephemeral"}`
		if r.Control != nil {
			b, err := json.Marshal(r.Control)
			if err != nil {
				c.errf(p+".control", "cannot be sent as JSON: %v", err)
				continue
			}
			control = string(b)
		}
		out = append(out, CachePoint{Role: r.Role, Index: r.Index, Control: control})
	}
	return out
}

// regionOf is the region ("eu", "us") a cloud's region or location is
// in, as LiteLLM reads them for allowed_model_region: AWS's eu-west-1,
// Google's europe-west4 and us-central1; "" for any other.
func regionOf(cloudRegion string) string {
	switch r := strings.ToLower(cloudRegion); {
	case strings.HasPrefix(r, "eu-"), strings.HasPrefix(r, "europe-"):
		return "eu"
	case strings.HasPrefix(r, "us-"):
		return "us"
	}
	return ""
}
