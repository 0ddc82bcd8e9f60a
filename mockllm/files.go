package mockllm

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxFileBytes is OpenAI's limit on one uploaded file.
const maxFileBytes = 512 << 20

// fileStore holds the Files API's files, the Batch API's batches and
// Anthropic's Message Batches. The zero value is empty and ready.
type fileStore struct {
	mu      sync.Mutex
	files   map[string]*mockFile
	batches map[string]*mockBatch
	// messageBatches are Anthropic's Message Batches (msgbatches.go), and
	// anthropic the files of Anthropic's Files API (anthropicfiles.go).
	messageBatches map[string]*messageBatch
	anthropic      map[string]*anthropicFile
	// vectorStores are the Vector Stores API's stores (vectorstores.go).
	vectorStores map[string]*vectorStore
	// containers are the Containers API's (containers.go).
	containers map[string]*container
	// chats are the chat completions made with store: true
	// (storedchat.go).
	chats     map[string]*storedChat
	chatOrder []string // their ids, oldest first
	// uploads are the Uploads API's (uploads.go), jobs the fine-tuning
	// API's (finetuning.go).
	uploads map[string]*mockUpload
	jobs    map[string]*mockJob
	// videos are the Videos API's (videos.go).
	videos map[string]*mockVideo
}

type mockFile struct {
	id, filename, purpose string
	created, expires      int64
	content               []byte
}

func (f *mockFile) object() map[string]any {
	o := map[string]any{"id": f.id, "object": "file", "bytes": len(f.content), "created_at": f.created,
		"filename": f.filename, "purpose": f.purpose, "status": "processed", "status_details": nil, "expires_at": nil}
	if f.expires > 0 {
		o["expires_at"] = f.expires
	}
	return o
}

// mockBatch is a batch and the requests it runs. A batch runs when it is
// first looked at after its creation (a retrieve or a list), so a client
// sees it "validating" when it creates it and finished when it polls, and
// a cancel before that stops it: as a real batch does, in no time.
type mockBatch struct {
	obj   map[string]any
	input []byte // the input file's lines
	looks int    // since it was made (Faults.BatchPolls)
}

// filesBase is where an upstream serves the Files and Batch APIs:
// OpenAI's /v1, a server's root, Azure OpenAI's /openai (with an
// api-version) and its /openai/v1.
var filesBase = []string{"/v1", "", "/openai", "/openai/v1"}

// batchEndpoints are the APIs a batch's requests may call, by the
// endpoint's path without /v1 (Azure's batches name it without), and the
// handler that answers each line.
func (s *Server) batchEndpoints() map[string]func(http.ResponseWriter, *http.Request, Faults) {
	return map[string]func(http.ResponseWriter, *http.Request, Faults){
		"/chat/completions": s.chat, "/embeddings": s.embeddings, "/responses": s.responses,
		"/completions": s.completions, "/moderations": s.moderations,
	}
}

// createFile serves POST /v1/files: a multipart form with the file and
// its purpose (and, optionally, expires_after[anchor] and
// expires_after[seconds]).
func (s *Server) createFile(w http.ResponseWriter, r *http.Request, _ Faults) {
	if r.Header.Get("anthropic-version") != "" { // Anthropic's Files API, at the same path
		s.createAnthropicFile(w, r)
		return
	}
	if err := r.ParseMultipartForm(maxFileBytes); err != nil {
		s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "Could not parse multipart form: "+err.Error())
		return
	}
	defer r.MultipartForm.RemoveAll()
	purpose := r.FormValue("purpose")
	if !slices.Contains([]string{"assistants", "batch", "fine-tune", "vision", "user_data", "evals"}, purpose) {
		s.writeErrorCode(w, r, http.StatusBadRequest, "invalid_request_error", "invalid_value",
			fmt.Sprintf("'%s' is not one of ['fine-tune', 'assistants', 'batch', 'user_data', 'vision', 'evals'] - 'purpose'", purpose))
		return
	}
	file, head, err := r.FormFile("file")
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "'file' is a required property")
		return
	}
	defer file.Close()
	content, err := io.ReadAll(file)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "could not read the file: "+err.Error())
		return
	}
	now := s.now().Unix()
	f := &mockFile{id: fmt.Sprintf("file-mock%d", s.ids.Add(1)), filename: head.Filename, purpose: purpose, created: now, content: content}
	if secs, err := strconv.ParseInt(r.FormValue("expires_after[seconds]"), 10, 64); err == nil && secs > 0 {
		f.expires = now + secs
	} else if purpose == "batch" {
		f.expires = now + 30*24*3600 // OpenAI's default for batch files
	}
	if purpose == "batch" {
		if line, msg := badBatchLine(content); msg != "" {
			s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("Invalid file format for Batch API, line %d: %s", line, msg))
			return
		}
	}
	st := &s.files
	st.mu.Lock()
	if st.files == nil {
		st.files = map[string]*mockFile{}
	}
	st.files[f.id] = f
	st.mu.Unlock()
	writeJSON(w, http.StatusOK, f.object())
}

// badBatchLine checks a batch input file's lines (JSON objects with a
// custom_id, method and url, and a body): the first bad line and what is
// wrong with it, or "" when all are good.
func badBatchLine(content []byte) (int, string) {
	for i, line := range bytes.Split(bytes.TrimSpace(content), []byte("\n")) {
		var req batchLine
		if err := json.Unmarshal(line, &req); err != nil {
			return i + 1, "not a JSON object: " + err.Error()
		}
		if req.CustomID == "" || req.Method != http.MethodPost || req.URL == "" || len(req.Body) == 0 {
			return i + 1, "each line needs custom_id, method POST, url and body"
		}
	}
	return 0, ""
}

// batchLine is one request of a batch's input file.
type batchLine struct {
	CustomID string          `json:"custom_id"`
	Method   string          `json:"method"`
	URL      string          `json:"url"`
	Body     json.RawMessage `json:"body"`
}

// fileCalls serves GET /v1/files (the list), GET and DELETE /v1/files/{id},
// and GET /v1/files/{id}/content.
func (s *Server) fileCalls(w http.ResponseWriter, r *http.Request, _ Faults) {
	if r.Header.Get("anthropic-version") != "" {
		s.anthropicFileCalls(w, r)
		return
	}
	st := &s.files
	st.mu.Lock()
	defer st.mu.Unlock()
	id := r.PathValue("id")
	if id == "" {
		q := r.URL.Query()
		var objs []map[string]any
		for _, f := range st.files {
			if p := q.Get("purpose"); p == "" || p == f.purpose {
				objs = append(objs, f.object())
			}
		}
		writeJSON(w, http.StatusOK, page(objs, q, 10000))
		return
	}
	f, ok := st.files[id]
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("No such File object: %s", id))
		return
	}
	switch {
	case r.Method == http.MethodDelete:
		delete(st.files, id)
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "file", "deleted": true})
	case strings.HasSuffix(r.URL.Path, "/content"):
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(f.content)))
		_, _ = w.Write(f.content)
	default:
		writeJSON(w, http.StatusOK, f.object())
	}
}

// pageOf is page of the objects of m, 20 by default.
func pageOf[T interface{ object() map[string]any }](m map[string]T, q map[string][]string) map[string]any {
	var objs []map[string]any
	for _, v := range m {
		objs = append(objs, v.object())
	}
	return page(objs, q, 20)
}

// page is OpenAI's cursor page of objs (each with an id and a
// created_at): newest first unless order=asc (pageOfOrdered).
func page(objs []map[string]any, q map[string][]string, def int) map[string]any {
	// Newest first; ids (made in order) break a tie within a second.
	slices.SortFunc(objs, func(a, b map[string]any) int {
		return cmp.Or(cmp.Compare(createdOf(b), createdOf(a)), cmp.Compare(idSeq(b["id"]), idSeq(a["id"])))
	})
	if first(q, "order") == "asc" {
		slices.Reverse(objs)
	}
	return pageOfOrdered(objs, q, def)
}

// pageOfOrdered is OpenAI's cursor page of objs, in the order given:
// after the id in after (none after an id it does not know), at most
// limit (the query's, else def) of them.
func pageOfOrdered(objs []map[string]any, q map[string][]string, def int) map[string]any {
	if after := first(q, "after"); after != "" {
		// After an id it does not have, nothing: a cursor is one of its own.
		i := slices.IndexFunc(objs, func(o map[string]any) bool { return o["id"] == after })
		objs = objs[i+1:]
		if i < 0 {
			objs = nil
		}
	}
	limit := def
	if n, err := strconv.Atoi(first(q, "limit")); err == nil && n > 0 {
		limit = n
	}
	more := len(objs) > limit
	objs = objs[:min(limit, len(objs))]
	list := map[string]any{"object": "list", "data": objs, "has_more": more, "first_id": nil, "last_id": nil}
	if n := len(objs); n > 0 {
		list["first_id"], list["last_id"] = objs[0]["id"], objs[n-1]["id"]
	}
	if objs == nil {
		list["data"] = []any{}
	}
	return list
}

// first is the query's first value of k, "" for none.
func first(q map[string][]string, k string) string {
	if v := q[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// unixOf reads a created_at: OpenAI's Unix seconds, or Anthropic's
// RFC 3339 time.
func unixOf(v any) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case string:
		t, _ := time.Parse(time.RFC3339, v)
		return t.Unix()
	}
	return 0
}

// createdOf is an object's time: its created_at, or a chat
// completion's created.
func createdOf(o map[string]any) int64 {
	if v, ok := o["created_at"]; ok {
		return unixOf(v)
	}
	return unixOf(o["created"])
}

// idSeq is the number at the end of one of the mock's ids.
func idSeq(id any) int {
	s, _ := id.(string)
	n, _ := strconv.Atoi(strings.TrimLeft(s, "abcdefghijklmnopqrstuvwxyz_-"))
	return n
}

// createBatch serves POST /v1/batches.
func (s *Server) createBatch(w http.ResponseWriter, r *http.Request, _ Faults) {
	var req struct {
		InputFileID      string          `json:"input_file_id"`
		Endpoint         string          `json:"endpoint"`
		CompletionWindow string          `json:"completion_window"`
		Metadata         json.RawMessage `json:"metadata"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "invalid JSON: "+err.Error())
		return
	}
	if _, ok := s.batchEndpoints()[strings.TrimPrefix(req.Endpoint, "/v1")]; !ok {
		s.writeErrorCode(w, r, http.StatusBadRequest, "invalid_request_error", "invalid_value",
			fmt.Sprintf("Invalid endpoint '%s': the mock runs batches of /v1/chat/completions, /v1/embeddings, /v1/responses, /v1/completions and /v1/moderations", req.Endpoint))
		return
	}
	if req.CompletionWindow != "24h" {
		s.writeErrorCode(w, r, http.StatusBadRequest, "invalid_request_error", "invalid_value",
			fmt.Sprintf("Invalid completion_window '%s': only '24h' is supported", req.CompletionWindow))
		return
	}
	st := &s.files
	st.mu.Lock()
	defer st.mu.Unlock()
	f, ok := st.files[req.InputFileID]
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("No such File object: %s", req.InputFileID))
		return
	}
	if f.purpose != "batch" {
		s.writeError(w, r, http.StatusBadRequest, "invalid_request_error",
			fmt.Sprintf("The input file %s was uploaded with purpose '%s'; a batch's must be 'batch'", f.id, f.purpose))
		return
	}
	now := s.now().Unix()
	var metadata any
	_ = json.Unmarshal(req.Metadata, &metadata)
	b := &mockBatch{input: f.content, obj: map[string]any{
		"id": fmt.Sprintf("batch_mock%d", s.ids.Add(1)), "object": "batch", "endpoint": req.Endpoint, "errors": nil,
		"input_file_id": f.id, "completion_window": "24h", "status": "validating", "output_file_id": nil, "error_file_id": nil,
		"created_at": now, "in_progress_at": nil, "expires_at": now + 24*3600, "finalizing_at": nil, "completed_at": nil,
		"failed_at": nil, "expired_at": nil, "cancelling_at": nil, "cancelled_at": nil, "metadata": metadata,
		"request_counts": map[string]int{"total": 0, "completed": 0, "failed": 0},
	}}
	if st.batches == nil {
		st.batches = map[string]*mockBatch{}
	}
	st.batches[b.obj["id"].(string)] = b
	writeJSON(w, http.StatusOK, b.obj)
}

// batchCalls serves GET /v1/batches (the list), GET /v1/batches/{id} and
// POST /v1/batches/{id}/cancel.
func (s *Server) batchCalls(w http.ResponseWriter, r *http.Request, f Faults) {
	st := &s.files
	st.mu.Lock()
	defer st.mu.Unlock()
	id := r.PathValue("id")
	if id == "" {
		objs := make([]map[string]any, 0, len(st.batches))
		for _, b := range st.batches {
			s.settleLocked(b, f)
			objs = append(objs, b.obj)
		}
		writeJSON(w, http.StatusOK, page(objs, r.URL.Query(), 20))
		return
	}
	b, ok := st.batches[id]
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("No batch found with id '%s'.", id))
		return
	}
	if r.Method == http.MethodPost { // cancel
		switch b.obj["status"] {
		case "validating", "in_progress":
			b.obj["status"], b.obj["cancelling_at"] = "cancelling", s.now().Unix()
		case "cancelling", "cancelled":
		default:
			s.writeErrorCode(w, r, http.StatusConflict, "invalid_request_error", "batch_not_cancellable",
				fmt.Sprintf("Cannot cancel a batch with status '%s'.", b.obj["status"]))
			return
		}
		writeJSON(w, http.StatusOK, b.obj)
		return
	}
	s.settleLocked(b, f)
	writeJSON(w, http.StatusOK, b.obj)
}

// settleLocked finishes a batch that was created or cancelled since it was
// last looked at: a cancelled one ends, one in progress runs every line
// and completes, with its output and error files, unless f keeps it in
// progress for more looks (BatchPolls). st.mu is held.
func (s *Server) settleLocked(b *mockBatch, f Faults) {
	now := s.now().Unix()
	switch b.obj["status"] {
	case "cancelling":
		b.obj["status"], b.obj["cancelled_at"] = "cancelled", now
		return
	case "validating", "in_progress":
	default:
		return
	}
	if b.looks++; b.looks <= f.BatchPolls {
		if b.obj["status"] == "validating" {
			b.obj["status"], b.obj["in_progress_at"] = "in_progress", now
		}
		return
	}
	var out, errs bytes.Buffer
	var done, failed int
	var usage struct{ in, out, cached, reasoning int64 }
	handlers := s.batchEndpoints()
	lines := bytes.Split(bytes.TrimSpace(b.input), []byte("\n"))
	for i, raw := range lines {
		var line batchLine
		_ = json.Unmarshal(raw, &line) // checked at upload
		reqID := fmt.Sprintf("req_mock%d_%d", s.ids.Add(1), i)
		rec := httptest.NewRecorder()
		status, body := http.StatusBadRequest, json.RawMessage(nil)
		path := strings.TrimPrefix(line.URL, "/v1")
		if h, ok := handlers[path]; ok && path == strings.TrimPrefix(b.obj["endpoint"].(string), "/v1") {
			req := httptest.NewRequest(http.MethodPost, line.URL, bytes.NewReader(line.Body))
			req.Header.Set("Content-Type", "application/json")
			h(rec, req, Faults{})
			status, body = rec.Code, rec.Body.Bytes()
		} else {
			body, _ = json.Marshal(map[string]any{"error": map[string]any{"message": fmt.Sprintf("The line's url %s is not the batch's endpoint %s", line.URL, b.obj["endpoint"]), "type": "invalid_request_error"}})
		}
		result, _ := json.Marshal(map[string]any{"id": "batch_req_" + reqID, "custom_id": line.CustomID,
			"response": map[string]any{"status_code": status, "request_id": reqID, "body": body}, "error": nil})
		if status == http.StatusOK {
			done++
			out.Write(result)
			out.WriteByte('\n')
			var u struct {
				Usage struct {
					Prompt        int64 `json:"prompt_tokens"`
					Completion    int64 `json:"completion_tokens"`
					Input         int64 `json:"input_tokens"`
					Output        int64 `json:"output_tokens"`
					PromptDetails struct {
						Cached int64 `json:"cached_tokens"`
					} `json:"prompt_tokens_details"`
					CompletionDetails struct {
						Reasoning int64 `json:"reasoning_tokens"`
					} `json:"completion_tokens_details"`
				} `json:"usage"`
			}
			_ = json.Unmarshal(body, &u)
			usage.in += u.Usage.Prompt + u.Usage.Input
			usage.out += u.Usage.Completion + u.Usage.Output
			usage.cached += u.Usage.PromptDetails.Cached
			usage.reasoning += u.Usage.CompletionDetails.Reasoning
		} else {
			failed++
			errs.Write(result)
			errs.WriteByte('\n')
		}
	}
	name := strings.TrimPrefix(b.obj["id"].(string), "batch_")
	if out.Len() > 0 {
		f := &mockFile{id: fmt.Sprintf("file-mock%d", s.ids.Add(1)), filename: name + "_output.jsonl", purpose: "batch_output", created: now, content: out.Bytes()}
		s.files.files[f.id], b.obj["output_file_id"] = f, f.id
	}
	if errs.Len() > 0 {
		f := &mockFile{id: fmt.Sprintf("file-mock%d", s.ids.Add(1)), filename: name + "_error.jsonl", purpose: "batch_output", created: now, content: errs.Bytes()}
		s.files.files[f.id], b.obj["error_file_id"] = f, f.id
	}
	b.obj["status"], b.obj["in_progress_at"], b.obj["finalizing_at"], b.obj["completed_at"] = "completed", now, now, now
	b.obj["request_counts"] = map[string]int{"total": len(lines), "completed": done, "failed": failed}
	b.obj["usage"] = map[string]any{"input_tokens": usage.in, "output_tokens": usage.out, "total_tokens": usage.in + usage.out,
		"input_tokens_details": map[string]int64{"cached_tokens": usage.cached}, "output_tokens_details": map[string]int64{"reasoning_tokens": usage.reasoning}}
}

// afterID is what follows an object's id in a request's path, without
// its slash: "" for the object itself, "files/cfile_1/content" for one of
// its files' content.
func afterID(path, id string) string {
	return strings.TrimPrefix(path[strings.Index(path, id)+len(id):], "/")
}
