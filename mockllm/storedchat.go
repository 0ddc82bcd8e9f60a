package mockllm

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// OpenAI's stored chat completions: a chat completion made with store:
// true is kept, with its request's messages and metadata, to be
// retrieved, listed (by model and metadata), its metadata updated, its
// messages listed, and deleted: the latest maxStored of them.

// storedChat is one stored chat completion.
type storedChat struct {
	obj      map[string]any   // as its answer was, with its metadata
	messages []map[string]any // the request's, each with an id
}

// object is the completion as the API returns it.
func (c *storedChat) object() map[string]any { return c.obj }

// storeChat keeps completion, the answer to req.
func (st *fileStore) storeChat(completion map[string]any, req *chatRequest) {
	id := completion["id"].(string)
	metadata := map[string]string{}
	maps.Copy(metadata, req.Metadata)
	completion["metadata"] = metadata
	c := &storedChat{obj: completion}
	for i, m := range req.Messages {
		var content any = contentText(m.Content)
		c.messages = append(c.messages, map[string]any{"id": fmt.Sprintf("%s-%d", id, i), "role": m.Role, "content": content,
			"name": nil, "content_parts": nil})
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.chats == nil {
		st.chats = map[string]*storedChat{}
	}
	st.chats[id] = c
	st.chatOrder = append(st.chatOrder, id)
	if len(st.chatOrder) > maxStored { // as responses are: only the latest are asked for again
		delete(st.chats, st.chatOrder[0])
		st.chatOrder = st.chatOrder[1:]
	}
}

// storedChats serves the stored chat completions API: GET /chat/completions
// (the list, oldest first unless order=desc, by model and by
// metadata[KEY]=VALUE), GET, POST (its metadata) and DELETE
// /chat/completions/{id}, and GET /chat/completions/{id}/messages.
func (s *Server) storedChats(w http.ResponseWriter, r *http.Request, _ Faults) {
	var body struct {
		Metadata map[string]string `json:"metadata"`
	}
	if r.Method == http.MethodPost {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "invalid JSON: "+err.Error())
			return
		}
	}
	q := r.URL.Query()
	if !q.Has("order") {
		q.Set("order", "asc") // this API's default
	}
	st := &s.files
	st.mu.Lock()
	defer st.mu.Unlock()
	id := r.PathValue("id")
	if id == "" {
		chats := map[string]*storedChat{}
		for k, c := range st.chats {
			if matches(c.obj, q) {
				chats[k] = c
			}
		}
		writeJSON(w, http.StatusOK, pageOf(chats, q))
		return
	}
	c, ok := st.chats[id]
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("Chat completion with id '%s' not found.", id))
		return
	}
	switch {
	case strings.HasSuffix(r.URL.Path, "/messages"):
		writeJSON(w, http.StatusOK, messagesPage(c.messages, q))
	case r.Method == http.MethodDelete:
		delete(st.chats, id)
		writeJSON(w, http.StatusOK, map[string]any{"object": "chat.completion.deleted", "id": id, "deleted": true})
	case r.Method == http.MethodPost:
		if body.Metadata == nil {
			s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "metadata is required")
			return
		}
		c.obj["metadata"] = body.Metadata
		writeJSON(w, http.StatusOK, c.obj)
	default:
		writeJSON(w, http.StatusOK, c.obj)
	}
}

// matches reports whether a stored completion is of the query's model
// and has each of its metadata[KEY]=VALUE.
func matches(obj map[string]any, q url.Values) bool {
	if m := q.Get("model"); m != "" && obj["model"] != m {
		return false
	}
	metadata, _ := obj["metadata"].(map[string]string)
	for k, v := range q {
		if key, ok := strings.CutPrefix(k, "metadata["); ok && strings.HasSuffix(key, "]") {
			if metadata[strings.TrimSuffix(key, "]")] != v[0] {
				return false
			}
		}
	}
	return true
}

// messagesPage is a page of a stored completion's messages, in order
// (reversed with order=desc).
func messagesPage(msgs []map[string]any, q url.Values) map[string]any {
	out := slices.Clone(msgs)
	if q.Get("order") == "desc" {
		slices.Reverse(out)
	}
	return pageOfOrdered(out, q, 20)
}
