package mockllm

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// anthropicFile is a file of Anthropic's Files API (at the same paths as
// OpenAI's; its clients send anthropic-version, and, while it was a beta,
// anthropic-beta: files-api-2025-04-14, which the mock does not need).
type anthropicFile struct {
	id, filename, mime string
	created            time.Time
	content            []byte
}

func (f *anthropicFile) object() map[string]any {
	return map[string]any{"id": f.id, "type": "file", "filename": f.filename, "mime_type": f.mime, "size_bytes": len(f.content),
		"created_at": f.created.Format(time.RFC3339), "downloadable": false}
}

// createAnthropicFile serves an Anthropic client's POST /v1/files: a
// multipart form with the file.
func (s *Server) createAnthropicFile(w http.ResponseWriter, r *http.Request) {
	file, head, err := r.FormFile("file")
	if err != nil {
		s.writeErrorCode(w, r, http.StatusBadRequest, "invalid_request_error", "", "file: Field required")
		return
	}
	defer file.Close()
	content, err := io.ReadAll(file)
	if err != nil {
		s.writeErrorCode(w, r, http.StatusBadRequest, "invalid_request_error", "", "could not read the file: "+err.Error())
		return
	}
	f := &anthropicFile{id: fmt.Sprintf("file_mock%d", s.ids.Add(1)), filename: head.Filename, mime: head.Header.Get("Content-Type"),
		created: s.now().UTC(), content: content}
	st := &s.files
	st.mu.Lock()
	if st.anthropic == nil {
		st.anthropic = map[string]*anthropicFile{}
	}
	st.anthropic[f.id] = f
	st.mu.Unlock()
	writeJSON(w, http.StatusOK, f.object())
}

// anthropicFileCalls serves an Anthropic client's GET /v1/files (a page),
// GET and DELETE /v1/files/{id}, and GET /v1/files/{id}/content, which
// Anthropic answers only for files its tools made: an upload is not
// downloadable.
func (s *Server) anthropicFileCalls(w http.ResponseWriter, r *http.Request) {
	st := &s.files
	st.mu.Lock()
	defer st.mu.Unlock()
	id := r.PathValue("id")
	if id == "" {
		var objs []map[string]any
		for _, f := range st.anthropic {
			objs = append(objs, f.object())
		}
		writeAnthropicPage(w, r, objs)
		return
	}
	f, ok := st.anthropic[id]
	if !ok {
		s.writeErrorCode(w, r, http.StatusNotFound, "not_found_error", "", "File not found: "+id)
		return
	}
	switch {
	case r.Method == http.MethodDelete:
		delete(st.anthropic, id)
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "type": "file_deleted"})
	case strings.HasSuffix(r.URL.Path, "/content"):
		s.writeErrorCode(w, r, http.StatusBadRequest, "invalid_request_error", "", "File "+id+" is not downloadable: only files that tools made are")
	default:
		writeJSON(w, http.StatusOK, f.object())
	}
}
