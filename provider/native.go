package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strconv"
)

// API is the wire API a client spoke: chat completions, OpenAI's
// Responses, Anthropic's Messages, or legacy completions. Providers serve
// chat always; the others natively where their upstream has them
// (Provider.Native), and the gateway translates for the rest.
type API string

const (
	// APIChat is /v1/chat/completions (the zero value reads as chat).
	APIChat API = "chat"
	// APIResponses is OpenAI's /v1/responses.
	APIResponses API = "responses"
	// APIMessages is Anthropic's /v1/messages.
	APIMessages API = "messages"
	// APICompletions is OpenAI's legacy /v1/completions.
	APICompletions API = "completions"
	// APICompact is OpenAI's /v1/responses/compact: a conversation
	// compacted into one encrypted item, for a later Responses request.
	APICompact API = "responses/compact"
	// APITranscriptions, APITranslations, APISpeech, APIImages,
	// APIImageEdits, APIImageVariations and APIModerations are OpenAI's
	// audio, image and moderation APIs, each its path under /v1.
	APITranscriptions  API = "audio/transcriptions"
	APITranslations    API = "audio/translations"
	APISpeech          API = "audio/speech"
	APIImages          API = "images/generations"
	APIImageEdits      API = "images/edits"
	APIImageVariations API = "images/variations"
	APIModerations     API = "moderations"
	// APIRerank is /v1/rerank, Cohere's rerank API.
	APIRerank API = "rerank"
	// APIStoredResponses is the Responses API's calls on a stored
	// response (retrieve, delete, cancel, input_items), and
	// APIConversations the Conversations API: calls on what an upstream
	// stores, which no Request carries (Provider.Stored makes them).
	APIStoredResponses API = "responses/{id}"
	APIConversations   API = "conversations"
	// APIFiles and APIBatches are OpenAI's Files and Batch APIs, also
	// calls on what an upstream stores.
	APIFiles   API = "files"
	APIBatches API = "batches"
	// APIVectorStores is OpenAI's Vector Stores API (file_search's
	// stores), calls on what an upstream stores too.
	APIVectorStores API = "vector_stores"
	// APIContainers is OpenAI's Containers API (where the code
	// interpreter runs, with its files), calls on what an upstream stores.
	APIContainers API = "containers"
	// APIStoredChat is the calls on chat completions stored with store:
	// true (retrieve, update, delete, their messages, the list).
	APIStoredChat API = "chat/completions/{id}"
	// APIUploads is OpenAI's Uploads API (a large file in parts), calls on
	// what an upstream stores.
	APIUploads API = "uploads"
	// APIFineTuning is OpenAI's fine-tuning API (its jobs), calls on what
	// an upstream stores.
	APIFineTuning API = "fine_tuning/jobs"
	// APIVideos is OpenAI's Videos API (Sora's video jobs and their
	// content), calls on what an upstream stores.
	APIVideos API = "videos"
	// APIMessageBatches is Anthropic's Message Batches API
	// (/v1/messages/batches), calls on what Anthropic's API stores.
	APIMessageBatches API = "messages/batches"
	// APIRealtime is OpenAI's Realtime API, a WebSocket session
	// (RealtimeDialer), which no Request carries either.
	APIRealtime API = "realtime"
)

// Stored reports whether api's calls are on what an upstream stores
// (responses, conversations, files, batches, vector stores): calls that are counted but
// not timed, and are not a model's work.
func (a API) Stored() bool {
	return a == APIStoredResponses || a == APIConversations || a == APIFiles || a == APIBatches || a == APIMessageBatches ||
		a == APIVectorStores || a == APIContainers || a == APIStoredChat || a == APIUploads || a == APIFineTuning || a == APIVideos
}

// Translatable reports whether a request in api can be translated to chat
// for a deployment that does not serve api itself: Responses and
// Messages can; the others cannot.
func Translatable(api API) bool { return api == APIResponses || api == APIMessages }

// Multipart reports whether api's requests are multipart/form-data (an
// audio file or images, and their fields) rather than JSON. An image
// edit may be JSON too (images by URL), which the gateway reads by its
// Content-Type.
func (a API) Multipart() bool {
	return a == APITranscriptions || a == APITranslations || a == APIImageEdits || a == APIImageVariations
}

// FormFile is the form field of a multipart API's file (its first, for
// an API that takes several as "name[]").
func (a API) FormFile() string {
	if a == APIImageEdits || a == APIImageVariations {
		return "image"
	}
	return "file"
}

// media reports whether api's answers pass through as the upstream sent
// them, with their media type: they may be other than JSON (audio, a
// transcription's text or subtitles), and hold nothing breakerd reads.
func (a API) media() bool {
	switch a {
	case APITranscriptions, APITranslations, APISpeech, APIImages, APIImageEdits, APIImageVariations, APIModerations, APIRerank:
		return true
	}
	return false
}

// rawStream relays a native stream (Responses, Messages, legacy
// completions, a transcription's or an image's) event by event, as
// ready-to-write SSE frames. It reads each event's type from its data
// (each API repeats the event name there), to tell the end from a break,
// to turn an error event into an *Error, and to pick up usage.
type rawStream struct {
	ctx    context.Context
	body   io.ReadCloser
	events sseReader
	api    API
	usage  Usage
	// counts are a Messages stream's, as message_start and message_delta
	// give them.
	counts anthropicUsage
	redact func(string) string
	// ids, when set, rewrites the ids of the responses a Responses
	// stream carries to the ones clients get, and marks its encrypted
	// reasoning as the deployment's.
	ids  *storedIDs
	done bool
	buf  []byte // the frame being returned
}

func newRawStream(ctx context.Context, body io.ReadCloser, api API, redact func(string) string) *rawStream {
	return &rawStream{ctx: ctx, body: body, events: newSSEReader(body), api: api, redact: redact}
}

func (s *rawStream) Usage() Usage { return s.usage }

func (s *rawStream) Close() error { return s.body.Close() }

func (s *rawStream) Next() ([]byte, error) {
	if s.done {
		return nil, io.EOF
	}
	data, err := s.events.next()
	if err != nil {
		return nil, streamReadError(s.ctx, err, "stream ended before its last event", s.redact)
	}
	data = bytes.TrimSpace(data)
	if s.api == APICompletions {
		if string(data) == "[DONE]" {
			s.done = true
			return []byte("data: [DONE]\n\n"), nil
		}
		if bytes.Contains(data, []byte(`"usage"`)) {
			var c struct {
				Usage *openAIUsage `json:"usage"`
			}
			if json.Unmarshal(data, &c) == nil && c.Usage != nil {
				s.usage = c.Usage.usage()
			}
		}
		return s.frame(nil, data), nil
	}
	// Most events are deltas: their type is read without decoding the
	// rest; the few that end a stream or carry usage or an error are
	// decoded whole.
	var typ []byte
	if !EachField(data, func(k, v []byte) {
		if string(k) == "type" {
			typ = v
		}
	}) || len(typ) < 3 || typ[0] != '"' {
		return nil, &Error{Message: "upstream sent an invalid stream event"}
	}
	if typ = typ[1 : len(typ)-1]; bytes.IndexByte(typ, '\\') >= 0 {
		var t string
		_ = json.Unmarshal(data, &struct {
			Type *string `json:"type"`
		}{&t})
		typ = []byte(t)
	}
	if bytes.ContainsAny(typ, "\r\n") {
		return nil, &Error{Message: "upstream sent an invalid stream event"} // it would end the event: line early
	}
	if bytes.HasSuffix(typ, []byte("delta")) && string(typ) != "message_delta" {
		s.usage.Deltas++ // content_block_delta, response.output_text.delta, ...
		s.usage.DeltaChars += deltaChars(data)
	}
	switch string(typ) {
	case "error", "message_start", "message_delta", "message_stop", "response.completed", "response.incomplete", "response.failed",
		"transcript.text.done", "image_generation.completed", "image_edit.completed", "speech.audio.done":
		if err := s.ending(data); err != nil {
			return nil, err
		}
	}
	if s.ids != nil {
		switch string(typ) {
		case "response.created", "response.in_progress", "response.queued", "response.completed", "response.incomplete", "response.failed":
			data = s.ids.event(data)
		default: // an annotation's, a finished file_search call's files
			data = s.ids.fileRefs(data)
		}
		data = markEncrypted(data, s.ids.deployment)
	}
	return s.frame(typ, data), nil
}

// ending reads an event that ends the stream or carries its usage or an
// error.
func (s *rawStream) ending(data []byte) error {
	var ev struct {
		Type string `json:"type"`
		// Message is message_start's message, or the text of the
		// Responses API's error event, whose code is at its top too.
		Message json.RawMessage `json:"message"`
		Code    string          `json:"code"`
		// Usage is message_delta's (Anthropic's names) or a media
		// stream's (input and output tokens only).
		Usage    *anthropicUsage `json:"usage"`
		Response struct {
			Usage       responsesUsage  `json:"usage"`
			ServiceTier json.RawMessage `json:"service_tier"`
		} `json:"response"`
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return &Error{Err: err, Message: "upstream sent an invalid stream event"}
	}
	defer func(deltas, chars int) { s.usage.Deltas, s.usage.DeltaChars = deltas, chars }(s.usage.Deltas, s.usage.DeltaChars)
	switch ev.Type {
	case "error":
		typ, msg := ev.Error.Type, ev.Error.Message
		if msg == "" && json.Unmarshal(ev.Message, &msg) == nil {
			typ = ev.Code // the Responses API's shape
		}
		return streamEventError(typ, msg, s.redact)
	case "message_start":
		var m struct {
			Usage anthropicUsage `json:"usage"`
		}
		if err := json.Unmarshal(ev.Message, &m); err != nil && len(ev.Message) > 0 {
			return &Error{Err: err, Message: "upstream sent an invalid stream event"}
		}
		s.counts = m.Usage
		s.usage = s.counts.usage()
	case "message_delta":
		if u := ev.Usage; u != nil {
			s.counts.merge(*u)
			s.usage = s.counts.usage()
		}
	case "message_stop":
		s.done = true
	case "response.completed", "response.incomplete", "response.failed":
		s.usage = ev.Response.Usage.usage()
		s.usage.ServiceTier = serviceTier(ev.Response.ServiceTier)
		s.done = true
	case "transcript.text.done", "image_generation.completed", "image_edit.completed", "speech.audio.done":
		if ev.Usage != nil {
			s.usage = Usage{InputTokens: ev.Usage.InputTokens, OutputTokens: ev.Usage.OutputTokens}
		}
		s.done = true
	}
	return nil
}

// frame writes one SSE event into the stream's buffer (valid until the
// next call).
func (s *rawStream) frame(name, data []byte) []byte {
	s.buf = AppendFrame(s.buf[:0], name, data)
	return s.buf
}

// AppendFrame appends one SSE event to dst: an event: line when name is
// set, then the data line and the blank line that ends it. A stream that
// frames into one buffer it reuses makes no garbage per event.
func AppendFrame(dst, name, data []byte) []byte {
	if len(name) > 0 {
		dst = append(append(append(dst, "event: "...), name...), '\n')
	}
	return append(append(append(dst, "data: "...), data...), "\n\n"...)
}

// Frame returns one SSE event in a new slice (AppendFrame).
func Frame(name string, data []byte) []byte {
	return AppendFrame(make([]byte, 0, len(name)+len(data)+16), []byte(name), data)
}

// responsesUsage is the Responses API's token count, the prompt's cached
// part in input_tokens_details.
type responsesUsage struct {
	InputTokens        int `json:"input_tokens"`
	OutputTokens       int `json:"output_tokens"`
	InputTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
}

func (u responsesUsage) usage() Usage {
	return Usage{InputTokens: u.InputTokens, OutputTokens: u.OutputTokens, CacheReadTokens: u.InputTokensDetails.CachedTokens}
}

// nativeUsage reads the usage of a native non-streaming answer, in any
// API's shape.
func nativeUsage(data []byte) (Usage, bool) {
	m, ok := readMeta(data)
	return Usage{InputTokens: m.input + m.prompt + m.cacheRead + m.cacheWrite, OutputTokens: m.output + m.completion,
		CacheReadTokens: m.promptCached + m.inputCached + m.cacheRead, CacheWriteTokens: m.cacheWrite,
		CacheWriteHourTokens: min(m.cacheWriteHour, m.cacheWrite), ServiceTier: m.tier, Cost: m.cost, USOnly: m.usOnly}, ok
}

// answerMeta is what breakerd reads from a whole answer: its model, and its
// token counts under any API's names (chat: prompt and completion;
// Responses and Messages: input and output). promptCached and
// inputCached are the part of the prompt read from the cache as chat and
// Responses count it (within prompt or input); cacheRead and cacheWrite
// are Anthropic's (beside input), and cacheWriteHour the part of
// cacheWrite its cache_creation says went to the 1-hour cache.
type answerMeta struct {
	model                             string
	input, output, prompt, completion int
	promptCached, inputCached         int
	cacheRead, cacheWrite             int
	cacheWriteHour                    int
	tier                              string  // the service tier (Usage.ServiceTier)
	cost                              float64 // the cost the upstream reports (Usage.Cost)
	usOnly                            bool    // US-only inference served it (Usage.USOnly)
}

// readMeta reads an answer's model and usage in the one pass that
// validates it and walks its top-level members (EachField):
// json.Unmarshal into a struct decodes the choices too, only to skip
// them, at about twice the time and nine allocations a call. It fails
// where json.Unmarshal into such a struct would: data is not a JSON
// object, or model is not a string, usage not an object, a token count
// not an integer (null is each one's zero value). Keys match exactly.
func readMeta(data []byte) (answerMeta, bool) {
	var m answerMeta
	ok := true
	valid := EachField(data, func(k, v []byte) {
		switch string(k) {
		case "model":
			var good bool
			m.model, good = JSONString(v)
			ok = ok && good
		case "usage":
			ok = ok && readUsage(v, &m)
		case "service_tier":
			m.tier = serviceTier(v)
		}
	})
	return m, valid && ok
}

// readUsage reads a usage object's token counts into m, its details
// objects' after it (in turn, not from within: a recursion would have m
// escape to the heap).
func readUsage(v []byte, m *answerMeta) bool {
	var details [4][]byte // by object
	ok := readCounts(v, m, usageObject, &details)
	for object, d := range details {
		if d != nil {
			ok = ok && readCounts(d, m, object, nil)
		}
	}
	return ok
}

// The objects of token counts an answer's usage has.
const (
	usageObject   = iota
	promptDetails // chat's prompt_tokens_details
	inputDetails  // Responses' input_tokens_details
	cacheCreation // Messages' cache_creation, by the cache's lifetime
)

// field returns where member k (of value n) of an object of counts goes
// (nil to skip it), or false when the member does not read; a details
// object goes to details, for readUsage.
func (m *answerMeta) field(object int, k, n []byte, details *[4][]byte) (*int, bool) {
	switch {
	case object == promptDetails && string(k) == "cached_tokens":
		return &m.promptCached, true
	case object == inputDetails && string(k) == "cached_tokens":
		return &m.inputCached, true
	case object == cacheCreation && string(k) == "ephemeral_1h_input_tokens":
		return &m.cacheWriteHour, true
	case object != usageObject:
		return nil, true
	}
	switch string(k) {
	case "input_tokens":
		return &m.input, true
	case "output_tokens":
		return &m.output, true
	case "prompt_tokens":
		return &m.prompt, true
	case "completion_tokens":
		return &m.completion, true
	case "cache_read_input_tokens":
		return &m.cacheRead, true
	case "cache_creation_input_tokens":
		return &m.cacheWrite, true
	case "prompt_tokens_details":
		details[promptDetails] = n
	case "input_tokens_details":
		details[inputDetails] = n
	case "cache_creation":
		details[cacheCreation] = n
	}
	return nil, true
}

// readCounts reads an object of token counts (or null, its zero value)
// into m, and the usage object's details objects into details. A count
// must be an integer or null.
func readCounts(v []byte, m *answerMeta, object int, details *[4][]byte) bool {
	if string(v) == "null" {
		return true
	}
	if v[0] != '{' {
		return false
	}
	ok := true
	EachField(v, func(k, n []byte) {
		switch {
		case object == usageObject && string(k) == "cost":
			m.cost, _ = strconv.ParseFloat(string(n), 64) // a number; anything else is no cost
			return
		case object == usageObject && string(k) == "speed":
			if t := fastTier(n); t != "" {
				m.tier = t // Anthropic's fast mode
			}
			return
		case object == usageObject && string(k) == "inference_geo":
			m.usOnly = string(n) == `"us"`
			return
		}
		dst, good := m.field(object, k, n, details)
		ok = ok && good
		if dst == nil || string(n) == "null" {
			return
		}
		c, err := strconv.Atoi(string(n))
		*dst, ok = c, ok && err == nil
	})
	return ok
}
