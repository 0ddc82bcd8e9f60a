package provider

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/breakerd/breakerd/config"
)

// Translation between OpenAI chat completions and Anthropic messages. Every
// OpenAI field is either translated or rejected with a 400: nothing is
// dropped silently.

// anthropicRequest is the Messages API body we send.
type anthropicRequest struct {
	Model         string             `json:"model"`
	MaxTokens     int                `json:"max_tokens"`
	System        []anthropicBlock   `json:"system,omitempty"`
	Messages      []anthropicMessage `json:"messages"`
	Temperature   *float64           `json:"temperature,omitempty"`
	TopP          *float64           `json:"top_p,omitempty"`
	TopK          *int               `json:"top_k,omitempty"`
	StopSequences []string           `json:"stop_sequences,omitempty"`
	Tools         []anthropicTool    `json:"tools,omitempty"`
	ToolChoice    map[string]any     `json:"tool_choice,omitempty"`
	Metadata      map[string]string  `json:"metadata,omitempty"`
	Thinking      json.RawMessage    `json:"thinking,omitempty"`
	// OutputConfig carries the effort of an adaptively thinking model,
	// and structured outputs' format.
	OutputConfig map[string]any `json:"output_config,omitempty"`
	Stream       bool           `json:"stream,omitempty"`
	// jsonMode is set when the client asked for JSON (response_format):
	// the answer is the input of the forced jsonTool call.
	jsonMode bool
}

// jsonTool is the tool JSON mode forces on Anthropic, as LiteLLM does: its
// input schema is the requested schema, and its input is the answer.
const jsonTool = "json_tool_call"

// reasoningBudgets maps OpenAI's reasoning_effort (and Anthropic's effort)
// to an Anthropic thinking budget: LiteLLM's mapping, and twice the step
// before for xhigh and max.
var reasoningBudgets = map[string]int{"minimal": 1024, "low": 1024, "medium": 2048, "high": 4096, "xhigh": 8192, "max": 16384}

// adaptiveEfforts maps OpenAI's reasoning_effort to the effort of a model
// that thinks only adaptively; "max" is Anthropic's own, above xhigh.
var adaptiveEfforts = map[string]string{"minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "xhigh", "max": "max"}

// adaptiveOnly reports whether model is of Claude Opus 4.7's contract.
func adaptiveOnly(model string) bool {
	return config.ClaudeOf(model).Thinking == config.ThinkingAdaptiveOnly
}

// adaptiveThinking is the thinking parameter such a model takes: the
// text summarized, as chat clients get it in reasoning_content.
var adaptiveThinking = json.RawMessage(`{"type":"adaptive","display":"summarized"}`)

type anthropicMessage struct {
	Role    string           `json:"role"`
	Content []anthropicBlock `json:"content"`
}

// anthropicBlock is a content block; which fields are set depends on Type.
type anthropicBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	Source    *imageSource    `json:"source,omitempty"`
	Title     string          `json:"title,omitempty"` // a document's
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	// Content is a tool_result's content, as text blocks.
	Content []anthropicBlock `json:"content,omitempty"`
	// Thinking and Signature are a thinking block's; Data a
	// redacted_thinking block's.
	Thinking  string `json:"thinking,omitempty"`
	Signature string `json:"signature,omitempty"`
	Data      string `json:"data,omitempty"`
	// CacheControl marks the prompt's end of a cached prefix (a Messages
	// client's), which Converse takes as a cachePoint.
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

type imageSource struct {
	Type      string `json:"type"` // base64 or url
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

type anthropicTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
	// CacheControl is a Messages client's, as on a block.
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

// openAIMessage is one message of an OpenAI chat request.
type openAIMessage struct {
	Role       string           `json:"role"`
	Content    json.RawMessage  `json:"content"`
	ToolCalls  []openAIToolCall `json:"tool_calls"`
	ToolCallID string           `json:"tool_call_id"`
	Name       string           `json:"name"`
	// CacheControl is LiteLLM's extension for Anthropic's prompt caching,
	// on a message (its last block) or on a content part.
	CacheControl json.RawMessage `json:"cache_control"`
	// ThinkingBlocks are an assistant message's thinking, as LiteLLM
	// returns it (thinking with its signature, or redacted_thinking), to
	// be sent back: Anthropic wants the thinking before a tool call when
	// thinking is on.
	ThinkingBlocks []anthropicBlock `json:"thinking_blocks"`
}

type openAIToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// unsupportedParams have no Anthropic equivalent. A request that sets one
// to a non-default value gets a 400 naming it.
var unsupportedParams = map[string]string{
	"n":                  "Anthropic returns one choice; n must be 1",
	"logprobs":           "Anthropic does not return log probabilities",
	"top_logprobs":       "Anthropic does not return log probabilities",
	"logit_bias":         "Anthropic has no logit bias",
	"frequency_penalty":  "Anthropic has no frequency penalty",
	"presence_penalty":   "Anthropic has no presence penalty",
	"seed":               "Anthropic has no seed",
	"audio":              "Anthropic does not produce audio",
	"modalities":         "Anthropic produces text only",
	"prediction":         "Anthropic has no predicted outputs",
	"functions":          "use tools instead of the deprecated functions",
	"function_call":      "use tool_choice instead of the deprecated function_call",
	"verbosity":          "Anthropic has no verbosity",
	"web_search_options": "Anthropic's web search is a server tool this translation does not make",
}

// translatedParams are the chat parameters toAnthropic translates; with
// unsupportedParams and ignoredParams, the ones it knows. Any other is a
// parameter the deployment cannot take (Unsupported), not a 400 that
// would end a request another deployment could serve.
var translatedParams = map[string]bool{"model": true, "messages": true, "tool_choice": true, "parallel_tool_calls": true,
	"stream": true, "max_tokens": true, "max_completion_tokens": true, "temperature": true, "top_p": true, "top_k": true,
	"stop": true, "user": true, "safety_identifier": true, "tools": true, "response_format": true, "thinking": true,
	"reasoning_effort": true}

// sampling is what decides whether a Claude model takes a sampling
// parameter besides its value: whether thinking is on, and whether both
// temperature and top_p are set.
type sampling struct{ thinking, both bool }

// samplingOf reads a chat request's sampling for model.
func samplingOf(model string, fields map[string]json.RawMessage) sampling {
	set := func(k string) bool { v, ok := fields[k]; return ok && strings.TrimSpace(string(v)) != "null" }
	return sampling{thinking: thinkingOn(model, fields), both: set("temperature") && set("top_p")}
}

// samplingRefused returns why model cannot take the chat parameter key
// with the value raw, or "" if it can. No Claude takes a temperature
// above 1 (OpenAI's go to 2). Claude Opus 4.7's contract takes
// temperature and top_p only at their default, 1 (left out, as it changes
// nothing), and no top_k; with thinking on, any Claude takes temperature
// only at 1, top_p only from 0.95, and no top_k; Claude 4.1 to 4.6 take
// temperature or top_p, not both (top_p is the one refused; at its
// default, 1, it is left out).
func samplingRefused(model, key string, raw json.RawMessage, s sampling) string {
	if key != "temperature" && key != "top_p" && key != "top_k" {
		return ""
	}
	var v *float64
	if json.Unmarshal(raw, &v) != nil || v == nil {
		return "" // an invalid value is translation's error
	}
	c := config.ClaudeOf(model)
	def := key != "top_k" && *v == 1
	switch {
	case key == "temperature" && *v > 1:
		return "Anthropic's temperature is at most 1 (OpenAI's, 2)"
	case c.Thinking == config.ThinkingAdaptiveOnly && !def:
		return "Claude Opus 4.7 and the models after it take no temperature, top_p or top_k"
	case s.thinking && key == "temperature" && !def:
		return "with thinking on, Anthropic takes temperature only at 1"
	case s.thinking && key == "top_p" && *v < 0.95:
		return "with thinking on, Anthropic takes top_p only from 0.95 to 1"
	case s.thinking && key == "top_k":
		return "with thinking on, Anthropic takes no top_k"
	case c.OneSampler && s.both && key == "top_p" && !def:
		return "Claude 4.1 to 4.6 take temperature or top_p, not both"
	}
	return ""
}

// thinkingOn reports whether a chat request to model turns Claude's
// thinking on: a thinking parameter of type enabled or adaptive, else a
// reasoning_effort that becomes one.
func thinkingOn(model string, fields map[string]json.RawMessage) bool {
	if raw, ok := fields["thinking"]; ok {
		var t struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(raw, &t)
		return t.Type == "enabled" || t.Type == "adaptive"
	}
	var effort string
	_ = json.Unmarshal(fields["reasoning_effort"], &effort)
	if adaptiveOnly(model) {
		_, ok := adaptiveEfforts[effort]
		return ok
	}
	_, ok := reasoningBudgets[effort]
	return ok
}

// ignoredParams are accepted without effect on Anthropic, because they
// change nothing about the answer.
var ignoredParams = map[string]bool{"store": true, "service_tier": true, "stream_options": true, "metadata": true,
	"prompt_cache_key": true, "prompt_cache_retention": true}

// isDefault reports whether an unsupported parameter holds a value that
// means "not used" (n: 1, logprobs: false, penalties: 0, null).
func isDefault(key string, raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	switch s {
	case "null", "false", "0", "0.0":
		return true
	case "1", "1.0":
		return key == "n" || key == "temperature" || key == "top_p"
	case `"medium"`:
		return key == "verbosity"
	case `"none"`:
		return key == "reasoning_effort"
	}
	return false
}

func badRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: fmt.Sprintf(format, args...)}
}

// toAnthropic translates an OpenAI chat request body. defaultMaxTokens is
// used when the client sets no max_tokens; formats is whether the
// deployment takes structured outputs' output_config.format.
func toAnthropic(body map[string]json.RawMessage, model string, defaultMaxTokens int, formats bool) (*anthropicRequest, *Error) {
	out := &anthropicRequest{Model: model, MaxTokens: defaultMaxTokens}
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	samp := samplingOf(model, body)
	for _, k := range keys {
		raw := body[k]
		if why, ok := unsupportedParams[k]; ok && !isDefault(k, raw) {
			return nil, badRequest("parameter %q is not supported by this model's Anthropic deployment: %s", k, why)
		}
		if why := samplingRefused(model, k, raw, samp); why != "" {
			return nil, badRequest("parameter %q is not supported by %s: %s", k, model, why)
		}
		var err error
		switch k {
		case "model", "messages", "tool_choice", "parallel_tool_calls":
			// handled below
		case "stream":
			err = json.Unmarshal(raw, &out.Stream)
		case "max_tokens", "max_completion_tokens":
			var n *int
			if err = json.Unmarshal(raw, &n); err == nil && n != nil {
				if *n < 1 {
					return nil, badRequest("%s must be at least 1", k)
				}
				out.MaxTokens = *n
			}
		case "temperature":
			if adaptiveOnly(model) {
				continue // its default, as samplingRefused let through
			}
			err = json.Unmarshal(raw, &out.Temperature)
			if err == nil && out.Temperature != nil && *out.Temperature > 1 {
				// OpenAI's range is 0-2, Anthropic's 0-1.
				return nil, badRequest("temperature %v is above Anthropic's maximum of 1", *out.Temperature)
			}
		case "top_p":
			if adaptiveOnly(model) {
				continue
			}
			err = json.Unmarshal(raw, &out.TopP)
			if err == nil && out.TopP != nil && *out.TopP == 1 && samp.both && config.ClaudeOf(model).OneSampler {
				out.TopP = nil // its default, beside temperature, which the model takes alone
			}
		case "stop":
			var one string
			if json.Unmarshal(raw, &one) == nil {
				if one != "" {
					out.StopSequences = []string{one}
				}
			} else {
				err = json.Unmarshal(raw, &out.StopSequences)
			}
		case "top_k":
			err = json.Unmarshal(raw, &out.TopK)
		case "user", "safety_identifier":
			// OpenAI's end user (safety_identifier is user's successor;
			// user, later in key order, wins when both are set).
			var u string
			if err = json.Unmarshal(raw, &u); err == nil && u != "" {
				out.Metadata = map[string]string{"user_id": u}
			}
		case "tools":
			out.Tools, err = translateTools(raw)
		case "response_format":
			err = jsonMode(raw, out, formats, samp.thinking)
		case "thinking":
			out.Thinking = raw
			if adaptiveOnly(model) {
				out.Thinking = adaptiveThinkingFor(raw)
			}
		case "reasoning_effort":
			var effort string
			if err = json.Unmarshal(raw, &effort); err == nil && out.Thinking == nil {
				if adaptiveOnly(model) {
					if e, ok := adaptiveEfforts[effort]; ok {
						out.Thinking = adaptiveThinking
						out.setOutput("effort", e)
					}
				} else if budget, ok := reasoningBudgets[effort]; ok {
					out.Thinking, _ = json.Marshal(map[string]any{"type": "enabled", "budget_tokens": budget})
				}
			}
		default:
			if _, ok := unsupportedParams[k]; ok || ignoredParams[k] {
				continue
			}
			return nil, badRequest("parameter %q is not supported by this model's Anthropic deployment", k)
		}
		if err != nil {
			if e, ok := err.(*Error); ok {
				return nil, e
			}
			return nil, badRequest("invalid %s: %v", k, err)
		}
	}
	if raw, ok := body["tool_choice"]; ok {
		tc, err := translateToolChoice(raw)
		if err != nil {
			return nil, err
		}
		out.ToolChoice = tc
	}
	if out.jsonMode {
		if len(body["tools"]) == 0 && out.ToolChoice == nil {
			out.ToolChoice = map[string]any{"type": "tool", "name": jsonTool}
		}
		if out.Thinking != nil && out.ToolChoice != nil && out.ToolChoice["type"] == "tool" {
			// Anthropic refuses a forced tool with thinking on.
			out.ToolChoice = map[string]any{"type": "auto"}
		}
	}
	if out.Thinking != nil && out.MaxTokens <= thinkingBudget(out.Thinking) {
		// Anthropic wants room to answer beyond the thinking budget.
		out.MaxTokens = thinkingBudget(out.Thinking) + defaultMaxTokens
	}
	if raw, ok := body["parallel_tool_calls"]; ok && strings.TrimSpace(string(raw)) == "false" {
		if out.ToolChoice == nil {
			out.ToolChoice = map[string]any{"type": "auto"}
		}
		if out.ToolChoice["type"] != "none" {
			out.ToolChoice["disable_parallel_tool_use"] = true
		}
	}
	var msgs []openAIMessage
	if err := json.Unmarshal(body["messages"], &msgs); err != nil {
		return nil, badRequest("invalid messages: %v", err)
	}
	if err := translateMessages(msgs, out); err != nil {
		return nil, err
	}
	if out.Thinking != nil && !thinkingLeadsToolUse(out.Messages) {
		// With thinking on, Anthropic wants the thinking that led to the
		// last tool call sent back before it; an OpenAI client keeps no
		// thinking_blocks. This step goes without thinking, as LiteLLM's
		// modify_params does, rather than fail.
		out.Thinking = nil
	}
	return out, nil
}

// thinkingLeadsToolUseIn reports whether a Messages request's body, read
// in place (a prompt can be megabytes), is as Claude wants it with budget
// thinking on: its thinking not a budget, or its last assistant message,
// if it calls a tool, starting with thinking. (Adaptive thinking, which
// may skip thinking before a call, does not want it.)
func thinkingLeadsToolUseIn(body []byte) bool {
	if !bytes.Contains(body, []byte(`"enabled"`)) || thinkingType(body) != `"enabled"` {
		return true
	}
	var last []byte // the last assistant message: only it decides
	EachField(body, func(k, v []byte) {
		if string(k) == "messages" {
			EachElement(v, func(m []byte) {
				EachField(m, func(k, v []byte) {
					if string(k) == "role" && string(v) == `"assistant"` {
						last = m
					}
				})
			})
		}
	})
	leads, calls, first := true, false, true
	EachField(last, func(k, v []byte) {
		if string(k) != "content" {
			return
		}
		EachElement(v, func(b []byte) {
			EachField(b, func(k, v []byte) {
				if string(k) != "type" {
					return
				}
				if first {
					leads, first = string(v) == `"thinking"` || string(v) == `"redacted_thinking"`, false
				}
				calls = calls || string(v) == `"tool_use"`
			})
		})
	})
	return leads || !calls
}

// thinkingType is a Messages request's thinking type, as JSON
// (`"enabled"`, `"adaptive"`, `"disabled"`); "" for none.
func thinkingType(body []byte) string {
	typ := ""
	EachField(body, func(k, v []byte) {
		if string(k) == "thinking" {
			EachField(v, func(k, v []byte) {
				if string(k) == "type" {
					typ = string(v)
				}
			})
		}
	})
	return typ
}

// withoutClearThinking returns a Messages request's body without its
// context_management's clear_thinking edits (Claude Code's) when its
// thinking is off, as it is when left out for the model or the step:
// Anthropic refuses them then ("`clear_thinking_20251015` strategy
// requires `thinking` to be enabled"). body as it is otherwise.
func withoutClearThinking(body []byte) []byte {
	if t := thinkingType(body); !bytes.Contains(body, []byte(`"clear_thinking_`)) || t == `"enabled"` || t == `"adaptive"` {
		return body
	}
	var fields, cm map[string]json.RawMessage
	var edits []json.RawMessage
	if json.Unmarshal(body, &fields) != nil || json.Unmarshal(fields["context_management"], &cm) != nil || json.Unmarshal(cm["edits"], &edits) != nil {
		return body
	}
	edits = slices.DeleteFunc(edits, func(e json.RawMessage) bool {
		var t struct{ Type string }
		return json.Unmarshal(e, &t) == nil && strings.HasPrefix(t.Type, "clear_thinking_")
	})
	cm["edits"], _ = json.Marshal(edits)
	if len(edits) == 0 {
		delete(cm, "edits")
	}
	fields["context_management"], _ = json.Marshal(cm)
	if len(cm) == 0 {
		delete(fields, "context_management")
	}
	out, err := json.Marshal(fields)
	if err != nil {
		return body
	}
	return out
}

// thinkingLeadsToolUse reports whether the last assistant turn that calls
// a tool starts with its thinking, as Anthropic wants with thinking on
// (true when no turn calls one).
func thinkingLeadsToolUse(msgs []anthropicMessage) bool {
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Role != "assistant" {
			continue
		}
		if !slices.ContainsFunc(m.Content, func(b anthropicBlock) bool { return b.Type == "tool_use" }) {
			return true
		}
		return m.Content[0].Type == "thinking" || m.Content[0].Type == "redacted_thinking"
	}
	return true
}

// setOutput sets an output_config member.
func (r *anthropicRequest) setOutput(key string, v any) {
	if r.OutputConfig == nil {
		r.OutputConfig = map[string]any{}
	}
	r.OutputConfig[key] = v
}

// jsonMode reads response_format: text changes nothing; json_object and
// json_schema add the forced jsonTool whose input schema is the schema
// asked for (any object for json_object). Where the deployment takes
// structured outputs (formats), a json_schema is output_config.format
// instead when thinking is on (Anthropic refuses a forced tool then) or
// the schema is strict (OpenAI's strict rules are Anthropic's for it).
func jsonMode(raw json.RawMessage, out *anthropicRequest, formats, thinking bool) error {
	var rf struct {
		Type       string `json:"type"`
		JSONSchema struct {
			Schema json.RawMessage `json:"schema"`
			Strict bool            `json:"strict"`
		} `json:"json_schema"`
	}
	if err := json.Unmarshal(raw, &rf); err != nil {
		return err
	}
	schema := json.RawMessage(`{"type":"object"}`)
	switch rf.Type {
	case "", "text":
		return nil
	case "json_object":
	case "json_schema":
		if len(rf.JSONSchema.Schema) > 0 && string(rf.JSONSchema.Schema) != "null" {
			schema = rf.JSONSchema.Schema
		}
	default:
		return badRequest("response_format type %q is not one of text, json_object, json_schema", rf.Type)
	}
	if rf.Type == "json_schema" && formats && (thinking || rf.JSONSchema.Strict) {
		out.setOutput("format", map[string]any{"type": "json_schema", "schema": schema})
		return nil
	}
	out.jsonMode = true
	out.Tools = append(out.Tools, anthropicTool{Name: jsonTool,
		Description: "Respond with a JSON object that follows this schema.", InputSchema: schema})
	return nil
}

// adaptiveThinkingFor is a client's thinking parameter as an adaptiveOnly
// model takes it: a budget (type enabled) becomes adaptive thinking, its
// budget left to the model; disabled becomes none, as the model refuses
// {type: disabled}; adaptive passes through.
func adaptiveThinkingFor(raw json.RawMessage) json.RawMessage {
	var t struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(raw, &t)
	switch t.Type {
	case "enabled":
		return adaptiveThinking
	case "disabled":
		return nil
	}
	return raw
}

// fitClaude returns a Messages request body with its thinking,
// output_config.effort and default sampling as model takes them, where
// the client wrote them for another Claude (a request for a newer one
// reaching an older one by fallback, or the reverse), which would refuse
// them with a 400: adaptive thinking becomes a budget by its effort (high
// when none, below max_tokens) where only budgets are known, a budget
// becomes adaptive where only that is, and thinking and effort are left
// out where the model has none; a temperature or top_p of 1 (their
// default) is left out where the model takes none, or top_p beside
// temperature. Other sampling the model refuses is Unsupported's. body
// comes back as it is when nothing changes, as for a model
// config.ClaudeOf does not know.
func fitClaude(model string, body []byte) ([]byte, error) {
	c := config.ClaudeOf(model)
	level := c.Thinking
	// The members that may need fitting for this model, looked for
	// before anything is read: most requests need none.
	var mayNeed []string
	switch level {
	case config.ThinkingUnknown:
	case config.ThinkingAdaptive: // takes any thinking and effort
		mayNeed = []string{`"top_p"`}
	case config.ThinkingAdaptiveOnly:
		mayNeed = []string{`"thinking"`, `"temperature"`, `"top_p"`}
	default:
		mayNeed = []string{`"thinking"`, `"effort"`, `"top_p"`}
	}
	if !slices.ContainsFunc(mayNeed, func(k string) bool { return bytes.Contains(body, []byte(k)) }) {
		return body, nil
	}
	var r struct {
		MaxTokens int
		Thinking  *struct {
			Type    string `json:"type"`
			Display string `json:"display"`
		}
		OutputConfig      map[string]json.RawMessage
		Temperature, TopP *float64
	}
	// The members it needs, read in place: a prompt can be megabytes.
	var err error
	read := func(v []byte, to any) {
		if e := json.Unmarshal(v, to); e != nil && err == nil {
			err = e
		}
	}
	if !EachField(body, func(k, v []byte) {
		switch string(k) {
		case "max_tokens":
			read(v, &r.MaxTokens)
		case "thinking":
			read(v, &r.Thinking)
		case "output_config":
			read(v, &r.OutputConfig)
		case "temperature":
			read(v, &r.Temperature)
		case "top_p":
			read(v, &r.TopP)
		}
	}) || err != nil {
		return nil, badRequest("the request body is not valid JSON: %v", cmp.Or(err, errors.New("not an object")))
	}
	var effort string
	_ = json.Unmarshal(r.OutputConfig["effort"], &effort)
	var thinking json.RawMessage // the thinking to send instead, if any
	dropThinking := false
	if t := r.Thinking; t != nil {
		switch {
		case level == config.ThinkingNone:
			dropThinking = true
		case level == config.ThinkingAdaptiveOnly && t.Type == "enabled":
			thinking, _ = json.Marshal(map[string]string{"type": "adaptive", "display": cmp.Or(t.Display, "summarized")})
		case level == config.ThinkingAdaptiveOnly && t.Type == "disabled":
			dropThinking = true
		case level == config.ThinkingBudget && t.Type == "adaptive":
			budget := min(reasoningBudgets[cmp.Or(effort, "high")], r.MaxTokens-1)
			dropThinking = budget < reasoningBudgets["low"]
			thinking, _ = json.Marshal(map[string]any{"type": "enabled", "budget_tokens": budget})
		}
	}
	dropEffort := effort != "" && (level == config.ThinkingNone || level == config.ThinkingBudget)
	one := func(v *float64) bool { return v != nil && *v == 1 }
	dropTemperature := level == config.ThinkingAdaptiveOnly && one(r.Temperature)
	dropTopP := one(r.TopP) && (level == config.ThinkingAdaptiveOnly || c.OneSampler && r.Temperature != nil)
	if !dropThinking && thinking == nil && !dropEffort && !dropTemperature && !dropTopP {
		return body, nil // the model takes them as they are
	}
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(body, &fields) // valid: read above
	switch {
	case dropThinking:
		delete(fields, "thinking")
	case thinking != nil:
		fields["thinking"] = thinking
	}
	if dropEffort {
		delete(r.OutputConfig, "effort")
		fields["output_config"], _ = json.Marshal(r.OutputConfig)
		if len(r.OutputConfig) == 0 {
			delete(fields, "output_config")
		}
	}
	if dropTemperature {
		delete(fields, "temperature")
	}
	if dropTopP {
		delete(fields, "top_p")
	}
	return json.Marshal(fields)
}

// thinkingBudget returns a thinking parameter's budget_tokens, or 0.
func thinkingBudget(raw json.RawMessage) int {
	var t struct {
		BudgetTokens int `json:"budget_tokens"`
	}
	_ = json.Unmarshal(raw, &t)
	return t.BudgetTokens
}

func translateTools(raw json.RawMessage) ([]anthropicTool, error) {
	var tools []struct {
		Type     string `json:"type"`
		Function struct {
			Name        string          `json:"name"`
			Description string          `json:"description"`
			Parameters  json.RawMessage `json:"parameters"`
		} `json:"function"`
		CacheControl json.RawMessage `json:"cache_control"` // LiteLLM's
	}
	if err := json.Unmarshal(raw, &tools); err != nil {
		return nil, err
	}
	out := make([]anthropicTool, 0, len(tools))
	for i, t := range tools {
		if t.Type != "function" {
			return nil, badRequest("tools[%d]: only function tools can be sent to Anthropic, got %q", i, t.Type)
		}
		schema := t.Function.Parameters
		if len(schema) == 0 || string(schema) == "null" {
			schema = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		out = append(out, anthropicTool{Name: t.Function.Name, Description: t.Function.Description, InputSchema: schema, CacheControl: t.CacheControl})
	}
	return out, nil
}

func translateToolChoice(raw json.RawMessage) (map[string]any, *Error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "auto":
			return map[string]any{"type": "auto"}, nil
		case "none":
			return map[string]any{"type": "none"}, nil
		case "required":
			return map[string]any{"type": "any"}, nil
		}
		return nil, badRequest("tool_choice %q is not one of auto, none, required", s)
	}
	var obj struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.Type != "function" || obj.Function.Name == "" {
		return nil, badRequest("tool_choice must be auto, none, required or {type: function, function: {name}}")
	}
	return map[string]any{"type": "tool", "name": obj.Function.Name}, nil
}

// translateMessages fills system and messages, merging consecutive
// same-role messages so that roles alternate as Anthropic requires.
func translateMessages(msgs []openAIMessage, out *anthropicRequest) *Error {
	for i, m := range msgs {
		var role string
		var blocks []anthropicBlock
		switch m.Role {
		case "system", "developer":
			sys, err := systemBlocks(i, m.Content)
			if err != nil {
				return err
			}
			cacheLast(sys, m.CacheControl)
			out.System = append(out.System, sys...)
			continue
		case "user":
			role = "user"
			var err *Error
			if blocks, err = contentBlocks(i, m.Content); err != nil {
				return err
			}
		case "assistant":
			role = "assistant"
			for j, b := range m.ThinkingBlocks {
				if b.Type != "thinking" && b.Type != "redacted_thinking" {
					return badRequest("messages[%d].thinking_blocks[%d]: type must be thinking or redacted_thinking, got %q", i, j, b.Type)
				}
				blocks = append(blocks, anthropicBlock{Type: b.Type, Thinking: b.Thinking, Signature: b.Signature, Data: b.Data})
			}
			if len(m.Content) > 0 && string(m.Content) != "null" {
				var err *Error
				content, err := contentBlocks(i, m.Content)
				if err != nil {
					return err
				}
				blocks = append(blocks, content...)
			}
			for j, tc := range m.ToolCalls {
				input := json.RawMessage(tc.Function.Arguments)
				if len(strings.TrimSpace(tc.Function.Arguments)) == 0 {
					input = json.RawMessage("{}")
				}
				if !json.Valid(input) {
					return badRequest("messages[%d].tool_calls[%d].function.arguments is not valid JSON", i, j)
				}
				blocks = append(blocks, anthropicBlock{Type: "tool_use", ID: tc.ID, Name: tc.Function.Name, Input: input})
			}
		case "tool":
			role = "user"
			text, err := textOf(m.Content)
			if err != nil {
				return badRequest("messages[%d]: %v", i, err)
			}
			if m.ToolCallID == "" {
				return badRequest("messages[%d]: a tool message needs tool_call_id", i)
			}
			blocks = []anthropicBlock{{Type: "tool_result", ToolUseID: m.ToolCallID,
				Content: []anthropicBlock{{Type: "text", Text: text}}}}
		default:
			return badRequest("messages[%d]: role %q cannot be sent to Anthropic", i, m.Role)
		}
		if len(blocks) == 0 {
			continue
		}
		cacheLast(blocks, m.CacheControl)
		if n := len(out.Messages); n > 0 && out.Messages[n-1].Role == role {
			out.Messages[n-1].Content = append(out.Messages[n-1].Content, blocks...)
			continue
		}
		out.Messages = append(out.Messages, anthropicMessage{Role: role, Content: blocks})
	}
	if len(out.Messages) == 0 {
		return badRequest("messages must contain at least one user or assistant message")
	}
	return nil
}

// cacheLast marks the last of blocks with a message's cache_control.
func cacheLast(blocks []anthropicBlock, cc json.RawMessage) {
	if len(cc) > 0 && string(cc) != "null" && len(blocks) > 0 {
		blocks[len(blocks)-1].CacheControl = cc
	}
}

// systemBlocks is a system message's text, as one block; text parts of
// which one has a cache_control stay blocks of their own, so that the
// cached prefix ends where the client said.
func systemBlocks(i int, raw json.RawMessage) ([]anthropicBlock, *Error) {
	type part struct {
		CacheControl json.RawMessage `json:"cache_control"`
	}
	var parts []part
	if json.Unmarshal(raw, &parts) == nil && slices.ContainsFunc(parts, func(p part) bool { return len(p.CacheControl) > 0 }) {
		return contentBlocks(i, raw)
	}
	text, err := textOf(raw)
	if err != nil {
		return nil, badRequest("messages[%d]: %v", i, err)
	}
	if text == "" {
		return nil, nil
	}
	return []anthropicBlock{{Type: "text", Text: text}}, nil
}

// textOf reads content that must be text: a string or text parts.
func textOf(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", fmt.Errorf("content must be a string or a list of parts")
	}
	var texts []string
	for _, p := range parts {
		if p.Type != "text" {
			return "", fmt.Errorf("only text parts are allowed here, got %q", p.Type)
		}
		texts = append(texts, p.Text)
	}
	return strings.Join(texts, "\n"), nil
}

// contentBlocks translates user or assistant content: a string, or parts
// of text and images (data: URLs become base64 sources).
func contentBlocks(i int, raw json.RawMessage) ([]anthropicBlock, *Error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil, nil
		}
		return []anthropicBlock{{Type: "text", Text: s}}, nil
	}
	var parts []struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		ImageURL struct {
			URL string `json:"url"`
		} `json:"image_url"`
		// File is a file part's: a PDF as a data URL, or an uploaded
		// file's ID, which Anthropic's API cannot read.
		File struct {
			FileData string `json:"file_data"`
			FileID   string `json:"file_id"`
			Filename string `json:"filename"`
		} `json:"file"`
		CacheControl json.RawMessage `json:"cache_control"` // LiteLLM's
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, badRequest("messages[%d].content must be a string or a list of parts", i)
	}
	var out []anthropicBlock
	for j, p := range parts {
		switch p.Type {
		case "text":
			if p.Text != "" {
				out = append(out, anthropicBlock{Type: "text", Text: p.Text, CacheControl: p.CacheControl})
			}
		case "image_url":
			src, err := imageFrom(p.ImageURL.URL)
			if err != nil {
				return nil, badRequest("messages[%d].content[%d]: %v", i, j, err)
			}
			out = append(out, anthropicBlock{Type: "image", Source: src, CacheControl: p.CacheControl})
		case "file":
			// A PDF as OpenAI's chat API takes one: Anthropic's document.
			// file_data is a data URL, or the bare base64 some clients send.
			src, err := imageFrom(p.File.FileData)
			if !strings.HasPrefix(p.File.FileData, "data:") && p.File.FileData != "" {
				src, err = &imageSource{Type: "base64", MediaType: "application/pdf", Data: p.File.FileData}, nil
			}
			if err != nil || src.Type != "base64" {
				return nil, badRequest("messages[%d].content[%d]: a file must be given as file_data (data:application/pdf;base64,...); an uploaded file's file_id cannot be sent to Anthropic", i, j)
			}
			if strings.HasPrefix(src.MediaType, "text/") {
				// Anthropic takes a text document as text, not base64.
				text, err := base64.StdEncoding.DecodeString(src.Data)
				if err != nil || !utf8.Valid(text) {
					return nil, badRequest("messages[%d].content[%d]: file_data of type %s is not base64 of UTF-8 text", i, j, src.MediaType)
				}
				src = &imageSource{Type: "text", MediaType: "text/plain", Data: string(text)}
			}
			out = append(out, anthropicBlock{Type: "document", Source: src, Title: p.File.Filename, CacheControl: p.CacheControl})
		default:
			return nil, badRequest("messages[%d].content[%d]: part type %q cannot be sent to Anthropic", i, j, p.Type)
		}
	}
	return out, nil
}

func imageFrom(url string) (*imageSource, error) {
	if rest, ok := strings.CutPrefix(url, "data:"); ok {
		meta, data, ok := strings.Cut(rest, ",")
		mediaType, isB64 := strings.CutSuffix(meta, ";base64")
		if !ok || !isB64 || mediaType == "" {
			return nil, fmt.Errorf("an image data URL must be data:<media type>;base64,<data>")
		}
		return &imageSource{Type: "base64", MediaType: mediaType, Data: data}, nil
	}
	if strings.HasPrefix(url, "https://") || strings.HasPrefix(url, "http://") {
		return &imageSource{Type: "url", URL: url}, nil
	}
	return nil, fmt.Errorf("image_url must be an http(s) URL or a base64 data URL")
}

// anthropicResponse is the Messages API's answer.
type anthropicResponse struct {
	ID         string           `json:"id"`
	Model      string           `json:"model"`
	Content    []anthropicBlock `json:"content"`
	StopReason string           `json:"stop_reason"`
	Usage      anthropicUsage   `json:"usage"`
}

// anthropicUsage is Anthropic's token count: input_tokens leaves out the
// prompt's cached prefix, read from the cache or written to it.
type anthropicUsage struct {
	InputTokens   int `json:"input_tokens"`
	OutputTokens  int `json:"output_tokens"`
	CacheRead     int `json:"cache_read_input_tokens"`
	CacheCreation int `json:"cache_creation_input_tokens"`
	// CacheCreationTTL splits CacheCreation by the cache's lifetime: the
	// 1-hour cache's writes cost more.
	CacheCreationTTL struct {
		Hour int `json:"ephemeral_1h_input_tokens"`
	} `json:"cache_creation"`
	// Speed is the speed that served the call ("fast" in fast mode,
	// "standard"), which is priced apart; kept raw, and read as one of
	// serviceTiers' constant strings (fastTier).
	Speed json.RawMessage `json:"speed"`
	// InferenceGeo is where inference ran: "us" for US-only inference
	// (inference_geo), which is priced apart.
	InferenceGeo json.RawMessage `json:"inference_geo"`
}

// merge takes a stream's message_delta usage u into the message_start's
// counts: its output, and the input's counts where it has them (Anthropic's
// has them now; a Converse stream's, renamed, only there).
func (c *anthropicUsage) merge(u anthropicUsage) {
	c.OutputTokens = u.OutputTokens
	c.InputTokens, c.CacheRead, c.CacheCreation = max(c.InputTokens, u.InputTokens), max(c.CacheRead, u.CacheRead), max(c.CacheCreation, u.CacheCreation)
	c.CacheCreationTTL.Hour = max(c.CacheCreationTTL.Hour, u.CacheCreationTTL.Hour)
	if u.Speed != nil {
		c.Speed = u.Speed
	}
	if u.InferenceGeo != nil {
		c.InferenceGeo = u.InferenceGeo
	}
}

// prompt is the whole prompt's count, its cached prefix included, as
// OpenAI's prompt_tokens counts it (and LiteLLM's).
func (u anthropicUsage) prompt() int { return u.InputTokens + u.CacheRead + u.CacheCreation }

// usage is the count as breakerd's Usage.
func (u anthropicUsage) usage() Usage {
	return Usage{InputTokens: u.prompt(), OutputTokens: u.OutputTokens, CacheReadTokens: u.CacheRead, CacheWriteTokens: u.CacheCreation,
		CacheWriteHourTokens: min(u.CacheCreationTTL.Hour, u.CacheCreation), ServiceTier: fastTier(u.Speed), USOnly: string(u.InferenceGeo) == `"us"`}
}

// fastTier is Usage.ServiceTier of a Claude call served at speed (its
// usage's speed): "fast" in fast mode (priced apart), else "".
func fastTier(speed []byte) string {
	if t := serviceTier(speed); t == "fast" {
		return t
	}
	return ""
}

// openAI is the count as OpenAI's usage, the tokens read from the cache
// in prompt_tokens_details.cached_tokens.
func (u anthropicUsage) openAI() map[string]any {
	out := map[string]any{"prompt_tokens": u.prompt(), "completion_tokens": u.OutputTokens, "total_tokens": u.prompt() + u.OutputTokens}
	if u.CacheRead > 0 || u.CacheCreation > 0 {
		out["prompt_tokens_details"] = map[string]int{"cached_tokens": u.CacheRead}
	}
	return out
}

// finishReason maps Anthropic's stop_reason to OpenAI's finish_reason.
func finishReason(stop string) string {
	switch stop {
	case "max_tokens":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "refusal":
		return "content_filter"
	}
	return "stop" // end_turn, stop_sequence, pause_turn
}

// fromAnthropic builds an OpenAI chat.completion. model is the
// deployment's model; created is the Unix time to report.
func fromAnthropic(r *anthropicResponse, model string, created int64, jsonMode bool) map[string]any {
	var text, reasoning strings.Builder
	var calls, thinking []map[string]any
	var answer json.RawMessage
	stop := r.StopReason
	for _, b := range r.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "thinking":
			reasoning.WriteString(b.Thinking)
			thinking = append(thinking, map[string]any{"type": b.Type, "thinking": b.Thinking, "signature": b.Signature})
		case "redacted_thinking":
			thinking = append(thinking, map[string]any{"type": b.Type, "data": b.Data})
		case "tool_use":
			if jsonMode && b.Name == jsonTool {
				// JSON mode: the forced tool's input is the answer, and
				// any text around it is not.
				answer = b.Input
				if stop == "tool_use" {
					stop = "end_turn"
				}
				continue
			}
			args := string(b.Input)
			if args == "" {
				args = "{}"
			}
			calls = append(calls, map[string]any{"id": b.ID, "type": "function",
				"function": map[string]any{"name": b.Name, "arguments": args}})
		}
	}
	if answer != nil {
		text.Reset()
		text.Write(answer)
	}
	msg := map[string]any{"role": "assistant", "content": nil, "refusal": nil}
	if text.Len() > 0 || len(calls) == 0 {
		msg["content"] = text.String()
	}
	if len(calls) > 0 {
		msg["tool_calls"] = calls
	}
	if len(thinking) > 0 {
		// LiteLLM's fields: the text for display, the blocks to send back.
		msg["reasoning_content"], msg["thinking_blocks"] = reasoning.String(), thinking
	}
	return map[string]any{
		"id": r.ID, "object": "chat.completion", "created": created, "model": model,
		"choices": []map[string]any{{"index": 0, "message": msg, "finish_reason": finishReason(stop), "logprobs": nil}},
		"usage":   r.Usage.openAI(),
	}
}

// markCachePoints marks the chat messages points name for Claude's prompt
// cache, as LiteLLM's cache_control_injection_points do: each gets the
// point's cache_control, unless the client gave it one.
func markCachePoints(fields map[string]json.RawMessage, points []config.CachePoint) {
	var msgs []map[string]json.RawMessage
	if json.Unmarshal(fields["messages"], &msgs) != nil {
		return // toAnthropic says what is wrong with them
	}
	for _, pt := range points {
		for i, m := range msgs {
			var role string
			_ = json.Unmarshal(m["role"], &role)
			at := pt.Index != nil && (i == *pt.Index || i == len(msgs)+*pt.Index)
			if _, set := m["cache_control"]; !set && (at || pt.Role != "" && role == pt.Role) {
				m["cache_control"] = json.RawMessage(pt.Control)
			}
		}
	}
	fields["messages"], _ = json.Marshal(msgs)
}
