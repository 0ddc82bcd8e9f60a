package gateway

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/provider"
)

// storedObject is a kind of object a deployment's upstream stores: the
// Responses API's responses, the Conversations API's conversations, the
// Files and Batch APIs' files and batches, Anthropic's Message Batches.
type storedObject struct {
	noun       string // in messages: "response", "conversation"
	collection string // its path under the API's root
	decode     func(string) (provider, deployment, id string, ok bool)
	api        provider.API // the calls' API, in metrics and traces
	// holds reports whether a deployment's upstream stores such objects,
	// and who names those that do, in messages.
	holds func(*Deployment) bool
	who   string
	// errAPI is the API whose shape errors take: OpenAI's, or Anthropic's
	// for its Message Batches.
	errAPI provider.API
	// judged is whether the calls' outcomes count toward the deployment's
	// chat breaker. Those on the Responses API's own objects do. The Files
	// and Batch APIs and Anthropic's Message Batches are other services at
	// the provider: the chat circuit gates them (an open one refuses
	// them), but their outage must not move chat traffic, nor their
	// success close a chat circuit that is testing recovery.
	judged bool
	// settings is whether files_settings' accounts (Gateway.fileStores)
	// hold them too: files and batches.
	settings bool
	// pageSize is the API's default page of a list; 0 is 20.
	pageSize int
}

var (
	storedResponses = storedObject{noun: "response", collection: "responses", decode: provider.DecodeResponseID,
		api: provider.APIStoredResponses, holds: stores, who: "openai and azure", errAPI: provider.APIResponses, judged: true}
	storedConversations = storedObject{noun: "conversation", collection: "conversations", decode: provider.DecodeConversationID,
		api: provider.APIConversations, holds: stores, who: "openai and azure", errAPI: provider.APIResponses, judged: true}
)

// storedCall serves a call on a stored object by its id (the {id} path
// value): for responses GET and DELETE on it, POST on its /cancel, GET on
// its /input_items; for conversations GET, POST and DELETE on it, and on
// its /items. sub gives the path after the id. Only the deployment that
// stores the object has it, so the call goes to that one alone (the id
// names it: provider.EncodeResponseID), through its chat breaker and
// bulkhead, with no retry or fallback.
func (g *Gateway) storedCall(obj storedObject, sub func(*http.Request) string) http.HandlerFunc {
	return g.storedHandler(obj.api, func(ctx context.Context, w http.ResponseWriter, r *http.Request) (*Deployment, int) {
		id := r.PathValue("id")
		d, upstreamID, msg := g.storedAt(obj, id)
		if d == nil {
			writeAPIError(w, obj.errAPI, http.StatusNotFound, "invalid_request_error", "", msg)
			return nil, http.StatusNotFound
		}
		body, ok := g.storedBody(w, r, obj.errAPI)
		if !ok {
			return d, http.StatusRequestEntityTooLarge
		}
		query := r.URL.Query()
		if _, at, own, ok := obj.decode(query.Get("after")); ok && at == d.Config.Name {
			// A cursor in the object's own list (a stored chat
			// completion's messages, whose ids are its own and so
			// encoded with it).
			query.Set("after", own)
		}
		if r.Method == http.MethodGet && streamInBody(body) {
			// The Go SDK's GetStreaming sends stream in a body; the API
			// (and the other SDKs) take it in the query.
			query.Set("stream", "true")
		}
		if r.Method == http.MethodGet {
			body = nil
		}
		if len(body) > 0 {
			// Files a vector store or a conversation's items are to use:
			// the upstream knows them by its own ids, and has only its own.
			var at string
			var err error
			if body, at, err = provider.ReferencedFiles(body); err == nil && at != "" && at != d.Config.Name {
				err = fmt.Errorf("the request names files kept at deployment %s, and %s '%s' is at deployment %s: no one upstream has both", at, obj.noun, id, d.Config.Name)
			}
			if err != nil {
				writeAPIError(w, obj.errAPI, http.StatusBadRequest, "invalid_request_error", "", err.Error())
				return d, http.StatusBadRequest
			}
		}
		call := provider.StoredCall{Method: r.Method, Path: obj.collection + "/" + url.PathEscape(upstreamID) + sub(r), Query: query,
			Header: anthropicHeaders(r)}
		if len(body) > 0 {
			call.Body = bytes.NewReader(body)
		}
		// A file's content, a video's, a message batch's results: any
		// bytes, any size.
		// (A vector store file's content is JSON, its parsed text.)
		call.Raw = (obj.collection == "files" || obj.collection == "containers" || obj.collection == "videos") && strings.HasSuffix(call.Path, "/content") ||
			strings.HasSuffix(call.Path, "/results")
		if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "multipart/") {
			call.ContentType = ct // a file uploaded to a container
		}
		resp, err := g.storedCallAt(ctx, obj, d, call, nil)
		if err != nil {
			return d, g.writeStoredError(w, obj.errAPI, err, d, fmt.Sprintf("%s '%s'", obj.noun, id), upstreamID, id)
		}
		switch {
		case resp.Raw != nil && obj.api == provider.APIMessageBatches: // its results
			resp.Raw = &resultsMeter{ReadCloser: resp.Raw, ended: func(u provider.Usage) { g.chargeBatch(d, id, u) }}
		case resp.Body == nil:
		case obj.api == provider.APIMessageBatches:
			resp.Body = resultsHere(resp.Body, r)
		case obj.api == provider.APIBatches:
			g.chargeBatches(d, resp.Body)
		}
		writeStored(w, d, resp)
		return d, http.StatusOK
	})
}

// storedDone ends a call on stored objects: its span, with the deployment
// that has them (nil when none) and the status, and a request counted in
// the metrics of the deployment's model group.
func (g *Gateway) storedDone(span trace.Span, api provider.API, d *Deployment, status int, start time.Time) {
	g.soleDone(span, provider.Chat, api, d, status, start)
}

// soleDone ends a request that one deployment (d, nil when none) served
// or failed with no retry or fallback, for op: its span, with d, its
// breaker and the status, and the request's report to the observer.
func (g *Gateway) soleDone(span trace.Span, op provider.Operation, api provider.API, d *Deployment, status int, start time.Time) {
	info := RequestInfo{Op: op, API: api, Status: status, Duration: time.Since(start)}
	if d != nil {
		info.Group, info.Attempts = d.Config.Group, 1
		if status < 300 {
			info.Served = d
		}
	}
	if span.IsRecording() {
		span.SetAttributes(semconv.HTTPResponseStatusCodeKey.Int(status))
		if d != nil {
			br := d.Breakers[op]
			span.SetAttributes(attribute.String("breakerd.deployment", d.Config.Name), semconv.GenAIRequestModelKey.String(d.Config.Group),
				attribute.String("breakerd.breaker.name", br.Name()), attribute.String("breakerd.breaker.state", br.State().String()))
		}
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
	}
	span.End()
	g.obs.RequestDone(info)
}

// storedHandler serves a call on what upstreams store (api's objects)
// by work, which answers the client and returns the deployment it
// reached (nil when none) and the status: it adds the call's span and
// its report to the observer.
func (g *Gateway) storedHandler(api provider.API, work func(context.Context, http.ResponseWriter, *http.Request) (*Deployment, int)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, span := g.startRequestSpan(r, provider.Chat, api)
		d, status := work(g.clientHeaders(ctx, r), w, r)
		g.storedDone(span, api, d, status, start)
	}
}

// makeConversation serves POST /v1/conversations. A conversation names
// no model, so it is made at the first deployment that stores them (in
// config order) whose circuit lets calls through, the next one taking it
// when that one fails; its id names the deployment, as a response's does.
func (g *Gateway) makeConversation(ctx context.Context, w http.ResponseWriter, r *http.Request) (*Deployment, int) {
	body, ok := g.storedBody(w, r, provider.APIResponses)
	if !ok {
		return nil, http.StatusRequestEntityTooLarge
	}
	scope := g.holding(storedConversations)
	if len(scope) == 0 {
		writeAPIError(w, provider.APIResponses, http.StatusNotFound, "invalid_request_error", "",
			"no deployment in breakerd's config stores conversations (only openai and azure ones do)")
		return nil, http.StatusNotFound
	}
	return g.makeAt(w, storedConversations, "the conversation", scope, true, func(d *Deployment) (*provider.Response, error) {
		return g.callStored(ctx, storedConversations, http.MethodPost, d, storedConversations.collection, r.URL.Query(), body)
	})
}

// makeAt makes a new object of obj's kind (what, in messages) at the
// first deployment of scope that takes it (call makes it at one), and
// answers the client. A deployment whose circuit or bulkhead refuses
// passes it on; so does one that fails as another may not (a 5xx, a
// timeout) when resend is set (the request can go again); the request's
// own fault (a 4xx), the client's leaving, or any failure without resend
// ends it. It returns the deployment that answered or was tried last, and
// the status.
func (g *Gateway) makeAt(w http.ResponseWriter, obj storedObject, what string, scope []*Deployment, resend bool,
	call func(*Deployment) (*provider.Response, error)) (*Deployment, int) {
	var failures []string
	var retryAt time.Time
	var last *Deployment
	for _, d := range scope {
		last = d
		resp, err := call(d)
		var u *unavailable
		var perr *provider.Error
		switch {
		case err == nil:
			writeStored(w, d, resp)
			return d, http.StatusOK
		case errors.As(err, &u): // not called
			if !u.retryAt.IsZero() && (retryAt.IsZero() || u.retryAt.Before(retryAt)) {
				retryAt = u.retryAt
			}
			failures = append(failures, d.Config.Name+": "+u.why)
			continue
		case !resend, errors.As(err, &perr) && (perr.Canceled || (perr.Status > 0 && !fallbackWorthy(perr.Status) && deploymentFault(d, perr) == "")):
			return d, g.writeStoredError(w, obj.errAPI, err, d, what, "", "")
		}
		failures = append(failures, d.Config.Name+": "+err.Error())
	}
	if retryAt.IsZero() {
		w.Header().Set("X-Should-Retry", "false")
	} else {
		w.Header().Set("Retry-After", strconv.Itoa(max(int(retryAt.Sub(g.clock.Now()).Seconds()+0.999), 1)))
	}
	writeAPIError(w, obj.errAPI, http.StatusServiceUnavailable, "service_unavailable", "all_deployments_unavailable",
		fmt.Sprintf("No deployment that stores %s could make %s (%s)", obj.collection, what, strings.Join(failures, "; ")))
	return last, http.StatusServiceUnavailable
}

// storedBody reads a call's body (a POST's), or answers why it cannot,
// in api's error shape.
func (g *Gateway) storedBody(w http.ResponseWriter, r *http.Request, api provider.API) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.cfg.Server.MaxBodyBytes))
	if err != nil {
		writeAPIError(w, api, http.StatusRequestEntityTooLarge, "invalid_request_error", "request_too_large",
			fmt.Sprintf("could not read the request body: %v", err))
		return nil, false
	}
	return body, true
}

// unavailable is why a deployment was not called: its circuit, or its
// bulkhead.
type unavailable struct {
	why     string
	retryAt time.Time
}

func (u *unavailable) Error() string { return u.why }

// callStored makes one call on d's objects of obj's kind, through its
// chat breaker and bulkhead (through), with a JSON body (or none).
func (g *Gateway) callStored(ctx context.Context, obj storedObject, method string, d *Deployment, path string, query url.Values, body []byte) (*provider.Response, error) {
	call := provider.StoredCall{Method: method, Path: path, Query: query}
	if len(body) > 0 {
		call.Body = bytes.NewReader(body)
	}
	return g.storedCallAt(ctx, obj, d, call, nil)
}

// storedCallAt makes call on d's objects of obj's kind, through its chat
// breaker (judged as obj says) and bulkhead (through). The deployment's timeout bounds the call, but
// not a stream's or a raw answer's relay, which the client's own deadline
// bounds. upload, when set, is the call's body, a client's upload: if
// reading it failed, the call failed by the client's doing, not the
// upstream's.
func (g *Gateway) storedCallAt(ctx context.Context, obj storedObject, d *Deployment, call provider.StoredCall, upload *uploadBody) (*provider.Response, error) {
	var resp *provider.Response
	client := ctx
	var unjudged provider.API
	if !obj.judged && d.Config.Group != config.FileStoreGroup { // a files_settings account has no chat to spare: its calls judge it
		unjudged = obj.api
	}
	op := provider.Chat
	if d.Breakers[op] == nil { // an embedding model's files (storesFiles), a video model's videos
		op = d.Operations()[0]
	}
	ctx = g.forwardingTo(ctx, d)
	release, err := g.through(ctx, d, op, unjudged, func(ctx context.Context) (err error) {
		if t := d.Config.Timeout; t > 0 && call.Query.Get("stream") != "true" && !call.Raw {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, t)
			defer cancel()
		}
		resp, err = d.prov.(provider.StoredResponses).Stored(ctx, call)
		if upload != nil && err != nil {
			if cerr := upload.failed(client); cerr != nil {
				return cerr
			}
		}
		var perr *provider.Error
		if errors.As(err, &perr) && perr.WrongPath() {
			// A server that speaks OpenAI's chat but not this API (vLLM's,
			// Ollama's, at openai/): fine for what it does serve.
			return uncountedError{perr}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	release()
	return resp, nil
}

// through makes one call to d for op (call), through op's breaker and d's
// bulkhead, with no retry or fallback: an *unavailable when the circuit
// or the bulkhead refused it, else call's error as a *provider.Error,
// counted toward the breaker, unless unjudged names the call's API (files,
// batches), whose outcomes the breaker only gates. On success the caller
// holds the bulkhead slot until it calls release: a Realtime session
// holds it for as long as it lasts.
func (g *Gateway) through(ctx context.Context, d *Deployment, op provider.Operation, unjudged provider.API, call func(context.Context) error) (release func(), err error) {
	return g.throughAs(ctx, d, op, unjudged, string(op), call)
}

// throughAs is through, with what names the call in the log of its
// failure (a health check's, its op's by default).
func (g *Gateway) throughAs(ctx context.Context, d *Deployment, op provider.Operation, unjudged provider.API, what string, call func(context.Context) error) (release func(), err error) {
	br := d.Breakers[op]
	done, err := br.Allow()
	if err != nil {
		u := &unavailable{why: "circuit open"}
		var oe *breaker.OpenError
		if errors.As(err, &oe) {
			u.why, u.retryAt = "circuit "+oe.State.String(), oe.RetryAt
		}
		if op != provider.Chat && unjudged == "" {
			// A Realtime session's call avoided. A call on a stored object
			// (chat's breaker, or an embedding model's, unjudged) would
			// have cost nothing: counted as a call avoided, it would add a
			// call's price to the spend avoided.
			g.obs.Skipped(d, op, "open")
		}
		return nil, u
	}
	release, err = d.Bulkhead.Acquire(ctx)
	if err != nil {
		done(breaker.Ignored, 0)
		if op != provider.Chat {
			g.obs.Skipped(d, op, "bulkhead_full")
		}
		return nil, &unavailable{why: fmt.Sprintf("busy (%v)", err)}
	}
	start := time.Now()
	if err := call(ctx); err != nil {
		release()
		perr := asProviderError(err)
		o := g.classify(d, perr)
		if t := (uncountedError{}); errors.As(err, &t) {
			o = breaker.Ignored
		}
		if o == breaker.Failure {
			cause := failureCause(perr, errType(perr))
			if unjudged == "" {
				br.NoteFailure(cmp.Or(deploymentFault(d, perr), errType(perr)), cause)
			} else {
				if what == string(op) {
					what = string(unjudged) // files, batches
				}
				what += " (not counted toward " + string(op) + "'s breaker)"
			}
			g.logFailure(d, what, 1, perr.Status, cause)
		}
		if unjudged != "" {
			o = breaker.Ignored
		}
		done(o, time.Since(start))
		if kind := deploymentFault(d, perr); o == breaker.Failure && kind != "" {
			tripOnFault(br, kind, perr)
		}
		return nil, perr
	}
	if unjudged != "" {
		done(breaker.Ignored, 0)
		return release, nil
	}
	done(breaker.Success, time.Since(start))
	return release, nil
}

// writeStoredError answers a call on what (a stored object, named as the
// client knows it) that d could not serve, in api's error shape, and
// returns the status (499 when the client left); an upstream's message
// names the object by the client's id, not by the upstream's own.
func (g *Gateway) writeStoredError(w http.ResponseWriter, api provider.API, err error, d *Deployment, what, upstreamID, id string) int {
	var u *unavailable
	if errors.As(err, &u) {
		if !u.retryAt.IsZero() {
			w.Header().Set("Retry-After", strconv.Itoa(max(int(u.retryAt.Sub(g.clock.Now()).Seconds()+0.999), 1)))
		}
		writeAPIError(w, api, http.StatusServiceUnavailable, "service_unavailable", "deployment_unavailable",
			fmt.Sprintf("The %s is stored by deployment %s, which is unavailable (%s); no other deployment has it", what, d.Config.Name, u.why))
		return http.StatusServiceUnavailable
	}
	perr := asProviderError(err)
	status := perr.Status
	switch {
	case perr.Canceled:
		return 499 // the client left
	case perr.Timeout && status == 0:
		status = http.StatusGatewayTimeout
	case status == 0:
		status = http.StatusBadGateway
	}
	msg := perr.Message
	if upstreamID != "" {
		msg = strings.ReplaceAll(msg, upstreamID, id)
	}
	writeAPIError(w, api, status, cmp.Or(perr.Type, errorTypeOf(status)), perr.Code, msg)
	return status
}

// writeStored writes d's answer: JSON, a response's events again, or a
// file's content as the upstream sends it.
func writeStored(w http.ResponseWriter, d *Deployment, resp *provider.Response) {
	h := w.Header()
	h["X-Breakerd-Provider"], h["X-Breakerd-Deployment"] = []string{d.Config.Provider}, []string{d.Config.Name}
	if resp.Raw != nil {
		defer resp.Raw.Close()
		h.Set("Content-Type", cmp.Or(resp.ContentType, "application/octet-stream"))
		w.WriteHeader(http.StatusOK)
		_, _ = io.Copy(w, resp.Raw) // a break shows as a short body
		return
	}
	if resp.Frames == nil {
		writeJSONBytes(w, http.StatusOK, resp.Body)
		return
	}
	defer resp.Frames.Close()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	for {
		frame, err := resp.Frames.Next()
		if err != nil {
			return // the upstream's end, or its break: the client sees the stream stop
		}
		if _, err := w.Write(frame); err != nil || rc.Flush() != nil {
			return
		}
	}
}

// streamInBody reports whether a GET's body, if any, is a JSON object
// with "stream": true.
func streamInBody(body []byte) bool {
	var v struct {
		Stream bool `json:"stream"`
	}
	return len(body) > 0 && json.Unmarshal(body, &v) == nil && v.Stream
}

// errorTypeOf is OpenAI's error type for an HTTP status breakerd answers
// without an upstream's own.
func errorTypeOf(status int) string {
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

// stores reports whether d's upstream stores responses, conversations,
// files and batches (OpenAI's and Azure OpenAI's do), and d serves chat.
func stores(d *Deployment) bool {
	return storesFiles(d) && d.Breakers[provider.Chat] != nil
}

// storesFiles reports whether d's upstream stores files and what is made
// of them (batches, uploads, fine-tuning jobs): an OpenAI or Azure
// deployment of a chat or an embedding model (an embedding batch's
// input is a file too). Their calls go through its main breaker.
func storesFiles(d *Deployment) bool {
	_, ok := d.prov.(provider.StoredResponses)
	return ok && d.prov.Native(provider.APIResponses) && (d.Breakers[provider.Chat] != nil || d.Breakers[provider.Embeddings] != nil)
}

// storedForModel finds where a file or batch that a LiteLLM proxy gave
// (id; own is the upstream's id) is: at the one deployment of model that
// stores them, when there is one; msg says why not.
func (g *Gateway) storedForModel(obj storedObject, holding []*Deployment, id, own, model string) (d *Deployment, upstreamID, msg string) {
	group := model
	if a, ok := g.cfg.Router.Aliases[group]; ok {
		group = a.Group
	}
	var of []*Deployment
	for _, h := range holding {
		if h.Config.Group == group {
			of = append(of, h)
		}
	}
	switch len(of) {
	case 1:
		return of[0], own, ""
	case 0:
		return nil, "", fmt.Sprintf("No %s found with id '%s': a LiteLLM proxy gave it for model %s, of which breakerd's config has no deployment that stores them",
			obj.noun, id, model)
	}
	return nil, "", fmt.Sprintf("No %s found with id '%s': a LiteLLM proxy gave it for model %s, which has %d deployments that store them here, so breakerd cannot tell which has it",
		obj.noun, id, model, len(of))
}

// holding returns the deployments whose upstreams store obj's kind of
// object, in config order, files_settings' accounts last.
func (g *Gateway) holding(obj storedObject) []*Deployment {
	var out []*Deployment
	for _, grp := range g.Groups() {
		for _, d := range grp.Deployments {
			if obj.holds(d) {
				out = append(out, d)
			}
		}
	}
	if obj.settings {
		out = append(out, g.fileStores...)
	}
	return out
}

// storedAt finds the deployment that stores object id, and the id its
// upstream knows it by; msg says why there is none. An id breakerd did not
// issue (an upstream's own, from before breakerd) can only be at the one
// deployment that stores such objects, if there is just one.
func (g *Gateway) storedAt(obj storedObject, id string) (d *Deployment, upstreamID, msg string) {
	holding := g.holding(obj)
	_, name, upstreamID, ok := obj.decode(id)
	if own, model, fromLiteLLM := provider.DecodeLiteLLMModelID(id); !ok && obj.settings && fromLiteLLM {
		return g.storedForModel(obj, holding, id, own, model)
	}
	if !ok {
		switch len(holding) {
		case 1:
			return holding[0], id, ""
		case 0:
			return nil, "", fmt.Sprintf("No %s found with id '%s': no deployment in breakerd's config stores them (only %s ones do)", obj.noun, id, obj.who)
		}
		return nil, "", fmt.Sprintf("No %s found with id '%s': breakerd did not issue it, so it cannot tell which of its %d deployments that store them has it", obj.noun, id, len(holding))
	}
	for _, d := range holding {
		if d.Config.Name == name {
			return d, upstreamID, ""
		}
	}
	return nil, "", fmt.Sprintf("No %s found with id '%s': it is stored by deployment %s, which breakerd's config no longer has", obj.noun, id, name)
}
