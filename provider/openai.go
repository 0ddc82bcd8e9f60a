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
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/breakerd/breakerd/config"
)

// maxResponseBytes bounds a non-streaming upstream body.
const maxResponseBytes = 64 << 20

// openAI speaks the OpenAI API: OpenAI itself, Azure OpenAI (deployment
// URLs, api-version, api-key header) and any OpenAI-compatible server.
type openAI struct {
	d      config.Deployment
	rt     http.RoundTripper
	redact func(string) string
	// header holds the headers every request carries (content type and
	// key), built once: Send shares their value slices, which net/http
	// only reads, instead of allocating them per request.
	header http.Header
	urls   upstreamURLs
	// url holds the upstream URL of each kind of call, built once.
	url [urlKinds]string
	// bearer, when set, gives each call its Authorization in place of a
	// key: a service account's token (Vertex AI), or Microsoft Entra
	// ID's (Azure).
	bearer bearerTokens
	// aws, when set, signs each call (a SageMaker endpoint's).
	aws *awsKeys
	// chatStream, when set, is where chat streams go (watsonx.ai's).
	chatStream string
	// refused are the quoted names of the parameters the deployment
	// refuses (config.Deployment.Refuses, and RefusesReasoning), to find
	// them in a body without reading it.
	refused [][]byte
	// inMessages are the quoted names of the message fields it refuses
	// (config.Deployment.RefusesInMessages), likewise.
	inMessages [][]byte
	// noStreamOptions is set once the upstream refused stream_options:
	// its streams are not asked for their usage again.
	noStreamOptions atomic.Bool
}

// setHeaders sets on h the headers every call carries (header), and the
// Authorization of a deployment that authenticates with tokens (bearer),
// fetched when it has none current; deployments with a key have theirs
// in header.
func (p *openAI) setHeaders(ctx context.Context, h http.Header) error {
	for k, v := range p.header {
		h[k] = v
	}
	if p.bearer == nil {
		return nil
	}
	token, err := p.bearer.Token(ctx)
	if err != nil {
		return err
	}
	h.Set("Authorization", "Bearer "+token)
	return nil
}

// The kinds of call an OpenAI-dialect upstream has a URL for.
const (
	urlChat = iota
	urlEmbeddings
	urlResponses
	urlCompletions
	urlCompact
	urlInputTokens
	urlTranscriptions
	urlTranslations
	urlSpeech
	urlImages
	urlImageEdits
	urlImageVariations
	urlModerations
	urlRerank
	urlKinds
)

func newOpenAI(d config.Deployment, rt http.RoundTripper, redact func(string) string) *openAI {
	h := http.Header{"Content-Type": {"application/json"}}
	if key := d.APIKey.Value(); key != "" {
		switch {
		case d.Dialect == config.DialectAzure:
			h.Set("api-key", key)
		case d.KeyHeader != "":
			h.Set(d.KeyHeader, key)
		default:
			h.Set("Authorization", "Bearer "+key)
		}
	}
	configHeaders(h, d)
	p := &openAI{d: d, rt: rt, redact: redact, header: h}
	for _, k := range slices.Sorted(maps.Keys(d.Refuses)) {
		p.refused = append(p.refused, []byte(`"`+k+`"`))
	}
	for _, k := range slices.Sorted(maps.Keys(d.Fit.RefusesReasoning)) {
		if _, dup := d.Refuses[k]; !dup {
			p.refused = append(p.refused, []byte(`"`+k+`"`))
		}
	}
	if d.Fit.ToolsWithoutReasoning {
		p.refused = append(p.refused, []byte(`"tools"`))
	}
	for _, f := range d.RefusesInMessages {
		p.inMessages = append(p.inMessages, []byte(`"`+f+`"`))
	}
	for kind, path := range [urlKinds]string{urlChat: "/chat/completions", urlEmbeddings: "/embeddings", urlResponses: "/responses",
		urlCompletions: "/completions", urlCompact: "/responses/compact", urlInputTokens: "/responses/input_tokens",
		urlTranscriptions: "/" + string(APITranscriptions), urlTranslations: "/" + string(APITranslations),
		urlSpeech: "/" + string(APISpeech), urlImages: "/" + string(APIImages), urlImageEdits: "/" + string(APIImageEdits),
		urlImageVariations: "/" + string(APIImageVariations), urlModerations: "/" + string(APIModerations), urlRerank: "/rerank"} {
		switch {
		case d.Dialect == config.DialectAzure && config.AzureV1(d.APIVersion):
			// Azure's v1 API: OpenAI's paths under /openai/v1, the
			// deployment named by the body's model.
			p.url[kind] = d.APIBase + "/openai/v1" + path
			if d.APIVersion == "preview" {
				p.url[kind] += "?api-version=preview"
			}
		case d.Dialect == config.DialectAzure && (kind == urlResponses || kind == urlCompact || kind == urlInputTokens):
			p.url[kind] = d.APIBase + "/openai" + path + "?api-version=" + config.AzureResponsesAPIVersion(d.APIVersion)
		case d.Dialect == config.DialectAzure:
			p.url[kind] = d.APIBase + "/openai/deployments/" + d.Model + path + "?api-version=" + d.APIVersion
		case d.Query != "":
			p.url[kind] = d.APIBase + path + "?" + d.Query
		default:
			p.url[kind] = d.APIBase + path
		}
	}
	if w := d.Watsonx; w != nil {
		p.url[urlChat], p.chatStream, p.url[urlEmbeddings] = watsonxURLs(d)
		switch {
		case w.ZenAPIKey != "":
			h.Set("Authorization", "ZenApiKey "+w.ZenAPIKey.Value())
		case w.Token != "":
			h.Set("Authorization", "Bearer "+w.Token.Value())
		default:
			h.Del("Authorization") // the API key is traded for tokens (ibmTokens), never sent
		}
	}
	if sm := d.SageMaker; sm != nil {
		// The endpoint's invocations take the chat request as it is.
		p.url[urlChat] = d.APIBase + "/endpoints/" + awsEscape(sm.Endpoint, true) + "/invocations"
	}
	if info, _ := config.LookupProvider(d.Provider); info.RerankURL != "" && d.APIBase == info.BaseURL {
		p.url[urlRerank] = info.RerankURL // not beside its OpenAI-compatible API
	}
	return p
}

func (p *openAI) Name() string { return p.d.Provider }

// Supports is true for chat, and for embeddings where the provider serves
// them (the provider table says which); a deployment of an audio or image
// mode serves that mode's operation alone.
func (p *openAI) Supports(op Operation) bool {
	if only, ok := modeOps[p.d.Mode]; ok {
		return op == only
	}
	switch p.d.Mode {
	case "embedding":
		// An embedding model's chat breaker would see no calls, and stay
		// closed while its embeddings fail: /health would call it healthy.
		return op == Embeddings
	case "chat":
		// Nor would a chat model's embeddings breaker, counted among the
		// circuits /health weighs.
		return op == Chat
	}
	return op == Chat || (op == Embeddings && p.d.Embeddings)
}

// Unfit is "": an OpenAI-compatible server answers for itself.
func (p *openAI) Unfit(*Request) string { return "" }

// Unsupported lists the chat parameters of req the provider refuses
// (config.Deployment.Refuses, Gemini's penalties) at a value that
// matters; for the rest, OpenAI-compatible servers get the client's body
// as it is, and answer for themselves.
func (p *openAI) Unsupported(req *Request) ([]string, string) {
	if !p.mayRefuse(req) {
		return nil, ""
	}
	fields, err := req.Fields()
	if err != nil {
		return nil, ""
	}
	var out []string
	why := ""
	// Chat's reasoning_effort (a Responses request's reasoning is its
	// own, and that API takes tools with reasoning).
	chat := req.API == "" || req.API == APIChat
	reasoning := chat && reasons(&p.d, fields["reasoning_effort"])
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		w := p.d.Refuses[k]
		if w == "" && reasoning {
			w = p.d.Fit.RefusesReasoning[k]
		}
		if w == "" && reasoning && k == "reasoning_effort" && p.d.Fit.ToolsWithoutReasoning && !p.d.Fit.ResponsesOnly && hasTools(fields["tools"]) {
			w = toolsWithoutReasoning
		}
		if w != "" && !isDefault(k, fields[k]) {
			why = cmp.Or(why, w)
			out = append(out, k)
		}
	}
	if _, set := fields["reasoning_effort"]; !set && reasoning && p.d.Fit.ToolsWithoutReasoning && !p.d.Fit.ResponsesOnly && hasTools(fields["tools"]) {
		// It reasons by default: none must be asked for (drop_params
		// does, in Send).
		why = cmp.Or(why, toolsWithoutReasoning)
		out = append(out, "reasoning_effort")
	}
	return out, why
}

// toolsWithoutReasoning is why a model refuses function tools while it
// reasons (config.Deployment.Fit.ToolsWithoutReasoning).
const toolsWithoutReasoning = "this model takes function tools in chat completions only with reasoning_effort none (its Responses API takes both)"

// hasTools reports whether a chat request's tools (raw) name any.
func hasTools(tools []byte) bool {
	t := bytes.TrimSpace(tools)
	if len(t) == 0 || t[0] != '[' {
		return false
	}
	i := skipSpace(t, 1)
	return i < len(t) && t[i] != ']'
}

// reasons reports whether a request with this reasoning_effort (raw;
// nil when it sets none) makes d's model reason, for what it refuses
// while it does (config.Deployment.Fit.RefusesReasoning).
func reasons(d *config.Deployment, effort []byte) bool {
	if len(effort) == 0 || string(effort) == "null" {
		return d.Fit.ReasonsByDefault
	}
	s, _ := JSONString(effort)
	return s != "none"
}

// Native is true for chat and legacy completions, which every
// OpenAI-dialect server speaks, and for the Responses API on OpenAI and
// Azure themselves; OpenAI-compatible servers mostly lack it, so the
// gateway translates it to chat for them.
func (p *openAI) Native(api API) bool {
	if p.d.SageMaker != nil || p.d.Watsonx != nil {
		return api == APIChat || api == "" // the endpoint's invocations, watsonx.ai's chat API
	}
	switch api {
	case APIChat, "", APICompletions:
		return true
	case APIResponses, APICompact:
		return p.d.Provider == "openai" || p.d.Dialect == config.DialectAzure
	case APITranscriptions, APITranslations, APISpeech, APIImages, APIImageEdits, APIImageVariations, APIModerations, APIRerank:
		return true
	}
	return false
}

// urlFor is the upstream URL for req.
func (p *openAI) urlFor(req *Request) string {
	switch {
	case req.Op == Embeddings:
		return p.url[urlEmbeddings]
	case req.API == APIChat || req.API == "":
		if req.Stream && p.chatStream != "" {
			return p.chatStream
		}
		return p.url[urlChat]
	}
	return p.url[apiURLs[req.API]]
}

// apiURLs are the kinds of URL of the APIs other than chat.
var apiURLs = map[API]int{APIResponses: urlResponses, APICompact: urlCompact, APICompletions: urlCompletions,
	APITranscriptions: urlTranscriptions, APITranslations: urlTranslations, APISpeech: urlSpeech, APIImages: urlImages,
	APIImageEdits: urlImageEdits, APIImageVariations: urlImageVariations, APIModerations: urlModerations, APIRerank: urlRerank}

func (p *openAI) Send(ctx context.Context, req *Request) (*Response, error) {
	return p.send(ctx, req, true)
}

// send is Send; mayAsk false sends a stream as the client sent it, not
// asking for its usage.
func (p *openAI) send(ctx context.Context, req *Request, mayAsk bool) (*Response, error) {
	if p.d.Watsonx != nil && req.Op == Embeddings {
		return p.watsonxEmbeddings(ctx, req)
	}
	// Azure routes by the deployment in the URL and ignores the body's
	// model; sending the deployment's name there is harmless.
	buf, err := req.BodyFor(p.d.Model)
	if err != nil {
		return nil, &Error{Err: err, Message: "encode request: " + err.Error()}
	}
	if req.API == APIResponses || req.API == APICompact {
		buf = withoutForeignReasoning(buf)
	}
	// A model of the Responses API alone takes chat through it.
	viaResponses := p.d.Fit.ResponsesOnly && req.Op == Chat && (req.API == "" || req.API == APIChat) && req.ContentType == "" &&
		p.d.SageMaker == nil && p.d.Watsonx == nil
	asked := mayAsk && p.asksStreamUsage(req) && !viaResponses
	if asked {
		buf = withStreamUsage(buf)
	}
	if len(p.d.ParamRenames) > 0 && req.ContentType == "" {
		buf = renamed(buf, p.d.ParamRenames)
	}
	if len(p.d.FlattenContent) > 0 && req.Op == Chat && req.ContentType == "" {
		buf = flattened(buf, p.d.FlattenContent)
	}
	if p.mayRefuse(req) {
		buf = withoutRefused(buf, &p.d)
	}
	if p.d.Fit.ToolsWithoutReasoning && p.d.Fit.ReasonsByDefault && !viaResponses && req.Op == Chat && (req.API == "" || req.API == APIChat) && req.ContentType == "" &&
		bytes.Contains(buf, []byte(`"tools"`)) {
		buf = withoutReasoningForTools(buf)
	}
	if len(p.d.Fit.Efforts) > 0 && req.Op == Chat && req.ContentType == "" && bytes.Contains(buf, []byte(`"reasoning`)) {
		buf = withEffortFitted(buf, p.d.Fit.Efforts)
	}
	if len(p.d.Fit.Verbosities) > 0 && req.Op == Chat && req.ContentType == "" && bytes.Contains(buf, []byte(`"verbosity"`)) {
		buf = withVerbosityFitted(buf, p.d.Fit.Verbosities)
	}
	if len(p.d.Fit.SchemaKeywords) > 0 && req.Op == Chat && req.ContentType == "" &&
		(bytes.Contains(buf, []byte(`"tools"`)) || bytes.Contains(buf, []byte(`"response_format"`))) {
		buf = withSchemasFitted(buf, p.d.Fit.SchemaKeywords)
	}
	if p.d.Fit.ThoughtSignatures && req.Op == Chat && req.ContentType == "" && bytes.Contains(buf, []byte(`"tool_calls"`)) {
		buf = withThoughtSignatures(buf)
	}
	if p.d.Fit.ReasoningContent && req.Op == Chat && req.ContentType == "" && bytes.Contains(buf, []byte(`"assistant"`)) {
		buf = withReasoningContent(buf)
	}
	if len(p.d.RefusesInMessages) > 0 && req.Op == Chat && req.ContentType == "" &&
		slices.ContainsFunc(p.inMessages, func(f []byte) bool { return bytes.Contains(buf, f) }) {
		buf = WithoutMessageFields(buf, p.d.RefusesInMessages)
	}
	if w := p.d.Watsonx; w != nil {
		buf = watsonxBody(buf, w)
	}
	url := p.urlFor(req)
	if viaResponses {
		var terr *Error
		if buf, terr = chatToResponses(buf); terr != nil {
			return nil, terr
		}
		url = p.url[urlResponses]
	}
	hreq, err := p.urls.post(ctx, url, buf, req.Stream)
	if err != nil {
		return nil, &Error{Err: err, Message: "build request: " + p.redact(err.Error())}
	}
	if err := p.setHeaders(ctx, hreq.Header); err != nil {
		return nil, err
	}
	if req.ContentType != "" {
		hreq.Header["Content-Type"] = []string{req.ContentType}
	}
	if req.API.media() {
		return p.media(ctx, req, hreq)
	}
	if p.d.SageMaker != nil {
		return p.sagemaker(ctx, req, hreq, buf)
	}
	if req.Stream {
		hreq.Header.Set("Accept", "text/event-stream")
	}
	var rem Remaining
	body, data, err := roundTrip(ctx, p.rt, hreq, req.Stream, p.redact, p.httpError, &rem)
	if err != nil {
		if refusal, ok := refused(err); asked && ok {
			// Perhaps a server that does not take stream_options: the call
			// made again as the client sent it. Asked no more when the
			// refusal named it, or the call as sent is taken.
			named := strings.Contains(refusal, "stream_options")
			resp, err := p.send(ctx, req, false)
			if named || err == nil {
				p.noStreamOptions.Store(true)
			}
			return resp, err
		}
		return nil, err
	}
	if viaResponses {
		return p.chatFromResponses(ctx, req, body, data, rem)
	}
	resp, err := p.response(ctx, req, body, data)
	if resp != nil {
		resp.Remaining = rem
		if st, ok := resp.Stream.(*sseStream); ok {
			st.hideUsage = asked && p.d.StreamUsage == config.StreamUsageHidden
			st.endsAtEOF = p.d.Watsonx != nil
		}
	}
	return resp, err
}

// refused reports whether err is an upstream's refusal of the request
// (a 400 or 422): of stream_options, perhaps (Azure's "Unrecognized
// request argument supplied: stream_options", a strict server's "extra
// inputs are not permitted").
// It returns what the upstream said.
func refused(err error) (string, bool) {
	var e *Error
	if errors.As(err, &e) && (e.Status == http.StatusBadRequest || e.Status == http.StatusUnprocessableEntity) {
		return e.Message, true
	}
	return "", false
}

// sagemaker sends a chat request (hreq, of buf) to a SageMaker endpoint:
// a stream to invocations-response-stream, read as the container's SSE
// (payloadStream); signed last, as the signature covers the headers.
func (p *openAI) sagemaker(ctx context.Context, req *Request, hreq *http.Request, buf []byte) (*Response, error) {
	if req.Stream {
		u := *hreq.URL
		u.Path += "-response-stream"
		u.RawPath = ""
		if hreq.URL.RawPath != "" {
			u.RawPath = hreq.URL.RawPath + "-response-stream"
		}
		hreq.URL = &u
	}
	key, err := p.aws.Key(ctx)
	if err != nil {
		return nil, err
	}
	awsSigner{key: key, region: p.d.SageMaker.Region, service: "sagemaker"}.sign(hreq, buf, time.Now())
	body, data, err := roundTrip(ctx, p.rt, hreq, req.Stream, p.redact, p.httpError, nil)
	if err != nil {
		return nil, err
	}
	if body != nil {
		body = newPayloadStream(body)
	}
	return p.response(ctx, req, body, data)
}

// media is the answer of an API whose answers pass through (audio,
// images, transcriptions): whole, with its media type, or, when the
// request asked for a stream and the upstream streams (a model without
// streaming answers whole), its events as they come.
func (p *openAI) media(ctx context.Context, req *Request, hreq *http.Request) (*Response, error) {
	if req.Stream {
		hreq.Header.Set("Accept", "text/event-stream")
	}
	resp, err := exchange(ctx, p.rt, hreq, p.redact, p.httpError)
	if err != nil {
		return nil, err
	}
	ctype := resp.Header.Get("Content-Type")
	if req.Stream && strings.HasPrefix(ctype, "text/event-stream") {
		return &Response{Frames: p.rawStream(ctx, resp.Body, req.API), Model: p.d.Model}, nil
	}
	defer resp.Body.Close()
	data, err := readBody(resp, maxResponseBytes)
	if err != nil {
		return nil, transportError(ctx, err, p.redact)
	}
	return &Response{Body: data, Model: p.d.Model, ContentType: ctype}, nil
}

// response is the answer to req: a stream when body is set, else data,
// read for its model and usage. It is apart from Send to keep Send's
// frame small: a stream is relayed on a stack that held it.
func (p *openAI) response(ctx context.Context, req *Request, body io.ReadCloser, data []byte) (*Response, error) {
	native := req.API == APIResponses || req.API == APICompletions || req.API == APICompact
	if body != nil {
		if native {
			return &Response{Frames: p.rawStream(ctx, body, req.API), Model: p.d.Model}, nil
		}
		st := newSSEStream(ctx, body, p.redact)
		if storesChat(req) {
			st.ids = &chatIDs{storedIDs: *p.ids()}
		}
		return &Response{Stream: st, Model: p.d.Model}, nil
	}
	if native {
		u, ok := nativeUsage(data)
		if !ok {
			return nil, &Error{Status: http.StatusBadGateway, Message: "upstream sent invalid JSON"}
		}
		if req.API == APIResponses || req.API == APICompact {
			data = markEncrypted(p.ids().object(data), p.d.Name)
		}
		return &Response{Body: data, Model: p.d.Model, Usage: u}, nil
	}
	m, ok := readMeta(data)
	if !ok {
		return nil, &Error{Status: http.StatusBadGateway, Message: "upstream sent invalid JSON"}
	}
	if storesChat(req) {
		data = (&chatIDs{storedIDs: *p.ids()}).object(data)
	}
	return &Response{Body: data, Model: m.model, Usage: Usage{InputTokens: m.prompt, OutputTokens: m.completion, CacheReadTokens: m.promptCached,
		ServiceTier: m.tier, Cost: m.cost}}, nil
}

// chatFromResponses is the chat answer to req, sent through the Responses
// API: a stream when body is set, else data.
func (p *openAI) chatFromResponses(ctx context.Context, req *Request, body io.ReadCloser, data []byte, rem Remaining) (*Response, error) {
	if body != nil {
		return &Response{Stream: newResponsesChatStream(ctx, body, req.IncludeUsage, p.d.Model, p.redact), Model: p.d.Model, Remaining: rem}, nil
	}
	out, u, err := responseToChat(data)
	if err != nil {
		return nil, err
	}
	return &Response{Body: out, Model: p.d.Model, Usage: u, Remaining: rem}, nil
}

// httpError reads an upstream error response (OpenAI's error shape, or
// anything else) into an *Error.
func (p *openAI) httpError(resp *http.Response) *Error {
	if p.d.SageMaker != nil {
		return awsError(resp, time.Now(), p.redact)
	}
	e, typ, code := upstreamError(resp, time.Now(), p.redact)
	e.Type, e.Code = typ, code
	return e
}

// asksStreamUsage reports whether req, a chat stream whose client did
// not ask for its usage, asks the upstream for it (config.StreamUsage).
// A SageMaker container's server may not take stream_options, nor Azure
// OpenAI at an older api-version, nor an upstream that refused it once.
func (p *openAI) asksStreamUsage(req *Request) bool {
	return req.Stream && !req.IncludeUsage && (req.API == APIChat || req.API == "") && req.ContentType == "" &&
		p.d.StreamUsage != config.StreamUsageOff && p.d.SageMaker == nil && p.d.Watsonx == nil && !p.noStreamOptions.Load() &&
		(p.d.Dialect != config.DialectAzure || config.AzureTakesStreamOptions(p.d.APIVersion))
}

// withStreamUsage is a chat request's body with
// stream_options.include_usage set, its other stream options kept; body
// as it is when its stream_options is not an object (the upstream will
// say so).
func withStreamUsage(body []byte) []byte {
	opts := []byte("{}")
	EachField(body, func(k, v []byte) {
		if string(k) == "stream_options" && string(v) != "null" {
			opts = v
		}
	})
	opts, ok := SetField(opts, "include_usage", []byte("true"))
	if !ok {
		return body
	}
	if b, ok := SetField(body, "stream_options", opts); ok {
		return b
	}
	return body
}

// openAIUsage is OpenAI's token count (chat's and completions'), the
// prompt's cached part in prompt_tokens_details.
type openAIUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	Cost float64 `json:"cost"` // Usage.Cost
}

func (u *openAIUsage) usage() Usage {
	return Usage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens, CacheReadTokens: u.PromptTokensDetails.CachedTokens, Cost: u.Cost}
}

// renamed is a request's body with its parameters named as the provider
// knows them (renames: OpenAI's name to the provider's); one the request
// also sets under the provider's name is left out. body as it is when it
// has none to rename.
func renamed(body []byte, renames map[string]string) []byte {
	found := false
	EachField(body, func(k, _ []byte) { _, ok := renames[string(k)]; found = found || ok })
	if !found {
		return body
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	for from, to := range renames {
		if v, ok := m[from]; ok {
			if _, set := m[to]; !set {
				m[to] = v
			}
			delete(m, from)
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// withoutReasoningForTools is a chat request's body with function tools
// and no reasoning_effort, for a model that reasons by default and takes
// tools in chat completions only without reasoning, given
// reasoning_effort none (drop_params dropped the request's, Unsupported
// having refused it); body as it is otherwise.
func withoutReasoningForTools(body []byte) []byte {
	var tools []byte
	effort := false
	EachField(body, func(k, v []byte) {
		switch string(k) {
		case "tools":
			tools = v
		case "reasoning_effort":
			effort = true
		}
	})
	if effort || !hasTools(tools) {
		return body
	}
	if b, ok := SetField(body, "reasoning_effort", []byte(`"none"`)); ok {
		return b
	}
	return body
}

// withEffortFitted is a chat request's body with its reasoning_effort (a
// Responses request's reasoning.effort) the nearest of those the model
// takes (config.NearestEffort); body as it is when it takes the
// request's.
func withEffortFitted(body []byte, efforts []string) []byte {
	return withFitted(body, "reasoning_effort", "reasoning", "effort", func(e string) string { return config.NearestEffort(e, efforts) })
}

// withVerbosityFitted is a request's body with its verbosity (chat's, or
// a Responses request's text.verbosity) one of those the model takes: the
// first of them in place of another; body as it is when it is one.
func withVerbosityFitted(body []byte, verbosities []string) []byte {
	return withFitted(body, "verbosity", "text", "verbosity", func(v string) string {
		if v == "" || slices.Contains(verbosities, v) {
			return v
		}
		return verbosities[0]
	})
}

// withFitted is a request's body with a string parameter as fit makes it:
// chat's key, or a Responses request's obj.inner; body as it is when fit
// leaves it as it is.
func withFitted(body []byte, key, obj, inner string, fit func(string) string) []byte {
	var value string
	var object []byte // a Responses request's object that holds it
	EachField(body, func(k, v []byte) {
		switch string(k) {
		case key:
			value, _ = JSONString(v)
		case obj:
			EachField(v, func(k, e []byte) {
				if string(k) == inner {
					value, _ = JSONString(e)
					object = v
				}
			})
		}
	})
	to := fit(value)
	if to == value {
		return body
	}
	v := []byte(strconv.Quote(to))
	if object != nil {
		var ok bool
		if v, ok = SetField(object, inner, v); !ok {
			return body
		}
		key = obj
	}
	if b, ok := SetField(body, key, v); ok {
		return b
	}
	return body
}

// mayRefuse reports whether req, a chat request, may set a parameter the
// deployment refuses: its body or the deployment's defaults name one. It
// reads no JSON, so that a request without one costs nothing.
func (p *openAI) mayRefuse(req *Request) bool {
	if len(p.refused) == 0 || req.Op != Chat || req.ContentType != "" {
		return false
	}
	for _, k := range p.refused {
		if _, set := req.Defaults[string(k[1:len(k)-1])]; set || bytes.Contains(req.Body, k) {
			return true
		}
	}
	return false
}

// withoutRefused is a chat request's body without the parameters d
// refuses that change nothing as sent: those refused with no reason (a
// cache routing hint), and the others at their default value, those it
// refuses while reasoning when the request makes it reason (Unsupported
// has the rest). body as it is when it has none.
func withoutRefused(body []byte, d *config.Deployment) []byte {
	var drop, whileReasoning []string
	var effort []byte
	EachField(body, func(k, v []byte) {
		key := string(k)
		if key == "reasoning_effort" {
			effort = v
		}
		if why, ok := d.Refuses[key]; ok && (why == "" || isDefault(key, v)) {
			drop = append(drop, key)
		} else if _, ok := d.Fit.RefusesReasoning[key]; ok && isDefault(key, v) {
			whileReasoning = append(whileReasoning, key)
		}
	})
	if len(whileReasoning) > 0 && reasons(d, effort) {
		drop = append(drop, whileReasoning...)
	}
	if len(drop) == 0 {
		return body
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	for _, k := range drop {
		delete(m, k)
	}
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// skipThoughtSignature is the thought signature Google documents for a
// tool call Gemini did not make: it skips the signature's check.
const skipThoughtSignature = "skip_thought_signature_validator"

// withThoughtSignatures is a chat request's body in which each assistant
// message's first tool call carries a thought signature, Gemini 3's
// (extra_content.google.thought_signature), the one it came with or
// skipThoughtSignature; body as it is when each has one.
func withThoughtSignatures(body []byte) []byte {
	return eachMessage(body, func(m map[string]json.RawMessage) bool {
		var calls []map[string]json.RawMessage
		if json.Unmarshal(m["tool_calls"], &calls) != nil || len(calls) == 0 {
			return false
		}
		var extra map[string]json.RawMessage
		_ = json.Unmarshal(calls[0]["extra_content"], &extra)
		var google map[string]json.RawMessage
		_ = json.Unmarshal(extra["google"], &google)
		if sig, _ := JSONString(google["thought_signature"]); sig != "" {
			return false
		}
		if extra == nil {
			extra = map[string]json.RawMessage{}
		}
		if google == nil {
			google = map[string]json.RawMessage{}
		}
		google["thought_signature"] = json.RawMessage(`"` + skipThoughtSignature + `"`)
		extra["google"], _ = json.Marshal(google)
		calls[0]["extra_content"], _ = json.Marshal(extra)
		m["tool_calls"], _ = json.Marshal(calls)
		return true
	})
}

// withReasoningContent is a chat request's body in which each assistant
// message has a reasoning_content, an empty one where it had none; body as
// it is when each has one.
func withReasoningContent(body []byte) []byte {
	return eachMessage(body, func(m map[string]json.RawMessage) bool {
		if _, has := m["reasoning_content"]; has || string(m["role"]) != `"assistant"` {
			return false
		}
		m["reasoning_content"] = json.RawMessage(`""`)
		return true
	})
}

// WithoutMessageFields is a chat request's body with fields left out of
// its messages; body as it is when none has any. Its caller first looks
// for their names in the body without decoding it: a prompt can be
// megabytes, and most have none.
func WithoutMessageFields(body []byte, fields []string) []byte {
	return eachMessage(body, func(m map[string]json.RawMessage) bool {
		changed := false
		for _, f := range fields {
			if _, ok := m[f]; ok {
				delete(m, f)
				changed = true
			}
		}
		return changed
	})
}

// WithoutToolCallExtras is a chat request's body without its assistant
// tool calls' extra_content (Gemini's thought signatures, which other
// APIs may refuse); body as it is when none has one.
func WithoutToolCallExtras(body []byte) []byte {
	if !bytes.Contains(body, []byte(`"extra_content"`)) {
		return body
	}
	return eachMessage(body, func(m map[string]json.RawMessage) bool {
		var calls []map[string]json.RawMessage
		if json.Unmarshal(m["tool_calls"], &calls) != nil {
			return false
		}
		changed := false
		for _, c := range calls {
			if _, ok := c["extra_content"]; ok {
				delete(c, "extra_content")
				changed = true
			}
		}
		if changed {
			m["tool_calls"], _ = json.Marshal(calls)
		}
		return changed
	})
}

// flattened is a chat request's body with the list content of the
// messages of roles made a string: its text parts joined by newlines, as
// LiteLLM sends them to a provider that takes only strings. body as it is
// when no message needs it.
func flattened(body []byte, roles []string) []byte {
	return eachMessage(body, func(m map[string]json.RawMessage) bool {
		var role string
		_ = json.Unmarshal(m["role"], &role)
		c := bytes.TrimSpace(m["content"])
		if len(c) == 0 || c[0] != '[' || !slices.Contains(roles, role) {
			return false
		}
		var parts []struct {
			Text *string `json:"text"`
		}
		if json.Unmarshal(c, &parts) != nil {
			return false
		}
		texts := make([]string, 0, len(parts))
		for _, p := range parts {
			if p.Text != nil && *p.Text != "" {
				texts = append(texts, *p.Text)
			}
		}
		m["content"], _ = json.Marshal(strings.Join(texts, "\n"))
		return true
	})
}

// eachMessage is a chat request's body with fn's changes to its messages,
// each decoded to its fields; fn reports whether it changed one. body as
// it is when fn changes none, or it cannot be read.
func eachMessage(body []byte, fn func(m map[string]json.RawMessage) bool) []byte {
	var req map[string]json.RawMessage
	if json.Unmarshal(body, &req) != nil {
		return body
	}
	var msgs []map[string]json.RawMessage
	if json.Unmarshal(req["messages"], &msgs) != nil {
		return body
	}
	changed := false
	for _, m := range msgs {
		changed = fn(m) || changed
	}
	if !changed {
		return body
	}
	req["messages"], _ = json.Marshal(msgs)
	out, err := json.Marshal(req)
	if err != nil {
		return body
	}
	return out
}

// sseStream reads an OpenAI server-sent-event stream.
type sseStream struct {
	ctx    context.Context
	body   io.ReadCloser
	events sseReader
	usage  Usage
	redact func(string) string
	done   bool
	// hideUsage keeps from the client the usage chunk it did not ask
	// for (one with usage and no choices), its usage still read.
	hideUsage bool
	// endsAtEOF takes the body's clean end as the stream's, for an
	// upstream that sends no [DONE] (watsonx.ai); a cut connection is
	// still an error.
	endsAtEOF bool
	// ids, when set, gives each chunk of a stored chat completion the id
	// clients get.
	ids *chatIDs
}

func newSSEStream(ctx context.Context, body io.ReadCloser, redact func(string) string) *sseStream {
	return &sseStream{ctx: ctx, body: body, events: newSSEReader(body), redact: redact}
}

func (s *sseStream) Next() ([]byte, error) {
	for {
		data, err := s.next()
		if data != nil && s.ids != nil {
			data = s.ids.object(data)
		}
		if err != nil || data != nil {
			return data, err
		}
	}
}

// next is Next, or nil for a chunk kept from the client (hideUsage).
func (s *sseStream) next() ([]byte, error) {
	if s.done {
		return nil, io.EOF
	}
	data, err := s.events.next()
	if err == io.EOF && s.endsAtEOF {
		s.done = true
		return nil, io.EOF
	}
	if err != nil {
		return nil, streamReadError(s.ctx, err, "stream ended without [DONE]", s.redact)
	}
	data = bytes.TrimSpace(data)
	if string(data) == "[DONE]" {
		s.done = true
		return nil, io.EOF
	}
	if !validJSON(data) {
		var v any
		return nil, &Error{Err: json.Unmarshal(data, &v), Message: "upstream sent an invalid stream chunk"}
	}
	// Most chunks are a delta and nothing else: only one that names an
	// error or usage is decoded (a string containing the word only costs
	// a decode). With include_usage every chunk has "usage":null.
	if !bytes.Contains(data, []byte(`"error"`)) &&
		(!bytes.Contains(data, []byte(`"usage"`)) || bytes.Contains(data, []byte(`"usage":null`))) {
		if bytes.Contains(data, []byte(`"delta"`)) {
			s.usage.Deltas++
			s.usage.DeltaChars += deltaChars(data)
		}
		return data, nil
	}
	var chunk struct {
		Error *struct {
			Message string `json:"message"`
			Type    string `json:"type"`
		} `json:"error"`
		Usage       *openAIUsage      `json:"usage"`
		Choices     []json.RawMessage `json:"choices"`
		ServiceTier json.RawMessage   `json:"service_tier"`
	}
	if err := json.Unmarshal(data, &chunk); err != nil {
		return nil, &Error{Err: err, Message: "upstream sent an invalid stream chunk"}
	}
	if chunk.Error != nil {
		return nil, &Error{Status: http.StatusBadGateway, Type: chunk.Error.Type,
			Message: s.redact(fmt.Sprintf("upstream stream error: %s", chunk.Error.Message))}
	}
	if chunk.Usage != nil {
		deltas, chars := s.usage.Deltas, s.usage.DeltaChars
		s.usage = chunk.Usage.usage()
		s.usage.ServiceTier, s.usage.Deltas, s.usage.DeltaChars = serviceTier(chunk.ServiceTier), deltas, chars
		if s.hideUsage && len(chunk.Choices) == 0 {
			return nil, nil
		}
	}
	if len(chunk.Choices) > 0 {
		s.usage.Deltas++
		s.usage.DeltaChars += deltaChars(data)
	}
	return data, nil
}

func (s *sseStream) Usage() Usage { return s.usage }

func (s *sseStream) Close() error { return s.body.Close() }

// ids rewrites the deployment's response ids to the ones clients get.
func (p *openAI) ids() *storedIDs {
	return &storedIDs{provider: p.d.Provider, deployment: p.d.Name}
}

// rawStream relays a native stream of api, a Responses stream with its
// response ids rewritten.
func (p *openAI) rawStream(ctx context.Context, body io.ReadCloser, api API) *rawStream {
	s := newRawStream(ctx, body, api, p.redact)
	if api == APIResponses {
		s.ids = p.ids()
	}
	return s
}

// StoredResponses is implemented by a provider whose upstream stores the
// Responses API's responses, the Conversations API's conversations, and
// the Files and Batch APIs' files and batches (OpenAI and Azure OpenAI).
type StoredResponses interface {
	// Stored makes a call on what the upstream stores. The ids of what it
	// stores in the answer are the ones clients get (EncodeResponseID,
	// EncodeConversationID, EncodeFileID, and a batch's). A failure is an
	// *Error.
	Stored(ctx context.Context, call StoredCall) (*Response, error)
}

// StoredCall is one call on what an upstream stores.
type StoredCall struct {
	// Method is the HTTP method; Path is under the API's root, its ids
	// the upstream's own, escaped ("responses/ID", "responses/ID/cancel",
	// "conversations/ID/items", "files", "batches/ID", ...).
	Method, Path string
	// Query is the client's. With stream=true the answer is a response's
	// event stream (Response.Frames).
	Query url.Values
	// Body, if any, is sent as JSON, or as ContentType says (a file's
	// upload, a multipart form). Length is its length, or -1 when it is
	// not known (a *bytes.Reader's always is).
	Body        io.Reader
	ContentType string
	Length      int64
	// Raw asks for the answer as the upstream sends it (Response.Raw,
	// with its ContentType): a file's content, which need not be JSON and
	// may be larger than any answer breakerd reads whole.
	Raw bool
	// Header holds the client's headers that the call carries on:
	// Anthropic's anthropic-beta and anthropic-version (its Files API is
	// a beta); others are not read.
	Header http.Header
}

func (p *openAI) Stored(ctx context.Context, call StoredCall) (*Response, error) {
	base, own, _ := strings.Cut(p.url[urlResponses], "?")
	q, _ := url.ParseQuery(own)
	for k, v := range call.Query {
		if _, set := q[k]; !set { // the deployment's api-version wins
			q[k] = v
		}
	}
	hreq, err := call.request(ctx, strings.TrimSuffix(base, "/responses"), q, p.redact)
	if err != nil {
		return nil, err
	}
	if err := p.setHeaders(ctx, hreq.Header); err != nil {
		return nil, err
	}
	if call.ContentType != "" {
		hreq.Header.Set("Content-Type", call.ContentType)
	}
	stream := call.Query.Get("stream") == "true"
	if stream {
		hreq.Header.Set("Accept", "text/event-stream")
	}
	resp, events, err := call.answer(ctx, p.rt, hreq, stream, p.ids(), p.redact, p.httpError)
	switch {
	case err != nil:
		return nil, err
	case events != nil:
		return &Response{Frames: p.rawStream(ctx, events, APIResponses), Model: p.d.Model}, nil
	case resp.Raw == nil:
		resp.Body = markEncrypted(resp.Body, p.d.Name)
	}
	resp.Model = p.d.Model
	return resp, nil
}

// request builds call's request to base (the API's root) with query.
func (call StoredCall) request(ctx context.Context, base string, query url.Values, redact func(string) string) (*http.Request, error) {
	u := base + "/" + call.Path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	body := call.Body
	if body == nil {
		body = http.NoBody
	}
	hreq, err := http.NewRequestWithContext(ctx, call.Method, u, body)
	if err != nil {
		return nil, &Error{Err: err, Message: "build request: " + redact(err.Error())}
	}
	if call.Length > 0 && hreq.ContentLength == 0 {
		hreq.ContentLength = call.Length
	}
	return hreq, nil
}

// answer sends call's request (hreq) and reads the upstream's answer: the
// body unread for a Raw call, the events of a stream, else the JSON with
// its stored objects' ids as clients get them (ids).
func (call StoredCall) answer(ctx context.Context, rt http.RoundTripper, hreq *http.Request, stream bool, ids *storedIDs,
	redact func(string) string, httpErr func(*http.Response) *Error) (*Response, io.ReadCloser, error) {
	if call.Raw {
		resp, err := exchange(ctx, rt, hreq, redact, httpErr)
		if err != nil {
			return nil, nil, err
		}
		return &Response{Raw: resp.Body, ContentType: resp.Header.Get("Content-Type")}, nil, nil
	}
	events, data, err := roundTrip(ctx, rt, hreq, stream, redact, httpErr, nil)
	switch {
	case err != nil:
		return nil, nil, err
	case events != nil:
		return nil, events, nil
	case !json.Valid(data):
		return nil, nil, &Error{Status: http.StatusBadGateway, Message: "upstream sent invalid JSON"}
	}
	return &Response{Body: ids.object(data)}, nil, nil
}

// call posts a JSON body to url, with the deployment's headers, and
// returns the whole answer.
func (p *openAI) call(ctx context.Context, url string, body []byte) ([]byte, error) {
	hreq, err := p.urls.post(ctx, url, body, false)
	if err != nil {
		return nil, &Error{Err: err, Message: "build request: " + p.redact(err.Error())}
	}
	if err := p.setHeaders(ctx, hreq.Header); err != nil {
		return nil, err
	}
	_, data, err := roundTrip(ctx, p.rt, hreq, false, p.redact, p.httpError, nil)
	return data, err
}

// CountTokens counts a Responses request's input tokens at the upstream
// (/v1/responses/input_tokens): OpenAI and Azure OpenAI only (Native).
func (p *openAI) CountTokens(ctx context.Context, req *Request) (*Response, error) {
	buf, err := req.BodyFor(p.d.Model)
	if err != nil {
		return nil, &Error{Err: err, Message: "encode request: " + err.Error()}
	}
	data, err := p.call(ctx, p.url[urlInputTokens], buf)
	if err != nil {
		return nil, err
	}
	if !json.Valid(data) {
		return nil, &Error{Status: http.StatusBadGateway, Message: "upstream sent invalid JSON"}
	}
	return &Response{Body: data, Model: p.d.Model}, nil
}
