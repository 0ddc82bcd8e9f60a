package provider

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/breakerd/breakerd/config"
)

// Bedrock's Converse API serves every chat model there (Llama, Nova,
// Mistral, Claude) in one shape, which is Anthropic's Messages with other
// names: content blocks keyed by their kind, tools as toolSpec, limits in
// inferenceConfig. A Converse deployment is an Anthropic one whose
// requests and answers are renamed here, so that chat's translation, the
// Messages API and the stream readers serve it unchanged.

// converseBlock is a Converse content block: exactly one field is set.
type converseBlock struct {
	Text       *string            `json:"text,omitempty"`
	Image      *converseImage     `json:"image,omitempty"`
	Document   *converseDoc       `json:"document,omitempty"`
	ToolUse    *converseTool      `json:"toolUse,omitempty"`
	ToolResult *converseResult    `json:"toolResult,omitempty"`
	Reasoning  *converseReasoning `json:"reasoningContent,omitempty"`
	// CachePoint ends a prefix to cache, as Anthropic's cache_control on
	// the block before it does.
	CachePoint *struct {
		Type string `json:"type"`
	} `json:"cachePoint,omitempty"`
}

// converseReasoning is Claude's thinking in Converse's words: its text
// with the signature Claude checks when it is sent back, or, redacted,
// its encrypted bytes (base64).
type converseReasoning struct {
	ReasoningText *struct {
		Text      string `json:"text"`
		Signature string `json:"signature,omitempty"`
	} `json:"reasoningText,omitempty"`
	RedactedContent string `json:"redactedContent,omitempty"`
}

// cachePoint is the block that ends a cached prefix.
func cachePoint() converseBlock {
	return converseBlock{CachePoint: &struct {
		Type string `json:"type"`
	}{"default"}}
}

// converseDoc is a document Converse reads (a PDF, a text file): named,
// as Converse wants, by its title or its place among the request's.
type converseDoc struct {
	Format string `json:"format"`
	Name   string `json:"name"`
	Source struct {
		Bytes string `json:"bytes"` // base64
	} `json:"source"`
}

// converseDocFormats are the document formats Converse reads, by the
// media types Anthropic's document blocks carry.
var converseDocFormats = map[string]string{"application/pdf": "pdf", "text/plain": "txt", "text/csv": "csv",
	"text/html": "html", "text/markdown": "md"}

// docName matches what Converse does not allow in a document's name,
// which takes letters, digits, hyphens, parentheses, square brackets and
// single spaces.
var docName = regexp.MustCompile(`[^\p{L}\p{N}\-()\[\] ]+`)

// converseDocument is an Anthropic document block (a PDF's data, or
// text) as Converse takes it; by URL it has been fetched (inliner).
func converseDocument(b anthropicBlock, docs *int) (*converseDoc, *Error) {
	*docs++
	if b.Source == nil {
		return nil, badRequest("a document block needs its source")
	}
	doc := &converseDoc{Format: converseDocFormats[b.Source.MediaType],
		Name: cmp.Or(strings.Join(strings.Fields(docName.ReplaceAllString(b.Title, " ")), " "), fmt.Sprintf("document %d", *docs))}
	switch {
	case doc.Format == "":
		return nil, badRequest("Bedrock's Converse API reads documents in %s, not %q", strings.Join(slices.Sorted(maps.Keys(converseDocFormats)), ", "), b.Source.MediaType)
	case b.Source.Type == "base64":
		doc.Source.Bytes = b.Source.Data
	case b.Source.Type == "text":
		doc.Source.Bytes = base64.StdEncoding.EncodeToString([]byte(b.Source.Data))
	default:
		return nil, badRequest("Bedrock's Converse API takes documents as data or text, not as %q", b.Source.Type)
	}
	return doc, nil
}

type converseImage struct {
	Format string `json:"format"`
	Source struct {
		Bytes string `json:"bytes"` // base64
	} `json:"source"`
}

type converseTool struct {
	ToolUseID string          `json:"toolUseId"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
}

type converseResult struct {
	ToolUseID string          `json:"toolUseId"`
	Content   []converseBlock `json:"content"`
	Status    string          `json:"status,omitempty"`
}

// messagesBody is a Messages request as clients write it: content and
// system as a string or as blocks.
type messagesBody struct {
	System   json.RawMessage `json:"system"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	MaxTokens     int             `json:"max_tokens"`
	Temperature   *float64        `json:"temperature"`
	TopP          *float64        `json:"top_p"`
	TopK          *int            `json:"top_k"`
	StopSequences []string        `json:"stop_sequences"`
	Tools         []anthropicTool `json:"tools"`
	ToolChoice    *struct {
		Type string `json:"type"`
		Name string `json:"name"`
	} `json:"tool_choice"`
	Thinking     json.RawMessage `json:"thinking"`
	OutputConfig map[string]any  `json:"output_config"`
}

// blocks reads content written as a string or as blocks.
func blocks(raw json.RawMessage) ([]anthropicBlock, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []anthropicBlock{{Type: "text", Text: s}}, nil
	}
	var out []anthropicBlock
	err := json.Unmarshal(raw, &out)
	return out, err
}

// converseBlocks renames Anthropic's blocks; thinking goes back with its
// signature (Claude wants it before a tool call it led to, with thinking
// on), and without one, which Converse would refuse, is left out; a
// block Converse has no equivalent of is the request's error, not
// dropped. A block with cache_control is followed by a cachePoint. docs
// counts the request's documents, which Converse wants named apart.
func converseBlocks(in []anthropicBlock, docs *int) ([]converseBlock, *Error) {
	out := make([]converseBlock, 0, len(in))
	for _, b := range in {
		switch b.Type {
		case "text":
			out = append(out, converseBlock{Text: &b.Text})
		case "image":
			if b.Source == nil || b.Source.Type != "base64" {
				return nil, badRequest("Bedrock's Converse API takes images as data (a base64 data URL), not by URL")
			}
			img := &converseImage{Format: strings.TrimPrefix(b.Source.MediaType, "image/")}
			img.Source.Bytes = b.Source.Data
			out = append(out, converseBlock{Image: img})
		case "tool_use":
			out = append(out, converseBlock{ToolUse: &converseTool{ToolUseID: b.ID, Name: b.Name, Input: cmpRaw(b.Input, "{}")}})
		case "tool_result":
			content, err := converseBlocks(b.Content, docs)
			if err != nil {
				return nil, err
			}
			out = append(out, converseBlock{ToolResult: &converseResult{ToolUseID: b.ToolUseID, Content: content}})
		case "document":
			doc, err := converseDocument(b, docs)
			if err != nil {
				return nil, err
			}
			out = append(out, converseBlock{Document: doc})
		case "thinking":
			if b.Signature == "" {
				continue
			}
			r := &converseReasoning{ReasoningText: &struct {
				Text      string `json:"text"`
				Signature string `json:"signature,omitempty"`
			}{b.Thinking, b.Signature}}
			out = append(out, converseBlock{Reasoning: r})
		case "redacted_thinking":
			if b.Data == "" {
				continue
			}
			out = append(out, converseBlock{Reasoning: &converseReasoning{RedactedContent: b.Data}})
		default:
			return nil, badRequest("Bedrock's Converse API takes no %q content block", b.Type)
		}
		if len(b.CacheControl) > 0 {
			out = append(out, cachePoint())
		}
	}
	return out, nil
}

func cmpRaw(v json.RawMessage, def string) json.RawMessage {
	if len(v) == 0 {
		return json.RawMessage(def)
	}
	return v
}

// converseRequest is a Messages request (buf) as Converse takes it, with
// the deployment's guardrail (g, when set); for a count, as CountTokens
// takes one ({"input": {"converse": ...}}).
func converseRequest(buf []byte, count bool, g *config.Guardrail) ([]byte, error) {
	var m messagesBody
	if err := json.Unmarshal(buf, &m); err != nil {
		return nil, badRequest("invalid JSON body")
	}
	out := map[string]any{}
	msgs := make([]map[string]any, 0, len(m.Messages))
	docs := 0
	for i, msg := range m.Messages {
		bs, err := blocks(msg.Content)
		if err != nil {
			return nil, badRequest("messages[%d].content: %v", i, err)
		}
		content, cerr := converseBlocks(bs, &docs)
		if cerr != nil {
			return nil, cerr
		}
		msgs = append(msgs, map[string]any{"role": msg.Role, "content": content})
	}
	out["messages"] = msgs
	if len(m.System) > 0 {
		sys, err := blocks(m.System)
		if err != nil {
			return nil, badRequest("system: %v", err)
		}
		var texts []converseBlock
		for _, b := range sys {
			texts = append(texts, converseBlock{Text: &b.Text})
			if len(b.CacheControl) > 0 {
				texts = append(texts, cachePoint())
			}
		}
		out["system"] = texts
	}
	if count {
		return json.Marshal(map[string]any{"input": map[string]any{"converse": out}})
	}
	inference := map[string]any{}
	if m.MaxTokens > 0 {
		inference["maxTokens"] = m.MaxTokens
	}
	if m.Temperature != nil {
		inference["temperature"] = *m.Temperature
	}
	if m.TopP != nil {
		inference["topP"] = *m.TopP
	}
	if len(m.StopSequences) > 0 {
		inference["stopSequences"] = m.StopSequences
	}
	out["inferenceConfig"] = inference
	if g != nil {
		gc := map[string]string{"guardrailIdentifier": g.ID, "guardrailVersion": g.Version}
		if g.Trace != "" {
			gc["trace"] = g.Trace
		}
		out["guardrailConfig"] = gc
	}
	if len(m.Thinking) > 0 || len(m.OutputConfig) > 0 || m.TopK != nil {
		// Claude's thinking, effort and top_k, which Converse passes to
		// the model as they are (reasoning_effort becomes them in chat's
		// translation).
		extra := map[string]any{}
		if len(m.Thinking) > 0 {
			extra["thinking"] = m.Thinking
		}
		if len(m.OutputConfig) > 0 {
			extra["output_config"] = m.OutputConfig
		}
		if m.TopK != nil { // Claude's own, which Converse has no field for
			extra["top_k"] = *m.TopK
		}
		out["additionalModelRequestFields"] = extra
	}
	if len(m.Tools) > 0 {
		var tools []map[string]any
		for _, t := range m.Tools {
			tools = append(tools, map[string]any{"toolSpec": map[string]any{"name": t.Name, "description": t.Description,
				"inputSchema": map[string]json.RawMessage{"json": cmpRaw(t.InputSchema, `{"type":"object"}`)}}})
			if len(t.CacheControl) > 0 {
				tools = append(tools, map[string]any{"cachePoint": map[string]string{"type": "default"}})
			}
		}
		tc := map[string]any{"tools": tools}
		if c := m.ToolChoice; c != nil {
			switch c.Type {
			case "any":
				tc["toolChoice"] = map[string]any{"any": map[string]any{}}
			case "tool":
				tc["toolChoice"] = map[string]any{"tool": map[string]string{"name": c.Name}}
			case "auto":
				tc["toolChoice"] = map[string]any{"auto": map[string]any{}}
			}
		}
		out["toolConfig"] = tc
	}
	return json.Marshal(out)
}

// converseStops maps Converse's stop reasons to Anthropic's; the rest
// are the same words.
var converseStops = map[string]string{"content_filtered": "refusal", "guardrail_intervened": "refusal",
	"model_context_window_exceeded": "max_tokens"}

// anthropicBlocks renames Converse's blocks back.
func anthropicBlocks(in []converseBlock) []map[string]any {
	out := make([]map[string]any, 0, len(in))
	for _, b := range in {
		switch {
		case b.Text != nil:
			out = append(out, map[string]any{"type": "text", "text": *b.Text})
		case b.ToolUse != nil:
			out = append(out, map[string]any{"type": "tool_use", "id": b.ToolUse.ToolUseID, "name": b.ToolUse.Name, "input": cmpRaw(b.ToolUse.Input, "{}")})
		case b.Reasoning != nil && b.Reasoning.ReasoningText != nil:
			out = append(out, map[string]any{"type": "thinking", "thinking": b.Reasoning.ReasoningText.Text, "signature": b.Reasoning.ReasoningText.Signature})
		case b.Reasoning != nil && b.Reasoning.RedactedContent != "":
			out = append(out, map[string]any{"type": "redacted_thinking", "data": b.Reasoning.RedactedContent})
		}
	}
	return out
}

// fromConverse is Converse's answer as the Messages API's, for model.
func fromConverse(data []byte, model string) ([]byte, bool) {
	var r struct {
		Output struct {
			Message *struct {
				Content []converseBlock `json:"content"`
			} `json:"message"`
		} `json:"output"`
		StopReason string        `json:"stopReason"`
		Usage      converseUsage `json:"usage"`
	}
	if json.Unmarshal(data, &r) != nil || r.Output.Message == nil {
		return nil, false
	}
	stop := r.StopReason
	if s, ok := converseStops[stop]; ok {
		stop = s
	}
	out, _ := json.Marshal(map[string]any{"id": newMessageID(), "type": "message", "role": "assistant", "model": model,
		"content": anthropicBlocks(r.Output.Message.Content), "stop_reason": stop, "stop_sequence": nil, "usage": r.Usage.anthropic()})
	return out, true
}

// converseUsage is Converse's token count, cached prompt tokens apart.
type converseUsage struct {
	InputTokens      int `json:"inputTokens"`
	OutputTokens     int `json:"outputTokens"`
	CacheReadTokens  int `json:"cacheReadInputTokens"`
	CacheWriteTokens int `json:"cacheWriteInputTokens"`
}

// anthropic is the count in Anthropic's names.
func (u converseUsage) anthropic() map[string]int {
	return map[string]int{"input_tokens": u.InputTokens, "output_tokens": u.OutputTokens,
		"cache_read_input_tokens": u.CacheReadTokens, "cache_creation_input_tokens": u.CacheWriteTokens}
}

// newMessageID names an answer Converse gives no ID.
func newMessageID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "msg_bdrk_" + hex.EncodeToString(b[:])
}

// converseEvent renames one of a Converse stream's events (name, its
// JSON payload) to Anthropic's, into b. Converse says why it stopped
// before its usage; Anthropic's message_delta carries both, so the stop
// waits for the metadata event.
func (b *bedrockStream) converseEvent(name string, payload []byte) {
	var ev struct {
		Index int `json:"contentBlockIndex"`
		Start struct {
			ToolUse *converseTool `json:"toolUse"`
		} `json:"start"`
		Delta struct {
			Text    *string `json:"text"`
			ToolUse *struct {
				Input string `json:"input"`
			} `json:"toolUse"`
			Reasoning *struct {
				Text            *string `json:"text"`
				Signature       *string `json:"signature"`
				RedactedContent *string `json:"redactedContent"`
			} `json:"reasoningContent"`
		} `json:"delta"`
		StopReason string        `json:"stopReason"`
		Usage      converseUsage `json:"usage"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		b.err = fmt.Errorf("bedrock stream: a %s event that is not JSON: %w", name, err)
		return
	}
	emit := func(v map[string]any) {
		data, _ := json.Marshal(v)
		b.event(v["type"].(string), data)
	}
	start := func(block map[string]any) {
		if b.started == nil {
			b.started = map[int]bool{}
		}
		if !b.started[ev.Index] {
			b.started[ev.Index] = true
			emit(map[string]any{"type": "content_block_start", "index": ev.Index, "content_block": block})
		}
	}
	switch name {
	case "messageStart":
		emit(map[string]any{"type": "message_start", "message": map[string]any{"id": newMessageID(), "type": "message",
			"role": "assistant", "model": b.model, "content": []any{}, "stop_reason": nil, "stop_sequence": nil,
			"usage": map[string]int{"input_tokens": 0, "output_tokens": 0}}})
	case "contentBlockStart":
		if t := ev.Start.ToolUse; t != nil {
			start(map[string]any{"type": "tool_use", "id": t.ToolUseID, "name": t.Name, "input": map[string]any{}})
		}
	case "contentBlockDelta":
		switch d := ev.Delta; {
		case d.Text != nil:
			start(map[string]any{"type": "text", "text": ""})
			emit(map[string]any{"type": "content_block_delta", "index": ev.Index, "delta": map[string]any{"type": "text_delta", "text": *d.Text}})
		case d.ToolUse != nil:
			emit(map[string]any{"type": "content_block_delta", "index": ev.Index, "delta": map[string]any{"type": "input_json_delta", "partial_json": d.ToolUse.Input}})
		case d.Reasoning != nil && d.Reasoning.Text != nil:
			start(map[string]any{"type": "thinking", "thinking": ""})
			emit(map[string]any{"type": "content_block_delta", "index": ev.Index, "delta": map[string]any{"type": "thinking_delta", "thinking": *d.Reasoning.Text}})
		case d.Reasoning != nil && d.Reasoning.Signature != nil:
			start(map[string]any{"type": "thinking", "thinking": ""})
			emit(map[string]any{"type": "content_block_delta", "index": ev.Index, "delta": map[string]any{"type": "signature_delta", "signature": *d.Reasoning.Signature}})
		case d.Reasoning != nil && d.Reasoning.RedactedContent != nil:
			start(map[string]any{"type": "redacted_thinking", "data": *d.Reasoning.RedactedContent})
		}
	case "contentBlockStop":
		emit(map[string]any{"type": "content_block_stop", "index": ev.Index})
	case "messageStop":
		b.stop = ev.StopReason
		if s, ok := converseStops[b.stop]; ok {
			b.stop = s
		}
	case "metadata":
		emit(map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": b.stop, "stop_sequence": nil},
			"usage": ev.Usage.anthropic()})
		emit(map[string]any{"type": "message_stop"})
	}
}
