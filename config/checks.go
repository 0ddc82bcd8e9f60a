package config

import "time"

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
func (c *converter) probes(g rawGeneral, policy bool) Probes {
	on := func(b *bool) bool { return b != nil && *b }
	if !on(g.BackgroundHealthChecks) {
		if on(g.EnableHealthCheckRouting) {
			c.warnf("general_settings.enable_health_check_routing", "needs general_settings.background_health_checks: true, as in LiteLLM; no health checks run")
		}
		return Probes{}
	}
	routing := on(g.EnableHealthCheckRouting)
	return Probes{Interval: c.duration("general_settings.health_check_interval", g.HealthCheckInterval, 300*time.Second, false),
		Routing: routing, IgnoreTransient: on(g.HealthCheckIgnoreTransient), TripAtOnce: routing && !policy}
}
