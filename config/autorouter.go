package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/breakerd/breakerd/complexity"
)

// LiteLLM's auto routers are deployments (model: auto_router/<kind>) that
// pick, per request, one of the model groups they name: by the prompt's
// complexity, by what earlier answers taught them, or by embeddings of
// example prompts. breakerd serves a router's name as an alias of the
// group LiteLLM falls back to when it cannot decide (the router's default
// model), then of the router's other groups in turn, each through its own
// breakers. The complexity router's default scorer (complexity package)
// picks the group a request starts at, as LiteLLM's does; the others'
// judgement is not done, and a warning says so.

// autoRouterHint is the warning's hint for the semantic router's keys.
const autoRouterHint = "the semantic auto router's routes are not matched by breakerd: its requests go to auto_router_default_model"

// autoRouterKind is what breakerd knows of one of LiteLLM's auto routers.
type autoRouterKind struct {
	// picks says what LiteLLM picks a group by, for the warning.
	picks string
	// groups returns the groups the router names, in the order breakerd
	// tries them, each with the key that names it.
	groups func(pp string, rp rawParams) []candidate
}

// candidate is a model group an auto router names, and where.
type candidate struct{ group, at string }

// complexityTiers are the complexity router's tiers in the order breakerd
// tries them after its default model: the middle tier first (what an
// unremarkable request gets), then up, the cheapest last.
var complexityTiers = []string{"MEDIUM", "COMPLEX", "REASONING", "SIMPLE"}

// autoRouterKinds are LiteLLM's auto routers by the name after
// auto_router/; any other name is its semantic router.
var autoRouterKinds = map[string]autoRouterKind{
	"complexity_router": {picks: "the prompt's complexity", groups: func(pp string, rp rawParams) []candidate {
		cp := pp + ".complexity_router_config"
		var out []candidate
		if m := rp.ComplexityRouterDefaultModel; m != "" {
			out = append(out, candidate{m, pp + ".complexity_router_default_model"})
		}
		if m, ok := rp.ComplexityRouterConfig["default_model"].(string); ok && m != "" {
			out = append(out, candidate{m, cp + ".default_model"})
		}
		tiers, _ := rp.ComplexityRouterConfig["tiers"].(map[string]any)
		for _, t := range complexityTiers {
			for _, m := range tierModels(tiers[t]) {
				out = append(out, candidate{m, cp + ".tiers." + t})
			}
		}
		return out
	}},
	"adaptive_router": {picks: "what its sessions' feedback taught it", groups: func(pp string, rp rawParams) []candidate {
		return listed(pp+".adaptive_router_config.available_models", rp.AdaptiveRouterConfig["available_models"])
	}},
	"oracle_router": {picks: "each agentic program's verified outcomes", groups: func(pp string, rp rawParams) []candidate {
		return listed(pp+".oracle_router_config.available_models", rp.OracleRouterConfig["available_models"])
	}},
}

// semanticRouter is LiteLLM's first auto router, named as any
// auto_router/<name> not in autoRouterKinds.
var semanticRouter = autoRouterKind{picks: "embeddings of its routes' example prompts", groups: func(pp string, rp rawParams) []candidate {
	if m := rp.AutoRouterDefaultModel; m != "" {
		return []candidate{{m, pp + ".auto_router_default_model"}}
	}
	return nil
}}

// tierModels returns the groups a complexity tier names: a group, a
// {model_name, litellm_params} entry, or a list of either.
func tierModels(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case map[string]any:
		if m, ok := x["model_name"].(string); ok {
			return []string{m}
		}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, tierModels(e)...)
		}
		return out
	}
	return nil
}

// listed returns the groups of a list of names.
func listed(at string, v any) []candidate {
	list, _ := v.([]any)
	var out []candidate
	for i, e := range list {
		if m, ok := e.(string); ok && m != "" {
			out = append(out, candidate{m, fmt.Sprintf("%s[%d]", at, i)})
		}
	}
	return out
}

// autoRouter is an auto router deployment, read.
type autoRouter struct {
	name, at   string // its model_name, and where its model is
	kind       string
	picks      string
	candidates []candidate
	// scorer and tiers are a complexity router's; scorer is nil for
	// another router.
	scorer *complexity.Config
	tiers  [4][]candidate
}

// readAutoRouter notes the auto router deployment at p (model:
// auto_router/kind); its groups are checked once every group is known.
func (c *converter) readAutoRouter(p string, group, kind string, rp rawParams) {
	k, ok := autoRouterKinds[kind]
	if !ok {
		k = semanticRouter
	}
	r := autoRouter{name: group, at: p + ".litellm_params.model", kind: kind, picks: k.picks,
		candidates: k.groups(p+".litellm_params", rp)}
	if kind == "complexity_router" {
		r.scorer, r.tiers = c.complexityScorer(p+".litellm_params.complexity_router_config", rp.ComplexityRouterConfig)
	}
	c.autoRouters = append(c.autoRouters, r)
}

// complexityScorer reads a complexity router's scorer settings and its
// tiers' groups from complexity_router_config at p.
func (c *converter) complexityScorer(p string, cfg map[string]any) (*complexity.Config, [4][]candidate) {
	var sc complexity.Config
	var tiers [4][]candidate
	if t, ok := cfg["tiers"].(map[string]any); ok {
		for _, name := range slices.Sorted(maps.Keys(t)) {
			tier, ok := complexity.ParseTier(name)
			if !ok {
				c.errf(p+".tiers."+name, "unknown tier %q (SIMPLE, MEDIUM, COMPLEX or REASONING)", name)
				continue
			}
			for _, m := range tierModels(t[name]) {
				tiers[tier] = append(tiers[tier], candidate{m, p + ".tiers." + name})
			}
		}
	}
	if ct, ok := cfg["classifier_type"].(string); ok && ct != "heuristic" {
		c.warnf(p+".classifier_type", "%q is not done by breakerd: it scores prompts with LiteLLM's default heuristic", ct)
	}
	num := func(at string, v any) (float64, bool) {
		n, ok := number(v)
		if !ok {
			c.errf(at, "must be a number, got %v", v)
		}
		return n, ok
	}
	if b, ok := cfg["tier_boundaries"].(map[string]any); ok {
		for i, k := range []string{"simple_medium", "medium_complex", "complex_reasoning"} {
			if v, set := b[k]; set {
				sc.Boundaries[i], _ = num(p+".tier_boundaries."+k, v)
			}
		}
	}
	if th, ok := cfg["token_thresholds"].(map[string]any); ok {
		for k, dst := range map[string]*int{"simple": &sc.ShortTokens, "complex": &sc.LongTokens} {
			if v, set := th[k]; set {
				n, _ := num(p+".token_thresholds."+k, v)
				*dst = int(n)
			}
		}
	}
	if w, ok := cfg["dimension_weights"].(map[string]any); ok {
		sc.Weights = map[string]float64{}
		for _, k := range slices.Sorted(maps.Keys(w)) {
			if n, ok := num(p+".dimension_weights."+k, w[k]); ok {
				sc.Weights[k] = n
			}
		}
	}
	for k, dst := range map[string]*[]string{"code_keywords": &sc.Code, "reasoning_keywords": &sc.Reasoning,
		"technical_keywords": &sc.Technical, "simple_keywords": &sc.Simple} {
		if list, ok := cfg[k].([]any); ok {
			*dst = []string{}
			for _, e := range list {
				if s, ok := e.(string); ok && strings.TrimSpace(s) != "" {
					*dst = append(*dst, strings.TrimSpace(s))
				}
			}
		}
	}
	return &sc, tiers
}

// autoRouterAliases adds each auto router to aliases: its name for the
// first of its groups that breakerd serves, the others then tried in
// turn. A group no deployment serves is skipped, as a fallback to it is.
func (c *converter) autoRouterAliases(aliases map[string]Alias, groups []string) {
	for _, r := range c.autoRouters {
		if slices.Contains(groups, r.name) {
			c.warnf(r.at, "an auto router named %q, as a model group is: the group's deployments serve the name; the router is skipped", r.name)
			continue
		}
		if _, ok := aliases[r.name]; ok {
			c.warnf(r.at, "an auto router named %q, as router_settings.model_group_alias names an alias: the alias serves the name; the router is skipped", r.name)
			continue
		}
		// served is the group breakerd serves a candidate by, "" for none.
		served := func(g string) string {
			if a, ok := aliases[g]; ok {
				g = a.Group
			}
			if slices.Contains(groups, g) {
				return g
			}
			return ""
		}
		var to []string
		for _, cand := range r.candidates {
			switch g := served(cand.group); {
			case g != "" && !slices.Contains(to, g):
				to = append(to, g)
			case g == "" && !slices.Contains(c.named, cand.group):
				c.warnf(cand.at, "%q is not a model_name in model_list; the auto router %q skips it", cand.group, r.name)
			}
		}
		if len(to) == 0 {
			c.warnf(r.at, "auto router %q names no model group breakerd can call: requests for it get 404, and fallbacks to it are skipped", r.name)
			continue
		}
		a := Alias{Group: to[0]}
		if len(to) > 1 {
			a.Then = to[1:]
		}
		if r.scorer != nil {
			a.Complexity = &ComplexityRouter{Scorer: *r.scorer}
			for t, cands := range r.tiers {
				for _, cand := range cands {
					if g := served(cand.group); g != "" && !slices.Contains(a.Complexity.Tiers[t], g) {
						a.Complexity.Tiers[t] = append(a.Complexity.Tiers[t], g)
					}
				}
			}
		} else {
			c.warnf(r.at, "LiteLLM's auto router %q picks among its models by %s, which breakerd does not judge: its requests go to %s",
				r.name, r.picks, describeOrder(to))
		}
		aliases[r.name] = a
	}
}

// isAutoRouter reports whether name is an auto router's model_name.
func (c *converter) isAutoRouter(name string) bool {
	return slices.ContainsFunc(c.autoRouters, func(r autoRouter) bool { return r.name == name })
}

// describeOrder says in words that groups are tried in order.
func describeOrder(groups []string) string {
	if len(groups) == 1 {
		return groups[0]
	}
	return groups[0] + ", then " + strings.Join(groups[1:], ", then ") + " when the one before fails or its circuit is open"
}
