package dialect

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/breakerd/breakerd/provider"
)

// MessagesRequest is what the gateway reads of an Anthropic Messages
// request to route it.
type MessagesRequest struct {
	Model     string `json:"model"`
	MaxTokens *int   `json:"max_tokens"`
	Stream    bool   `json:"stream"`
	Messages  []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
}

// ParseMessages validates an Anthropic Messages request enough to route
// it, as Anthropic would: model, max_tokens and non-empty messages.
func ParseMessages(body []byte) (*MessagesRequest, *Error) {
	var r MessagesRequest
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, badRequest("", "the request body is not valid JSON: %v", err)
	}
	switch {
	case r.Model == "":
		return nil, badRequest("model", "model: Field required")
	case r.MaxTokens == nil:
		return nil, badRequest("max_tokens", "max_tokens: Field required")
	case *r.MaxTokens < 1:
		return nil, badRequest("max_tokens", "max_tokens: must be at least 1")
	case len(r.Messages) == 0:
		return nil, badRequest("messages", "messages: at least one message is required")
	}
	return &r, nil
}

// anthropicBlock is a Messages content block, as read here.
type anthropicBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
	IsError   bool            `json:"is_error"`
	Title     string          `json:"title"`     // a document's
	Thinking  string          `json:"thinking"`  // a thinking block's
	Signature string          `json:"signature"` // a thinking block's
	Source    *struct {
		Type      string `json:"type"`
		MediaType string `json:"media_type"`
		Data      string `json:"data"`
		URL       string `json:"url"`
	} `json:"source"`
}

// blocks reads content that is a string or a list of blocks.
func blocks(raw json.RawMessage) ([]anthropicBlock, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []anthropicBlock{{Type: "text", Text: s}}, nil
	}
	var bs []anthropicBlock
	err := json.Unmarshal(raw, &bs)
	return bs, err
}

// MessagesToChat translates an Anthropic Messages request to a chat
// request: system, text and image blocks, tool use and tool results,
// tools and tool_choice, structured outputs' format, and the sampling
// parameters. Thinking and
// cache_control have no chat equivalent and are left out (the answer
// then has no thinking blocks); a PDF document is a file part, a text
// one text; server tools (web search, ...) and documents by URL make the
// request unfit for a translating deployment.
func MessagesToChat(body []byte) (*Translated, *Error) {
	var r struct {
		Model     string          `json:"model"`
		MaxTokens int             `json:"max_tokens"`
		System    json.RawMessage `json:"system"`
		Messages  []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		StopSequences []string          `json:"stop_sequences"`
		Temperature   *float64          `json:"temperature"`
		TopP          *float64          `json:"top_p"`
		Stream        bool              `json:"stream"`
		Tools         []json.RawMessage `json:"tools"`
		ToolChoice    *struct {
			Type                   string `json:"type"`
			Name                   string `json:"name"`
			DisableParallelToolUse bool   `json:"disable_parallel_tool_use"`
		} `json:"tool_choice"`
		Metadata *struct {
			UserID string `json:"user_id"`
		} `json:"metadata"`
		OutputConfig *struct {
			Format *outputFormat `json:"format"`
			Effort string        `json:"effort"`
		} `json:"output_config"`
		Thinking     *thinking     `json:"thinking"`
		OutputFormat *outputFormat `json:"output_format"` // the structured outputs beta's
		InferenceGeo string        `json:"inference_geo"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, badRequest("", "the request body is not valid JSON: %v", err)
	}
	out := &Translated{}
	provider.EachField(body, func(k, _ []byte) {
		if _, only := anthropicParams[string(k)]; only {
			out.Unfit = append(out.Unfit, string(k))
		} else if _, known := messagesParams[string(k)]; !known {
			out.Unknown = append(out.Unknown, string(k))
		}
	})
	if r.InferenceGeo == "us" {
		// US-only inference is a promise only Anthropic's API (or a US
		// endpoint of Claude's) makes.
		out.Unfit = append(out.Unfit, "inference_geo (us)")
	}
	chat := map[string]any{"model": r.Model, "max_tokens": r.MaxTokens}
	var msgs []map[string]any
	if len(r.System) > 0 && string(r.System) != "null" {
		bs, err := blocks(r.System)
		if err != nil {
			return nil, badRequest("system", "system: must be a string or a list of text blocks")
		}
		var text []string
		for _, b := range bs {
			if b.Type == "text" {
				text = append(text, b.Text)
			}
		}
		msgs = append(msgs, map[string]any{"role": "system", "content": strings.Join(text, "\n")})
	}
	for i, m := range r.Messages {
		path := fmt.Sprintf("messages[%d]", i)
		if m.Role != "user" && m.Role != "assistant" {
			return nil, badRequest(path+".role", "%s.role: must be user or assistant, got %q", path, m.Role)
		}
		bs, err := blocks(m.Content)
		if err != nil {
			return nil, badRequest(path+".content", "%s.content: must be a string or a list of content blocks", path)
		}
		var parts []map[string]any
		var calls []map[string]any
		var thoughts []string
		var extras map[string]json.RawMessage // Gemini's thought signatures, by tool call id
		for j, b := range bs {
			bp := fmt.Sprintf("%s.content[%d]", path, j)
			switch b.Type {
			case "text":
				parts = append(parts, map[string]any{"type": "text", "text": b.Text})
			case "image":
				if b.Source == nil {
					return nil, badRequest(bp, "%s: an image needs a source", bp)
				}
				u := b.Source.URL
				if b.Source.Type == "base64" {
					u = "data:" + b.Source.MediaType + ";base64," + b.Source.Data
				}
				parts = append(parts, map[string]any{"type": "image_url", "image_url": map[string]any{"url": u}})
			case "tool_use":
				args := string(b.Input)
				if args == "" || args == "null" {
					args = "{}"
				}
				call := map[string]any{"id": b.ID, "type": "function", "function": map[string]any{"name": b.Name, "arguments": args}}
				if e, ok := extras[b.ID]; ok {
					call["extra_content"], out.Reasoning = e, true
				}
				calls = append(calls, call)
			case "tool_result":
				// A tool result is its own chat message, before the rest
				// of the user's turn.
				text := ""
				if len(b.Content) > 0 {
					rbs, err := blocks(b.Content)
					if err != nil {
						return nil, badRequest(bp+".content", "%s.content: must be a string or a list of blocks", bp)
					}
					var ts []string
					for _, rb := range rbs {
						if rb.Type == "text" {
							ts = append(ts, rb.Text)
						}
					}
					text = strings.Join(ts, "\n")
				}
				if b.IsError {
					text = "Error: " + text
				}
				msgs = append(msgs, map[string]any{"role": "tool", "tool_call_id": b.ToolUseID, "content": text})
			case "document":
				// A PDF's data is chat's file part; a text document, text.
				// One by URL chat cannot take.
				switch src := b.Source; {
				case src != nil && src.Type == "base64" && src.MediaType == "application/pdf":
					parts = append(parts, map[string]any{"type": "file", "file": map[string]any{"filename": cmp.Or(b.Title, "document.pdf"),
						"file_data": "data:application/pdf;base64," + src.Data}})
				case src != nil && src.Type == "text":
					parts = append(parts, map[string]any{"type": "text", "text": strings.TrimSpace(b.Title + "\n\n" + src.Data)})
				default:
					out.Unfit = append(out.Unfit, bp+" (a document by URL or file)")
				}
			case "thinking":
				// Chat's is the assistant's reasoning_content, which a
				// thinking model (DeepSeek's) wants back in a tool loop;
				// one breakerd signed may keep what a model wants back
				// with its tool calls (Gemini's thought signatures).
				if b.Thinking != "" {
					thoughts = append(thoughts, b.Thinking)
				}
				if k, ok := keptIn(b.Signature, provider.ReasoningSignature+":"); ok && len(k.Calls) > 0 {
					extras = k.Calls
				}
			case "redacted_thinking":
				// Only Claude reads it: left out.
			default:
				// Server tools' blocks, and kinds newer than this
				// translation: only Anthropic knows them.
				out.Unfit = append(out.Unfit, bp+" ("+b.Type+" block)")
			}
		}
		if m.Role == "assistant" {
			msg := map[string]any{"role": "assistant"}
			text := joinText(parts)
			msg["content"] = text
			if len(thoughts) > 0 {
				msg["reasoning_content"] = strings.Join(thoughts, "\n\n")
				out.Reasoning = true
			}
			if len(calls) > 0 {
				msg["tool_calls"] = calls
				if text == "" {
					msg["content"] = nil
				}
			}
			msgs = append(msgs, msg)
			continue
		}
		if len(parts) > 0 {
			msgs = append(msgs, map[string]any{"role": "user", "content": parts})
		}
	}
	chat["messages"] = msgs
	if len(r.StopSequences) > 0 {
		chat["stop"] = r.StopSequences
	}
	if r.Temperature != nil {
		chat["temperature"] = *r.Temperature
	}
	if r.TopP != nil {
		chat["top_p"] = *r.TopP
	}
	if r.Stream {
		chat["stream"] = true
		chat["stream_options"] = map[string]any{"include_usage": true}
	}
	if r.Metadata != nil && r.Metadata.UserID != "" {
		chat["user"] = r.Metadata.UserID
	}
	var tools []map[string]any
	for i, raw := range r.Tools {
		var t struct {
			Type           string          `json:"type"`
			Name           string          `json:"name"`
			Description    string          `json:"description"`
			InputSchema    json.RawMessage `json:"input_schema"`
			AllowedCallers []string        `json:"allowed_callers"`
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, badRequest(fmt.Sprintf("tools[%d]", i), "tools[%d]: invalid tool", i)
		}
		if t.Type != "" && t.Type != "custom" {
			out.Unfit = append(out.Unfit, fmt.Sprintf("tools[%d] (%s)", i, t.Type))
			continue
		}
		if programmatic(t.AllowedCallers) {
			out.Unfit = append(out.Unfit, fmt.Sprintf("tools[%d] (allowed_callers)", i))
			continue
		}
		fn := map[string]any{"name": t.Name, "parameters": t.InputSchema}
		if t.Description != "" {
			fn["description"] = t.Description
		}
		tools = append(tools, map[string]any{"type": "function", "function": fn})
	}
	if len(tools) > 0 {
		chat["tools"] = tools
	}
	if tc := r.ToolChoice; tc != nil {
		switch tc.Type {
		case "auto":
			chat["tool_choice"] = "auto"
		case "any":
			chat["tool_choice"] = "required"
		case "none":
			chat["tool_choice"] = "none"
		case "tool":
			chat["tool_choice"] = map[string]any{"type": "function", "function": map[string]any{"name": tc.Name}}
		default:
			out.Unfit = append(out.Unfit, "tool_choice ("+tc.Type+")")
		}
		if tc.DisableParallelToolUse && len(tools) > 0 {
			chat["parallel_tool_calls"] = false
		}
	}
	format, at := r.OutputFormat, "output_format"
	if r.OutputConfig != nil && r.OutputConfig.Format != nil {
		format, at = r.OutputConfig.Format, "output_config.format"
	}
	if format != nil {
		if format.Type != "json_schema" {
			out.Unfit = append(out.Unfit, at+" ("+format.Type+")")
		} else {
			// Structured outputs: OpenAI's json_schema, not strict, which
			// holds a schema to rules Anthropic's does not.
			chat["response_format"] = map[string]any{"type": "json_schema",
				"json_schema": map[string]any{"name": "output", "schema": format.Schema}}
		}
	}
	effort := ""
	if r.OutputConfig != nil {
		effort = r.OutputConfig.Effort
	}
	if t := r.Thinking; t != nil && (t.Type == "enabled" || t.Type == "adaptive") && t.Display != "omitted" {
		out.Thinking = true
	}
	if e := reasoningEffort(r.Thinking, effort); e != "" {
		chat["reasoning_effort"] = e
		out.Optional = append(out.Optional, "reasoning_effort")
	}
	b, err := json.Marshal(chat)
	if err != nil {
		return nil, badRequest("", "cannot translate the request: %v", err)
	}
	out.Chat = b
	return out, nil
}

// programmatic reports whether a tool's allowed_callers leave the model
// out (only code the model writes may call it: Anthropic's and OpenAI's
// programmatic tool calling). A chat model would be offered it to call
// directly, which its caller forbade: only the API itself honours it.
func programmatic(callers []string) bool {
	return len(callers) > 0 && !slices.Contains(callers, "direct")
}

// messagesParams are the Messages request's parameters the translation
// knows: those it translates, and those a chat deployment may go without
// (why, for the reader): the answer is the same, or as good.
var messagesParams = map[string]string{
	"model": "", "max_tokens": "", "system": "", "messages": "", "stop_sequences": "", "temperature": "", "top_p": "",
	"stream": "", "tools": "", "tool_choice": "", "metadata": "", "output_config": "", "thinking": "", "output_format": "",
	"inference_geo":      "",
	"top_k":              "a sampling parameter chat has none of (LiteLLM leaves it out too)",
	"service_tier":       "Anthropic's priority capacity",
	"speed":              "fast mode: the same answer, at standard speed",
	"fallbacks":          "Anthropic's server-side fallback: this is one",
	"context_management": "server-side clearing of old tool results and thinking, which a chat model's window does without",
	"cache_control":      "prompt caching, which changes what a call costs, not its answer",
}

// anthropicParams are the Messages request's parameters only Anthropic
// honours (why, for the reader): a chat deployment would answer as if
// they were not there, which drop_params does not make right.
var anthropicParams = map[string]string{
	"mcp_servers": "the MCP connector: Anthropic calls the servers' tools",
	"container":   "code execution's container, which keeps its files",
}

// reasoningEffort is the reasoning_effort of a Messages request's
// thinking: adaptive thinking's effort (xhigh and max as high, the most
// OpenAI's models all take), or a budget's, on LiteLLM's scale the other
// way (low 1,024 tokens, medium 2,048, high 4,096); "" for no thinking,
// or adaptive thinking at the model's default effort.
func reasoningEffort(t *thinking, effort string) string {
	switch {
	case t == nil:
		return ""
	case t.Type == "adaptive":
		switch effort {
		case "low", "medium", "high":
			return effort
		case "xhigh", "max":
			return "high"
		}
	case t.Type == "enabled" && t.BudgetTokens < 2048:
		return "low"
	case t.Type == "enabled" && t.BudgetTokens < 4096:
		return "medium"
	case t.Type == "enabled":
		return "high"
	}
	return ""
}

// thinking is a Messages request's thinking parameter.
type thinking struct {
	Type         string `json:"type"`
	BudgetTokens int    `json:"budget_tokens"`
	// Display is "omitted" where the client wants no thinking text.
	Display string `json:"display"`
}

// outputFormat is a Messages request's structured output format.
type outputFormat struct {
	Type   string          `json:"type"`
	Schema json.RawMessage `json:"schema"`
}

// joinText joins the text parts of a message.
func joinText(parts []map[string]any) string {
	var b strings.Builder
	for _, p := range parts {
		if t, ok := p["text"].(string); ok {
			b.WriteString(t)
		}
	}
	return b.String()
}

// stopReason maps a chat finish_reason to Anthropic's stop_reason.
func stopReason(finish string) string {
	switch finish {
	case "length":
		return "max_tokens"
	case "tool_calls", "function_call":
		return "tool_use"
	case "content_filter":
		return "refusal"
	}
	return "end_turn"
}

// messageID gives an Anthropic-looking id for a chat answer's id.
func messageID(chatID string) string {
	if strings.HasPrefix(chatID, "msg_") {
		return chatID
	}
	return "msg_" + strings.TrimPrefix(chatID, "chatcmpl-")
}

// ChatToMessage translates a chat.completion to an Anthropic message.
// model is the model the client asked for, tr the request's translation:
// with its Thinking, the answer's reasoning comes first as a thinking
// block (signed provider.ReasoningSignature), else it is left out.
func ChatToMessage(body []byte, model string, tr *Translated) ([]byte, error) {
	thinking := tr != nil && tr.Thinking
	var c chatCompletion
	if err := json.Unmarshal(body, &c); err != nil || len(c.Choices) == 0 {
		return nil, fmt.Errorf("the upstream answer is not a chat completion")
	}
	ch := c.Choices[0]
	content := []map[string]any{}
	k := &kept{}
	for _, tc := range ch.Message.ToolCalls {
		k.call(tc)
	}
	if r := ch.Message.text(); thinking && (r != "" || !k.empty()) {
		content = append(content, map[string]any{"type": "thinking", "thinking": r, "signature": k.signature()})
	}
	if t := ch.Message.Content; t != nil && *t != "" {
		content = append(content, map[string]any{"type": "text", "text": *t})
	} else if r := ch.Message.Refusal; r != nil && *r != "" {
		content = append(content, map[string]any{"type": "text", "text": *r})
	}
	for _, tc := range ch.Message.ToolCalls {
		input := json.RawMessage(tc.Function.Arguments)
		if !json.Valid(input) {
			input = json.RawMessage("{}")
		}
		content = append(content, map[string]any{"type": "tool_use", "id": tc.ID, "name": tc.Function.Name, "input": input})
	}
	return json.Marshal(map[string]any{"id": messageID(c.ID), "type": "message", "role": "assistant", "model": model,
		"content": content, "stop_reason": stopReason(ch.FinishReason), "stop_sequence": nil,
		"usage": c.Usage.anthropic()})
}

// signature is the signature of a thinking block breakerd makes: what k
// keeps, after provider.ReasoningSignature, where it keeps anything.
func (k *kept) signature() string {
	if k.empty() {
		return provider.ReasoningSignature
	}
	return k.encoded(provider.ReasoningSignature + ":")
}

// MessagesFrames turns a chat chunk stream into Anthropic's event
// sequence: message_start (its input tokens prompt, the request's
// estimate: a chat stream says its usage only at its end, and clients
// such as Claude Code show the context's size from it), then for each reasoning run (with thinking,
// as ChatToMessage's), text run or tool call a content_block_start, its
// deltas and content_block_stop, then message_delta (stop reason; output
// tokens, and input tokens once the chat stream's usage has said) and
// message_stop.
func MessagesFrames(in provider.Stream, model string, tr *Translated, prompt int) provider.Stream {
	f := &frames{in: in}
	thinking := tr != nil && tr.Thinking
	started := false
	block := -1            // index of the open block, -1 when none
	kind := ""             // the open block's type
	next := 0              // the next block's index
	tools := map[int]int{} // chat tool index -> block index
	stop := "end_turn"
	var usage map[string]int // message_delta's: the output's count, and the input's once known
	k := &kept{}             // what the open thinking block's signature keeps
	closeBlock := func() {
		if block < 0 {
			return
		}
		if kind == "thinking" {
			f.emit("content_block_delta", map[string]any{"type": "content_block_delta", "index": block,
				"delta": map[string]any{"type": "signature_delta", "signature": k.signature()}})
			k = &kept{}
		}
		f.emit("content_block_stop", map[string]any{"type": "content_block_stop", "index": block})
		block, kind = -1, ""
	}
	open := func(typ string, start map[string]any) {
		closeBlock()
		block, kind, next = next, typ, next+1
		f.emit("content_block_start", map[string]any{"type": "content_block_start", "index": block, "content_block": start})
	}
	f.chunk = func(c *chatChunk) {
		if !started {
			started = true
			f.emit("message_start", map[string]any{"type": "message_start", "message": map[string]any{
				"id": messageID(c.ID), "type": "message", "role": "assistant", "model": model, "content": []any{},
				"stop_reason": nil, "stop_sequence": nil,
				"usage": map[string]int{"input_tokens": prompt, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 0}}})
		}
		if c.Usage != nil {
			// The input's count is known only now, at the end: Anthropic's
			// message_delta carries it too, and SDKs take it from there.
			usage = c.Usage.anthropic()
		}
		for _, ch := range c.Choices {
			if r := ch.Delta.text(); thinking && r != "" {
				if kind != "thinking" {
					open("thinking", map[string]any{"type": "thinking", "thinking": "", "signature": ""})
				}
				f.emit("content_block_delta", map[string]any{"type": "content_block_delta", "index": block,
					"delta": map[string]any{"type": "thinking_delta", "thinking": r}})
			}
			if thinking {
				// A tool call's thought signature (Gemini's) goes in the
				// signature of the thinking block before it.
				for _, tc := range ch.Delta.ToolCalls {
					if _, seen := tools[tc.Index]; seen || len(tc.ExtraContent) == 0 || string(tc.ExtraContent) == "null" {
						continue
					}
					if kind != "thinking" {
						open("thinking", map[string]any{"type": "thinking", "thinking": "", "signature": ""})
					}
					k.call(tc)
				}
			}
			if t := ch.Delta.Content; t != nil && *t != "" {
				if kind != "text" {
					open("text", map[string]any{"type": "text", "text": ""})
				}
				f.emit("content_block_delta", map[string]any{"type": "content_block_delta", "index": block,
					"delta": map[string]any{"type": "text_delta", "text": *t}})
			}
			for _, tc := range ch.Delta.ToolCalls {
				bi, ok := tools[tc.Index]
				if !ok {
					open("tool_use", map[string]any{"type": "tool_use", "id": tc.ID, "name": tc.Function.Name, "input": map[string]any{}})
					bi = block
					tools[tc.Index] = bi
				}
				if tc.Function.Arguments != "" {
					f.emit("content_block_delta", map[string]any{"type": "content_block_delta", "index": bi,
						"delta": map[string]any{"type": "input_json_delta", "partial_json": tc.Function.Arguments}})
				}
			}
			if ch.FinishReason != nil && *ch.FinishReason != "" {
				stop = stopReason(*ch.FinishReason)
			}
		}
	}
	f.end = func() {
		if !started {
			return
		}
		closeBlock()
		if usage == nil {
			usage = map[string]int{"output_tokens": 0}
		}
		f.emit("message_delta", map[string]any{"type": "message_delta",
			"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil}, "usage": usage})
		f.emit("message_stop", map[string]any{"type": "message_stop"})
	}
	return f
}
