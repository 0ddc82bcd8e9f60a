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

// LiteLLM's allowed_ips load as ranges (an address is a range of one,
// IPv4-mapped IPv6 read as IPv4); an entry that is neither an address nor
// a CIDR range is an error at its line; use_x_forwarded_for without
// allowed_ips is warned about, as it changes nothing.
func TestAllowedIPsLoad(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: sk-test-key}\n"
	for _, tc := range []struct {
		name, yaml       string
		ranges           []string
		forwarded        bool
		warning, failure string
	}{
		{name: "unset", yaml: ""},
		{name: "null, as LiteLLM's configs write unset", yaml: "general_settings: {allowed_ips: null}\n"},
		{name: "addresses and ranges", yaml: "general_settings: {allowed_ips: [127.0.0.1, 10.1.2.3/8, '::ffff:192.0.2.1', '2001:db8::/32']}\n",
			ranges: []string{"127.0.0.1/32", "10.0.0.0/8", "192.0.2.1/32", "2001:db8::/32"}},
		{name: "behind a proxy", yaml: "general_settings: {allowed_ips: [10.0.0.0/8], use_x_forwarded_for: true}\n",
			ranges: []string{"10.0.0.0/8"}, forwarded: true},
		{name: "a forwarded address with no list", yaml: "general_settings: {use_x_forwarded_for: true}\n", forwarded: true,
			warning: "general_settings.use_x_forwarded_for: only says where allowed_ips finds the client's address, and allowed_ips is not set"},
		{name: "a host name", yaml: "general_settings: {allowed_ips: [10.0.0.1, localhost]}\n",
			failure: `t.yaml:4:44: general_settings.allowed_ips[1]: "localhost" is not an IP address (10.0.0.7) or a CIDR range (10.0.0.0/8)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseExpecting(t, []byte(head+tc.yaml), env(nil), tc.failure)
			if cfg == nil {
				return
			}
			var got []string
			for _, p := range cfg.Server.AllowedIPs {
				got = append(got, p.String())
			}
			if !reflect.DeepEqual(got, tc.ranges) || cfg.Server.ForwardedFor != tc.forwarded {
				t.Fatalf("ranges %q, forwarded %v; want %q, %v", got, cfg.Server.ForwardedFor, tc.ranges, tc.forwarded)
			}
			all := strings.Join(cfg.Warnings, "\n")
			if tc.warning != "" && !strings.Contains(all, tc.warning) || tc.warning == "" && len(cfg.Warnings) > 0 {
				t.Fatalf("warnings:\n%s\nwant %q", all, tc.warning)
			}
		})
	}
}

// LiteLLM's routing_groups load as per-model strategies (LiteLLM's names
// mapped as routing_strategy's are, with their lowest_latency_buffer); a
// group name given twice or "default", a model in two groups, or an
// unknown strategy is an error at its line; a model not in model_list is
// warned about.
func TestRoutingGroupsLoad(t *testing.T) {
	const head = "model_list:\n  - {model_name: a, litellm_params: {model: openai/x, api_key: sk-test-key}}\n" +
		"  - {model_name: b, litellm_params: {model: openai/y, api_key: sk-test-key}}\nrouter_settings:\n  routing_groups:\n"
	for _, tc := range []struct {
		name, yaml       string
		want             map[string]GroupStrategy
		warning, failure string
	}{
		{name: "strategies of their own",
			yaml: "    - {group_name: fast, models: [a], routing_strategy: latency-based-routing, routing_strategy_args: {lowest_latency_buffer: 0.2}}\n" +
				"    - {group_name: first, models: [b], routing_strategy: priority}\n",
			want: map[string]GroupStrategy{"a": {Strategy: "latency-based-routing", LatencyBuffer: 0.2}, "b": {Strategy: "ordered"}}},
		{name: "a model not in model_list", yaml: "    - {group_name: fast, models: [a, c], routing_strategy: least-busy}\n",
			want:    map[string]GroupStrategy{"a": {Strategy: "least-busy"}},
			warning: `t.yaml:6:38: router_settings.routing_groups[0].models[1]: "c" is no model_name in model_list; ignored`},
		{name: "default is reserved", yaml: "    - {group_name: default, models: [a], routing_strategy: least-busy}\n",
			failure: "router_settings.routing_groups[0].group_name: default is reserved"},
		{name: "a name twice", yaml: "    - {group_name: x, models: [a], routing_strategy: least-busy}\n    - {group_name: x, models: [b], routing_strategy: least-busy}\n",
			failure: `t.yaml:7:8: router_settings.routing_groups[1].group_name: "x" is also routing_groups[0]'s name`},
		{name: "a model in two groups", yaml: "    - {group_name: x, models: [a], routing_strategy: least-busy}\n    - {group_name: y, models: [a], routing_strategy: ordered}\n",
			failure: `router_settings.routing_groups[1].models[0]: "a" is in routing group "x" already`},
		{name: "an unknown strategy", yaml: "    - {group_name: x, models: [a], routing_strategy: least-bussy}\n",
			failure: `router_settings.routing_groups[0].routing_strategy: unknown routing strategy "least-bussy" (did you mean "least-busy"?)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseExpecting(t, []byte(head+tc.yaml), env(nil), tc.failure)
			if cfg == nil {
				return
			}
			if !reflect.DeepEqual(cfg.Router.GroupStrategies, tc.want) {
				t.Fatalf("group strategies %v, want %v", cfg.Router.GroupStrategies, tc.want)
			}
			if got := cfg.Router.StrategyOf("b"); tc.want["b"] == (GroupStrategy{}) && got.Strategy != "simple-shuffle" {
				t.Fatalf("a model in no routing group routes by %q, want routing_strategy's", got.Strategy)
			}
			all := strings.Join(cfg.Warnings, "\n")
			if tc.warning != "" && !strings.Contains(all, tc.warning) || tc.warning == "" && len(cfg.Warnings) > 0 {
				t.Fatalf("warnings:\n%s\nwant %q", all, tc.warning)
			}
		})
	}
}
