package dialect

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/breakerd/breakerd/provider"
)

// ResponsesRequest is what the gateway reads of a Responses request to
// route it.
type ResponsesRequest struct {
	Model  string          `json:"model"`
	Stream bool            `json:"stream"`
	Input  json.RawMessage `json:"input"`
	// PreviousResponseID is the stored response the request continues.
	PreviousResponseID string `json:"previous_response_id"`
	// Conversation is the conversation the response joins: its id, or
	// {"id": ...}.
	Conversation json.RawMessage `json:"conversation"`
	// Store is the body's store, nil when unset (OpenAI's default is to
	// store the response).
	Store *bool `json:"store"`
}

// ConversationID is the id of the conversation r joins, "" for none.
func (r *ResponsesRequest) ConversationID() string {
	var id string
	if json.Unmarshal(r.Conversation, &id) == nil {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(r.Conversation, &obj)
	return obj.ID
}

// ParseResponses validates a Responses request enough to route it; a
// compaction's (compact) need not have input, which previous_response_id
// may give instead.
func ParseResponses(body []byte, compact bool) (*ResponsesRequest, *Error) {
	var r ResponsesRequest
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, badRequest("", "We could not parse the JSON body of your request: %v", err)
	}
	if r.Model == "" {
		return nil, badRequest("model", "Missing required parameter: 'model'.")
	}
	if !compact && (len(r.Input) == 0 || string(r.Input) == "null") {
		return nil, badRequest("input", "Missing required parameter: 'input'.")
	}
	return &r, nil
}

// ResponsesToChat translates a Responses request to a chat request:
// instructions, input as text or items (messages with text and image
// parts, function calls and their outputs), function tools, tool_choice,
// text.format (JSON mode), reasoning.effort, and the sampling parameters.
// Stateful features (previous_response_id, store, conversation,
// background, hosted tools, prompt templates, files) make it unfit for a
// translating deployment.
func ResponsesToChat(body []byte) (*Translated, *Error) {
	var r map[string]json.RawMessage
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, badRequest("", "We could not parse the JSON body of your request: %v", err)
	}
	out := &Translated{}
	chat := map[string]any{}
	var msgs []map[string]any
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(r[k], &s)
		return s
	}
	for k, v := range r {
		null := string(v) == "null"
		switch k {
		case "model":
			chat["model"] = str(k)
		case "instructions":
			if !null {
				msgs = append([]map[string]any{{"role": "system", "content": str(k)}}, msgs...)
			}
		case "input":
		case "stream":
			var b bool
			if json.Unmarshal(v, &b) == nil && b {
				chat["stream"] = true
				chat["stream_options"] = map[string]any{"include_usage": true}
			}
		case "max_output_tokens":
			if !null {
				chat["max_tokens"] = v
			}
		case "temperature", "top_p", "parallel_tool_calls", "user", "top_logprobs":
			if !null {
				chat[k] = v
			}
		case "store":
			if string(v) == "true" {
				out.Unfit = append(out.Unfit, "store")
			}
		case "background":
			if string(v) == "true" {
				out.Unfit = append(out.Unfit, "background")
			}
		case "previous_response_id", "conversation", "prompt":
			if !null {
				out.Unfit = append(out.Unfit, k)
			}
		case "reasoning":
			var re struct {
				Effort  string `json:"effort"`
				Summary string `json:"summary"`
			}
			if json.Unmarshal(v, &re) == nil && re.Effort != "" {
				chat["reasoning_effort"] = re.Effort
				out.Optional = append(out.Optional, "reasoning_effort")
			}
			// A summary asked for (Codex's "auto"): a thinking model's
			// reasoning is shown as one.
			out.Thinking = re.Summary != "" && re.Summary != "none"

		case "text":
			var t struct {
				Format *struct {
					Type   string          `json:"type"`
					Name   string          `json:"name"`
					Schema json.RawMessage `json:"schema"`
					Strict *bool           `json:"strict"`
				} `json:"format"`
			}
			if err := json.Unmarshal(v, &t); err != nil {
				return nil, badRequest("text", "Invalid 'text': %v", err)
			}
			if f := t.Format; f != nil {
				switch f.Type {
				case "json_schema":
					js := map[string]any{"name": f.Name, "schema": f.Schema}
					if f.Strict != nil {
						js["strict"] = *f.Strict
					}
					chat["response_format"] = map[string]any{"type": "json_schema", "json_schema": js}
				case "json_object":
					chat["response_format"] = map[string]any{"type": "json_object"}
				}
			}
		case "tools":
			var tools []struct {
				Type        string          `json:"type"`
				Name        string          `json:"name"`
				Description string          `json:"description"`
				Parameters  json.RawMessage `json:"parameters"`
				Strict      *bool           `json:"strict"`
				Format      *customFormat   `json:"format"`
				// AllowedCallers: "direct" (the model), "programmatic"
				// (Programmatic Tool Calling's code).
				AllowedCallers []string `json:"allowed_callers"`
			}
			if err := json.Unmarshal(v, &tools); err != nil {
				return nil, badRequest("tools", "Invalid 'tools': %v", err)
			}
			var ct []map[string]any
			for i, t := range tools {
				if programmatic(t.AllowedCallers) {
					out.Unfit = append(out.Unfit, fmt.Sprintf("tools[%d] (allowed_callers)", i))
					continue
				}
				if t.Type == "custom" {
					// Free-form input (Codex's apply_patch): a function of
					// one string, its format said in words.
					out.Custom = append(out.Custom, t.Name)
					ct = append(ct, map[string]any{"type": "function", "function": customFunction(t.Name, t.Description, t.Format)})
					continue
				}
				if t.Type != "function" {
					// Hosted tools (web_search, file_search, ...) and
					// any other kind: only OpenAI knows them.
					out.Unfit = append(out.Unfit, fmt.Sprintf("tools[%d] (%s)", i, t.Type))
					continue
				}
				fn := map[string]any{"name": t.Name}
				if len(t.Parameters) > 0 {
					fn["parameters"] = t.Parameters
				}
				if t.Description != "" {
					fn["description"] = t.Description
				}
				if t.Strict != nil {
					fn["strict"] = *t.Strict
				}
				ct = append(ct, map[string]any{"type": "function", "function": fn})
			}
			if len(ct) > 0 {
				chat["tools"] = ct
			}
		case "tool_choice":
			var s string
			if json.Unmarshal(v, &s) == nil {
				chat["tool_choice"] = s
				break
			}
			var tc struct {
				Type string `json:"type"`
				Name string `json:"name"`
			}
			if json.Unmarshal(v, &tc) != nil {
				return nil, badRequest("tool_choice", "Invalid 'tool_choice': must be a string or an object")
			}
			if tc.Type != "function" && tc.Type != "custom" { // a hosted or allowed_tools choice
				out.Unfit = append(out.Unfit, "tool_choice ("+tc.Type+")")
				break
			}
			chat["tool_choice"] = map[string]any{"type": "function", "function": map[string]any{"name": tc.Name}}
		case "include":
			var include []string
			_ = json.Unmarshal(v, &include)
			out.Encrypted = slices.Contains(include, "reasoning.encrypted_content")
		case "metadata", "service_tier", "truncation", "safety_identifier", "prompt_cache_key", "max_tool_calls",
			"prompt_cache_retention", "stream_options", "moderation", "context_management":
			// Nothing to translate.
		default:
			// A parameter newer than this translation.
			out.Unknown = append(out.Unknown, k)
		}
	}
	items, err := responseItems(r["input"])
	if err != nil {
		return nil, err
	}
	msgs = append(msgs, items.msgs...)
	out.Unfit = append(out.Unfit, items.unfit...)
	out.Reasoning = items.reasoning
	chat["messages"] = msgs
	b, jerr := json.Marshal(chat)
	if jerr != nil {
		return nil, badRequest("", "cannot translate the request: %v", jerr)
	}
	out.Chat = b
	return out, nil
}

type itemsOut struct {
	msgs  []map[string]any
	unfit []string
	// reasoning says an assistant message carries reasoning_content.
	reasoning bool
}

// responseItems translates Responses input (a string, or a list of
// items) to chat messages.
func responseItems(raw json.RawMessage) (*itemsOut, *Error) {
	out := &itemsOut{}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		out.msgs = append(out.msgs, map[string]any{"role": "user", "content": s})
		return out, nil
	}
	var items []struct {
		Type      string          `json:"type"`
		Role      string          `json:"role"`
		Content   json.RawMessage `json:"content"`
		CallID    string          `json:"call_id"`
		Name      string          `json:"name"`
		Arguments string          `json:"arguments"`
		Input     string          `json:"input"` // a custom tool call's
		Output    json.RawMessage `json:"output"`
		Summary   []struct {
			Text string `json:"text"`
		} `json:"summary"` // a reasoning item's
		EncryptedContent string `json:"encrypted_content"` // a reasoning item's
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, badRequest("input", "Invalid 'input': must be a string or a list of items")
	}
	// thought is the reasoning read since the last assistant message,
	// which the next one carries as its reasoning_content.
	var thought []string
	var blocks []json.RawMessage           // Claude's thinking blocks, the next assistant message's thinking_blocks
	extras := map[string]json.RawMessage{} // Gemini's thought signatures, by tool call id
	assistant := func(m map[string]any) map[string]any {
		if len(thought) > 0 {
			m["reasoning_content"] = strings.Join(thought, "\n\n")
			thought, out.reasoning = nil, true
		}
		if len(blocks) > 0 {
			m["thinking_blocks"] = blocks
			blocks, out.reasoning = nil, true
		}
		return m
	}
	for i, it := range items {
		p := fmt.Sprintf("input[%d]", i)
		switch it.Type {
		case "", "message":
			switch it.Role {
			case "user", "assistant", "system", "developer":
			default:
				return nil, badRequest(p+".role", "Invalid value for '%s.role': %q", p, it.Role)
			}
			role := it.Role
			if role == "developer" {
				role = "system"
			}
			content, unfit, err := responseContent(p, it.Content)
			if err != nil {
				return nil, err
			}
			out.unfit = append(out.unfit, unfit...)
			m := map[string]any{"role": role, "content": content}
			if role == "assistant" {
				m = assistant(m)
			}
			out.msgs = append(out.msgs, m)
		case "function_call", "custom_tool_call":
			args := it.Arguments
			if it.Type == "custom_tool_call" { // as its function's (customFunction)
				b, _ := json.Marshal(map[string]string{"input": it.Input})
				args = string(b)
			}
			call := map[string]any{"id": it.CallID, "type": "function",
				"function": map[string]any{"name": it.Name, "arguments": args}}
			if e, ok := extras[it.CallID]; ok {
				call["extra_content"], out.reasoning = e, true
			}
			// Consecutive calls are one assistant turn.
			if n := len(out.msgs); n > 0 && out.msgs[n-1]["role"] == "assistant" && out.msgs[n-1]["tool_calls"] != nil {
				out.msgs[n-1]["tool_calls"] = append(out.msgs[n-1]["tool_calls"].([]map[string]any), call)
			} else {
				out.msgs = append(out.msgs, assistant(map[string]any{"role": "assistant", "content": nil, "tool_calls": []map[string]any{call}}))
			}
		case "function_call_output", "custom_tool_call_output":
			var text string
			if json.Unmarshal(it.Output, &text) != nil {
				text = string(it.Output)
			}
			out.msgs = append(out.msgs, map[string]any{"role": "tool", "tool_call_id": it.CallID, "content": text})
		case "reasoning":
			// Its encrypted content only OpenAI reads; its summary (or a
			// thinking model's reasoning, as ChatToResponse gives it) is
			// the next assistant message's reasoning_content.
			for _, sm := range it.Summary {
				if sm.Text != "" {
					thought = append(thought, sm.Text)
				}
			}
			if k, ok := keptIn(it.EncryptedContent, provider.ThinkingContentPrefix); ok {
				blocks = append(blocks, k.Blocks...)
				maps.Copy(extras, k.Calls)
			}
		default:
			// Items only OpenAI can carry: references to stored items,
			// hosted and custom tool calls, compactions (the encrypted
			// conversation), and kinds newer than this translation.
			out.unfit = append(out.unfit, p+" ("+it.Type+")")
		}
	}
	return out, nil
}

// customFormat is a custom tool's input format: free text, or a grammar
// (Lark or a regex) its input must follow.
type customFormat struct {
	Type       string `json:"type"`
	Syntax     string `json:"syntax"`
	Definition string `json:"definition"`
}

// customFunction is the chat function a custom tool is sent as: one
// string parameter, input, with the grammar its input follows, if any,
// in words (a chat model cannot be held to it).
func customFunction(name, description string, format *customFormat) map[string]any {
	param := "The tool's input, as free-form text."
	if format != nil && format.Type == "grammar" && format.Definition != "" {
		param = fmt.Sprintf("The tool's input, as text that follows this %s grammar exactly:\n%s", cmp.Or(format.Syntax, "lark"), format.Definition)
	}
	fn := map[string]any{"name": name, "parameters": map[string]any{"type": "object", "required": []string{"input"},
		"properties": map[string]any{"input": map[string]any{"type": "string", "description": param}}}}
	if description != "" {
		fn["description"] = description
	}
	return fn
}

// customInput is a custom tool's input from its function call's
// arguments (customFunction's): input's string, else the arguments as
// they came.
func customInput(args string) string {
	var in struct {
		Input *string `json:"input"`
	}
	if json.Unmarshal([]byte(args), &in) == nil && in.Input != nil {
		return *in.Input
	}
	return args
}

// customItem is a Responses custom tool call item.
func customItem(id, callID, name, input, status string) map[string]any {
	return map[string]any{"type": "custom_tool_call", "id": id, "call_id": callID, "name": name, "input": input, "status": status}
}

// responseContent translates a message's content: a string, or a list of
// input_text, output_text, refusal, input_image and input_file parts.
func responseContent(p string, raw json.RawMessage) (any, []string, *Error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil, nil
	}
	var parts []struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		Refusal  string `json:"refusal"`
		ImageURL string `json:"image_url"`
		FileID   string `json:"file_id"`
		FileData string `json:"file_data"`
		Filename string `json:"filename"`
		Detail   string `json:"detail"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, nil, badRequest(p+".content", "Invalid '%s.content': must be a string or a list of parts", p)
	}
	var out []map[string]any
	var unfit []string
	for j, part := range parts {
		pp := fmt.Sprintf("%s.content[%d]", p, j)
		switch part.Type {
		case "input_text", "output_text", "text":
			out = append(out, map[string]any{"type": "text", "text": part.Text})
		case "refusal":
			out = append(out, map[string]any{"type": "text", "text": part.Refusal})
		case "input_image":
			if part.ImageURL == "" {
				unfit = append(unfit, pp+" (an image by file_id)")
				continue
			}
			img := map[string]any{"url": part.ImageURL}
			if part.Detail != "" {
				img["detail"] = part.Detail
			}
			out = append(out, map[string]any{"type": "image_url", "image_url": img})
		case "input_file":
			// Chat's file part takes a file's data or an uploaded file's
			// id (an OpenAI upstream's), not a URL.
			file := map[string]any{}
			switch {
			case part.FileData != "":
				file["file_data"], file["filename"] = part.FileData, cmp.Or(part.Filename, "document.pdf")
			case part.FileID != "":
				file["file_id"] = part.FileID
			default:
				unfit = append(unfit, pp+" (a file by URL)")
				continue
			}
			out = append(out, map[string]any{"type": "file", "file": file})
		default: // audio, and kinds newer than this translation
			unfit = append(unfit, pp+" ("+part.Type+")")
		}
	}
	return out, unfit, nil
}

// responseID gives a Responses-looking id for a chat answer's id.
func responseID(chatID string) string {
	return "resp_" + strings.TrimPrefix(strings.TrimPrefix(chatID, "chatcmpl-"), "msg_")
}

// responseObject is a Response with its output.
func responseObject(id, model string, created int64, status string, output []map[string]any, u chatUsage, incomplete string) map[string]any {
	in, out := u.PromptTokens, u.CompletionTokens
	r := map[string]any{"id": id, "object": "response", "created_at": created, "status": status, "model": model,
		"output": output, "error": nil, "incomplete_details": nil, "instructions": nil, "metadata": map[string]any{},
		"parallel_tool_calls": true, "temperature": nil, "top_p": nil, "tool_choice": "auto", "tools": []any{},
		"text": map[string]any{"format": map[string]any{"type": "text"}},
		"usage": map[string]any{"input_tokens": in, "output_tokens": out, "total_tokens": in + out,
			"input_tokens_details":  map[string]int{"cached_tokens": min(u.PromptTokensDetails.CachedTokens, in)},
			"output_tokens_details": map[string]int{"reasoning_tokens": min(u.CompletionTokensDetails.ReasoningTokens, out)}}}
	if incomplete != "" {
		r["incomplete_details"] = map[string]string{"reason": incomplete}
	}
	return r
}

func messageItem(id, text, status string) map[string]any {
	content := []map[string]any{}
	if status == "completed" || text != "" {
		content = append(content, map[string]any{"type": "output_text", "text": text, "annotations": []any{}})
	}
	return map[string]any{"type": "message", "id": id, "status": status, "role": "assistant", "content": content}
}

func functionItem(id, callID, name, args, status string) map[string]any {
	return map[string]any{"type": "function_call", "id": id, "call_id": callID, "name": name, "arguments": args, "status": status}
}

// finishStatus maps a chat finish_reason to a Response's status and
// incomplete reason.
func finishStatus(finish string) (string, string) {
	switch finish {
	case "length":
		return "incomplete", "max_output_tokens"
	case "content_filter":
		return "incomplete", "content_filter"
	}
	return "completed", ""
}

// reasoningItem is a reasoning item of a model's reasoning, made by
// breakerd (its id begins provider.ReasoningItemPrefix): text as its
// summary, where the client asked for one (tr.Thinking); what the model
// wants back (k) as its encrypted content, where the client asked for
// that (tr.Encrypted), so that it goes back to the model in the next
// turn.
func reasoningItem(id, text string, k *kept, tr *Translated) map[string]any {
	summary := []map[string]any{}
	if tr.Thinking && text != "" {
		summary = append(summary, map[string]any{"type": "summary_text", "text": text})
	}
	item := map[string]any{"type": "reasoning", "id": provider.ReasoningItemPrefix + strings.TrimPrefix(id, "resp_"), "summary": summary}
	if tr.Encrypted && !k.empty() {
		item["encrypted_content"] = k.encoded(provider.ThinkingContentPrefix)
	}
	return item
}

// shows reports whether an answer's reasoning (its text, what the model
// wants back) goes back to the client as a reasoning item.
func (tr *Translated) shows(text string, k *kept) bool {
	return tr.Thinking && text != "" || tr.Encrypted && !k.empty()
}

// ChatToResponse translates a chat.completion to a Response. model is the
// model the client asked for, tr the request's translation: the calls of
// its Custom tools are custom tool calls, and the answer's reasoning
// comes first as a reasoning item (reasoningItem).
func ChatToResponse(body []byte, model string, tr *Translated) ([]byte, error) {
	if tr == nil {
		tr = &Translated{}
	}
	custom := tr.Custom
	var c chatCompletion
	if err := json.Unmarshal(body, &c); err != nil || len(c.Choices) == 0 {
		return nil, fmt.Errorf("the upstream answer is not a chat completion")
	}
	ch := c.Choices[0]
	id := responseID(c.ID)
	var output []map[string]any
	k := &kept{Blocks: ch.Message.ThinkingBlocks}
	for _, tc := range ch.Message.ToolCalls {
		k.call(tc)
	}
	if r := ch.Message.text(); tr.shows(r, k) {
		output = append(output, reasoningItem(id, r, k, tr))
	}
	text := ""
	if t := ch.Message.Content; t != nil {
		text = *t
	}
	if text != "" || len(ch.Message.ToolCalls) == 0 {
		output = append(output, messageItem("msg_"+strings.TrimPrefix(id, "resp_"), text, "completed"))
	}
	for i, tc := range ch.Message.ToolCalls {
		if slices.Contains(custom, tc.Function.Name) {
			output = append(output, customItem(fmt.Sprintf("ctc_%s_%d", strings.TrimPrefix(id, "resp_"), i), tc.ID,
				tc.Function.Name, customInput(tc.Function.Arguments), "completed"))
			continue
		}
		output = append(output, functionItem(fmt.Sprintf("fc_%s_%d", strings.TrimPrefix(id, "resp_"), i), tc.ID,
			tc.Function.Name, tc.Function.Arguments, "completed"))
	}
	status, why := finishStatus(ch.FinishReason)
	created := c.Created
	if created == 0 {
		created = time.Now().Unix()
	}
	return json.Marshal(responseObject(id, model, created, status, output, c.Usage, why))
}

// ResponsesFrames turns a chat chunk stream into the Responses API's
// events: response.created and response.in_progress; for the text, an
// output_item.added, content_part.added, output_text.delta events and
// their .done events; for each function call, an output_item.added,
// function_call_arguments.delta events and their .done events; then
// response.completed (or response.incomplete) with the whole Response.
// Every event carries a sequence_number.
func ResponsesFrames(in provider.Stream, model string, tr *Translated) provider.Stream {
	if tr == nil {
		tr = &Translated{}
	}
	custom := tr.Custom
	f := &frames{in: in}
	seq := 0
	emit := func(typ string, v map[string]any) {
		v["type"], v["sequence_number"] = typ, seq
		seq++
		f.emit(typ, v)
	}
	var id, msgID string
	created := time.Now().Unix()
	started := false
	var text, thought strings.Builder
	textIndex := -1    // output index of the message item, -1 before it
	thoughtIndex := -1 // output index of the reasoning item, -1 before it
	thoughtOpen := false
	k := &kept{} // for the item's encrypted content
	var rsID string
	type call struct {
		index            int
		id, callID, name string
		args             strings.Builder
		custom           bool // a custom tool's: its input comes whole, at the end (customInput)
	}
	var calls []*call
	byChat := map[int]*call{}
	nextIndex := 0
	finish := "stop"
	var usage chatUsage
	closeText := func() {
		if textIndex < 0 {
			return
		}
		t := text.String()
		emit("response.output_text.done", map[string]any{"item_id": msgID, "output_index": textIndex, "content_index": 0, "text": t})
		emit("response.content_part.done", map[string]any{"item_id": msgID, "output_index": textIndex, "content_index": 0,
			"part": map[string]any{"type": "output_text", "text": t, "annotations": []any{}}})
		emit("response.output_item.done", map[string]any{"output_index": textIndex, "item": messageItem(msgID, t, "completed")})
	}
	closeThought := func() {
		if !thoughtOpen {
			return
		}
		thoughtOpen = false
		t := thought.String()
		if tr.Thinking {
			emit("response.reasoning_summary_text.done", map[string]any{"item_id": rsID, "output_index": thoughtIndex, "summary_index": 0, "text": t})
			emit("response.reasoning_summary_part.done", map[string]any{"item_id": rsID, "output_index": thoughtIndex, "summary_index": 0,
				"part": map[string]any{"type": "summary_text", "text": t}})
		}
		emit("response.output_item.done", map[string]any{"output_index": thoughtIndex, "item": reasoningItem(id, t, k, tr)})
	}
	f.chunk = func(c *chatChunk) {
		if !started {
			started = true
			id = responseID(c.ID)
			msgID = "msg_" + strings.TrimPrefix(id, "resp_")
			rsID = reasoningItem(id, "", &kept{}, tr)["id"].(string)
			emit("response.created", map[string]any{"response": responseObject(id, model, created, "in_progress", []map[string]any{}, chatUsage{}, "")})
			emit("response.in_progress", map[string]any{"response": responseObject(id, model, created, "in_progress", []map[string]any{}, chatUsage{}, "")})
		}
		if c.Usage != nil {
			usage = *c.Usage
		}
		for _, ch := range c.Choices {
			now := &kept{Blocks: ch.Delta.ThinkingBlocks}
			for _, tc := range ch.Delta.ToolCalls {
				now.call(tc)
			}
			if r := ch.Delta.text(); thoughtIndex < 0 && tr.shows(r, now) {
				thoughtIndex, nextIndex, thoughtOpen = nextIndex, nextIndex+1, true
				emit("response.output_item.added", map[string]any{"output_index": thoughtIndex, "item": reasoningItem(id, "", &kept{}, tr)})
				if tr.Thinking {
					emit("response.reasoning_summary_part.added", map[string]any{"item_id": rsID, "output_index": thoughtIndex, "summary_index": 0,
						"part": map[string]any{"type": "summary_text", "text": ""}})
				}
			}
			if r := ch.Delta.text(); thoughtOpen && tr.Thinking && r != "" {
				thought.WriteString(r)
				emit("response.reasoning_summary_text.delta", map[string]any{"item_id": rsID, "output_index": thoughtIndex, "summary_index": 0, "delta": r})
			}
			if thoughtOpen {
				k.Blocks = append(k.Blocks, now.Blocks...)
				for id, e := range now.Calls {
					k.call(chatToolCall{ID: id, ExtraContent: e})
				}
			}
			if ch.Delta.Content != nil && *ch.Delta.Content != "" || len(ch.Delta.ToolCalls) > 0 {
				closeThought() // the reasoning is over
			}
			if t := ch.Delta.Content; t != nil && *t != "" {
				if textIndex < 0 {
					textIndex, nextIndex = nextIndex, nextIndex+1
					emit("response.output_item.added", map[string]any{"output_index": textIndex, "item": messageItem(msgID, "", "in_progress")})
					emit("response.content_part.added", map[string]any{"item_id": msgID, "output_index": textIndex, "content_index": 0,
						"part": map[string]any{"type": "output_text", "text": "", "annotations": []any{}}})
				}
				text.WriteString(*t)
				emit("response.output_text.delta", map[string]any{"item_id": msgID, "output_index": textIndex, "content_index": 0, "delta": *t})
			}
			for _, tc := range ch.Delta.ToolCalls {
				cl, ok := byChat[tc.Index]
				if !ok {
					cl = &call{index: nextIndex, callID: tc.ID, name: tc.Function.Name, custom: slices.Contains(custom, tc.Function.Name),
						id: fmt.Sprintf("fc_%s_%d", strings.TrimPrefix(id, "resp_"), tc.Index)}
					nextIndex++
					byChat[tc.Index] = cl
					calls = append(calls, cl)
					item := functionItem(cl.id, cl.callID, cl.name, "", "in_progress")
					if cl.custom {
						cl.id = fmt.Sprintf("ctc_%s_%d", strings.TrimPrefix(id, "resp_"), tc.Index)
						item = customItem(cl.id, cl.callID, cl.name, "", "in_progress")
					}
					emit("response.output_item.added", map[string]any{"output_index": cl.index, "item": item})
				}
				if tc.Function.Arguments != "" {
					cl.args.WriteString(tc.Function.Arguments)
					if !cl.custom {
						emit("response.function_call_arguments.delta", map[string]any{"item_id": cl.id, "output_index": cl.index,
							"delta": tc.Function.Arguments})
					}
				}
			}
			if ch.FinishReason != nil && *ch.FinishReason != "" {
				finish = *ch.FinishReason
			}
		}
	}
	f.end = func() {
		if !started {
			return
		}
		closeThought()
		closeText()
		var output []map[string]any
		if thoughtIndex >= 0 {
			output = append(output, reasoningItem(id, thought.String(), k, tr))
		}
		if textIndex >= 0 {
			output = append(output, messageItem(msgID, text.String(), "completed"))
		}
		for _, cl := range calls {
			args := cl.args.String()
			if cl.custom {
				input := customInput(args)
				emit("response.custom_tool_call_input.delta", map[string]any{"item_id": cl.id, "output_index": cl.index, "delta": input})
				emit("response.custom_tool_call_input.done", map[string]any{"item_id": cl.id, "output_index": cl.index, "input": input})
				item := customItem(cl.id, cl.callID, cl.name, input, "completed")
				emit("response.output_item.done", map[string]any{"output_index": cl.index, "item": item})
				output = append(output, item)
				continue
			}
			emit("response.function_call_arguments.done", map[string]any{"item_id": cl.id, "output_index": cl.index, "arguments": args})
			item := functionItem(cl.id, cl.callID, cl.name, args, "completed")
			emit("response.output_item.done", map[string]any{"output_index": cl.index, "item": item})
			output = append(output, item)
		}
		status, why := finishStatus(finish)
		if output == nil {
			output = []map[string]any{}
		}
		typ := "response.completed"
		if status == "incomplete" {
			typ = "response.incomplete"
		}
		emit(typ, map[string]any{"response": responseObject(id, model, created, status, output, usage, why)})
	}
	return f
}
