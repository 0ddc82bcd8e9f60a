package gateway

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
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/breakerd/breakerd/provider"
)

// OpenAI's Files and Batch APIs, as LiteLLM's proxy serves them: a file
// is uploaded to one deployment (of the model the upload names, else a
// files_settings account, else any that stores files), and its id, like
// a stored response's, names that deployment, so that a batch made from
// it, the batch's own calls, its output files and the requests that use
// it go there too. Anthropic's Message Batches stay with their deployment
// the same way.

var (
	storedFiles = storedObject{noun: "file", collection: "files", decode: provider.DecodeFileID, api: provider.APIFiles,
		holds: storesFiles, who: "openai and azure", errAPI: provider.APIResponses, settings: true, pageSize: 10000}
	storedBatches = storedObject{noun: "batch", collection: "batches", decode: provider.DecodeBatchID, api: provider.APIBatches,
		holds: storesFiles, who: "openai and azure", errAPI: provider.APIResponses, settings: true}
	storedMessageBatches = storedObject{noun: "message batch", collection: "messages/batches", decode: provider.DecodeMessageBatchID,
		api: provider.APIMessageBatches, holds: anthropicStores, who: "anthropic", errAPI: provider.APIMessages}
	// storedAnthropicFiles are the files of Anthropic's Files API (a
	// beta, at OpenAI's paths, for clients that send anthropic-version).
	storedAnthropicFiles = storedObject{noun: "file", collection: "files", decode: provider.DecodeAnthropicFileID,
		api: provider.APIFiles, holds: anthropicStores, who: "anthropic", errAPI: provider.APIMessages}
)

// anthropicStores reports whether d's upstream is Anthropic's own API,
// which stores Message Batches and files (Bedrock, Vertex AI and Azure
// do not).
func anthropicStores(d *Deployment) bool {
	_, ok := d.prov.(provider.StoredResponses)
	return ok && d.prov.Native(provider.APIMessageBatches) && d.Breakers[provider.Chat] != nil
}

// maxUploadBytes is OpenAI's limit on one file, the least limit on an
// upload's body whatever server.max_body_bytes: an upload is relayed as
// it arrives, never held whole.
const maxUploadBytes = 512 << 20

// modelHeader names the model whose deployments a file goes to, or are
// listed (LiteLLM's).
const modelHeader = "X-Litellm-Model"

// scope returns the deployments a call on obj without an id goes to:
// those of model (its route, fallbacks included, in routing order) that
// store obj; with no model, files_settings' accounts of the provider the
// request names (LiteLLM's custom_llm_provider, as a query parameter or a
// header; openai when it names none), or with no files_settings every
// deployment that stores obj, in config order. With none, it answers why
// and returns the status.
func (g *Gateway) scope(w http.ResponseWriter, r *http.Request, obj storedObject, model string) ([]*Deployment, int) {
	if q := r.URL.Query(); q.Has("custom_llm_provider") {
		// LiteLLM's choice of files_settings' account: breakerd's to read,
		// not the upstream's.
		r.Header.Set("Custom-Llm-Provider", q.Get("custom_llm_provider"))
		q.Del("custom_llm_provider")
		r.URL.RawQuery = q.Encode()
	}
	if model == "" && obj.settings && len(g.fileStores) > 0 {
		prov := cmp.Or(r.Header.Get("Custom-Llm-Provider"), "openai") // LiteLLM's default
		var out, others []*Deployment
		for _, d := range g.fileStores {
			if d.Config.Provider == prov {
				out = append(out, d)
			} else {
				others = append(others, d)
			}
		}
		if len(out) == 0 {
			var names []string
			for _, d := range others {
				names = append(names, d.Config.Provider)
			}
			writeAPIError(w, obj.errAPI, http.StatusBadRequest, "invalid_request_error", "", fmt.Sprintf(
				"files_settings has no %s account (it has %s): name one with custom_llm_provider, or a model with the x-litellm-model header",
				prov, strings.Join(names, ", ")))
			return nil, http.StatusBadRequest
		}
		return out, 0
	}
	if model == "" {
		if all := g.holding(obj); len(all) > 0 {
			return all, 0
		}
		writeAPIError(w, obj.errAPI, http.StatusNotFound, "invalid_request_error", "",
			fmt.Sprintf("no deployment in breakerd's config stores %s (only %s ones do)", obj.collection, obj.who))
		return nil, http.StatusNotFound
	}
	group := model
	if a, ok := g.cfg.Router.Aliases[group]; ok {
		group = a.Group
	}
	if _, ok := g.groups[group]; !ok {
		if _, err := g.resolve(group); err != nil {
			g.modelNotFound(w, obj.errAPI, group)
			return nil, http.StatusNotFound
		}
	}
	var out []*Deployment
	for _, d := range g.Route(group) {
		if obj.holds(d) {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		writeAPIError(w, obj.errAPI, http.StatusBadRequest, "invalid_request_error", "model_not_supported", fmt.Sprintf(
			"The model `%s` has no deployment that stores %s (only %s ones do)", group, obj.collection, obj.who))
		return nil, http.StatusBadRequest
	}
	return out, 0
}

// upload serves POST /v1/files: the client's multipart form, relayed as
// it arrives to the first deployment in scope whose circuit and bulkhead
// let the call through. Once the body has gone to one, no other can be
// tried: the client's retry of a failure (the SDKs retry a 5xx) finds the
// next one when that one's circuit has opened.
func (g *Gateway) upload(ctx context.Context, w http.ResponseWriter, r *http.Request) (*Deployment, int) {
	return g.uploadTo(ctx, w, r, storedFiles)
}

// maxFormScan is the largest upload whose form is read whole, for the
// fields after its file, before it is relayed.
const maxFormScan = 16 << 20

// uploadAnthropic serves an Anthropic client's POST /v1/files (Anthropic's
// Files API) as upload serves OpenAI's, at Anthropic's own deployments.
func (g *Gateway) uploadAnthropic(ctx context.Context, w http.ResponseWriter, r *http.Request) (*Deployment, int) {
	return g.uploadTo(ctx, w, r, storedAnthropicFiles)
}

func (g *Gateway) uploadTo(ctx context.Context, w http.ResponseWriter, r *http.Request, obj storedObject) (*Deployment, int) {
	raw := &pacedBody{r: http.MaxBytesReader(w, r.Body, max(g.cfg.Server.MaxBodyBytes, maxUploadBytes)),
		rc: http.NewResponseController(w), timeout: g.cfg.Server.BodyReadTimeout}
	ct := r.Header.Get("Content-Type")
	if obj.errAPI == provider.APIMessages { // Anthropic's: no batch file, no LiteLLM fields
		scope, status := g.scope(w, r, obj, r.Header.Get(modelHeader))
		if scope == nil {
			return nil, status
		}
		return g.makeAt(w, obj, "the file", scope, false, func(d *Deployment) (*provider.Response, error) {
			body := &uploadBody{r: raw}
			return g.storedCallAt(ctx, obj, d, provider.StoredCall{Method: http.MethodPost, Path: obj.collection, Query: r.URL.Query(),
				ContentType: ct, Length: r.ContentLength, Body: body, Header: anthropicHeaders(r)}, body)
		})
	}
	// LiteLLM's own form fields (an SDK's extra_body): where the file
	// goes. The upstream does not see them. Python's SDK writes them
	// before the file; the Go and Node SDKs after it, where they are read
	// in a form of up to maxFormScan (a larger one is relayed as it comes).
	names := []string{"custom_llm_provider", "target_model_names"}
	var fields map[string]string
	var form io.Reader
	if n := r.ContentLength; n > 0 && n <= maxFormScan {
		fields, form = provider.FieldsPastFiles(raw, ct, n, names...)
	} else {
		fields, form = provider.LeadingFields(raw, ct, 64<<10, names...)
	}
	asked := r.Header.Get(modelHeader)
	if names := fields["target_model_names"]; asked == "" && names != "" {
		first, _, _ := strings.Cut(names, ",")
		asked = strings.TrimSpace(first)
	}
	if p := fields["custom_llm_provider"]; p != "" && r.Header.Get("Custom-Llm-Provider") == "" {
		r.Header.Set("Custom-Llm-Provider", p)
	}
	scope, status := g.scope(w, r, storedFiles, asked)
	if scope == nil {
		return nil, status
	}
	drop := slices.Sorted(maps.Keys(fields))
	return g.makeAt(w, storedFiles, "the file", scope, false, func(d *Deployment) (*provider.Response, error) {
		call := provider.StoredCall{Method: http.MethodPost, Path: storedFiles.collection, Query: r.URL.Query(),
			ContentType: ct, Length: r.ContentLength}
		src := form
		if models := g.batchModels(d, asked); models != nil || len(drop) > 0 {
			rewritten, err := provider.BatchModels(form, ct, models, drop...)
			if err != nil {
				return nil, &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: "an upload is a multipart form: " + err.Error()}
			}
			defer rewritten.Close() // ends its goroutine, if the upstream stopped reading
			src, call.Length = rewritten, -1
		}
		body := &uploadBody{r: src}
		call.Body = body
		return g.storedCallAt(ctx, storedFiles, d, call, body)
	})
}

// uploadBody is a client's upload on its way upstream. It keeps the
// first error reading it: a body too large, one that stopped arriving,
// or a client gone are the client's doing, not the upstream's, and do
// not count against its breaker. The transport reads it on its own
// goroutine.
type uploadBody struct {
	r   io.Reader
	mu  sync.Mutex
	err error
}

func (b *uploadBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		b.mu.Lock()
		if b.err == nil {
			b.err = err
		}
		b.mu.Unlock()
	}
	return n, err
}

// failed returns why reading the client's body failed, as the error to
// answer the client with; nil when it did not. ctx is the client's
// request's.
func (b *uploadBody) failed(ctx context.Context) *provider.Error {
	b.mu.Lock()
	err := b.err
	b.mu.Unlock()
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooBig):
		return &provider.Error{Status: http.StatusRequestEntityTooLarge, Type: "invalid_request_error", Code: "request_too_large",
			Message: fmt.Sprintf("request body is larger than the limit of %d bytes", tooBig.Limit)}
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &provider.Error{Status: http.StatusRequestTimeout, Type: "invalid_request_error", Code: "request_timeout",
			Message: "the request body stopped arriving (server.body_read_timeout)"}
	case ctx.Err() != nil:
		return &provider.Error{Canceled: true, Message: "the client left"}
	}
	return &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: "could not read the upload: " + err.Error()}
}

// batchModels maps the names a batch file's requests may give d's model
// by (its model group, the group's aliases, and the model the upload
// asked for) to the name d's upstream knows it by, for
// provider.BatchModels; nil when they are all that name.
func (g *Gateway) batchModels(d *Deployment, asked string) map[string]string {
	if d.Config.Model == "" { // files_settings' account: no model of its own
		return nil
	}
	m := map[string]string{}
	add := func(name string) {
		if name != "" && name != d.Config.Model {
			m[name] = d.Config.Model
		}
	}
	add(d.Config.Group)
	add(asked)
	for name, a := range g.cfg.Router.Aliases {
		if a.Group == d.Config.Group {
			add(name)
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// makeBatch serves POST /v1/batches: the batch is made where its input
// file is (the file's id names the deployment), with the upstream's own
// id for the file.
func (g *Gateway) makeBatch(ctx context.Context, w http.ResponseWriter, r *http.Request) (*Deployment, int) {
	body, ok := g.storedBody(w, r, provider.APIResponses)
	if !ok {
		return nil, http.StatusRequestEntityTooLarge
	}
	var req struct {
		InputFileID string `json:"input_file_id"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.InputFileID == "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "a batch needs a JSON body with input_file_id, endpoint and completion_window")
		return nil, http.StatusBadRequest
	}
	d, upstreamID, msg := g.storedAt(storedFiles, req.InputFileID)
	if d == nil {
		writeError(w, http.StatusNotFound, "invalid_request_error", "", msg)
		return nil, http.StatusNotFound
	}
	v, _ := json.Marshal(upstreamID)
	if out, ok := provider.SetField(body, "input_file_id", v); ok {
		body = out
	}
	resp, err := g.callStored(ctx, storedBatches, http.MethodPost, d, storedBatches.collection, r.URL.Query(), body)
	if err != nil {
		return d, g.writeStoredError(w, provider.APIResponses, err, d, fmt.Sprintf("the batch's input file '%s'", req.InputFileID), upstreamID, req.InputFileID)
	}
	writeStored(w, d, resp)
	return d, http.StatusOK
}

// list serves GET /v1/files, GET /v1/batches, GET /v1/messages/batches,
// GET /v1/chat/completions and the other stored objects' lists (obj's):
// one page of the lists of the deployments in scope, merged in time order
// (newest first, or oldest first: oldestFirst), at most limit items (the
// query's, else the API's default). The next page goes on
// after its last item (the SDKs' after or after_id cursor, an id breakerd
// gave): its deployment lists on after it, and each other one from the
// first of its items that comes after it in the merged order, so a client
// paging through gets every item once. Anthropic's before_id lists its
// deployment alone. A deployment that cannot answer is left out of the
// page, and named in X-Breakerd-Unlisted; when none can, the answer is
// the failure.
func (g *Gateway) list(ctx context.Context, w http.ResponseWriter, r *http.Request, obj storedObject) (*Deployment, int) {
	query := r.URL.Query()
	var scope []*Deployment
	var cur *listCursor
	for _, key := range []string{"after", "after_id", "before_id"} { // OpenAI's, Anthropic's
		id := query.Get(key)
		if id == "" {
			continue
		}
		d, upstreamID, msg := g.storedAt(obj, id)
		if d == nil {
			writeAPIError(w, obj.errAPI, http.StatusNotFound, "invalid_request_error", "", msg)
			return nil, http.StatusNotFound
		}
		if key == "before_id" {
			scope = []*Deployment{d}
			query.Set(key, upstreamID)
			continue
		}
		cur = &listCursor{key: key, at: d, upstreamID: upstreamID}
		query.Del(key) // each deployment's is its own
	}
	// The stored chat completions' list takes a model (a model group,
	// here), each deployment's upstream the model it knows.
	model := r.Header.Get(modelHeader)
	if obj.api == provider.APIStoredChat && query.Has("model") {
		model = query.Get("model")
	}
	if scope == nil {
		var status int
		if scope, status = g.scope(w, r, obj, model); scope == nil {
			return nil, status
		}
	}
	asc := oldestFirst(obj, query)
	if cur != nil {
		cur.idx = slices.Index(scope, cur.at)
		if cur.idx < 0 || len(scope) > 1 && !g.cursorTime(ctx, r, obj, cur) {
			scope, cur.idx = []*Deployment{cur.at}, 0 // where only its own deployment can list on
		}
	}
	// call lists d's items (after an upstream id, when set); scan asks for
	// pages of at least scanPage items, to find a page's place in fewer
	// calls.
	call := func(d *Deployment, after string, scan bool) (*provider.Response, error) {
		q := query
		if obj.api == provider.APIStoredChat && query.Has("model") || after != "" || scan {
			q = maps.Clone(query)
			if q.Has("model") && obj.api == provider.APIStoredChat {
				q.Set("model", d.Config.Model)
			}
			if after != "" {
				q.Set(cur.key, after)
			}
			if n, _ := strconv.Atoi(q.Get("limit")); scan && n < scanPage {
				q.Set("limit", strconv.Itoa(scanPage))
			}
		}
		resp, err := g.storedCallAt(ctx, obj, d, provider.StoredCall{Method: http.MethodGet, Path: obj.collection, Query: q, Header: anthropicHeaders(r)}, nil)
		if err == nil {
			switch obj.api {
			case provider.APIMessageBatches:
				resp.Body = resultsHere(resp.Body, r)
			case provider.APIBatches:
				g.chargeBatches(d, resp.Body)
			}
		}
		return resp, err
	}
	var merged listPage
	var unlisted []string
	var lastErr error
	var last *Deployment
	for i, d := range scope {
		var p listPage
		var err error
		switch {
		case cur == nil || d == cur.at:
			after := ""
			if cur != nil {
				after = cur.upstreamID
			}
			var resp *provider.Response
			if resp, err = call(d, after, false); err == nil && len(scope) == 1 {
				writeStored(w, d, resp)
				return d, http.StatusOK
			}
			if err == nil && json.Unmarshal(resp.Body, &p) != nil {
				err = &provider.Error{Status: http.StatusBadGateway, Message: "upstream sent no list"}
			}
		default:
			p, err = g.listAfter(obj, cur, i > cur.idx, asc, call, d)
		}
		if err != nil {
			var perr *provider.Error
			if errors.As(err, &perr) && (perr.Canceled || len(scope) == 1) {
				return d, g.writeStoredError(w, obj.errAPI, err, d, "the "+obj.collection, "", "")
			}
			unlisted = append(unlisted, d.Config.Name+" ("+err.Error()+")")
			lastErr, last = err, d
			continue
		}
		merged.Data = append(merged.Data, p.Data...)
		merged.HasMore = merged.HasMore || p.HasMore
		last = d
	}
	if len(unlisted) == len(scope) {
		return last, g.writeStoredError(w, obj.errAPI, lastErr, last, "the "+obj.collection, "", "")
	}
	if len(unlisted) > 0 {
		w.Header().Set("X-Breakerd-Unlisted", strings.Join(unlisted, "; "))
	}
	byTime(merged.Data, asc)
	limit, _ := strconv.Atoi(query.Get("limit"))
	if limit <= 0 {
		limit = cmp.Or(obj.pageSize, 20) // the API's default
	}
	if len(merged.Data) > limit {
		merged.Data, merged.HasMore = merged.Data[:limit], true
	}
	out := map[string]any{"data": merged.Data, "has_more": merged.HasMore, "first_id": nil, "last_id": nil}
	if obj.errAPI != provider.APIMessages {
		out["object"] = "list" // OpenAI's lists say so; Anthropic's pages do not
	}
	if n := len(merged.Data); n > 0 {
		out["first_id"], out["last_id"] = itemID(merged.Data[0]), itemID(merged.Data[n-1])
	} else {
		out["data"] = []any{}
	}
	writeJSONResponse(w, http.StatusOK, out)
	return last, http.StatusOK
}

// listPage is one page of a list, as OpenAI's and Anthropic's APIs give
// it.
type listPage struct {
	Data    []json.RawMessage `json:"data"`
	HasMore bool              `json:"has_more"`
}

// listCursor is where a merged list's page goes on: after the item
// (upstreamID) at deployment at, the idx-th in scope, made at time t; key
// is the query's name for the cursor.
type listCursor struct {
	key        string
	at         *Deployment
	idx        int
	upstreamID string
	t          int64
}

// maxListScan is the most pages of one deployment's list read to find
// where a merged list's page goes on in it, each of at least scanPage
// items (every list OpenAI and Anthropic serve takes 100 a page).
const (
	maxListScan = 20
	scanPage    = 100
)

// cursorTime reads the time of the cursor's item from its deployment;
// false when it cannot (the item is gone, the deployment does not
// answer).
func (g *Gateway) cursorTime(ctx context.Context, r *http.Request, obj storedObject, cur *listCursor) bool {
	resp, err := g.storedCallAt(ctx, obj, cur.at, provider.StoredCall{Method: http.MethodGet,
		Path: obj.collection + "/" + url.PathEscape(cur.upstreamID), Header: anthropicHeaders(r)}, nil)
	if err != nil || resp.Body == nil {
		return false
	}
	t, ok := timeOf(resp.Body)
	cur.t = t
	return ok
}

// listAfter is the page of deployment d's list (call lists it, after an
// upstream id) that comes after the cursor's item in the merged order:
// its items made after it (before it, newest first), or at the same
// second when d comes after the cursor's deployment in scope (later).
// It reads d's list from its start, at most maxListScan pages of
// scanPage, until it has a page's worth.
func (g *Gateway) listAfter(obj storedObject, cur *listCursor, later, asc bool, call func(*Deployment, string, bool) (*provider.Response, error), d *Deployment) (listPage, error) {
	var out listPage
	after := ""
	for range maxListScan {
		resp, err := call(d, after, true)
		if err != nil {
			return out, err
		}
		var p listPage
		if json.Unmarshal(resp.Body, &p) != nil {
			return out, &provider.Error{Status: http.StatusBadGateway, Message: "upstream sent no list"}
		}
		for _, raw := range p.Data {
			t, _ := timeOf(raw)
			if t == cur.t && later || asc && t > cur.t || !asc && t < cur.t {
				out.Data = append(out.Data, raw)
			}
		}
		out.HasMore = p.HasMore
		if !p.HasMore || len(p.Data) == 0 || len(out.Data) >= len(p.Data) {
			return out, nil
		}
		_, _, next, ok := obj.decode(itemID(p.Data[len(p.Data)-1]))
		if !ok {
			return out, nil
		}
		after = next
	}
	return out, nil
}

// itemID is a list item's id.
func itemID(raw json.RawMessage) string {
	var v struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &v)
	return v.ID
}

// oldestFirst reports whether a list of obj asked with query is oldest
// first: with order=asc, or by default for OpenAI's stored chat
// completions (its other lists, and Anthropic's, are newest first).
func oldestFirst(obj storedObject, query url.Values) bool {
	order := query.Get("order")
	return order == "asc" || order == "" && obj.api == provider.APIStoredChat
}

// byTime orders a merged list's items by their time (timeOf), newest
// first, or oldest first when asc; ties keep each deployment's order.
func byTime(data []json.RawMessage, asc bool) {
	type item struct {
		raw     json.RawMessage
		created int64
	}
	items := make([]item, len(data))
	for i, raw := range data {
		items[i].raw = raw
		items[i].created, _ = timeOf(raw)
	}
	slices.SortStableFunc(items, func(a, b item) int {
		if asc {
			return cmp.Compare(a.created, b.created)
		}
		return cmp.Compare(b.created, a.created)
	})
	for i := range items {
		data[i] = items[i].raw
	}
}

// timeOf reads a stored object's time, in Unix seconds: its created_at
// (OpenAI's Unix seconds, Anthropic's RFC 3339) or a chat completion's
// created; false when it has none.
func timeOf(obj []byte) (int64, bool) {
	var v struct {
		CreatedAt json.RawMessage `json:"created_at"`
		Created   json.RawMessage `json:"created"`
	}
	_ = json.Unmarshal(obj, &v)
	if v.CreatedAt == nil {
		v.CreatedAt = v.Created
	}
	var n int64
	if json.Unmarshal(v.CreatedAt, &n) == nil {
		return n, true
	}
	var t time.Time
	if json.Unmarshal(v.CreatedAt, &t) == nil {
		return t.Unix(), true
	}
	return 0, false
}

// makeMessageBatch serves POST /v1/messages/batches, Anthropic's
// Message Batches: the batch goes to the deployments of its first
// request's model that run them (Anthropic's own API), the first that
// takes it, with each request naming the model as that deployment knows
// it (batchModels). The batch's id names the deployment, so its polling,
// results, cancel and delete go there.
func (g *Gateway) makeMessageBatch(ctx context.Context, w http.ResponseWriter, r *http.Request) (*Deployment, int) {
	obj := storedMessageBatches
	body, ok := g.storedBody(w, r, obj.errAPI)
	if !ok {
		return nil, http.StatusRequestEntityTooLarge
	}
	var req struct {
		Requests []struct {
			Params struct {
				Model string `json:"model"`
			} `json:"params"`
		} `json:"requests"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Requests) == 0 || req.Requests[0].Params.Model == "" {
		writeAPIError(w, obj.errAPI, http.StatusBadRequest, "invalid_request_error", "",
			"a message batch is a JSON object with requests, each with a custom_id and params that name a model")
		return nil, http.StatusBadRequest
	}
	model := req.Requests[0].Params.Model
	scope, status := g.scope(w, r, obj, model)
	if scope == nil {
		return nil, status
	}
	return g.makeAt(w, obj, "the message batch", scope, true, func(d *Deployment) (*provider.Response, error) {
		resp, err := g.callStored(ctx, obj, http.MethodPost, d, obj.collection, r.URL.Query(), messageBatchModels(body, g.batchModels(d, model)))
		if err == nil {
			resp.Body = resultsHere(resp.Body, r)
		}
		return resp, err
	})
}

// messageBatchModels returns a Message Batches request (body) with each
// request's params.model renamed by models, as provider.BatchModels
// renames a batch file's.
func messageBatchModels(body []byte, models map[string]string) []byte {
	if models == nil {
		return body
	}
	var req map[string]json.RawMessage
	var requests []json.RawMessage
	if json.Unmarshal(body, &req) != nil || json.Unmarshal(req["requests"], &requests) != nil {
		return body
	}
	for i, q := range requests {
		var params json.RawMessage
		provider.EachField(q, func(k, v []byte) {
			if string(k) == "params" {
				params = v
			}
		})
		var p struct {
			Model string `json:"model"`
		}
		if json.Unmarshal(params, &p) != nil || models[p.Model] == "" {
			continue
		}
		v, _ := json.Marshal(models[p.Model])
		if params, ok := provider.SetField(params, "model", v); ok {
			if q, ok := provider.SetField(q, "params", params); ok {
				requests[i] = q
			}
		}
	}
	list, err := json.Marshal(requests)
	if err != nil {
		return body
	}
	out, ok := provider.SetField(body, "requests", list)
	if !ok {
		return body
	}
	return out
}

// resultsHere returns a Message Batch (or a page of them) with its
// results_url at breakerd, where r came, instead of at the upstream: a
// client that follows it (Anthropic's Python SDK does) must not carry its
// key for breakerd to Anthropic, and breakerd routes it by the id.
func resultsHere(body []byte, r *http.Request) []byte {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	var local func([]byte) []byte
	local = func(obj []byte) []byte {
		var id, url, data []byte
		provider.EachField(obj, func(k, v []byte) {
			switch string(k) {
			case "id":
				id = v
			case "results_url":
				url = v
			case "data":
				data = v
			}
		})
		if len(url) > 0 && url[0] == '"' {
			if s, ok := provider.JSONString(id); ok && s != "" {
				v, _ := json.Marshal(scheme + "://" + r.Host + "/v1/messages/batches/" + s + "/results")
				if out, ok := provider.SetField(obj, "results_url", v); ok {
					obj = out
				}
			}
		}
		var items []json.RawMessage
		if len(data) > 0 && json.Unmarshal(data, &items) == nil {
			for i := range items {
				items[i] = local(items[i])
			}
			if list, err := json.Marshal(items); err == nil {
				if out, ok := provider.SetField(obj, "data", list); ok {
					obj = out
				}
			}
		}
		return obj
	}
	return local(body)
}

// anthropicHeaders are the client's headers an Anthropic upstream's call
// carries on (provider.StoredCall.Header); nil when it sends none.
func anthropicHeaders(r *http.Request) http.Header {
	var h http.Header
	for _, k := range []string{"Anthropic-Version", "Anthropic-Beta"} {
		if v := r.Header.Values(k); len(v) > 0 {
			if h == nil {
				h = http.Header{}
			}
			h[k] = v
		}
	}
	return h
}

// batchEnded are the Batch API's statuses of a batch that runs no more:
// its usage is its whole.
var batchEnded = map[string]bool{"completed": true, "failed": true, "expired": true, "cancelled": true}

// chargeBatches charges each batch in body (a batch, or a page of them)
// that d ran and that has ended, once however often clients poll it: its
// tokens at d's batch prices, to d's budgets and the spend metrics
// (Observer.BatchCharged). A batch's cost is known only once it has
// ended, and only from its usage.
func (g *Gateway) chargeBatches(d *Deployment, body []byte) {
	items := []json.RawMessage{body}
	var page struct {
		Data []json.RawMessage `json:"data"`
	}
	if json.Unmarshal(body, &page) == nil && page.Data != nil {
		items = page.Data
	}
	for _, raw := range items {
		var b struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Usage  struct {
				In      int `json:"input_tokens"`
				Out     int `json:"output_tokens"`
				Details struct {
					Cached int `json:"cached_tokens"`
				} `json:"input_tokens_details"`
			} `json:"usage"`
		}
		if json.Unmarshal(raw, &b) != nil || !batchEnded[b.Status] {
			continue
		}
		g.chargeBatch(d, b.ID, provider.Usage{InputTokens: b.Usage.In, OutputTokens: b.Usage.Out, CacheReadTokens: b.Usage.Details.Cached})
	}
}

// chargeBatch charges batch id's tokens (u), which d ran, the first time
// it is asked to: at d's batch prices, to its budgets and the spend
// metrics.
func (g *Gateway) chargeBatch(d *Deployment, id string, u provider.Usage) {
	if u.InputTokens+u.OutputTokens == 0 || !g.firstCharge(id) {
		return
	}
	var usd float64
	if d.Config.Priced {
		usd = d.Config.BatchCost(float64(u.InputTokens), float64(u.OutputTokens))
		g.spend(d, g.clock.Now(), usd)
	}
	g.obs.BatchCharged(d, u, usd)
}

// resultsMeter relays a Message Batch's results (JSONL, one request's
// result a line) and adds up the tokens of the messages in them; once
// the whole has been read, it charges the batch (chargeBatch): Anthropic's
// batch object has no usage, its results have.
type resultsMeter struct {
	io.ReadCloser
	line  []byte
	usage provider.Usage
	ended func(provider.Usage)
}

// maxResultLine is the longest result line the meter reads; a longer one
// is relayed, not counted.
const maxResultLine = 4 << 20

func (m *resultsMeter) Read(p []byte) (int, error) {
	n, err := m.ReadCloser.Read(p)
	for rest := p[:n]; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			if len(m.line)+len(rest) <= maxResultLine {
				m.line = append(m.line, rest...)
			} else {
				m.line = m.line[:0]
			}
			break
		}
		if len(m.line)+i <= maxResultLine {
			m.count(append(m.line, rest[:i]...))
		}
		m.line, rest = m.line[:0], rest[i+1:]
	}
	if errors.Is(err, io.EOF) && m.ended != nil {
		m.count(m.line)
		m.ended(m.usage)
		m.ended = nil
	}
	return n, err
}

// count adds one result line's message's tokens.
func (m *resultsMeter) count(line []byte) {
	var r struct {
		Result struct {
			Message struct {
				Usage struct {
					In     int `json:"input_tokens"`
					Out    int `json:"output_tokens"`
					Read   int `json:"cache_read_input_tokens"`
					Create int `json:"cache_creation_input_tokens"`
				} `json:"usage"`
			} `json:"message"`
		} `json:"result"`
	}
	if len(bytes.TrimSpace(line)) == 0 || json.Unmarshal(line, &r) != nil {
		return
	}
	u := r.Result.Message.Usage
	m.usage.InputTokens += u.In + u.Read + u.Create // Anthropic's input_tokens leaves the cache's out
	m.usage.OutputTokens += u.Out
	m.usage.CacheReadTokens += u.Read
	m.usage.CacheWriteTokens += u.Create
}

// firstCharge reports whether batch id is charged now for the first time:
// here, and in the fleet when it shares charges (ShareBatchCharges).
func (g *Gateway) firstCharge(id string) bool {
	if !g.charged.first(id) {
		return false
	}
	if once := g.batchOnce.Load(); once != nil {
		return (*once)(id)
	}
	return true
}

// ShareBatchCharges has batches charged once in a fleet: once reports
// whether this replica is the first to charge batch id (a shared store's
// set-if-absent). Without it, each replica charges a batch it sees ended.
func (g *Gateway) ShareBatchCharges(once func(id string) bool) { g.batchOnce.Store(&once) }

// batchCharges remembers the latest maxBatchCharges batches charged. The
// zero value is empty and ready.
type batchCharges struct {
	mu    sync.Mutex
	seen  map[string]bool
	order []string
}

const maxBatchCharges = 100000

// first reports whether id is new, and remembers it.
func (b *batchCharges) first(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen[id] {
		return false
	}
	if b.seen == nil {
		b.seen = map[string]bool{}
	}
	b.seen[id] = true
	b.order = append(b.order, id)
	if len(b.order) > maxBatchCharges {
		delete(b.seen, b.order[0])
		b.order = b.order[1:]
	}
	return true
}
