// Package mockllm is a fake LLM upstream that speaks the OpenAI API (with
// Azure's deployment URLs: chat, embeddings, Responses with stored
// responses, legacy completions, audio, images, moderations, files and
// batches) and the Anthropic Messages API (with its Message Batches),
// streaming included. Faults are switched at runtime over a small
// control API, so tests, the demo and the benchmarks can break and heal a
// "provider" without restarting it:
//
//	GET  /_mock/faults   current faults
//	PUT  /_mock/faults   replace faults, e.g. {"error_rate":1,"status":503}
//	GET  /_mock/stats    calls received
//	POST /_mock/reset    clear faults and stats
package mockllm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Faults describe how the mock misbehaves. The zero value is a healthy
// upstream.
type Faults struct {
	// ErrorRate is the fraction of requests (0 to 1) that fail with Status.
	// Failures are spread evenly and deterministically, starting with the
	// first request: 0.5 fails the 1st, 3rd, 5th...
	ErrorRate float64 `json:"error_rate"`
	// Status is the HTTP status of injected errors (default 500).
	Status int `json:"status,omitempty"`
	// RetryAfter, in seconds, is sent as Retry-After with injected errors.
	RetryAfter int `json:"retry_after,omitempty"`
	// LatencyMS delays every response (before the first byte).
	LatencyMS int `json:"latency_ms,omitempty"`
	// ChunkDelayMS delays each streamed chunk after the first.
	ChunkDelayMS int `json:"chunk_delay_ms,omitempty"`
	// Hang makes every request wait until the client gives up.
	Hang bool `json:"hang,omitempty"`
	// Reset closes the connection without a response.
	Reset bool `json:"reset,omitempty"`
	// CutAfter, when > 0, breaks streams after that many chunks.
	CutAfter int `json:"cut_after,omitempty"`
	// OverloadAfter, when > 0, ends streams after that many chunks with
	// the provider's error event for an overloaded upstream, the
	// connection closed cleanly: Anthropic's overloaded_error event (the
	// most common way its streams fail mid-answer), an error chunk in a
	// chat stream, the Responses API's error event.
	OverloadAfter int `json:"overload_after,omitempty"`
	// StallAfter, when > 0, makes streams go silent after that many
	// chunks, with the connection open, until the client gives up: a
	// provider that hangs mid-answer.
	StallAfter int `json:"stall_after,omitempty"`
	// ReplyWords, when > 0, pads every reply to that many words (one
	// streamed chunk each), for long answers and large streams.
	ReplyWords int `json:"reply_words,omitempty"`
	// DeltaWords, when > 1, streams that many words in each text delta
	// of a chat, Messages or Responses stream, as upstreams that send
	// several tokens a delta do (Anthropic's); otherwise one each.
	DeltaWords int `json:"delta_words,omitempty"`
	// StampChunks makes each streamed chat chunk's text the Unix
	// microsecond it was sent at, so that a client can measure how long a
	// proxy took to relay it.
	StampChunks bool `json:"stamp_chunks,omitempty"`
	// ContextTokens, when > 0, is the model's context window: a prompt of
	// more tokens (words, to the mock) gets the provider's 400 for an
	// over-long prompt (OpenAI's context_length_exceeded, Anthropic's
	// "prompt is too long").
	ContextTokens int `json:"context_tokens,omitempty"`
	// BlockedWords are words a prompt must not contain: one that does gets
	// the provider's 400 for a content-policy refusal (OpenAI's
	// content_policy_violation, Anthropic's "Output blocked by content
	// filtering policy").
	BlockedWords []string `json:"blocked_words,omitempty"`
	// RPMLimit, when > 0, is the provider's limit on requests a minute
	// (a window from its first request): every answer carries the
	// provider's rate-limit headers (limit, remaining, reset), and a
	// request over the limit gets its 429 with Retry-After.
	RPMLimit int `json:"rpm_limit,omitempty"`
	// FastModeLimited makes Anthropic's fast mode (speed: "fast") at its
	// own rate limit: such a request gets its 429, with Retry-After and
	// the anthropic-fast-* headers at 0, while standard requests are
	// served.
	FastModeLimited bool `json:"fast_mode_limited,omitempty"`
	// MissingModels are models the upstream does not serve (retired, or
	// never had): a chat, Messages, Responses, embeddings, video or
	// Realtime request for one gets the provider's answer for such a model, OpenAI's 404
	// model_not_found ("The model `x` does not exist or you do not have
	// access to it."), Anthropic's 404 not_found_error ("model: x").
	MissingModels []string `json:"missing_models,omitempty"`
	// UnverifiedStreams plays an OpenAI organization not verified to
	// stream: a streamed chat or Responses request gets OpenAI's 400
	// ("Your organization must be verified to stream this model"); one
	// not streamed is served.
	UnverifiedStreams bool `json:"unverified_streams,omitempty"`
	// AccountDisabled plays an account its vendor disabled: every call
	// gets Anthropic's 400 ("This organization has been disabled.") or
	// OpenAI's 401 account_deactivated.
	AccountDisabled bool `json:"account_disabled,omitempty"`
	// OutOfCredit plays an account that cannot pay: every call gets the
	// provider's refusal for it, OpenAI's 429 insufficient_quota ("You
	// exceeded your current quota ..."), Anthropic's 400 ("Your credit
	// balance is too low ...").
	OutOfCredit bool `json:"out_of_credit,omitempty"`
	// BatchPolls, when > 0, keeps a batch (OpenAI's or Anthropic's) in
	// progress for that many looks (retrieves, lists) after it was made,
	// before it runs: a client's polling, and the cancel of a batch in
	// progress, can be seen. 0 runs it at the first look.
	BatchPolls int `json:"batch_polls,omitempty"`
}

// Stats count the requests the mock received, faults included.
type Stats struct {
	Requests   int64 `json:"requests"`
	Chat       int64 `json:"chat"`
	Embeddings int64 `json:"embeddings"`
	Messages   int64 `json:"messages"`
	Responses  int64 `json:"responses"`
	// Stored counts the calls on stored responses: retrieve, delete,
	// cancel and input_items.
	Stored int64 `json:"stored"`
	// Media counts audio transcriptions, translations and speech, and
	// image generations, edits and variations.
	Media int64 `json:"media"`
	// Moderations counts moderation calls.
	Moderations int64 `json:"moderations"`
	// Realtime counts Realtime sessions asked for (handshakes).
	Realtime int64 `json:"realtime"`
	// Rerank counts rerank calls.
	Rerank int64 `json:"rerank"`
	// Files counts the Files and Batch APIs' calls, and those of
	// Anthropic's Message Batches (a batch's own requests are not
	// counted).
	Files       int64 `json:"files"`
	Completions int64 `json:"completions"`
	Failed      int64 `json:"failed"`
	// HTTP2 counts the API requests that came over HTTP/2 (h2c from
	// HTTPServer, or TLS): a gateway's http2_prior_knowledge shows here.
	HTTP2 int64 `json:"http2"`
	// IAMTokens counts the IBM Cloud IAM tokens granted (watsonx.ai's).
	IAMTokens int64 `json:"iam_tokens"`
}

// Options configure a Server.
type Options struct {
	// Name appears in replies ("Hello from NAME").
	Name string
	// APIKey, when set, is required: other keys get a 401.
	APIKey string
	// Now is the clock the times of what it makes are read from (a
	// completion's created, a stored object's created_at), for tests
	// that need objects made at different times; nil is time.Now. Its
	// pacing (delays, stalls) keeps the real clock.
	Now func() time.Time
}

// now is the time on the mock's clock (Options.Now).
func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// Server is a mock upstream. Create it with New and serve Handler.
type Server struct {
	opts   Options
	mu     sync.Mutex
	faults Faults
	seq    atomic.Int64 // requests subject to ErrorRate
	stats  struct {
		requests, chat, embeddings, messages, responses, stored, completions, media, moderations, realtime, rerank, failed, http2 atomic.Int64
		iamTokens, files                                                                                                          atomic.Int64
	}
	// iamTokens holds the IAM tokens the mock granted (watsonx.ai's), by
	// token, with the API key each was granted for.
	iamTokens sync.Map
	ids       atomic.Int64
	// stored holds the Responses API's stored responses, convs the
	// Conversations API's conversations, files the Files API's files and
	// the Batch API's batches.
	stored responseStore
	convs  conversationStore
	files  fileStore
	// arrived is closed and replaced on every request, waking WaitRequests.
	arrived chan struct{}
	// lastBody is the body of the latest request, for LastBody.
	lastBody atomic.Pointer[[]byte]
	// cache is the Messages API's prompt cache; rpm counts requests
	// against Faults.RPMLimit.
	cache promptCache
	rpm   rateWindow
}

// LastBody returns the body of the latest request the mock received, to
// check what a gateway sent upstream.
func (s *Server) LastBody() string {
	if b := s.lastBody.Load(); b != nil {
		return string(*b)
	}
	return ""
}

// New returns a healthy mock.
func New(opts Options) *Server {
	if opts.Name == "" {
		opts.Name = "mockllm"
	}
	return &Server{opts: opts, arrived: make(chan struct{})}
}

// WaitRequests blocks until the mock has received at least n requests in
// total, or ctx ends.
func (s *Server) WaitRequests(ctx context.Context, n int64) error {
	for {
		s.mu.Lock()
		ch := s.arrived
		s.mu.Unlock()
		if s.stats.requests.Load() >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// SetFaults replaces the current faults.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
	s.seq.Store(0)
}

// SetAPIKey changes the API key the mock requires ("" accepts any), as
// when a provider's key is rotated.
func (s *Server) SetAPIKey(key string) {
	s.mu.Lock()
	s.opts.APIKey = key
	s.mu.Unlock()
}

// Faults returns the current faults.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// Stats returns the calls received so far.
func (s *Server) Stats() Stats {
	return Stats{Requests: s.stats.requests.Load(), Chat: s.stats.chat.Load(),
		Embeddings: s.stats.embeddings.Load(), Messages: s.stats.messages.Load(), Responses: s.stats.responses.Load(),
		Stored: s.stats.stored.Load(), Media: s.stats.media.Load(), Moderations: s.stats.moderations.Load(), Realtime: s.stats.realtime.Load(), Rerank: s.stats.rerank.Load(),
		Completions: s.stats.completions.Load(), Failed: s.stats.failed.Load(), HTTP2: s.stats.http2.Load(),
		IAMTokens: s.stats.iamTokens.Load(), Files: s.stats.files.Load()}
}

// Reset clears faults and stats.
func (s *Server) Reset() {
	s.SetFaults(Faults{})
	s.stats.requests.Store(0)
	s.stats.chat.Store(0)
	s.stats.embeddings.Store(0)
	s.stats.messages.Store(0)
	s.stats.responses.Store(0)
	s.stats.stored.Store(0)
	s.stats.media.Store(0)
	s.stats.moderations.Store(0)
	s.stats.realtime.Store(0)
	s.stats.rerank.Store(0)
	s.stats.completions.Store(0)
	s.stats.failed.Store(0)
	s.stats.http2.Store(0)
	s.stats.iamTokens.Store(0)
	s.stats.files.Store(0)
}

// HTTPServer returns a server for Handler that speaks HTTP/1.1 and, to
// clients that start with HTTP/2's preface, cleartext HTTP/2 (h2c with
// prior knowledge), as gRPC servers and some inference servers do.
func (s *Server) HTTPServer() *http.Server {
	srv := &http.Server{Handler: s.Handler(), Protocols: new(http.Protocols)}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	return srv
}

// Handler serves the mock API and its control endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	chat := s.upstream(&s.stats.chat, s.chat)
	emb := s.upstream(&s.stats.embeddings, s.embeddings)
	mux.Handle("POST /v1/chat/completions", chat)
	mux.Handle("POST /chat/completions", chat)
	mux.Handle("POST /api/v1/chat/completions", chat) // OpenRouter's path
	mux.Handle("POST /openai/deployments/{deployment}/chat/completions", chat)
	mux.Handle("POST /v1beta/openai/chat/completions", s.upstream(&s.stats.chat, s.geminiChat))
	mux.Handle("POST /v1beta/openai/embeddings", emb)
	mux.Handle("POST /v1/embeddings", emb)
	mux.Handle("POST /embeddings", emb)
	mux.Handle("POST /openai/deployments/{deployment}/embeddings", emb)
	mux.Handle("POST /v1/messages", s.upstream(&s.stats.messages, s.messages))
	// Claude on Azure AI Foundry: Anthropic's API under /anthropic.
	mux.Handle("POST /anthropic/v1/messages", s.upstream(&s.stats.messages, s.messages))
	mux.Handle("POST /anthropic/v1/messages/count_tokens", s.upstream(&s.stats.messages, s.countTokens))
	// Vertex AI: Claude (Anthropic's API) and the OpenAI-compatible API.
	mux.Handle("POST /v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model}", s.upstream(&s.stats.messages, s.vertexAnthropic))
	mux.Handle("POST /v1/projects/{project}/locations/{location}/endpoints/openapi/chat/completions", s.upstream(&s.stats.chat, s.chat))
	mux.Handle("POST /v1/messages/count_tokens", s.upstream(&s.stats.messages, s.countTokens))
	// Amazon Bedrock: Claude at its InvokeModel API.
	mux.Handle("POST /model/{model}/{method}", s.upstream(&s.stats.messages, s.bedrockInvoke))
	// A SageMaker endpoint whose container speaks OpenAI's chat API.
	mux.Handle("POST /endpoints/{endpoint}/{method}", s.upstream(&s.stats.chat, s.sagemakerInvoke))
	// IBM watsonx.ai's (watsonx.go).
	mux.HandleFunc("POST /identity/token", s.iamToken)
	mux.Handle("POST /ml/v1/text/embeddings", s.upstream(&s.stats.embeddings, s.watsonxEmbeddings))
	for _, p := range []string{"/ml/v1/text/", "/ml/v1/deployments/{deployment}/text/"} {
		mux.Handle("POST "+p+"chat", s.upstream(&s.stats.chat, s.watsonxChat))
		mux.Handle("POST "+p+"chat_stream", s.upstream(&s.stats.chat, s.watsonxChat))
	}
	resp := s.upstream(&s.stats.responses, s.responses)
	mux.Handle("POST /v1/responses", resp)
	mux.Handle("POST /responses", resp)
	mux.Handle("POST /openai/responses", resp)
	mux.Handle("POST /openai/v1/responses", resp)
	for _, base := range []string{"/v1/responses", "/responses", "/openai/responses", "/openai/v1/responses"} {
		mux.Handle("POST "+base+"/compact", s.upstream(&s.stats.responses, s.compact))
		mux.Handle("POST "+base+"/input_tokens", s.upstream(&s.stats.responses, s.inputTokens))
		mux.Handle("GET "+base+"/{id}", s.upstream(&s.stats.stored, s.getResponse))
		mux.Handle("DELETE "+base+"/{id}", s.upstream(&s.stats.stored, s.deleteResponse))
		mux.Handle("POST "+base+"/{id}/cancel", s.upstream(&s.stats.stored, s.cancelResponse))
		mux.Handle("GET "+base+"/{id}/input_items", s.upstream(&s.stats.stored, s.inputItems))
	}
	conv := s.upstream(&s.stats.stored, s.conversations)
	for _, base := range []string{"/v1/conversations", "/conversations", "/openai/conversations", "/openai/v1/conversations"} {
		mux.Handle("POST "+base, conv)
		for _, m := range []string{"GET ", "POST ", "DELETE "} {
			mux.Handle(m+base+"/{id}", conv)
		}
		mux.Handle("GET "+base+"/{id}/items", conv)
		mux.Handle("POST "+base+"/{id}/items", conv)
		mux.Handle("GET "+base+"/{id}/items/{item}", conv)
		mux.Handle("DELETE "+base+"/{id}/items/{item}", conv)
	}
	stt, tts, img := s.upstream(&s.stats.media, s.transcriptions), s.upstream(&s.stats.media, s.speech), s.upstream(&s.stats.media, s.images)
	edit, mod := s.upstream(&s.stats.media, s.imageEdits), s.upstream(&s.stats.moderations, s.moderations)
	for path, h := range map[string]http.Handler{"audio/transcriptions": stt, "audio/translations": stt, "audio/speech": tts,
		"images/generations": img, "images/edits": edit, "images/variations": edit, "moderations": mod} {
		mux.Handle("POST /v1/"+path, h)
		mux.Handle("POST /"+path, h)
		mux.Handle("POST /openai/deployments/{deployment}/"+path, h)
		mux.Handle("POST /openai/v1/"+path, h)
	}
	rr := s.upstream(&s.stats.rerank, s.rerank)
	for _, p := range []string{"/v1/rerank", "/rerank", "/v2/rerank"} {
		mux.Handle("POST "+p, rr)
	}
	rt := s.upstream(&s.stats.realtime, s.realtime)
	secret, call := s.upstream(&s.stats.realtime, s.realtimeSecret), s.upstream(&s.stats.realtime, s.realtimeCall)
	for _, p := range []string{"/v1/realtime", "/realtime", "/openai/realtime", "/openai/v1/realtime"} {
		mux.Handle("GET "+p, rt)
		mux.Handle("POST "+p+"/client_secrets", secret)
		mux.Handle("POST "+p+"/calls", call)
	}
	files, batches := s.upstream(&s.stats.files, s.fileCalls), s.upstream(&s.stats.files, s.batchCalls)
	for _, base := range filesBase {
		mux.Handle("POST "+base+"/files", s.upstream(&s.stats.files, s.createFile))
		mux.Handle("GET "+base+"/files", files)
		mux.Handle("GET "+base+"/files/{id}", files)
		mux.Handle("DELETE "+base+"/files/{id}", files)
		mux.Handle("GET "+base+"/files/{id}/content", files)
		mux.Handle("POST "+base+"/batches", s.upstream(&s.stats.files, s.createBatch))
		mux.Handle("GET "+base+"/batches", batches)
		mux.Handle("GET "+base+"/batches/{id}", batches)
		mux.Handle("POST "+base+"/batches/{id}/cancel", batches)
		vs := s.upstream(&s.stats.files, s.vectorStores)
		for _, p := range []string{"POST /vector_stores", "GET /vector_stores", "GET /vector_stores/{id}", "POST /vector_stores/{id}",
			"DELETE /vector_stores/{id}", "POST /vector_stores/{id}/search", "GET /vector_stores/{id}/files", "POST /vector_stores/{id}/files",
			"GET /vector_stores/{id}/files/{file}", "POST /vector_stores/{id}/files/{file}", "DELETE /vector_stores/{id}/files/{file}",
			"GET /vector_stores/{id}/files/{file}/content", "POST /vector_stores/{id}/file_batches", "GET /vector_stores/{id}/file_batches/{batch}",
			"POST /vector_stores/{id}/file_batches/{batch}/cancel", "GET /vector_stores/{id}/file_batches/{batch}/files"} {
			method, path, _ := strings.Cut(p, " ")
			mux.Handle(method+" "+base+path, vs)
		}
		ups := s.upstream(&s.stats.files, s.uploads)
		for _, p := range []string{"POST /uploads", "POST /uploads/{id}/parts", "POST /uploads/{id}/complete", "POST /uploads/{id}/cancel"} {
			method, path, _ := strings.Cut(p, " ")
			mux.Handle(method+" "+base+path, ups)
		}
		ft := s.upstream(&s.stats.files, s.fineTuning)
		for _, p := range []string{"POST /fine_tuning/jobs", "GET /fine_tuning/jobs", "GET /fine_tuning/jobs/{id}", "POST /fine_tuning/jobs/{id}/cancel",
			"POST /fine_tuning/jobs/{id}/pause", "POST /fine_tuning/jobs/{id}/resume", "GET /fine_tuning/jobs/{id}/events",
			"GET /fine_tuning/jobs/{id}/checkpoints"} {
			method, path, _ := strings.Cut(p, " ")
			mux.Handle(method+" "+base+path, ft)
		}
		chats := s.upstream(&s.stats.stored, s.storedChats)
		for _, p := range []string{"GET /chat/completions", "GET /chat/completions/{id}", "POST /chat/completions/{id}",
			"DELETE /chat/completions/{id}", "GET /chat/completions/{id}/messages"} {
			method, path, _ := strings.Cut(p, " ")
			mux.Handle(method+" "+base+path, chats)
		}
		cs := s.upstream(&s.stats.files, s.containers)
		for _, p := range []string{"POST /containers", "GET /containers", "GET /containers/{id}", "DELETE /containers/{id}",
			"GET /containers/{id}/files", "POST /containers/{id}/files", "GET /containers/{id}/files/{file}",
			"DELETE /containers/{id}/files/{file}", "GET /containers/{id}/files/{file}/content"} {
			method, path, _ := strings.Cut(p, " ")
			mux.Handle(method+" "+base+path, cs)
		}
		vids := s.upstream(&s.stats.files, s.videos)
		for _, p := range []string{"POST /videos", "GET /videos", "GET /videos/{id}", "DELETE /videos/{id}", "GET /videos/{id}/content",
			"POST /videos/{id}/remix", "POST /videos/edits", "POST /videos/extensions"} {
			method, path, _ := strings.Cut(p, " ")
			mux.Handle(method+" "+base+path, vids)
		}
	}
	msgBatches := s.upstream(&s.stats.files, s.messageBatchCalls)
	mux.Handle("POST /v1/messages/batches", s.upstream(&s.stats.files, s.createMessageBatch))
	mux.Handle("GET /v1/messages/batches", msgBatches)
	mux.Handle("GET /v1/messages/batches/{id}", msgBatches)
	mux.Handle("DELETE /v1/messages/batches/{id}", msgBatches)
	mux.Handle("POST /v1/messages/batches/{id}/cancel", msgBatches)
	mux.Handle("GET /v1/messages/batches/{id}/results", msgBatches)
	cmpl := s.upstream(&s.stats.completions, s.completions)
	mux.Handle("POST /v1/completions", cmpl)
	mux.Handle("POST /completions", cmpl)
	mux.Handle("POST /openai/deployments/{deployment}/completions", cmpl)
	mux.HandleFunc("GET /v1/models", s.models)
	mux.HandleFunc("GET /_mock/faults", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.Faults()) })
	mux.HandleFunc("PUT /_mock/faults", s.putFaults)
	mux.HandleFunc("POST /_mock/faults", s.putFaults)
	mux.HandleFunc("GET /_mock/stats", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.Stats()) })
	mux.HandleFunc("POST /_mock/reset", func(w http.ResponseWriter, r *http.Request) { s.Reset(); w.WriteHeader(204) })
	// As the real APIs answer an unknown URL: an error body, not a text page.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path))
	})
	return mux
}

func (s *Server) putFaults(w http.ResponseWriter, r *http.Request) {
	f, err := ReadFaults(r.Body)
	if err != nil {
		writeJSON(w, 400, map[string]string{"error": err.Error()})
		return
	}
	s.SetFaults(f)
	writeJSON(w, 200, f)
}

// ReadFaults reads faults as PUT /_mock/faults takes them: a JSON object
// of Faults' fields, none unknown, error_rate between 0 and 1.
func ReadFaults(r io.Reader) (Faults, error) {
	var f Faults
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Faults{}, fmt.Errorf("bad faults: %w", err)
	}
	if f.ErrorRate < 0 || f.ErrorRate > 1 || math.IsNaN(f.ErrorRate) {
		return Faults{}, errors.New("error_rate must be between 0 and 1")
	}
	return f, nil
}

// upstream wraps an API handler with call counting, auth and faults.
func (s *Server) upstream(counter *atomic.Int64, h func(http.ResponseWriter, *http.Request, Faults)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.stats.requests.Add(1)
		counter.Add(1)
		if r.ProtoMajor == 2 {
			s.stats.http2.Add(1)
		}
		s.mu.Lock()
		close(s.arrived)
		s.arrived = make(chan struct{})
		s.mu.Unlock()
		// Read the body first: the server notices a client that hangs up
		// only once the body has been read, and Hang must end then.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.lastBody.Store(&body)
		f := s.Faults()
		s.mu.Lock()
		want := s.opts.APIKey
		s.mu.Unlock()
		key := requestKey(r)
		if k, ok := s.iamTokens.Load(key); ok {
			key = k.(string) // a token granted for the key (watsonx.ai's)
		}
		if want != "" && key != want {
			s.stats.failed.Add(1)
			s.writeError(w, r, 401, "invalid_request_error", "Incorrect API key provided.")
			return
		}
		if f.Reset {
			s.stats.failed.Add(1)
			panic(http.ErrAbortHandler) // the server drops the connection
		}
		if f.AccountDisabled {
			s.stats.failed.Add(1)
			if anthropicRequest(r) {
				s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "This organization has been disabled.")
			} else {
				s.writeErrorCode(w, r, http.StatusUnauthorized, "invalid_request_error", "account_deactivated",
					"Your OpenAI account has been deactivated, please check your email for more information.")
			}
			return
		}
		if f.OutOfCredit {
			s.stats.failed.Add(1)
			if anthropicRequest(r) {
				s.writeError(w, r, http.StatusBadRequest, "invalid_request_error",
					"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.")
			} else {
				s.writeErrorCode(w, r, http.StatusTooManyRequests, "insufficient_quota", "insufficient_quota",
					"You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.")
			}
			return
		}
		if f.Hang {
			<-r.Context().Done()
			return
		}
		if f.LatencyMS > 0 {
			select {
			case <-time.After(time.Duration(f.LatencyMS) * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
		if f.ErrorRate > 0 {
			// Fail request n when ceil(n*rate) steps up: evenly spread
			// and repeatable.
			n := s.seq.Add(1)
			if math.Ceil(float64(n)*f.ErrorRate) > math.Ceil(float64(n-1)*f.ErrorRate) {
				s.stats.failed.Add(1)
				status := f.Status
				if status == 0 {
					status = 500
				}
				if f.RetryAfter > 0 {
					w.Header().Set("Retry-After", fmt.Sprint(f.RetryAfter))
				}
				s.writeError(w, r, status, errorType(status), fmt.Sprintf("mock %s injected a %d", s.opts.Name, status))
				return
			}
		}
		if !s.limitRequests(w, r, f) {
			return
		}
		h(w, r, f)
	})
}

// requestKey is the key a call carries: Anthropic's x-api-key, Azure's
// api-key, a bearer token, or the access key ID of an AWS signature.
func requestKey(r *http.Request) string {
	if id, ok := strings.CutPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="); ok {
		id, _, _ = strings.Cut(id, "/")
		return id
	}
	if k := r.Header.Get("x-api-key"); k != "" {
		return k
	}
	if k := r.Header.Get("api-key"); k != "" {
		return k
	}
	auth := r.Header.Get("Authorization")
	if k, ok := strings.CutPrefix(auth, "ZenApiKey "); ok {
		return k
	}
	return strings.TrimPrefix(auth, "Bearer ")
}

func errorType(status int) string {
	switch {
	case status == 429:
		return "rate_limit_error"
	case status == 401:
		return "authentication_error"
	case status == 529:
		return "overloaded_error"
	case status >= 500:
		return "api_error"
	}
	return "invalid_request_error"
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, status int, typ, msg string) {
	s.writeErrorCode(w, r, status, typ, "", msg)
}

// anthropicRequest reports whether r is an Anthropic client's, answered
// in Anthropic's error shape.
func anthropicRequest(r *http.Request) bool {
	return strings.HasPrefix(strings.TrimPrefix(r.URL.Path, "/anthropic"), "/v1/messages") || r.Header.Get("anthropic-version") != ""
}

// refuseMissing answers a request for one of f.MissingModels as its
// provider answers a model it does not serve, and reports whether it did.
func (s *Server) refuseMissing(w http.ResponseWriter, r *http.Request, f Faults, model string) bool {
	switch {
	case !slices.Contains(f.MissingModels, model):
		return false
	case anthropicRequest(r):
		s.writeError(w, r, http.StatusNotFound, "not_found_error", "model: "+model)
	default:
		s.writeErrorCode(w, r, http.StatusNotFound, "invalid_request_error", "model_not_found",
			fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", model))
	}
	return true
}

// refuseUnverifiedStream answers a stream request as OpenAI answers an
// organization not verified to stream the model (f.UnverifiedStreams),
// and reports whether it did.
func (s *Server) refuseUnverifiedStream(w http.ResponseWriter, r *http.Request, f Faults, stream bool) bool {
	if !f.UnverifiedStreams || !stream {
		return false
	}
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"type": "invalid_request_error", "code": "unsupported_value", "param": "stream",
		"message": "Your organization must be verified to stream this model. Please go to: https://platform.openai.com/settings/organization/general " +
			"and click on Verify Organization. If you just verified, it can take up to 15 minutes for access to propagate."}})
	return true
}

// writeErrorCode is writeError with OpenAI's error code (Anthropic's
// errors have none).
func (s *Server) writeErrorCode(w http.ResponseWriter, r *http.Request, status int, typ, code, msg string) {
	if anthropicRequest(r) {
		writeJSON(w, status, map[string]any{"type": "error", "error": map[string]string{"type": typ, "message": msg}})
		return
	}
	if strings.HasPrefix(r.URL.Path, "/endpoints/") { // SageMaker's
		name := map[int]string{429: "ThrottlingException", 503: "ServiceUnavailable", 403: "AccessDeniedException"}[status]
		switch {
		case name == "" && status >= 500:
			name = "InternalFailure"
		case name == "":
			// The container's own 4xx, which SageMaker holds in a ModelError.
			container, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": typ}})
			w.Header().Set("X-Amzn-Errortype", "ModelError:http://internal.amazon.com/coral/com.amazonaws.sagemaker/")
			writeJSON(w, http.StatusFailedDependency, map[string]any{"ErrorCode": "CLIENT_ERROR_FROM_MODEL",
				"Message":            fmt.Sprintf("Received client error (%d) from primary with message \"%s\".", status, container),
				"OriginalStatusCode": status, "OriginalMessage": string(container)})
			return
		}
		w.Header().Set("X-Amzn-Errortype", name+":http://internal.amazon.com/coral/com.amazonaws.sagemaker/")
		writeJSON(w, status, map[string]string{"message": msg})
		return
	}
	if strings.HasPrefix(r.URL.Path, "/ml/v1/") { // watsonx.ai's
		if status == http.StatusUnauthorized {
			code = "authentication_token_not_valid" // its code for any credential it does not take
		}
		writeJSON(w, status, map[string]any{"errors": []map[string]string{{"code": cmp.Or(code, typ), "message": msg}},
			"trace": "mock", "status_code": status})
		return
	}
	if strings.HasPrefix(r.URL.Path, "/model/") { // Bedrock's
		name := bedrockErrorTypes[status]
		if name == "" {
			name = bedrockErrorTypes[500]
		}
		w.Header().Set("X-Amzn-Errortype", name+":http://internal.amazon.com/coral/com.amazon.bedrock/")
		writeJSON(w, status, map[string]string{"message": msg})
		return
	}
	var c any
	if code != "" {
		c = code
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": typ, "code": c, "param": nil}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, map[string]any{"object": "list", "data": []map[string]any{
		{"id": "mock-model", "object": "model", "created": 0, "owned_by": s.opts.Name}}})
}
