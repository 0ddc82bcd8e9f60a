package provider

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

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

// awsErrors maps Bedrock's and SageMaker's error types (x-amzn-ErrorType,
// and a stream's exceptions, named with a lower-case first letter) to
// Anthropic's, and to the status breakerd answers with where AWS's own
// would mislead: a model that failed (424) is the upstream's failure.
var awsErrors = map[string]struct {
	typ    string
	status int
}{
	"ValidationException":                 {"invalid_request_error", 0},
	"AccessDeniedException":               {"permission_error", 0},
	"UnrecognizedClientException":         {"authentication_error", 0},
	"ResourceNotFoundException":           {"not_found_error", 0},
	"ThrottlingException":                 {"rate_limit_error", 0},
	"ServiceQuotaExceededException":       {"rate_limit_error", http.StatusTooManyRequests},
	"ModelNotReadyException":              {"overloaded_error", 0},
	"ModelTimeoutException":               {"api_error", http.StatusGatewayTimeout},
	"ModelErrorException":                 {"api_error", http.StatusBadGateway},
	"ModelStreamErrorException":           {"api_error", http.StatusBadGateway},
	"InternalServerException":             {"api_error", 0},
	"ServiceUnavailableException":         {"overloaded_error", 0},
	"ServiceUnavailable":                  {"overloaded_error", 0},
	"InvalidSignatureException":           {"authentication_error", 0},
	"IncompleteSignatureException":        {"authentication_error", 0},
	"MissingAuthenticationTokenException": {"authentication_error", 0},
	// SageMaker's runtime's.
	"ValidationError":       {"invalid_request_error", 0},
	"ModelError":            {"api_error", http.StatusBadGateway},
	"InternalFailure":       {"api_error", 0},
	"ModelStreamError":      {"api_error", http.StatusBadGateway},
	"InternalStreamFailure": {"api_error", http.StatusBadGateway},
}

// awsErrorType is what awsErrors holds for name, matched
// without regard to its first letter's case.
func awsErrorType(name string) (typ string, status int) {
	if name == "" {
		return "", 0
	}
	v := awsErrors[strings.ToUpper(name[:1])+name[1:]]
	return v.typ, v.status
}

// bedrockError reads a Bedrock error answer (awsError).
func (p *anthropic) bedrockError(resp *http.Response) *Error {
	return awsError(resp, p.now(), p.redact)
}

// awsError reads an AWS service's error answer (Bedrock's, SageMaker's):
// {"message": ...} (or "Message"), its type in x-amzn-ErrorType
// ("ThrottlingException:http://..."), read as Anthropic's types
// (awsErrors).
func awsError(resp *http.Response, now time.Time, redact func(string) string) *Error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &Error{Status: resp.StatusCode, RetryAfter: ParseRetryAfter(resp.Header, now)}
	var body struct {
		Message  string `json:"message"`
		MessageC string `json:"Message"`
		// A SageMaker container's own error (ModelError, 424): its
		// status and answer.
		OriginalStatus  int    `json:"OriginalStatusCode"`
		OriginalMessage string `json:"OriginalMessage"`
	}
	_ = json.Unmarshal(data, &body)
	e.Message = strings.TrimSpace(cmp.Or(body.Message, body.MessageC, string(data), http.StatusText(resp.StatusCode)))
	name, _, _ := strings.Cut(resp.Header.Get("X-Amzn-Errortype"), ":")
	typ, status := awsErrorType(name)
	if status != 0 {
		e.Status = status
	}
	if body.OriginalStatus >= 400 && body.OriginalStatus < 500 {
		// The model refused the request (a prompt too long, a bad
		// parameter): its own 4xx, as it said it.
		e.Status, typ = body.OriginalStatus, ""
		e.Message = cmp.Or(containerMessage(body.OriginalMessage), e.Message)
	}
	if len(e.Message) > 300 {
		e.Message = e.Message[:300] + "..."
	}
	e.Code = name
	e.Type = anthropicErrorTypes[typ]
	if e.Type == "" {
		e.Type = "server_error"
		if e.Status < 500 {
			e.Type = "invalid_request_error"
		}
	}
	e.Message, e.Code = redact(e.Message), redact(e.Code)
	return e
}

// containerMessage is what a SageMaker container's error answer says: an
// OpenAI-style {"error": {"message"}}, TGI's {"error": "..."}, or the
// answer as it is.
func containerMessage(answer string) string {
	var openai struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	var tgi struct {
		Error string `json:"error"`
	}
	switch {
	case json.Unmarshal([]byte(answer), &openai) == nil && openai.Error.Message != "":
		return openai.Error.Message
	case json.Unmarshal([]byte(answer), &tgi) == nil && tgi.Error != "":
		return tgi.Error
	}
	return strings.TrimSpace(answer)
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

// awsSigner signs calls with AWS Signature Version 4, as AWS's SDKs do:
// the host and every header set (but those a proxy may change) signed,
// with the hash of the body.
type awsSigner struct {
	key             config.AWSKey
	region, service string
}

// unsignedHeaders are the headers AWS's SDKs leave out of a signature.
var unsignedHeaders = []string{"authorization", "user-agent", "x-amzn-trace-id", "expect", "transfer-encoding"}

// sign sets req's X-Amz-Date (and X-Amz-Security-Token for a temporary
// key) and Authorization, for body sent at now. req's headers must not
// change after, but for ones added that are left unsigned.
func (s awsSigner) sign(req *http.Request, body []byte, now time.Time) {
	amzDate := now.UTC().Format("20060102T150405Z")
	day := amzDate[:8]
	req.Header.Set("X-Amz-Date", amzDate)
	if tok := s.key.SessionToken.Value(); tok != "" {
		req.Header.Set("X-Amz-Security-Token", tok)
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if h, port, ok := strings.Cut(host, ":"); ok && (port == "443" && req.URL.Scheme == "https" || port == "80" && req.URL.Scheme == "http") {
		host = h
	}
	values := map[string]string{"host": host}
	if req.ContentLength > 0 {
		values["content-length"] = strconv.FormatInt(req.ContentLength, 10)
	}
	for k, vs := range req.Header {
		k = strings.ToLower(k)
		if slices.Contains(unsignedHeaders, k) {
			continue
		}
		trimmed := make([]string, len(vs))
		for i, v := range vs {
			trimmed[i] = strings.Join(strings.Fields(v), " ")
		}
		values[k] = strings.Join(trimmed, ",")
	}
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	slices.Sort(names)
	var canonical strings.Builder
	payload := sha256.Sum256(body)
	var query [][2]string
	for k, vs := range req.URL.Query() {
		for _, v := range vs {
			query = append(query, [2]string{awsEscape(k, true), awsEscape(v, true)})
		}
	}
	slices.SortFunc(query, func(a, b [2]string) int { return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1]) })
	canonical.WriteString(req.Method + "\n" + awsEscape(req.URL.EscapedPath(), false) + "\n")
	for i, kv := range query {
		if i > 0 {
			canonical.WriteByte('&')
		}
		canonical.WriteString(kv[0] + "=" + kv[1])
	}
	canonical.WriteString("\n")
	for _, k := range names {
		canonical.WriteString(k + ":" + values[k] + "\n")
	}
	signed := strings.Join(names, ";")
	canonical.WriteString("\n" + signed + "\n" + hex.EncodeToString(payload[:]))
	scope := day + "/" + s.region + "/" + s.service + "/aws4_request"
	hashed := sha256.Sum256([]byte(canonical.String()))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(hashed[:])
	key := []byte("AWS4" + s.key.Secret.Value())
	for _, part := range []string{day, s.region, s.service, "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+s.key.ID.Value()+"/"+scope+
		", SignedHeaders="+signed+", Signature="+hex.EncodeToString(hmacSHA256(key, toSign)))
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// awsEscape percent-encodes s as AWS's URIs are: all but the unreserved
// characters (and '/', unless slash), in upper-case hex.
func awsEscape(s string, slash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' && !slash {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
