package mockllm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"
)

// messageBatch is one of Anthropic's Message Batches and its requests.
// As the mock's OpenAI batches do, it runs when it is first looked at
// after its creation, and a cancel before that stops it.
type messageBatch struct {
	obj      map[string]any
	requests []messageBatchRequest
	results  []byte // JSONL, once ended
	looks    int    // since it was made (Faults.BatchPolls)
	// version is the anthropic-version the batch was made with, that of
	// each of its requests.
	version string
}

type messageBatchRequest struct {
	CustomID string          `json:"custom_id"`
	Params   json.RawMessage `json:"params"`
}

// createMessageBatch serves POST /v1/messages/batches.
func (s *Server) createMessageBatch(w http.ResponseWriter, r *http.Request, _ Faults) {
	var req struct {
		Requests []messageBatchRequest `json:"requests"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "invalid JSON: "+err.Error())
		return
	}
	if len(req.Requests) == 0 {
		s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "requests: List should have at least 1 item after validation, not 0")
		return
	}
	seen := map[string]bool{}
	for i, q := range req.Requests {
		var params struct {
			Model string `json:"model"`
		}
		_ = json.Unmarshal(q.Params, &params)
		switch {
		case q.CustomID == "" || seen[q.CustomID]:
			s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("requests.%d.custom_id: each request needs its own custom_id", i))
			return
		case params.Model == "":
			s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("requests.%d.params.model: Field required", i))
			return
		}
		seen[q.CustomID] = true
	}
	now := s.now().UTC()
	b := &messageBatch{requests: req.Requests, version: r.Header.Get("anthropic-version"), obj: map[string]any{
		"id": fmt.Sprintf("msgbatch_mock%d", s.ids.Add(1)), "type": "message_batch", "processing_status": "in_progress",
		"request_counts": map[string]int{"processing": len(req.Requests), "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0},
		"ended_at":       nil, "created_at": now.Format(time.RFC3339), "expires_at": now.Add(24 * time.Hour).Format(time.RFC3339),
		"archived_at": nil, "cancel_initiated_at": nil, "results_url": nil,
	}}
	st := &s.files
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.messageBatches == nil {
		st.messageBatches = map[string]*messageBatch{}
	}
	st.messageBatches[b.obj["id"].(string)] = b
	writeJSON(w, http.StatusOK, b.obj)
}

// messageBatchCalls serves GET /v1/messages/batches (the list), GET and
// DELETE /v1/messages/batches/{id}, POST .../{id}/cancel and GET
// .../{id}/results.
func (s *Server) messageBatchCalls(w http.ResponseWriter, r *http.Request, f Faults) {
	st := &s.files
	st.mu.Lock()
	defer st.mu.Unlock()
	id := r.PathValue("id")
	if id == "" {
		var objs []map[string]any
		for _, b := range st.messageBatches {
			s.settleMessageBatch(b, r, f)
			objs = append(objs, b.obj)
		}
		writeAnthropicPage(w, r, objs)
		return
	}
	b, ok := st.messageBatches[id]
	if !ok {
		s.writeErrorCode(w, r, http.StatusNotFound, "not_found_error", "", "Message batch not found: "+id)
		return
	}
	switch {
	case r.Method == http.MethodPost: // cancel
		if b.obj["processing_status"] == "in_progress" {
			b.obj["processing_status"], b.obj["cancel_initiated_at"] = "canceling", s.now().UTC().Format(time.RFC3339)
		}
		writeJSON(w, http.StatusOK, b.obj)
		return
	case r.Method == http.MethodDelete: // not a look: a batch not yet polled is still processing
		if b.obj["processing_status"] != "ended" {
			s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "Message batch "+id+" is still processing; cancel it first")
			return
		}
		delete(st.messageBatches, id)
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "type": "message_batch_deleted"})
		return
	}
	s.settleMessageBatch(b, r, f)
	if strings.HasSuffix(r.URL.Path, "/results") {
		if b.results == nil {
			s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "Message batch "+id+" has not finished processing")
			return
		}
		w.Header().Set("Content-Type", "application/binary") // as Anthropic's
		_, _ = w.Write(b.results)
		return
	}
	writeJSON(w, http.StatusOK, b.obj)
}

// writeAnthropicPage writes Anthropic's page of objs (message batches,
// files): newest first, after after_id, at most limit (default 20).
func writeAnthropicPage(w http.ResponseWriter, r *http.Request, objs []map[string]any) {
	q := r.URL.Query()
	p := page(objs, map[string][]string{"after": {q.Get("after_id")}, "limit": {q.Get("limit")}}, 20)
	delete(p, "object")
	writeJSON(w, http.StatusOK, p)
}

// settleMessageBatch ends a batch that was created or cancelled since it
// was last looked at (unless f keeps one in progress for more looks,
// BatchPolls): each request runs through the mock's Messages API
// (or is canceled), and its results are ready at results_url, on the
// host r came to. st.mu is held.
func (s *Server) settleMessageBatch(b *messageBatch, r *http.Request, f Faults) {
	status := b.obj["processing_status"]
	if status == "ended" {
		return
	}
	if b.looks++; status == "in_progress" && b.looks <= f.BatchPolls {
		return
	}
	var results bytes.Buffer
	counts := map[string]int{"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
	for _, q := range b.requests {
		line := map[string]any{"custom_id": q.CustomID}
		if status == "canceling" {
			line["result"] = map[string]any{"type": "canceled"}
			counts["canceled"]++
		} else {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/v1/messages", bytes.NewReader(q.Params))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("anthropic-version", b.version)
			s.messages(rec, req, Faults{})
			if rec.Code == http.StatusOK {
				line["result"] = map[string]any{"type": "succeeded", "message": json.RawMessage(rec.Body.Bytes())}
				counts["succeeded"]++
			} else {
				line["result"] = map[string]any{"type": "errored", "error": json.RawMessage(rec.Body.Bytes())}
				counts["errored"]++
			}
		}
		data, _ := json.Marshal(line)
		results.Write(data)
		results.WriteByte('\n')
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	b.results = results.Bytes()
	b.obj["processing_status"], b.obj["request_counts"], b.obj["ended_at"] = "ended", counts, s.now().UTC().Format(time.RFC3339)
	b.obj["results_url"] = fmt.Sprintf("%s://%s/v1/messages/batches/%s/results", scheme, r.Host, b.obj["id"])
}
