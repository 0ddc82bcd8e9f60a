package mockllm

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/breakerd/breakerd/config"
)

// responses serves OpenAI's Responses API: input as text or items,
// instructions, function tools (a call when tool_choice requires one),
// and the event stream OpenAI sends, with the mock's faults.
func (s *Server) responses(w http.ResponseWriter, r *http.Request, f Faults) {
	if v := r.URL.Query().Get("api-version"); strings.HasPrefix(r.URL.Path, "/openai/responses") && v != "" && v < "2025-03-01" && v[0] >= '0' && v[0] <= '9' {
		// Azure's dated API, older than its Responses API.
		s.writeError(w, r, 400, "invalid_request_error", "Azure OpenAI Responses API is enabled only for api-version 2025-03-01-preview and later")
		return
	}
	var req struct {
		Model       string          `json:"model"`
		Input       json.RawMessage `json:"input"`
		Stream      bool            `json:"stream"`
		Store       *bool           `json:"store"`
		ServiceTier string          `json:"service_tier"`
		Background  bool            `json:"background"`
		Previous    string          `json:"previous_response_id"`
		Include     []string        `json:"include"`
		Reasoning   struct {
			Effort  string `json:"effort"`
			Summary string `json:"summary"`
		} `json:"reasoning"`
		Text struct {
			Verbosity string `json:"verbosity"`
		} `json:"text"`
		// Conversation is the conversation the response joins: an id, or
		// {"id": ...}.
		Conversation json.RawMessage `json:"conversation"`
		ToolChoice   json.RawMessage `json:"tool_choice"`
		Tools        []responsesTool `json:"tools"`
	}
	body, err := io.ReadAll(r.Body)
	var keys map[string]json.RawMessage
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err == nil {
		err = json.Unmarshal(body, &keys)
	}
	if err != nil {
		s.writeError(w, r, 400, "invalid_request_error", "invalid JSON: "+err.Error())
		return
	}
	var limit struct {
		MaxOutputTokens *int `json:"max_output_tokens"`
	}
	if json.Unmarshal(body, &limit) == nil && limit.MaxOutputTokens != nil && *limit.MaxOutputTokens < 16 {
		s.writeErrorCode(w, r, 400, "invalid_request_error", "integer_below_min_value",
			fmt.Sprintf("Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got %d instead.", *limit.MaxOutputTokens))
		return
	}
	for _, k := range chatKeys {
		if _, set := keys[k]; set {
			s.writeErrorCode(w, r, 400, "invalid_request_error", "unknown_parameter", fmt.Sprintf("Unknown parameter: '%s'.", k))
			return
		}
	}
	if req.Model == "" || len(req.Input) == 0 {
		s.writeError(w, r, 400, "invalid_request_error", "Missing required parameter: 'model' or 'input'.")
		return
	}
	if s.refuseMissing(w, r, f, req.Model) || s.refuseUnverifiedStream(w, r, f, req.Stream) {
		return
	}
	prompt, bad := responsesPrompt(req.Input)
	if bad != "" {
		s.writeError(w, r, 400, "invalid_request_error", bad)
		return
	}
	if e := req.Reasoning.Effort; e != "" {
		if msg := effortRefused(e, config.OpenAIModelParams(req.Model).Efforts, "reasoning.effort"); msg != "" {
			s.writeErrorCode(w, r, 400, "invalid_request_error", "unsupported_value", msg)
			return
		}
	}
	if v := req.Text.Verbosity; v != "" {
		if vs := config.OpenAIModelParams(req.Model).Verbosities; len(vs) > 0 && !slices.Contains(vs, v) {
			s.writeErrorCode(w, r, 400, "invalid_request_error", "unsupported_value",
				fmt.Sprintf("Unsupported value: '%s' is not supported with the '%s' model. Supported values are: '%s'.", v, req.Model, strings.Join(vs, "', '")))
			return
		}
	}
	if s.refuseUnreadable(w, r, req.Input) {
		return
	}
	conv := conversationID(req.Conversation)
	if conv != "" && !s.convs.add(conv, nil) {
		s.writeError(w, r, 404, "invalid_request_error", fmt.Sprintf("Conversation with id '%s' not found.", conv))
		return
	}
	for _, t := range req.Tools {
		if id, ok := s.vectorStoresKnown(t.VectorStoreIDs); !ok {
			s.writeError(w, r, 404, "invalid_request_error", fmt.Sprintf("Vector store with id '%s' not found.", id))
			return
		}
	}
	if req.Previous != "" && !s.stored.has(req.Previous) {
		s.writeErrorCode(w, r, 404, "invalid_request_error", "previous_response_not_found",
			fmt.Sprintf("Previous response with id '%s' not found.", req.Previous))
		return
	}
	if n := tokens(prompt); f.ContextTokens > 0 && n > f.ContextTokens {
		s.writeErrorCode(w, r, 400, "invalid_request_error", "context_length_exceeded",
			fmt.Sprintf("This model's maximum context length is %d tokens. However, your messages resulted in %d tokens.", f.ContextTokens, n))
		return
	}
	id := fmt.Sprintf("resp_mock_%d", s.ids.Add(1))
	created := s.now().Unix()
	text := s.reply(prompt)
	in, out := tokens(prompt), tokens(text)
	tool := ""
	var choice string
	if json.Unmarshal(req.ToolChoice, &choice) == nil && choice == "required" && len(req.Tools) > 0 {
		tool = req.Tools[0].Name
	}
	var named struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(req.ToolChoice, &named) == nil && named.Name != "" {
		tool = named.Name
	}
	msgID, callID := "msg_"+id, "call_"+id
	annotations := []any{}
	var ci map[string]any // the code interpreter's call, when the request has one
	for _, t := range req.Tools {
		if t.Type == "code_interpreter" {
			c, cite, msg := s.interpret(t.Container, text)
			if c == "" {
				s.writeError(w, r, 404, "invalid_request_error", msg)
				return
			}
			ci = map[string]any{"type": "code_interpreter_call", "id": "ci_" + id, "status": "completed", "container_id": c,
				"code": "open('/mnt/data/answer.txt', 'w').write(answer)", "outputs": nil}
			annotations = append(annotations, cite)
		}
	}
	item := map[string]any{"type": "message", "id": msgID, "status": "completed", "role": "assistant",
		"content": []map[string]any{{"type": "output_text", "text": text, "annotations": annotations}}}
	custom := slices.ContainsFunc(req.Tools, func(t responsesTool) bool { return t.Name == tool && t.Type == "custom" })
	switch {
	case custom: // free-form input (Codex's apply_patch)
		item = map[string]any{"type": "custom_tool_call", "id": "ctc_" + id, "call_id": callID, "name": tool,
			"input": "*** Begin Patch\n*** End Patch\n", "status": "completed"}
	case tool != "":
		item = map[string]any{"type": "function_call", "id": "fc_" + id, "call_id": callID, "name": tool,
			"arguments": `{"query":"mock"}`, "status": "completed"}
	}
	var reasoning map[string]any
	// An open-weight reasoning model (gpt-oss, as vLLM, Groq and others
	// serve its Responses API) shows its reasoning as it is, in the
	// reasoning item's content.
	raw := strings.Contains(req.Model, "gpt-oss")
	if encrypted := slices.Contains(req.Include, "reasoning.encrypted_content"); encrypted || raw {
		reasoning = map[string]any{"type": "reasoning", "id": "rs_" + id, "summary": []any{}}
		if encrypted {
			// As a reasoning model answers a client that keeps no state
			// at OpenAI: its reasoning, which only this "organization"
			// reads.
			reasoning["encrypted_content"] = s.encrypt(id)
		}
		if req.Reasoning.Summary != "" { // asked for, a summary of it
			reasoning["summary"] = []any{map[string]any{"type": "summary_text", "text": reasoningSummary}}
		}
		if raw {
			reasoning["content"] = []any{map[string]any{"type": "reasoning_text", "text": rawReasoning}}
		}
	}
	withReasoning := func(items ...any) []any {
		if ci != nil {
			items = append([]any{ci}, items...)
		}
		if reasoning != nil {
			return append([]any{reasoning}, items...)
		}
		return items
	}
	resp := func(status string, output []any) map[string]any {
		r := map[string]any{"id": id, "object": "response", "created_at": created, "status": status, "model": req.Model,
			"output": output, "error": nil, "incomplete_details": nil, "parallel_tool_calls": true, "tool_choice": "auto",
			"service_tier": servedTier(req.ServiceTier),
			"tools":        []any{}, "usage": map[string]any{"input_tokens": in, "output_tokens": out, "total_tokens": in + out}}
		if conv != "" {
			r["conversation"] = map[string]any{"id": conv}
		}
		return r
	}
	if conv != "" { // the turn joins the conversation
		s.convs.add(conv, append(inputItems(req.Input, id), item))
	}
	if req.Store == nil || *req.Store {
		s.stored.put(id, resp("completed", withReasoning(item)), inputItems(req.Input, id), req.Background)
	}
	if req.Background && !req.Stream {
		// Queued, as OpenAI answers a background request; done at once
		// here, which a GET on it shows.
		writeJSON(w, 200, resp("queued", []any{}))
		return
	}
	if !req.Stream {
		writeJSON(w, 200, resp("completed", withReasoning(item)))
		return
	}
	seq := 0
	numbered := func(n int, typ string, v map[string]any) any {
		v["type"], v["sequence_number"] = typ, n
		return namedEvent{typ, v}
	}
	ev := func(typ string, v map[string]any) any {
		seq++
		return numbered(seq-1, typ, v)
	}
	events := []any{ev("response.created", map[string]any{"response": resp("in_progress", []any{})}),
		ev("response.in_progress", map[string]any{"response": resp("in_progress", []any{})})}
	at := 0 // the output index of the answer's item
	if reasoning != nil {
		added := map[string]any{"type": "reasoning", "id": "rs_" + id, "summary": []any{}}
		if raw {
			added["content"] = []any{}
		}
		events = append(events, ev("response.output_item.added", map[string]any{"output_index": 0, "item": added}))
		// A part of the reasoning item streamed: its added event, a
		// delta a word, its text's done event and its own.
		part := func(added, delta, done, partDone, index, partType, text string) {
			at := map[string]any{"item_id": "rs_" + id, "output_index": 0, index: 0}
			with := func(kv ...any) map[string]any {
				m := maps.Clone(at)
				for i := 0; i < len(kv); i += 2 {
					m[kv[i].(string)] = kv[i+1]
				}
				return m
			}
			events = append(events, ev(added, with("part", map[string]any{"type": partType, "text": ""})))
			for _, d := range textDeltas(text, 0) {
				events = append(events, ev(delta, with("delta", d)))
			}
			events = append(events, ev(done, with("text", text)), ev(partDone, with("part", map[string]any{"type": partType, "text": text})))
		}
		if raw {
			part("response.content_part.added", "response.reasoning_text.delta", "response.reasoning_text.done", "response.content_part.done",
				"content_index", "reasoning_text", rawReasoning)
		}
		if req.Reasoning.Summary != "" {
			part("response.reasoning_summary_part.added", "response.reasoning_summary_text.delta", "response.reasoning_summary_text.done",
				"response.reasoning_summary_part.done", "summary_index", "summary_text", reasoningSummary)
		}
		events = append(events, ev("response.output_item.done", map[string]any{"output_index": 0, "item": reasoning}))
		at = 1
	}
	if ci != nil {
		events = append(events, ev("response.output_item.added", map[string]any{"output_index": at, "item": ci}),
			ev("response.output_item.done", map[string]any{"output_index": at, "item": ci}))
		at++
	}
	if custom {
		added := maps.Clone(item)
		added["input"], added["status"] = "", "in_progress"
		events = append(events, ev("response.output_item.added", map[string]any{"output_index": at, "item": added}))
		for _, part := range []string{"*** Begin Patch\n", "*** End Patch\n"} {
			events = append(events, ev("response.custom_tool_call_input.delta", map[string]any{"item_id": "ctc_" + id, "output_index": at, "delta": part}))
		}
		events = append(events, ev("response.custom_tool_call_input.done", map[string]any{"item_id": "ctc_" + id, "output_index": at, "input": item["input"]}))
	} else if tool != "" {
		added := map[string]any{}
		for k, v := range item {
			added[k] = v
		}
		added["arguments"], added["status"] = "", "in_progress"
		events = append(events, ev("response.output_item.added", map[string]any{"output_index": at, "item": added}))
		for _, part := range []string{`{"query"`, `:"mock"}`} {
			events = append(events, ev("response.function_call_arguments.delta", map[string]any{"item_id": "fc_" + id, "output_index": at, "delta": part}))
		}
		events = append(events, ev("response.function_call_arguments.done", map[string]any{"item_id": "fc_" + id, "output_index": at, "arguments": `{"query":"mock"}`}))
	} else {
		events = append(events,
			ev("response.output_item.added", map[string]any{"output_index": at, "item": map[string]any{"type": "message", "id": msgID,
				"status": "in_progress", "role": "assistant", "content": []any{}}}),
			ev("response.content_part.added", map[string]any{"item_id": msgID, "output_index": at, "content_index": 0,
				"part": map[string]any{"type": "output_text", "text": "", "annotations": []any{}}}))
		for _, wd := range textDeltas(text, f.DeltaWords) {
			n := seq // numbered now, made when sent
			seq++
			events = append(events, lazy(func() any {
				return numbered(n, "response.output_text.delta", map[string]any{"item_id": msgID, "output_index": at, "content_index": 0, "delta": wd})
			}))
		}
		events = append(events,
			ev("response.output_text.done", map[string]any{"item_id": msgID, "output_index": at, "content_index": 0, "text": text}),
			ev("response.content_part.done", map[string]any{"item_id": msgID, "output_index": at, "content_index": 0,
				"part": map[string]any{"type": "output_text", "text": text, "annotations": []any{}}}))
	}
	events = append(events, ev("response.output_item.done", map[string]any{"output_index": at, "item": item}),
		ev("response.completed", map[string]any{"response": resp("completed", withReasoning(item))}))
	s.streamEvents(newSSE(w), r, f, events, func() {})
}

// responsesTool is what the mock reads of a Responses request's tool.
type responsesTool struct {
	Type string `json:"type"`
	Name string `json:"name"`
	// VectorStoreIDs are file_search's stores.
	VectorStoreIDs []string `json:"vector_store_ids"`
	// Container is code_interpreter's: a container's id, or
	// {"type": "auto", "file_ids": [...]} for a new one.
	Container json.RawMessage `json:"container"`
}

// chatKeys are chat completions parameters the Responses API does not
// know, as a chat request sent there unchanged has them.
var chatKeys = []string{"messages", "max_tokens", "max_completion_tokens", "response_format", "reasoning_effort", "stop", "n", "seed",
	"frequency_penalty", "presence_penalty", "logit_bias", "stream_options", "functions", "function_call"}

// inputItemTypes are the kinds of input item OpenAI's Responses API takes
// besides messages.
var inputItemTypes = map[string]bool{"function_call": true, "function_call_output": true, "reasoning": true, "compaction": true,
	"custom_tool_call": true, "custom_tool_call_output": true, "item_reference": true, "file_search_call": true, "web_search_call": true,
	"computer_call": true, "computer_call_output": true, "code_interpreter_call": true, "image_generation_call": true,
	"local_shell_call": true, "local_shell_call_output": true, "shell_call": true, "shell_call_output": true,
	"apply_patch_call": true, "apply_patch_call_output": true, "mcp_call": true, "mcp_list_tools": true,
	"mcp_approval_request": true, "mcp_approval_response": true, "tool_search_call": true, "tool_search_output": true}

// responsesPrompt returns the text of the last user input, or what is
// wrong with the input.
func responsesPrompt(raw json.RawMessage) (string, string) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, ""
	}
	var items []struct {
		Type    string          `json:"type"`
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(raw, &items) != nil {
		return "", "Invalid 'input': expected a string or a list of items."
	}
	prompt := ""
	for i, it := range items {
		switch it.Type {
		case "", "message":
			if it.Role == "user" {
				prompt = contentText(it.Content)
			}
		default:
			if inputItemTypes[it.Type] {
				continue
			}
			return "", fmt.Sprintf("Invalid value for 'input[%d].type': %q.", i, it.Type)
		}
	}
	return prompt, ""
}

// completions serves the legacy /v1/completions: a text completion of the
// prompt, streamed as OpenAI streams it.
func (s *Server) completions(w http.ResponseWriter, r *http.Request, f Faults) {
	var req struct {
		Model  string          `json:"model"`
		Prompt json.RawMessage `json:"prompt"`
		Stream bool            `json:"stream"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model == "" || len(req.Prompt) == 0 {
		s.writeError(w, r, 400, "invalid_request_error", "model and prompt are required")
		return
	}
	var prompt string
	if json.Unmarshal(req.Prompt, &prompt) != nil {
		var ps []string
		_ = json.Unmarshal(req.Prompt, &ps)
		prompt = strings.Join(ps, " ")
	}
	id := fmt.Sprintf("cmpl-mock-%d", s.ids.Add(1))
	text := s.reply(prompt)
	in, out := tokens(prompt), tokens(text)
	obj := func(t string, finish any) map[string]any {
		return map[string]any{"id": id, "object": "text_completion", "created": s.now().Unix(), "model": req.Model,
			"choices": []map[string]any{{"index": 0, "text": t, "logprobs": nil, "finish_reason": finish}}}
	}
	if !req.Stream {
		o := obj(text, "stop")
		o["usage"] = map[string]int{"prompt_tokens": in, "completion_tokens": out, "total_tokens": in + out}
		writeJSON(w, 200, o)
		return
	}
	var events []any
	for _, wd := range strings.SplitAfter(text, " ") {
		events = append(events, lazy(func() any { return obj(wd, nil) }))
	}
	events = append(events, obj("", "stop"))
	sw := newSSE(w)
	s.streamEvents(sw, r, f, events, func() { sw.data("[DONE]") })
}

// reasoningSummary is the mock's reasoning summary: a client that asks
// for one (reasoning.summary) gets it, streamed a word a delta.
const reasoningSummary = "Thinking about the request."

// rawReasoning is the reasoning an open-weight reasoning model (gpt-oss)
// shows as it is, streamed a word a delta.
const rawReasoning = "The user wants an answer, so I give one."

// encrypt returns the mock's "encrypted" reasoning for response id: only
// a mock of the same name reads it, as only the organization whose
// deployment made it reads OpenAI's.
func (s *Server) encrypt(id string) string {
	return base64.StdEncoding.EncodeToString([]byte("mockllm:" + s.opts.Name + ":" + id))
}

// unreadable says what of a Responses input's reasoning (or compaction)
// OpenAI would refuse: an item encrypted by another (msg, a 400's
// message), or a reasoning item without its encrypted content that was
// never stored (unknown, its id: OpenAI looks it up, and answers 404).
func (s *Server) unreadable(raw json.RawMessage) (msg, unknown string) {
	var items []struct {
		Type             string `json:"type"`
		ID               string `json:"id"`
		EncryptedContent string `json:"encrypted_content"`
	}
	if json.Unmarshal(raw, &items) != nil {
		return "", ""
	}
	for _, it := range items {
		if it.EncryptedContent == "" {
			if it.Type == "reasoning" && !s.stored.has(strings.TrimPrefix(it.ID, "rs_")) {
				return "", it.ID
			}
			continue
		}
		plain, err := base64.StdEncoding.DecodeString(it.EncryptedContent)
		if err != nil || !strings.HasPrefix(string(plain), "mockllm:"+s.opts.Name+":") {
			return fmt.Sprintf("The encrypted content for item %s could not be verified.", it.ID), ""
		}
	}
	return "", ""
}

// refuseUnreadable writes OpenAI's error for an input unreadable finds,
// and reports whether it did.
func (s *Server) refuseUnreadable(w http.ResponseWriter, r *http.Request, input json.RawMessage) bool {
	msg, id := s.unreadable(input)
	switch {
	case msg != "":
		s.writeErrorCode(w, r, 400, "invalid_request_error", "invalid_encrypted_content", msg)
	case id != "":
		s.writeError(w, r, 404, "invalid_request_error", fmt.Sprintf("Item with id '%s' not found. Items are not persisted when `store` is set to false. "+
			"Try again with `store` set to true, or remove this item from your input.", id))
	default:
		return false
	}
	return true
}

// compact serves /v1/responses/compact: the conversation (input, after
// the stored response previous_response_id names) as its user messages
// and one encrypted compaction item that only this mock reads back.
func (s *Server) compact(w http.ResponseWriter, r *http.Request, _ Faults) {
	var req struct {
		Model    string          `json:"model"`
		Input    json.RawMessage `json:"input"`
		Previous string          `json:"previous_response_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.writeError(w, r, 400, "invalid_request_error", "invalid JSON: "+err.Error())
		return
	}
	if req.Model == "" {
		s.writeError(w, r, 400, "invalid_request_error", "Missing required parameter: 'model'.")
		return
	}
	var items []any
	if req.Previous != "" {
		prev, ok := s.stored.get(req.Previous)
		if !ok {
			s.writeErrorCode(w, r, 404, "invalid_request_error", "previous_response_not_found",
				fmt.Sprintf("Previous response with id '%s' not found.", req.Previous))
			return
		}
		items = append(items, prev.input...)
	}
	if len(req.Input) > 0 && string(req.Input) != "null" {
		if _, msg := responsesPrompt(req.Input); msg != "" {
			s.writeError(w, r, 400, "invalid_request_error", msg)
			return
		}
		if s.refuseUnreadable(w, r, req.Input) {
			return
		}
		items = append(items, inputItems(req.Input, "")...)
	}
	id := fmt.Sprintf("cmp_mock_%d", s.ids.Add(1))
	var output []any
	in := 0
	for _, it := range items {
		m, _ := it.(map[string]any)
		if m["type"] == "message" && m["role"] == "user" {
			output = append(output, m)
			in += tokens(contentText(mustMarshal(m["content"])))
		}
	}
	output = append(output, map[string]any{"type": "compaction", "id": id, "encrypted_content": s.encrypt(id)})
	writeJSON(w, 200, map[string]any{"id": id, "object": "response.compaction", "created_at": s.now().Unix(), "output": output,
		"usage": map[string]any{"input_tokens": in, "output_tokens": 1, "total_tokens": in + 1}})
}

func mustMarshal(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// inputTokens serves /v1/responses/input_tokens: the input's and the
// instructions' tokens (words, to the mock).
func (s *Server) inputTokens(w http.ResponseWriter, r *http.Request, _ Faults) {
	var req struct {
		Input        json.RawMessage `json:"input"`
		Instructions string          `json:"instructions"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.writeError(w, r, 400, "invalid_request_error", "invalid JSON: "+err.Error())
		return
	}
	text := req.Instructions
	if len(req.Input) > 0 {
		prompt, msg := responsesPrompt(req.Input)
		if msg != "" {
			s.writeError(w, r, 400, "invalid_request_error", msg)
			return
		}
		text += " " + prompt
	}
	writeJSON(w, 200, map[string]any{"object": "response.input_tokens", "input_tokens": tokens(text)})
}
