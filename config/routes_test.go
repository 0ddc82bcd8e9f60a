package config

import (
	"reflect"
	"strings"
	"testing"
)

// LiteLLM's route controls load: allowed_routes and public_routes as
// listed (LiteLLM's API route groups as every route, its other groups
// left out), an entry that is no path an error at its line,
// admin_only_routes warned about, and max_request_size_mb as the body
// limit unless server.max_body_bytes is set.
func TestRouteControlsLoad(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-test-key}\n"
	for _, tc := range []struct {
		name, yaml       string
		allowed, public  []string
		body             int64
		warning, failure string
	}{
		{"unset", "", nil, nil, DefaultMaxBodyBytes, "", ""},
		{"listed", "general_settings: {allowed_routes: [/chat/completions, \"/v1/files/*\", LiteLLMRoutes.public_routes], public_routes: [LiteLLMRoutes.public_routes, /models]}\n",
			[]string{"/chat/completions", "/v1/files/*"}, []string{"/models"}, DefaultMaxBodyBytes, "", ""},
		{"LiteLLM's API routes", "general_settings: {allowed_routes: [LiteLLMRoutes.openai_routes]}\n", []string{"/*"}, nil, DefaultMaxBodyBytes, "", ""},
		{"none of breakerd's", "general_settings: {allowed_routes: [LiteLLMRoutes.management_routes]}\n", []string{}, nil, DefaultMaxBodyBytes,
			"general_settings.allowed_routes: names none of breakerd's routes: every API route gets a 403", ""},
		{"empty, as unset", "general_settings: {allowed_routes: []}\n", nil, nil, DefaultMaxBodyBytes, "", ""},
		{"admin routes", "general_settings: {admin_only_routes: [/key/generate]}\n", nil, nil, DefaultMaxBodyBytes,
			"general_settings.admin_only_routes: breakerd has none of LiteLLM's admin routes", ""},
		{"a body limit", "general_settings: {max_request_size_mb: 2.5}\n", nil, nil, 5 << 19, "", ""},
		{"server's body limit wins", "general_settings: {max_request_size_mb: 2}\nserver: {max_body_bytes: 1000}\n", nil, nil, 1000, "", ""},
		{"not a path", "general_settings: {allowed_routes: [chat/completions]}\n", nil, nil, 0, "",
			`t.yaml:4:37: general_settings.allowed_routes[0]: "chat/completions" is not a route`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseExpecting(t, []byte(head+tc.yaml), env(nil), tc.failure)
			if cfg == nil {
				return
			}
			s := cfg.Server
			if !reflect.DeepEqual(s.AllowedRoutes, tc.allowed) || !reflect.DeepEqual(s.PublicRoutes, tc.public) || s.MaxBodyBytes != tc.body {
				t.Fatalf("allowed %#v, public %#v, body %d; want %#v, %#v, %d", s.AllowedRoutes, s.PublicRoutes, s.MaxBodyBytes, tc.allowed, tc.public, tc.body)
			}
			all := strings.Join(cfg.Warnings, "\n")
			if tc.warning != "" && !strings.Contains(all, tc.warning) || tc.warning == "" && strings.Contains(all, "routes") {
				t.Fatalf("warnings:\n%s\nwant %q", all, tc.warning)
			}
		})
	}
}
