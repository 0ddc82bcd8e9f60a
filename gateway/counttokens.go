package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/breakerd/breakerd/provider"
)

// tokenCounter is a provider that counts a request's input tokens itself:
// Anthropic's /v1/messages/count_tokens for a Messages request, OpenAI's
// /v1/responses/input_tokens for a Responses one (req.API).
type tokenCounter interface {
	CountTokens(ctx context.Context, req *provider.Request) (*provider.Response, error)
}

// countTokens serves the token count of a request in api: POST
// /v1/messages/count_tokens for Messages, POST /v1/responses/input_tokens
// for Responses. The first deployment on the model's route that serves
// api itself and whose breaker lets calls through counts them; a route
// without one gets an estimate (estimateTokens), marked by
// X-Breakerd-Estimate: true. Counting is not a breaker call.
func (g *Gateway) countTokens(api provider.API) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.cfg.Server.MaxBodyBytes))
		if err != nil {
			writeAPIError(w, api, http.StatusBadRequest, "invalid_request_error", "", "could not read request body")
			return
		}
		var head struct {
			Model    string          `json:"model"`
			Messages json.RawMessage `json:"messages"`
		}
		err = json.Unmarshal(body, &head)
		switch {
		case api == provider.APIMessages && (err != nil || head.Model == "" || len(head.Messages) == 0):
			writeAPIError(w, api, http.StatusBadRequest, "invalid_request_error", "", "model and messages are required")
			return
		case api == provider.APIResponses && (err != nil || head.Model == ""):
			// OpenAI's own takes no model; breakerd routes by it.
			writeAPIError(w, api, http.StatusBadRequest, "invalid_request_error", "", "model is required: breakerd counts at a deployment of that model")
			return
		}
		group := head.Model
		if a, ok := g.cfg.Router.Aliases[group]; ok {
			group = a.Group
		}
		if _, ok := g.groups[group]; !ok {
			if _, err := g.resolve(group); err != nil {
				g.modelNotFound(w, api, group)
				return
			}
		}
		now := g.clock.Now()
		for _, d := range g.Route(group) {
			tc, ok := d.prov.(tokenCounter)
			if br := d.Breakers[provider.Chat]; !ok || br == nil || !d.prov.Native(api) || !br.AllowsAt(now) {
				continue
			}
			req := &provider.Request{Op: provider.Chat, API: api, Body: body, Model: head.Model, Header: http.Header{}}
			if v := r.Header.Get("Anthropic-Version"); v != "" && api == provider.APIMessages {
				req.Header.Set("Anthropic-Version", v)
			}
			resp, err := tc.CountTokens(r.Context(), req)
			if err != nil {
				perr := asProviderError(err)
				if perr.Status >= 400 && perr.Status < 500 && perr.Status != http.StatusTooManyRequests {
					writeAPIError(w, api, perr.Status, "", "", perr.Message)
					return
				}
				continue // try the next, or estimate
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Breakerd-Deployment", d.Config.Name)
			_, _ = w.Write(resp.Body)
			return
		}
		w.Header().Set("X-Breakerd-Estimate", "true")
		n := max(estimateTokens(body), 1)
		if api == provider.APIResponses {
			writeJSONResponse(w, http.StatusOK, map[string]any{"object": "response.input_tokens", "input_tokens": n})
			return
		}
		writeJSONResponse(w, http.StatusOK, map[string]int{"input_tokens": n})
	}
}
