package gateway

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/breakerd/breakerd/complexity"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/provider"
)

// LiteLLM's complexity router (config.ComplexityRouter): a request for it
// starts at the groups of its prompt's tier, as LiteLLM's default scorer
// classifies it; the router's other groups follow, in the order they
// take without a prompt, so that an open circuit or an outage of the
// tier's model still finds a model.

// scorers makes the scorer of each complexity router among aliases.
func scorers(aliases map[string]config.Alias) map[string]*complexity.Scorer {
	out := map[string]*complexity.Scorer{}
	for name, a := range aliases {
		if a.Complexity != nil {
			out[name] = complexity.New(a.Complexity.Scorer)
		}
	}
	return out
}

// routeByComplexity returns the groups a request to the complexity router
// name (alias a) tries, in order, and sets X-Breakerd-Complexity-Tier on
// its answer: the tier's groups first, then a's own order. A request with
// no prompt to read keeps a's order.
func (g *Gateway) routeByComplexity(w http.ResponseWriter, name string, a config.Alias, api provider.API, body []byte) []string {
	order := g.aliasGroups(name)
	prompt, system, ok := promptOf(api, body)
	s := g.scorers[name]
	if !ok || s == nil {
		return order
	}
	tier, _, _ := s.Classify(prompt, system)
	w.Header().Set("X-Breakerd-Complexity-Tier", tier.String())
	first := a.Complexity.Tiers[tier]
	return append(slices.Clone(first), slices.DeleteFunc(order, func(grp string) bool { return slices.Contains(first, grp) })...)
}

// promptOf returns a request's prompt, as the complexity router reads
// it: the text of its last user message (a completion's prompt), and its
// system prompt (chat's system and developer messages, the Messages
// API's system, the Responses API's instructions). ok is false when the
// body has no prompt.
func promptOf(api provider.API, body []byte) (prompt, system string, ok bool) {
	var req struct {
		Messages     []message       `json:"messages"`
		Input        json.RawMessage `json:"input"`
		System       json.RawMessage `json:"system"`
		Instructions string          `json:"instructions"`
		Prompt       json.RawMessage `json:"prompt"`
	}
	if json.Unmarshal(body, &req) != nil {
		return "", "", false
	}
	var sys []string
	if s := text(req.System); s != "" {
		sys = append(sys, s)
	}
	if req.Instructions != "" {
		sys = append(sys, req.Instructions)
	}
	msgs := req.Messages
	if api == provider.APIResponses {
		if s := text(req.Input); s != "" || len(req.Input) == 0 || req.Input[0] == '"' {
			return s, strings.Join(sys, "\n"), s != ""
		}
		_ = json.Unmarshal(req.Input, &msgs)
	}
	if api == provider.APICompletions {
		var p string
		if json.Unmarshal(req.Prompt, &p) == nil {
			return p, "", p != ""
		}
		return "", "", false
	}
	for _, m := range msgs {
		if m.Role == "system" || m.Role == "developer" {
			sys = append(sys, text(m.Content))
		}
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			if p := text(msgs[i].Content); p != "" {
				return p, strings.Join(sys, "\n"), true
			}
		}
	}
	return "", "", false
}

type message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// text is a content's text: a string, or a list of parts whose text
// ({"type":"text"|"input_text", "text": ...}) is joined by newlines.
func text(content json.RawMessage) string {
	var s string
	if json.Unmarshal(content, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(content, &parts) != nil {
		return ""
	}
	var out []string
	for _, p := range parts {
		if p.Text != "" {
			out = append(out, p.Text)
		}
	}
	return strings.Join(out, "\n")
}
