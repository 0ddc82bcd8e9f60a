package config

import (
	"fmt"
	"slices"
	"strings"
)

// forwarding reads LiteLLM's client header forwarding: general_settings'
// forward_client_headers_to_llm_api (every model: "*") and
// litellm_settings.model_group_settings' list of model names (a trailing
// * matches a prefix), and forward_openai_org_id. A client's own provider
// keys (forward_llm_provider_auth_headers) are not forwarded: breakerd
// calls providers with its deployments' keys.
func (c *converter) forwarding(g rawGeneral, l rawLiteLLM, groups []string, aliases map[string]Alias) (names []string, org bool) {
	on := func(b *bool) bool { return b != nil && *b }
	if on(g.ForwardClientHeaders) {
		names = []string{"*"}
	}
	wild := slices.ContainsFunc(groups, func(g string) bool { return strings.Contains(g, "*") })
	for i, n := range l.ModelGroupSettings.ForwardClientHeaders {
		if _, alias := aliases[n]; !strings.HasSuffix(n, "*") && !slices.Contains(groups, n) && !alias && !wild {
			c.warnf(fmt.Sprintf("litellm_settings.model_group_settings.forward_client_headers_to_llm_api[%d]", i),
				"%q is no model_name in model_list; no request is for it", n)
		}
		names = append(names, n)
	}
	if on(g.ForwardProviderAuth) {
		c.warnf("general_settings.forward_llm_provider_auth_headers", "breakerd does not forward clients' provider keys "+
			"(x-api-key, x-goog-api-key, api-key, ocp-apim-subscription-key): it calls providers with its deployments' keys; ignored")
	}
	return names, on(g.ForwardOpenAIOrg)
}
