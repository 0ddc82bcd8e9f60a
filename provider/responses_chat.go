package provider

import (
	"context"
	"encoding/json"
	"io"
	"strings"
)

// A model that serves OpenAI's Responses API only (config.ModelParams.
// ResponsesOnly: the codex and pro models, "This model is only supported
// in v1/responses and not in v1/chat/completions"), or a deployment
// LiteLLM's responses/ marker sends there, takes a chat request through
// that API: the request is translated to it (chatToResponses), and the
// answer, whole or streamed, back to chat (responseToChat,
// responsesChatStream), as LiteLLM's bridge does.

// chatToResponses translates a chat request body, fitted to the
// deployment, to a Responses API request. The chat parameters that API
// lacks are the deployment's refused ones (left out at their defaults,
// or the request passed over, before this); others it does not know are
// sent as they are, for the upstream to answer for.
func chatToResponses(body []byte) ([]byte, *Error) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, badRequest("invalid JSON body")
	}
	out := map[string]any{"store": false} // a chat completion is not stored unless asked, and then not as a response
	text := map[string]any{}
	for k, v := range in {
		switch k {
		case "messages":
			items, err := responsesInput(v)
			if err != nil {
				return nil, err
			}
			out["input"] = items
		case "tools":
			tools, err := responsesTools(v)
			if err != nil {
				return nil, err
			}
			out["tools"] = tools
		case "tool_choice":
			out[k] = responsesToolChoice(v)
		case "response_format":
			var f struct {
				Type       string                     `json:"type"`
				JSONSchema map[string]json.RawMessage `json:"json_schema"`
			}
			if json.Unmarshal(v, &f) != nil {
				return nil, badRequest("response_format must be an object")
			}
			switch f.Type {
			case "json_schema":
				format := map[string]any{"type": "json_schema"}
				for fk, fv := range f.JSONSchema {
					format[fk] = fv // name, description, schema, strict
				}
				text["format"] = format
			case "json_object":
				text["format"] = map[string]string{"type": "json_object"}
			}
		case "verbosity":
			text["verbosity"] = v
		case "max_tokens", "max_completion_tokens":
			var n int
			if json.Unmarshal(v, &n) == nil && n > 0 {
				// The Responses API's least ("Expected a value >= 16"):
				// a health check's 1 would be a 400.
				out["max_output_tokens"] = max(n, minOutputTokens)
			} else if string(v) != "null" {
				out["max_output_tokens"] = v // for the upstream to answer for
			}
		case "reasoning_effort":
			if string(v) != "null" {
				out["reasoning"] = map[string]json.RawMessage{"effort": v}
			}
		case "stream_options", "store", "n", "modalities":
			// Chat's own: usage always ends a Responses stream; one
			// answer; text.
		default:
			out[k] = v // model, temperature, top_p, stream, user, metadata, parallel_tool_calls, ...
		}
	}
	if len(text) > 0 {
		out["text"] = text
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, badRequest("encode request: %v", err)
	}
	return b, nil
}

// minOutputTokens is the least max_output_tokens the Responses API takes.
const minOutputTokens = 16

// chatMessage is a chat request's message, as far as the Responses API
// has its parts.
type chatMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCallID string          `json:"tool_call_id"`
	ToolCalls  []struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
		Custom struct {
			Name  string `json:"name"`
			Input string `json:"input"`
		} `json:"custom"`
	} `json:"tool_calls"`
}

// responsesInput translates chat messages to Responses input items: a
// message of each role (system and developer as they are), an
// assistant's tool calls as function_call (custom_tool_call) items, and
// a tool message as the output of the call it answers.
func responsesInput(raw json.RawMessage) ([]any, *Error) {
	var msgs []chatMessage
	if err := json.Unmarshal(raw, &msgs); err != nil {
		return nil, badRequest("messages must be an array of messages")
	}
	custom := map[string]bool{} // call ids of custom tools' calls
	items := make([]any, 0, len(msgs))
	for i, m := range msgs {
		switch m.Role {
		case "system", "developer", "user":
			content, err := responsesContent(i, m.Content)
			if err != nil {
				return nil, err
			}
			items = append(items, map[string]any{"role": m.Role, "content": content})
		case "assistant":
			t, err := textOf(m.Content)
			if err != nil {
				return nil, badRequest("messages[%d]: %v", i, err)
			}
			if t != "" {
				items = append(items, map[string]any{"role": "assistant", "content": t})
			}
			for _, c := range m.ToolCalls {
				if c.Type == "custom" {
					custom[c.ID] = true
					items = append(items, map[string]any{"type": "custom_tool_call", "call_id": c.ID, "name": c.Custom.Name, "input": c.Custom.Input})
					continue
				}
				items = append(items, map[string]any{"type": "function_call", "call_id": c.ID, "name": c.Function.Name, "arguments": c.Function.Arguments})
			}
		case "tool":
			kind := "function_call_output"
			if custom[m.ToolCallID] {
				kind = "custom_tool_call_output"
			}
			out, err := textOf(m.Content)
			if err != nil {
				return nil, badRequest("messages[%d]: %v", i, err)
			}
			items = append(items, map[string]any{"type": kind, "call_id": m.ToolCallID, "output": out})
		default:
			return nil, badRequest("messages[%d]: a %q message cannot be sent through the Responses API", i, m.Role)
		}
	}
	return items, nil
}

// responsesContent translates a message's content: a string as it is,
// parts as the Responses API's (text, images, files).
func responsesContent(i int, raw json.RawMessage) (any, *Error) {
	if len(raw) > 0 && raw[0] == '"' {
		return raw, nil // a string, as it came: not decoded to be encoded again
	}
	var parts []struct {
		Type     string          `json:"type"`
		Text     string          `json:"text"`
		ImageURL json.RawMessage `json:"image_url"`
		File     struct {
			FileID   string `json:"file_id"`
			FileData string `json:"file_data"`
			Filename string `json:"filename"`
		} `json:"file"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, badRequest("messages[%d].content must be a string or an array of parts", i)
	}
	out := make([]map[string]any, 0, len(parts))
	for j, p := range parts {
		switch p.Type {
		case "text":
			out = append(out, map[string]any{"type": "input_text", "text": p.Text})
		case "image_url":
			var img struct {
				URL    string `json:"url"`
				Detail string `json:"detail"`
			}
			if json.Unmarshal(p.ImageURL, &img) != nil {
				_ = json.Unmarshal(p.ImageURL, &img.URL) // the older string form
			}
			part := map[string]any{"type": "input_image", "image_url": img.URL, "detail": "auto"}
			if img.Detail != "" {
				part["detail"] = img.Detail
			}
			out = append(out, part)
		case "file":
			part := map[string]any{"type": "input_file"}
			for k, v := range map[string]string{"file_id": p.File.FileID, "file_data": p.File.FileData, "filename": p.File.Filename} {
				if v != "" {
					part[k] = v
				}
			}
			out = append(out, part)
		default:
			return nil, badRequest("messages[%d].content[%d]: a %q part cannot be sent through the Responses API", i, j, p.Type)
		}
	}
	return out, nil
}

// responsesTools translates chat tools: a function's fields lifted out
// of "function", strict false unless set (chat's default; the Responses
// API's is strict, which would hold the model to schemas written for
// chat), and a custom tool's out of "custom"; other tools as they are.
func responsesTools(raw json.RawMessage) ([]any, *Error) {
	var tools []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &tools); err != nil {
		return nil, badRequest("tools must be an array of tools")
	}
	out := make([]any, 0, len(tools))
	for _, t := range tools {
		var typ string
		_ = json.Unmarshal(t["type"], &typ)
		var inner map[string]json.RawMessage
		switch typ {
		case "function":
			if json.Unmarshal(t["function"], &inner) != nil || inner == nil {
				return nil, badRequest("a function tool needs its function")
			}
			tool := map[string]any{"type": "function", "strict": false, "parameters": json.RawMessage(`{"type":"object","properties":{}}`)}
			for k, v := range inner {
				if string(v) != "null" {
					tool[k] = v // name, description, parameters, strict
				}
			}
			out = append(out, tool)
		case "custom":
			if json.Unmarshal(t["custom"], &inner) != nil || inner == nil {
				return nil, badRequest("a custom tool needs its custom")
			}
			tool := map[string]any{"type": "custom"}
			for k, v := range inner {
				tool[k] = v // name, description, format
			}
			out = append(out, tool)
		default:
			out = append(out, t)
		}
	}
	return out, nil
}

// responsesToolChoice translates a chat tool_choice: a string as it is, a
// named function or custom tool with its name lifted out, allowed_tools'
// tools likewise.
func responsesToolChoice(raw json.RawMessage) any {
	var c struct {
		Type         string `json:"type"`
		Function     struct{ Name string }
		Custom       struct{ Name string }
		AllowedTools struct {
			Mode  string `json:"mode"`
			Tools []struct {
				Type     string `json:"type"`
				Function struct{ Name string }
				Custom   struct{ Name string }
			} `json:"tools"`
		} `json:"allowed_tools"`
	}
	if json.Unmarshal(raw, &c) != nil {
		return raw // a string
	}
	switch c.Type {
	case "function":
		return map[string]string{"type": "function", "name": c.Function.Name}
	case "custom":
		return map[string]string{"type": "custom", "name": c.Custom.Name}
	case "allowed_tools":
		tools := make([]map[string]string, 0, len(c.AllowedTools.Tools))
		for _, t := range c.AllowedTools.Tools {
			tools = append(tools, map[string]string{"type": t.Type, "name": t.Function.Name + t.Custom.Name})
		}
		return map[string]any{"type": "allowed_tools", "mode": c.AllowedTools.Mode, "tools": tools}
	}
	return raw
}

// responsesAnswer is the part of a Responses API response a chat answer
// is made of.
type responsesAnswer struct {
	ID                string `json:"id"`
	CreatedAt         int64  `json:"created_at"`
	Model             string `json:"model"`
	Status            string `json:"status"`
	IncompleteDetails *struct {
		Reason string `json:"reason"`
	} `json:"incomplete_details"`
	Output      []responsesItem `json:"output"`
	Usage       responsesUsage  `json:"usage"`
	ServiceTier json.RawMessage `json:"service_tier"`
	Error       *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// responsesItem is an output item: a message, a tool call, reasoning.
type responsesItem struct {
	Type    string `json:"type"`
	Content []struct {
		Type    string `json:"type"`
		Text    string `json:"text"`
		Refusal string `json:"refusal"`
	} `json:"content"`
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
	Input     string `json:"input"`
	Summary   []struct {
		Text string `json:"text"`
	} `json:"summary"`
}

// toolCall is the item's chat tool call, for a function or custom tool's
// call; nil for another item.
func (it responsesItem) toolCall() map[string]any {
	switch it.Type {
	case "function_call":
		return map[string]any{"id": it.CallID, "type": "function", "function": map[string]string{"name": it.Name, "arguments": it.Arguments}}
	case "custom_tool_call":
		return map[string]any{"id": it.CallID, "type": "custom", "custom": map[string]string{"name": it.Name, "input": it.Input}}
	}
	return nil
}

// chatFinish is the chat finish_reason of a response's end: its status
// and why it is incomplete, and whether it called tools.
func chatFinish(status, incomplete string, calls bool) string {
	switch {
	case status == "incomplete" && incomplete == "max_output_tokens":
		return "length"
	case status == "incomplete" && incomplete == "content_filter":
		return "content_filter"
	case calls:
		return "tool_calls"
	}
	return "stop"
}

// openAI is the usage as a chat answer's.
func (u responsesUsage) openAI() map[string]any {
	return map[string]any{"prompt_tokens": u.InputTokens, "completion_tokens": u.OutputTokens, "total_tokens": u.InputTokens + u.OutputTokens,
		"prompt_tokens_details":     map[string]int{"cached_tokens": u.InputTokensDetails.CachedTokens},
		"completion_tokens_details": map[string]int{"reasoning_tokens": u.OutputTokensDetails.ReasoningTokens}}
}

// responseToChat translates a whole Responses API response to a chat
// completion: its messages' text as the content (a refusal as refusal),
// its function and custom tools' calls as tool_calls, its reasoning's
// summary as reasoning_content.
func responseToChat(data []byte) ([]byte, Usage, *Error) {
	var r responsesAnswer
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, Usage{}, &Error{Status: 502, Err: err, Message: "upstream sent invalid JSON"}
	}
	var text, refusal, reasoning strings.Builder
	var calls []map[string]any
	for _, it := range r.Output {
		switch it.Type {
		case "message":
			for _, c := range it.Content {
				text.WriteString(c.Text)
				refusal.WriteString(c.Refusal)
			}
		case "reasoning":
			for _, s := range it.Summary {
				reasoning.WriteString(s.Text)
			}
		}
		if c := it.toolCall(); c != nil {
			calls = append(calls, c)
		}
	}
	msg := map[string]any{"role": "assistant", "content": nil, "refusal": nil}
	if text.Len() > 0 || len(calls) == 0 && refusal.Len() == 0 {
		msg["content"] = text.String()
	}
	if refusal.Len() > 0 {
		msg["refusal"] = refusal.String()
	}
	if reasoning.Len() > 0 {
		msg["reasoning_content"] = reasoning.String()
	}
	if len(calls) > 0 {
		msg["tool_calls"] = calls
	}
	incomplete := ""
	if r.IncompleteDetails != nil {
		incomplete = r.IncompleteDetails.Reason
	}
	out := map[string]any{"id": chatID(r.ID), "object": "chat.completion", "created": r.CreatedAt, "model": r.Model,
		"choices": []map[string]any{{"index": 0, "message": msg, "finish_reason": chatFinish(r.Status, incomplete, len(calls) > 0), "logprobs": nil}},
		"usage":   r.Usage.openAI()}
	u := r.Usage.usage()
	if u.ServiceTier = serviceTier(r.ServiceTier); u.ServiceTier != "" {
		out["service_tier"] = u.ServiceTier
	}
	b, _ := json.Marshal(out)
	return b, u, nil
}

// chatID is a chat completion's id for a response's.
func chatID(responseID string) string { return "chatcmpl-" + strings.TrimPrefix(responseID, "resp_") }

// chatChunks is a stream translated from another API's events to chat
// chunks: the chunks each event makes, queued, and the loop that reads
// the events (next).
type chatChunks struct {
	ctx          context.Context
	body         io.ReadCloser
	events       sseReader
	redact       func(string) string
	includeUsage bool

	id, model string
	created   int64
	usage     Usage
	pending   [][]byte
	done      bool
}

func newChatChunks(ctx context.Context, body io.ReadCloser, model string, includeUsage bool, created int64, redact func(string) string) chatChunks {
	return chatChunks{ctx: ctx, body: body, events: newSSEReader(body), redact: redact, model: model, created: created, includeUsage: includeUsage}
}

func (s *chatChunks) Usage() Usage { return s.usage }

func (s *chatChunks) Close() error { return s.body.Close() }

// translator queues the chunks of one upstream event.
type translator interface {
	translate(data []byte) error
}

// next returns the next chunk, reading events into t until one makes
// some; early says a stream that ends before its last event.
func (s *chatChunks) next(t translator, early string) ([]byte, error) {
	for {
		if len(s.pending) > 0 {
			c := s.pending[0]
			s.pending = s.pending[1:]
			return c, nil
		}
		if s.done {
			return nil, io.EOF
		}
		data, err := s.events.next()
		if err != nil {
			return nil, streamReadError(s.ctx, err, early, s.redact)
		}
		if err := t.translate(data); err != nil {
			return nil, err
		}
	}
}

// chunk queues a chunk of the answer's one choice, counting its text
// (Usage.Deltas) for a stream that ends before its usage.
func (s *chatChunks) chunk(delta map[string]any, finish any) {
	b, _ := json.Marshal(map[string]any{"id": s.id, "object": "chat.completion.chunk", "created": s.created, "model": s.model,
		"choices": []map[string]any{{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": nil}}})
	if n := deltaChars(b); n > 0 {
		s.usage.Deltas++
		s.usage.DeltaChars += n
	}
	s.pending = append(s.pending, b)
}

// usageChunk queues the chunk of the call's usage (in chat's names), when
// the client asked for it.
func (s *chatChunks) usageChunk(usage map[string]any) {
	if s.includeUsage {
		b, _ := json.Marshal(map[string]any{"id": s.id, "object": "chat.completion.chunk", "created": s.created, "model": s.model,
			"choices": []any{}, "usage": usage})
		s.pending = append(s.pending, b)
	}
}

// responsesChatStream turns a Responses API stream into chat chunks.
type responsesChatStream struct {
	chatChunks
	// tools maps an output item's index to its chat tool call's index;
	// streamed, the output items whose arguments (or input) came in deltas.
	tools    map[int]int
	streamed map[int]bool
}

func newResponsesChatStream(ctx context.Context, body io.ReadCloser, includeUsage bool, model string, redact func(string) string) *responsesChatStream {
	return &responsesChatStream{chatChunks: newChatChunks(ctx, body, model, includeUsage, 0, redact), tools: map[int]int{}, streamed: map[int]bool{}}
}

func (s *responsesChatStream) Next() ([]byte, error) {
	return s.next(s, "stream ended before response.completed")
}

func (s *responsesChatStream) translate(data []byte) error {
	var ev struct {
		Type        string          `json:"type"`
		Response    responsesAnswer `json:"response"`
		OutputIndex int             `json:"output_index"`
		Item        responsesItem   `json:"item"`
		Delta       string          `json:"delta"`
		Code        string          `json:"code"`
		Message     string          `json:"message"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return &Error{Err: err, Message: "upstream sent an invalid stream event"}
	}
	switch ev.Type {
	case "response.created":
		s.id, s.created = chatID(ev.Response.ID), ev.Response.CreatedAt
		if ev.Response.Model != "" {
			s.model = ev.Response.Model
		}
		s.chunk(map[string]any{"role": "assistant", "content": ""}, nil)
	case "response.output_item.added":
		if c := ev.Item.toolCall(); c != nil {
			i := len(s.tools)
			s.tools[ev.OutputIndex] = i
			c["index"] = i
			s.chunk(map[string]any{"tool_calls": []map[string]any{c}}, nil)
		}
	case "response.function_call_arguments.delta":
		s.streamed[ev.OutputIndex] = true
		s.chunk(map[string]any{"tool_calls": []map[string]any{{"index": s.tools[ev.OutputIndex], "function": map[string]string{"arguments": ev.Delta}}}}, nil)
	case "response.custom_tool_call_input.delta":
		s.streamed[ev.OutputIndex] = true
		s.chunk(map[string]any{"tool_calls": []map[string]any{{"index": s.tools[ev.OutputIndex], "custom": map[string]string{"input": ev.Delta}}}}, nil)
	case "response.output_item.done":
		// A server that sends a call's arguments whole, with no deltas:
		// they go as one.
		i, known := s.tools[ev.OutputIndex]
		switch {
		case !known || s.streamed[ev.OutputIndex]:
		case ev.Item.Type == "function_call" && ev.Item.Arguments != "":
			s.chunk(map[string]any{"tool_calls": []map[string]any{{"index": i, "function": map[string]string{"arguments": ev.Item.Arguments}}}}, nil)
		case ev.Item.Type == "custom_tool_call" && ev.Item.Input != "":
			s.chunk(map[string]any{"tool_calls": []map[string]any{{"index": i, "custom": map[string]string{"input": ev.Item.Input}}}}, nil)
		}
	case "response.output_text.delta":
		s.chunk(map[string]any{"content": ev.Delta}, nil)
	case "response.refusal.delta":
		s.chunk(map[string]any{"refusal": ev.Delta}, nil)
	case "response.reasoning_summary_text.delta":
		s.chunk(map[string]any{"reasoning_content": ev.Delta}, nil)
	case "response.completed", "response.incomplete":
		r := ev.Response
		incomplete := ""
		if r.IncompleteDetails != nil {
			incomplete = r.IncompleteDetails.Reason
		}
		s.usage = r.Usage.usage()
		s.usage.ServiceTier = serviceTier(r.ServiceTier)
		s.chunk(map[string]any{}, chatFinish(r.Status, incomplete, len(s.tools) > 0))
		s.usageChunk(r.Usage.openAI())
		s.done = true
	case "response.failed":
		code, msg := "server_error", "the response failed"
		if e := ev.Response.Error; e != nil {
			code, msg = e.Code, e.Message
		}
		return &Error{Status: 502, Type: "server_error", Code: code, Message: s.redact("upstream stream error: " + msg)}
	case "error":
		return &Error{Status: 502, Type: "server_error", Code: ev.Code, Message: s.redact("upstream stream error: " + ev.Message)}
	}
	// Other events (in_progress, content parts, the done events) carry
	// nothing a chat stream has.
	return nil
}
