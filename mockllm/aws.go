package mockllm

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/eventstream"
)

// bedrockInvoke serves Amazon Bedrock: any model's Converse API
// (converse), and Claude's InvokeModel (POST
// /model/{model}/invoke, /model/{model}/invoke-with-response-stream, and
// /model/{model}/count-tokens): Anthropic's Messages with the model in the
// path, anthropic_version (bedrock-2023-05-31) in the body and no model
// or stream there. A stream answers in AWS's binary event stream, each
// event a chunk whose bytes are Anthropic's event; errors are Bedrock's
// ({"message"}, the type in x-amzn-ErrorType). Calls must carry a
// Signature Version 4 Authorization for service bedrock, or a Bedrock API
// key; the mock does not check the signature itself.
func (s *Server) bedrockInvoke(w http.ResponseWriter, r *http.Request, f Faults) {
	model, method := r.PathValue("model"), r.PathValue("method")
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "Bearer ") && (!strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=") ||
		!strings.Contains(auth, "/bedrock/aws4_request") || r.Header.Get("X-Amz-Date") == "") {
		s.writeError(w, r, http.StatusForbidden, "invalid_request_error", "Missing Authentication Token")
		return
	}
	data, _ := io.ReadAll(r.Body)
	if config.BedrockProfileOnly(model) {
		// Bedrock's refusal of a model it serves through inference
		// profiles alone, called by its model ID.
		s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("Invocation of model ID %s with on-demand throughput isn’t supported. "+
			"Retry your request with the ID or ARN of an inference profile that contains this model.", model))
		return
	}
	if method == "converse" || method == "converse-stream" {
		s.converse(w, r, f, data, method == "converse-stream")
		return
	}
	if method == "invoke" && strings.Contains(model, "embed") {
		s.bedrockEmbed(w, r, model, data)
		return
	}
	if method == "count-tokens" {
		var wrapped struct {
			Input struct {
				InvokeModel struct {
					Body string `json:"body"`
				} `json:"invokeModel"`
			} `json:"input"`
		}
		if json.Unmarshal(data, &wrapped) != nil || wrapped.Input.InvokeModel.Body == "" {
			if s.converseCount(w, r, data) {
				return
			}
			s.writeError(w, r, 400, "invalid_request_error", "input.invokeModel.body is required")
			return
		}
		data = []byte(wrapped.Input.InvokeModel.Body)
	}
	var body map[string]json.RawMessage
	if json.Unmarshal(data, &body) != nil {
		s.writeError(w, r, 400, "invalid_request_error", "Malformed input request, please reformat your input and try again.")
		return
	}
	var version string
	_ = json.Unmarshal(body["anthropic_version"], &version)
	switch {
	case method != "invoke" && method != "invoke-with-response-stream" && method != "count-tokens":
		s.writeError(w, r, 404, "not_found_error", "unknown operation "+method)
		return
	case version != "bedrock-2023-05-31":
		s.writeError(w, r, 400, "invalid_request_error", "anthropic_version: bedrock-2023-05-31 is required in the body")
		return
	case body["model"] != nil || body["stream"] != nil || body["fallbacks"] != nil:
		s.writeError(w, r, 400, "invalid_request_error", "Malformed input request: extraneous key [model, stream or fallbacks] is not permitted")
		return
	}
	var betas []string
	_ = json.Unmarshal(body["anthropic_beta"], &betas)
	if len(foreignBetas(betas)) > 0 {
		s.writeError(w, r, 400, "invalid_request_error", "invalid beta flag")
		return
	}
	var msgs messagesRequest
	_ = json.Unmarshal(data, &msgs)
	if why := sourcesAsData(msgs); why != "" {
		s.writeError(w, r, 400, "invalid_request_error", why)
		return
	}
	if method == "invoke" && r.Header.Get("X-Amzn-Bedrock-Guardrailidentifier") != "" && blocked(lastUserText(msgs.Messages), f.BlockedWords) {
		// The guardrail's blocked message, in place of the model's answer.
		writeJSON(w, 200, map[string]any{"id": fmt.Sprintf("msg_mock_%d", s.ids.Add(1)), "type": "message", "role": "assistant", "model": model,
			"content": []map[string]string{{"type": "text", "text": guardrailBlocked}}, "stop_reason": "end_turn", "stop_sequence": nil,
			"usage": map[string]int{"input_tokens": 1, "output_tokens": 1}, "amazon-bedrock-guardrailAction": "INTERVENED"})
		return
	}
	delete(body, "anthropic_version")
	delete(body, "anthropic_beta")
	body["model"], _ = json.Marshal(model)
	r.Header.Set("anthropic-version", "2023-06-01")
	if method == "count-tokens" {
		delete(body, "max_tokens")
		data, _ = json.Marshal(body)
		r.Body = io.NopCloser(bytes.NewReader(data))
		s.countTokens(&bedrockCountWriter{ResponseWriter: w}, r, f)
		return
	}
	body["stream"], _ = json.Marshal(method == "invoke-with-response-stream")
	data, _ = json.Marshal(body)
	r.Body = io.NopCloser(bytes.NewReader(data))
	if method == "invoke" {
		s.messages(w, r, f)
		return
	}
	s.messages(&bedrockStreamWriter{ResponseWriter: w}, r, f)
}

// sourcesAsData says why a Claude request on Bedrock is refused for an
// image's or document's source that is not data (Bedrock takes no URLs),
// "" when none is.
func sourcesAsData(m messagesRequest) string {
	type block struct {
		Type   string `json:"type"`
		Source *struct {
			Type string `json:"type"`
		} `json:"source"`
		Content json.RawMessage `json:"content"`
	}
	var check func(raw json.RawMessage, at string) string
	check = func(raw json.RawMessage, at string) string {
		var bs []block
		_ = json.Unmarshal(raw, &bs)
		for j, b := range bs {
			if b.Source != nil && b.Source.Type != "base64" && b.Source.Type != "text" {
				return fmt.Sprintf("%s.%d.%s.source: Input tag '%s' found using 'type' does not match any of the expected tags: 'base64'", at, j, b.Type, b.Source.Type)
			}
			if why := check(b.Content, fmt.Sprintf("%s.%d.content", at, j)); why != "" {
				return why
			}
		}
		return ""
	}
	for i, msg := range m.Messages {
		if why := check(msg.Content, fmt.Sprintf("messages.%d.content", i)); why != "" {
			return why
		}
	}
	return ""
}

// guardrailBlocked is what a Bedrock guardrail answers in place of a
// blocked prompt's answer (its default blocked message).
const guardrailBlocked = "Sorry, the model cannot answer this question."

// bedrockStreamWriter turns an SSE stream into a Bedrock event stream:
// each event a chunk whose bytes are its data (InvokeModel's), or with
// converse an event of its name with its data as the payload (Converse's);
// an error event an exception. Other answers (an error before the
// stream) pass as they are.
type bedrockStreamWriter struct {
	http.ResponseWriter
	converse bool
	// payloadParts has the SSE bytes sent as they are, in PayloadPart
	// events of at most 40 bytes (SageMaker's).
	payloadParts bool
	sse          bool
	pending      []byte
	out          []byte
}

func (b *bedrockStreamWriter) WriteHeader(status int) {
	if status == http.StatusOK && b.Header().Get("Content-Type") == "text/event-stream" {
		b.sse = true
		b.Header().Set("Content-Type", eventstream.ContentType)
	}
	b.ResponseWriter.WriteHeader(status)
}

func (b *bedrockStreamWriter) Write(p []byte) (int, error) {
	if !b.sse {
		return b.ResponseWriter.Write(p)
	}
	if b.payloadParts {
		// Each part a write of its own, as SageMaker sends them as the
		// container streams.
		for rest := p; len(rest) > 0; {
			part := rest[:min(len(rest), 40)]
			rest = rest[len(part):]
			// The part's bytes are the message's payload, as they are.
			b.out = eventstream.Append(b.out[:0], []eventstream.Header{{Name: ":event-type", Value: "PayloadPart"},
				{Name: ":content-type", Value: "application/octet-stream"}, {Name: ":message-type", Value: "event"}}, part)
			if _, err := b.ResponseWriter.Write(b.out); err != nil {
				return 0, err
			}
			b.Flush()
		}
		return len(p), nil
	}
	b.pending = append(b.pending, p...)
	for {
		i := bytes.Index(b.pending, []byte("\n\n"))
		if i < 0 {
			return len(p), nil
		}
		var name, data string
		for line := range strings.SplitSeq(string(b.pending[:i]), "\n") {
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				name = v
			} else if v, ok := strings.CutPrefix(line, "data: "); ok {
				data = v
			}
		}
		b.pending = b.pending[i+2:]
		b.out = b.out[:0]
		if name == "error" {
			var e struct {
				Error struct{ Type, Message string }
			}
			_ = json.Unmarshal([]byte(data), &e)
			payload, _ := json.Marshal(map[string]string{"message": e.Error.Message})
			b.out = eventstream.Append(b.out, []eventstream.Header{{Name: ":exception-type", Value: "internalServerException"},
				{Name: ":content-type", Value: "application/json"}, {Name: ":message-type", Value: "exception"}}, payload)
		} else if b.converse {
			b.out = eventstream.Append(b.out, []eventstream.Header{{Name: ":event-type", Value: name},
				{Name: ":content-type", Value: "application/json"}, {Name: ":message-type", Value: "event"}}, []byte(data))
		} else {
			payload, _ := json.Marshal(map[string]string{"bytes": base64.StdEncoding.EncodeToString([]byte(data))})
			b.out = eventstream.Append(b.out, []eventstream.Header{{Name: ":event-type", Value: "chunk"},
				{Name: ":content-type", Value: "application/json"}, {Name: ":message-type", Value: "event"}}, payload)
		}
		if _, err := b.ResponseWriter.Write(b.out); err != nil {
			return 0, err
		}
	}
}

// Flush passes the handler's flushes on, so that each event is sent as
// it is written.
func (b *bedrockStreamWriter) Flush() { http.NewResponseController(b.ResponseWriter).Flush() }

// bedrockCountWriter turns count_tokens' answer ({"input_tokens": n})
// into CountTokens' ({"inputTokens": n}).
type bedrockCountWriter struct {
	http.ResponseWriter
	status int
}

func (b *bedrockCountWriter) WriteHeader(status int) {
	b.status = status
	b.ResponseWriter.WriteHeader(status)
}

func (b *bedrockCountWriter) Write(p []byte) (int, error) {
	var c struct {
		InputTokens *int `json:"input_tokens"`
	}
	if b.status != 0 && b.status != http.StatusOK || json.Unmarshal(p, &c) != nil || c.InputTokens == nil {
		return b.ResponseWriter.Write(p)
	}
	out, _ := json.Marshal(map[string]int{"inputTokens": *c.InputTokens})
	if _, err := b.ResponseWriter.Write(append(out, '\n')); err != nil {
		return 0, err
	}
	return len(p), nil
}

// bedrockErrorTypes names the exception Bedrock answers each status with.
var bedrockErrorTypes = map[int]string{
	400: "ValidationException", 401: "UnrecognizedClientException", 403: "AccessDeniedException", 404: "ResourceNotFoundException",
	408: "ModelTimeoutException", 424: "ModelErrorException", 429: "ThrottlingException",
	500: "InternalServerException", 503: "ServiceUnavailableException",
}

// converseRequest is the part of a Converse request the mock reads.
type converseRequest struct {
	Messages []struct {
		Role    string            `json:"role"`
		Content []converseContent `json:"content"`
	} `json:"messages"`
	System []struct {
		Text string `json:"text"`
	} `json:"system"`
	InferenceConfig struct {
		MaxTokens int `json:"maxTokens"`
	} `json:"inferenceConfig"`
	GuardrailConfig *struct {
		GuardrailIdentifier string `json:"guardrailIdentifier"`
	} `json:"guardrailConfig"`
	// AdditionalModelRequestFields are Claude's own: its thinking.
	AdditionalModelRequestFields struct {
		Thinking *struct {
			Type string `json:"type"`
		} `json:"thinking"`
	} `json:"additionalModelRequestFields"`
	ToolConfig *struct {
		Tools []struct {
			ToolSpec struct {
				Name        string `json:"name"`
				InputSchema struct {
					JSON json.RawMessage `json:"json"`
				} `json:"inputSchema"`
			} `json:"toolSpec"`
		} `json:"tools"`
		ToolChoice map[string]struct {
			Name string `json:"name"`
		} `json:"toolChoice"`
	} `json:"toolConfig"`
}

// converseContent is a Converse content block, of the kinds the mock
// reads or checks.
type converseContent struct {
	Text      *string         `json:"text"`
	ToolUse   json.RawMessage `json:"toolUse"`
	Reasoning json.RawMessage `json:"reasoningContent"`
	Image     *struct {
		Format string `json:"format"`
		Source struct {
			Bytes []byte `json:"bytes"`
		} `json:"source"`
	} `json:"image"`
	Document *struct {
		Format string `json:"format"`
		Name   string `json:"name"`
		Source struct {
			Bytes []byte `json:"bytes"`
		} `json:"source"`
	} `json:"document"`
}

// converseDocName is what Converse allows in a document's name.
var converseDocName = regexp.MustCompile(`^[\p{L}\p{N}\-()\[\]]+( [\p{L}\p{N}\-()\[\]]+)*$`)

// check says why Converse refuses the request's images and documents
// (a format it does not read, no data, a document's name it does not
// allow or gives twice), "" when it does not.
func (c converseRequest) check() string {
	names := map[string]bool{}
	for i, m := range c.Messages {
		for j, b := range m.Content {
			at := fmt.Sprintf("messages.%d.content.%d", i, j)
			switch {
			case b.Image != nil && (!slices.Contains([]string{"png", "jpeg", "gif", "webp"}, b.Image.Format) || len(b.Image.Source.Bytes) == 0):
				return at + ".image: format must be png, jpeg, gif or webp, with the image's bytes"
			case b.Document == nil:
			case !slices.Contains([]string{"pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md"}, b.Document.Format) || len(b.Document.Source.Bytes) == 0:
				return at + ".document: format must be pdf, csv, doc, docx, xls, xlsx, html, txt or md, with the document's bytes"
			case !converseDocName.MatchString(b.Document.Name):
				return at + ".document.name: may contain only alphanumeric characters, whitespace characters (not consecutive), hyphens, parentheses and square brackets"
			case names[b.Document.Name]:
				return at + ".document.name: the request has two documents named " + b.Document.Name
			default:
				names[b.Document.Name] = true
			}
		}
	}
	return ""
}

// thinks reports whether the request turns Claude's thinking on.
func (c converseRequest) thinks() bool {
	t := c.AdditionalModelRequestFields.Thinking
	return t != nil && (t.Type == "enabled" || t.Type == "adaptive")
}

// thinkingLeadsToolUse reports whether the last assistant message, if it
// calls a tool, starts with its thinking, as Claude wants with thinking
// on (the Messages API's rule, on Converse too).
func (c converseRequest) thinkingLeadsToolUse() bool {
	for i := len(c.Messages) - 1; i >= 0; i-- {
		m := c.Messages[i]
		if m.Role != "assistant" {
			continue
		}
		calls := slices.ContainsFunc(m.Content, func(b converseContent) bool { return len(b.ToolUse) > 0 })
		return !calls || len(m.Content[0].Reasoning) > 0
	}
	return true
}

// prompt is the text of the request's last user message.
func (c converseRequest) prompt() string {
	for i := len(c.Messages) - 1; i >= 0; i-- {
		if c.Messages[i].Role != "user" {
			continue
		}
		var parts []string
		for _, b := range c.Messages[i].Content {
			if b.Text != nil {
				parts = append(parts, *b.Text)
			}
		}
		return strings.Join(parts, " ")
	}
	return ""
}

// converse serves Bedrock's Converse API (converse, and converse-stream in
// its event stream) for any model: the mock's reply as a text block, or,
// with a toolChoice of any or tool, a toolUse block whose input follows
// the tool's schema. A prompt over context_tokens gets Bedrock's
// ValidationException; one with a blocked word stops with
// content_filtered.
func (s *Server) converse(w http.ResponseWriter, r *http.Request, f Faults, data []byte, stream bool) {
	var req converseRequest
	if err := json.Unmarshal(data, &req); err != nil || len(req.Messages) == 0 {
		s.writeError(w, r, 400, "invalid_request_error", "Malformed input request: messages is required")
		return
	}
	if why := req.check(); why != "" {
		s.writeError(w, r, 400, "invalid_request_error", why)
		return
	}
	if config.ClaudeOf(r.PathValue("model")).NoPrefill && req.Messages[len(req.Messages)-1].Role == "assistant" {
		s.writeError(w, r, 400, "invalid_request_error", noPrefill)
		return
	}
	if t := req.AdditionalModelRequestFields.Thinking; t != nil && t.Type == "enabled" && !req.thinkingLeadsToolUse() {
		s.writeError(w, r, 400, "invalid_request_error", "Expected `thinking` or `redacted_thinking`, but found `tool_use`. When `thinking` is enabled, "+
			"a final `assistant` message must start with a thinking block (preceding the lastmost set of `tool_use` and `tool_result` blocks).")
		return
	}
	prompt := req.prompt()
	if n := tokens(prompt); f.ContextTokens > 0 && n > f.ContextTokens {
		s.writeError(w, r, 400, "invalid_request_error", "Input is too long for requested model.")
		return
	}
	text, stop := s.reply(prompt), "end_turn"
	switch {
	case blocked(prompt, f.BlockedWords) && req.GuardrailConfig != nil:
		text, stop = guardrailBlocked, "guardrail_intervened"
	case blocked(prompt, f.BlockedWords):
		text, stop = "", "content_filtered"
	}
	var tool map[string]any
	if tc := req.ToolConfig; tc != nil && len(tc.Tools) > 0 {
		_, anyTool := tc.ToolChoice["any"]
		named, oneTool := tc.ToolChoice["tool"]
		if anyTool || oneTool {
			spec := tc.Tools[0].ToolSpec
			for _, t := range tc.Tools {
				if t.ToolSpec.Name == named.Name {
					spec = t.ToolSpec
				}
			}
			input := json.RawMessage(`{"query":"mock"}`)
			if v := instanceOf(spec.InputSchema.JSON); v != nil {
				input, _ = json.Marshal(v)
			}
			tool = map[string]any{"toolUseId": fmt.Sprintf("tooluse_mock_%d", s.ids.Add(1)), "name": spec.Name, "input": input}
			stop = "tool_use"
		}
	}
	in, out := tokens(prompt), tokens(text)
	signature := fmt.Sprintf("mocksig_converse_%d", s.ids.Add(1))
	if req.thinks() {
		out += tokens(thinkingText)
	}
	usage := map[string]int{"inputTokens": in, "outputTokens": out, "totalTokens": in + out}
	if !stream {
		content := []map[string]any{{"text": text}}
		if tool != nil {
			content = []map[string]any{{"toolUse": tool}}
		}
		if req.thinks() { // Claude's thinking first, with the signature it checks when sent back
			content = append([]map[string]any{{"reasoningContent": map[string]any{"reasoningText": map[string]string{"text": thinkingText, "signature": signature}}}}, content...)
		}
		writeJSON(w, 200, map[string]any{"output": map[string]any{"message": map[string]any{"role": "assistant", "content": content}},
			"stopReason": stop, "usage": usage, "metrics": map[string]int{"latencyMs": 1}})
		return
	}
	events := []any{namedEvent{"messageStart", map[string]any{"role": "assistant"}}}
	at := 0 // the answer's block
	if req.thinks() {
		events = append(events,
			namedEvent{"contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]any{"reasoningContent": map[string]string{"text": thinkingText}}}},
			namedEvent{"contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]any{"reasoningContent": map[string]string{"signature": signature}}}},
			namedEvent{"contentBlockStop", map[string]any{"contentBlockIndex": 0}})
		at = 1
	}
	if tool != nil {
		input := string(tool["input"].(json.RawMessage))
		events = append(events,
			namedEvent{"contentBlockStart", map[string]any{"contentBlockIndex": at, "start": map[string]any{"toolUse": map[string]any{"toolUseId": tool["toolUseId"], "name": tool["name"]}}}},
			namedEvent{"contentBlockDelta", map[string]any{"contentBlockIndex": at, "delta": map[string]any{"toolUse": map[string]string{"input": input[:len(input)/2]}}}},
			namedEvent{"contentBlockDelta", map[string]any{"contentBlockIndex": at, "delta": map[string]any{"toolUse": map[string]string{"input": input[len(input)/2:]}}}})
	} else {
		for _, wd := range strings.SplitAfter(text, " ") {
			events = append(events, lazy(func() any {
				return namedEvent{"contentBlockDelta", map[string]any{"contentBlockIndex": at, "delta": map[string]string{"text": wd}}}
			}))
		}
	}
	events = append(events, namedEvent{"contentBlockStop", map[string]any{"contentBlockIndex": at}},
		namedEvent{"messageStop", map[string]any{"stopReason": stop}},
		namedEvent{"metadata", map[string]any{"usage": usage, "metrics": map[string]int{"latencyMs": 1}}})
	s.streamEvents(newSSE(&bedrockStreamWriter{ResponseWriter: w, converse: true}), r, f, events, func() {})
}

// converseCount answers CountTokens for a Converse input
// ({"input": {"converse": ...}}); it reports whether the request was one.
func (s *Server) converseCount(w http.ResponseWriter, r *http.Request, data []byte) bool {
	var wrapped struct {
		Input struct {
			Converse *converseRequest `json:"converse"`
		} `json:"input"`
	}
	if json.Unmarshal(data, &wrapped) != nil || wrapped.Input.Converse == nil {
		return false
	}
	n := 0
	for _, sys := range wrapped.Input.Converse.System {
		n += tokens(sys.Text)
	}
	writeJSON(w, 200, map[string]int{"inputTokens": n + tokens(wrapped.Input.Converse.prompt())})
	return true
}

// bedrockEmbed serves an embedding model's InvokeModel: Titan's one text
// ({"inputText", "dimensions"}: {"embedding", "inputTextTokenCount"}),
// Cohere's a list ({"texts", "input_type"}: {"embeddings", "texts"}).
func (s *Server) bedrockEmbed(w http.ResponseWriter, r *http.Request, model string, data []byte) {
	// Bedrock's one route counted the call as messages: it is embeddings.
	s.stats.messages.Add(-1)
	s.stats.embeddings.Add(1)
	var req struct {
		InputText  *string  `json:"inputText"`
		Dimensions int      `json:"dimensions"`
		Texts      []string `json:"texts"`
		InputType  string   `json:"input_type"`
	}
	_ = json.Unmarshal(data, &req)
	if strings.Contains(model, "cohere.") {
		if len(req.Texts) == 0 || req.InputType == "" {
			s.writeError(w, r, 400, "invalid_request_error", "Malformed input request: texts and input_type are required")
			return
		}
		vs := make([][]float64, len(req.Texts))
		for i, t := range req.Texts {
			vs[i] = vector(t, 8)
		}
		writeJSON(w, 200, map[string]any{"id": "emb-mock", "embeddings": vs, "texts": req.Texts, "response_type": "embeddings_floats"})
		return
	}
	if req.InputText == nil {
		s.writeError(w, r, 400, "invalid_request_error", "Malformed input request: inputText is required")
		return
	}
	writeJSON(w, 200, map[string]any{"embedding": vector(*req.InputText, cmp.Or(req.Dimensions, 1024)), "inputTextTokenCount": tokens(*req.InputText)})
}

// sagemakerInvoke serves a SageMaker endpoint whose container speaks
// OpenAI's chat API (POST /endpoints/{endpoint}/invocations, and
// invocations-response-stream, whose answer is AWS's event stream of
// PayloadPart events carrying the container's SSE bytes, cut mid-event
// as SageMaker cuts them). Calls must carry a Signature Version 4 for
// service sagemaker. A 4xx of the container comes back as SageMaker's
// ModelError (424) holding it; the runtime's own (429, 5xx) as they are.
func (s *Server) sagemakerInvoke(w http.ResponseWriter, r *http.Request, f Faults) {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=") || !strings.Contains(auth, "/sagemaker/aws4_request") || r.Header.Get("X-Amz-Date") == "" {
		s.writeError(w, r, http.StatusForbidden, "invalid_request_error", "Missing Authentication Token")
		return
	}
	if r.PathValue("method") == "invocations-response-stream" {
		s.chat(&bedrockStreamWriter{ResponseWriter: w, payloadParts: true}, r, f)
		return
	}
	s.chat(w, r, f)
}
