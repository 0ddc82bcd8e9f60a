package mockllm

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/breakerd/breakerd/config"
)

// chatMessage is a chat or Messages request's message, as far as the mock
// reads it.
type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	// ReasoningContent is an earlier answer's reasoning, sent back
	// (nil when the message has none).
	ReasoningContent *string `json:"reasoning_content"`
	// ToolCalls are an assistant's calls (only whether there are any is
	// read).
	ToolCalls []json.RawMessage `json:"tool_calls"`
}

// maxToolCallID is the longest tool call id OpenAI takes.
const maxToolCallID = 40

// longToolCallID is OpenAI's 400 for an assistant's tool call id longer
// than it takes ("string too long"), "" when none is.
func longToolCallID(msgs []chatMessage) string {
	for i, m := range msgs {
		for j, raw := range m.ToolCalls {
			var call struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(raw, &call) == nil && len(call.ID) > maxToolCallID {
				return fmt.Sprintf("Invalid 'messages[%d].tool_calls[%d].id': string too long. Expected a string with maximum length %d, "+
					"but got a string with length %d instead.", i, j, maxToolCallID, len(call.ID))
			}
		}
	}
	return ""
}

// thinkingChat are the chat models that think apart, in
// reasoning_content, and want it back in later assistant messages (each
// of them, or only those that call tools), as their 400 says.
var thinkingChat = []struct {
	prefixes      []string
	toolCallsOnly bool
	missing       string // the 400's message, formatted with the message's index
}{
	{[]string{"deepseek-reasoner", "deepseek-v4"}, false, "Missing `reasoning_content` field in the assistant message at message index %d. " +
		"For more information, please refer to https://api-docs.deepseek.com/guides/thinking_mode#tool-calls"},
	{[]string{"kimi-k2-thinking", "kimi-k2.5", "kimi-k2.6", "moonshotai/kimi-k2-thinking", "moonshotai/kimi-k2.5", "moonshotai/kimi-k2.6"}, true,
		"thinking is enabled but reasoning_content is missing in assistant tool call message at index %d"},
}

// reasoningMissing is the 400 message of a thinking model (thinkingChat)
// for the first assistant message without the reasoning it wants back; ""
// when none is missing. thinks says whether model thinks at all.
func reasoningMissing(model string, msgs []chatMessage) (why string, thinks bool) {
	for _, t := range thinkingChat {
		if !slices.ContainsFunc(t.prefixes, func(p string) bool { return strings.HasPrefix(model, p) }) {
			continue
		}
		for i, m := range msgs {
			if m.Role == "assistant" && m.ReasoningContent == nil && (!t.toolCallsOnly || len(m.ToolCalls) > 0) {
				return fmt.Sprintf(t.missing, i), true
			}
		}
		return "", true
	}
	return "", false
}

type chatRequest struct {
	Model string `json:"model"`
	// ServiceTier is the tier asked for: the answer says it served it
	// (servedTier).
	ServiceTier   string        `json:"service_tier"`
	Messages      []chatMessage `json:"messages"`
	Stream        bool          `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxCompletionTokens *int `json:"max_completion_tokens"`
	MaxTokens           *int `json:"max_tokens"`
	// ReasoningEffort and Thinking are checked against what the model
	// takes (config.OpenAIModelParams), as OpenAI checks them.
	ReasoningEffort  *string         `json:"reasoning_effort"`
	Thinking         json.RawMessage `json:"thinking"`
	Temperature      *float64        `json:"temperature"`
	TopP             *float64        `json:"top_p"`
	PresencePenalty  *float64        `json:"presence_penalty"`
	FrequencyPenalty *float64        `json:"frequency_penalty"`
	Logprobs         *bool           `json:"logprobs"`
	Tools            []struct {
		Type     string `json:"type"`
		Function struct {
			Name       string          `json:"name"`
			Parameters json.RawMessage `json:"parameters"`
		} `json:"function"`
	} `json:"tools"`
	ToolChoice json.RawMessage `json:"tool_choice"`
	// ResponseFormat asks for JSON (structured outputs): the answer is a
	// value that follows its schema.
	ResponseFormat *struct {
		Type       string `json:"type"`
		JSONSchema struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	} `json:"response_format"`
	// Store keeps the completion for the stored chat completions API
	// (storedchat.go), with its Metadata.
	Store    bool              `json:"store"`
	Metadata map[string]string `json:"metadata"`
}

// refused returns the first of the parameters the request sets that the
// model refuses (refuses), or "".
func (r *chatRequest) refused(refuses map[string]string) string {
	if _, ok := refuses["reasoning_effort"]; ok && r.ReasoningEffort != nil {
		return "reasoning_effort"
	}
	if _, ok := refuses["thinking"]; ok && len(r.Thinking) > 0 && string(r.Thinking) != "null" {
		return "thinking"
	}
	return ""
}

// unsupportedValue returns the first sampling parameter the request sets
// to other than its default that the model refuses (refuses), and its
// value; "" when none.
func (r *chatRequest) unsupportedValue(refuses map[string]string) (string, float64) {
	for _, p := range []struct {
		key string
		v   *float64
		def float64
	}{{"temperature", r.Temperature, 1}, {"top_p", r.TopP, 1}, {"presence_penalty", r.PresencePenalty, 0}, {"frequency_penalty", r.FrequencyPenalty, 0}} {
		if _, ok := refuses[p.key]; ok && p.v != nil && *p.v != p.def {
			return p.key, *p.v
		}
	}
	return "", 0
}

// effortRefused is OpenAI's 400 message for a reasoning effort the
// model does not take (efforts: those it takes, when known; param as the
// API names it), "" when it takes it.
func effortRefused(effort string, efforts []string, param string) string {
	if len(efforts) == 0 || slices.Contains(efforts, effort) {
		return ""
	}
	quoted := make([]string, len(efforts))
	for i, e := range efforts {
		quoted[i] = "'" + e + "'"
	}
	list := quoted[0]
	if n := len(quoted); n > 1 {
		list = strings.Join(quoted[:n-1], ", ") + " and " + quoted[n-1]
	}
	return fmt.Sprintf("Unsupported value: '%s' does not support '%s' with this model. Supported values are: %s.", param, effort, list)
}

// whileReasoning returns the first of the parameters the request sets,
// at any value, that the model refuses while it reasons (GPT-5.1 and
// later), if the request makes it reason; "" otherwise.
func (r *chatRequest) whileReasoning(mp config.ModelParams) string {
	if len(mp.RefusesReasoning) == 0 || r.ReasoningEffort == nil && !mp.ReasonsByDefault ||
		r.ReasoningEffort != nil && *r.ReasoningEffort == "none" {
		return ""
	}
	for _, p := range []struct {
		key string
		set bool
	}{{"temperature", r.Temperature != nil}, {"top_p", r.TopP != nil}, {"logprobs", r.Logprobs != nil}} {
		if _, ok := mp.RefusesReasoning[p.key]; ok && p.set {
			return p.key
		}
	}
	return ""
}

// forcedTool returns the tool a chat request forces (tool_choice required,
// or a named function) and an input that follows its schema; "" when the
// request forces none.
func (r *chatRequest) forcedTool() (name, args string) {
	if len(r.Tools) == 0 {
		return "", ""
	}
	var choice string
	var named struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	switch {
	case json.Unmarshal(r.ToolChoice, &choice) == nil && choice == "required":
		name = r.Tools[0].Function.Name
	case json.Unmarshal(r.ToolChoice, &named) == nil && named.Function.Name != "":
		name = named.Function.Name
	default:
		return "", ""
	}
	args = `{"query":"mock"}`
	for _, t := range r.Tools {
		if t.Function.Name == name {
			if v := instanceOf(t.Function.Parameters); v != nil {
				b, _ := json.Marshal(v)
				args = string(b)
			}
		}
	}
	return name, args
}

// lastUserText returns the text of the last user message.
func lastUserText(msgs []chatMessage) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role != "user" {
			continue
		}
		return contentText(msgs[i].Content)
	}
	return ""
}

// contentText reads a content field that is a string or a list of parts.
func contentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	_ = json.Unmarshal(raw, &parts)
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

func (s *Server) reply(prompt string) string {
	if len(prompt) > 80 {
		prompt = prompt[:80]
	}
	text := fmt.Sprintf("Hello from %s! You said: %s", s.opts.Name, prompt)
	if n := s.Faults().ReplyWords; n > 0 {
		if pad := n - len(strings.Fields(text)); pad > 0 {
			text += strings.Repeat(" lorem", pad)
		}
	}
	return text
}

func tokens(s string) int { return words(s) + 1 }

// textDeltas splits text into the deltas a stream sends: n words each
// (one for n < 2), each word with the space after it.
func textDeltas(text string, n int) []string {
	words := strings.SplitAfter(text, " ")
	if n < 2 {
		return words
	}
	var out []string
	for len(words) > 0 {
		k := min(n, len(words))
		out = append(out, strings.Join(words[:k], ""))
		words = words[k:]
	}
	return out
}

// words counts s's words as strings.Fields splits them, without the
// slice: the mock counts every prompt and reply.
func words(s string) int {
	n, in := 0, false
	for _, r := range s {
		if unicode.IsSpace(r) {
			in = false
		} else if !in {
			in, n = true, n+1
		}
	}
	return n
}

// chatUsage is a chat completion's usage, as OpenAI writes it.
type chatUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
		AudioTokens  int `json:"audio_tokens"`
	} `json:"prompt_tokens_details"`
	// Cost is the call's cost in USD (credits), as OpenRouter reports
	// it in every answer's usage.
	Cost *float64 `json:"cost,omitempty"`
}

// openRouterPrices are what the mock, as OpenRouter (/api/v1), bills a
// token: USD per prompt token and per completion token.
const openRouterIn, openRouterOut = 3e-6, 15e-6

// blocked reports whether prompt contains any of words, ignoring case.
func blocked(prompt string, words []string) bool {
	for _, w := range strings.Fields(strings.ToLower(prompt)) {
		for _, b := range words {
			if strings.Trim(w, ".,!?;:") == strings.ToLower(b) {
				return true
			}
		}
	}
	return false
}

// geminiRefused are the chat fields Gemini's OpenAI-compatible API does
// not know and refuses, where OpenAI's takes or ignores them.
var geminiRefused = map[string]bool{"frequency_penalty": true, "presence_penalty": true, "prompt_cache_key": true,
	"prompt_cache_retention": true, "top_k": true, "thinking": true}

// geminiSchemaWords are the fields of Gemini's Schema, the subset of
// OpenAPI 3.0's schemas its function declarations and response schemas
// take.
var geminiSchemaWords = []string{"type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
	"properties", "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf",
	"propertyOrdering", "default", "items", "minimum", "maximum"}

// geminiSchemaFault is Google's 400 message for the first thing in a
// schema (at path) that Gemini's Schema cannot hold, "" when none.
func geminiSchemaFault(schema any, path string) string {
	m, ok := schema.(map[string]any)
	if !ok {
		return ""
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		switch {
		case !slices.Contains(geminiSchemaWords, k):
			return fmt.Sprintf("Invalid JSON payload received. Unknown name %q at '%s': Cannot find field.", k, path)
		case k == "type":
			if _, list := m[k].([]any); list {
				return fmt.Sprintf("Invalid JSON payload received. Proto field is not repeating, cannot start list at '%s.type'.", path)
			}
		}
	}
	props, _ := m["properties"].(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(props)) {
		if why := geminiSchemaFault(props[name], path+".properties["+name+"].value"); why != "" {
			return why
		}
	}
	if why := geminiSchemaFault(m["items"], path+".items"); why != "" {
		return why
	}
	alts, _ := m["anyOf"].([]any)
	for i, s := range alts {
		if why := geminiSchemaFault(s, fmt.Sprintf("%s.any_of[%d]", path, i)); why != "" {
			return why
		}
	}
	return ""
}

// unsignedCall is the name of the first of an assistant's tool calls
// (raw) when it carries no thought signature
// (extra_content.google.thought_signature), which Gemini 3 refuses; "" when
// it does, or there is none.
func unsignedCall(raw json.RawMessage) string {
	var calls []struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
		ExtraContent struct {
			Google struct {
				ThoughtSignature string `json:"thought_signature"`
			} `json:"google"`
		} `json:"extra_content"`
	}
	if json.Unmarshal(raw, &calls) != nil || len(calls) == 0 || calls[0].ExtraContent.Google.ThoughtSignature != "" {
		return ""
	}
	return calls[0].Function.Name
}

// geminiChat serves Gemini's OpenAI-compatible chat API (its
// /v1beta/openai paths): the mock's chat, after the strict check Gemini
// makes of the fields it does not know (geminiRefused, and in a message
// the fields only answers carry), answered with Google's 400.
func (s *Server) geminiChat(w http.ResponseWriter, r *http.Request, f Faults) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	refuse := func(msg string) {
		writeJSON(w, http.StatusBadRequest, []any{map[string]any{"error": map[string]any{"code": 400, "message": msg, "status": "INVALID_ARGUMENT"}}})
	}
	var req struct {
		Model    string                       `json:"model"`
		Messages []map[string]json.RawMessage `json:"messages"`
		Tools    []struct {
			Function struct {
				Parameters any `json:"parameters"`
			} `json:"function"`
		} `json:"tools"`
		ResponseFormat struct {
			JSONSchema struct {
				Schema any `json:"schema"`
			} `json:"json_schema"`
		} `json:"response_format"`
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) == nil && json.Unmarshal(body, &req) == nil {
		for i, t := range req.Tools {
			if why := geminiSchemaFault(t.Function.Parameters, fmt.Sprintf("tools[0].function_declarations[%d].parameters", i)); why != "" {
				refuse(why)
				return
			}
		}
		if why := geminiSchemaFault(req.ResponseFormat.JSONSchema.Schema, "generation_config.response_schema"); why != "" {
			refuse(why)
			return
		}
		for _, k := range slices.Sorted(maps.Keys(fields)) {
			if geminiRefused[k] {
				refuse(fmt.Sprintf("Invalid JSON payload received. Unknown name %q: Cannot find field.", k))
				return
			}
		}
		for i, m := range req.Messages {
			for _, k := range []string{"reasoning_content", "thinking_blocks"} { // answers' fields
				if _, ok := m[k]; ok {
					refuse(fmt.Sprintf("Invalid JSON payload received. Unknown name %q at 'messages[%d]': Cannot find field.", k, i))
					return
				}
			}
			if name := unsignedCall(m["tool_calls"]); name != "" && strings.HasPrefix(req.Model, "gemini-3") {
				refuse(fmt.Sprintf("Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, "+
					"and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:%s` , position %d. "+
					"Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.", name, i+1))
				return
			}
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.chat(w, r, f)
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request, f Faults) {
	var req chatRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.writeError(w, r, 400, "invalid_request_error", "invalid JSON: "+err.Error())
		return
	}
	if len(req.Messages) == 0 {
		s.writeError(w, r, 400, "invalid_request_error", "messages must not be empty")
		return
	}
	if req.Model == "" {
		req.Model = r.PathValue("deployment")
	}
	if s.refuseMissing(w, r, f, req.Model) || s.refuseUnverifiedStream(w, r, f, req.Stream) {
		return
	}
	if !strings.Contains(r.URL.Path, "/v1beta/openai") { // OpenAI's own limit, not Gemini's
		if why := longToolCallID(req.Messages); why != "" {
			s.writeError(w, r, 400, "invalid_request_error", why)
			return
		}
	}
	// A thinking model's tool loop passes its reasoning back.
	why, thinks := reasoningMissing(req.Model, req.Messages)
	if why != "" {
		s.writeError(w, r, 400, "invalid_request_error", why)
		return
	}
	if m := req.Model; (strings.Contains(m, "pro") || strings.Contains(m, "codex") || strings.Contains(m, "research") || strings.HasPrefix(m, "computer")) &&
		config.OpenAIModelParams(m).ResponsesOnly {
		s.writeError(w, r, 404, "invalid_request_error", "This model is only supported in v1/responses and not in v1/chat/completions.")
		return
	}
	if req.MaxTokens != nil || req.ReasoningEffort != nil || len(req.Thinking) > 0 || req.Temperature != nil || req.TopP != nil ||
		req.PresencePenalty != nil || req.FrequencyPenalty != nil || req.Logprobs != nil || len(req.Tools) > 0 {
		// What the model refuses of them (looked up only then: a plain
		// call pays nothing).
		mp := config.OpenAIModelParams(req.Model)
		renames, refuses := mp.Renames, mp.Refuses
		reasoning := req.ReasoningEffort != nil && *req.ReasoningEffort != "none" || req.ReasoningEffort == nil && mp.ReasonsByDefault
		for _, t := range req.Tools {
			if t.Type == "custom" && !mp.CustomTools {
				// Custom tools (free-form input) are GPT-5's.
				s.writeError(w, r, 400, "invalid_request_error", "Invalid value: 'custom'. Supported values are: 'function'.")
				return
			}
		}
		if mp.ToolsWithoutReasoning && len(req.Tools) > 0 && reasoning {
			s.writeError(w, r, 400, "invalid_request_error", fmt.Sprintf("Function tools with reasoning_effort are not supported for %s in /v1/chat/completions. "+
				"To use function tools, use /v1/responses or set reasoning_effort to 'none'.", req.Model))
			return
		}
		if req.ReasoningEffort != nil {
			if msg := effortRefused(*req.ReasoningEffort, mp.Efforts, "reasoning_effort"); msg != "" {
				s.writeErrorCode(w, r, 400, "invalid_request_error", "unsupported_value", msg)
				return
			}
		}
		if k := req.whileReasoning(mp); k != "" {
			s.writeErrorCode(w, r, 400, "invalid_request_error", "unsupported_parameter",
				fmt.Sprintf("Unsupported parameter: '%s' is not supported with this model.", k))
			return
		}
		if req.MaxTokens != nil && renames["max_tokens"] != "" {
			s.writeErrorCode(w, r, 400, "invalid_request_error", "unsupported_parameter",
				"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.")
			return
		}
		if k := req.refused(refuses); k != "" {
			s.writeError(w, r, 400, "invalid_request_error", "Unrecognized request argument supplied: "+k)
			return
		}
		switch k, v := req.unsupportedValue(refuses); k {
		case "":
		case "temperature", "top_p":
			s.writeErrorCode(w, r, 400, "invalid_request_error", "unsupported_value",
				fmt.Sprintf("Unsupported value: '%s' does not support %v with this model. Only the default (1) value is supported.", k, v))
			return
		default:
			s.writeErrorCode(w, r, 400, "invalid_request_error", "unsupported_parameter",
				fmt.Sprintf("Unsupported parameter: '%s' is not supported with this model.", k))
			return
		}
	}
	if v := r.URL.Query().Get("api-version"); r.PathValue("deployment") != "" && v != "" && v < "2024-09-01" {
		// Azure OpenAI before 2024-09-01-preview knows neither
		// stream_options nor max_completion_tokens.
		for name, set := range map[string]bool{"stream_options": req.StreamOptions != nil, "max_completion_tokens": req.MaxCompletionTokens != nil} {
			if set {
				s.writeError(w, r, 400, "invalid_request_error", "Unrecognized request argument supplied: "+name)
				return
			}
		}
	}
	prompt := lastUserText(req.Messages)
	if n := tokens(prompt); f.ContextTokens > 0 && n > f.ContextTokens {
		s.writeErrorCode(w, r, 400, "invalid_request_error", "context_length_exceeded", fmt.Sprintf(
			"This model's maximum context length is %d tokens. However, your messages resulted in %d tokens.", f.ContextTokens, n))
		return
	}
	if blocked(prompt, f.BlockedWords) {
		if strings.HasPrefix(r.URL.Path, "/api/v1/") { // OpenRouter's moderation, with its 403
			s.writeError(w, r, http.StatusForbidden, "permission_error", fmt.Sprintf(
				"%s requires moderation on OpenRouter. Your input was flagged for \"violence\". No credits were charged.", req.Model))
			return
		}
		s.writeErrorCode(w, r, 400, "invalid_request_error", "content_policy_violation",
			"Your request was rejected as a result of our safety system.")
		return
	}
	text := s.reply(prompt)
	if rf := req.ResponseFormat; rf != nil && (rf.Type == "json_schema" || rf.Type == "json_object") {
		// Structured outputs: a value of the schema (the reply, in JSON
		// mode or for a schema of no properties).
		var v any = map[string]string{"reply": text}
		if x := instanceOf(rf.JSONSchema.Schema); x != nil {
			v = x
		}
		b, _ := json.Marshal(v)
		text = string(b)
	}
	id := fmt.Sprintf("chatcmpl-mock-%d", s.ids.Add(1))
	created := s.now().Unix()
	usage := &chatUsage{PromptTokens: tokens(prompt), CompletionTokens: tokens(text)}
	if len(req.Messages) > 1 || words(prompt) >= minCachedTokens {
		if whole := wholePrompt(req.Messages); words(whole) >= minCachedTokens {
			// A prompt long enough for OpenAI's cache counts whole.
			usage.PromptTokens, usage.PromptTokensDetails.CachedTokens = tokens(whole), s.cache.auto(req.Model, whole)
		}
	}
	reasoning := ""
	if thinks {
		// A thinking model (DeepSeek's, Kimi's) answers with its
		// reasoning apart, in reasoning_content, before the answer.
		reasoning = "The user said " + strings.Join(strings.Fields(prompt)[:min(len(strings.Fields(prompt)), 5)], " ") + "; I greet them."
		usage.CompletionTokens += tokens(reasoning)
	}
	usage.TotalTokens = usage.PromptTokens + usage.CompletionTokens
	if strings.HasPrefix(r.URL.Path, "/api/v1/") {
		// OpenRouter's path: it reports each call's cost.
		cost := float64(usage.PromptTokens)*openRouterIn + float64(usage.CompletionTokens)*openRouterOut
		usage.Cost = &cost
	}
	tool, args := req.forcedTool()
	callID := "call_" + id
	tier := servedTier(req.ServiceTier)
	// Gemini 3 signs its tool calls, and wants the signature back.
	signed := strings.HasPrefix(req.Model, "gemini-3")
	signature := map[string]any{"google": map[string]string{"thought_signature": "mocksig_" + id}}
	completion := func() map[string]any {
		msg := map[string]any{"role": "assistant", "content": text, "refusal": nil}
		if reasoning != "" {
			msg["reasoning_content"] = reasoning
		}
		finish := "stop"
		if tool != "" {
			msg["content"], finish = nil, "tool_calls"
			call := map[string]any{"id": callID, "type": "function", "function": map[string]any{"name": tool, "arguments": args}}
			if signed {
				call["extra_content"] = signature
			}
			msg["tool_calls"] = []map[string]any{call}
		}
		return map[string]any{
			"id": id, "object": "chat.completion", "created": created, "model": req.Model, "service_tier": tier,
			"choices": []map[string]any{{"index": 0, "finish_reason": finish, "logprobs": nil, "message": msg}},
			"usage":   usage,
		}
	}
	if req.Store {
		s.files.storeChat(completion(), &req)
	}
	if !req.Stream {
		writeJSON(w, 200, completion())
		return
	}
	sw := newSSE(w)
	withUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	chunk := func(delta map[string]any, finish any) map[string]any {
		c := map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": req.Model, "service_tier": tier,
			"choices": []map[string]any{{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": nil}}}
		if withUsage {
			c["usage"] = nil // as OpenAI sends every chunk before the usage chunk
		}
		return c
	}
	events := []any{chunk(map[string]any{"role": "assistant", "content": ""}, nil)}
	if reasoning != "" {
		for _, wd := range strings.SplitAfter(reasoning, " ") {
			events = append(events, chunk(map[string]any{"content": nil, "reasoning_content": wd}, nil))
		}
	}
	if tool != "" {
		half := len(args) / 2
		call := map[string]any{"index": 0, "id": callID, "type": "function", "function": map[string]any{"name": tool, "arguments": ""}}
		if signed {
			call["extra_content"] = signature
		}
		events = append(events, chunk(map[string]any{"tool_calls": []map[string]any{call}}, nil))
		for _, part := range []string{args[:half], args[half:]} {
			events = append(events, chunk(map[string]any{"tool_calls": []map[string]any{{"index": 0,
				"function": map[string]any{"arguments": part}}}}, nil))
		}
		events = append(events, chunk(map[string]any{}, "tool_calls"))
	} else {
		for _, wd := range textDeltas(text, f.DeltaWords) {
			events = append(events, lazy(func() any { return chunk(map[string]any{"content": wd}, nil) }))
		}
		events = append(events, chunk(map[string]any{}, "stop"))
	}
	if withUsage {
		events = append(events, map[string]any{"id": id, "object": "chat.completion.chunk", "created": created,
			"model": req.Model, "service_tier": tier, "choices": []any{}, "usage": usage})
	}
	s.streamEvents(sw, r, f, events, func() { sw.data("[DONE]") })
}

// servedTier is the service tier OpenAI says served a request that asked
// for asked: the one asked for, or "default" for auto or none.
func servedTier(asked string) string {
	switch asked {
	case "flex", "priority", "scale":
		return asked
	}
	return "default"
}

// lazy is a streamed event made when it is sent: a long stream holds a
// closure per chunk instead of the chunk's maps (about 2 KB each), so a
// mock holding thousands of streams stays small.
type lazy func() any

// streamEvents writes events as SSE data, honouring CutAfter, StallAfter
// and ChunkDelayMS, then calls end.
func (s *Server) streamEvents(sw *sse, r *http.Request, f Faults, events []any, end func()) {
	for i, ev := range events {
		if l, ok := ev.(lazy); ok {
			ev = l()
		}
		if f.CutAfter > 0 && i == f.CutAfter {
			s.stats.failed.Add(1)
			panic(http.ErrAbortHandler) // break the stream mid-way
		}
		if f.OverloadAfter > 0 && i == f.OverloadAfter {
			s.stats.failed.Add(1)
			overloaded(sw, events[0])
			return
		}
		if f.StallAfter > 0 && i == f.StallAfter {
			s.stats.failed.Add(1)
			<-r.Context().Done()
			return
		}
		if i > 0 && f.ChunkDelayMS > 0 {
			select {
			case <-time.After(time.Duration(f.ChunkDelayMS) * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
		if ne, ok := ev.(namedEvent); ok {
			sw.event(ne.name, ne.data)
		} else {
			if f.StampChunks {
				stamp(ev)
			}
			sw.json(ev)
		}
	}
	end()
}

// overloaded writes the error event that ends a stream whose first event
// is first when its upstream is overloaded, in that stream's API.
func overloaded(sw *sse, first any) {
	name := ""
	if ne, ok := first.(namedEvent); ok {
		name = ne.name
	}
	switch {
	case strings.HasPrefix(name, "message_"):
		sw.event("error", map[string]any{"type": "error", "error": map[string]string{"type": "overloaded_error", "message": "Overloaded"}})
	case strings.HasPrefix(name, "response."):
		sw.event("error", map[string]any{"type": "error", "code": "server_is_overloaded", "param": nil,
			"message": "Our servers are currently overloaded. Please try again later."})
	default:
		sw.json(map[string]any{"error": map[string]any{"type": "server_error", "code": "server_is_overloaded", "param": nil,
			"message": "Our servers are currently overloaded. Please try again later."}})
	}
}

func (s *Server) embeddings(w http.ResponseWriter, r *http.Request, f Faults) {
	var req struct {
		Model      string          `json:"model"`
		Input      json.RawMessage `json:"input"`
		Dimensions int             `json:"dimensions"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.writeError(w, r, 400, "invalid_request_error", "invalid JSON: "+err.Error())
		return
	}
	if s.refuseMissing(w, r, f, cmp.Or(req.Model, r.PathValue("deployment"))) {
		return
	}
	var inputs []string
	var one string
	if json.Unmarshal(req.Input, &one) == nil {
		inputs = []string{one}
	} else if err := json.Unmarshal(req.Input, &inputs); err != nil || len(inputs) == 0 {
		s.writeError(w, r, 400, "invalid_request_error", "input must be a string or a list of strings")
		return
	}
	dims := req.Dimensions
	if dims <= 0 {
		dims = 8
	}
	data := make([]map[string]any, len(inputs))
	total := 0
	for i, in := range inputs {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": vector(in, dims)}
		total += tokens(in)
	}
	writeJSON(w, 200, map[string]any{"object": "list", "model": req.Model, "data": data,
		"usage": map[string]int{"prompt_tokens": total, "total_tokens": total}})
}

// vector is a deterministic pseudo-embedding of s.
func vector(s string, dims int) []float64 {
	v := make([]float64, dims)
	h := fnv.New64a()
	for i := range v {
		h.Write([]byte(s))
		v[i] = float64(h.Sum64()%2000)/1000 - 1
	}
	return v
}

// sse writes server-sent events, flushing each one.
type sse struct {
	w http.ResponseWriter
	f http.Flusher
}

func newSSE(w http.ResponseWriter) *sse {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(200)
	f, _ := w.(http.Flusher)
	return &sse{w: w, f: f}
}

func (s *sse) data(v string) {
	fmt.Fprintf(s.w, "data: %s\n\n", v)
	if s.f != nil {
		s.f.Flush()
	}
}

func (s *sse) json(v any) {
	b, _ := json.Marshal(v)
	s.data(string(b))
}

// event writes a named event, as Anthropic streams do.
func (s *sse) event(name string, v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", name, b)
	if s.f != nil {
		s.f.Flush()
	}
}

// stamp sets a chat chunk's text to the Unix microsecond it is sent at.
func stamp(ev any) {
	c, ok := ev.(map[string]any)
	if !ok {
		return
	}
	choices, _ := c["choices"].([]map[string]any)
	if len(choices) == 0 {
		return
	}
	if d, ok := choices[0]["delta"].(map[string]any); ok {
		if _, ok := d["content"]; ok {
			d["content"] = fmt.Sprintf("%d ", time.Now().UnixMicro())
		}
	}
}
