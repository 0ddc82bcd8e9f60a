// Package provider sends one OpenAI-format request to one upstream
// deployment and returns an OpenAI-format result. Routing, retries and
// breakers live in the gateway; a provider only speaks its upstream's
// protocol, so a new one (Anthropic, say) drops in without routing changes.
package provider

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/breakerd/breakerd/config"
)

// Operation is the kind of call; each has its own breaker per deployment.
type Operation string

const (
	// Chat is /v1/chat/completions.
	Chat Operation = "chat"
	// Embeddings is /v1/embeddings.
	Embeddings Operation = "embeddings"
	// Transcriptions is /v1/audio/transcriptions and /translations: a
	// deployment of LiteLLM's mode audio_transcription.
	Transcriptions Operation = "transcriptions"
	// Speech is /v1/audio/speech: mode audio_speech.
	Speech Operation = "speech"
	// Images is /v1/images/generations, /edits and /variations: modes
	// image_generation and image_edit.
	Images Operation = "images"
	// Moderations is /v1/moderations: mode moderation.
	Moderations Operation = "moderations"
	// Realtime is /v1/realtime, a WebSocket session: mode realtime.
	Realtime Operation = "realtime"
	// Rerank is /v1/rerank (Cohere's API, which Jina, vLLM and others
	// serve too): mode rerank.
	Rerank Operation = "rerank"
	// Videos is /v1/videos (OpenAI's Videos API, Sora's): mode
	// video_generation. Its calls are on what the upstream stores
	// (Provider.Stored).
	Videos Operation = "videos"
)

// Operations are all the operations, chat first.
var Operations = []Operation{Chat, Embeddings, Transcriptions, Speech, Images, Moderations, Realtime, Rerank, Videos}

// modeOps are the operations of the deployments of LiteLLM's modes that
// serve one other than chat and embeddings: they serve that one alone.
var modeOps = map[string]Operation{"audio_transcription": Transcriptions, "audio_speech": Speech,
	"image_generation": Images, "image_edit": Images, "moderation": Moderations, "realtime": Realtime, "rerank": Rerank,
	"video_generation": Videos}

// ModeOf is LiteLLM's model_info.mode of the deployments that serve op
// alone, the modes joined by " or " where several do ("" for chat and
// embeddings, which any chat deployment serves).
func ModeOf(op Operation) string {
	var modes []string
	for mode, o := range modeOps {
		if o == op {
			modes = append(modes, mode)
		}
	}
	slices.Sort(modes)
	return strings.Join(modes, " or ")
}

// Request is one client request in OpenAI format. Body is the client's
// JSON, untouched; providers ask for it with their deployment's model,
// defaults and dropped parameters applied.
type Request struct {
	Op   Operation
	Body []byte
	// Model is the "model" the client asked for (a model group).
	Model  string
	Stream bool
	// IncludeUsage reports whether the client asked for a final usage
	// chunk (stream_options.include_usage).
	IncludeUsage bool
	// Defaults are the deployment's request defaults (LiteLLM's
	// litellm_params temperature, max_tokens, ...): each applies when the
	// body does not set it. Drop lists parameters to leave out (LiteLLM's
	// drop_params). The gateway sets both per attempt.
	Defaults map[string]json.RawMessage
	Drop     []string
	// API is the client's API. For APIChat (or zero) Body is a chat
	// request; for another API it is that API's request, sent to a
	// provider only where Native(API) says it serves it.
	API API
	// Header holds the client's headers a native API forwards
	// (anthropic-version, anthropic-beta); nil for none.
	Header http.Header
	// ContentType is the body's media type when it is not JSON: the
	// multipart/form-data of a transcription or an image edit, with its
	// boundary.
	ContentType string
	// Store is the body's store: true (a chat completion the upstream
	// keeps, whose id then names the deployment); for the Responses API,
	// whose default is to store, any store but false.
	Store bool
}

// Fields returns the body's top-level fields, with the defaults applied
// and the dropped parameters removed. The values are read in place (a
// prompt can be megabytes, and decoding it costs twenty times the scan),
// capped so that appending to one copies it: they share the body's bytes.
func (r *Request) Fields() (map[string]json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if !EachField(r.Body, func(k, v []byte) { m[string(k)] = v[:len(v):len(v)] }) {
		return nil, errors.New("the request body is not a JSON object")
	}
	for k, v := range r.Defaults {
		if _, set := m[k]; !set {
			m[k] = v
		}
	}
	for _, k := range r.Drop {
		delete(m, k)
	}
	return m, nil
}

// BodyFor returns the body to send with "model" set to model. When
// nothing is added or dropped, the body is the client's, byte for byte,
// with at most the model's value replaced; a multipart form (a
// transcription's) keeps every other part as sent, and takes no defaults.
func (r *Request) BodyFor(model string) ([]byte, error) {
	if r.ContentType != "" {
		return MultipartWithField(r.Body, r.ContentType, "model", model)
	}
	if len(r.Defaults) == 0 && len(r.Drop) == 0 {
		if model == r.Model {
			return r.Body, nil
		}
		// Only the model changes: splice it in, keeping the rest as sent
		// (a prompt can be megabytes; decoding and encoding it is waste).
		v, _ := json.Marshal(model)
		if b, ok := SetField(r.Body, "model", v); ok {
			return b, nil
		}
		return nil, errors.New("the request body is not a JSON object")
	}
	m, err := r.Fields()
	if err != nil {
		return nil, err
	}
	m["model"], _ = json.Marshal(model)
	return json.Marshal(m)
}

// Remaining is what an upstream said of its rate limits with an answer
// (a 429 too), for the operator to see a limit coming before its 429s.
type Remaining struct {
	Requests, Tokens RateLeft
}

// RateLeft is what an upstream said of one of its rate limits.
type RateLeft struct {
	// Said reports whether the upstream said what is left; when not, the
	// rest is zero.
	Said bool
	// Left is what is left of the limit.
	Left int64
	// Limit is the limit's size, and Reset how long until it is whole
	// again; each 0 when the upstream did not say.
	Limit int64
	Reset time.Duration
}

// rateHeaders name the headers upstreams report a rate limit in: its
// size, what is left, and when it is whole again. OpenAI's reset is a
// duration ("6m0s"), Anthropic's a time (RFC 3339).
var rateHeaders = [...]struct{ limit, left, reset [2]string }{ // [requests, tokens]
	{ // OpenAI, Azure OpenAI, most compatible servers
		[2]string{"X-Ratelimit-Limit-Requests", "X-Ratelimit-Limit-Tokens"},
		[2]string{"X-Ratelimit-Remaining-Requests", "X-Ratelimit-Remaining-Tokens"},
		[2]string{"X-Ratelimit-Reset-Requests", "X-Ratelimit-Reset-Tokens"}},
	{ // Anthropic
		[2]string{"Anthropic-Ratelimit-Requests-Limit", "Anthropic-Ratelimit-Tokens-Limit"},
		[2]string{"Anthropic-Ratelimit-Requests-Remaining", "Anthropic-Ratelimit-Tokens-Remaining"},
		[2]string{"Anthropic-Ratelimit-Requests-Reset", "Anthropic-Ratelimit-Tokens-Reset"}},
}

// remainingOf reads an answer's rate-limit headers.
func remainingOf(h http.Header) Remaining {
	var r Remaining
	for i, left := range [2]*RateLeft{&r.Requests, &r.Tokens} {
		for _, names := range rateHeaders {
			v := h[names.left[i]]
			if len(v) != 1 {
				continue
			}
			if left.Left, left.Said = parseCount(v[0]); !left.Said {
				continue
			}
			if v := h[names.limit[i]]; len(v) == 1 {
				left.Limit, _ = parseCount(v[0])
			}
			if v := h[names.reset[i]]; len(v) == 1 {
				left.Reset = parseReset(v[0], h)
			}
			break
		}
	}
	return r
}

// parseReset reads when a rate limit is whole again: a duration ("1s",
// "6m0s", "17ms"), seconds, or a time, taken from the answer's Date so
// that the clocks of upstream and gateway need not agree. 0 when it is
// none of these, or past.
func parseReset(v string, h http.Header) time.Duration {
	v = strings.TrimSpace(v)
	if d, err := time.ParseDuration(v); err == nil {
		return min(max(d, 0), MaxRetryAfter)
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if !(secs > 0) { // NaN too
			return 0
		}
		return durationOf(secs, time.Second)
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return 0
	}
	now, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		now = time.Now()
	}
	return min(max(t.Sub(now), 0), MaxRetryAfter)
}

// parseCount reads a header's count, not negative.
func parseCount(v string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// Usage is the token count of one call.
type Usage struct {
	// InputTokens counts the whole prompt, its cached part included, as
	// OpenAI's prompt_tokens does.
	InputTokens  int
	OutputTokens int
	// CacheReadTokens and CacheWriteTokens are the parts of InputTokens
	// read from the provider's prompt cache and written to it, which are
	// priced apart, and CacheWriteHourTokens the part of CacheWriteTokens
	// written to Anthropic's 1-hour cache, priced apart again.
	CacheReadTokens, CacheWriteTokens, CacheWriteHourTokens int
	// ServiceTier is the service tier the upstream says served the call
	// (OpenAI's service_tier: "flex" and "priority" are priced apart;
	// "fast" for Anthropic's fast mode, its usage's speed), one of
	// serviceTiers' names; "" when it says none.
	ServiceTier string
	// USOnly: US-only inference served the call (Anthropic's usage's
	// inference_geo "us"), which is priced apart.
	USOnly bool
	// Cost is the call's cost in USD as the upstream reports it
	// (OpenRouter's usage.cost, in every answer; a LiteLLM proxy's), 0
	// when it does not: what it billed, which prices need not estimate.
	Cost float64
	// Deltas counts the deltas a stream relayed (a chat stream's chunks,
	// a native stream's *delta events), and DeltaChars the characters of
	// text they carried (deltaChars): the output's estimate when the
	// stream ends before its usage (Estimate). OpenAI's deltas are about
	// a token each; Anthropic's carry several.
	Deltas, DeltaChars int
	// Estimated says the counts are Estimate's, not the upstream's.
	Estimated bool
}

// Estimate is the usage of a stream that ended before saying it (broken,
// or left by its client), which the upstream bills all the same: the
// input, where unknown, as input (the request's estimated tokens), and
// the output as at least the deltas relayed, and at least a token for
// each 4 characters of their text (as the prompt is estimated).
func (u Usage) Estimate(input int) Usage {
	if u.InputTokens == 0 {
		u.InputTokens = input
	}
	u.OutputTokens = max(u.OutputTokens, u.Deltas, (u.DeltaChars+3)/4)
	u.Estimated = true
	return u
}

// deltaChars counts the characters of text a stream delta (one event's
// data) carries: the string values, wherever they are, of the keys that
// hold a delta's text (a chat chunk's content, reasoning and tool
// arguments; a Messages delta's text, thinking and tool input; a
// Responses event's delta), as StringEnd counts them. Other strings it
// skips from quote to quote, as it reads every delta relayed.
func deltaChars(data []byte) int {
	n := 0
	var key []byte
	// A chat chunk's and a Messages event's text is in their delta
	// object, a Responses event's is its delta: what comes before (ids,
	// the model) need not be read.
	for i := max(bytes.Index(data, []byte(`"delta"`)), 0); i < len(data); i++ {
		if data[i] != '"' {
			continue
		}
		start := i + 1
		for i = start; i < len(data) && data[i] != '"'; i++ {
			if data[i] == '\\' {
				i++
			}
		}
		if i >= len(data) {
			return n // cut short
		}
		end := i
		for i+1 < len(data) && (data[i+1] == ' ' || data[i+1] == '\t' || data[i+1] == '\r' || data[i+1] == '\n') {
			i++
		}
		if i+1 < len(data) && data[i+1] == ':' {
			key = data[start:end]
			continue
		}
		switch string(key) {
		case "content", "reasoning_content", "reasoning", "arguments", "text", "thinking", "partial_json", "delta":
			_, chars, _ := StringEnd(data[:end+1], start)
			n += chars
		}
		key = nil
	}
	return n
}

// StringEnd reads the JSON string whose content starts at data[start]:
// the index of its closing quote, and the characters it holds once
// unescaped (an escape is one); false when it does not end.
func StringEnd(data []byte, start int) (end, runes int, ok bool) {
	for i := start; i < len(data); {
		switch c := data[i]; {
		case c == '"':
			return i, runes, true
		case c == '\\' && i+1 < len(data) && data[i+1] == 'u':
			i += 6
		case c == '\\':
			i += 2
		case c < utf8.RuneSelf:
			i++
		default:
			_, n := utf8.DecodeRune(data[i:])
			i += n
		}
		runes++
	}
	return 0, 0, false
}

// Tokens is the usage as config.Deployment.Cost prices it.
func (u Usage) Tokens() config.Tokens {
	return config.Tokens{Input: float64(u.InputTokens), CacheRead: float64(u.CacheReadTokens), CacheWrite: float64(u.CacheWriteTokens),
		CacheWriteHour: float64(u.CacheWriteHourTokens), Output: float64(u.OutputTokens), ServiceTier: u.ServiceTier, USOnly: u.USOnly, Billed: u.Cost}
}

// serviceTiers are the service tiers OpenAI's answers name, as constant
// strings: reading one (serviceTier) allocates nothing.
var serviceTiers = []string{"default", "flex", "priority", "scale", "auto", "fast"}

// serviceTier is an answer's service_tier (raw JSON) as one of
// serviceTiers, "" for none or another.
func serviceTier(v []byte) string {
	for _, t := range serviceTiers {
		if len(v) == len(t)+2 && v[0] == '"' && string(v[1:len(v)-1]) == t {
			return t
		}
	}
	return ""
}

// Response is a successful upstream answer: in OpenAI chat format, or in
// the client's own API when the provider served it natively. Exactly one
// of Body, Stream and Frames is set.
type Response struct {
	Body   []byte
	Stream Stream
	// Frames is a native stream (Native): each Next is a whole SSE event,
	// ready to write.
	Frames Stream
	Usage  Usage
	// Remaining is what the upstream said is left of its rate limits.
	Remaining Remaining
	// Model is the model the upstream reports.
	Model string
	// ContentType is Body's (or Raw's) media type where it need not be
	// JSON: audio, a transcription's text, subtitles or JSON, a file.
	ContentType string
	// Raw is an answer to relay as the upstream sends it (a stored file's
	// content, StoredCall.Raw); the caller closes it.
	Raw io.ReadCloser
	// Status and Location are the upstream's where they matter: a
	// Realtime call's 201 Created, and where the call is.
	Status   int
	Location string
	// Refusal, when set, says the model declined the request in a whole
	// answer (Claude's stop_reason "refusal", its safety classifiers'),
	// or in a stream before any content (which still carries the
	// refusal, and Usage its usage): an answer, not an error, which
	// content_policy_fallbacks may serve elsewhere.
	Refusal string
	// Slowed says the request asked for fast mode (Anthropic's speed:
	// "fast") and, at fast mode's own rate limit, was answered at standard
	// speed (why, as the upstream's 429 said it).
	Slowed string
	// Unthought says the request went without its thinking (why): the
	// model would have refused it with thinking on.
	Unthought string
}

// Stream yields OpenAI chat.completion.chunk JSON payloads.
type Stream interface {
	// Next returns the next chunk's JSON. It returns io.EOF after the
	// upstream's clean end, and another error when the stream breaks.
	// The slice is valid until the next call: a stream relays thousands
	// of chunks, and a copy of each would be garbage for the collector.
	Next() ([]byte, error)
	// Usage returns the usage seen so far (complete after io.EOF).
	Usage() Usage
	// Close releases the upstream connection.
	Close() error
}

// Provider sends requests to one deployment.
type Provider interface {
	// Name is the provider: LiteLLM's prefix (openai, azure, groq, ...).
	Name() string
	// Supports reports whether the deployment serves op at all. Routing
	// passes over a deployment that does not, and it gets no breaker for op.
	Supports(op Operation) bool
	// Send makes one attempt. A failure is an *Error.
	Send(ctx context.Context, req *Request) (*Response, error)
	// Native reports whether the provider's upstream serves api itself, so
	// that a request in it passes through untouched.
	Native(api API) bool
	// Unsupported lists the parameters of req (defaults applied) that the
	// provider cannot honour, and why the first cannot; none for a
	// provider that takes what the client sends. The gateway drops them
	// (drop_params) or passes the deployment over.
	Unsupported(req *Request) (params []string, why string)
	// Unfit says why the deployment's model refuses req as a whole,
	// whatever its parameters ("" when it does not): Claude 4.6 and later
	// refuse a conversation that ends with the assistant's message. The
	// gateway passes the deployment over; drop_params does not apply.
	Unfit(req *Request) string
}

// Error is a failed attempt: an HTTP error from the upstream (Status > 0)
// or a transport failure (Status == 0). Message has every configured
// secret removed.
type Error struct {
	Status     int
	RetryAfter time.Duration
	// Type and Code are the upstream's error type and code, OpenAI style.
	Type    string
	Code    string
	Message string
	// Timeout is set when the attempt ran out of time.
	Timeout bool
	// Canceled is set when the caller's context was canceled.
	Canceled bool
	// Remaining is what the upstream said of its rate limits with the
	// error (OpenAI and Anthropic say it with a 429).
	Remaining Remaining
	Err       error
}

// Error says what failed: the upstream's status and message, a timeout,
// or the connection.
func (e *Error) Error() string {
	switch {
	case e.Status > 0:
		return fmt.Sprintf("upstream returned %d: %s", e.Status, e.Message)
	case e.Timeout:
		return "upstream timed out: " + e.Message
	}
	return "upstream connection failed: " + e.Message
}

// Refusals of a request that another model may still take.
const (
	// ContextWindow: the prompt is longer than the model takes.
	ContextWindow = "context_window"
	// ContentPolicy: the provider's content filter refused the prompt.
	ContentPolicy = "content_policy"
)

// Refusal says why the upstream refused a request that another model may
// take: ContextWindow for OpenAI's and Azure's code
// context_length_exceeded, or the words OpenAI-compatible servers
// ("maximum context length"), Anthropic ("prompt is too long") and
// Bedrock ("input is too long") use;
// ContentPolicy for OpenAI's code content_policy_violation, Azure's
// content_filter, or the words of their safety systems and Anthropic's
// content filtering, or OpenRouter's moderation (a 403: "... requires
// moderation on OpenRouter. Your input was flagged ..."). It returns ""
// for any other error.
func (e *Error) Refusal() string {
	m := strings.ToLower(e.Message)
	if e.Status == http.StatusForbidden && (strings.Contains(m, "requires moderation") || strings.Contains(m, "input was flagged")) {
		return ContentPolicy // OpenRouter's moderation: the prompt's, not the key's
	}
	if e.Status != http.StatusBadRequest && e.Status != http.StatusRequestEntityTooLarge && e.Status != http.StatusUnprocessableEntity {
		return ""
	}
	switch {
	case e.Code == "context_length_exceeded" || strings.Contains(m, "context length") ||
		strings.Contains(m, "context window") || strings.Contains(m, "prompt is too long") || strings.Contains(m, "input is too long"):
		return ContextWindow
	case e.Code == "content_policy_violation" || e.Code == "content_filter" || strings.Contains(m, "content management policy") ||
		strings.Contains(m, "content filtering policy") || strings.Contains(m, "safety system"):
		return ContentPolicy
	}
	return ""
}

// modelMissingCodes are the error codes with which upstreams say the
// model asked for is not theirs to serve: OpenAI's (and Groq's, and
// others that copy it) for a model that does not exist, has been shut
// down or is not the key's, Azure's for a deployment name it does not
// have.
var modelMissingCodes = map[string]bool{"model_not_found": true, "DeploymentNotFound": true}

// modelMissingWords are the words of the refusals that say so without a
// code: Bedrock's (an unknown model ID; a model it serves only through an
// inference profile, called by its ID: "Invocation of model ID ... with
// on-demand throughput isn’t supported"), OpenRouter's.
var modelMissingWords = []string{"model identifier is invalid", "with on-demand throughput isn", "is not a valid model id"}

// ModelMissing reports whether the upstream refused the call because it
// does not serve model (the deployment's, as the upstream knows it): a
// model it has retired or never had, or a deployment name it does not
// know. That is the deployment's fault, not the request's: OpenAI's and
// Azure's codes for it (modelMissingCodes), a 404 naming the model
// (Anthropic's "model: claude-...", Gemini's "models/gemini-... is not
// found", vLLM's and Ollama's), or Bedrock's and OpenRouter's words. A
// 404 that does not name the model (a previous response, a file, a
// conversation not found) is the request's.
func (e *Error) ModelMissing(model string) bool {
	switch {
	case e.Status != http.StatusNotFound && e.Status != http.StatusBadRequest:
		return false
	case modelMissingCodes[e.Code]:
		return true
	case e.Status == http.StatusNotFound:
		return model != "" && containsName(e.Message, model)
	}
	m := strings.ToLower(e.Message)
	return slices.ContainsFunc(modelMissingWords, func(w string) bool { return strings.Contains(m, w) })
}

// WrongPath reports whether the upstream answered that it has no such
// path: OpenAI's "Invalid URL (POST /v1/...)", FastAPI's (vLLM's) and
// Go's bare 404s. breakerd builds the path from the deployment's
// api_base, so that is the deployment's fault: an api_base with /v1 left
// out or written twice, a server that does not speak the API. Azure's
// "Resource not found" is not counted: it may also answer a stored
// object's id that does not exist, the client's mistake.
func (e *Error) WrongPath() bool {
	if e.Status != http.StatusNotFound {
		return false
	}
	return strings.HasPrefix(e.Message, "Invalid URL (") || slices.Contains(wrongPathMessages, e.Message)
}

// wrongPathMessages are the whole messages of the servers' 404s for an
// unknown path.
var wrongPathMessages = []string{`{"detail":"Not Found"}`, "404 page not found"}

// containsName reports whether s names name whole: not as part of a
// longer name or id (a short model name, "o3", may be part of an object's
// id in a 404 that is the request's).
func containsName(s, name string) bool {
	part := func(c byte) bool {
		return c == '_' || c == '-' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	for i := 0; ; {
		j := strings.Index(s[i:], name)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(name)
		if (start == 0 || !part(s[start-1])) && (end == len(s) || !part(s[end])) {
			return true
		}
		i = start + 1
	}
}

// accountCannotWords are the words of the refusals that say the
// deployment's account may not make this request, which another account
// may: OpenAI's 400 for an organization not verified for the model's
// streams ("Your organization must be verified to stream this model").
var accountCannotWords = []string{"organization must be verified"}

// AccountCannot reports whether the upstream refused the request because
// the deployment's account may not make it (accountCannotWords): not the
// request's fault, as another deployment may serve it, nor a failure of
// the deployment, which serves others.
func (e *Error) AccountCannot() bool {
	if e.Status != http.StatusBadRequest && e.Status != http.StatusForbidden {
		return false
	}
	m := strings.ToLower(e.Message)
	return slices.ContainsFunc(accountCannotWords, func(w string) bool { return strings.Contains(m, w) })
}

// AccountDisabled reports whether the upstream refused the call because
// the deployment's account is disabled: Anthropic's 400 "This
// organization has been disabled.", OpenAI's 401 account_deactivated.
// That is the deployment's fault, and lasts until the vendor restores
// the account or the key is replaced.
func (e *Error) AccountDisabled() bool {
	switch {
	case e.Code == "account_deactivated":
		return true
	case e.Status != http.StatusBadRequest && e.Status != http.StatusForbidden:
		return false
	}
	return strings.Contains(strings.ToLower(e.Message), "organization has been disabled")
}

// outOfCreditWords are the words of the refusals that say the account
// cannot pay, where neither status nor code does: Anthropic's (a 400).
var outOfCreditWords = []string{"credit balance is too low"}

// OutOfCredit reports whether the upstream refused the call because the
// deployment's account cannot pay for it: a 402 (DeepSeek's "Insufficient
// Balance", OpenRouter's credits, Anthropic's billing_error), OpenAI's
// insufficient_quota (a 429 that no wait mends), or Anthropic's "credit
// balance is too low" (a 400). That is the deployment's fault, not the
// request's, and lasts until someone pays.
func (e *Error) OutOfCredit() bool {
	switch {
	case e.Status == http.StatusPaymentRequired, e.Code == "insufficient_quota", e.Type == "insufficient_quota", e.Code == "billing_error":
		return true
	case e.Status != http.StatusBadRequest:
		return false
	}
	m := strings.ToLower(e.Message)
	return slices.ContainsFunc(outOfCreditWords, func(w string) bool { return strings.Contains(m, w) })
}

// Unwrap returns the underlying transport error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Scrubber removes secrets from text that leaves breakerd (upstream
// messages in errors and logs).
type Scrubber interface {
	// Redact returns s with every secret it knows replaced.
	Redact(s string) string
	// Add adds secrets fetched at run time (a token, a temporary key).
	Add(secrets ...string)
}

// New returns the provider for a deployment. rt makes its upstream calls
// and is shared by all providers so that connections are pooled (nil means
// http.DefaultTransport); s scrubs secrets from upstream messages, and
// learns the credentials the provider fetches.
func New(d config.Deployment, rt http.RoundTripper, s Scrubber) (Provider, error) {
	if rt == nil {
		rt = http.DefaultTransport
	}
	redact := s.Redact
	// A Vertex AI deployment's calls carry its service account's tokens.
	tokens, err := newGoogleTokens(d, rt, s)
	if err != nil {
		return nil, err
	}
	switch d.Dialect {
	case config.DialectOpenAI, config.DialectAzure:
		p := newOpenAI(d, rt, redact)
		p.aws = newAWSKeys(d, rt, s)
		if tokens != nil {
			p.bearer = tokens
		} else if entra := newEntraTokens(d, rt, s); entra != nil {
			p.bearer = entra
		} else if ibm := newIBMTokens(d, rt, s); ibm != nil {
			p.bearer = ibm
		}
		return p, nil
	case config.DialectAnthropic:
		p := &anthropic{d: d, rt: rt, redact: redact, now: time.Now, google: tokens, entra: newEntraTokens(d, rt, s), aws: newAWSKeys(d, rt, s)}
		if tokens != nil || d.Bedrock != nil { // they take no URLs
			allowed := publicAddr
			if d.FetchPrivateURLs {
				allowed = func(a netip.Addr) bool { return a.IsValid() }
			}
			p.inliner = newInliner(allowed)
		}
		return p, nil
	}
	return nil, fmt.Errorf("provider %q (dialect %q) is not supported", d.Provider, d.Dialect)
}

// configHeaders sets on h the headers the deployment's config adds to
// each upstream call (litellm_params.headers); set after the provider's
// own, they win.
func configHeaders(h http.Header, d config.Deployment) {
	for k, v := range d.Headers {
		h[k] = []string{v.Value()}
	}
}

// transportError classifies a failed round trip.
func transportError(ctx context.Context, err error, redact func(string) string) *Error {
	// url.Error's text holds the whole upstream URL, query string included:
	// clients and logs get the cause without it.
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = ue.Err.Error()
	}
	var unknownCA x509.UnknownAuthorityError
	if errors.As(err, &unknownCA) {
		// An internal server's certificate, most often: say how to trust it.
		msg += " (for a certificate your own CA signed, set the deployment's ssl_verify to that CA's bundle)"
	}
	e := &Error{Err: err, Message: redact(msg)}
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		e.Canceled = true
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		e.Timeout = true
	}
	return e
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// MaxRetryAfter is the longest Retry-After that ParseRetryAfter returns;
// a longer one (or one too large for a time.Duration) is cut to it. The
// gateway caps it further (router_settings.circuit_breaker.max_recovery_timeout).
const MaxRetryAfter = 24 * time.Hour

// ParseRetryAfter reads Retry-After (seconds or an HTTP date) and OpenAI's
// retry-after-ms. It returns 0 when there is none or it is not valid, and
// at most MaxRetryAfter.
func ParseRetryAfter(h http.Header, now time.Time) time.Duration {
	if ms := h.Get("Retry-After-Ms"); ms != "" {
		if v, err := strconv.ParseFloat(ms, 64); err == nil && v > 0 {
			return durationOf(v, time.Millisecond)
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if !(secs > 0) { // NaN too
			return 0
		}
		return durationOf(secs, time.Second)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), MaxRetryAfter)
	}
	return 0
}

// durationOf returns v units, at most MaxRetryAfter; the float product of
// a huge v ("1e300") would overflow time.Duration.
func durationOf(v float64, unit time.Duration) time.Duration {
	if v >= float64(MaxRetryAfter/unit) {
		return MaxRetryAfter
	}
	return time.Duration(v * float64(unit))
}

// roundTrip sends hreq. An HTTP error status becomes httpErr's *Error. For
// a stream it returns the open body, which the caller closes; otherwise it
// returns the whole (bounded) body.
func roundTrip(ctx context.Context, rt http.RoundTripper, hreq *http.Request, stream bool,
	redact func(string) string, httpErr func(*http.Response) *Error, rem *Remaining) (io.ReadCloser, []byte, error) {
	resp, err := exchange(ctx, rt, hreq, redact, httpErr)
	if err != nil {
		return nil, nil, err
	}
	if rem != nil {
		*rem = remainingOf(resp.Header)
	}
	if stream {
		return resp.Body, nil, nil
	}
	defer resp.Body.Close()
	data, err := readBody(resp, maxResponseBytes)
	if err != nil {
		return nil, nil, transportError(ctx, err, redact)
	}
	return nil, data, nil
}

// exchange sends hreq and returns a successful (2xx) answer, its body
// unread: a redirect or an error status is an *Error.
func exchange(ctx context.Context, rt http.RoundTripper, hreq *http.Request,
	redact func(string) string, httpErr func(*http.Response) *Error) (*http.Response, error) {
	// The transport is called as a reverse proxy calls it, not through
	// http.Client: an upstream's redirect is its answer (LiteLLM's httpx
	// client does not follow one either), and the client's per-request
	// copies of the header and URL buy nothing here. ctx bounds the call.
	resp, err := rt.RoundTrip(hreq)
	if b, ok := hreq.Body.(*postBody); ok {
		*b.src = nil // the transport sends it again only within RoundTrip
	}
	if err != nil {
		return nil, transportError(ctx, err, redact)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		// A wrong api_base, not a bad request: a failure of this
		// deployment (another may serve), that says what to fix.
		resp.Body.Close()
		where := ""
		if u, err := resp.Location(); err == nil {
			where = " to " + u.Scheme + "://" + u.Host + u.Path // no query: it may hold a token
		}
		return nil, &Error{Status: http.StatusBadGateway, Message: redact(fmt.Sprintf(
			"upstream answered %s%s; breakerd does not follow redirects: set api_base to where it points", resp.Status, where))}
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, httpErr(resp)
	}
	return resp, nil
}

// readBody reads a response body of at most limit bytes (a longer one is
// cut at limit). A body of known length is read into one buffer of that
// size, without io.ReadAll's growing copies.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n <= limit {
		buf := make([]byte, n)
		_, err := io.ReadFull(resp.Body, buf)
		return buf, err
	}
	return io.ReadAll(io.LimitReader(resp.Body, limit))
}

// upstreamError reads an error response: its status, Retry-After, and the
// {"error": {"message", "type", "code"}} body that OpenAI and Anthropic
// both send (or watsonx.ai's {"errors": [...]}). Any other body becomes
// the message, trimmed and shortened.
// Every field it returns has every secret redacted: an upstream may echo
// the credential in any of them (seen: "code":"Bearer sk-...").
func upstreamError(resp *http.Response, now time.Time, redact func(string) string) (e *Error, typ, code string) {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e = &Error{Status: resp.StatusCode, RetryAfter: ParseRetryAfter(resp.Header, now), Remaining: remainingOf(resp.Header)}
	var body struct {
		Error struct {
			Message string          `json:"message"`
			Type    string          `json:"type"`
			Code    json.RawMessage `json:"code"`
			// Google's RetryInfo says when to retry a 429 in the body
			// ("retryDelay": "36s"), not in Retry-After.
			Details []struct {
				Type       string `json:"@type"`
				RetryDelay string `json:"retryDelay"`
			} `json:"details"`
		} `json:"error"`
		// watsonx.ai's {"errors": [{"code", "message"}], "trace"}.
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	obj := data
	var list []json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("[")) && json.Unmarshal(data, &list) == nil && len(list) > 0 {
		obj = list[0] // Google's APIs send their error in a list
	}
	decoded := json.Unmarshal(obj, &body) == nil
	switch {
	case decoded && body.Error.Message != "":
		e.Message, typ = body.Error.Message, body.Error.Type
		// A string code is OpenAI's; a number, Google's HTTP status again.
		if c := string(body.Error.Code); len(c) > 1 && c[0] == '"' {
			code = strings.Trim(c, `"`)
		}
		for _, d := range body.Error.Details {
			if wait, err := time.ParseDuration(d.RetryDelay); err == nil && wait > 0 && e.RetryAfter == 0 && strings.HasSuffix(d.Type, "google.rpc.RetryInfo") {
				e.RetryAfter = min(wait, MaxRetryAfter)
			}
		}
	case decoded && len(body.Errors) > 0 && body.Errors[0].Message != "":
		e.Message, code = body.Errors[0].Message, body.Errors[0].Code
	default:
		e.Message = strings.TrimSpace(string(data))
		if len(e.Message) > 300 {
			e.Message = e.Message[:300] + "..."
		}
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
	}
	if e.Status == http.StatusBadRequest {
		m := strings.ToLower(e.Message)
		for _, r := range accountRefusals {
			if strings.Contains(m, r.words) {
				// The status it means: a revoked key or a refused region
				// counts as one (auth_error) and passes the deployment
				// over, where the client would get a 400 as its own.
				e.Status, typ = r.status, r.typ
				break
			}
		}
	}
	e.Message = redact(e.Message)
	return e, redact(typ), redact(code)
}

// accountRefusals are the refusals of the deployment's key or account
// that come as a 400, by their words, and the status each means: Google's
// (Gemini's API: "API key not valid. Please pass a valid API key.", "API
// key expired. Please renew the API key.", "User location is not
// supported for the API use.", where the server calls from).
var accountRefusals = []struct {
	words  string
	status int
	typ    string
}{
	{"api key not valid", http.StatusUnauthorized, "authentication_error"},
	{"api key expired", http.StatusUnauthorized, "authentication_error"},
	{"user location is not supported", http.StatusForbidden, "permission_error"},
}

// upstreamURLs parses each upstream URL once, as http.NewRequest parses
// it: parsing per call cost a few allocations and about half a
// microsecond. Requests share the parsed URL, which net/http only reads.
type upstreamURLs struct{ parsed sync.Map } // string -> *url.URL

// post is newPost to the URL raw.
func (u *upstreamURLs) post(ctx context.Context, raw string, buf []byte, stream bool) (*http.Request, error) {
	v, ok := u.parsed.Load(raw)
	if !ok {
		r, err := http.NewRequest(http.MethodPost, raw, nil)
		if err != nil {
			return nil, err
		}
		v, _ = u.parsed.LoadOrStore(raw, r.URL)
	}
	return newPost(ctx, v.(*url.URL), buf, stream)
}

// newPost is a POST of buf to u. A whole answer's body is a
// bytes.Reader, which net/http writes to the connection with the headers
// in one write; it flushes the headers of any other body first, a second
// write and packet per call. A stream's body (stream) lets go of buf as
// it is sent instead, and the copies GetBody makes for the transport's
// retries do once RoundTrip has returned (roundTrip): the transport keeps
// a stream's request for as long as the stream lasts, and a prompt can be
// megabytes.
func newPost(ctx context.Context, u *url.URL, buf []byte, stream bool) (*http.Request, error) {
	var body io.Reader
	switch {
	case len(buf) == 0:
		// A body of length 0 that is not http.NoBody would be sent as one
		// of unknown length.
		body = http.NoBody
	case !stream:
		body = bytes.NewReader(buf)
	default:
		body = &postBody{rest: buf, src: &buf}
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "", body)
	if err != nil {
		return nil, err
	}
	hreq.URL, hreq.Host = u, u.Host
	if pb, ok := body.(*postBody); ok {
		src := pb.src
		hreq.ContentLength = int64(len(buf))
		hreq.GetBody = func() (io.ReadCloser, error) { return &postBody{rest: *src, src: src}, nil }
	}
	return hreq, nil
}

// postBody is newPost's body: rest is what is still to be sent, and src
// the bytes GetBody sends again.
type postBody struct {
	rest []byte
	src  *[]byte
}

func (b *postBody) Read(p []byte) (int, error) {
	if len(b.rest) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.rest)
	b.rest = b.rest[n:]
	if len(b.rest) == 0 {
		b.rest = nil // an empty slice of buf would still keep all of it
	}
	return n, nil
}

func (b *postBody) Close() error { return nil }
