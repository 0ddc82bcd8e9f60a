package gateway_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// LiteLLM's GET /model/info lists each deployment with its group, its
// model as written, its api_base as may be shown and its model_info (id,
// provider, mode, prices, context window), at /v1/model/info too, one with
// ?litellm_model_id=; no key ever appears, nor a key in an api_base.
func TestModelInfo(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_A}/v1", api_key: sk-a-secret-123456}
    model_info: {id: mini-a}
  - model_name: claude
    litellm_params: {model: anthropic/claude-3-5-haiku-20241022, api_base: "${MOCK_B}/key-sk-ant-b-secret/x", api_key: sk-ant-b-secret}
`, "a", "b")
	type entry struct {
		ModelName string `json:"model_name"`
		Params    struct {
			Model   string `json:"model"`
			APIBase string `json:"api_base"`
		} `json:"litellm_params"`
		Info struct {
			ID             string  `json:"id"`
			Provider       string  `json:"litellm_provider"`
			Mode           string  `json:"mode"`
			InputCost      float64 `json:"input_cost_per_token"`
			MaxInputTokens int     `json:"max_input_tokens"`
		} `json:"model_info"`
	}
	get := func(path string) ([]entry, string) {
		t.Helper()
		status, _, body := e.do("GET", path, "")
		raw, _ := json.Marshal(body)
		var out struct {
			Data []entry `json:"data"`
		}
		if err := json.Unmarshal(raw, &out); err != nil || status != 200 {
			t.Fatalf("%s: %d %s", path, status, raw)
		}
		return out.Data, string(raw)
	}
	all, raw := get("/model/info")
	if len(all) != 2 || all[0].ModelName != "gpt-4o-mini" || all[0].Params.Model != "openai/gpt-4o-mini" || all[0].Info.ID != "mini-a" ||
		all[0].Info.Provider != "openai" || all[0].Info.Mode != "chat" || all[0].Info.InputCost == 0 || all[0].Info.MaxInputTokens == 0 ||
		!strings.HasSuffix(all[0].Params.APIBase, "/v1") || all[1].Params.APIBase != "" {
		t.Fatalf("/model/info: %s", raw)
	}
	if strings.Contains(raw, "secret") {
		t.Fatalf("/model/info shows a key: %s", raw)
	}
	one, _ := get("/v1/model/info?litellm_model_id=mini-a")
	if len(one) != 1 || one[0].Info.ID != "mini-a" {
		t.Fatalf("one deployment: %+v", one)
	}
}
