package config

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
)

// affinityCheck reads one of LiteLLM's affinity checks into a, and reports
// whether check is one. breakerd always keeps a Responses request that
// continues a stored response (previous_response_id) or carries encrypted
// reasoning at the deployment that has it, so those two need no switch.
func affinityCheck(check string, a *Affinity) bool {
	switch check {
	case "session_affinity":
		a.Session = true
	case "deployment_affinity":
		a.Key = true
	case "prompt_caching":
		a.Prompt = true
	case "responses_api_deployment_check", "encrypted_content_affinity":
	default:
		return false
	}
	return true
}

// preCallHints say, for LiteLLM's other optional_pre_call_checks, what
// breakerd does instead.
var preCallHints = map[string]string{
	"router_budget_limiting": "provider_budget_config and deployments' max_budget are enforced without it",
}

// probes reads LiteLLM's background health checks: every
// health_check_interval seconds (300 by default, as in LiteLLM).
// policy is whether router_settings.allowed_fails_policy is set.
func (c *converter) probes(g rawGeneral, policy bool, groups []string) Probes {
	on := func(b *bool) bool { return b != nil && *b }
	if !on(g.BackgroundHealthChecks) {
		if on(g.EnableHealthCheckRouting) {
			c.warnf("general_settings.enable_health_check_routing", "needs general_settings.background_health_checks: true, as in LiteLLM; no health checks run")
		}
		return Probes{}
	}
	routing := on(g.EnableHealthCheckRouting)
	p := Probes{Interval: c.duration("general_settings.health_check_interval", g.HealthCheckInterval, 300*time.Second, false),
		Routing: routing, IgnoreTransient: on(g.HealthCheckIgnoreTransient), TripAtOnce: routing && !policy}
	if g.HealthCheckModelGroups != nil {
		p.Groups = []string{}
		for i, name := range g.HealthCheckModelGroups {
			if !slices.Contains(groups, name) {
				c.warnf(fmt.Sprintf("general_settings.background_health_check_model_groups[%d]", i), "%q is no model_name in model_list; nothing is checked for it", name)
				continue
			}
			p.Groups = append(p.Groups, name)
		}
	}
	return p
}

// check reads a deployment's own health check settings, LiteLLM's
// model_info.health_check_* keys, at p (model_list[i]).
func (c *converter) check(p string, d Deployment, mi rawModelInfo) Check {
	var ck Check
	ck.Off = mi.DisableBackgroundHealthCheck != nil && *mi.DisableBackgroundHealthCheck
	if mi.HealthCheckTimeout != nil {
		ck.Timeout = c.duration(p+".model_info.health_check_timeout", mi.HealthCheckTimeout, 0, false)
	}
	if mi.HealthCheckMaxTokens != nil {
		n := c.count(p+".model_info.health_check_max_tokens", mi.HealthCheckMaxTokens, 0, false)
		ck.MaxTokens = &n
	}
	ck.NoMaxTokens = mi.HealthCheckSupportsMaxTokens != nil && !*mi.HealthCheckSupportsMaxTokens
	params := maps.Clone(mi.HealthCheckParams)
	if mi.HealthCheckReasoningEffort != nil {
		if params == nil {
			params = map[string]any{}
		}
		params["reasoning_effort"] = mi.HealthCheckReasoningEffort
	}
	for _, k := range slices.Sorted(maps.Keys(params)) {
		at := p + ".model_info.health_check_params." + k
		if k == "model" || k == "stream" {
			c.errf(at, "is the check's own: breakerd checks the deployment's model, without streaming")
			continue
		}
		c.setJSON(at, &ck.Params, k, params[k])
	}
	if m := c.resolve(p+".model_info.health_check_model", mi.HealthCheckModel); m != "" {
		ck.Model = c.checkModel(p+".model_info.health_check_model", d, m)
	}
	return ck
}

// checkModel turns a wildcard deployment's health_check_model (a model
// as litellm_params.model writes it: "openai/gpt-4o-mini" for
// "openai/*") into the name a client would ask for to reach it, so that
// the check goes through the breakers clients' calls to it use. It
// warns, and returns "", where there is none.
func (c *converter) checkModel(at string, d Deployment, model string) string {
	if !d.Wildcard {
		c.warnf(at, "applies to wildcard deployments (model: provider/*); this deployment is checked with its own model, %s", d.ModelRef)
		return ""
	}
	star, ok := model, d.ModelRef == "*"
	if !ok {
		star, ok = MatchGroup(d.ModelRef, model)
	}
	if !ok || !strings.Contains(d.Group, "*") {
		c.warnf(at, "%q is not a model this deployment (%s, model_name %q) serves; it is checked for the models clients ask it for", model, d.ModelRef, d.Group)
		return ""
	}
	return strings.Replace(d.Group, "*", star, 1)
}

// ownPaths are the paths breakerd serves itself outside the APIs: a
// pass-through endpoint there would never be reached.
var ownPaths = []string{"/", "/health", "/livez", "/readyz", "/metrics", "/status.json", "/provider/budgets"}

// passThrough reads LiteLLM's pass_through_endpoints.
func (c *converter) passThrough(raw []rawPassThrough) []PassThrough {
	var out []PassThrough
	on := func(b *bool) bool { return b != nil && *b }
	for i, r := range raw {
		p := fmt.Sprintf("general_settings.pass_through_endpoints[%d]", i)
		pt := PassThrough{Path: c.resolve(p+".path", r.Path), Target: c.resolve(p+".target", r.Target),
			ForwardHeaders: on(r.ForwardHeaders), IncludeSubpath: on(r.IncludeSubpath), Auth: on(r.Auth)}
		switch {
		case !strings.HasPrefix(pt.Path, "/"):
			c.errf(p+".path", "must be a path, starting with /, got %q", pt.Path)
			continue
		case slices.Contains(ownPaths, pt.Path) || strings.HasPrefix(pt.Path, "/health/") || strings.HasPrefix(pt.Path, "/admin/"):
			c.warnf(p+".path", "%s is one of breakerd's own paths: requests to it are breakerd's, not relayed", pt.Path)
			continue
		case slices.ContainsFunc(out, func(o PassThrough) bool { return o.Path == pt.Path }):
			c.errf(p+".path", "%s is relayed by an earlier entry already", pt.Path)
			continue
		}
		if u, err := url.Parse(pt.Target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			c.errf(p+".target", "must be an http:// or https:// URL, got %q", pt.Target)
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(r.Headers)) {
			v, ok := r.Headers[k].(string)
			if !ok {
				v = fmt.Sprint(r.Headers[k])
			}
			if pt.Headers == nil {
				pt.Headers = map[string]Secret{}
			}
			pt.Headers[k] = Secret(c.resolve(p+".headers."+k, v))
		}
		out = append(out, pt)
	}
	return out
}
