package mockllm

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// OpenAI's Uploads API: an upload declares its file (name, purpose, size,
// media type); parts of up to 64 MB arrive; completing it with its parts
// in order (their total the declared size, their MD5 the one given, if
// any) makes a file of the Files API; a cancelled or completed upload
// takes no more parts.

// mockUpload is one upload and its parts.
type mockUpload struct {
	id, filename, purpose, mime, status string
	bytes, created                      int64
	parts                               map[string][]byte
	file                                *mockFile // once completed
}

func (u *mockUpload) object() map[string]any {
	o := map[string]any{"id": u.id, "object": "upload", "bytes": u.bytes, "created_at": u.created, "filename": u.filename,
		"purpose": u.purpose, "status": u.status, "expires_at": u.created + 3600, "file": nil}
	if u.file != nil {
		o["file"] = u.file.object()
	}
	return o
}

// uploads serves POST /uploads, and its parts, complete and cancel.
func (s *Server) uploads(w http.ResponseWriter, r *http.Request, _ Faults) {
	st := &s.files
	id := r.PathValue("id")
	if id == "" {
		var req struct {
			Bytes    int64  `json:"bytes"`
			Filename string `json:"filename"`
			MimeType string `json:"mime_type"`
			Purpose  string `json:"purpose"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Filename == "" || req.MimeType == "" || req.Purpose == "" || req.Bytes <= 0 {
			s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "an upload needs bytes, filename, mime_type and purpose")
			return
		}
		u := &mockUpload{id: fmt.Sprintf("upload_mock%d", s.ids.Add(1)), filename: req.Filename, purpose: req.Purpose, mime: req.MimeType,
			status: "pending", bytes: req.Bytes, created: s.now().Unix(), parts: map[string][]byte{}}
		st.mu.Lock()
		if st.uploads == nil {
			st.uploads = map[string]*mockUpload{}
		}
		st.uploads[u.id] = u
		st.mu.Unlock()
		writeJSON(w, http.StatusOK, u.object())
		return
	}
	var part []byte
	var done struct {
		PartIDs []string `json:"part_ids"`
		MD5     string   `json:"md5"`
	}
	action := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	switch action {
	case "parts":
		if err := r.ParseMultipartForm(maxFileBytes); err != nil {
			s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "Could not parse multipart form: "+err.Error())
			return
		}
		defer r.MultipartForm.RemoveAll()
		f, _, err := r.FormFile("data")
		if err != nil {
			s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "'data' is a required property")
			return
		}
		part, err = io.ReadAll(io.LimitReader(f, 64<<20+1))
		f.Close()
		if err != nil || len(part) > 64<<20 {
			s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "a part is at most 64 MB")
			return
		}
	case "complete":
		if err := json.NewDecoder(r.Body).Decode(&done); err != nil || len(done.PartIDs) == 0 {
			s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "part_ids is a required property")
			return
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	u, ok := st.uploads[id]
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("Upload with id '%s' not found.", id))
		return
	}
	if u.status != "pending" {
		s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("Upload %s is %s.", id, u.status))
		return
	}
	switch action {
	case "parts":
		pid := fmt.Sprintf("part_mock%d", s.ids.Add(1))
		u.parts[pid] = part
		writeJSON(w, http.StatusOK, map[string]any{"id": pid, "object": "upload.part", "created_at": s.now().Unix(), "upload_id": id})
	case "cancel":
		u.status = "cancelled"
		writeJSON(w, http.StatusOK, u.object())
	case "complete":
		var content bytes.Buffer
		for _, pid := range done.PartIDs {
			p, ok := u.parts[pid]
			if !ok {
				s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("Part %s is not a part of upload %s.", pid, id))
				return
			}
			content.Write(p)
		}
		if int64(content.Len()) != u.bytes {
			s.writeError(w, r, http.StatusBadRequest, "invalid_request_error",
				fmt.Sprintf("The parts add up to %d bytes; the upload said %d.", content.Len(), u.bytes))
			return
		}
		if sum := md5.Sum(content.Bytes()); done.MD5 != "" && done.MD5 != hex.EncodeToString(sum[:]) {
			s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "The parts' MD5 is not the one given.")
			return
		}
		if u.purpose == "batch" {
			if line, msg := badBatchLine(content.Bytes()); msg != "" {
				s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("Invalid file format for Batch API, line %d: %s", line, msg))
				return
			}
		}
		f := &mockFile{id: fmt.Sprintf("file-mock%d", s.ids.Add(1)), filename: u.filename, purpose: u.purpose, created: s.now().Unix(),
			content: slices.Clip(content.Bytes())}
		if st.files == nil {
			st.files = map[string]*mockFile{}
		}
		st.files[f.id] = f
		u.status, u.file = "completed", f
		writeJSON(w, http.StatusOK, u.object())
	}
}
