package config

import (
	"reflect"
	"strings"
	"testing"
)

// LiteLLM's header forwarding loads: general_settings' switch forwards
// every model's, model_group_settings' list its models' (a name that is
// no model_name is named in a warning), forward_openai_org_id the
// organization; a client's provider keys are not forwarded, and the
// warning says so.
func TestHeaderForwardingLoads(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-test-key}\n"
	for _, tc := range []struct {
		name, yaml string
		names      []string
		org        bool
		warning    string
	}{
		{"off", "", nil, false, ""},
		{"every model", "general_settings: {forward_client_headers_to_llm_api: true}\n", []string{"*"}, false, ""},
		{"some models", "litellm_settings: {model_group_settings: {forward_client_headers_to_llm_api: [a, \"team/*\", nowhere]}}\n",
			[]string{"a", "team/*", "nowhere"}, false,
			`litellm_settings.model_group_settings.forward_client_headers_to_llm_api[2]: "nowhere" is no model_name in model_list`},
		{"the organization", "general_settings: {forward_openai_org_id: true}\n", nil, true, ""},
		{"provider keys", "general_settings: {forward_client_headers_to_llm_api: true, forward_llm_provider_auth_headers: true}\n", []string{"*"}, false,
			"general_settings.forward_llm_provider_auth_headers: breakerd does not forward clients' provider keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(head+tc.yaml), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Router.ForwardHeaders, tc.names) || cfg.Router.ForwardOpenAIOrg != tc.org {
				t.Fatalf("forwarding %q, organization %v; want %q, %v", cfg.Router.ForwardHeaders, cfg.Router.ForwardOpenAIOrg, tc.names, tc.org)
			}
			all := strings.Join(cfg.Warnings, "\n")
			if tc.warning != "" && !strings.Contains(all, tc.warning) || strings.Contains(all, "forward") && tc.warning == "" {
				t.Fatalf("warnings:\n%s\nwant %q", all, tc.warning)
			}
		})
	}
}
