package provider

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/eventstream"
)

// Claude on Amazon Bedrock takes Anthropic's Messages at the model's
// InvokeModel API: the model in the URL (invoke, or
// invoke-with-response-stream for a stream), anthropic_version and the
// betas in the body, and a stream in AWS's binary event stream, whose
// chunks carry Anthropic's events. This file holds what differs from
// Anthropic's own API; anthropic.post and the stream readers do the rest.

// bedrockAnthropicVersion is the anthropic_version Bedrock's Claude takes.
const bedrockAnthropicVersion = "bedrock-2023-05-31"

// bedrockURL is the address of a Messages call (path: /v1/messages or
// /v1/messages/count_tokens) on Bedrock: InvokeModel's, or Converse's.
func bedrockURL(base string, b *config.Bedrock, path string, stream bool) string {
	method := "invoke"
	switch {
	case strings.HasSuffix(path, "/count_tokens"):
		method = "count-tokens"
	case b.Converse && stream:
		method = "converse-stream"
	case b.Converse:
		method = "converse"
	case stream:
		method = "invoke-with-response-stream"
	}
	return base + "/model/" + awsEscape(b.ModelID, true) + "/" + method
}

// bedrockBody is a Messages request (buf) to path as the deployment's
// API on Bedrock takes it: InvokeModel's (bedrockRequest) or Converse's
// (converseRequest).
func bedrockBody(b *config.Bedrock, buf []byte, beta, path string, maxTokens int) ([]byte, error) {
	count := strings.HasSuffix(path, "/count_tokens")
	if b.Converse {
		return converseRequest(buf, count, b.Guardrail)
	}
	return bedrockRequest(buf, beta, count, maxTokens)
}

// guardrailHeaders set on h the deployment's guardrail, as InvokeModel
// takes it (Converse takes it in the body).
func guardrailHeaders(h http.Header, g *config.Guardrail) {
	h.Set("X-Amzn-Bedrock-Guardrailidentifier", g.ID)
	h.Set("X-Amzn-Bedrock-Guardrailversion", g.Version)
	if g.Trace != "" {
		h.Set("X-Amzn-Bedrock-Trace", strings.ToUpper(g.Trace))
	}
}

// guardrailIntervened reports whether an InvokeModel answer is its
// guardrail's, not the model's.
func guardrailIntervened(data []byte) bool {
	var a struct {
		Action string `json:"amazon-bedrock-guardrailAction"`
	}
	return json.Unmarshal(data, &a) == nil && a.Action == "INTERVENED"
}

// bedrockAuth authorizes a call of body to Bedrock, last, once its other
// headers are set: with the deployment's Bedrock API key, or signed with
// its AWS key.
func (p *anthropic) bedrockAuth(ctx context.Context, hreq *http.Request, body []byte) error {
	if p.d.APIKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+p.d.APIKey.Value())
		return nil
	}
	key, err := p.aws.Key(ctx)
	if err != nil {
		return err
	}
	awsSigner{key: key, region: p.d.Bedrock.Region, service: "bedrock"}.sign(hreq, body, p.now())
	return nil
}

// bedrockAnswer is a whole answer from Bedrock to path as the Messages
// API's: a count's, or Converse's.
func (p *anthropic) bedrockAnswer(data []byte, path string) ([]byte, error) {
	out, ok := data, true
	switch {
	case strings.HasSuffix(path, "/count_tokens"):
		out, ok = bedrockCount(data)
	case p.d.Bedrock.Converse:
		out, ok = fromConverse(data, p.d.Model)
	case p.d.Bedrock.Guardrail != nil && guardrailIntervened(data):
		// The guardrail answered in the model's place: a refusal, as
		// Converse's guardrail_intervened is, not an answer that ended.
		if v, set := SetField(data, "stop_reason", []byte(`"refusal"`)); set {
			out = v
		}
	}
	if !ok {
		return nil, &Error{Status: http.StatusBadGateway, Message: "upstream sent invalid JSON"}
	}
	return out, nil
}

// bedrockRequest is a Messages request (buf) as Bedrock's InvokeModel
// takes it: no model or stream (the URL says both), anthropic_version,
// and the anthropic-beta header's betas as anthropic_beta. A count is
// CountTokens' request, which carries that body as a string; Claude's
// InvokeModel requires max_tokens, which a count does not have.
func bedrockRequest(buf []byte, beta string, count bool, maxTokens int) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(buf, &m); err != nil {
		return nil, err
	}
	delete(m, "model")
	delete(m, "stream")
	if _, set := m["anthropic_version"]; !set {
		m["anthropic_version"], _ = json.Marshal(bedrockAnthropicVersion)
	}
	var betas []string
	for b := range strings.SplitSeq(beta, ",") {
		if b = strings.TrimSpace(b); b != "" {
			betas = append(betas, b)
		}
	}
	if len(betas) > 0 {
		m["anthropic_beta"], _ = json.Marshal(betas)
	}
	if count {
		if _, set := m["max_tokens"]; !set {
			m["max_tokens"], _ = json.Marshal(max(maxTokens, 1))
		}
	}
	out, err := json.Marshal(m)
	if err != nil || !count {
		return out, err
	}
	var wrapped struct {
		Input struct {
			InvokeModel struct {
				Body string `json:"body"`
			} `json:"invokeModel"`
		} `json:"input"`
	}
	wrapped.Input.InvokeModel.Body = string(out)
	return json.Marshal(wrapped)
}

// bedrockCount is CountTokens' answer ({"inputTokens": n}) as Anthropic's
// count_tokens gives it.
func bedrockCount(data []byte) ([]byte, bool) {
	var c struct {
		InputTokens *int `json:"inputTokens"`
	}
	if json.Unmarshal(data, &c) != nil || c.InputTokens == nil {
		return nil, false
	}
	return fmt.Appendf(nil, `{"input_tokens":%d}`, *c.InputTokens), true
}

// bedrockStream reads a Bedrock event stream as the SSE stream Anthropic
// sends: each chunk's event (base64 in its "bytes") as an event named by
// its type, and an exception as Anthropic's error event. It is what the
// Messages stream readers read, as Anthropic's Bedrock SDK does.
type bedrockStream struct {
	body io.ReadCloser
	msgs *eventstream.Reader
	buf  bytes.Buffer
	err  error
	// converse is set for a Converse stream, whose events are renamed
	// (converseEvent): model names its answer, started the content
	// blocks begun, stop the reason it stopped.
	converse bool
	model    string
	started  map[int]bool
	stop     string
}

func newBedrockStream(body io.ReadCloser, converse bool, model string) *bedrockStream {
	return &bedrockStream{body: body, msgs: eventstream.NewReader(body), converse: converse, model: model}
}

func (b *bedrockStream) Close() error { return b.body.Close() }

func (b *bedrockStream) Read(p []byte) (int, error) {
	for b.buf.Len() == 0 {
		if b.err != nil {
			return 0, b.err
		}
		msg, err := b.msgs.Read()
		if err != nil {
			b.err = err
			continue
		}
		b.translate(msg)
	}
	return b.buf.Read(p)
}

func (b *bedrockStream) translate(msg eventstream.Message) {
	switch msg.Headers[":message-type"] {
	case "event":
		if b.converse {
			b.converseEvent(msg.Headers[":event-type"], msg.Payload)
			return
		}
		if msg.Headers[":event-type"] != "chunk" {
			return
		}
		var chunk struct {
			Bytes []byte `json:"bytes"` // base64 in the JSON
		}
		if err := json.Unmarshal(msg.Payload, &chunk); err != nil {
			b.err = fmt.Errorf("bedrock stream: a chunk that is not JSON: %w", err)
			return
		}
		var head struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(chunk.Bytes, &head)
		b.event(head.Type, chunk.Bytes)
	case "exception", "error":
		name := msg.Headers[":exception-type"]
		var body struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(msg.Payload, &body)
		if msg.Headers[":message-type"] == "error" {
			name, body.Message = msg.Headers[":error-code"], msg.Headers[":error-message"]
		}
		typ, _ := awsErrorType(name)
		data, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]string{
			"type": cmp.Or(typ, "api_error"), "message": strings.TrimPrefix(name+": "+body.Message, ": ")}})
		b.event("error", data)
	}
}

func (b *bedrockStream) event(name string, data []byte) {
	b.buf.WriteString("event: ")
	b.buf.WriteString(name)
	b.buf.WriteString("\ndata: ")
	b.buf.Write(data) // JSON from a decoder: one line
	b.buf.WriteString("\n\n")
}
