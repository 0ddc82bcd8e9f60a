package mockllm

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/breakerd/breakerd/config"
)

// namedEvent is an SSE event with an event: line, as Anthropic sends.
type namedEvent struct {
	name string
	data any
}

type messagesRequest struct {
	Model     string          `json:"model"`
	MaxTokens int             `json:"max_tokens"`
	Messages  []chatMessage   `json:"messages"`
	System    json.RawMessage `json:"system"`
	Stream    bool            `json:"stream"`
	Tools     []struct {
		Name        string          `json:"name"`
		InputSchema json.RawMessage `json:"input_schema"`
	} `json:"tools"`
	ToolChoice *struct {
		Type string `json:"type"`
		Name string `json:"name"`
	} `json:"tool_choice"`
	Temperature *float64 `json:"temperature"`
	TopP        *float64 `json:"top_p"`
	// Speed is fast mode's (with its anthropic-beta): "fast" or
	// "standard".
	Speed string `json:"speed"`
	// InferenceGeo is where inference is to run: "us" (US-only) or
	// "global"; Claude 4.6 and later take it.
	InferenceGeo string `json:"inference_geo"`
	// Fallbacks are Anthropic's server-side fallback (its beta): the
	// models to retry a declined request on, or "default".
	Fallbacks json.RawMessage `json:"fallbacks"`
	Thinking  *struct {
		Type         string `json:"type"`
		BudgetTokens int    `json:"budget_tokens"`
		Display      string `json:"display"`
	} `json:"thinking"`
	// ContextManagement is Claude Code's: clear_thinking edits want
	// thinking on.
	ContextManagement struct {
		Edits []struct {
			Type string `json:"type"`
		} `json:"edits"`
	} `json:"context_management"`
	OutputConfig struct {
		Effort string `json:"effort"`
		// Format asks for structured outputs: the answer's text is a
		// value that follows its schema.
		Format *struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"format"`
	} `json:"output_config"`
}

// noPrefill is Anthropic's 400 (Bedrock's and Vertex AI's too) for a
// prefill sent to Claude 4.6 or later.
const noPrefill = "This model does not support assistant message prefill. The conversation must end with a user message."

// serverSideFallback names the anthropic-beta of Anthropic's server-side
// fallback (its dated versions: server-side-fallback-2026-06-01, ...).
const serverSideFallback = "server-side-fallback-"

// thinkingText is what the mock thinks, when thinking is on.
const thinkingText = "The user wants an answer; a short one will do."

// refusal returns Anthropic's 400 message for sampling and thinking
// parameters the model refuses, or "" (config.ClaudeOf): Claude 3
// and 3.5 do not think; adaptive thinking and an effort only from Claude
// 4.6; Claude 4.1 to 4.6 take temperature or top_p, not both; Claude Opus
// 4.7's contract thinks only adaptively and takes no temperature or
// top_p; with thinking on, temperature only 1; a thinking budget from 1024
// tokens and below max_tokens; Claude 4.6 and later take no prefill.
func (req *messagesRequest) refusal() string {
	t := req.Thinking
	on := t != nil && (t.Type == "enabled" || t.Type == "adaptive")
	set := func(v *float64) bool { return v != nil && *v != 1 }
	c := config.ClaudeOf(req.Model)
	level := c.Thinking
	strict := level == config.ThinkingAdaptiveOnly
	switch {
	case c.NoPrefill && len(req.Messages) > 0 && req.Messages[len(req.Messages)-1].Role == "assistant":
		return noPrefill
	case c.OneSampler && req.Temperature != nil && req.TopP != nil:
		return "`temperature` and `top_p` cannot both be specified for this model. Please use only one."
	case level == config.ThinkingNone && on:
		return "thinking is not supported on this model"
	case (level == config.ThinkingNone || level == config.ThinkingBudget) && t != nil && t.Type == "adaptive":
		return "adaptive thinking is not supported on this model"
	case (level == config.ThinkingNone || level == config.ThinkingBudget) && req.OutputConfig.Effort != "":
		return "output_config.effort: effort is not supported on this model"
	case strict && t != nil && t.Type == "enabled":
		return `"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.`
	case strict && set(req.Temperature):
		return "`temperature` is deprecated for this model."
	case strict && set(req.TopP):
		return "`top_p` is deprecated for this model."
	case on && set(req.Temperature):
		return "`temperature` may only be set to 1 when thinking is enabled or in adaptive mode."
	case !on && req.clearsThinking() != "":
		return "`" + req.clearsThinking() + "` strategy requires `thinking` to be enabled"
	case req.unsigned() != "":
		return req.unsigned() + ": Invalid `signature` in `thinking` block"
	case t != nil && t.Type == "enabled" && !req.thinkingLeadsToolUse():
		return "When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceding the lastmost set of `tool_use` and `tool_result` blocks)."
	case t != nil && t.Type == "enabled" && t.BudgetTokens < 1024:
		return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
	case t != nil && t.Type == "enabled" && t.BudgetTokens >= req.MaxTokens:
		return "`max_tokens` must be greater than `thinking.budget_tokens`."
	}
	return ""
}

// clearsThinking is the context management edit that clears thinking
// (clear_thinking_20251015), "" when none.
func (req *messagesRequest) clearsThinking() string {
	for _, e := range req.ContextManagement.Edits {
		if strings.HasPrefix(e.Type, "clear_thinking_") {
			return e.Type
		}
	}
	return ""
}

// unsigned names the first thinking block sent back whose signature is
// not one Claude made (the mock's: mocksig_...), as Anthropic's 400 does
// ("messages.1.content.0"); "" when none.
func (req *messagesRequest) unsigned() string {
	for i, m := range req.Messages {
		var blocks []struct{ Type, Signature string }
		if json.Unmarshal(m.Content, &blocks) != nil {
			continue
		}
		for j, b := range blocks {
			if b.Type == "thinking" && !strings.HasPrefix(b.Signature, "mocksig_") {
				return fmt.Sprintf("messages.%d.content.%d", i, j)
			}
		}
	}
	return ""
}

// thinkingLeadsToolUse reports whether the last assistant message, if it
// calls a tool, starts with thinking, as Claude wants with thinking on.
func (req *messagesRequest) thinkingLeadsToolUse() bool {
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role != "assistant" {
			continue
		}
		var types []string
		var blocks []struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(req.Messages[i].Content, &blocks) != nil || len(blocks) == 0 {
			return true // text content
		}
		for _, b := range blocks {
			types = append(types, b.Type)
		}
		return !slices.Contains(types, "tool_use") || types[0] == "thinking" || types[0] == "redacted_thinking"
	}
	return true
}

// thought is the thinking block's text when thinking is on ("" when
// the model omits it: Claude Opus 4.7's contract unless asked to
// summarize), and whether it is on.
func (req *messagesRequest) thought() (string, bool) {
	t := req.Thinking
	if t == nil || t.Type != "enabled" && t.Type != "adaptive" {
		return "", false
	}
	if config.ClaudeOf(req.Model).Thinking == config.ThinkingAdaptiveOnly && t.Display != "summarized" {
		return "", true
	}
	return thinkingText, true
}

// messages serves the Anthropic Messages API. With tools and a tool_choice
// of "any" or "tool", it answers with a tool_use block.
func (s *Server) messages(w http.ResponseWriter, r *http.Request, f Faults) {
	if r.Header.Get("anthropic-version") == "" {
		s.writeError(w, r, 400, "invalid_request_error", "anthropic-version: header is required")
		return
	}
	var req messagesRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.writeError(w, r, 400, "invalid_request_error", "invalid JSON: "+err.Error())
		return
	}
	if req.MaxTokens < 1 || len(req.Messages) == 0 || req.Model == "" {
		s.writeError(w, r, 400, "invalid_request_error", "model, max_tokens and messages are required")
		return
	}
	if s.refuseMissing(w, r, f, req.Model) {
		return
	}
	if msg := req.refusal(); msg != "" {
		s.writeError(w, r, 400, "invalid_request_error", msg)
		return
	}
	var prompt string
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == "user" {
			prompt = contentText(req.Messages[i].Content)
			break
		}
	}
	if n := tokens(prompt); f.ContextTokens > 0 && n > f.ContextTokens {
		s.writeError(w, r, 400, "invalid_request_error", fmt.Sprintf("prompt is too long: %d tokens > %d maximum", n, f.ContextTokens))
		return
	}
	id := fmt.Sprintf("msg_mock_%d", s.ids.Add(1))
	var iterations []map[string]any // a server-side fallback's attempts
	switch {
	case !blocked(prompt, f.BlockedWords):
	case !config.ClaudeOf(req.Model).Classifiers:
		s.writeError(w, r, 400, "invalid_request_error", "Output blocked by content filtering policy")
		return
	case len(req.Fallbacks) == 0 || !strings.Contains(r.Header.Get("anthropic-beta"), serverSideFallback):
		// Its classifiers decline: an answer, not an error; streamed, a
		// message with no content that stops at once.
		details := map[string]any{"type": "refusal", "category": "cyber",
			"explanation": "This request was declined because it could enable cyber harm.", "recommended_model": "claude-opus-4-8"}
		usage := map[string]int{"input_tokens": tokens(prompt), "output_tokens": 0}
		if !req.Stream {
			writeJSON(w, 200, map[string]any{"id": id, "type": "message", "role": "assistant", "model": req.Model, "content": []any{},
				"stop_reason": "refusal", "stop_sequence": nil, "stop_details": details, "usage": usage})
			return
		}
		s.streamEvents(newSSE(w), r, f, []any{
			namedEvent{"message_start", map[string]any{"type": "message_start", "message": map[string]any{
				"id": id, "type": "message", "role": "assistant", "model": req.Model, "content": []any{},
				"stop_reason": nil, "stop_sequence": nil, "usage": usage}}},
			namedEvent{"message_delta", map[string]any{"type": "message_delta",
				"delta": map[string]any{"stop_reason": "refusal", "stop_sequence": nil, "stop_details": details}, "usage": usage}},
			namedEvent{"message_stop", map[string]any{"type": "message_stop"}},
		}, func() {})
		return
	default:
		// Anthropic retries it on the first fallback (its recommended
		// model for "default"), which answers.
		declined := req.Model
		var named []struct {
			Model string `json:"model"`
		}
		if req.Model = "claude-opus-4-8"; json.Unmarshal(req.Fallbacks, &named) == nil && len(named) > 0 {
			req.Model = named[0].Model
		}
		iterations = []map[string]any{{"type": "message", "model": declined, "input_tokens": tokens(prompt), "output_tokens": 0}}
	}
	text := s.reply(prompt)
	if f := req.OutputConfig.Format; f != nil {
		var v any = map[string]string{"reply": text}
		if x := instanceOf(f.Schema); x != nil {
			v = x
		}
		b, _ := json.Marshal(v)
		text = string(b)
	}
	var tool string
	toolInput := `{"query":"mock"}`
	if req.ToolChoice != nil && len(req.Tools) > 0 && (req.ToolChoice.Type == "any" || req.ToolChoice.Type == "tool") {
		tool = req.Tools[0].Name
		schema := req.Tools[0].InputSchema
		for _, t := range req.Tools {
			if t.Name == req.ToolChoice.Name {
				tool, schema = t.Name, t.InputSchema
			}
		}
		// An input that follows the tool's schema, so that structured
		// output through the mock is valid.
		if v := instanceOf(schema); v != nil {
			b, _ := json.Marshal(v)
			toolInput = string(b)
		}
	}
	thought, thinking := req.thought()
	in, out := tokens(prompt), tokens(text)
	if thinking {
		out += tokens(thinkingText) // billed whether shown or not
	}
	signature := "mocksig_" + id
	prefix, hour := req.cachedPrefix()
	read, written := s.cache.use(req.Model, prefix)
	ttl := map[string]int{"ephemeral_5m_input_tokens": written, "ephemeral_1h_input_tokens": 0}
	if hour {
		ttl["ephemeral_5m_input_tokens"], ttl["ephemeral_1h_input_tokens"] = 0, written
	}
	if req.InferenceGeo != "" && !config.ClaudeOf(req.Model).Geo {
		s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "inference_geo: this model does not support inference_geo.")
		return
	}
	if takes, _ := config.FastMode(req.Model); req.Speed == "fast" && takes && f.FastModeLimited {
		// Fast mode's own limit, apart from the model's standard one.
		for _, h := range []string{"Anthropic-Fast-Input-Tokens-Remaining", "Anthropic-Fast-Output-Tokens-Remaining"} {
			w.Header().Set(h, "0")
		}
		w.Header().Set("Retry-After", "30")
		s.writeError(w, r, http.StatusTooManyRequests, "rate_limit_error",
			"This request would exceed your organization's rate limit for fast mode. Retry at standard speed, or later.")
		return
	}
	speed := ""
	if req.Speed != "" {
		// Fast mode serves the models that have it, asked with its beta;
		// the usage says which speed served the call.
		speed = "standard"
		if takes, _ := config.FastMode(req.Model); req.Speed == "fast" && strings.Contains(r.Header.Get("anthropic-beta"), "fast-mode-") && takes {
			speed = "fast"
		}
	}
	usage := func(out int) map[string]any {
		u := map[string]any{"input_tokens": in, "output_tokens": out, "cache_creation_input_tokens": written, "cache_read_input_tokens": read,
			"cache_creation": ttl}
		if speed != "" {
			u["speed"] = speed
		}
		if req.InferenceGeo != "" {
			u["inference_geo"] = req.InferenceGeo
		}
		return u
	}
	if !req.Stream {
		content := []map[string]any{{"type": "text", "text": text}}
		stop := "end_turn"
		if tool != "" {
			content = []map[string]any{{"type": "tool_use", "id": "toolu_" + id, "name": tool, "input": json.RawMessage(toolInput)}}
			stop = "tool_use"
		}
		if thinking {
			content = append([]map[string]any{{"type": "thinking", "thinking": thought, "signature": signature}}, content...)
		}
		u := usage(out)
		if iterations != nil {
			u["iterations"] = append(iterations, map[string]any{"type": "fallback_message", "model": req.Model, "input_tokens": in, "output_tokens": out})
		}
		writeJSON(w, 200, map[string]any{"id": id, "type": "message", "role": "assistant", "model": req.Model,
			"content": content, "stop_reason": stop, "stop_sequence": nil, "usage": u})
		return
	}
	sw := newSSE(w)
	events := []any{
		namedEvent{"message_start", map[string]any{"type": "message_start", "message": map[string]any{
			"id": id, "type": "message", "role": "assistant", "model": req.Model, "content": []any{},
			"stop_reason": nil, "stop_sequence": nil, "usage": usage(1)}}},
		namedEvent{"ping", map[string]any{"type": "ping"}},
	}
	index := 0 // the answer's block
	if thinking {
		events = append(events,
			namedEvent{"content_block_start", map[string]any{"type": "content_block_start", "index": 0,
				"content_block": map[string]any{"type": "thinking", "thinking": ""}}},
			namedEvent{"content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
				"delta": map[string]any{"type": "thinking_delta", "thinking": thought}}},
			namedEvent{"content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
				"delta": map[string]any{"type": "signature_delta", "signature": signature}}},
			namedEvent{"content_block_stop", map[string]any{"type": "content_block_stop", "index": 0}})
		index = 1
	}
	stop := "end_turn"
	if tool != "" {
		stop = "tool_use"
		events = append(events, namedEvent{"content_block_start", map[string]any{"type": "content_block_start", "index": index,
			"content_block": map[string]any{"type": "tool_use", "id": "toolu_" + id, "name": tool, "input": map[string]any{}}}})
		half := len(toolInput) / 2
		for _, part := range []string{toolInput[:half], toolInput[half:]} {
			events = append(events, namedEvent{"content_block_delta", map[string]any{"type": "content_block_delta", "index": index,
				"delta": map[string]any{"type": "input_json_delta", "partial_json": part}}})
		}
	} else {
		events = append(events, namedEvent{"content_block_start", map[string]any{"type": "content_block_start", "index": index,
			"content_block": map[string]any{"type": "text", "text": ""}}})
		for _, wd := range textDeltas(text, f.DeltaWords) {
			events = append(events, lazy(func() any {
				return namedEvent{"content_block_delta", map[string]any{"type": "content_block_delta", "index": index,
					"delta": map[string]any{"type": "text_delta", "text": wd}}}
			}))
		}
	}
	events = append(events,
		namedEvent{"content_block_stop", map[string]any{"type": "content_block_stop", "index": index}},
		namedEvent{"message_delta", map[string]any{"type": "message_delta",
			"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil}, "usage": map[string]int{"output_tokens": out}}},
		namedEvent{"message_stop", map[string]any{"type": "message_stop"}},
	)
	s.streamEvents(sw, r, f, events, func() {})
}

// instanceOf returns a small value that follows a JSON schema: each
// property of an object (required or not) with a value of its type. It
// returns nil for no schema or an object with no properties, where the
// mock's default input serves.
func instanceOf(schema json.RawMessage) any {
	var sc struct {
		Type       any                        `json:"type"`
		Properties map[string]json.RawMessage `json:"properties"`
		Items      json.RawMessage            `json:"items"`
		Enum       []any                      `json:"enum"`
	}
	if len(schema) == 0 || json.Unmarshal(schema, &sc) != nil {
		return nil
	}
	if len(sc.Enum) > 0 {
		return sc.Enum[0]
	}
	typ, _ := sc.Type.(string)
	if types, ok := sc.Type.([]any); ok && len(types) > 0 {
		typ, _ = types[0].(string)
	}
	switch typ {
	case "string":
		return "mock"
	case "integer":
		return 1
	case "number":
		return 1.5
	case "boolean":
		return true
	case "array":
		if v := instanceOf(sc.Items); v != nil {
			return []any{v}
		}
		return []any{}
	case "null":
		return nil
	}
	if len(sc.Properties) == 0 {
		return nil
	}
	obj := map[string]any{}
	for k, p := range sc.Properties {
		obj[k] = instanceOf(p)
	}
	return obj
}

// countTokens serves /v1/messages/count_tokens: the mock's tokens (words)
// of every message.
func (s *Server) countTokens(w http.ResponseWriter, r *http.Request, f Faults) {
	var req messagesRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model == "" || len(req.Messages) == 0 {
		s.writeError(w, r, 400, "invalid_request_error", "model and messages are required")
		return
	}
	n := 0
	for _, m := range req.Messages {
		n += tokens(contentText(m.Content))
	}
	writeJSON(w, 200, map[string]int{"input_tokens": n})
}
