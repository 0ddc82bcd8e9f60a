package config

import (
	"fmt"
	"slices"
	"strings"
)

// retirement is a set of models their provider has taken out of its own
// API, as its deprecation page says: every call to one fails there (a
// 404), so a deployment of one answers nothing, and a fallback of one
// is no fallback. Partner platforms (Bedrock, Vertex AI, Azure) keep
// their own schedules and are not covered.
type retirement struct {
	provider string   // LookupProvider's name of the API that retired them
	by       string   // its vendor, as the warning names it
	models   []string // exact names; one ending in "*" is a prefix
	on       string   // the retirement date, YYYY-MM-DD
	instead  string   // the vendor's recommended replacement; "" when it names none
}

// retirements lists the models retired by the day of the table's last
// update (2026-12-05), from the vendors' deprecation pages. Only past
// retirements are here, so the warning needs no clock.
var retirements = []retirement{
	{"anthropic", "Anthropic", []string{"claude-instant-1*"}, "2024-11-06", "claude-haiku-4-5"},
	{"anthropic", "Anthropic", []string{"claude-2*", "claude-3-sonnet-20240229"}, "2025-07-21", "claude-sonnet-4-6"},
	{"anthropic", "Anthropic", []string{"claude-3-5-sonnet*"}, "2025-10-22", "claude-sonnet-4-6"},
	{"anthropic", "Anthropic", []string{"claude-3-opus*"}, "2026-01-05", "claude-opus-4-8"},
	{"anthropic", "Anthropic", []string{"claude-3-7-sonnet*"}, "2026-02-19", "claude-sonnet-4-6"},
	{"anthropic", "Anthropic", []string{"claude-3-5-haiku*"}, "2026-02-19", "claude-haiku-4-5"},
	{"anthropic", "Anthropic", []string{"claude-sonnet-4-20250514", "claude-sonnet-4-0"}, "2026-06-15", "claude-sonnet-4-6"},
	{"anthropic", "Anthropic", []string{"claude-opus-4-20250514", "claude-opus-4-0"}, "2026-06-15", "claude-opus-4-8"},
	{"anthropic", "Anthropic", []string{"claude-opus-4-1-20250805", "claude-opus-4-1"}, "2026-08-05", "claude-opus-4-8"},
	{"openai", "OpenAI", []string{"gpt-4.5-preview*"}, "2025-07-14", "gpt-4.1"},
	{"openai", "OpenAI", []string{"o1-preview*"}, "2025-07-28", "o3"},
	{"openai", "OpenAI", []string{"o1-mini*"}, "2025-10-27", "o4-mini"},
	{"openai", "OpenAI", []string{"codex-mini-latest"}, "2026-01-16", "gpt-5-codex-mini"},
	{"openai", "OpenAI", []string{"chatgpt-4o-latest"}, "2026-02-17", "gpt-5.5"},
	{"openai", "OpenAI", []string{"dall-e-2", "dall-e-3"}, "2026-05-12", "gpt-image-1"},
	{"openai", "OpenAI", []string{"gpt-5-chat-latest", "gpt-5.1-chat-latest"}, "2026-07-23", "gpt-5.5"},
	{"openai", "OpenAI", []string{"gpt-5-codex", "gpt-5.1-codex", "gpt-5.1-codex-max", "gpt-5.2-codex"}, "2026-07-23", "gpt-5.4"},
	{"openai", "OpenAI", []string{"gpt-5.1-codex-mini"}, "2026-07-23", "gpt-5.4-mini"},
	{"openai", "OpenAI", []string{"computer-use-preview*"}, "2026-07-23", "gpt-5.4-mini"},
	{"openai", "OpenAI", []string{"o3-deep-research*", "o4-mini-deep-research*"}, "2026-07-23", "gpt-5.4-pro"},
	{"openai", "OpenAI", []string{"gpt-4o-mini-realtime-preview-2024-12-17"}, "2026-07-23", "gpt-realtime-mini"},
	{"openai", "OpenAI", []string{"gpt-5.2-chat-latest", "gpt-5.3-chat-latest"}, "2026-08-10", "gpt-5.5"},
	{"openai", "OpenAI", []string{"sora-2*"}, "2026-09-24", ""}, // with the Videos API
	{"openai", "OpenAI", []string{"gpt-3.5-turbo", "gpt-3.5-turbo-0125"}, "2026-10-23", "gpt-4.1-mini"},
	{"openai", "OpenAI", []string{"gpt-4", "gpt-4-0613"}, "2026-10-23", ""},
	{"gemini", "Google", []string{"gemini-1.5-*"}, "2025-09-24", "gemini-2.5-flash"},
}

// retiredAt returns the retirement of model at provider's own API, if
// its vendor has retired it.
func retiredAt(provider, model string) (retirement, bool) {
	for _, r := range retirements {
		if r.provider == provider && slices.ContainsFunc(r.models, func(m string) bool {
			prefix, ok := strings.CutSuffix(m, "*")
			return model == m || ok && strings.HasPrefix(model, prefix)
		}) {
			return r, true
		}
	}
	return retirement{}, false
}

// warnRetired warns of each deployment of a model its provider has
// retired, at the provider's own API (not a server of another's that
// takes the same names, nor a partner platform).
func (c *converter) warnRetired(ds []Deployment) {
	for i := range ds {
		d := &ds[i]
		info, _ := LookupProvider(d.Provider)
		if d.Wildcard || info.BaseURL == "" || strings.TrimSuffix(d.APIBase, "/") != info.BaseURL+info.PathSuffix {
			continue
		}
		r, ok := retiredAt(d.Provider, d.Model)
		if !ok {
			continue
		}
		d.Retired = fmt.Sprintf("retired by %s on %s", r.by, r.on)
		msg := fmt.Sprintf("%s was %s: every call to it fails (a 404), so this deployment answers nothing "+
			"(its circuit opens at its first call)", d.ModelRef, d.Retired)
		if r.instead != "" {
			d.Retired += fmt.Sprintf("; %s names %s instead", r.by, r.instead)
			msg += fmt.Sprintf("; %s names %s to use instead", r.by, r.instead)
		}
		c.warnf(fmt.Sprintf("model_list[%d].litellm_params.model", d.Index), "%s", msg)
	}
}
