package gateway

import (
	"cmp"
	"net/http"
)

// modelInfo answers LiteLLM's GET /model/info (and /v1/model/info), which
// LiteLLM's UI and some clients read: each configured deployment, in
// config order, with its group, its model as the config wrote it, its
// api_base as may be shown (config.Deployment.PublicBase), and its
// model_info: id, provider, mode, prices and context window when known.
// Never a key. ?litellm_model_id= picks one deployment.
func (g *Gateway) modelInfo(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("litellm_model_id")
	data := []map[string]any{}
	for _, d := range g.deployments {
		c := d.Config
		if id != "" && c.Name != id {
			continue
		}
		mode := cmp.Or(c.Mode, "chat")
		if c.Fit.ResponsesOnly && mode == "chat" {
			mode = "responses" // LiteLLM's mode for a model of the Responses API alone
		}
		info := map[string]any{"id": c.Name, "db_model": false, "key": c.Model, "litellm_provider": c.Provider, "mode": mode}
		if c.Priced {
			info["input_cost_per_token"], info["output_cost_per_token"] = c.InputCostPerToken, c.OutputCostPerToken
			info["cache_read_input_token_cost"], info["cache_creation_input_token_cost"] = c.CacheReadCostPerToken, c.CacheWriteCostPerToken
			info["cache_creation_input_token_cost_above_1hr"] = c.CacheWriteHourCostPerToken
			for _, t := range c.LongContext {
				above := t.Suffix()
				info["input_cost_per_token"+above], info["output_cost_per_token"+above] = t.Input, t.Output
				info["cache_read_input_token_cost"+above], info["cache_creation_input_token_cost"+above] = t.CacheRead, t.CacheWrite
				info["cache_creation_input_token_cost_above_1hr"+above] = t.CacheWriteHour
			}
			for tier, t := range c.ServiceTiers {
				info["input_cost_per_token_"+tier], info["output_cost_per_token_"+tier] = t.Input, t.Output
				info["cache_read_input_token_cost_"+tier], info["cache_creation_input_token_cost_"+tier] = t.CacheRead, t.CacheWrite
			}
		}
		if c.MaxInputTokens > 0 {
			info["max_input_tokens"] = c.MaxInputTokens
		}
		params := map[string]any{"model": c.ModelRef}
		if base := c.PublicBase(); base != "" {
			params["api_base"] = base
		}
		data = append(data, map[string]any{"model_name": c.Group, "litellm_params": params, "model_info": info})
	}
	writeJSONResponse(w, http.StatusOK, map[string]any{"data": data})
}
