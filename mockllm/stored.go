package mockllm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// maxStored bounds the responses the mock keeps: a load run makes
// millions, and only the latest are ever asked for again.
const maxStored = 10000

// responseStore holds the Responses API's stored responses (store: true,
// OpenAI's default), for previous_response_id and the calls on a response
// by its id. The zero value is empty and ready.
type responseStore struct {
	mu    sync.Mutex
	byID  map[string]storedResponse
	order []string // ids, oldest first
}

type storedResponse struct {
	response   map[string]any
	input      []any
	background bool
}

func (st *responseStore) put(id string, response map[string]any, input []any, background bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.byID == nil {
		st.byID = map[string]storedResponse{}
	}
	st.byID[id] = storedResponse{response: response, input: input, background: background}
	st.order = append(st.order, id)
	if len(st.order) > maxStored {
		delete(st.byID, st.order[0])
		st.order = st.order[1:]
	}
}

func (st *responseStore) get(id string) (storedResponse, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	r, ok := st.byID[id]
	return r, ok
}

func (st *responseStore) has(id string) bool {
	_, ok := st.get(id)
	return ok
}

func (st *responseStore) remove(id string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	_, ok := st.byID[id]
	delete(st.byID, id) // its place in order goes when it would be evicted
	return ok
}

// inputItems returns a request's input as the list of items OpenAI
// stores: a text input is one user message; each item gets an id.
func inputItems(raw json.RawMessage, id string) []any {
	var text string
	if json.Unmarshal(raw, &text) == nil {
		return []any{map[string]any{"type": "message", "id": "msg_in_" + id + "_0", "role": "user", "status": "completed",
			"content": []any{map[string]any{"type": "input_text", "text": text}}}}
	}
	var items []map[string]any
	_ = json.Unmarshal(raw, &items) // validated by responsesPrompt
	out := make([]any, len(items))
	for i, it := range items {
		if _, ok := it["id"]; !ok {
			it["id"] = fmt.Sprintf("msg_in_%s_%d", id, i)
		}
		if _, ok := it["type"]; !ok {
			it["type"] = "message"
		}
		out[i] = it
	}
	return out
}

// found returns the stored response the request names, or answers
// OpenAI's 404.
func (s *Server) found(w http.ResponseWriter, r *http.Request) (storedResponse, bool) {
	id := r.PathValue("id")
	sr, ok := s.stored.get(id)
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("No response found with id '%s'.", id))
	}
	return sr, ok
}

// getResponse serves GET /v1/responses/{id}: the response, or with
// stream=true its events again (response.created, then
// response.completed).
func (s *Server) getResponse(w http.ResponseWriter, r *http.Request, f Faults) {
	sr, ok := s.found(w, r)
	if !ok {
		return
	}
	if r.URL.Query().Get("stream") != "true" {
		writeJSON(w, http.StatusOK, sr.response)
		return
	}
	started := map[string]any{}
	for k, v := range sr.response {
		started[k] = v
	}
	started["status"], started["output"] = "in_progress", []any{}
	s.streamEvents(newSSE(w), r, f, []any{
		namedEvent{"response.created", map[string]any{"type": "response.created", "sequence_number": 0, "response": started}},
		namedEvent{"response.completed", map[string]any{"type": "response.completed", "sequence_number": 1, "response": sr.response}},
	}, func() {})
}

// deleteResponse serves DELETE /v1/responses/{id}.
func (s *Server) deleteResponse(w http.ResponseWriter, r *http.Request, _ Faults) {
	id := r.PathValue("id")
	if !s.stored.remove(id) {
		s.writeError(w, r, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("No response found with id '%s'.", id))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "response", "deleted": true})
}

// cancelResponse serves POST /v1/responses/{id}/cancel: only a background
// response can be cancelled; the mock's have finished already, and
// cancelling one answers it as it is.
func (s *Server) cancelResponse(w http.ResponseWriter, r *http.Request, _ Faults) {
	sr, ok := s.found(w, r)
	if !ok {
		return
	}
	if !sr.background {
		s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "Only responses created with background=true can be cancelled.")
		return
	}
	writeJSON(w, http.StatusOK, sr.response)
}

// inputItems serves GET /v1/responses/{id}/input_items.
func (s *Server) inputItems(w http.ResponseWriter, r *http.Request, _ Faults) {
	sr, ok := s.found(w, r)
	if !ok {
		return
	}
	list := map[string]any{"object": "list", "data": sr.input, "has_more": false, "first_id": nil, "last_id": nil}
	if n := len(sr.input); n > 0 {
		list["first_id"], list["last_id"] = sr.input[0].(map[string]any)["id"], sr.input[n-1].(map[string]any)["id"]
	}
	writeJSON(w, http.StatusOK, list)
}

// conversationStore holds the Conversations API's conversations: their
// items, which responses made in them add to. The zero value is empty
// and ready.
type conversationStore struct {
	mu   sync.Mutex
	byID map[string]*conversation
}

type conversation struct {
	id       string
	created  int64
	metadata map[string]any
	items    []any
}

func (c *conversation) object() map[string]any {
	return map[string]any{"id": c.id, "object": "conversation", "created_at": c.created, "metadata": c.metadata}
}

// add appends items to conversation id, giving each an id; false when
// there is no such conversation.
func (st *conversationStore) add(id string, items []any) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	c, ok := st.byID[id]
	if ok {
		c.items = append(c.items, items...)
	}
	return ok
}

// conversationID reads a request's conversation: an id, or {"id": ...}.
func conversationID(raw json.RawMessage) string {
	var id string
	if json.Unmarshal(raw, &id) == nil {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &obj)
	return obj.ID
}

// conversations serves the Conversations API: POST /v1/conversations, GET,
// POST (metadata) and DELETE /v1/conversations/{id}, and its items.
func (s *Server) conversations(w http.ResponseWriter, r *http.Request, _ Faults) {
	st := &s.convs
	id, item := r.PathValue("id"), r.PathValue("item")
	var body struct {
		Items    []map[string]any `json:"items"`
		Metadata map[string]any   `json:"metadata"`
	}
	if r.Method == http.MethodPost {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
			s.writeError(w, r, 400, "invalid_request_error", "invalid JSON: "+err.Error())
			return
		}
	}
	withIDs := func(items []map[string]any) []any {
		out := make([]any, len(items))
		for i, it := range items {
			if _, ok := it["id"]; !ok {
				it["id"] = fmt.Sprintf("msg_conv_%d", s.ids.Add(1))
			}
			if _, ok := it["type"]; !ok {
				it["type"] = "message"
			}
			out[i] = it
		}
		return out
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if id == "" { // POST /v1/conversations
		if st.byID == nil {
			st.byID = map[string]*conversation{}
		}
		c := &conversation{id: fmt.Sprintf("conv_mock_%d", s.ids.Add(1)), created: s.now().Unix(), metadata: body.Metadata, items: withIDs(body.Items)}
		if c.metadata == nil {
			c.metadata = map[string]any{}
		}
		st.byID[c.id] = c
		writeJSON(w, 200, c.object())
		return
	}
	c, ok := st.byID[id]
	if !ok {
		s.writeError(w, r, 404, "invalid_request_error", fmt.Sprintf("Conversation with id '%s' not found.", id))
		return
	}
	list := func(items []any) map[string]any {
		l := map[string]any{"object": "list", "data": items, "has_more": false, "first_id": nil, "last_id": nil}
		if n := len(items); n > 0 {
			l["first_id"], l["last_id"] = items[0].(map[string]any)["id"], items[n-1].(map[string]any)["id"]
		}
		return l
	}
	switch {
	case strings.HasSuffix(r.URL.Path, "/items") && r.Method == http.MethodPost:
		added := withIDs(body.Items)
		c.items = append(c.items, added...)
		writeJSON(w, 200, list(added))
	case strings.HasSuffix(r.URL.Path, "/items"):
		writeJSON(w, 200, list(c.items))
	case item != "":
		for i, it := range c.items {
			if it.(map[string]any)["id"] != item {
				continue
			}
			if r.Method == http.MethodDelete {
				c.items = append(c.items[:i:i], c.items[i+1:]...)
				writeJSON(w, 200, c.object())
			} else {
				writeJSON(w, 200, it)
			}
			return
		}
		s.writeError(w, r, 404, "invalid_request_error", fmt.Sprintf("Item with id '%s' not found.", item))
	case r.Method == http.MethodDelete:
		delete(st.byID, id)
		writeJSON(w, 200, map[string]any{"id": id, "object": "conversation.deleted", "deleted": true})
	case r.Method == http.MethodPost:
		c.metadata = body.Metadata
		writeJSON(w, 200, c.object())
	default:
		writeJSON(w, 200, c.object())
	}
}
