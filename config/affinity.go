package config

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
	case "responses_api_deployment_check", "encrypted_content_affinity":
	default:
		return false
	}
	return true
}

// preCallHints say, for LiteLLM's other optional_pre_call_checks, what
// breakerd does instead.
var preCallHints = map[string]string{
	"prompt_caching":         "session_affinity keeps a session's turns, and the prompt cache they warm, at one deployment",
	"router_budget_limiting": "provider_budget_config and deployments' max_budget are enforced without it",
}
