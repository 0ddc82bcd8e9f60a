package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/breakerd/breakerd/provider"
)

// tokenCounter is a provider that counts a Messages request's tokens
// itself (Anthropic's /v1/messages/count_tokens).
type tokenCounter interface {
	CountTokens(ctx context.Context, req *provider.Request) (*provider.Response, error)
}

// countTokens serves POST /v1/messages/count_tokens: the first Anthropic
// deployment on the model's route whose breaker lets calls through counts
// them; a route without one gets an estimate (four characters a token),
// marked by X-Breakerd-Estimate: true. Counting is not a breaker call.
func (g *Gateway) countTokens(w http.ResponseWriter, r *http.Request) {
	const api = provider.APIMessages
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.cfg.Server.MaxBodyBytes))
	if err != nil {
		writeAPIError(w, api, http.StatusBadRequest, "invalid_request_error", "", "could not read request body")
		return
	}
	var head struct {
		Model    string          `json:"model"`
		Messages json.RawMessage `json:"messages"`
		System   json.RawMessage `json:"system"`
		Tools    json.RawMessage `json:"tools"`
	}
	if err := json.Unmarshal(body, &head); err != nil || head.Model == "" || len(head.Messages) == 0 {
		writeAPIError(w, api, http.StatusBadRequest, "invalid_request_error", "", "model and messages are required")
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
		if !ok || !d.Breakers[provider.Chat].AllowsAt(now) {
			continue
		}
		req := &provider.Request{Op: provider.Chat, API: api, Body: body, Model: head.Model, Header: http.Header{}}
		if v := r.Header.Get("Anthropic-Version"); v != "" {
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
	n := (len(head.Messages) + len(head.System) + len(head.Tools) + 3) / 4
	writeJSONResponse(w, http.StatusOK, map[string]int{"input_tokens": n})
}
