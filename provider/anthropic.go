package provider

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/breakerd/breakerd/config"
)

// DefaultAnthropicVersion is sent as anthropic-version when the deployment
// sets no api_version.
const DefaultAnthropicVersion = "2023-06-01"

// anthropic speaks the Anthropic Messages API, translating from and to
// OpenAI's chat format so that OpenAI clients never notice.
type anthropic struct {
	d      config.Deployment
	rt     http.RoundTripper
	redact func(string) string
	now    func() time.Time
	urls   upstreamURLs
	// google, when set, makes this Claude on Vertex AI: its calls carry
	// the service account's token, the model goes in the URL, and
	// anthropic_version in the body (vertexRequest).
	google *googleTokens
	// entra, when set, gives this deployment's calls (Claude on Azure AI
	// Foundry's) Microsoft Entra ID tokens in place of a key.
	entra *entraTokens
	// aws, when set, signs this Bedrock deployment's calls.
	aws *awsKeys
	// inliner, when set, puts the images and documents a request names
	// by URL in it as data (Bedrock and Vertex AI take no URLs).
	inliner *inliner
}

// vertexAnthropicVersion is the anthropic_version Vertex AI's Claude takes.
const vertexAnthropicVersion = "vertex-2023-10-16"

// post builds a call of a Messages request (buf) to path (/v1/messages,
// /v1/messages/count_tokens) with the headers Anthropic's API wants: the
// version (version, if the body does not carry it), the betas (beta),
// the key, and the config's headers. On Vertex AI the call goes to the
// model's rawPredict (streamRawPredict for a stream, count-tokens' for a
// count) with the service account's token, the model out of the body and
// anthropic_version in it; on Bedrock to the model's InvokeModel
// (bedrockURL), signed last, as its signature covers the headers.
func (p *anthropic) post(ctx context.Context, path string, buf []byte, stream bool, version, beta string) (*http.Request, error) {
	beta = config.AnthropicBetas(p.platform(), beta)
	base := cmp.Or(p.d.APIBase, "https://api.anthropic.com")
	url := strings.TrimSuffix(base, "/v1") + path
	var err error
	if p.inliner != nil {
		if buf, err = p.inliner.inline(ctx, buf); err != nil {
			return nil, err
		}
	}
	switch {
	case p.google != nil:
		if buf, err = vertexRequest(buf, path); err != nil {
			return nil, &Error{Err: err, Message: "encode request: " + err.Error()}
		}
		switch {
		case strings.HasSuffix(path, "/count_tokens"):
			url = base + "/count-tokens:rawPredict"
		case stream:
			url = base + "/" + p.d.Model + ":streamRawPredict"
		default:
			url = base + "/" + p.d.Model + ":rawPredict"
		}
	case p.d.Bedrock != nil:
		if buf, err = bedrockBody(p.d.Bedrock, buf, beta, path, p.d.DefaultMaxTokens); err != nil {
			if e, ok := err.(*Error); ok {
				return nil, e // the request's, a 400
			}
			return nil, &Error{Err: err, Message: "encode request: " + err.Error()}
		}
		url = bedrockURL(base, p.d.Bedrock, path, stream)
	}
	hreq, err := p.urls.post(ctx, url, buf, stream)
	if err != nil {
		return nil, &Error{Err: err, Message: "build request: " + p.redact(err.Error())}
	}
	hreq.Header.Set("Content-Type", "application/json")
	switch {
	case p.google != nil:
		token, err := p.google.Token(ctx)
		if err != nil {
			return nil, err
		}
		hreq.Header.Set("Authorization", "Bearer "+token)
	case p.d.Bedrock != nil:
	case p.entra != nil:
		token, err := p.entra.Token(ctx)
		if err != nil {
			return nil, err
		}
		hreq.Header.Set("anthropic-version", version)
		hreq.Header.Set("Authorization", "Bearer "+token)
	default:
		hreq.Header.Set("anthropic-version", version)
		hreq.Header.Set(cmp.Or(p.d.KeyHeader, "x-api-key"), p.d.APIKey.Value())
	}
	if beta != "" && p.d.Bedrock == nil {
		hreq.Header.Set("anthropic-beta", beta)
	}
	if b := p.d.Bedrock; b != nil && b.Guardrail != nil && !b.Converse && !strings.HasSuffix(path, "/count_tokens") {
		guardrailHeaders(hreq.Header, b.Guardrail)
	}
	configHeaders(hreq.Header, p.d)
	if p.d.Bedrock != nil {
		if err := p.bedrockAuth(ctx, hreq, buf); err != nil {
			return nil, err
		}
	}
	return hreq, nil
}

// platform names the platform serving the deployment's Claude, for the
// betas it takes (config.AnthropicBetas): "bedrock" (InvokeModel;
// Converse takes none), "vertex_ai", "azure_ai" (Azure AI Foundry);
// "" for Anthropic's own API, or a server that speaks it.
func (p *anthropic) platform() string {
	switch {
	case p.google != nil:
		return "vertex_ai"
	case p.d.Bedrock != nil:
		return "bedrock"
	case p.entra != nil || p.d.Provider == "azure" || p.d.Provider == "azure_ai":
		return "azure_ai"
	}
	return ""
}

// vertexRequest is a Messages request as Vertex AI's Claude takes it: no
// model (the URL names it; count-tokens' keeps it), anthropic_version in
// the body.
func vertexRequest(buf []byte, path string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(buf, &m); err != nil {
		return nil, err
	}
	if !strings.HasSuffix(path, "/count_tokens") {
		delete(m, "model")
	}
	if _, set := m["anthropic_version"]; !set {
		m["anthropic_version"], _ = json.Marshal(vertexAnthropicVersion)
	}
	return json.Marshal(m)
}

func (p *anthropic) Name() string { return "anthropic" }

// Supports is true for chat only (Anthropic has no embeddings API), and
// for embeddings only on a Bedrock embedding model.
func (p *anthropic) Supports(op Operation) bool {
	if p.d.Bedrock != nil && p.d.Embeddings {
		return op == Embeddings
	}
	return op == Chat
}

// Unsupported lists the parameters with no Anthropic equivalent that req
// sets to a value that matters (n: 2, a seed, logit_bias, ...), those the
// translation does not know (a parameter newer than it), and those
// the deployment's model refuses (temperature on Claude Opus 4.7, or with
// thinking on; top_p with temperature on Claude 4.5), the only ones of a
// request in Anthropic's own Messages API.
func (p *anthropic) Unsupported(req *Request) ([]string, string) {
	if req.Op == Embeddings {
		return nil, "" // Bedrock's embeddings take OpenAI's parameters as they are
	}
	var fields map[string]json.RawMessage
	var err error
	if req.API == APIMessages {
		// Anthropic's own API: only the sampling members matter, read in
		// place (a Messages prompt can be megabytes), if there are any.
		if !slices.ContainsFunc([]string{"temperature", "top_p", "top_k"}, func(k string) bool {
			_, set := req.Defaults[k]
			return set || bytes.Contains(req.Body, []byte(`"`+k+`"`))
		}) {
			return nil, ""
		}
		fields = samplingFields(req)
	} else if fields, err = req.Fields(); err != nil {
		return nil, ""
	}
	var out []string
	why := ""
	samp := samplingOf(p.d.Model, fields)
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		w := unsupportedParams[k]
		switch {
		case req.API == APIMessages:
			// Anthropic's own API: only what this model refuses of a
			// request another Claude may take (a fallback's).
			w = samplingRefused(p.d.Model, k, fields[k], samp)
		case w != "" && isDefault(k, fields[k]):
			w = ""
		case w == "" && !translatedParams[k] && !ignoredParams[k]:
			w = "Anthropic has no such parameter"
		case w == "":
			w = samplingRefused(p.d.Model, k, fields[k], samp)
		}
		if w != "" {
			if why == "" {
				why = w
			}
			out = append(out, k)
		}
	}
	if b := p.d.Bedrock; b != nil && b.Converse {
		why = strings.ReplaceAll(why, "Anthropic", "Bedrock's Converse API")
	}
	return out, why
}

// Unfit says why the deployment cannot take req: a chat request's
// custom tool (OpenAI's free-form tools, which Anthropic has no
// equivalent of), or a conversation that ends with the assistant's
// message (a prefill) on Claude 4.6 and later, in Anthropic's own API
// and in chat's (whose last assistant message the translation makes the
// prefill).
func (p *anthropic) Unfit(req *Request) string {
	if req.Op != Chat {
		return ""
	}
	if req.API != APIMessages && bytes.Contains(req.Body, []byte(`"custom"`)) {
		if t := CustomTool(req.Body); t != "" {
			return t + ": OpenAI's custom tools (free-form input) have no Anthropic equivalent"
		}
	}
	if config.ClaudeOf(p.d.Model).NoPrefill && endsWithAssistant(req.Body) {
		return fmt.Sprintf("%s does not take a conversation that ends with an assistant message (a prefill): it must end with a user message", p.d.Model)
	}
	if usOnly(req.Body) && !p.inUS() {
		return fmt.Sprintf("inference_geo \"us\" asks for US-only inference, which %s cannot promise (Anthropic's own API at Claude 4.6 and later, or a platform endpoint in the US, can)", p.d.Model)
	}
	return ""
}

// usOnly reports whether a Messages body asks for US-only inference
// (inference_geo: "us").
func usOnly(body []byte) bool {
	if !bytes.Contains(body, []byte(`"inference_geo"`)) {
		return false
	}
	us := false
	EachField(body, func(k, v []byte) { us = us || string(k) == "inference_geo" && string(v) == `"us"` })
	return us
}

// inUS reports whether the deployment runs a request's inference in the
// US alone when asked: Anthropic's own API at a model that takes
// inference_geo, or another platform's endpoint in a US region (Bedrock,
// Vertex AI: the endpoint decides, and inference_geo is not theirs).
func (p *anthropic) inUS() bool {
	if p.platform() == "" {
		return config.ClaudeOf(p.d.Model).Geo
	}
	return p.d.Region == "us"
}

// CustomTool names a chat request's first custom tool (OpenAI's
// free-form tools: "tools[1]"), "" when it has none.
func CustomTool(body []byte) (at string) {
	EachField(body, func(k, v []byte) {
		if string(k) != "tools" {
			return
		}
		i := 0
		EachElement(v, func(t []byte) {
			EachField(t, func(k, v []byte) {
				if string(k) == "type" && string(v) == `"custom"` && at == "" {
					at = fmt.Sprintf("tools[%d]", i)
				}
			})
			i++
		})
	})
	return at
}

// endsWithAssistant reports whether the last of a request's messages,
// system and developer messages aside (chat's; the translation moves
// them to the system prompt), is the assistant's. It reads in place: the
// messages once to find the last, and each of those from the end only
// when the last is a system message.
func endsWithAssistant(body []byte) bool {
	if !bytes.Contains(body, []byte(`"assistant"`)) {
		return false // a first turn: no need to scan a long prompt
	}
	var msgs [][]byte
	var last []byte
	EachField(body, func(k, v []byte) {
		if string(k) == "messages" {
			EachElement(v, func(m []byte) { last = m })
			if role := roleOf(last); role == "system" || role == "developer" {
				EachElement(v, func(m []byte) { msgs = append(msgs, m) })
			}
		}
	})
	for i := len(msgs) - 1; i >= 0; i-- {
		if role := roleOf(msgs[i]); role != "system" && role != "developer" {
			return role == "assistant"
		}
	}
	return roleOf(last) == "assistant"
}

// roleOf is a message's role, read in place.
func roleOf(msg []byte) (role string) {
	EachField(msg, func(k, v []byte) {
		if string(k) == "role" {
			role, _ = JSONString(v)
		}
	})
	return role
}

// samplingFields returns the members of req's body (with its defaults,
// less its drops) that decide what a Claude takes of its sampling, read
// in place, without decoding the rest.
func samplingFields(req *Request) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	keep := func(k string, v []byte) {
		switch k {
		case "temperature", "top_p", "top_k", "thinking", "reasoning_effort":
			m[k] = v
		}
	}
	EachField(req.Body, func(k, v []byte) { keep(string(k), v) })
	for k, v := range req.Defaults {
		if _, set := m[k]; !set {
			keep(k, v)
		}
	}
	for _, k := range req.Drop {
		delete(m, k)
	}
	return m
}

// Native is true for chat (translated here) and for Anthropic's own
// Messages API, which passes through untouched.
func (p *anthropic) Native(api API) bool {
	if api == APIMessageBatches { // Anthropic's own API has them; Bedrock, Vertex AI and Azure do not
		return p.google == nil && p.d.Bedrock == nil && p.entra == nil && p.d.Provider == "anthropic"
	}
	return api == APIChat || api == "" || api == APIMessages
}

// Stored makes a call on what Anthropic's API stores, its Message Batches
// (call.Path "messages/batches...", under /v1) and the files of its Files
// API ("files..."), with the deployment's key, and the client's
// anthropic-version and anthropic-beta (call.Header). Only a deployment
// Native(APIMessageBatches) has them.
func (p *anthropic) Stored(ctx context.Context, call StoredCall) (*Response, error) {
	base := strings.TrimSuffix(cmp.Or(p.d.APIBase, "https://api.anthropic.com"), "/v1") + "/v1"
	hreq, err := call.request(ctx, base, call.Query, p.redact)
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", cmp.Or(call.ContentType, "application/json"))
	hreq.Header.Set("anthropic-version", cmp.Or(call.Header.Get("Anthropic-Version"), p.d.APIVersion, DefaultAnthropicVersion))
	if beta := call.Header.Values("Anthropic-Beta"); len(beta) > 0 {
		hreq.Header.Set("anthropic-beta", strings.Join(beta, ","))
	}
	hreq.Header.Set(cmp.Or(p.d.KeyHeader, "x-api-key"), p.d.APIKey.Value())
	configHeaders(hreq.Header, p.d)
	resp, _, err := call.answer(ctx, p.rt, hreq, false, &storedIDs{provider: p.d.Provider, deployment: p.d.Name}, p.redact, p.httpError)
	if err != nil {
		return nil, err
	}
	resp.Model = p.d.Model
	return resp, nil
}

// sendMessages passes a Messages API request through: the client's body
// with the deployment's model, the client's anthropic-version and
// anthropic-beta, and the answer or stream as Anthropic sent it.
func (p *anthropic) sendMessages(ctx context.Context, req *Request, path string) (*Response, error) {
	if p.platform() != "" && bytes.Contains(req.Body, []byte(`"fallbacks"`)) {
		// Anthropic's server-side fallback, its own API's alone (the
		// other platforms refuse the key, as they do its beta).
		r := *req
		r.Drop = append(slices.Clip(r.Drop), "fallbacks")
		req = &r
	}
	if bytes.Contains(req.Body, []byte(`"inference_geo"`)) && (p.platform() != "" || !config.ClaudeOf(p.d.Model).Geo) {
		// inference_geo is Anthropic's own API's, at Claude 4.6 and
		// later: elsewhere the endpoint's region is where inference runs
		// (Unfit passed over those that cannot promise "us").
		r := *req
		r.Drop = append(slices.Clip(r.Drop), "inference_geo")
		req = &r
	}
	if b := withoutForeignThinking(req.Body); len(b) != len(req.Body) {
		r := *req
		r.Body = b
		req = &r
	}
	unthought := ""
	if bytes.Contains(req.Body, []byte(`"tool_use"`)) && !thinkingLeadsToolUseIn(req.Body) {
		// A tool loop that went on at a model that does not think as
		// Claude does (a fallback, translated) has a last tool call no
		// thinking led, which Claude refuses with thinking on ("a final
		// `assistant` message must start with a thinking block"). The
		// step goes without thinking, as LiteLLM's modify_params does.
		r := *req
		r.Drop = append(slices.Clip(r.Drop), "thinking")
		req, unthought = &r, "the last tool call has no thinking before it (made where Claude's thinking was not)"
	}
	fast := false
	if takes, _ := config.FastMode(p.d.Model); bytes.Contains(req.Body, []byte(`"speed"`)) {
		if p.platform() != "" || !takes {
			// Fast mode (speed: "fast", Claude Code's /fast) is Anthropic's
			// own API's, at the models that have it: elsewhere the key is
			// refused (Opus 4.7 and 4.8 answer an error; the other
			// platforms drop its beta), and standard speed gives the same
			// answer.
			req = withoutSpeed(req)
		} else {
			EachField(req.Body, func(k, v []byte) { fast = fast || string(k) == "speed" && string(v) == `"fast"` })
		}
	}
	var rem Remaining
	slowed := ""
	body, data, err := p.roundTripMessages(ctx, req, path, &rem)
	if perr := (*Error)(nil); fast && errors.As(err, &perr) && perr.Status == http.StatusTooManyRequests {
		// Fast mode has rate limits of its own: at its limit the call
		// goes at standard speed, as Anthropic's documents do it, and
		// the deployment, whose standard capacity is there, is not
		// passed over for everyone.
		rem = Remaining{}
		slowed = perr.Message
		body, data, err = p.roundTripMessages(ctx, withoutSpeed(req), path, &rem)
	}
	if err != nil {
		return nil, err
	}
	if body != nil {
		events, why, u := p.declined(body)
		return &Response{Frames: newRawStream(ctx, events, APIMessages, p.redact), Model: p.d.Model, Remaining: rem, Refusal: why, Usage: u,
			Slowed: slowed, Unthought: unthought}, nil
	}
	if p.d.Bedrock != nil {
		if data, err = p.bedrockAnswer(data, path); err != nil {
			return nil, err
		}
	}
	u, ok := nativeUsage(data)
	if !ok {
		return nil, &Error{Status: http.StatusBadGateway, Message: "upstream sent invalid JSON"}
	}
	return &Response{Body: data, Model: p.d.Model, Usage: u, Remaining: rem, Refusal: refusalOf(data), Slowed: slowed, Unthought: unthought}, nil
}

// withoutSpeed is req without its speed (fast mode's).
func withoutSpeed(req *Request) *Request {
	r := *req
	r.Drop = append(slices.Clip(r.Drop), "speed")
	return &r
}

// roundTripMessages sends a Messages request (sendMessages) and returns
// its stream's body, or its whole answer.
func (p *anthropic) roundTripMessages(ctx context.Context, req *Request, path string, rem *Remaining) (io.ReadCloser, []byte, error) {
	buf, err := req.BodyFor(p.d.Model)
	if err != nil {
		return nil, nil, &Error{Err: err, Message: "encode request: " + err.Error()}
	}
	if buf, err = fitClaude(p.d.Model, buf); err != nil {
		return nil, nil, err
	}
	buf = withoutClearThinking(buf)
	hreq, err := p.post(ctx, path, buf, req.Stream, cmp.Or(req.Header.Get("anthropic-version"), p.d.APIVersion, DefaultAnthropicVersion),
		strings.Join(req.Header.Values("anthropic-beta"), ","))
	if err != nil {
		return nil, nil, err
	}
	return roundTrip(ctx, p.rt, hreq, req.Stream, p.redact, p.httpError, rem)
}

// CountTokens passes a /v1/messages/count_tokens request through.
func (p *anthropic) CountTokens(ctx context.Context, req *Request) (*Response, error) {
	return p.sendMessages(ctx, req, "/v1/messages/count_tokens")
}

func (p *anthropic) Send(ctx context.Context, req *Request) (*Response, error) {
	if req.API == APIMessages {
		return p.sendMessages(ctx, req, "/v1/messages")
	}
	if req.Op == Embeddings && p.d.Bedrock != nil && p.d.Embeddings {
		return p.bedrockEmbeddings(ctx, req)
	}
	if req.Op != Chat {
		return nil, &Error{Status: http.StatusBadRequest, Type: "invalid_request_error",
			Message: "Anthropic deployments serve chat completions only, not " + string(req.Op)}
	}
	fields, err := req.Fields()
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: "invalid JSON body"}
	}
	if len(p.d.CachePoints) > 0 {
		markCachePoints(fields, p.d.CachePoints)
	}
	// Anthropic's own API has structured outputs; Bedrock's and Vertex
	// AI's may not yet: the forced tool works everywhere.
	formats := config.ClaudeOf(p.d.Model).Format && p.d.Bedrock == nil && p.google == nil
	areq, terr := toAnthropic(fields, p.d.Model, p.d.DefaultMaxTokens, formats)
	if terr != nil {
		return nil, terr
	}
	buf, err := json.Marshal(areq)
	if err != nil {
		return nil, &Error{Err: err, Message: "encode request: " + err.Error()}
	}
	hreq, err := p.post(ctx, "/v1/messages", buf, req.Stream, cmp.Or(p.d.APIVersion, DefaultAnthropicVersion), "")
	if err != nil {
		return nil, err
	}
	var rem Remaining
	body, data, err := roundTrip(ctx, p.rt, hreq, req.Stream, p.redact, p.httpError, &rem)
	if err != nil {
		return nil, err
	}
	if body != nil {
		events, why, u := p.declined(body)
		st := newAnthropicStream(ctx, events, p.d.Model, req.IncludeUsage, p.now().Unix(), p.redact)
		st.jsonMode = areq.jsonMode
		return &Response{Stream: st, Model: p.d.Model, Remaining: rem, Refusal: why, Usage: u}, nil
	}
	if p.d.Bedrock != nil {
		if data, err = p.bedrockAnswer(data, "/v1/messages"); err != nil {
			return nil, err
		}
	}
	var ar anthropicResponse
	if err := json.Unmarshal(data, &ar); err != nil {
		return nil, &Error{Status: http.StatusBadGateway, Err: err, Message: "upstream sent invalid JSON"}
	}
	out, _ := json.Marshal(fromAnthropic(&ar, p.d.Model, p.now().Unix(), areq.jsonMode))
	return &Response{Body: out, Model: p.d.Model, Usage: ar.Usage.usage(), Remaining: rem, Refusal: refusalOf(data)}, nil
}

// refusalOf says why Claude declined the request in a whole answer
// (data): its stop_details' explanation, or its category; "" when it
// did not.
func refusalOf(data []byte) string {
	if !bytes.Contains(data, []byte(`"refusal"`)) {
		return ""
	}
	var a struct {
		StopReason  string `json:"stop_reason"`
		StopDetails *struct {
			Category    *string `json:"category"`
			Explanation *string `json:"explanation"`
		} `json:"stop_details"`
	}
	if json.Unmarshal(data, &a) != nil || a.StopReason != "refusal" {
		return ""
	}
	why := "its safety classifiers declined it"
	if d := a.StopDetails; d != nil && d.Explanation != nil {
		why = *d.Explanation
	} else if d != nil && d.Category != nil {
		why += " (" + *d.Category + ")"
	}
	return why
}

// anthropicErrorTypes maps Anthropic error types to OpenAI's.
var anthropicErrorTypes = map[string]string{
	"invalid_request_error": "invalid_request_error",
	"authentication_error":  "authentication_error",
	"permission_error":      "permission_error",
	"not_found_error":       "not_found_error",
	"request_too_large":     "invalid_request_error",
	"rate_limit_error":      "rate_limit_error",
	"api_error":             "server_error",
	"overloaded_error":      "server_error",
}

// streamEventError is the *Error of an error event in a stream, Anthropic's
// (overloaded_error is its 529) or a Responses stream's, redacted.
func streamEventError(typ, msg string, redact func(string) string) *Error {
	status := http.StatusBadGateway
	switch typ {
	case "overloaded_error":
		status = 529
	case "server_is_overloaded": // the Responses API's
		status = http.StatusServiceUnavailable
	}
	return &Error{Status: status, Type: cmp.Or(anthropicErrorTypes[typ], "server_error"), Code: typ,
		Message: redact("upstream stream error: " + msg)}
}

// events is a stream's body as Anthropic's SSE events: Bedrock's event
// stream read as such (bedrockStream), any other as it is.
func (p *anthropic) events(body io.ReadCloser) io.ReadCloser {
	if b := p.d.Bedrock; b != nil {
		return newBedrockStream(body, b.Converse, p.d.Model)
	}
	return body
}

// declined returns a stream's events (p.events) and, for a model whose
// classifiers may decline a request, whether they declined it before any
// content, as Response.Refusal says it, with the usage so far: such a
// stream is a message_start and a message_delta whose stop_reason is
// "refusal", with no content block. It reads the stream's first events,
// up to its first content block (or at most maxDeclineEvents), and the
// stream returned replays them.
func (p *anthropic) declined(body io.ReadCloser) (io.ReadCloser, string, Usage) {
	events := p.events(body)
	if !config.ClaudeOf(p.d.Model).Classifiers {
		return events, "", Usage{}
	}
	var read bytes.Buffer
	r := newSSEReader(io.TeeReader(events, &read))
	var counts anthropicUsage
	why := ""
	for range maxDeclineEvents {
		data, err := r.next()
		if err != nil {
			break
		}
		var ev struct {
			Type    string `json:"type"`
			Message struct {
				Usage anthropicUsage `json:"usage"`
			} `json:"message"`
			Delta json.RawMessage `json:"delta"`
			Usage *anthropicUsage `json:"usage"`
		}
		if json.Unmarshal(data, &ev) != nil {
			break
		}
		if ev.Type == "message_start" {
			counts = ev.Message.Usage
			continue
		}
		if ev.Type == "message_delta" {
			if why = refusalOf(ev.Delta); why != "" && ev.Usage != nil {
				counts.merge(*ev.Usage)
			}
		}
		if ev.Type != "ping" {
			break // content, or the answer's end: nothing declined before it
		}
	}
	replay := struct {
		io.Reader
		io.Closer
	}{io.MultiReader(&read, events), events}
	if why == "" {
		return replay, "", Usage{}
	}
	return replay, why, counts.usage()
}

// maxDeclineEvents bounds the events declined reads before it gives up
// looking for a refusal (an upstream's pings, or unknown events).
const maxDeclineEvents = 8

func (p *anthropic) httpError(resp *http.Response) *Error {
	if p.d.Bedrock != nil {
		return awsError(resp, p.now(), p.redact)
	}
	e, typ, _ := upstreamError(resp, p.now(), p.redact)
	e.Code, e.Type = typ, anthropicErrorTypes[typ]
	if e.Type == "" {
		e.Type = "server_error"
		if resp.StatusCode < 500 {
			e.Type = "invalid_request_error"
		}
	}
	return e
}

// anthropicStream turns Anthropic stream events into OpenAI chunks.
type anthropicStream struct {
	chatChunks
	counts anthropicUsage // Anthropic's, for the usage chunk
	// toolIndex maps an Anthropic content block index to the OpenAI
	// tool_calls index.
	toolIndex map[int]int
	// jsonMode turns the forced JSON tool's input deltas into content
	// (response_format); jsonBlock is its block index, -1 before it.
	jsonMode  bool
	jsonBlock int
	// thought is the thinking block under way's text, and thoughts the
	// number of thinking blocks sent (thinking_blocks' index).
	thought  strings.Builder
	thoughts int
}

func newAnthropicStream(ctx context.Context, body io.ReadCloser, model string, includeUsage bool, created int64, redact func(string) string) *anthropicStream {
	return &anthropicStream{chatChunks: newChatChunks(ctx, body, model, includeUsage, created, redact), toolIndex: map[int]int{}, jsonBlock: -1}
}

func (s *anthropicStream) Next() ([]byte, error) {
	return s.next(s, "stream ended before message_stop")
}

// thinkingBlock sends a whole thinking block in thinking_blocks (LiteLLM's
// field), indexed so that stream accumulators keep each apart.
func (s *anthropicStream) thinkingBlock(b map[string]any) {
	b["index"] = s.thoughts
	s.thoughts++
	s.chunk(map[string]any{"thinking_blocks": []map[string]any{b}}, nil)
}

func (s *anthropicStream) translate(data []byte) error {
	var ev struct {
		Type    string `json:"type"`
		Index   int    `json:"index"`
		Message struct {
			ID    string         `json:"id"`
			Usage anthropicUsage `json:"usage"`
		} `json:"message"`
		ContentBlock anthropicBlock `json:"content_block"`
		Delta        struct {
			Type        string `json:"type"`
			Text        string `json:"text"`
			Thinking    string `json:"thinking"`
			Signature   string `json:"signature"`
			PartialJSON string `json:"partial_json"`
			StopReason  string `json:"stop_reason"`
		} `json:"delta"`
		Usage *anthropicUsage `json:"usage"`
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return &Error{Err: err, Message: "upstream sent an invalid stream event"}
	}
	switch ev.Type {
	case "message_start":
		s.id = ev.Message.ID
		s.counts = ev.Message.Usage
		s.usage = s.counts.usage()
		s.chunk(map[string]any{"role": "assistant", "content": ""}, nil)
	case "content_block_start":
		if s.jsonMode && ev.ContentBlock.Type == "tool_use" && ev.ContentBlock.Name == jsonTool {
			s.jsonBlock = ev.Index // its input streams as the answer's content
		} else if ev.ContentBlock.Type == "tool_use" {
			i := len(s.toolIndex)
			s.toolIndex[ev.Index] = i
			s.chunk(map[string]any{"tool_calls": []map[string]any{{"index": i, "id": ev.ContentBlock.ID, "type": "function",
				"function": map[string]any{"name": ev.ContentBlock.Name, "arguments": ""}}}}, nil)
		} else if ev.ContentBlock.Type == "redacted_thinking" {
			s.thinkingBlock(map[string]any{"type": "redacted_thinking", "data": ev.ContentBlock.Data})
		} else if ev.ContentBlock.Text != "" {
			s.chunk(map[string]any{"content": ev.ContentBlock.Text}, nil)
		}
	case "content_block_delta":
		switch ev.Delta.Type {
		case "text_delta":
			s.chunk(map[string]any{"content": ev.Delta.Text}, nil)
		case "thinking_delta":
			s.thought.WriteString(ev.Delta.Thinking)
			s.chunk(map[string]any{"reasoning_content": ev.Delta.Thinking}, nil)
		case "signature_delta":
			// The thinking block ends: the whole of it, to be sent back.
			s.thinkingBlock(map[string]any{"type": "thinking", "thinking": s.thought.String(), "signature": ev.Delta.Signature})
			s.thought.Reset()
		case "input_json_delta":
			if ev.Index == s.jsonBlock {
				s.chunk(map[string]any{"content": ev.Delta.PartialJSON}, nil)
				break
			}
			s.chunk(map[string]any{"tool_calls": []map[string]any{{"index": s.toolIndex[ev.Index],
				"function": map[string]any{"arguments": ev.Delta.PartialJSON}}}}, nil)
		}
	case "message_delta":
		if u := ev.Usage; u != nil {
			s.counts.merge(*u)
			s.usage = s.counts.usage()
		}
		stop := ev.Delta.StopReason
		if stop == "tool_use" && s.jsonBlock >= 0 && len(s.toolIndex) == 0 {
			stop = "end_turn" // the JSON answer, not a tool call
		}
		s.chunk(map[string]any{}, finishReason(stop))
	case "message_stop":
		s.usageChunk(s.counts.openAI())
		s.done = true
	case "error":
		return streamEventError(ev.Error.Type, ev.Error.Message, s.redact)
	}
	// ping, content_block_stop and unknown future events carry nothing to
	// translate.
	return nil
}
