package config

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml/parser"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

// seedPath is the seed guide's litellm_config.yaml, shared with the project.
func seedPath(t *testing.T) string {
	t.Helper()
	p := filepath.Join("..", "..", "shared", "seeds", "litellm_config.yaml")
	if _, err := os.Stat(p); err != nil {
		p = filepath.Join("testdata", "litellm_config.yaml")
	}
	return p
}

func TestSeedConfigLoadsUnchanged(t *testing.T) {
	data, err := os.ReadFile(seedPath(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("litellm_config.yaml", data, env(map[string]string{"OPENAI_API_KEY": "sk-openai-test", "ANTHROPIC_API_KEY": "sk-ant-test"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Deployments) != 2 || cfg.Deployments[0].Provider != "openai" || cfg.Deployments[1].Provider != "anthropic" {
		t.Fatalf("deployments %+v", cfg.Deployments)
	}
	if cfg.Deployments[0].APIKey.Value() != "sk-openai-test" {
		t.Fatal("os.environ/OPENAI_API_KEY was not resolved")
	}
	r := cfg.Router
	if r.Strategy != "least-cost" {
		t.Fatalf("strategy %q", r.Strategy)
	}
	s := r.Breaker.Settings
	if !r.Breaker.Enabled || s.ConsecutiveFailures != 5 || s.Window != 60*time.Second || s.OpenTimeout != 30*time.Second || s.SuccessThreshold != 2 {
		t.Fatalf("breaker %+v", r.Breaker)
	}
	c := r.Breaker.Conditions
	if !c.Timeout || !c.RateLimit || !c.Counts(503) || c.Counts(501) || !c.Counts(401) || c.Counts(400) {
		t.Fatalf("conditions %+v", c)
	}
	if got := strings.Join(r.Fallbacks["gpt-4o-mini"], ","); got != "claude-3-5-sonnet" {
		t.Fatalf("fallbacks of gpt-4o-mini: %q", got)
	}
	// The undefined fallback, and the Claude model Anthropic has retired
	// since the guide was written.
	warningsStartWith(t, cfg.Warnings, []string{
		`litellm_config.yaml:40:7: router_settings.fallbacks[1]: fallback "gpt-4o-azure"`,
		"litellm_config.yaml:10:7: model_list[1].litellm_params.model: anthropic/claude-3-5-sonnet-20241022 was retired by Anthropic on 2025-10-22",
	})
	if n := cfg.Alerting.Notifiers; len(n) != 2 || n[0].Type != "webhook" || n[0].URL.Value() != "https://your-app.com/webhooks/circuit-breaker" ||
		n[1].Type != "slack" || n[1].WebhookURL.Value() != "https://hooks.slack.com/services/YOUR/WEBHOOK" {
		t.Fatalf("alerting %+v", cfg.Alerting)
	}
}

// A LiteLLM proxy config loads as it is: the settings of features breakerd
// does not have are ignored, each with a warning at its position, and
// general_settings.master_key is read.
func TestLiteLLMProxyConfigLoadsWithWarnings(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "litellm_proxy_config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("proxy.yaml", data, env(map[string]string{"OPENAI_API_KEY": "sk-openai-test",
		"LITELLM_MASTER_KEY": "sk-master-0123456789"}))
	if err != nil {
		t.Fatal(err)
	}
	// litellm_settings.request_timeout is every call's default timeout;
	// router_settings.num_retries wins over litellm_settings'.
	if cfg.Deployments[0].Timeout != 45*time.Second || cfg.Deployments[1].Timeout != 45*time.Second {
		t.Fatalf("timeouts %s, %s: want litellm_settings.request_timeout", cfg.Deployments[0].Timeout, cfg.Deployments[1].Timeout)
	}
	if got := cfg.Deployments[1].APIKey.Value(); got != "azure-key-from-the-file" {
		t.Fatalf("AZURE_API_KEY resolved to %q, want the environment_variables value", got)
	}
	if cfg.Server.MasterKey.Value() != "sk-master-0123456789" {
		t.Fatal("general_settings.master_key was not resolved")
	}
	if len(cfg.Deployments) != 2 || cfg.Router.NumRetries != 2 || cfg.Router.Strategy != "simple-shuffle" {
		t.Fatalf("the settings breakerd uses were not all read: %+v", cfg.Router)
	}
	// rpm weights the first (no weight set), weight the second.
	if w0, w1 := cfg.Deployments[0].Weight, cfg.Deployments[1].Weight; w0 != 600 || w1 != 2 {
		t.Fatalf("simple-shuffle weights %v and %v, want 600 (rpm) and 2 (weight)", w0, w1)
	}
	// allowed_fails and cooldown_time drive the breaker (no circuit_breaker
	// block): failures in a minute, as LiteLLM counts them, not in a row.
	if s := cfg.Router.Breaker.Settings; s.WindowFailures != 4 || s.Window != time.Minute || s.ConsecutiveFailures >= 0 || s.OpenTimeout != 30*time.Second {
		t.Fatalf("breaker %d failures in %s (%d in a row), open %s: want allowed_fails+1 in a minute, none in a row, and cooldown_time",
			s.WindowFailures, s.Window, s.ConsecutiveFailures, s.OpenTimeout)
	}
	want := []string{
		"proxy.yaml:34:3: general_settings.database_url: a LiteLLM setting",
		"proxy.yaml:23:3: litellm_settings.success_callback: a LiteLLM setting",
		"proxy.yaml:8:7: model_list[0].litellm_params.rpm: weights simple-shuffle routing, as in LiteLLM, and is a limit only with router_settings.enable_pre_call_checks: true",
		"proxy.yaml:9:7: model_list[0].litellm_params.tpm: weights simple-shuffle routing",
	}
	warningsStartWith(t, cfg.Warnings, want)
}

// parseExpecting parses yaml as t.yaml. With wantErr set, it checks that
// parsing fails with an error containing it and returns nil; otherwise it
// fails the test on any error.
func parseExpecting(t *testing.T, yaml []byte, env func(string) (string, bool), wantErr string) *Config {
	t.Helper()
	cfg, err := Parse("t.yaml", yaml, env)
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("error %v, want one containing %q", err, wantErr)
		}
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// warningsStartWith checks that there are as many warnings as prefixes and
// that each starts with its prefix.
func warningsStartWith(t *testing.T, got, prefixes []string) {
	t.Helper()
	if len(got) != len(prefixes) {
		t.Fatalf("got %d warnings, want %d:\n%s", len(got), len(prefixes), strings.Join(got, "\n"))
	}
	for i, p := range prefixes {
		if !strings.HasPrefix(got[i], p) {
			t.Errorf("warning %d\n%s\nwant it to start with\n%s", i, got[i], p)
		}
	}
}

// rpm and tpm are limits only when LiteLLM's pre-call checks are on, as in
// LiteLLM; otherwise they only weight simple-shuffle, and a warning says so.
func TestRateLimitsNeedPreCallChecks(t *testing.T) {
	const deployment = "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n      api_key: sk-test-key\n" +
		"      rpm: 60\n      tpm: 1000\n"
	tests := []struct {
		name     string
		router   string
		enforce  bool
		warnings []string
	}{
		{name: "without pre-call checks rpm and tpm only weight", enforce: false, warnings: []string{
			"t.yaml:6:7: model_list[0].litellm_params.rpm: weights simple-shuffle routing, as in LiteLLM, and is a limit only with",
			"t.yaml:7:7: model_list[0].litellm_params.tpm: weights simple-shuffle routing"}},
		{name: "enable_pre_call_checks enforces them", router: "router_settings:\n  enable_pre_call_checks: true\n", enforce: true},
		{name: "enforce_model_rate_limits enforces them, and other checks are named as not done",
			router: "router_settings:\n  optional_pre_call_checks: [enforce_model_rate_limits, router_budget_limiting]\n", enforce: true,
			warnings: []string{`t.yaml:9:57: router_settings.optional_pre_call_checks[1]: "router_budget_limiting" is a LiteLLM check that breakerd does not do; ignored (provider_budget_config`}},
		{name: "enable_pre_call_checks: false leaves them weights", router: "router_settings:\n  enable_pre_call_checks: false\n", enforce: false,
			warnings: []string{"t.yaml:6:7: model_list[0].litellm_params.rpm:", "t.yaml:7:7: model_list[0].litellm_params.tpm:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(deployment+tc.router), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			d := cfg.Deployments[0]
			if cfg.Router.EnforceRateLimits != tc.enforce || d.RPM != 60 || d.TPM != 1000 || d.Weight != 60 {
				t.Fatalf("enforce %v, rpm %v, tpm %v, weight %v", cfg.Router.EnforceRateLimits, d.RPM, d.TPM, d.Weight)
			}
			warningsStartWith(t, cfg.Warnings, tc.warnings)
		})
	}
}

// Numbers and booleans may come from the environment too, as in
// "max_parallel_requests: os.environ/N"; a value that is not one is an
// error at the reference's position that does not quote the value.
func TestEnvironmentReferencesInNumbersAndBooleans(t *testing.T) {
	const yaml = "environment_variables:\n  FILE_RPM: \"90\"\n" +
		"model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n      api_key: sk-unused-key\n" +
		"      max_parallel_requests: os.environ/N\n      weight: ${W}\n      rpm: os.environ/FILE_RPM\n" +
		"router_settings:\n  circuit_breaker:\n    enabled: os.environ/ON\n    failure_rate_threshold: ${RATE}\n"
	good := map[string]string{"N": " 12 ", "W": "2.5", "ON": "false", "RATE": "1"}
	with := func(k, v string) map[string]string {
		m := maps.Clone(good)
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	t.Run("resolved", func(t *testing.T) {
		cfg, err := Parse("t.yaml", []byte(yaml), env(good))
		if err != nil {
			t.Fatal(err)
		}
		d := cfg.Deployments[0]
		if d.MaxParallel != 12 || d.Weight != 2.5 || d.RPM != 90 || cfg.Router.Breaker.Enabled ||
			cfg.Router.Breaker.Settings.FailureRateThreshold != 1 {
			t.Fatalf("max_parallel %d, weight %v, rpm %v, enabled %v, rate %v", d.MaxParallel, d.Weight, d.RPM,
				cfg.Router.Breaker.Enabled, cfg.Router.Breaker.Settings.FailureRateThreshold)
		}
	})
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"a variable that is not set", with("N", ""), "t.yaml:8:7: model_list[0].litellm_params.max_parallel_requests: environment variable N is not set"},
		{"not a whole number", with("N", "sk-looks-like-a-key"), "t.yaml:8:7: model_list[0].litellm_params.max_parallel_requests: os.environ/N must be a whole number, and it is not"},
		{"not a number", with("W", "heavy"), "t.yaml:9:7: model_list[0].litellm_params.weight: ${W} must be a number, and it is not"},
		{"not a boolean", with("ON", "sometimes"), "t.yaml:13:5: router_settings.circuit_breaker.enabled: os.environ/ON must be true or false, and it is not"},
		{"checked like a literal once resolved", with("N", "-3"), "t.yaml:8:7: model_list[0].litellm_params.max_parallel_requests: must be"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(yaml), env(tc.env))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant it to start with %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "sk-looks-like-a-key") || strings.Contains(err.Error(), "heavy") {
				t.Fatalf("the error quotes the variable's value: %v", err)
			}
		})
	}
}

// LiteLLM's model_group_alias and default_fallbacks load as LiteLLM reads
// them.
func TestAliasesAndDefaultFallbacks(t *testing.T) {
	const groups = "model_list:\n" +
		"  - model_name: fast\n    litellm_params: {model: openai/a, api_key: sk-unused-key}\n" +
		"  - model_name: smart\n    litellm_params: {model: openai/b, api_key: sk-unused-key}\n" +
		"  - model_name: spare\n    litellm_params: {model: openai/c, api_key: sk-unused-key}\n" +
		"router_settings:\n"
	t.Run("aliases, plain and hidden", func(t *testing.T) {
		cfg, err := Parse("t.yaml", []byte(groups+"  model_group_alias:\n    gpt-4: smart\n    internal: {model: fast, hidden: true}\n"), env(nil))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]Alias{"gpt-4": {Group: "smart"}, "internal": {Group: "fast", Hidden: true}}
		if !reflect.DeepEqual(cfg.Router.Aliases, want) {
			t.Fatalf("aliases %v, want %v", cfg.Router.Aliases, want)
		}
	})
	t.Run("an alias named as a group wins, as in LiteLLM, with a warning", func(t *testing.T) {
		cfg, err := Parse("t.yaml", []byte(groups+"  model_group_alias: {fast: smart, spare: spare}\n"), env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]Alias{"fast": {Group: "smart"}}; !reflect.DeepEqual(cfg.Router.Aliases, want) {
			t.Fatalf("aliases %v, want %v", cfg.Router.Aliases, want)
		}
		warningsStartWith(t, cfg.Warnings, []string{
			`t.yaml:9:23: router_settings.model_group_alias.fast: "fast" is also a model_name in model_list: requests for it go to "smart", as in LiteLLM, where the alias wins; its own deployments serve no request`,
			`t.yaml:9:36: router_settings.model_group_alias.spare: names its own model group; the alias does nothing and is skipped`,
		})
	})
	t.Run("context_window_fallbacks", func(t *testing.T) {
		cfg, err := Parse("t.yaml", []byte(groups+"  context_window_fallbacks: [{fast: [smart, spare]}]\n"), env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Router.ContextWindowFallbacks; !slices.Equal(got["fast"], []string{"smart", "spare"}) || len(got["smart"]) != 0 ||
			len(cfg.Router.Fallbacks["fast"]) != 0 {
			t.Fatalf("context-window fallbacks %v, fallbacks %v", got, cfg.Router.Fallbacks)
		}
	})
	t.Run("default_fallbacks serve the groups without their own", func(t *testing.T) {
		cfg, err := Parse("t.yaml", []byte(groups+"  fallbacks: [{fast: [smart]}]\n  default_fallbacks: [spare]\n"), env(nil))
		if err != nil {
			t.Fatal(err)
		}
		got := cfg.Router.Fallbacks
		if !slices.Equal(got["fast"], []string{"smart"}) || !slices.Equal(got["smart"], []string{"spare"}) || len(got["spare"]) != 0 {
			t.Fatalf("fallbacks %v", got)
		}
	})
	t.Run("max_fallbacks keeps each group's first fallbacks of every kind", func(t *testing.T) {
		cfg, err := Parse("t.yaml", []byte(groups+"  fallbacks: [{fast: [smart, spare]}, {smart: [spare]}]\n"+
			"  context_window_fallbacks: [{fast: [spare, smart]}]\n  max_fallbacks: 1\n"), env(nil))
		if err != nil {
			t.Fatal(err)
		}
		rt := cfg.Router
		if !slices.Equal(rt.Fallbacks["fast"], []string{"smart"}) || !slices.Equal(rt.Fallbacks["smart"], []string{"spare"}) ||
			!slices.Equal(rt.ContextWindowFallbacks["fast"], []string{"spare"}) {
			t.Fatalf("fallbacks %v, context-window fallbacks %v", rt.Fallbacks, rt.ContextWindowFallbacks)
		}
		warningsStartWith(t, cfg.Warnings, []string{
			`t.yaml:9:3: router_settings.fallbacks: model group "fast" has 2 fallbacks, but max_fallbacks is 1: spare will not be tried`,
			`t.yaml:10:3: router_settings.context_window_fallbacks: model group "fast" has 2 fallbacks, but max_fallbacks is 1: smart will not be tried`,
		})
	})
	t.Run("max_fallbacks is LiteLLM's 5 by default", func(t *testing.T) {
		var list strings.Builder
		for i := range 7 {
			fmt.Fprintf(&list, "  - model_name: g%d\n    litellm_params: {model: openai/g, api_key: sk-unused-key}\n", i)
		}
		cfg, err := Parse("t.yaml", []byte("model_list:\n"+list.String()+
			"router_settings:\n  fallbacks: [{g0: [g1, g2, g3, g4, g5, g6]}]\n"), env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Router.Fallbacks["g0"]; !slices.Equal(got, []string{"g1", "g2", "g3", "g4", "g5"}) || cfg.Router.MaxFallbacks != 5 {
			t.Fatalf("fallbacks of g0 %v, max %d", got, cfg.Router.MaxFallbacks)
		}
		warningsStartWith(t, cfg.Warnings, []string{`t.yaml:17:3: router_settings.fallbacks: model group "g0" has 6 fallbacks, but max_fallbacks is 5: g6 will not be tried`})
	})
	tests := []struct {
		name, router, want string
	}{
		{"max_fallbacks must not be negative", "  max_fallbacks: -1\n",
			"t.yaml:9:3: router_settings.max_fallbacks: must not be negative, got -1"},
		{"an alias to a near miss is a typo", "  model_group_alias: {gpt-4: smrt}\n",
			`t.yaml:9:23: router_settings.model_group_alias.gpt-4: unknown model group "smrt" (did you mean "smart"?)`},
		{"an alias without a group", "  model_group_alias: {gpt-4: {hidden: true}}\n",
			"t.yaml:9:23: router_settings.model_group_alias.gpt-4: must name a model group"},
		{"hidden must be a boolean", "  model_group_alias: {gpt-4: {model: smart, hidden: maybe}}\n",
			"t.yaml:9:45: router_settings.model_group_alias.gpt-4.hidden: must be true or false"},
		{"a context-window fallback near miss is a typo", "  context_window_fallbacks: [{fast: [smrt]}]\n",
			`t.yaml:9:38: router_settings.context_window_fallbacks[0].fast[0]: unknown model group "smrt" (did you mean "smart"?)`},
		{"a default fallback near miss is a typo", "  default_fallbacks: [spar]\n",
			`t.yaml:9:23: router_settings.default_fallbacks[0]: unknown model group "spar" (did you mean "spare"?)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(groups+tc.router), env(nil))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant it to start with %s", err, tc.want)
			}
		})
	}
	t.Run("an alias to an unknown group loads with a warning and is skipped", func(t *testing.T) {
		cfg, err := Parse("t.yaml", []byte(groups+"  model_group_alias: {gpt-4: gpt-4-turbo-elsewhere}\n"), env(nil))
		if err != nil {
			t.Fatal(err)
		}
		warningsStartWith(t, cfg.Warnings, []string{`t.yaml:9:23: router_settings.model_group_alias.gpt-4: "gpt-4-turbo-elsewhere" is not a model_name`})
		if len(cfg.Router.Aliases) != 0 {
			t.Fatalf("aliases %v", cfg.Router.Aliases)
		}
	})
}

// LiteLLM's environment_variables block answers os.environ/NAME and
// ${NAME}, but a variable set in the process environment wins, so an
// operator can override the file.
func TestEnvironmentVariablesBlock(t *testing.T) {
	const yaml = "environment_variables:\n  KEY: from-the-file-1\n  HOST: file.example\n  PORT: 8443\n" +
		"model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n" +
		"      api_key: os.environ/KEY\n      api_base: https://${HOST}:${PORT}/v1\n"
	tests := []struct {
		name     string
		env      map[string]string
		wantKey  string
		wantBase string
	}{
		{"the file answers, numbers as text", nil, "from-the-file-1", "https://file.example:8443/v1"},
		{"the process environment wins", map[string]string{"KEY": "from-the-env-22"}, "from-the-env-22", "https://file.example:8443/v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(yaml), env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if d := cfg.Deployments[0]; d.APIKey.Value() != tt.wantKey || d.APIBase != tt.wantBase {
				t.Fatalf("api_key %q, api_base %q; want %q, %q", d.APIKey.Value(), d.APIBase, tt.wantKey, tt.wantBase)
			}
		})
	}
}

// litellm_settings.num_retries applies when router_settings sets none,
// and a deployment's own timeout wins over request_timeout.
func TestLiteLLMSettingsAreDefaults(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n      timeout: 5\n" +
		"litellm_settings:\n  num_retries: 4\n  request_timeout: 45\n"
	tests := []struct {
		name        string
		router      string
		wantRetries int
	}{
		{"litellm_settings alone", "", 4},
		{"router_settings wins", "router_settings:\n  num_retries: 1\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(head+tt.router), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Router.NumRetries != tt.wantRetries || cfg.Deployments[0].Timeout != 5*time.Second {
				t.Fatalf("num_retries %d, timeout %s; want %d and the deployment's 5s", cfg.Router.NumRetries, cfg.Deployments[0].Timeout, tt.wantRetries)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n"
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want []string
	}{
		{name: "unknown key with a suggestion", yaml: head + "      api_kye: k\n",
			want: []string{`t.yaml:5:7: model_list[0].litellm_params.api_kye: unknown key "api_kye" (did you mean "api_key"?)`}},
		{name: "callbacks that are not names", yaml: head + "litellm_settings:\n  callbacks: {prometheus: true}\n",
			want: []string{`t.yaml:6:3: litellm_settings.callbacks: must be a list of callback names, as LiteLLM takes`}},
		{name: "a top-level key a letter or two from one is a typo", yaml: head + "router_setings: {}\n",
			want: []string{`t.yaml:5:1: router_setings: unknown key "router_setings" (did you mean "router_settings"?)`}},
		{name: "an unknown key where breakerd has its own keys lists them", yaml: head + "server: {zzzzzzzzzz: 1}\n",
			want: []string{`t.yaml:5:10: server.zzzzzzzzzz: unknown key "zzzzzzzzzz" (valid keys: `}},
		{name: "a missing variable of the only deployment", yaml: head + "      api_key: os.environ/NOPE_KEY\n",
			want: []string{`t.yaml:1:1: model_list: none of its 1 deployments can be called by breakerd, for the reasons that follow`,
				`t.yaml:5:7: model_list[0].litellm_params.api_key: environment variable NOPE_KEY is not set`}},
		{name: "a missing ${} variable of the only deployment", yaml: head + "      api_base: https://${NOPE_HOST}/v1\n",
			want: []string{`t.yaml:5:7: model_list[0].litellm_params.api_base: environment variable NOPE_HOST is not set`}},
		{name: "a missing variable outside model_list", yaml: head + "server:\n  listen: ${NOPE_LISTEN}\n",
			want: []string{`t.yaml:6:3: server.listen: environment variable NOPE_LISTEN is not set`}},
		{name: "negative duration", yaml: head + "router_settings:\n  circuit_breaker:\n    recovery_timeout: -3\n",
			want: []string{`t.yaml:7:5: router_settings.circuit_breaker.recovery_timeout: must be a positive duration, got -3`}},
		{name: "an idle timeout of zero would keep idle connections forever", yaml: head + "server:\n  idle_timeout: 0\n",
			want: []string{`t.yaml:6:3: server.idle_timeout: must be a positive duration`}},
		{name: "bad duration", yaml: head + "router_settings:\n  timeout: 10q\n",
			want: []string{`t.yaml:6:3: router_settings.timeout: "10q" is not a duration`}},
		{name: "zero where it cannot be", yaml: head + "router_settings:\n  circuit_breaker:\n    failure_threshold: 0\n",
			want: []string{`router_settings.circuit_breaker.failure_threshold: must be at least 1, got 0`}},
		{name: "stream minimum over the window", yaml: head + "router_settings:\n  circuit_breaker:\n    stream_minimum_calls: 30\n",
			want: []string{`t.yaml:7:5: router_settings.circuit_breaker.stream_minimum_calls: must be at most 20 (the streams judged), got 30`}},
		{name: "stream failure rate out of range", yaml: head + "router_settings:\n  circuit_breaker:\n    stream_failure_rate_threshold: 2\n",
			want: []string{`stream_failure_rate_threshold: must be a ratio between 0 (exclusive) and 1, got 2`}},
		{name: "ratio out of range", yaml: head + "router_settings:\n  circuit_breaker:\n    failure_rate_threshold: 50\n",
			want: []string{`failure_rate_threshold: must be a ratio between 0 (exclusive) and 1, got 50 (write 50% as 0.5)`}},
		{name: "fallback typo", yaml: head + "  - model_name: bbbbbb\n    litellm_params:\n      model: openai/y\nrouter_settings:\n  fallbacks: [{a: [bbbbb]}]\n",
			want: []string{`t.yaml:9:20: router_settings.fallbacks[0].a[0]: unknown model group "bbbbb" (did you mean "bbbbbb"?)`}},
		{name: "fallbacks from a group a letter from one", yaml: head + "  - model_name: bbbbbb\n    litellm_params:\n      model: openai/y\nrouter_settings:\n  fallbacks: [{bbbbb: [a]}]\n",
			want: []string{`router_settings.fallbacks[0].bbbbb: unknown model group "bbbbb" (did you mean "bbbbbb"?)`}},
		{name: "wrong type names the key", yaml: head + "router_settings:\n  num_retries: many\n",
			want: []string{`t.yaml:6:16: router_settings.num_retries: expected a whole number, got string`}},
		{name: "client errors cannot count", yaml: head + "router_settings:\n  circuit_breaker:\n    failure_conditions:\n      - status_code: 404\n",
			want: []string{`failure_conditions[0].status_code: 404 is a client error`}},
		{name: "a typo of a LiteLLM key suggests it", yaml: head + "router_settings:\n  cooldown_tme: 30\n",
			want: []string{`t.yaml:6:3: router_settings.cooldown_tme: unknown key "cooldown_tme" (did you mean "cooldown_time"?)`}},
		{name: "an unknown operation names the ones there are", yaml: head + "router_settings:\n  circuit_breaker:\n    operations:\n      moderation: {failure_threshold: 3}\n",
			want: []string{`t.yaml:8:7: router_settings.circuit_breaker.operations.moderation: unknown operation "moderation" (one of chat, embeddings, transcriptions, speech, images, moderations, realtime, rerank, videos)`}},
		{name: "missing master key variable", yaml: head + "general_settings:\n  master_key: os.environ/NOPE_MASTER\n",
			want: []string{`t.yaml:6:3: general_settings.master_key: environment variable NOPE_MASTER is not set`}},
		{name: "a weight must be positive", yaml: head + "      weight: 0\n",
			want: []string{`t.yaml:5:7: model_list[0].litellm_params.weight: must be greater than 0, got 0`}},
		{name: "a CORS origin without a scheme", yaml: head + "server:\n  cors_allowed_origins: [app.example]\n",
			want: []string{`server.cors_allowed_origins[0]: "app.example" is not an origin`}},
		{name: "a CORS origin with a path", yaml: head + "server:\n  cors_allowed_origins: [\"https://app.example/chat\"]\n",
			want: []string{`server.cors_allowed_origins[0]: "https://app.example/chat" is not an origin`}},
		{name: "unknown failure condition", yaml: head + "router_settings:\n  circuit_breaker:\n    failure_conditions:\n      - rate_limt: true\n",
			want: []string{`unknown failure condition "rate_limt" (did you mean "rate_limit"?)`}},
		{name: "unknown provider", yaml: "model_list:\n  - model_name: a\n    litellm_params:\n      model: groqq/x\n",
			want: []string{`t.yaml:4:7: model_list[0].litellm_params.model: unknown provider "groqq" (did you mean "groq"?)`}},
		{name: "a bare model name whose provider cannot be told", yaml: "model_list:\n  - model_name: a\n    litellm_params:\n      model: llama3\n",
			want: []string{`t.yaml:4:7: model_list[0].litellm_params.model: cannot tell the provider of "llama3": write provider/model`}},
		{name: "only deployments breakerd cannot call", yaml: "model_list:\n  - model_name: a\n    litellm_params:\n      model: sagemaker/x\n",
			want: []string{`t.yaml:1:1: model_list: none of its 1 deployments can be called by breakerd`}},
		{name: "unknown routing strategy", yaml: head + "router_settings:\n  routing_strategy: least-cots\n",
			want: []string{`unknown routing strategy "least-cots" (did you mean "least-cost"?)`}},
		{name: "azure needs api_base", yaml: "model_list:\n  - model_name: a\n    litellm_params:\n      model: azure/d\n",
			want: []string{`t.yaml:4:7: model_list[0].litellm_params.model: provider "azure" needs the address of its server: api_base is not set, nor $AZURE_API_BASE`}},
		{name: "an api_base written empty", yaml: "model_list:\n  - model_name: a\n    litellm_params:\n      model: azure/d\n      api_base: ${EMPTY_BASE}\nenvironment_variables:\n  EMPTY_BASE: \"\"\n",
			want: []string{`t.yaml:5:7: model_list[0].litellm_params.api_base: is required for azure`}},
		{name: "api_base without a scheme", yaml: head + "      api_base: localhost:8000/v1\n",
			want: []string{`t.yaml:5:7: model_list[0].litellm_params.api_base: must start with http:// or https://`}},
		{name: "api_base with a query string, not echoed", yaml: head + "      api_base: https://h.example/v1?token=s3cr3t-t0ken\n",
			want: []string{`api_base: must not have a query string`}},
		{name: "api_base with credentials", yaml: head + "      api_base: https://user:pw1234@h.example/v1\n",
			want: []string{`api_base: must not carry credentials`}},
		{name: "api_base without a host", yaml: head + "      api_base: http:///v1\n",
			want: []string{`api_base: has no host`}},
		{name: "http2_prior_knowledge needs an http:// api_base", yaml: head + "      api_base: https://h.example/v1\n      http2_prior_knowledge: true\n",
			want: []string{`t.yaml:6:7: model_list[0].litellm_params.http2_prior_knowledge: applies only to an http:// api_base`}},
		{name: "no deployments", yaml: "router_settings: {}\n", want: []string{"model_list: needs at least one deployment"}},
		{name: "syntax error has a position", yaml: "model_list: [\n", want: []string{"t.yaml:1:"}},
		// go-yaml v1.19.2 panics decoding these; they must be errors.
		{name: "a bare tag where a list belongs", yaml: "model_list: !\n",
			want: []string{`t.yaml:1:13: model_list: the tag ! has no value after it`}},
		{name: "a type tag with no value", yaml: "model_list: !!str\n",
			want: []string{`t.yaml:1:13: model_list: the tag !!str has no value after it`}},
		{name: "a bare tag deeper down", yaml: head + "router_settings:\n  fallbacks: !\n",
			want: []string{`t.yaml:6:14: router_settings.fallbacks: the tag ! has no value after it`}},
		{name: "every error is reported", yaml: head + "router_settings:\n  timeout: -1\n  num_retries: -1\n",
			want: []string{"router_settings.timeout", "router_settings.num_retries: must not be negative"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.yaml), env(tc.env))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%s\nwant it to contain\n%s", err, w)
				}
			}
			for _, secret := range []string{"s3cr3t-t0ken", "pw1234"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks %q:\n%s", secret, err)
				}
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.File != "t.yaml" {
				t.Errorf("error %T does not carry its file", err)
			}
		})
	}
}

func TestValuesAndDefaults(t *testing.T) {
	yaml := `
model_list:
  - model_name: a
    litellm_params:
      model: openai/x
      api_key: ${KEY}
      api_base: https://${HOST}/v1/
      timeout: "1.5"
      max_parallel_requests: 4
router_settings:
  num_retries: 2
  timeout: 2m
  fallbacks: [{a: [a]}]
  bulkhead: {max_queue: 10, max_wait: 250ms}
  circuit_breaker:
    failure_rate_threshold: 0.5
    minimum_calls: 20
    half_open_max_calls: 1
    max_recovery_timeout: 5m
    operations:
      embeddings: {failure_threshold: 10, recovery_timeout: 60}
      moderations: {failure_threshold: 3}
server:
  listen: 127.0.0.1:9999
`
	cfg, err := Parse("t.yaml", []byte(yaml), env(map[string]string{"KEY": "secret-value", "HOST": "llm.internal"}))
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Deployments[0]
	if d.APIBase != "https://llm.internal/v1" || d.Timeout != 1500*time.Millisecond || d.MaxParallel != 4 || d.Name != "a/openai/x" {
		t.Fatalf("deployment %+v", d)
	}
	if d.APIKey.String() != "[REDACTED]" || d.APIKey.Value() != "secret-value" {
		t.Fatal("secret handling")
	}
	r := cfg.Router
	if r.NumRetries != 2 || r.Timeout != 2*time.Minute || r.Bulkhead.MaxQueue != 10 || r.Bulkhead.MaxWait != 250*time.Millisecond {
		t.Fatalf("router %+v", r)
	}
	if len(r.Fallbacks["a"]) != 0 {
		t.Fatal("a group must not fall back to itself")
	}
	chat, emb := r.Breaker.SettingsFor("chat"), r.Breaker.SettingsFor("embeddings")
	if chat.FailureRateThreshold != 0.5 || chat.MinimumCalls != 20 || chat.HalfOpenMaxCalls != 1 || chat.MaxOpenTimeout != 5*time.Minute {
		t.Fatalf("chat %+v", chat)
	}
	if emb.ConsecutiveFailures != 10 || emb.OpenTimeout != time.Minute || emb.FailureRateThreshold != 0.5 {
		t.Fatalf("embeddings override %+v", emb)
	}
	if mod := r.Breaker.SettingsFor("moderations"); mod.ConsecutiveFailures != 3 || mod.FailureRateThreshold != 0.5 {
		t.Fatalf("moderations override %+v", mod)
	}
	if cfg.Server.Listen != "127.0.0.1:9999" || cfg.Server.MaxBodyBytes != DefaultMaxBodyBytes || cfg.Server.IdleTimeout != 120*time.Second || cfg.Server.BodyReadTimeout != time.Minute || cfg.Server.SendTimeout != time.Minute {
		t.Fatalf("server %+v", cfg.Server)
	}
}

func TestCORSOriginsLoad(t *testing.T) {
	yaml := "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n" +
		"server:\n  cors_allowed_origins: [\"*\", \"https://app.example\", \"http://localhost:3000\"]\n"
	cfg, err := Parse("t.yaml", []byte(yaml), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Server.CORSOrigins, " "); got != "* https://app.example http://localhost:3000" {
		t.Fatalf("origins %q", got)
	}
}

func TestShortAPIKeysGetAWarning(t *testing.T) {
	const yamlText = "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n      api_key: %s\n"
	tests := []struct {
		key      string
		wantWarn bool
	}{
		{key: "k3y4z", wantWarn: true},
		{key: "sk-abcdef", wantWarn: false},
		{key: `""`, wantWarn: false}, // unset: nothing to leak
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			cfg, err := Parse("t.yaml", fmt.Appendf(nil, yamlText, tc.key), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			warned := len(cfg.Warnings) == 1 && strings.Contains(cfg.Warnings[0],
				"t.yaml:5:7: model_list[0].litellm_params.api_key: is shorter than 6 characters")
			if warned != tc.wantWarn || (!tc.wantWarn && len(cfg.Warnings) != 0) {
				t.Fatalf("warnings %q, want a short-key warning: %v", cfg.Warnings, tc.wantWarn)
			}
			for _, w := range cfg.Warnings {
				if strings.Contains(w, "k3y4z") {
					t.Fatalf("the warning echoes the key: %s", w)
				}
			}
		})
	}
}

// A key copied from an example as it is (a name in angle brackets, as
// LiteLLM's docs write <your-api-key>) is a warning that says so; a key,
// or a local server's stand-in, is not.
func TestPlaceholderAPIKeysGetAWarning(t *testing.T) {
	for _, tc := range []struct {
		key  string
		warn bool
	}{
		{`"<my-openai-key>"`, true},
		{`"<your-azure-api-key>"`, true},
		{"sk-abcdef-0123", false},
		{"sk-<not>-a-placeholder", false},
	} {
		t.Run(tc.key, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte("model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n      api_key: "+tc.key+"\n"), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			warned := slices.ContainsFunc(cfg.Warnings, func(w string) bool {
				return strings.HasPrefix(w, "t.yaml:5:7: model_list[0].litellm_params.api_key: is an example's placeholder (a name in angle brackets), not a key: openai will refuse")
			})
			if warned != tc.warn {
				t.Fatalf("warnings %q, want a placeholder's: %v", cfg.Warnings, tc.warn)
			}
		})
	}
}

// panicky's decoder panics, as go-yaml itself has on odd input.
type panicky struct{}

func (*panicky) UnmarshalYAML([]byte) error { panic("boom") }

func TestDecoderPanicBecomesAnErrorNamingTheFile(t *testing.T) {
	f, err := parser.ParseBytes([]byte("a: 1\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		A panicky `yaml:"a"`
	}
	err = decodeNode("t.yaml", f.Docs[0].Body, &v)
	var ce *Error
	if !errors.As(err, &ce) || ce.File != "t.yaml" || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("got %v, want an *Error naming t.yaml", err)
	}
}

// No attempt waits forever by default: a hang is the commonest outage. A
// local model server's streams get longer, for the model's loading.
func TestAttemptTimeouts(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n"
	for _, tc := range []struct {
		name                            string
		yaml                            string
		timeout, streamTime, firstChunk time.Duration
	}{
		{"defaults", head, DefaultTimeout, DefaultStreamTimeout, 0},
		{"a short timeout bounds streams too", head + "      timeout: 5\n", 5 * time.Second, 5 * time.Second, 0},
		{"a long timeout leaves streams at the default", head + "      timeout: 900\n", 900 * time.Second, DefaultStreamTimeout, 0},
		{"LiteLLM's request_timeout", head + "litellm_settings:\n  request_timeout: 120\n", 120 * time.Second, DefaultStreamTimeout, 0},
		{"the deployment's stream_timeout", head + "      stream_timeout: 7s\n", DefaultTimeout, 7 * time.Second, 0},
		{"router_settings.stream_timeout", head + "router_settings:\n  stream_timeout: 9\n", DefaultTimeout, 9 * time.Second, 0},
		{"the deployment's wins", head + "      stream_timeout: 3\nrouter_settings:\n  stream_timeout: 9\n", DefaultTimeout, 3 * time.Second, 0},
		// A local model server's first chunk may wait for the model to
		// load: that wait (ttft_timeout's) is longer, unless set.
		{"a local model server", strings.Replace(head, "openai/x", "ollama/deepseek-r1:32b", 1), DefaultTimeout, DefaultStreamTimeout, LocalStreamTimeout},
		{"a local model server, bounded by a shorter timeout", strings.Replace(head, "openai/x", "lm_studio/qwen3", 1) + "      timeout: 60\n", time.Minute, DefaultStreamTimeout, time.Minute},
		{"a local model server's own stream_timeout", strings.Replace(head, "openai/x", "ollama/llama3", 1) + "      stream_timeout: 30\n", DefaultTimeout, 30 * time.Second, 0},
		{"a local model server's own ttft_timeout", strings.Replace(head, "openai/x", "ollama/llama3", 1) + "      ttft_timeout: 40\n", DefaultTimeout, DefaultStreamTimeout, 40 * time.Second},
		{"router_settings' stream_timeout for a local model server", strings.Replace(head, "openai/x", "ollama/llama3", 1) + "router_settings:\n  stream_timeout: 9\n", DefaultTimeout, 9 * time.Second, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(tc.yaml), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			if d := cfg.Deployments[0]; d.Timeout != tc.timeout || d.StreamTimeout != tc.streamTime || d.FirstChunkTimeout != tc.firstChunk {
				t.Fatalf("timeout %s, stream_timeout %s, first chunk %s; want %s, %s, %s", d.Timeout, d.StreamTimeout, d.FirstChunkTimeout, tc.timeout, tc.streamTime, tc.firstChunk)
			}
		})
	}
}

func TestTurningOffTimeoutFailuresWarns(t *testing.T) {
	const yaml = "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n" +
		"router_settings:\n  circuit_breaker:\n    failure_conditions:\n      - timeout: false\n"
	cfg, err := Parse("t.yaml", []byte(yaml), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(cfg.Warnings, func(w string) bool {
		return strings.HasPrefix(w, "t.yaml:8:9: router_settings.circuit_breaker.failure_conditions[0].timeout: a provider that hangs will never open a breaker")
	}) {
		t.Fatalf("warnings %q", cfg.Warnings)
	}
}

// The shapes real LiteLLM configs take load, and mean what LiteLLM makes
// of them.
func TestRealLiteLLMConfigShapesLoad(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		env   map[string]string
		check func(t *testing.T, cfg *Config)
	}{
		{name: "a provider from the table gets its base URL, dialect and key variable",
			yaml: "model_list:\n  - model_name: fast\n    litellm_params:\n      model: groq/llama-3.1-8b-instant\n",
			env:  map[string]string{"GROQ_API_KEY": "gsk-from-the-environment"},
			check: func(t *testing.T, cfg *Config) {
				d := cfg.Deployments[0]
				if d.Provider != "groq" || d.Dialect != DialectOpenAI || d.APIBase != "https://api.groq.com/openai/v1" ||
					d.APIKey != "gsk-from-the-environment" || d.Embeddings {
					t.Fatalf("%+v", d)
				}
			}},
		{name: "ollama's root gets /v1",
			yaml: "model_list:\n  - model_name: local\n    litellm_params:\n      model: ollama_chat/llama3\n      api_base: http://ollama:11434\n",
			check: func(t *testing.T, cfg *Config) {
				if d := cfg.Deployments[0]; d.APIBase != "http://ollama:11434/v1" || !d.Embeddings {
					t.Fatalf("%+v", d)
				}
			}},
		{name: "a bare model name gets the provider LiteLLM infers",
			yaml: "model_list:\n  - model_name: gpt-3.5-turbo\n    litellm_params:\n      model: gpt-3.5-turbo\n  - model_name: c\n    litellm_params:\n      model: claude-3-5-haiku-latest\n" +
				"  - model_name: d\n    litellm_params:\n      model: dall-e-3\n  - model_name: w\n    litellm_params:\n      model: whisper-1\n",
			check: func(t *testing.T, cfg *Config) {
				if a, b := cfg.Deployments[0], cfg.Deployments[1]; a.Provider != "openai" || a.Model != "gpt-3.5-turbo" ||
					b.Provider != "anthropic" || b.Dialect != DialectAnthropic {
					t.Fatalf("%+v %+v", a, b)
				}
				if d, w := cfg.Deployments[2], cfg.Deployments[3]; d.Provider != "openai" || d.Mode != "image_generation" || w.Provider != "openai" || w.Mode != "audio_transcription" {
					t.Fatalf("%+v %+v", d, w)
				}
			}},
		{name: "azure without api_version gets LiteLLM's default, or AZURE_API_VERSION",
			yaml: "model_list:\n  - model_name: a\n    litellm_params:\n      model: azure/gpt4o\n      api_base: https://r.openai.azure.com\n  - model_name: b\n    litellm_params:\n      model: azure/gpt4o\n      api_base: os.environ/AZURE_API_BASE\n",
			env:  map[string]string{"AZURE_API_BASE": "https://r2.openai.azure.com"},
			check: func(t *testing.T, cfg *Config) {
				if v := cfg.Deployments[0].APIVersion; v != AzureDefaultAPIVersion {
					t.Fatalf("api_version %q", v)
				}
			}},
		{name: "rpm and tpm beside litellm_params",
			yaml: "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n    rpm: 60\n    tpm: 1000\nrouter_settings:\n  enable_pre_call_checks: true\n",
			check: func(t *testing.T, cfg *Config) {
				if d := cfg.Deployments[0]; d.RPM != 60 || d.TPM != 1000 || d.Weight != 60 {
					t.Fatalf("%+v", d)
				}
			}},
		{name: "environment references everywhere, with defaults",
			yaml: "model_list:\n  - model_name: ${GROUP:-chat}\n    litellm_params:\n      model: os.environ/MODEL\n      api_base: ${BASE-http://localhost:8000/v1}\n      api_key: ${KEY:-none-given}\n",
			env:  map[string]string{"MODEL": "hosted_vllm/qwen", "KEY": ""},
			check: func(t *testing.T, cfg *Config) {
				d := cfg.Deployments[0]
				if d.Group != "chat" || d.Provider != "hosted_vllm" || d.Model != "qwen" || d.APIBase != "http://localhost:8000/v1" || d.APIKey != "none-given" {
					t.Fatalf("%+v", d)
				}
			}},
		{name: "a provider breakerd cannot call yet is left out with one warning, and naming its group is fine",
			yaml: "model_list:\n  - model_name: claude-bedrock\n    litellm_params:\n      model: sagemaker/anthropic.claude-3-5-sonnet\n      aws_region_name: us-east-1\n" +
				"  - model_name: gpt\n    litellm_params:\n      model: openai/gpt-4o\nrouter_settings:\n  fallbacks: [{gpt: [claude-bedrock]}, {claude-bedrock: [gpt]}]\n",
			check: func(t *testing.T, cfg *Config) {
				if len(cfg.Deployments) != 1 || len(cfg.Router.Fallbacks["gpt"]) != 0 {
					t.Fatalf("deployments %+v fallbacks %v", cfg.Deployments, cfg.Router.Fallbacks)
				}
				joined := strings.Join(cfg.Warnings, "\n")
				if strings.Count(joined, `provider "sagemaker"`) != 1 || !strings.Contains(joined, `provider "sagemaker" needs its container's own request format`) ||
					!strings.Contains(joined, `model group "claude-bedrock" has no deployment breakerd can call`) {
					t.Fatalf("warnings:\n%s", joined)
				}
			}},
		{name: "LiteLLM's prometheus callback turns on LiteLLM's metric names; other callbacks are warned about",
			yaml: "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\n" +
				"litellm_settings:\n  callbacks: prometheus\n  success_callback: [prometheus, langfuse]\n  failure_callback: [sentry]\n",
			check: func(t *testing.T, cfg *Config) {
				if !cfg.Metrics.LiteLLMNames {
					t.Fatal("LiteLLM's metric names are off")
				}
				joined := strings.Join(cfg.Warnings, "\n")
				if strings.Contains(joined, "litellm_settings.callbacks") ||
					!strings.Contains(joined, "t.yaml:6:3: litellm_settings.success_callback: breakerd runs none of langfuse; ignored") ||
					!strings.Contains(joined, "t.yaml:7:3: litellm_settings.failure_callback: a LiteLLM setting that breakerd does not use; ignored") {
					t.Fatalf("warnings:\n%s", joined)
				}
			}},
		{name: "without the prometheus callback, LiteLLM's metric names are off",
			yaml: "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\nlitellm_settings:\n  callbacks: [langfuse]\n",
			check: func(t *testing.T, cfg *Config) {
				if cfg.Metrics.LiteLLMNames {
					t.Fatal("LiteLLM's metric names are on")
				}
			}},
		{name: "audio, image, moderation, realtime and embedding models serve their API, by model_info.mode or known by their names",
			yaml: "model_list:\n" +
				"  - model_name: embed\n    litellm_params: {model: openai/text-embedding-3-large}\n" +
				"  - model_name: nomic\n    litellm_params: {model: ollama/nomic-embed-text}\n" +
				"  - model_name: stt\n    litellm_params: {model: groq/distil-large-v3}\n    model_info: {mode: audio_transcription}\n" +
				"  - model_name: whisper\n    litellm_params: {model: openai/whisper-1}\n" +
				"  - model_name: tts\n    litellm_params: {model: openai/tts-1-hd}\n" +
				"  - model_name: tts-mini\n    litellm_params: {model: openai/gpt-4o-mini-tts}\n" +
				"  - model_name: images\n    litellm_params: {model: openai/gpt-image-1}\n" +
				"  - model_name: audio-chat\n    litellm_params: {model: openai/gpt-4o-audio-preview}\n" +
				"  - model_name: claude-voice\n    litellm_params: {model: anthropic/claude-x}\n    model_info: {mode: audio_speech}\n" +
				"  - model_name: edits\n    litellm_params: {model: azure/my-image-deployment, api_base: https://x.openai.azure.com, api_version: 2025-04-01-preview}\n    model_info: {mode: image_edit}\n" +
				"  - model_name: omni-moderation-latest\n    litellm_params: {model: openai/omni-moderation-latest}\n" +
				"  - model_name: voice\n    litellm_params: {model: openai/gpt-4o-realtime-preview}\n" +
				"  - model_name: rerank\n    litellm_params: {model: cohere/rerank-v3.5}\n" +
				"  - model_name: rerank-local\n    litellm_params: {model: hosted_vllm/BAAI/bge-reranker-v2-m3, api_base: http://vllm:8000/v1}\n    model_info: {mode: rerank}\n" +
				"  - model_name: rerank-openai\n    litellm_params: {model: openai/rerank-english-v3.0}\n" +
				"  - model_name: azure-moderation\n    litellm_params: {model: azure/mod, api_base: https://x.openai.azure.com, api_version: 2025-04-01-preview}\n    model_info: {mode: moderation}\n" +
				"  - model_name: imagen\n    litellm_params: {model: gemini/imagen-4.0-generate-001}\n" +
				"  - model_name: vertex-imagen\n    litellm_params: {model: vertex_ai/imagen-4.0-generate-001, vertex_project: p, vertex_location: us-central1}\n" +
				"  - model_name: nano-banana\n    litellm_params: {model: vertex_ai/gemini-3.1-flash-image-preview, vertex_project: p, vertex_location: global}\n",
			env: map[string]string{"GROQ_API_KEY": "gsk-test-key", "AZURE_API_KEY": "azure-test-key", "COHERE_API_KEY": "co-test-key", "GEMINI_API_KEY": "gm-test-key"},
			check: func(t *testing.T, cfg *Config) {
				modes := map[string]string{}
				for _, d := range cfg.Deployments {
					modes[d.Group] = d.Mode
				}
				want := map[string]string{"stt": "audio_transcription", "whisper": "audio_transcription", "tts": "audio_speech",
					"tts-mini": "audio_speech", "images": "image_generation", "audio-chat": "chat", "edits": "image_edit",
					"omni-moderation-latest": "moderation", "voice": "realtime", "rerank": "rerank", "rerank-local": "rerank",
					"embed": "embedding", "nomic": "embedding", "imagen": "image_generation", "nano-banana": "chat"}
				if !maps.Equal(modes, want) {
					t.Fatalf("modes %v, want %v", modes, want)
				}
				joined := strings.Join(cfg.Warnings, "\n")
				for _, w := range []string{`mode "audio_speech" needs OpenAI's /v1/audio/speech API, which provider "anthropic" does not speak`,
					`mode "moderation" needs OpenAI's /v1/moderations API, which provider "azure" does not speak`,
					`model_list[14].litellm_params.model: a rerank model needs a rerank API, which OpenAI's does not have`,
					`model_list[17].litellm_params.model: mode "image_generation" needs OpenAI's /v1/images/generations API, which Vertex AI's OpenAI-compatible endpoint does not serve`} {
					if !strings.Contains(joined, w) {
						t.Fatalf("no warning %q:\n%s", w, joined)
					}
				}
			}},
		{name: "a model for an API breakerd does not serve, or of one its provider does not speak, is left out, with a warning at its mode or its name",
			yaml: "model_list:\n  - model_name: ocr\n    litellm_params:\n      model: openai/mistral-ocr\n    model_info:\n      mode: ocr\n" +
				"  - model_name: gpt\n    litellm_params:\n      model: openai/gpt-4o\n    model_info: {mode: chat}\n" +
				"  - model_name: embed\n    litellm_params:\n      model: openai/text-embedding-3-small\n    model_info: {mode: embedding}\n" +
				"  - model_name: veo\n    litellm_params:\n      model: gemini/veo-3.1-generate-001\n" +
				"  - model_name: sora\n    litellm_params:\n      model: openai/sora-2\n    model_info:\n      mode: video_generation\n" +
				"  - model_name: sora-pro\n    litellm_params:\n      model: openai/sora-2-pro\n",
			env: map[string]string{"GEMINI_API_KEY": "gm-test-key"},
			check: func(t *testing.T, cfg *Config) {
				var modes []string
				for _, d := range cfg.Deployments {
					modes = append(modes, d.Group+":"+d.Mode)
				}
				if got := strings.Join(modes, " "); got != "gpt:chat embed:embedding sora:video_generation sora-pro:video_generation" {
					t.Fatalf("deployments %s", got)
				}
				joined := strings.Join(cfg.Warnings, "\n")
				if !strings.Contains(joined, `t.yaml:6:7: model_list[0].model_info.mode: mode "ocr" is a model for /v1/ocr, which breakerd does not serve: this deployment is left out of routing`) ||
					!strings.Contains(joined, `t.yaml:17:7: model_list[3].litellm_params.model: mode "video_generation" needs OpenAI's /v1/videos API, which provider "gemini" does not speak`) ||
					strings.Contains(joined, "model_list[1]") || strings.Contains(joined, "model_list[2]") ||
					// sora-2 loads, warned of only as retired since
					strings.Count(joined, "model_list[4]") != 1 || !strings.Contains(joined, "model_list[4].litellm_params.model: openai/sora-2 was retired by OpenAI") {
					t.Fatalf("warnings:\n%s", joined)
				}
			}},
		{name: "LiteLLM's keys load with one warning per key, not per deployment",
			yaml: "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n      reasoning_effort: low\n    model_info: {access_groups: [x]}\n" +
				"  - model_name: b\n    litellm_params:\n      model: openai/y\n      thinking: {type: enabled}\n    model_info: {access_groups: [x]}\n" +
				"  - model_name: c\n    litellm_params:\n      model: openai/z\n      use_litellm_proxy: true\n    model_info: {access_groups: [x]}\n" +
				"guardrails:\n  - guardrail_name: g\nfinetune_settings: []\ncache_config: {}\n" +
				"litellm_settings:\n  drop_params: true\nrouter_settings:\n  enable_cooldowns: true\n  default_model: a\n",
			check: func(t *testing.T, cfg *Config) {
				// reasoning_effort and thinking are request defaults; drop_params is honoured.
				if d := cfg.Deployments[0]; string(d.Defaults["reasoning_effort"]) != `"low"` || !d.DropParams {
					t.Fatalf("defaults %s, drop_params %v", d.Defaults, d.DropParams)
				}
				if d := cfg.Deployments[1]; string(d.Defaults["thinking"]) != `{"type":"enabled"}` {
					t.Fatalf("defaults %s", d.Defaults)
				}
				joined := strings.Join(cfg.Warnings, "\n")
				if n := strings.Count(joined, "model_info"); n != 1 || !strings.Contains(joined, "(also in 2 more places)") {
					t.Fatalf("model_info warned %d times:\n%s", n, joined)
				}
				for _, k := range []string{"use_litellm_proxy", "guardrails",
					"finetune_settings", "cache_config", "enable_cooldowns", "default_model"} {
					if !strings.Contains(joined, k) {
						t.Errorf("no warning for %s:\n%s", k, joined)
					}
				}
			}},
		{name: "duplicate keys: the last wins, with a warning naming both lines",
			yaml: "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n      model: openai/y\n",
			check: func(t *testing.T, cfg *Config) {
				if cfg.Deployments[0].Model != "y" || !slices.Contains(cfg.Warnings,
					"t.yaml:5:7: model_list[0].litellm_params.model: is set again (first at line 4): the last one is used, as LiteLLM (PyYAML) does") {
					t.Fatalf("model %q, warnings %q", cfg.Deployments[0].Model, cfg.Warnings)
				}
			}},
		{name: "LiteLLM's live routing strategies",
			yaml: "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\nrouter_settings:\n  routing_strategy: latency-based-routing\n",
			check: func(t *testing.T, cfg *Config) {
				if cfg.Router.Strategy != "latency-based-routing" {
					t.Fatal(cfg.Router.Strategy)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(tc.yaml), env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, cfg)
		})
	}
}

// Every problem is reported at once, in line order, without follow-on
// errors: a bad deployment's group named elsewhere is not a second error.
func TestAllProblemsAtOnceInLineOrder(t *testing.T) {
	yaml := "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n      api_kye: k\n" +
		"  - model_name: b\n    litellm_params:\n      model: groqq/y\n" +
		"router_settings:\n  num_retries: -1\n  fallbacks: [{a: [b]}]\n  routing_strategy: least-busyy\n"
	_, err := Parse("t.yaml", []byte(yaml), env(nil))
	if err == nil {
		t.Fatal("accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{"t.yaml:5:7:", "t.yaml:8:7:", "t.yaml:10:3:", "t.yaml:12:3:"}
	if len(lines) != len(want) {
		t.Fatalf("%d errors, want %d:\n%s", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Fatalf("error %d is %q, want it at %s:\n%s", i, lines[i], w, err)
		}
	}
	if !strings.Contains(err.Error(), `"least-busyy" (did you mean "least-busy"?)`) {
		t.Fatalf("suggestion:\n%s", err)
	}
}

// A provider's default api_base has no trailing slash: breakerd appends
// its paths (/chat/completions) to it as it is.
func TestProviderBaseURLsEndWithoutASlash(t *testing.T) {
	for _, p := range Providers() {
		if strings.HasSuffix(p.BaseURL, "/") {
			t.Errorf("%s: %s", p.Name, p.BaseURL)
		}
	}
}

// README's provider table lists every provider breakerd knows.
func TestREADMEListsEveryProvider(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Providers() {
		if !strings.Contains(string(data), "`"+p.Name+"`") {
			t.Errorf("README does not mention provider %s", p.Name)
		}
	}
}

// LiteLLM's allowed_fails_policy and retry_policy map onto breakerd's
// failure conditions, threshold and retries, when there is no
// circuit_breaker block. LiteLLM allows every error outside the policy's
// classes allowed_fails (3 unless set), so a 5xx outage opens the breaker
// at that count even when the policy tolerates many rate limits.
func TestLiteLLMPoliciesAreMapped(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\nrouter_settings:\n"
	for _, tc := range []struct {
		name, yaml string
		threshold  int
		conditions FailureConditions
	}{
		{name: "tolerated rate limits are not counted, and 5xx open at LiteLLM's default",
			yaml:      "  allowed_fails_policy:\n    RateLimitErrorAllowedFails: 100\n",
			threshold: 4, conditions: FailureConditions{Timeout: true, Auth: true}},
		{name: "a class allowed fewer than allowed_fails sets the threshold",
			yaml:      "  allowed_fails_policy:\n    RateLimitErrorAllowedFails: 100\n    TimeoutErrorAllowedFails: 1\n    BadRequestErrorAllowedFails: 1000\n",
			threshold: 2, conditions: FailureConditions{Timeout: true, Auth: true}},
		{name: "a class within allowed_fails counts, at allowed_fails",
			yaml:      "  allowed_fails: 10\n  allowed_fails_policy:\n    RateLimitErrorAllowedFails: 10\n    AuthenticationErrorAllowedFails: 50\n",
			threshold: 11, conditions: FailureConditions{Timeout: true, RateLimit: true}},
		{name: "a 5xx class always counts",
			yaml:      "  allowed_fails_policy:\n    InternalServerErrorAllowedFails: 0\n    TimeoutErrorAllowedFails: 20\n",
			threshold: 1, conditions: FailureConditions{Auth: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(head+tc.yaml), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			b := cfg.Router.Breaker
			if b.Settings.WindowFailures != tc.threshold || b.Settings.Window != time.Minute || b.Settings.ConsecutiveFailures >= 0 {
				t.Errorf("opens after %d failures in %s (%d in a row), want %d in a minute, none in a row (notes %q)",
					b.Settings.WindowFailures, b.Settings.Window, b.Settings.ConsecutiveFailures, tc.threshold, b.FromLiteLLM)
			}
			if !reflect.DeepEqual(b.Conditions, tc.conditions) {
				t.Errorf("conditions %+v, want %+v", b.Conditions, tc.conditions)
			}
		})
	}
	cfg, err := Parse("t.yaml", []byte(head+"  retry_policy:\n    TimeoutErrorRetries: 2\n    RateLimitErrorRetries: 3\n    BadRequestErrorRetries: 9\n"), env(nil))
	if err != nil || cfg.Router.NumRetries != 3 {
		t.Fatalf("retry_policy: num_retries %d, error %v; want 3, the most a provider-side class gets", cfg.Router.NumRetries, err)
	}
	_, err = Parse("t.yaml", []byte(head+"  retry_policy:\n    TimeoutErorRetries: 2\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), `t.yaml:7:5: router_settings.retry_policy.TimeoutErorRetries: unknown key "TimeoutErorRetries" (did you mean "TimeoutErrorRetries"?)`) {
		t.Fatalf("error %v", err)
	}
}

// Environment references work in group names wherever a group is named,
// and in routing_strategy.
func TestEnvironmentReferencesInGroupNames(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte(`model_list:
  - model_name: ${PRIMARY:-main}
    litellm_params: {model: openai/x}
  - model_name: backup
    litellm_params: {model: openai/y}
router_settings:
  routing_strategy: ${STRATEGY:-least-busy}
  fallbacks: [{"${PRIMARY:-main}": [os.environ/BACKUP]}]
  model_group_alias: {fast: "${PRIMARY:-main}"}
`), env(map[string]string{"BACKUP": "backup"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Router.Strategy != "least-busy" || strings.Join(cfg.Router.Fallbacks["main"], ",") != "backup" || cfg.Router.Aliases["fast"].Group != "main" {
		t.Fatalf("strategy %q fallbacks %v aliases %v", cfg.Router.Strategy, cfg.Router.Fallbacks, cfg.Router.Aliases)
	}
}

// config.yaml, the documented example, documents every key breakerd
// reads, and loads.
func TestExampleConfigDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(tp reflect.Type) {
		for tp.Kind() == reflect.Pointer || tp.Kind() == reflect.Slice || tp.Kind() == reflect.Map {
			tp = tp.Elem()
		}
		if tp.Kind() != reflect.Struct || seen[tp] {
			return
		}
		seen[tp] = true
		for i := 0; i < tp.NumField(); i++ {
			name, _, _ := strings.Cut(tp.Field(i).Tag.Get("yaml"), ",")
			if name != "" && !strings.Contains(string(data), name+":") {
				t.Errorf("config.yaml does not document %s (in %s)", name, tp.Name())
			}
			walk(tp.Field(i).Type)
		}
	}
	walk(reflect.TypeFor[rawFile]())
	vars := map[string]string{"OPENAI_API_KEY": "sk-a-test-key", "AZURE_API_KEY": "az-a-test-key", "AZURE_API_BASE": "https://r.openai.azure.com",
		"GROQ_API_KEY": "gsk-a-test-key", "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/X"}
	if _, err := Parse("config.yaml", data, env(vars)); err != nil {
		t.Fatal(err)
	}
}

// LiteLLM's proxy docs show allowed_fails and cooldown_time in
// litellm_settings, and LiteLLM's router reads allowed_fails from there:
// they drive the breaker as they do in router_settings, whose own win.
func TestLiteLLMSettingsCooldownsDriveTheBreaker(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n"
	for _, tc := range []struct {
		name, yaml   string
		fails        int
		open         time.Duration
		warning, err string
	}{
		{name: "litellm_settings alone", yaml: "litellm_settings:\n  allowed_fails: 3\n  cooldown_time: 30\n", fails: 4, open: 30 * time.Second},
		{name: "router_settings win", yaml: "litellm_settings:\n  allowed_fails: 3\n  cooldown_time: 30\nrouter_settings:\n  allowed_fails: 1\n  cooldown_time: 5\n",
			fails: 2, open: 5 * time.Second},
		{name: "each key from where it is set", yaml: "litellm_settings:\n  allowed_fails: 3\nrouter_settings:\n  cooldown_time: 5\n", fails: 4, open: 5 * time.Second},
		{name: "a circuit_breaker block wins, and the warning names the key's place",
			yaml:    "litellm_settings:\n  cooldown_time: 30\nrouter_settings:\n  circuit_breaker:\n    failure_threshold: 7\n",
			warning: "t.yaml:6:3: litellm_settings.cooldown_time: ignored: router_settings.circuit_breaker is set, and it wins"},
		{name: "a bad value names its key", yaml: "litellm_settings:\n  cooldown_time: soon\n", err: "t.yaml:6:3: litellm_settings.cooldown_time:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseExpecting(t, []byte(head+tc.yaml), env(nil), tc.err)
			if cfg == nil {
				return
			}
			if tc.warning != "" {
				if !slices.Contains(cfg.Warnings, tc.warning) {
					t.Fatalf("warnings %q, want %q", cfg.Warnings, tc.warning)
				}
				return
			}
			if len(cfg.Warnings) != 0 {
				t.Fatalf("warnings %q, want none", cfg.Warnings)
			}
			s := cfg.Router.Breaker.Settings
			if s.WindowFailures != tc.fails || s.Window != time.Minute || s.ConsecutiveFailures >= 0 || s.OpenTimeout != tc.open {
				t.Fatalf("breaker opens after %d failures in %s (%d in a row), stays open %s; want %d in a minute, none in a row, %s",
					s.WindowFailures, s.Window, s.ConsecutiveFailures, s.OpenTimeout, tc.fails, tc.open)
			}
		})
	}
}

// LiteLLM's own names for strategies load as the strategy they name:
// its Router calls least-cost cost-based-routing.
func TestRoutingStrategyNames(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/gpt-4o\n"
	for _, tc := range []struct{ written, strategy, warning string }{
		{"", "simple-shuffle", ""},
		{"least-cost", "least-cost", ""},
		{"cost-based-routing", "least-cost", ""},
		{"priority", "ordered", ""},
		{"provider-budget-routing", "simple-shuffle", ""}, // provider_budget_config passes spent providers over
	} {
		t.Run(tc.written, func(t *testing.T) {
			yaml := head
			if tc.written != "" {
				yaml += "router_settings:\n  routing_strategy: " + tc.written + "\n"
			}
			cfg, err := Parse("t.yaml", []byte(yaml), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Router.Strategy != tc.strategy {
				t.Errorf("strategy %q, want %q", cfg.Router.Strategy, tc.strategy)
			}
			var want []string
			if tc.warning != "" {
				want = []string{tc.warning}
			}
			if !slices.Equal(cfg.Warnings, want) {
				t.Errorf("warnings %q, want %q", cfg.Warnings, want)
			}
		})
	}
}

func TestCredentialListFillsInDeployments(t *testing.T) {
	const creds = `credential_list:
  - credential_name: azure-eu
    credential_values:
      api_key: os.environ/AZURE_EU_KEY
      api_base: https://eu.example.openai.azure.com
      api_version: "2024-10-21"
    credential_info:
      description: production, EU region
`
	vars := env(map[string]string{"AZURE_EU_KEY": "sk-azure-eu-0123456789"})
	for _, tc := range []struct {
		name, params            string
		key, base, version, err string
	}{
		{name: "every value from the credential", params: "model: azure/gpt-4o\n      litellm_credential_name: azure-eu\n",
			key: "sk-azure-eu-0123456789", base: "https://eu.example.openai.azure.com", version: "2024-10-21"},
		{name: "litellm_params' own values win", params: "model: azure/gpt-4o\n      litellm_credential_name: azure-eu\n      api_base: https://us.example.openai.azure.com\n",
			key: "sk-azure-eu-0123456789", base: "https://us.example.openai.azure.com", version: "2024-10-21"},
		{name: "an unknown name is an error at its line", params: "model: azure/gpt-4o\n      litellm_credential_name: azure-ue\n",
			err: `t.yaml:13:7: model_list[0].litellm_params.litellm_credential_name: no credential named "azure-ue" in credential_list (did you mean "azure-eu"?); breakerd reads credentials from the config only, not from LiteLLM's database`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseExpecting(t, []byte(creds+"model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      "+tc.params), vars, tc.err)
			if cfg == nil {
				return
			}
			if len(cfg.Warnings) != 0 {
				t.Fatalf("warnings %q, want none", cfg.Warnings)
			}
			d := cfg.Deployments[0]
			if d.APIKey.Value() != tc.key || !strings.HasPrefix(d.APIBase, tc.base) || d.APIVersion != tc.version {
				t.Fatalf("key %q, base %q, version %q; want %q, %q, %q", d.APIKey.Value(), d.APIBase, d.APIVersion, tc.key, tc.base, tc.version)
			}
		})
	}
}

// An unknown credential is one error: not also one for each value it
// would have given (an Azure deployment's api_base).
func TestUnknownCredentialIsOneError(t *testing.T) {
	_, err := Parse("t.yaml", []byte("model_list:\n  - model_name: a\n    litellm_params: {model: azure/prod, litellm_credential_name: nope}\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), `no credential named "nope"`) || strings.Contains(err.Error(), "api_base: is required") {
		t.Fatalf("error %v, want only the unknown credential's", err)
	}
}

func TestCredentialErrorsNameTheCredentialsLine(t *testing.T) {
	const yaml = `credential_list:
  - credential_name: openai-main
    credential_values:
      api_key: os.environ/MISSING_KEY
      aws_region_name: eu-west-1
      api_bse: https://x.example
  - credential_values: {api_key: sk-0123456789abcdef}
  - credential_name: openai-main
    credential_values: {api_key: sk-0123456789abcdef}
model_list:
  - model_name: a
    litellm_params: {model: openai/gpt-4o, litellm_credential_name: openai-main}
`
	_, err := Parse("t.yaml", []byte(yaml), env(nil))
	if err == nil {
		t.Fatal("loaded; want errors")
	}
	for _, want := range []string{
		`t.yaml:6:7: credential_list[0].credential_values.api_bse: unknown key "api_bse" (did you mean "api_base"?)`,
		"t.yaml:7:22: credential_list[1].credential_name: is required",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors:\n%v\nwant one containing %q", err, want)
		}
	}
	fixed := strings.Replace(strings.Replace(strings.Replace(yaml, "os.environ/MISSING_KEY", "sk-0123456789abcdef", 1), "api_bse", "api_base", 1),
		"  - credential_values", "  - credential_name: other\n    credential_values", 1)
	cfg, err := Parse("t.yaml", []byte(fixed), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`t.yaml:5:7: credential_list[0].credential_values.aws_region_name: is for Amazon Bedrock's and SageMaker's deployments (bedrock/<model>); ignored for provider "openai"`,
		`t.yaml:9:5: credential_list[2].credential_name: "openai-main" is also credential_list[0]'s name`,
	} {
		if !slices.ContainsFunc(cfg.Warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
			t.Errorf("warnings %q, want one starting %q", cfg.Warnings, want)
		}
	}
}

// A deployment's price comes from litellm_params, else model_info (where
// LiteLLM's cost tracking docs put it), else the list price of its
// base_model or model; least-cost warns about a deployment with none.
// Prompt tokens read from the provider's cache and written to it have
// prices of their own, the list's only beside its input price.
func TestDeploymentPrices(t *testing.T) {
	const head = "router_settings: {routing_strategy: least-cost}\nmodel_list:\n  - model_name: a\n"
	for _, tc := range []struct {
		name, yaml  string
		in, out     float64 // USD per million tokens
		read, write float64 // USD per million tokens; when 0, in
		priced      bool
		warning     string
	}{
		{name: "list price of the model", yaml: "    litellm_params: {model: openai/gpt-4o-mini}\n", in: 0.15, out: 0.60, read: 0.075, priced: true},
		{name: "list price of Claude, its cache's", yaml: "    litellm_params: {model: anthropic/claude-sonnet-4-20250514}\n",
			in: 3, out: 15, read: 0.30, write: 3.75, priced: true, warning: "t.yaml:4:22: model_list[0].litellm_params.model: anthropic/claude-sonnet-4-20250514 was retired"},
		{name: "litellm_params' prices", yaml: "    litellm_params: {model: openai/gpt-4o-mini, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}\n",
			in: 1, out: 2, priced: true},
		{name: "litellm_params' cache prices", yaml: "    litellm_params: {model: anthropic/claude-sonnet-4-20250514, input_cost_per_token: 0.000002, " +
			"cache_read_input_token_cost: 0.0000002, cache_creation_input_token_cost: 0.0000025}\n", in: 2, out: 15, read: 0.2, write: 2.5, priced: true, warning: "t.yaml:4:22: model_list[0].litellm_params.model: anthropic/claude-sonnet-4-20250514 was retired"},
		{name: "model_info's cache prices", yaml: "    litellm_params: {model: openai/llama, api_base: https://r.example/v1}\n" +
			"    model_info: {input_cost_per_token: 0.000001, cache_read_input_token_cost: 0.0000001}\n", in: 1, read: 0.1, priced: true},
		{name: "model_info's prices", yaml: "    litellm_params: {model: azure/prod, api_base: https://r.example}\n    model_info: {input_cost_per_token: 0.000003, output_cost_per_token: 0.000004}\n",
			in: 3, out: 4, priced: true},
		{name: "litellm_params' win over model_info's",
			yaml: "    litellm_params: {model: openai/gpt-4o-mini, input_cost_per_token: 0.000001}\n    model_info: {input_cost_per_token: 0.000003}\n",
			in:   1, out: 0.60, priced: true},
		{name: "model_info's base_model gives an Azure deployment its model's list price",
			yaml: "    litellm_params: {model: azure/prod-eu, api_base: https://r.example}\n    model_info: {base_model: azure/gpt-4o}\n", in: 2.50, out: 10, read: 1.25, priced: true},
		{name: "litellm_params' base_model too", yaml: "    litellm_params: {model: azure/prod-eu, api_base: https://r.example, base_model: gpt-4.1-mini}\n",
			in: 0.40, out: 1.60, read: 0.10, priced: true},
		{name: "a free deployment is priced", yaml: "    litellm_params: {model: openai/llama, api_base: https://r.example/v1, input_cost_per_token: 0, output_cost_per_token: 0}\n", priced: true},
		{name: "no price is a warning under least-cost", yaml: "    litellm_params: {model: openai/llama, api_base: https://r.example/v1}\n",
			warning: "t.yaml:4:22: model_list[0].litellm_params.model: openai/llama has no price breakerd knows: least-cost tries it after its group's priced deployments"},
		{name: "and under a budget", yaml: "    litellm_params: {model: openai/llama, api_base: https://r.example/v1}\nlitellm_settings: {max_budget: 10}\n",
			warning: "t.yaml:4:22: model_list[0].litellm_params.model: openai/llama has no price breakerd knows: least-cost tries it after its group's priced deployments, " +
				"and its calls cost $0 against the budgets it counts toward, so they never stop it"},
		{name: "OpenRouter reports its calls' cost: no budget warning", yaml: "    litellm_params: {model: openrouter/meta-llama/llama-4-maverick, api_key: sk-or-0123456789}\nlitellm_settings: {max_budget: 10}\n",
			warning: "t.yaml:4:22: model_list[0].litellm_params.model: openrouter/meta-llama/llama-4-maverick has no price breakerd knows: least-cost tries it after its group's priced deployments; set"},
		// OpenRouter passes its vendors' list prices through.
		{name: "Claude through OpenRouter, its versions with dots", yaml: "    litellm_params: {model: openrouter/anthropic/claude-sonnet-4.5, api_key: sk-or-0123456789}\n",
			in: 3, out: 15, read: 0.30, write: 3.75, priced: true},
		{name: "GPT-4.1 mini through OpenRouter, its dots kept", yaml: "    litellm_params: {model: openrouter/openai/gpt-4.1-mini, api_key: sk-or-0123456789}\n",
			in: 0.40, out: 1.60, read: 0.10, priced: true},
		{name: "DeepSeek through OpenRouter", yaml: "    litellm_params: {model: openrouter/deepseek/deepseek-chat, api_key: sk-or-0123456789}\n",
			in: 0.28, out: 0.42, read: 0.028, priced: true},
		{name: "a vendor/model name elsewhere is not a vendor's", yaml: "    litellm_params: {model: hosted_vllm/openai/gpt-4o-mini, api_base: https://v.example/v1}\n",
			warning: "t.yaml:4:22: model_list[0].litellm_params.model: hosted_vllm/openai/gpt-4o-mini has no price breakerd knows"},
		// Newer models' list prices: the longer name wins where one is the
		// other's prefix.
		{name: "GPT-5", yaml: "    litellm_params: {model: openai/gpt-5-2025-08-07}\n", in: 1.25, out: 10, read: 0.125, priced: true},
		{name: "GPT-5 mini", yaml: "    litellm_params: {model: openai/gpt-5-mini}\n", in: 0.25, out: 2, read: 0.025, priced: true},
		{name: "o3-mini, not o3", yaml: "    litellm_params: {model: openai/o3-mini}\n", in: 1.10, out: 4.40, read: 0.55, priced: true},
		{name: "Gemini 2.5 Flash-Lite, not Flash", yaml: "    litellm_params: {model: gemini/gemini-2.5-flash-lite, api_key: g-0123456789}\n", in: 0.10, out: 0.40, read: 0.025, priced: true},
		{name: "Claude Opus 4.5, not Opus 4", yaml: "    litellm_params: {model: anthropic/claude-opus-4-5-20251101, api_key: sk-ant-0123456789}\n",
			in: 5, out: 25, read: 0.50, write: 6.25, priced: true},
		{name: "Claude Opus 4.7, not Opus 4", yaml: "    litellm_params: {model: anthropic/claude-opus-4-7, api_key: sk-ant-0123456789, drop_params: true}\n",
			in: 5, out: 25, read: 0.50, write: 6.25, priced: true},
		{name: "Claude Fable 5", yaml: "    litellm_params: {model: anthropic/claude-fable-5, api_key: sk-ant-0123456789, drop_params: true}\n",
			in: 10, out: 50, read: 1, write: 12.50, priced: true},
		{name: "GPT-5.4 mini, not GPT-5", yaml: "    litellm_params: {model: openai/gpt-5.4-mini}\n", in: 0.75, out: 4.50, read: 0.075, priced: true},
		{name: "GPT-5.4", yaml: "    litellm_params: {model: openai/gpt-5.4-2026-03-05}\n", in: 2.50, out: 15, read: 0.25, priced: true},
		{name: "GPT-5.5, not GPT-5", yaml: "    litellm_params: {model: openai/gpt-5.5}\n", in: 5, out: 30, read: 0.50, priced: true},
		{name: "GPT-5.5 pro", yaml: "    litellm_params: {model: openai/gpt-5.5-pro}\n", in: 30, out: 180, priced: true},
		{name: "GPT-5.4 pro, not GPT-5.4", yaml: "    litellm_params: {model: openai/gpt-5.4-pro}\n", in: 30, out: 180, priced: true},
		{name: "GPT-5.2 pro, not GPT-5.2", yaml: "    litellm_params: {model: openai/gpt-5.2-pro-2025-12-11}\n", in: 21, out: 168, priced: true},
		{name: "GPT-5.1 Codex mini, not GPT-5.1", yaml: "    litellm_params: {model: openai/gpt-5.1-codex-mini}\n", in: 0.25, out: 2, read: 0.025, priced: true, warning: "t.yaml:4:22: model_list[0].litellm_params.model: openai/gpt-5.1-codex-mini was retired"},
		{name: "GPT-5.1 Codex max, GPT-5.1's", yaml: "    litellm_params: {model: openai/gpt-5.1-codex-max}\n", in: 1.25, out: 10, read: 0.125, priced: true, warning: "t.yaml:4:22: model_list[0].litellm_params.model: openai/gpt-5.1-codex-max was retired"},
		{name: "GPT-5.3 Codex, not GPT-5", yaml: "    litellm_params: {model: openai/gpt-5.3-codex}\n", in: 1.75, out: 14, read: 0.175, priced: true},
		{name: "Gemini 3 Pro", yaml: "    litellm_params: {model: gemini/gemini-3-pro-preview, api_key: g-0123456789}\n", in: 2, out: 12, read: 0.20, priced: true},
		{name: "Gemini 3.1 Pro", yaml: "    litellm_params: {model: gemini/gemini-3.1-pro-preview, api_key: g-0123456789}\n", in: 2, out: 12, read: 0.20, priced: true},
		{name: "Gemini 3 Flash", yaml: "    litellm_params: {model: gemini/gemini-3-flash-preview, api_key: g-0123456789}\n", in: 0.50, out: 3, read: 0.05, priced: true},
		{name: "Gemini 3.1 Flash-Lite", yaml: "    litellm_params: {model: gemini/gemini-3.1-flash-lite, api_key: g-0123456789}\n", in: 0.25, out: 1.50, read: 0.025, priced: true},
		{name: "GPT-5.6 Terra, whose cache writes cost more", yaml: "    litellm_params: {model: openai/gpt-5.6-terra}\n", in: 2.50, out: 15, read: 0.25, write: 3.125, priced: true},
		{name: "DeepSeek's chat model", yaml: "    litellm_params: {model: deepseek/deepseek-chat, api_key: sk-0123456789}\n", in: 0.28, out: 0.42, read: 0.028, priced: true},
		{name: "DeepSeek's reasoner, the same", yaml: "    litellm_params: {model: deepseek/deepseek-reasoner, api_key: sk-0123456789}\n", in: 0.28, out: 0.42, read: 0.028, priced: true},
		{name: "Grok 4", yaml: "    litellm_params: {model: xai/grok-4-0709, api_key: xai-0123456789}\n", in: 3, out: 15, read: 0.75, priced: true},
		{name: "Grok 4 Fast, not Grok 4", yaml: "    litellm_params: {model: xai/grok-4-fast-reasoning, api_key: xai-0123456789}\n", in: 0.20, out: 0.50, read: 0.05, priced: true},
		{name: "Grok 4.1 Fast, not Grok 4", yaml: "    litellm_params: {model: xai/grok-4-1-fast-non-reasoning, api_key: xai-0123456789}\n", in: 0.20, out: 0.50, read: 0.05, priced: true},
		{name: "Grok 3 mini, not Grok 3", yaml: "    litellm_params: {model: xai/grok-3-mini, api_key: xai-0123456789}\n", in: 0.30, out: 0.50, read: 0.075, priced: true},
		{name: "Amazon Nova Pro on Bedrock", yaml: "    litellm_params: {model: bedrock/us.amazon.nova-pro-v1:0, aws_region_name: us-east-1, aws_access_key_id: AKIAEXAMPLE, aws_secret_access_key: secret-0123456789}\n",
			in: 0.80, out: 3.20, read: 0.20, priced: true},
		{name: "ChatGPT-4o, not GPT-4o", yaml: "    litellm_params: {model: openai/chatgpt-4o-latest}\n", in: 5, out: 15, priced: true, warning: "t.yaml:4:22: model_list[0].litellm_params.model: openai/chatgpt-4o-latest was retired"},
		{name: "GPT-3.5 Turbo", yaml: "    litellm_params: {model: openai/gpt-3.5-turbo-0125}\n", in: 0.50, out: 1.50, priced: true, warning: "t.yaml:4:22: model_list[0].litellm_params.model: openai/gpt-3.5-turbo-0125 was retired"},
		{name: "Claude Haiku 4.5 on Bedrock", yaml: "    litellm_params: {model: bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0, aws_region_name: us-east-1, aws_access_key_id: AKIAEXAMPLE, aws_secret_access_key: secret-0123456789}\n",
			in: 1, out: 5, read: 0.10, write: 1.25, priced: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(head+tc.yaml), env(map[string]string{"OPENAI_API_KEY": "sk-0123456789abcdef", "AZURE_API_KEY": "az-0123456789abcdef"}))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			if tc.warning != "" {
				want = []string{tc.warning}
			}
			warningsStartWith(t, cfg.Warnings, want)
			d := cfg.Deployments[0]
			in, out := d.InputCostPerToken*1e6, d.OutputCostPerToken*1e6
			if math.Abs(in-tc.in) > 1e-9 || math.Abs(out-tc.out) > 1e-9 || d.Priced != tc.priced {
				t.Fatalf("prices $%g and $%g per million tokens, priced %v; want $%g, $%g, %v", in, out, d.Priced, tc.in, tc.out, tc.priced)
			}
			read, write := d.CacheReadCostPerToken*1e6, d.CacheWriteCostPerToken*1e6
			if wr, ww := cmp.Or(tc.read, tc.in), cmp.Or(tc.write, tc.in); math.Abs(read-wr) > 1e-9 || math.Abs(write-ww) > 1e-9 {
				t.Fatalf("cache prices $%g (read) and $%g (write) per million tokens; want $%g, $%g", read, write, wr, ww)
			}
		})
	}
	_, err := Parse("t.yaml", []byte(head+"    litellm_params: {model: openai/gpt-4o}\n    model_info: {output_cost_per_token: -1}\n"), env(nil))
	if want := "t.yaml:5:18: model_list[0].model_info.output_cost_per_token: must not be negative"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one containing %q", err, want)
	}
}

// A long prompt costs more at some models: past a threshold of input
// tokens, all a call's tokens are priced at the tier's prices, the
// table's for GPT-5.4 and 5.5, Gemini's Pro models and Claude Sonnet 4
// and 4.5, or LiteLLM's input_cost_per_token_above_200k_tokens and its
// kin, from litellm_params, else model_info. Configured prices replace
// the table's tiers.
func TestLongContextPrices(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n"
	// USD per million tokens; hour, a 1-hour cache write's, when not
	// the cache write's.
	type tier struct {
		above                      int
		in, out, read, write, hour float64
	}
	const m = 1e-6
	for _, tc := range []struct {
		name, yaml string
		want       []tier
		warning    string
	}{
		{"GPT-5.4 past 272K", "    litellm_params: {model: openai/gpt-5.4}\n", []tier{{272_000, 5, 22.50, 0.50, 5, 0}}, ""},
		{"GPT-5.5", "    litellm_params: {model: openai/gpt-5.5-2026-04-23}\n", []tier{{272_000, 10, 45, 1, 10, 0}}, ""},
		{"GPT-5.4 pro, its own", "    litellm_params: {model: openai/gpt-5.4-pro}\n", []tier{{272_000, 60, 270, 60, 60, 0}}, ""},
		{"GPT-5.4 mini has one price", "    litellm_params: {model: openai/gpt-5.4-mini}\n", nil, ""},
		{"GPT-5.5 pro: none published", "    litellm_params: {model: openai/gpt-5.5-pro}\n", nil, ""},
		{"Gemini 2.5 Pro past 200K", "    litellm_params: {model: gemini/gemini-2.5-pro, api_key: g-0123456789}\n", []tier{{200_000, 2.50, 15, 0.625, 2.50, 0}}, ""},
		{"Gemini 3.1 Pro", "    litellm_params: {model: gemini/gemini-3.1-pro-preview, api_key: g-0123456789}\n", []tier{{200_000, 4, 18, 0.40, 4, 0}}, ""},
		{"Claude Sonnet 4.5", "    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, api_key: sk-ant-0123456789}\n", []tier{{200_000, 6, 22.50, 0.60, 7.50, 12}}, ""},
		{"Claude Sonnet 4.6 has one price", "    litellm_params: {model: anthropic/claude-sonnet-4-6, api_key: sk-ant-0123456789}\n", nil, ""},
		{"Grok 4 past 128K", "    litellm_params: {model: xai/grok-4, api_key: xai-0123456789}\n", []tier{{128_000, 6, 30, 0.75, 6, 0}}, ""},
		{"Grok 4 Fast, its own", "    litellm_params: {model: xai/grok-4-fast-reasoning, api_key: xai-0123456789}\n", []tier{{128_000, 0.40, 1, 0.05, 0.40, 0}}, ""},
		{"Grok Code Fast has one price", "    litellm_params: {model: xai/grok-code-fast-1, api_key: xai-0123456789}\n", nil, ""},
		{"a configured price replaces the table's tier", "    litellm_params: {model: openai/gpt-5.4, input_cost_per_token: 0.000002}\n", nil, ""},
		{"a configured tier, the others its deployment's prices",
			"    litellm_params: {model: openai/gpt-5.4, input_cost_per_token_above_128k_tokens: 0.000003}\n", []tier{{128_000, 3, 15, 0.25, 2.50, 0}}, ""},
		{"LiteLLM's keys in model_info, and a number YAML reads as a string",
			"    litellm_params: {model: openai/mine, api_base: https://r.example/v1, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}\n" +
				"    model_info: {input_cost_per_token_above_200k_tokens: \"2e-6\", output_cost_per_token_above_200k_tokens: 4e-6,\n" +
				"      cache_read_input_token_cost_above_200k_tokens: 0.0000002, cache_creation_input_token_cost_above_200k_tokens: 0.0000025,\n" +
				"      input_cost_per_token_above_1000000_tokens: 0.000003}\n",
			[]tier{{200_000, 2, 4, 0.2, 2.5, 1}, {1_000_000, 3, 2, 1, 1, 0}}, ""}, // a 1-hour write at the deployment's price
		{"litellm_params' win over model_info's",
			"    litellm_params: {model: openai/gpt-5.4, input_cost_per_token_above_272k_tokens: 0.000007}\n" +
				"    model_info: {input_cost_per_token_above_272k_tokens: 0.000009, output_cost_per_token_above_272k_tokens: 0.00003}\n",
			[]tier{{272_000, 7, 30, 0.25, 2.50, 0}}, ""},
		{"a tier without its input price is ignored, as LiteLLM ignores it",
			"    litellm_params: {model: openai/gpt-4o, output_cost_per_token_above_128k_tokens: 0.00003}\n", nil,
			"t.yaml:3:44: model_list[0].litellm_params.output_cost_per_token_above_128k_tokens: is ignored without input_cost_per_token_above_128k_tokens beside it"},
		{"a per-service-tier price is not one", "    litellm_params: {model: openai/gpt-4o}\n    model_info: {input_cost_per_token_above_200k_tokens_priority: 0.00001}\n", nil,
			"t.yaml:4:18: model_list[0].model_info.input_cost_per_token_above_200k_tokens_priority: a LiteLLM setting that breakerd does not use; ignored"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(head+tc.yaml), env(map[string]string{"OPENAI_API_KEY": "sk-0123456789abcdef"}))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			if tc.warning != "" {
				want = []string{tc.warning}
			}
			warningsStartWith(t, cfg.Warnings, want)
			got := cfg.Deployments[0].LongContext
			if len(got) != len(tc.want) {
				t.Fatalf("tiers %+v, want %+v", got, tc.want)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Above != w.above || math.Abs(g.Input-w.in*m) > 1e-15 || math.Abs(g.Output-w.out*m) > 1e-15 ||
					math.Abs(g.CacheRead-w.read*m) > 1e-15 || math.Abs(g.CacheWrite-w.write*m) > 1e-15 ||
					math.Abs(g.CacheWriteHour-cmp.Or(w.hour, w.write)*m) > 1e-15 {
					t.Fatalf("tier %d %+v, want %+v per million", i, g, w)
				}
			}
		})
	}
	for _, tc := range []struct{ yaml, want string }{
		{"    litellm_params: {model: openai/gpt-4o, input_cost_per_token_above_200k_tokens: -1}\n",
			"t.yaml:3:44: model_list[0].litellm_params.input_cost_per_token_above_200k_tokens: must be a price in USD per token, not negative, got -1"},
		{"    litellm_params: {model: openai/gpt-4o}\n    model_info: {input_cost_per_token_above_200k_tokens: cheap}\n",
			"t.yaml:4:18: model_list[0].model_info.input_cost_per_token_above_200k_tokens: must be a price in USD per token, not negative, got cheap"},
	} {
		_, err := Parse("t.yaml", []byte(head+tc.yaml), env(map[string]string{"OPENAI_API_KEY": "sk-0123456789abcdef"}))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", err, tc.want)
		}
	}
}

// A call is priced at the tier of the highest threshold its input
// passes, all its tokens; at the threshold itself, at the base prices.
// Tokens written to the 1-hour cache are priced apart from the other
// cache writes.
func TestCostOfLongPrompts(t *testing.T) {
	d := Deployment{InputCostPerToken: 1, OutputCostPerToken: 2, CacheReadCostPerToken: 0.5, CacheWriteCostPerToken: 1.5, CacheWriteHourCostPerToken: 3,
		BatchInputCostPerToken: 0.5, BatchOutputCostPerToken: 1, ServiceTiers: map[string]PriceTier{"priority": {Input: 3, Output: 4, CacheRead: 1}},
		LongContext: []PriceTier{{Above: 100, Input: 10, Output: 20, CacheRead: 5, CacheWrite: 15, CacheWriteHour: 30},
			{Above: 1000, Input: 100, Output: 200, CacheRead: 50, CacheWrite: 150, CacheWriteHour: 300}}}
	for _, tc := range []struct {
		name string
		t    Tokens
		want float64
	}{
		{"short", Tokens{Input: 50, CacheRead: 10, CacheWrite: 10, Output: 5}, 30*1 + 10*0.5 + 10*1.5 + 5*2},
		{"an hour's cache writes", Tokens{Input: 50, CacheRead: 10, CacheWrite: 10, CacheWriteHour: 4, Output: 5}, 30*1 + 10*0.5 + 6*1.5 + 4*3 + 5*2},
		{"at the threshold", Tokens{Input: 100, Output: 1}, 100 + 2},
		{"past it", Tokens{Input: 101, Output: 1}, 1010 + 20},
		{"its cached part counts toward it", Tokens{Input: 150, CacheRead: 100, CacheWrite: 20, CacheWriteHour: 5, Output: 1}, 30*10 + 100*5 + 15*15 + 5*30 + 20},
		{"past the highest", Tokens{Input: 2000, Output: 1}, 200_000 + 200},
		{"a service tier's prices, not tiered", Tokens{Input: 2000, CacheRead: 1000, Output: 1, ServiceTier: "priority"}, 1000*3 + 1000*1 + 4},
		{"flex at the batch prices", Tokens{Input: 50, CacheRead: 10, Output: 4, ServiceTier: "flex"}, 40*0.5 + 10*0.25 + 4*1},
		{"another tier at the base prices", Tokens{Input: 50, Output: 4, ServiceTier: "default"}, 50 + 8},
	} {
		if got := d.Cost(tc.t); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: cost %v, want %v", tc.name, got, tc.want)
		}
	}
}

// OpenAI's service tiers are priced by LiteLLM's input_cost_per_token_flex,
// output_cost_per_token_priority and kin, from model_info and
// litellm_params (whose win), each price the deployment's own where the
// tier sets none.
func TestServiceTierPrices(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n"
	cfg, err := Parse("t.yaml", []byte(head+"    litellm_params: {model: openai/gpt-5, input_cost_per_token_priority: 0.0000025}\n"+
		"    model_info: {input_cost_per_token_priority: 0.000009, output_cost_per_token_priority: 0.00002, cache_read_input_token_cost_flex: \"6e-8\"}\n"),
		env(map[string]string{"OPENAI_API_KEY": "sk-0123456789abcdef"}))
	if err != nil {
		t.Fatal(err)
	}
	warningsStartWith(t, cfg.Warnings, nil)
	got := cfg.Deployments[0].ServiceTiers
	const m = 1e-6
	want := map[string]PriceTier{"priority": {Input: 2.5 * m, Output: 20 * m, CacheRead: 0.125 * m, CacheWrite: 1.25 * m, CacheWriteHour: 1.25 * m},
		"flex": {Input: 1.25 * m, Output: 10 * m, CacheRead: 0.06 * m, CacheWrite: 1.25 * m, CacheWriteHour: 1.25 * m}}
	if len(got) != len(want) {
		t.Fatalf("tiers %+v", got)
	}
	for name, w := range want {
		g := got[name]
		if math.Abs(g.Input-w.Input) > 1e-15 || math.Abs(g.Output-w.Output) > 1e-15 || math.Abs(g.CacheRead-w.CacheRead) > 1e-15 ||
			math.Abs(g.CacheWrite-w.CacheWrite) > 1e-15 {
			t.Errorf("%s: %+v, want %+v", name, g, w)
		}
	}
	_, err = Parse("t.yaml", []byte(head+"    litellm_params: {model: openai/gpt-5, output_cost_per_token_flex: cheap}\n"), env(map[string]string{"OPENAI_API_KEY": "sk-0123456789abcdef"}))
	if want := "t.yaml:3:43: model_list[0].litellm_params.output_cost_per_token_flex: must be a price in USD per token"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// Anthropic writes its 1-hour cache at twice a model's input price:
// LiteLLM's cache_creation_input_token_cost_above_1hr, else twice a
// Claude model's input price (listed or configured), else the cache
// write price.
func TestHourCachePrices(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n"
	for _, tc := range []struct {
		name, yaml string
		hour       float64 // USD per million tokens
	}{
		{"Claude's list price", "    litellm_params: {model: anthropic/claude-opus-4-7, api_key: sk-ant-0123456789, drop_params: true}\n", 10},
		{"Claude on Bedrock", "    litellm_params: {model: bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0, aws_region_name: us-east-1, aws_access_key_id: AKIAEXAMPLE, aws_secret_access_key: secret-0123456789}\n", 2},
		{"twice a configured input price", "    litellm_params: {model: anthropic/claude-sonnet-4-6, api_key: sk-ant-0123456789, input_cost_per_token: 0.000002}\n", 4},
		{"LiteLLM's key", "    litellm_params: {model: anthropic/claude-sonnet-4-6, api_key: sk-ant-0123456789}\n" +
			"    model_info: {cache_creation_input_token_cost_above_1hr: 0.0000055}\n", 5.5},
		{"not Claude: the cache write price", "    litellm_params: {model: openai/gpt-5.6-terra}\n", 3.125},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(head+tc.yaml), env(map[string]string{"OPENAI_API_KEY": "sk-0123456789abcdef"}))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Deployments[0].CacheWriteHourCostPerToken * 1e6; math.Abs(got-tc.hour) > 1e-9 {
				t.Fatalf("1-hour cache writes at $%g per million tokens, want $%g", got, tc.hour)
			}
		})
	}
}

// A Claude model of Opus 4.7's contract refuses temperature and top_p: a
// deployment that would pass requests setting them over (no drop_params),
// or that sets one as its default, is warned of at its line.
func TestClaudeSamplingWarnings(t *testing.T) {
	const head = "model_list:\n  - model_name: c\n"
	for _, tc := range []struct {
		name, yaml, warning string
	}{
		{"no drop_params", "    litellm_params: {model: anthropic/claude-opus-4-7, api_key: sk-ant-0123456789}\n",
			"t.yaml:3:22: model_list[0].litellm_params.model: claude-opus-4-7 takes no temperature or top_p (Claude Opus 4.7's API contract): a chat request that sets one passes this deployment over; set drop_params: true"},
		{"Bedrock's id", "    litellm_params: {model: bedrock/us.anthropic.claude-opus-4-8-v1:0, aws_region_name: us-east-1, aws_access_key_id: AKIAEXAMPLE, aws_secret_access_key: secret-0123456789}\n",
			"t.yaml:3:22: model_list[0].litellm_params.model: us.anthropic.claude-opus-4-8-v1:0 takes no temperature or top_p"},
		{"drop_params for all", "    litellm_params: {model: anthropic/claude-opus-4-7, api_key: sk-ant-0123456789}\nlitellm_settings: {drop_params: true}\n", ""},
		{"LiteLLM's modify_params, which breakerd always does", "    litellm_params: {model: anthropic/claude-opus-4-7, api_key: sk-ant-0123456789}\nlitellm_settings: {drop_params: true, modify_params: true}\n",
			"t.yaml:4:39: litellm_settings.modify_params: a LiteLLM setting that breakerd does not use; ignored (breakerd always does this where a request would otherwise fail"},
		{"a temperature default", "    litellm_params: {model: anthropic/claude-sonnet-5, api_key: sk-ant-0123456789, drop_params: true, temperature: 0.2}\n",
			"t.yaml:3:103: model_list[0].litellm_params.temperature: claude-sonnet-5 takes no temperature (Claude Opus 4.7's API contract): every chat request to it would be passed over"},
		{"its default 1", "    litellm_params: {model: anthropic/claude-sonnet-5, api_key: sk-ant-0123456789, drop_params: true, temperature: 1}\n", ""},
		{"an earlier Claude", "    litellm_params: {model: anthropic/claude-sonnet-4-6, api_key: sk-ant-0123456789, temperature: 0.2}\n", ""},
		{"not Claude's API", "    litellm_params: {model: openrouter/anthropic/claude-opus-4-7, api_key: sk-or-0123456789}\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) { warnsOnly(t, head+tc.yaml, tc.warning) })
	}
}

// warnsOnly parses a config that must load, with the one warning
// starting with warning, or none when it is "".
func warnsOnly(t *testing.T, yaml, warning string) {
	t.Helper()
	cfg, err := Parse("t.yaml", []byte(yaml), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	if warning != "" {
		want = []string{warning}
	}
	warningsStartWith(t, cfg.Warnings, want)
}

// A reasoning_effort default on a GPT-5.2+ deployment, which takes
// function tools in chat completions only without reasoning, is warned
// of at its line; none, or an earlier model, is no concern.
func TestToolsReasoningWarning(t *testing.T) {
	const head = "model_list:\n  - model_name: g\n"
	for _, tc := range []struct{ yaml, warning string }{
		{"    litellm_params: {model: openai/gpt-5.4, api_key: sk-0123456789, reasoning_effort: high}\n",
			"t.yaml:3:69: model_list[0].litellm_params.reasoning_effort: gpt-5.4 takes function tools in chat completions only with reasoning_effort none"},
		{"    litellm_params: {model: openai/gpt-5.4, api_key: sk-0123456789, reasoning_effort: none}\n", ""},
		{"    litellm_params: {model: openai/gpt-5.1, api_key: sk-0123456789, reasoning_effort: high}\n", ""},
	} {
		warnsOnly(t, head+tc.yaml, tc.warning)
	}
}

// litellm_params.headers and extra_headers are read by canonical name,
// extra_headers' winning; their values resolve environment references,
// and what cannot be sent as a header is an error at its line.
func TestUpstreamHeaders(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/gpt-4o\n"
	cfg, err := Parse("t.yaml", []byte(head+"      headers: {x-title: My App, X-Gateway-Key: os.environ/GW_KEY}\n      extra_headers:\n        x-title: Other App\n        X-Priority: 1\n"),
		env(map[string]string{"OPENAI_API_KEY": "sk-0123456789abcdef", "GW_KEY": "gw-0123456789"}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Secret{"X-Title": "Other App", "X-Gateway-Key": "gw-0123456789", "X-Priority": "1"}
	if got := cfg.Deployments[0].Headers; !maps.Equal(got, want) {
		t.Fatalf("headers %q, want %q", got, want)
	}
	// OpenAI's organization is a header too; explicit headers win.
	cfg, err = Parse("t.yaml", []byte(head+"      organization: org-123\n"), env(map[string]string{"OPENAI_API_KEY": "sk-0123456789abcdef"}))
	if err != nil || cfg.Deployments[0].Headers["Openai-Organization"] != "org-123" {
		t.Fatalf("headers %q (%v), want OpenAI-Organization: org-123", cfg.Deployments[0].Headers, err)
	}
	// Scrubbed from upstream messages: a credential's value, and one read
	// from the environment; not an app's title.
	cfg, err = Parse("t.yaml", []byte(head+"      headers: {X-Title: My App, Authorization: Bearer tok-0123456789, X-Org: os.environ/ORG}\n"),
		env(map[string]string{"OPENAI_API_KEY": "sk-0123456789abcdef", "ORG": "org-0123456789"}))
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Deployments[0].HeaderSecrets
	slices.Sort(got)
	if want := []Secret{"Bearer tok-0123456789", "org-0123456789"}; !slices.Equal(got, want) {
		t.Fatalf("header secrets %q, want %q", got, want)
	}
	for _, tc := range []struct{ yaml, err string }{
		{"      headers: {Content-Length: 5}\n", "t.yaml:5:17: model_list[0].litellm_params.headers.Content-Length: breakerd sets Content-Length on every upstream call itself"},
		{"      headers: {host: x.example}\n", "t.yaml:5:17: model_list[0].litellm_params.headers.host: breakerd sets Host on every upstream call itself"},
		{"      headers: {\"X Title\": a}\n", `t.yaml:5:17: model_list[0].litellm_params.headers.X Title: "X Title" is not an HTTP header name`},
		{"      extra_headers:\n        X-Title: \"a\\r\\nX-Injected: b\"\n", "t.yaml:6:9: model_list[0].litellm_params.extra_headers.X-Title: must be one line"},
		{"      headers: {X-Title: [a, b]}\n", "t.yaml:5:17: model_list[0].litellm_params.headers.X-Title: must be a header value (a string)"},
		{"      headers: {X-Key: os.environ/UNSET}\n", "t.yaml:5:17: model_list[0].litellm_params.headers.X-Key: environment variable UNSET is not set"},
	} {
		_, err := Parse("t.yaml", []byte(head+tc.yaml), env(map[string]string{"OPENAI_API_KEY": "sk-0123456789abcdef"}))
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error %v, want one containing %q", strings.TrimSpace(tc.yaml), err, tc.err)
		}
	}
}

// LiteLLM's litellm_settings.json_logs, else its $JSON_LOGS, turns on JSON
// logs; breakerd's own logging.format wins when set.
func TestJSONLogs(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o}\n"
	for _, tc := range []struct{ yaml, jsonLogs, format string }{
		{"", "", "text"},
		{"litellm_settings: {json_logs: true}\n", "", "json"},
		{"litellm_settings: {json_logs: false}\n", "", "text"},
		{"litellm_settings: {json_logs: true}\nlogging: {format: text}\n", "", "text"},
		{"", "True", "json"},
		{"", "false", "text"},
		{"litellm_settings: {json_logs: false}\n", "True", "text"},
		{"logging: {format: text}\n", "True", "text"},
	} {
		vars := map[string]string{}
		if tc.jsonLogs != "" {
			vars["JSON_LOGS"] = tc.jsonLogs
		}
		cfg, err := Parse("t.yaml", []byte(head+tc.yaml), env(vars))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Logging.Format != tc.format || len(cfg.Warnings) != 0 {
			t.Errorf("%q, $JSON_LOGS %q: format %q, warnings %q; want %q and none", tc.yaml, tc.jsonLogs, cfg.Logging.Format, cfg.Warnings, tc.format)
		}
	}
}

// A provider breakerd does not know is an error when its name is close to
// one it knows (a typo); any other is left out of routing with a warning,
// as are a model's maker written as its provider (mistralai/...) and
// LiteLLM's custom Python providers, so that the rest still runs.
func TestUnknownProvidersAreLeftOut(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o}\n  - model_name: b\n    litellm_params: {model: "
	for _, tc := range []struct{ name, yaml, err, warning string }{
		{name: "a typo is an error", yaml: "groqq/llama}\n", err: `t.yaml:5:22: model_list[1].litellm_params.model: unknown provider "groqq" (did you mean "groq"?)`},
		{name: "another provider is left out", yaml: "elevenlabs/eleven_flash_v2_5}\n",
			warning: `t.yaml:5:22: model_list[1].litellm_params.model: provider "elevenlabs" is not one breakerd can call: this deployment is left out of routing; if the server speaks OpenAI's API, write openai/eleven_flash_v2_5 with its api_base`},
		{name: "a model's maker, as Hugging Face names it, is left out, not a typo of a provider", yaml: "mistralai/mistral-7b-instruct}\n",
			warning: `t.yaml:5:22: model_list[1].litellm_params.model: "mistralai" names the model's maker, not a provider that serves it: this deployment is left out of routing; write the provider before it: openrouter/mistralai/mistral-7b-instruct`},
		{name: "a custom handler is left out, saying why", yaml: "my-llm/v2}\nlitellm_settings:\n  custom_provider_map:\n    - {provider: my-llm, custom_handler: handler.my_llm}\n",
			warning: `t.yaml:5:22: model_list[1].litellm_params.model: provider "my-llm" is a custom handler (litellm_settings.custom_provider_map), Python code that breakerd cannot run`},
		{name: "a provider with no model (LiteLLM's own example config has azure/) is left out", yaml: "azure/, api_base: https://r.openai.azure.com, api_key: az-0123456789}\n",
			warning: `t.yaml:5:22: model_list[1].litellm_params.model: "azure/" names no model after the provider: this deployment is left out of routing; write azure/<model>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseExpecting(t, []byte(head+tc.yaml), env(map[string]string{"OPENAI_API_KEY": "sk-0123456789abcdef"}), tc.err)
			if cfg == nil {
				return
			}
			if len(cfg.Deployments) != 1 || cfg.Deployments[0].Group != "a" {
				t.Fatalf("deployments %d, want a's only", len(cfg.Deployments))
			}
			warningsStartWith(t, cfg.Warnings, []string{tc.warning, `t.yaml:4:5: model_list[1].model_name: model group "b" has no deployment breakerd can call`})
		})
	}
	// With none left, the config fails, each reason with its fix.
	_, err := Parse("t.yaml", []byte("model_list:\n  - model_name: b\n    litellm_params: {model: elevenlabs/x}\n"+
		"  - model_name: c\n    litellm_params: {model: nvidia/z-ai/glm-5.2}\n"), env(nil))
	for _, want := range []string{"none of its 2 deployments can be called by breakerd",
		`model_list[0].litellm_params.model: provider "elevenlabs" is not one breakerd can call; if the server speaks OpenAI's API, write openai/x with its api_base`,
		`model_list[1].litellm_params.model: "nvidia" names the model's maker, not a provider that serves it; for nvidia's own API, write nvidia_nim/z-ai/glm-5.2; else write the provider before it`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v, want one containing %q", err, want)
		}
	}
}

// A deployment whose model, key, address or version names a variable that is not
// set is left out of routing, with a warning at the reference, as LiteLLM
// starts and fails only that deployment's calls; the rest of the config
// runs.
func TestUnsetVariablesLeaveTheirDeploymentOut(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o}\n  - model_name: b\n    litellm_params:\n"
	for _, tc := range []struct{ name, yaml, warning string }{
		{name: "an api_key", yaml: "      model: anthropic/claude\n      api_key: os.environ/UNSET_KEY\n",
			warning: "t.yaml:7:7: model_list[1].litellm_params.api_key: environment variable UNSET_KEY is not set: this deployment is left out of routing; set it to call this deployment"},
		{name: "an api_base", yaml: "      model: openai/llama\n      api_base: https://${UNSET_HOST}/v1\n",
			warning: "t.yaml:7:7: model_list[1].litellm_params.api_base: environment variable UNSET_HOST is not set"},
		{name: "an api_version", yaml: "      model: azure/gpt-4o\n      api_base: https://x.openai.azure.com\n      api_version: os.environ/UNSET_VERSION\n",
			warning: "t.yaml:8:7: model_list[1].litellm_params.api_version: environment variable UNSET_VERSION is not set"},
		{name: "an address only the environment would give", yaml: "      model: hosted_vllm/llama\n",
			warning: `t.yaml:6:7: model_list[1].litellm_params.model: provider "hosted_vllm" needs the address of its server: api_base is not set, nor $HOSTED_VLLM_API_BASE: this deployment is left out of routing; set either to call this deployment`},
		{name: "an account only the environment would give", yaml: "      model: cloudflare/@cf/meta/llama-3.1-8b-instruct\n",
			warning: `t.yaml:6:7: model_list[1].litellm_params.model: provider "cloudflare" needs its account: api_base is not set, nor $CLOUDFLARE_ACCOUNT_ID: this deployment is left out of routing`},
		{name: "a header", yaml: "      model: openai/llama\n      api_base: https://x.example/v1\n      extra_headers: {X-Tenant: t, X-Api-Key: os.environ/UNSET_KEY}\n",
			warning: "t.yaml:8:36: model_list[1].litellm_params.extra_headers.X-Api-Key: environment variable UNSET_KEY is not set"},
		{name: "its model", yaml: "      model: os.environ/UNSET_MODEL\n      api_key: sk-set\n",
			warning: "t.yaml:6:7: model_list[1].litellm_params.model: environment variable UNSET_MODEL is not set: this deployment is left out of routing"},
		{name: "part of its model", yaml: "      model: openai/${UNSET_DEPLOYMENT}\n",
			warning: "t.yaml:6:7: model_list[1].litellm_params.model: environment variable UNSET_DEPLOYMENT is not set"},
		{name: "a catch-all", yaml: "      model: \"*\"\n      api_key: os.environ/UNSET_KEY\n",
			warning: "t.yaml:7:7: model_list[1].litellm_params.api_key: environment variable UNSET_KEY is not set"},
		{name: "a credential's, at the credential", yaml: "      model: anthropic/claude\n      litellm_credential_name: c\ncredential_list:\n  - credential_name: c\n    credential_values: {api_key: os.environ/UNSET_KEY}\n",
			warning: "t.yaml:10:25: credential_list[0].credential_values.api_key: environment variable UNSET_KEY is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseExpecting(t, []byte(head+tc.yaml), env(nil), "")
			if len(cfg.Deployments) != 1 || cfg.Deployments[0].Group != "a" {
				t.Fatalf("deployments %d, want a's only", len(cfg.Deployments))
			}
			warningsStartWith(t, cfg.Warnings, []string{tc.warning, `t.yaml:4:5: model_list[1].model_name: model group "b" has no deployment breakerd can call`})
			if why := cfg.LeftOut["b"]; why == "" || !strings.Contains(tc.warning, why) {
				t.Errorf("b left out because %q, want the warning's reason", why)
			}
		})
	}
	cfg := parseExpecting(t, []byte(head+"      model: openai/llama\n      api_base: https://${UNSET_HOST:-localhost:8000}/v1\n"), env(nil), "")
	if len(cfg.Deployments) != 2 || cfg.Deployments[1].APIBase != "https://localhost:8000/v1" {
		t.Fatalf("a variable with a default: deployments %+v, want b at its default address", cfg.Deployments)
	}
	cfg = parseExpecting(t, []byte(head+"      model: cloudflare/@cf/meta/llama-3.1-8b-instruct\n"), env(map[string]string{"CLOUDFLARE_ACCOUNT_ID": "acc123", "CLOUDFLARE_API_KEY": "cf-0123456789"}), "")
	if d := cfg.Deployments[1]; d.APIBase != "https://api.cloudflare.com/client/v4/accounts/acc123/ai/v1" || d.Model != "@cf/meta/llama-3.1-8b-instruct" || d.APIKey.Value() != "cf-0123456789" {
		t.Fatalf("cloudflare: %s at %s", d.Model, d.APIBase)
	}
}

// Where ignoring a LiteLLM setting changes what clients or operators meet
// (custom auth code, a database, callbacks), its warning says what
// breakerd does instead.
func TestIgnoredSettingsSayWhatBreakerdDoesInstead(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte("model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o, s3_bucket_name: b}\n"+
		"general_settings:\n  custom_auth: custom_auth.user_api_key_auth\n  database_url: null\n  routing_strategy: simple-shuffle\n  allowed_origins: [\"*\"]\n"+
		"litellm_settings:\n  success_callback: [langfuse]\n"+
		"files_settings:\n  - {custom_llm_provider: openai, api_key: sk-files-key}\nfinetune_settings: []\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	warningsStartWith(t, cfg.Warnings, []string{
		"t.yaml:3:44: model_list[0].litellm_params.s3_bucket_name: a LiteLLM setting that breakerd does not use; ignored (for LiteLLM's Bedrock batch jobs",
		"t.yaml:5:3: general_settings.custom_auth: a LiteLLM setting that breakerd does not use; ignored (breakerd cannot run LiteLLM's Python auth code: with master_key set, API clients must send it",
		"t.yaml:6:3: general_settings.database_url: a LiteLLM setting that breakerd does not use; ignored (breakerd keeps no database",
		"t.yaml:7:3: general_settings.routing_strategy: a LiteLLM setting that breakerd does not use; ignored (LiteLLM reads it from router_settings, as breakerd does: here it does nothing)",
		"t.yaml:8:3: general_settings.allowed_origins: a LiteLLM setting that breakerd does not use; ignored (server.cors_allowed_origins lists the origins",
		"t.yaml:13:1: finetune_settings: a LiteLLM setting that breakerd does not use; ignored (a fine-tuning job goes where its training file is: files_settings' account, or the deployment that stores it)",
		"t.yaml:10:3: litellm_settings.success_callback: a LiteLLM setting that breakerd does not use; ignored (breakerd's /metrics, OpenTelemetry",
	})
}

// A config made of the shapes public LiteLLM configs take loads: what
// breakerd can call is routed, each thing it leaves out is a warning.
func TestRealWorldConfigLoads(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "real_world_config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("real.yaml", data, env(map[string]string{"OPENROUTER_API_KEY": "sk-or-0123456789", "GROQ_API_KEY": "gsk-0123456789",
		"GITHUB_TOKEN": "ghp-0123456789", "AZURE_API_KEY": "az-0123456789", "AZURE_API_BASE": "https://eu.openai.azure.com",
		"GOOGLE_CLOUD_PROJECT": "p", "ELEVENLABS_API_KEY": "el-0123456789", "LITELLM_MASTER_KEY": "sk-master-0123456789",
		"CUSTOM_AWS_ACCESS_KEY_ID": "AKIDCUSTOM", "CUSTOM_AWS_SECRET_ACCESS_KEY": "custom-secret", "CUSTOM_AWS_REGION_NAME": "eu-central-1",
		"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret"}))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range cfg.Deployments {
		names = append(names, d.Name)
	}
	want := []string{"default/openrouter/meta-llama/llama-4-maverick", "groq/llama-4-maverick/groq/meta-llama/llama-4-maverick-17b-128e-instruct",
		"coding/github/gpt-4.1", "gpt-4o-eu", "gemini-latest/vertex_ai/google/gemini-2.5-pro", "bedrock-claude/bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
		"bedrock-llama/bedrock/us.meta.llama3-2-11b-instruct-v1:0", "titan-embed/bedrock/amazon.titan-embed-text-v2:0"}
	if !slices.Equal(names, want) {
		t.Fatalf("deployments %q, want %q", names, want)
	}
	az := cfg.Deployments[3]
	if az.APIKey.Value() != "az-0123456789" || az.APIBase != "https://eu.openai.azure.com" || az.APIVersion != "2024-10-21" || !az.Priced ||
		math.Abs(az.InputCostPerToken*1e6-2.5) > 1e-9 {
		t.Fatalf("azure deployment %+v: want the credential's values and gpt-4o's list price", az)
	}
	claude, llama, titan := cfg.Deployments[5].Bedrock, cfg.Deployments[6].Bedrock, cfg.Deployments[7]
	if claude.Region != "eu-central-1" || claude.Key.ID != "AKIDCUSTOM" || claude.Converse || llama.Role == nil || llama.Role.SessionName != "litellm" ||
		llama.Key.ID != "AKIDENV" || !llama.Converse || !titan.Embeddings || titan.Bedrock.Key.ID != "AKIDENV" {
		t.Fatalf("bedrock deployments: %+v, %+v, %+v", claude, llama, titan.Bedrock)
	}
	if h := cfg.Deployments[0].Headers; h["X-Title"] != "Example App" || h["Http-Referer"] != "https://app.example" {
		t.Fatalf("headers %q", h)
	}
	if !slices.Equal(cfg.Deployments[2].AlwaysDrop, []string{"reasoningSummary"}) || cfg.Router.NumRetries != 3 {
		t.Fatalf("always dropped %q, num_retries %d: want reasoningSummary, and 3 from retry_policy", cfg.Deployments[2].AlwaysDrop, cfg.Router.NumRetries)
	}
	if cfg.Logging.Format != "json" || cfg.Server.MasterKey.Value() != "sk-master-0123456789" {
		t.Fatalf("logging %q, master key set %v", cfg.Logging.Format, cfg.Server.MasterKey != "")
	}
	for _, w := range []string{
		`model_list[4].litellm_params.model: Vertex AI gets no credentials: vertex_credentials is not set, nor $GOOGLE_APPLICATION_CREDENTIALS, nor gcloud's application default credentials: its calls carry the tokens of the machine's service account`,
		`model_list[5].litellm_params.model: provider "elevenlabs" is not one breakerd can call`,
		`model_list[6].litellm_params.model: provider "grok-video" is a custom handler`,
		`model_list[2].litellm_params.supports_function_calling: a LiteLLM setting that breakerd does not use; ignored (a model capability`,
		"general_settings.custom_auth: a LiteLLM setting that breakerd does not use; ignored (breakerd cannot run LiteLLM's Python auth code",
		"model_list[2].litellm_params.rpm_limit: a key breakerd does not know; ignored",
		"router_settings.enable_load_balancing: a key breakerd does not know; ignored",
		"health_check: a key breakerd does not know; ignored",
		`router_settings.fallbacks[2].deepseek/deepseek-reasoner: "deepseek/deepseek-reasoner" is not a model_name in model_list`,
	} {
		if !slices.ContainsFunc(cfg.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("no warning containing %q in:\n%s", w, strings.Join(cfg.Warnings, "\n"))
		}
	}
}

// extra_body's parameters are request defaults; one that is the request's
// own, or that litellm_params also sets, is an error at its line.
func TestExtraBody(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params:\n      model: ollama/qwen3\n"
	cfg, err := Parse("t.yaml", []byte(head+"      extra_body: {think: true, options: {num_ctx: 8192}}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Deployments[0].Defaults
	if string(d["think"]) != "true" || string(d["options"]) != `{"num_ctx":8192}` || len(cfg.Warnings) != 0 {
		t.Fatalf("defaults %s, warnings %q", d, cfg.Warnings)
	}
	for _, tc := range []struct{ yaml, err string }{
		{"      temperature: 0.2\n      extra_body: {temperature: 0.5}\n", "t.yaml:6:20: model_list[0].litellm_params.extra_body.temperature: is also set as litellm_params.temperature: set it once"},
		{"      extra_body: {messages: []}\n", "t.yaml:5:20: model_list[0].litellm_params.extra_body.messages: is the request's own"},
	} {
		if _, err := Parse("t.yaml", []byte(head+tc.yaml), env(nil)); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("error %v, want one containing %q", err, tc.err)
		}
	}
}

// LiteLLM ignores the top-level and router_settings keys it does not
// know; breakerd loads them with a warning, unless the key is a letter or
// two from a known one (a typo, and an error).
func TestKeysLiteLLMIgnoresLoadWithAWarning(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o}\n"
	cfg, err := Parse("t.yaml", []byte(head+"router_settings:\n  enable_load_balancing: false\nhealth_check:\n  endpoint: /health\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	warningsStartWith(t, cfg.Warnings, []string{
		"t.yaml:5:3: router_settings.enable_load_balancing: a key breakerd does not know; ignored, as LiteLLM ignores the keys it does not know here",
		"t.yaml:6:1: health_check: a key breakerd does not know; ignored, as LiteLLM ignores the keys it does not know here",
	})
	_, err = Parse("t.yaml", []byte(head+"router_settings:\n  num_retires: 3\n"), env(nil))
	if want := `t.yaml:5:3: router_settings.num_retires: unknown key "num_retires" (did you mean "num_retries"?)`; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// cooldown_time: 0 is LiteLLM's "no cooldowns": the breakers are off,
// with a warning, and check-config's mapping says so.
func TestZeroCooldownTurnsTheBreakersOff(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte("model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o}\nrouter_settings:\n  cooldown_time: 0\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Router.Breaker.Enabled || !slices.Contains(cfg.Router.Breaker.FromLiteLLM, "cooldown_time 0: no cooldowns, so breakers off") {
		t.Fatalf("breakers on %v, mapping %q", cfg.Router.Breaker.Enabled, cfg.Router.Breaker.FromLiteLLM)
	}
	warningsStartWith(t, cfg.Warnings, []string{"t.yaml:5:3: router_settings.cooldown_time: 0 turns LiteLLM's cooldowns off, and with them breakerd's circuit breakers"})
}

// retry_policy's newer classes (503s, 404s, DefaultRetries) are read:
// provider-side ones count towards num_retries, a 404 is never retried.
// A class LiteLLM's policy model lacks loads with a warning, as LiteLLM
// drops it; a likely typo of one it has is an error.
func TestRetryPolicyClasses(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o}\nrouter_settings:\n  retry_policy:\n"
	cfg, err := Parse("t.yaml", []byte(head+"    RateLimitErrorRetries: 2\n    ServiceUnavailableErrorRetries: 4\n    NotFoundErrorRetries: 9\n    DefaultRetries: 1\n    GatewayErrorRetries: 7\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Router.NumRetries != 4 {
		t.Fatalf("num_retries %d, want 4 (503s'; a 404 is never retried)", cfg.Router.NumRetries)
	}
	warningsStartWith(t, cfg.Warnings, []string{"t.yaml:10:5: router_settings.retry_policy.GatewayErrorRetries: not one of the error classes of LiteLLM's policy"})
	cfg, err = Parse("t.yaml", []byte(head+"    DefaultRetries: 3\n"), env(nil))
	if err != nil || cfg.Router.NumRetries != 3 {
		t.Fatalf("DefaultRetries alone: num_retries %d (%v), want 3", cfg.Router.NumRetries, err)
	}
}

// LiteLLM's parallel-request limits map onto breakerd's: the proxy-wide
// one onto the hard cap, the per-deployment defaults onto each
// deployment's bulkhead; breakerd's own and a deployment's own win.
func TestLiteLLMParallelRequestLimits(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o}\n  - model_name: b\n    litellm_params: {model: openai/gpt-4o-mini, max_parallel_requests: 7}\n"
	for _, tc := range []struct {
		name, yaml string
		cap, a, b  int
	}{
		{"none", "", 0, 0, 7},
		{"general_settings", "general_settings: {global_max_parallel_requests: 500, max_parallel_requests: 50}\n", 500, 50, 7},
		{"router_settings' default wins over general_settings'", "general_settings: {max_parallel_requests: 50}\nrouter_settings: {default_max_parallel_requests: 20}\n", 0, 20, 7},
		{"server's own cap wins", "general_settings: {global_max_parallel_requests: 500}\nserver: {max_concurrent_requests: 300}\n", 300, 0, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(head+tc.yaml), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Server.MaxConcurrent != tc.cap || cfg.Deployments[0].MaxParallel != tc.a || cfg.Deployments[1].MaxParallel != tc.b || len(cfg.Warnings) != 0 {
				t.Fatalf("cap %d, a %d, b %d, warnings %q; want %d, %d, %d and none", cfg.Server.MaxConcurrent, cfg.Deployments[0].MaxParallel,
					cfg.Deployments[1].MaxParallel, cfg.Warnings, tc.cap, tc.a, tc.b)
			}
		})
	}
}

// With no general_settings.master_key, LiteLLM's proxy takes its master
// key from LITELLM_MASTER_KEY; so does breakerd, so that a deployment
// relying on the variable does not come up open. The config's own wins.
func TestMasterKeyFromLiteLLMVariable(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o}\n"
	for _, tc := range []struct {
		name, yaml, from string
		vars             map[string]string
		key, warning     string
	}{
		{name: "none", yaml: ""},
		{name: "the variable", vars: map[string]string{"LITELLM_MASTER_KEY": "sk-from-the-environment"}, key: "sk-from-the-environment", from: "LITELLM_MASTER_KEY"},
		{name: "the config's own wins", yaml: "general_settings: {master_key: sk-from-the-config-file}\n",
			vars: map[string]string{"LITELLM_MASTER_KEY": "sk-from-the-environment"}, key: "sk-from-the-config-file"},
		{name: "a short one warns", vars: map[string]string{"LITELLM_MASTER_KEY": "sk-1234"}, key: "sk-1234", from: "LITELLM_MASTER_KEY",
			warning: "t.yaml: $LITELLM_MASTER_KEY: the master key, is shorter than 16 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte(head+tc.yaml), env(tc.vars))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Server.MasterKey.Value() != tc.key || cfg.Server.MasterKeyFrom != tc.from {
				t.Fatalf("master key %q from %q, want %q from %q", cfg.Server.MasterKey.Value(), cfg.Server.MasterKeyFrom, tc.key, tc.from)
			}
			var want []string
			if tc.warning != "" {
				want = []string{tc.warning}
			}
			warningsStartWith(t, cfg.Warnings, want)
		})
	}
}

// Fallbacks from a group that is not in model_list (a provider/model
// string, say) load with a warning, as LiteLLM loads them and never uses
// them.
func TestFallbacksFromAnUnknownGroupWarn(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte("model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o}\nrouter_settings:\n  fallbacks: [{\"deepseek/deepseek-reasoner\": [a]}]\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	warningsStartWith(t, cfg.Warnings, []string{`t.yaml:5:16: router_settings.fallbacks[0].deepseek/deepseek-reasoner: "deepseek/deepseek-reasoner" is not a model_name in model_list: its fallbacks never apply`})
	if len(cfg.Router.Fallbacks["a"]) != 0 {
		t.Fatalf("fallbacks %v", cfg.Router.Fallbacks)
	}
}

// LiteLLM's additional_drop_params: parameters left out of every request
// to the deployment; one that is the request's own is an error.
func TestAdditionalDropParams(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/gpt-4o\n"
	cfg, err := Parse("t.yaml", []byte(head+"      additional_drop_params: [reasoningSummary, seed]\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Deployments[0].AlwaysDrop; !slices.Equal(got, []string{"reasoningSummary", "seed"}) || len(cfg.Warnings) != 0 {
		t.Fatalf("always dropped %q, warnings %q", got, cfg.Warnings)
	}
	_, err = Parse("t.yaml", []byte(head+"      additional_drop_params: [messages]\n"), env(nil))
	if want := `t.yaml:5:32: model_list[0].litellm_params.additional_drop_params[0]: "messages" is the request's own and cannot be dropped`; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// An api_key whose variable is set to "" (an environment_variables
// placeholder the process environment did not fill) is a warning: the
// provider will refuse calls without a key.
func TestEmptyKeyVariableWarns(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte("model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/gpt-4o\n      api_key: os.environ/OPENAI_API_KEY\nenvironment_variables:\n  OPENAI_API_KEY: \"\"\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	warningsStartWith(t, cfg.Warnings, []string{"t.yaml:5:7: model_list[0].litellm_params.api_key: os.environ/OPENAI_API_KEY is empty: this deployment's calls go without a key, and openai will refuse them"})
}

// drop_params is true or false, from a variable too, or (as some configs
// write it) a list of parameters, read as additional_drop_params.
func TestDropParamsForms(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/gpt-4o\n"
	vars := env(map[string]string{"DROP": "true"})
	for _, tc := range []struct {
		yaml, err string
		drop      bool
		always    []string
	}{
		{yaml: "      drop_params: true\n", drop: true},
		{yaml: "      drop_params: os.environ/DROP\n", drop: true},
		{yaml: "      drop_params: [tool_choice]\n", always: []string{"tool_choice"}},
		{yaml: "      drop_params: [tool_choice]\n      additional_drop_params: [seed]\n", err: "t.yaml:5:7: model_list[0].litellm_params.drop_params: is a list of parameters, and additional_drop_params is too"},
		{yaml: "      drop_params: maybe\n", err: "t.yaml:5:7: model_list[0].litellm_params.drop_params: must be true or false"},
		{yaml: "      drop_params: [{a: b}]\n", err: "t.yaml:5:21: model_list[0].litellm_params.drop_params[0]: must be the name of a request parameter"},
	} {
		cfg := parseExpecting(t, []byte(head+tc.yaml), vars, tc.err)
		if cfg == nil {
			continue
		}
		if d := cfg.Deployments[0]; d.DropParams != tc.drop || !slices.Equal(d.AlwaysDrop, tc.always) {
			t.Errorf("%q: drop_params %v, always dropped %q; want %v, %q", tc.yaml, d.DropParams, d.AlwaysDrop, tc.drop, tc.always)
		}
	}
}

// LiteLLM's gemini/ calls Google's native API; breakerd calls its
// OpenAI-compatible one. An api_base that is not the latter's gets a
// warning saying so; the default, or one ending in /openai, none.
func TestGeminiNativeAPIBaseWarns(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params:\n      model: gemini/gemini-2.5-flash\n      api_key: k-0123456789\n"
	for _, tc := range []struct{ yaml, warning string }{
		{"", ""},
		{"      api_base: https://gw.example/v1beta/openai\n", ""},
		{"      api_base: https://aiplatform.googleapis.com/v1/publishers/google\n",
			"t.yaml:6:7: model_list[0].litellm_params.api_base: breakerd calls gemini's OpenAI-compatible API, at {api_base}/chat/completions, so api_base should end in /openai"},
	} {
		cfg := parseExpecting(t, []byte(head+tc.yaml), env(nil), "")
		var want []string
		if tc.warning != "" {
			want = []string{tc.warning}
		}
		warningsStartWith(t, cfg.Warnings, want)
	}
}

// A deployment and its litellm_params take any key in LiteLLM: one
// breakerd does not know loads with a warning, one that belongs to another
// mapping says which (with the errors, when the config fails), and a
// likely typo stays an error.
func TestUnknownDeploymentKeys(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/gpt-4o\n"
	cfg := parseExpecting(t, []byte(head+"      rpm_limit: 60\n      allowed_fails: 3\n    litellm_provider: vllm\n"), env(nil), "")
	warningsStartWith(t, cfg.Warnings, []string{
		"t.yaml:5:7: model_list[0].litellm_params.rpm_limit: a key breakerd does not know; ignored",
		"t.yaml:6:7: model_list[0].litellm_params.allowed_fails: is a key of router_settings, not of this mapping: here it does nothing",
		"t.yaml:7:5: model_list[0].litellm_provider: a key breakerd does not know; ignored",
	})
	parseExpecting(t, []byte(head+"      api_bse: https://x.example\n"), env(nil), `t.yaml:5:7: model_list[0].litellm_params.api_bse: unknown key "api_bse" (did you mean "api_base"?)`)
	// A config that fails shows the keys in the wrong mapping with its
	// errors: they likely explain them.
	_, err := Parse("t.yaml", []byte("model_list:\n  - model_name: a\n    api_base: http://vllm:8000/v1\n    litellm_params: {model: hosted_vllm/llama3}\n"), env(nil))
	want := "t.yaml:3:5: model_list[0].api_base: is a key of litellm_params, not of this mapping: here it does nothing (ignored, as LiteLLM ignores it)\n" +
		"t.yaml:4:22: model_list[0].litellm_params.model: provider \"hosted_vllm\" needs the address of its server"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one containing %q", err, want)
	}
}

// LiteLLM's model_info.id names a deployment (its breakers, metrics and
// status) as the operator's dashboards already know it; two deployments
// of one name are an error.
func TestModelInfoIDNamesTheDeployment(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o}\n    model_info: {id: gpt-4o-primary}\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o}\n"
	cfg := parseExpecting(t, []byte(head), env(nil), "")
	if got := []string{cfg.Deployments[0].Name, cfg.Deployments[1].Name}; !slices.Equal(got, []string{"gpt-4o-primary", "a/openai/gpt-4o#2"}) || len(cfg.Warnings) != 0 {
		t.Fatalf("names %q, warnings %q", got, cfg.Warnings)
	}
	parseExpecting(t, []byte(head+"    model_info: {id: gpt-4o-primary}\n"), env(nil),
		`t.yaml:7:18: model_list[1].model_info.id: "gpt-4o-primary" also names model_list[0]: deployments' names (their breakers and metrics) must differ`)
}

// A critical group none of whose deployments breakerd can call is an
// error that says why, not "unknown model group".
func TestCriticalGroupLeftOut(t *testing.T) {
	parseExpecting(t, []byte("model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o}\n  - model_name: b\n    litellm_params: {model: sagemaker/x}\nhealth:\n  critical_groups: [b]\n"), env(nil),
		`health.critical_groups[0]: model group "b" is critical, but breakerd can call none of its deployments (provider "sagemaker" needs its container's own request format (sagemaker_chat/ calls a container that speaks OpenAI's chat API), which breakerd does not do yet): /health would never be healthy`)
}

// A deployment left out of routing gets the one warning that says so, not
// also one for each LiteLLM key of its that breakerd would ignore; a key
// another, routed deployment shares keeps its warning.
func TestLeftOutDeploymentsWarnOnce(t *testing.T) {
	cfg := parseExpecting(t, []byte("model_list:\n"+
		"  - model_name: g\n    litellm_params: {model: vertex_ai/gemini-2.5-pro, vertex_project: p, vertex_location: l, vertex_credentials: os.environ/NOPE}\n"+
		"  - model_name: a\n    litellm_params: {model: openai/gpt-4o}\n"+
		"  - model_name: b\n    litellm_params: {model: sagemaker/x, max_retries: 2}\n"+
		"  - model_name: c\n    litellm_params: {model: openai/gpt-4o-mini, max_retries: 2}\n"), env(nil), "")
	warningsStartWith(t, cfg.Warnings, []string{
		`t.yaml:7:42: model_list[2].litellm_params.max_retries: a LiteLLM setting that breakerd does not use; ignored (router_settings.num_retries does this) (also in 1 more places)`,
		`t.yaml:3:94: model_list[0].litellm_params.vertex_credentials: environment variable NOPE is not set`,
		`t.yaml:7:22: model_list[2].litellm_params.model: provider "sagemaker" needs its container's own request format`,
		`t.yaml:2:5: model_list[0].model_name: model group "g" has no deployment breakerd can call`,
		`t.yaml:6:5: model_list[2].model_name: model group "b" has no deployment breakerd can call`,
	})
}

// A bare model name no provider claims, with an api_base, is an
// OpenAI-compatible server at that address (with a warning saying so);
// without one it is still an error.
func TestBareModelAtAnAddress(t *testing.T) {
	cfg := parseExpecting(t, []byte("model_list:\n  - model_name: q\n    litellm_params: {model: qwen3.6-plus, api_base: \"https://aihubmix.example/v1\", api_key: k-0123456789}\n"), env(nil), "")
	if d := cfg.Deployments[0]; d.Provider != "openai" || d.Model != "qwen3.6-plus" || d.APIBase != "https://aihubmix.example/v1" {
		t.Fatalf("deployment %s/%s at %s", d.Provider, d.Model, d.APIBase)
	}
	warningsStartWith(t, cfg.Warnings, []string{`t.yaml:3:22: model_list[0].litellm_params.model: "qwen3.6-plus" names no provider: calling its api_base as an OpenAI-compatible server`})
	parseExpecting(t, []byte("model_list:\n  - model_name: q\n    litellm_params: {model: qwen3.6-plus}\n"), env(nil), `cannot tell the provider of "qwen3.6-plus"`)
}

// LiteLLM's routing markers in an Azure model (o_series/, gpt5_series/,
// responses/) are not part of the deployment's name.
func TestAzureModelMarkers(t *testing.T) {
	for _, tc := range []struct {
		model, deployment, warning string
		viaResponses               bool
	}{
		{"azure/o_series/o3-mini", "o3-mini", "", false},
		{"azure/gpt5_series/prod-gpt5", "prod-gpt5", "", false},
		// LiteLLM's bridge: chat requests through the Responses API, for
		// any model; a codex model's are anyway.
		{"azure/responses/my-gpt-4o", "my-gpt-4o", "", true},
		{"openai/responses/gpt-4.1", "gpt-4.1", "", true},
		{"azure/gpt-5-codex", "gpt-5-codex", "", true},
		{"openai/gpt-5.4-pro", "gpt-5.4-pro", "", true},
		{"openai/gpt-5.4", "gpt-5.4", "", false},
		{"azure/my-o_series/x", "my-o_series/x", "", false},
	} {
		cfg := parseExpecting(t, []byte("model_list:\n  - model_name: a\n    litellm_params: {model: "+tc.model+", api_base: https://r.example/v1, api_key: k-0123456789}\n"), env(nil), "")
		d := cfg.Deployments[0]
		if d.Model != tc.deployment || d.Fit.ResponsesOnly != tc.viaResponses {
			t.Errorf("%s: deployment %q, through the Responses API %v; want %q, %v", tc.model, d.Model, d.Fit.ResponsesOnly, tc.deployment, tc.viaResponses)
		}
		if _, refused := d.Refuses["stop"]; refused != tc.viaResponses {
			t.Errorf("%s: stop refused %v", tc.model, refused)
		}
		var want []string
		if tc.warning != "" {
			want = []string{tc.warning}
		}
		warningsStartWith(t, cfg.Warnings, want)
	}
}

// LiteLLM's model_info.mode "responses" marks a model of the Responses
// API alone, as its responses/ marker does: an Azure deployment named
// freely (prod-codex) takes chat through that API.
func TestResponsesMode(t *testing.T) {
	for mode, want := range map[string]bool{"responses": true, "chat": false} {
		cfg := parseExpecting(t, []byte("model_list:\n  - model_name: a\n    litellm_params: {model: azure/prod-codex, api_base: https://r.example, api_key: k-0123456789}\n"+
			"    model_info: {mode: "+mode+"}\n"), env(nil), "")
		if d := cfg.Deployments[0]; d.Fit.ResponsesOnly != want {
			t.Errorf("mode %s: through the Responses API %v, want %v", mode, d.Fit.ResponsesOnly, want)
		}
	}
}

// LiteLLM's model_group_retry_policy gives a model group's deployments
// the most retries its policy gives a provider-side error, where a
// deployment sets no num_retries of its own; a group a letter off one is
// an error, any other a warning.
func TestModelGroupRetryPolicy(t *testing.T) {
	const models = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\n" +
		"  - model_name: a\n    litellm_params: {model: openai/y, num_retries: 0}\n  - model_name: b\n    litellm_params: {model: openai/z}\n"
	cfg, err := Parse("t.yaml", []byte(models+"router_settings:\n  num_retries: 1\n  model_group_retry_policy:\n"+
		"    a: {TimeoutErrorRetries: 3, InternalServerErrorRetries: 2, BadRequestErrorRetries: 9}\n    elsewhere: {TimeoutErrorRetries: 1}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range cfg.Deployments {
		n := "router's"
		if d.NumRetries != nil {
			n = strconv.Itoa(*d.NumRetries)
		}
		got = append(got, d.Group+":"+n)
	}
	if want := []string{"a:3", "a:0", "b:router's"}; !slices.Equal(got, want) {
		t.Fatalf("retries %v, want %v", got, want)
	}
	warningsStartWith(t, cfg.Warnings, []string{`t.yaml:12:5: router_settings.model_group_retry_policy.elsewhere: "elsewhere" is not a model_name in model_list; ignored`})
	_, err = Parse("t.yaml", []byte(models+"router_settings:\n  model_group_retry_policy:\n    bb: {TimeoutErrorRetries: 1}\n"), env(nil))
	if want := `router_settings.model_group_retry_policy.bb: unknown model group "bb" (did you mean "b"?)`; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// Deployments' tags are read for tag routing; with it off, one warning
// says they do nothing, however many deployments carry them.
func TestTagsWithoutTagRoutingWarnOnce(t *testing.T) {
	const models = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, tags: [free]}\n" +
		"  - model_name: a\n    litellm_params: {model: openai/y, tags: [paid]}\n"
	for _, on := range []bool{false, true} {
		cfg, err := Parse("t.yaml", []byte(models+"router_settings:\n  enable_tag_filtering: "+strconv.FormatBool(on)+"\n"), env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cfg.Deployments[1].Tags, []string{"paid"}) || cfg.Router.TagFiltering != on {
			t.Fatalf("tags %v, tag routing %v", cfg.Deployments[1].Tags, cfg.Router.TagFiltering)
		}
		n := strings.Count(strings.Join(cfg.Warnings, "\n"), "tags route requests only with router_settings.enable_tag_filtering")
		if want := map[bool]int{false: 1, true: 0}[on]; n != want {
			t.Fatalf("tag routing %v: %d warnings, want %d: %v", on, n, want, cfg.Warnings)
		}
	}
}

// A deployment's context window comes from litellm_params'
// max_input_tokens, else model_info's, else the built-in table for its
// base_model or model; 0 is unknown, and a window under 1 is an error.
func TestMaxInputTokens(t *testing.T) {
	for _, tc := range []struct {
		name, params, info string
		want               int
		err                string
	}{
		{name: "litellm_params' wins", params: "max_input_tokens: 4096", info: "max_input_tokens: 8192", want: 4096},
		{name: "model_info's", info: "max_input_tokens: 8192", want: 8192},
		{name: "known by the model", want: 128000},
		{name: "known by base_model", params: "base_model: azure/gpt-4.1", want: 1047576},
		{name: "a Claude on Bedrock's", params: "model: bedrock/us.anthropic.claude-3-5-haiku-20241022-v1:0", want: 200000},
		{name: "under 1", params: "max_input_tokens: 0", err: "t.yaml:3:71: model_list[0].litellm_params.max_input_tokens: must be at least 1, got 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params := "model: openai/gpt-4o-mini, api_key: sk-test-key"
			switch {
			case strings.HasPrefix(tc.params, "model: "):
				params = tc.params + ", api_key: bedrock-api-key"
			case tc.params != "":
				params += ", " + tc.params
			}
			cfg, err := Parse("t.yaml", []byte("model_list:\n  - model_name: a\n    litellm_params: {"+params+"}\n    model_info: {"+tc.info+"}\n"), env(nil))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Deployments[0].MaxInputTokens; got != tc.want {
				t.Fatalf("max_input_tokens %d, want %d", got, tc.want)
			}
		})
	}
}

// LiteLLM's cache_control_injection_points are read as LiteLLM reads them;
// a point that names no message, or a location LiteLLM does not have, is
// an error at its line.
func TestCacheControlInjectionPoints(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params:\n      model: anthropic/claude-sonnet-4-5\n      api_key: sk-ant-0123456789\n      cache_control_injection_points:\n"
	cfg, err := Parse("t.yaml", []byte(head+"        - {location: message, role: system}\n        - {location: message, index: -1, control: {type: ephemeral, ttl: 1h}}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	minus1 := -1
	want := []CachePoint{{Role: "system", Control: `{"type":"ephemeral"}`}, {Index: &minus1, Control: `{"ttl":"1h","type":"ephemeral"}`}}
	if got := cfg.Deployments[0].CachePoints; !reflect.DeepEqual(got, want) {
		t.Fatalf("%+v, want %+v", got, want)
	}
	for _, tc := range []struct{ yaml, says string }{
		{"        - {location: tool, role: system}\n", "t.yaml:7:12: model_list[0].litellm_params.cache_control_injection_points[0].location: must be message"},
		{"        - {location: message}\n", "cache_control_injection_points[0]: names the messages to mark by role or by index, one of them"},
		{"        - {location: message, role: bot}\n", "cache_control_injection_points[0].role: must be system, developer, user, assistant or tool"},
	} {
		if _, err := Parse("t.yaml", []byte(head+tc.yaml), env(nil)); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%q: %v, want an error saying %q", tc.yaml, err, tc.says)
		}
	}
}

// A provider that takes its key in a header of its own as well gets it
// there (Sarvam's api-subscription-key, as LiteLLM sends it), unless the
// config sets that header itself.
func TestKeyHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, params, want string
	}{
		{"the key", "{model: sarvam/sarvam-m, api_key: sk-sarvam-123456}", "sk-sarvam-123456"},
		{"the config's own", "{model: sarvam/sarvam-m, api_key: sk-sarvam-123456, headers: {api-subscription-key: sk-other-654321}}", "sk-other-654321"},
		{"no key, no header", "{model: sarvam/sarvam-m}", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte("model_list:\n  - model_name: s\n    litellm_params: "+tc.params+"\n"), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			d := cfg.Deployments[0]
			if got := d.Headers["Api-Subscription-Key"].Value(); got != tc.want {
				t.Fatalf("api-subscription-key %q, want %q (headers %v)", got, tc.want, d.Headers)
			}
			if tc.want != "" && d.Headers["Api-Subscription-Key"] == d.APIKey && !slices.Contains(d.Secrets(), d.APIKey) {
				t.Fatal("the key in a header is not scrubbed")
			}
		})
	}
}

// Fallbacks may name models that wildcard model_names serve, from and to,
// as in LiteLLM, without a warning that they never apply.
func TestFallbacksNameWildcardModels(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte(`
model_list:
  - model_name: "*"
    litellm_params: {model: "openai/*", api_key: sk-123456}
  - model_name: "anthropic/*"
    litellm_params: {model: "anthropic/*", api_key: sk-ant-123456}
router_settings:
  fallbacks: [{gpt-4o: [anthropic/claude-3-5-haiku-20241022]}]
  context_window_fallbacks: [{gpt-4o-mini: [gpt-4.1]}]
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range cfg.Warnings {
		if strings.Contains(w, "fallback") {
			t.Errorf("warning: %s", w)
		}
	}
	if got := cfg.Router.Fallbacks["gpt-4o"]; !slices.Equal(got, []string{"anthropic/claude-3-5-haiku-20241022"}) {
		t.Errorf("gpt-4o's fallbacks %q", got)
	}
	if got := cfg.Router.ContextWindowFallbacks["gpt-4o-mini"]; !slices.Equal(got, []string{"gpt-4.1"}) {
		t.Errorf("gpt-4o-mini's context window fallbacks %q", got)
	}
}

// LiteLLM's "otel" callback is breakerd's own OpenTelemetry export: it
// loads without "ignored", and says so when no endpoint is set for it.
func TestOtelCallback(t *testing.T) {
	const yaml = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o, api_key: sk-123456}\nlitellm_settings:\n  callbacks: [\"otel\"]\n"
	for _, tc := range []struct {
		name string
		env  map[string]string
		says string
	}{
		{"no endpoint", nil, "otel: breakerd exports spans once OTEL_EXPORTER_OTLP_ENDPOINT (or LiteLLM's OTEL_EXPORTER and OTEL_ENDPOINT) is set; none is"},
		{"the standard endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, ""},
		{"LiteLLM's endpoint", map[string]string{"OTEL_EXPORTER": "otlp_http", "OTEL_ENDPOINT": "http://collector:4318/v1/traces"}, ""},
	} {
		cfg, err := Parse("t.yaml", []byte(yaml), env(tc.env))
		if err != nil {
			t.Fatal(err)
		}
		w := strings.Join(cfg.Warnings, "\n")
		if strings.Contains(w, "ignored") || (tc.says == "") != (w == "") || !strings.Contains(w, tc.says) {
			t.Errorf("%s: warnings %q, want %q", tc.name, w, tc.says)
		}
	}
}

// A deployment that calls its provider's hosted API with no key in any
// form is named (its calls would all be 401s); one with a key, a key
// header, its own api_base, another credential, or a provider that needs
// no key is not.
func TestKeyWarningsNameDeploymentsWithoutAKey(t *testing.T) {
	yaml := `model_list:
  - {model_name: a, litellm_params: {model: openai/gpt-4o}}
  - {model_name: b, litellm_params: {model: groq/llama-3.1-8b-instant}}
  - {model_name: c, litellm_params: {model: openai/gpt-4o, api_key: sk-test-key}}
  - {model_name: d, litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:9/v1"}}
  - {model_name: e, litellm_params: {model: openai/gpt-4o, extra_headers: {authorization: "Bearer sk-in-a-header"}}}
  - {model_name: f, litellm_params: {model: sarvam/sarvam-m, headers: {api-subscription-key: sarvam-key-1}}}
  - {model_name: g, litellm_params: {model: ollama/llama3}}
  - {model_name: h, litellm_params: {model: anthropic/claude-sonnet-4-5}}
`
	env := func(k string) (string, bool) {
		if k == "ANTHROPIC_API_KEY" {
			return "sk-ant-from-env", true
		}
		return "", false
	}
	cfg := parseExpecting(t, []byte(yaml), env, "")
	got := cfg.KeyWarnings()
	want := []string{
		"deployment a/openai/gpt-4o: openai's API needs a key, and it has no api_key and $OPENAI_API_KEY is not set: its calls will be refused (401)",
		"deployment b/groq/llama-3.1-8b-instant: groq's API needs a key, and it has no api_key and $GROQ_API_KEY is not set: its calls will be refused (401)",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("key warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, w := range cfg.Warnings {
		if strings.Contains(w, "needs a key") {
			t.Errorf("a load warning too: %s", w)
		}
	}
}

// LiteLLM's files_settings (its batch docs' config) loads: each entry an
// OpenAI or Azure OpenAI account, its key and address from the entry or
// the provider's variables, as a deployment's; a provider whose files
// breakerd does not keep is a warning, an Azure entry with no address an
// error that names it.
func TestFilesSettings(t *testing.T) {
	yaml := `model_list:
  - {model_name: a, litellm_params: {model: openai/gpt-4o, api_key: sk-model-key}}
files_settings:
  - custom_llm_provider: azure
    api_base: os.environ/AZURE_API_BASE
    api_key: os.environ/AZURE_API_KEY
    api_version: "2024-05-01-preview"
  - custom_llm_provider: openai
    api_key: os.environ/OPENAI_API_KEY
  - custom_llm_provider: vertex_ai
    organization: org-1
`
	vars := env(map[string]string{"AZURE_API_BASE": "https://eu.openai.azure.com/", "AZURE_API_KEY": "az-files-key-1", "OPENAI_API_KEY": "sk-files-key-2"})
	cfg := parseExpecting(t, []byte(yaml), vars, "")
	type store struct{ name, provider, base, key, version, group string }
	var got []store
	for _, d := range cfg.FileStores {
		got = append(got, store{d.Name, d.Provider, d.APIBase, d.APIKey.Value(), d.APIVersion, d.Group})
	}
	want := []store{
		{"files_settings/azure", "azure", "https://eu.openai.azure.com", "az-files-key-1", "2024-05-01-preview", FileStoreGroup},
		{"files_settings/openai", "openai", "https://api.openai.com/v1", "sk-files-key-2", "", FileStoreGroup},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("file stores %+v, want %+v", got, want)
	}
	warningsStartWith(t, cfg.Warnings, []string{
		"t.yaml:11:5: files_settings[2].organization: a LiteLLM setting that breakerd does not use",
		"t.yaml:10:5: files_settings[2].custom_llm_provider: breakerd keeps files at openai and azure accounts only; this entry is ignored",
	})
	parseExpecting(t, []byte("model_list:\n  - {model_name: a, litellm_params: {model: openai/gpt-4o, api_key: sk-model-key}}\n"+
		"files_settings:\n  - {custom_llm_provider: azure, api_key: k-123456}\n"), env(nil), "t.yaml:4:5: files_settings[0].api_base: is required for azure")
}

// A name that likely carries a credential is one whose value is never
// printed; a count of tokens is not one.
func TestCredentialName(t *testing.T) {
	for name, want := range map[string]bool{
		"api_key": true, "X-Api-Key": true, "Authorization": true, "token": true, "access_token": true,
		"X-Auth-Token": true, "x-token-id": true, "client_secret": true, "Cookie": true, "session_id": true,
		"max_tokens": false, "max_completion_tokens": false, "max_output_tokens": false, "temperature": false, "top_p": false,
	} {
		if got := CredentialName(name); got != want {
			t.Errorf("CredentialName(%q) = %v, want %v", name, got, want)
		}
	}
}

// LiteLLM's ttft_timeout and stream_idle_timeout: router_settings' are
// every deployment's, a deployment's own win; unset, they are zero
// (stream_timeout bounds both waits).
func TestStreamStallTimeoutsLoad(t *testing.T) {
	cfg := parseExpecting(t, []byte("model_list:\n"+
		"  - {model_name: a, litellm_params: {model: openai/x, api_key: sk-test-key}}\n"+
		"  - {model_name: b, litellm_params: {model: openai/y, api_key: sk-test-key, ttft_timeout: 2, stream_idle_timeout: 500ms}}\n"+
		"router_settings: {ttft_timeout: 10, stream_idle_timeout: 30s, enable_weighted_failover: true}\n"), env(nil), "")
	for i, want := range [][2]time.Duration{{10 * time.Second, 30 * time.Second}, {2 * time.Second, 500 * time.Millisecond}} {
		if d := cfg.Deployments[i]; d.FirstChunkTimeout != want[0] || d.ChunkIdleTimeout != want[1] {
			t.Errorf("%s: ttft %s, idle %s; want %s, %s", d.Name, d.FirstChunkTimeout, d.ChunkIdleTimeout, want[0], want[1])
		}
	}
	warningsStartWith(t, cfg.Warnings, []string{"t.yaml:4:63: router_settings.enable_weighted_failover: a LiteLLM setting that breakerd does not use; ignored (breakerd always does this"})
	cfg = parseExpecting(t, []byte("model_list:\n  - {model_name: a, litellm_params: {model: openai/x, api_key: sk-test-key}}\n"), env(nil), "")
	if d := cfg.Deployments[0]; d.FirstChunkTimeout != 0 || d.ChunkIdleTimeout != 0 {
		t.Fatalf("unset: ttft %s, idle %s", d.FirstChunkTimeout, d.ChunkIdleTimeout)
	}
}

// A fallback may name a deployment by its model_info.id (LiteLLM's
// exact targeting): it loads as a target, without the warning an unknown
// name gets.
func TestFallbackByDeploymentID(t *testing.T) {
	cfg := parseExpecting(t, []byte("model_list:\n"+
		"  - {model_name: chat, litellm_params: {model: openai/x, api_key: sk-test-key}}\n"+
		"  - {model_name: reserve, litellm_params: {model: openai/y, api_key: sk-test-key}, model_info: {id: emergency-deployment}}\n"+
		"litellm_settings:\n  fallbacks: [{chat: [emergency-deployment, nowhere]}]\n"), env(nil), "")
	if got := cfg.Router.Fallbacks["chat"]; !slices.Equal(got, []string{"emergency-deployment"}) {
		t.Fatalf("fallbacks %q", got)
	}
	warningsStartWith(t, cfg.Warnings, []string{`t.yaml:5:45: litellm_settings.fallbacks[0].chat[1]: fallback "nowhere" is not a model_name in model_list; it will be skipped`})
}

// A deployment's region, for allowed_model_region: its region_name,
// else its AWS region's or Vertex AI location's ("eu", "us"); none known,
// none.
func TestDeploymentRegions(t *testing.T) {
	cfg := parseExpecting(t, []byte("model_list:\n"+
		"  - {model_name: a, litellm_params: {model: openai/x, api_key: sk-test-key, region_name: EU}}\n"+
		"  - {model_name: b, litellm_params: {model: bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0, aws_access_key_id: AKIDTEST, aws_secret_access_key: secret-test, aws_region_name: eu-central-1}}\n"+
		"  - {model_name: c, litellm_params: {model: bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0, aws_access_key_id: AKIDTEST, aws_secret_access_key: secret-test, aws_region_name: us-east-1, region_name: eu}}\n"+
		"  - {model_name: d, litellm_params: {model: vertex_ai/gemini-2.5-pro, vertex_project: p, vertex_location: europe-west4}}\n"+
		"  - {model_name: e, litellm_params: {model: vertex_ai/gemini-2.5-pro, vertex_project: p}}\n"+
		"  - {model_name: f, litellm_params: {model: openai/y, api_key: sk-test-key}}\n"), env(nil), "")
	var got []string
	for _, d := range cfg.Deployments {
		got = append(got, d.Group+"="+d.Region)
	}
	if want := []string{"a=eu", "b=eu", "c=eu", "d=eu", "e=us", "f="}; !slices.Equal(got, want) {
		t.Fatalf("regions %q, want %q", got, want)
	}
}

// A broken chat stream is continued elsewhere unless
// router_settings.continue_broken_streams is false.
func TestContinueBrokenStreams(t *testing.T) {
	const head = "model_list:\n  - {model_name: a, litellm_params: {model: openai/x, api_key: sk-test-key}}\n"
	for yaml, want := range map[string]bool{"": true, "router_settings: {continue_broken_streams: true}\n": true, "router_settings: {continue_broken_streams: false}\n": false} {
		if cfg := parseExpecting(t, []byte(head+yaml), env(nil), ""); cfg.Router.ContinueStreams != want {
			t.Errorf("%q: ContinueStreams %v, want %v", yaml, cfg.Router.ContinueStreams, want)
		}
	}
}

// Anthropic's fast mode costs a multiple of a model's prices (its
// cache's too): twice at Claude Opus 5 and 5.5, whatever the
// deployment's prices are; none at models without it, or whose fast
// price is not published (Fable 5.2: standard prices); a configured
// _fast price wins.
func TestFastModePrices(t *testing.T) {
	const m = 1e-6
	for _, tc := range []struct {
		name, params string
		want         *PriceTier
	}{
		{"Opus 5, twice", "model: anthropic/claude-opus-5", &PriceTier{Input: 10 * m, Output: 50 * m, CacheRead: 1 * m, CacheWrite: 12.5 * m, CacheWriteHour: 20 * m}},
		{"Opus 5.5, twice its price", "model: anthropic/claude-opus-5-5", &PriceTier{Input: 10 * m, Output: 50 * m, CacheRead: 1 * m, CacheWrite: 12.5 * m, CacheWriteHour: 20 * m}},
		{"twice configured prices", "model: anthropic/claude-opus-5, input_cost_per_token: 0.000004, output_cost_per_token: 0.00002",
			&PriceTier{Input: 8 * m, Output: 40 * m, CacheRead: 8 * m, CacheWrite: 8 * m, CacheWriteHour: 16 * m}},
		{"a configured fast price wins", "model: anthropic/claude-opus-5, input_cost_per_token_fast: 0.00002",
			&PriceTier{Input: 20 * m, Output: 25 * m, CacheRead: 0.5 * m, CacheWrite: 6.25 * m, CacheWriteHour: 10 * m}},
		{"Fable 5.2: not published", "model: anthropic/claude-fable-5-2", nil},
		{"Opus 4.8 no longer has it", "model: anthropic/claude-opus-4-8", nil},
		{"Sonnet has none", "model: anthropic/claude-sonnet-4-6", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte("model_list:\n  - model_name: a\n    litellm_params: {"+tc.params+", api_key: sk-ant-0123456789, drop_params: true}\n"), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			got, ok := cfg.Deployments[0].ServiceTiers["fast"]
			if ok != (tc.want != nil) {
				t.Fatalf("fast tier %+v (%v), want %+v", got, ok, tc.want)
			}
			if w := tc.want; w != nil {
				for _, p := range [][2]float64{{got.Input, w.Input}, {got.Output, w.Output}, {got.CacheRead, w.CacheRead}, {got.CacheWrite, w.CacheWrite}, {got.CacheWriteHour, w.CacheWriteHour}} {
					if math.Abs(p[0]-p[1]) > 1e-15 {
						t.Fatalf("fast tier %+v, want %+v", got, *w)
					}
				}
			}
		})
	}
}

// A LiteLLM config's guardrails load, and the warning says what that
// means: requests reach the providers unchecked.
func TestGuardrailsWarnThatNoneRun(t *testing.T) {
	yml := "model_list:\n  - model_name: m\n    litellm_params: {model: openai/gpt-4.1, api_key: sk-test-key-123}\n" +
		"guardrails:\n  - guardrail_name: pii\n    litellm_params: {guardrail: presidio, mode: pre_call, default_on: true}\n"
	cfg, err := Parse("t.yaml", []byte(yml), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	warningsStartWith(t, cfg.Warnings, []string{"t.yaml:4:1: guardrails: a LiteLLM setting that breakerd does not use; ignored " +
		"(breakerd runs no guardrails: requests reach the providers without these checks, a provider's own content filter aside)"})
}

// An OpenAI-compatible server's api_base whose path will not reach its API
// (none, /v1 twice, an endpoint's path given whole) loads with a warning
// that says where the calls would go and what to write.
func TestOpenAIBasePathWarnings(t *testing.T) {
	for _, tc := range []struct {
		base, want string
	}{
		{"http://vllm:8000", "api_base: has no path, so calls go to http://vllm:8000/chat/completions: the servers that speak OpenAI's API " +
			"(vLLM, SGLang, LM Studio, llama.cpp, LocalAI) serve it under /v1; write http://vllm:8000/v1, unless this one serves it at its root"},
		{"http://vllm:8000/v1/v1", "api_base: has /v1 twice, so calls go to http://vllm:8000/v1/v1/chat/completions: write http://vllm:8000/v1"},
		{"http://vllm:8000/v1/chat/completions", "api_base: ends in /chat/completions, which breakerd appends to it " +
			"(calls would go to http://vllm:8000/v1/chat/completions/chat/completions): write http://vllm:8000/v1"},
		{"http://vllm:8000/v1", ""},
		{"https://openrouter.ai/api/v1", ""},
		{"https://llm.example/openai", ""},
	} {
		t.Run(tc.base, func(t *testing.T) {
			cfg := parseExpecting(t, []byte("model_list:\n  - model_name: a\n    litellm_params: {model: hosted_vllm/qwen3, api_base: \""+tc.base+"\"}\n"), env(nil), "")
			got := strings.Join(cfg.Warnings, "\n")
			if tc.want == "" && strings.Contains(got, "api_base") || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("warnings:\n%s\nwant %q", got, tc.want)
			}
		})
	}
}

// LiteLLM's settings reference shows 0 as the placeholder of its numbers;
// a config copied from it loads: 0 sets no limit, and a 0 alerting
// threshold, which would call every answer slow, is LiteLLM's default.
func TestLiteLLMsPlaceholderZeros(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4.1, api_key: sk-123456}\ngeneral_settings:\n"
	cfg := parseExpecting(t, []byte(head+"  max_parallel_requests: 0\n  global_max_parallel_requests: 0\n  alerting_threshold: 0\n  alerting: [webhook]\n"),
		env(map[string]string{"WEBHOOK_URL": "https://alerts.example/hook"}), "")
	if cfg.Deployments[0].MaxParallel != 0 || cfg.Server.MaxConcurrent != 0 || cfg.Alerting.SlowThreshold != 300*time.Second {
		t.Fatalf("max_parallel %d, max_concurrent %d, slow threshold %v: want no limits and 300s",
			cfg.Deployments[0].MaxParallel, cfg.Server.MaxConcurrent, cfg.Alerting.SlowThreshold)
	}
	warningsStartWith(t, cfg.Warnings, []string{
		"t.yaml:5:3: general_settings.max_parallel_requests: 0 sets no limit",
		"t.yaml:6:3: general_settings.global_max_parallel_requests: 0 sets no limit",
		"t.yaml:7:3: general_settings.alerting_threshold: 0 would call every answer slow: it is left out, so LiteLLM's default, 300 s, applies",
	})
	// A negative one is still an error.
	parseExpecting(t, []byte(head+"  max_parallel_requests: -1\n"), env(nil), "general_settings.max_parallel_requests: must be at least 1, got -1")
}

// LiteLLM's redis_db names the shared state's database; a Cluster, which
// has only 0, or a redis_url, which names its own, cannot take another.
func TestRedisDB(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4.1, api_key: sk-123456}\nrouter_settings:\n  redis_host: 127.0.0.1\n"
	cfg := parseExpecting(t, []byte(head+"  redis_db: 3\n  redis_namespace: ${NS}\n"), env(map[string]string{"NS": "team-a"}), "")
	if r := cfg.Router; r.State != "redis" || r.Redis.DB != 3 || r.Redis.Namespace != "team-a" {
		t.Fatalf("state %q, database %d, namespace %q; want redis, 3, team-a (its reference resolved)", r.State, r.Redis.DB, r.Redis.Namespace)
	}
	parseExpecting(t, []byte(head+"  redis_db: -1\n"), env(nil), "router_settings.redis_db: must not be negative")
	parseExpecting(t, []byte("model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4.1, api_key: sk-123456}\n"+
		"router_settings:\n  redis_url: redis://127.0.0.1:6379/1\n  redis_db: 3\n"), env(nil), "router_settings.redis_db: redis_url names its database")
}
