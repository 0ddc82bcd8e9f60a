package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/breakerd/breakerd/complexity"
)

// LiteLLM's auto routers load as aliases of the groups they name: the
// one LiteLLM falls back to when it cannot decide first, then the
// others; the complexity router with its scorer and its tiers' groups,
// the others with a warning that says breakerd does not judge for them. A
// group that is not in model_list is skipped, as the seed's undefined
// fallback is; a router with none left is named, as a group with no
// deployment is.
func TestAutoRoutersAreAliasesOfTheirGroups(t *testing.T) {
	const groups = `model_list:
  - model_name: fast
    litellm_params: {model: openai/gpt-4o-mini, api_key: sk-test-key}
  - model_name: smart
    litellm_params: {model: openai/gpt-4o, api_key: sk-test-key}
  - model_name: deep
    litellm_params: {model: anthropic/claude-opus-4, api_key: sk-test-key}
`
	for _, tc := range []struct {
		name, router string
		want         map[string]Alias
		warnings     []string
	}{
		{"adaptive router: its available models in order", `
      model: auto_router/adaptive_router
      adaptive_router_config:
        available_models: [fast, smart]
        weights: {quality: 0.7, cost: 0.3}
`, map[string]Alias{"router": {Group: "fast", Then: []string{"smart"}}},
			[]string{`t.yaml:10:7: model_list[3].litellm_params.model: LiteLLM's auto router "router" picks among its models by what its sessions' feedback taught it, which breakerd does not judge: its requests go to fast, then smart when the one before fails or its circuit is open`}},
		{"oracle router: strongest first, as written", `
      model: auto_router/oracle_router
      oracle_router_config:
        available_models: [smart, fast]
`, map[string]Alias{"router": {Group: "smart", Then: []string{"fast"}}},
			[]string{`t.yaml:10:7: model_list[3].litellm_params.model: LiteLLM's auto router "router" picks among its models by each agentic program's verified outcomes`}},
		{"complexity router: the default model, then the middle tier up, the cheapest last", `
      model: auto_router/complexity_router
      complexity_router_default_model: smart
      complexity_router_config:
        tiers:
          SIMPLE: fast
          MEDIUM: smart
          COMPLEX: [{model_name: deep, litellm_params: {reasoning_effort: high}}, smart]
          REASONING: {model_name: deep}
`, map[string]Alias{"router": {Group: "smart", Then: []string{"deep", "fast"}, Complexity: &ComplexityRouter{
			Tiers: [4][]string{{"fast"}, {"smart"}, {"deep", "smart"}, {"deep"}}}}}, nil},
		{"complexity router without a default: the middle tier first", `
      model: auto_router/complexity_router
      complexity_router_config:
        tiers: {SIMPLE: fast, MEDIUM: smart, COMPLEX: deep, REASONING: deep}
`, map[string]Alias{"router": {Group: "smart", Then: []string{"deep", "fast"}, Complexity: &ComplexityRouter{
			Tiers: [4][]string{{"fast"}, {"smart"}, {"deep"}, {"deep"}}}}}, nil},
		{"complexity router: its scorer's settings", `
      model: auto_router/complexity_router
      complexity_router_config:
        classifier_type: llm
        tiers: {SIMPLE: fast, REASONING: [deep, gpt-4o-azure]}
        tier_boundaries: {simple_medium: 0.2, complex_reasoning: 0.7}
        token_thresholds: {simple: 10, complex: 300}
        dimension_weights: {codePresence: 0.5, tokenCount: 0.5}
        code_keywords: [terraform, "  ", helm]
`, map[string]Alias{"router": {Group: "deep", Then: []string{"fast"}, Complexity: &ComplexityRouter{
			Scorer: complexity.Config{Boundaries: [3]float64{0.2, 0, 0.7}, ShortTokens: 10, LongTokens: 300,
				Weights: map[string]float64{"codePresence": 0.5, "tokenCount": 0.5}, Code: []string{"terraform", "helm"}},
			Tiers: [4][]string{{"fast"}, nil, nil, {"deep"}}}}},
			[]string{
				`t.yaml:12:9: model_list[3].litellm_params.complexity_router_config.classifier_type: "llm" is not done by breakerd: it scores prompts with LiteLLM's default heuristic`,
				`t.yaml:13:31: model_list[3].litellm_params.complexity_router_config.tiers.REASONING: "gpt-4o-azure" is not a model_name in model_list; the auto router "router" skips it`,
			}},
		{"semantic router: its default model; its routes are not matched", `
      model: auto_router/auto_router_1
      auto_router_config_path: router.json
      auto_router_default_model: fast
      auto_router_embedding_model: smart
`, map[string]Alias{"router": {Group: "fast"}},
			[]string{
				`t.yaml:11:7: model_list[3].litellm_params.auto_router_config_path: a LiteLLM setting that breakerd does not use; ignored (the semantic auto router's routes are not matched by breakerd`,
				`t.yaml:13:7: model_list[3].litellm_params.auto_router_embedding_model: a LiteLLM setting that breakerd does not use; ignored`,
				`t.yaml:10:7: model_list[3].litellm_params.model: LiteLLM's auto router "router" picks among its models by embeddings of its routes' example prompts, which breakerd does not judge: its requests go to fast`,
			}},
		{"a group not in model_list is skipped", `
      model: auto_router/adaptive_router
      adaptive_router_config: {available_models: [gpt-4o-azure, smart]}
`, map[string]Alias{"router": {Group: "smart"}},
			[]string{
				`t.yaml:11:51: model_list[3].litellm_params.adaptive_router_config.available_models[0]: "gpt-4o-azure" is not a model_name in model_list; the auto router "router" skips it`,
				`t.yaml:10:7: model_list[3].litellm_params.model: LiteLLM's auto router "router" picks`,
			}},
		{"a router with no group left gets 404s, and says so", `
      model: auto_router/adaptive_router
      adaptive_router_config: {available_models: [nowhere]}
`, map[string]Alias{},
			[]string{
				`t.yaml:11:51: model_list[3].litellm_params.adaptive_router_config.available_models[0]: "nowhere" is not a model_name`,
				`t.yaml:10:7: model_list[3].litellm_params.model: auto router "router" names no model group breakerd can call: requests for it get 404`,
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := groups + "  - model_name: router\n    litellm_params:" + tc.router
			cfg, err := Parse("t.yaml", []byte(yaml), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Router.Aliases, tc.want) {
				t.Errorf("aliases %+v, want %+v", cfg.Router.Aliases, tc.want)
			}
			warningsStartWith(t, cfg.Warnings, tc.warnings)
			if strings.Contains(strings.Join(cfg.Warnings, "\n"), "has no deployment") {
				t.Errorf("an auto router is not a group without deployments:\n%s", strings.Join(cfg.Warnings, "\n"))
			}
		})
	}
}

// The providers LiteLLM's example config for mainland China names
// (china_domestic_free_sources.yaml: SiliconFlow and Zhipu, each with its
// api_base) load, and without an api_base take their documented ones.
func TestSiliconFlowAndZhipuLoad(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte(`model_list:
  - model_name: sf-qwen2.5-72b
    litellm_params: {model: siliconflow/Qwen/Qwen2.5-72B-Instruct, api_key: os.environ/SILICONFLOW_API_KEY}
  - model_name: glm-4-flash
    litellm_params: {model: zhipu/glm-4-flash, api_key: os.environ/ZHIPU_API_KEY, api_base: https://open.bigmodel.cn/api/paas/v4}
router_settings:
  fallbacks: [{sf-qwen2.5-72b: [glm-4-flash]}]
`), env(map[string]string{"SILICONFLOW_API_KEY": "sk-silicon-key", "ZHIPU_API_KEY": "zhipu-key.secret"}))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range cfg.Deployments {
		got[d.Provider+" "+d.Model] = d.APIBase
	}
	want := map[string]string{"siliconflow Qwen/Qwen2.5-72B-Instruct": "https://api.siliconflow.cn/v1", "zhipu glm-4-flash": "https://open.bigmodel.cn/api/paas/v4"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("deployments %v, want %v", got, want)
	}
}

// $ANTHROPIC_USER_AGENT is the User-Agent of every Anthropic deployment
// that sets no custom_user_agent, as LiteLLM reads it; other providers'
// calls keep their own.
func TestAnthropicUserAgentFromTheEnvironment(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte(`model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4, api_key: sk-ant-test-key}
  - model_name: claude-own
    litellm_params: {model: anthropic/claude-sonnet-4, api_key: sk-ant-test-key, custom_user_agent: mine/1}
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o, api_key: sk-test-key}
`), env(map[string]string{"ANTHROPIC_USER_AGENT": "Claude Code/1.0"}))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Secret{}
	for _, d := range cfg.Deployments {
		got[d.Group] = d.Headers["User-Agent"]
	}
	if want := map[string]Secret{"claude": "Claude Code/1.0", "claude-own": "mine/1", "gpt": ""}; !reflect.DeepEqual(got, want) {
		t.Fatalf("User-Agents %v, want %v", got, want)
	}
}
