package mockllm

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
)

// OpenAI's Containers API, where the Responses API's code interpreter
// runs: containers made by a call or by a Responses request whose
// code_interpreter asks for one ("auto"), their files (added from the
// mock's own files, uploaded, or written by the code interpreter), and
// the files' content.

type container struct {
	id, name string
	created  int64
	files    map[string]*containerFile
	order    []string
}

type containerFile struct {
	id, path string
	created  int64
	content  []byte
}

func (c *container) object() map[string]any {
	return map[string]any{"id": c.id, "object": "container", "created_at": c.created, "name": c.name, "status": "running",
		"expires_after": map[string]any{"anchor": "last_active_at", "minutes": 20}}
}

func (c *container) fileObject(f *containerFile) map[string]any {
	return map[string]any{"id": f.id, "object": "container.file", "created_at": f.created, "bytes": len(f.content),
		"container_id": c.id, "path": f.path, "source": "user"}
}

// newContainer makes a container, with the mock's files fileIDs in it.
// st.mu is held.
func (s *Server) newContainer(st *fileStore, name string, fileIDs []string) *container {
	c := &container{id: fmt.Sprintf("cntr_mock%d", s.ids.Add(1)), name: name, created: s.now().Unix(), files: map[string]*containerFile{}}
	for _, id := range fileIDs {
		if f, ok := st.files[id]; ok {
			c.add(s, "/mnt/data/"+f.filename, f.content)
		}
	}
	if st.containers == nil {
		st.containers = map[string]*container{}
	}
	st.containers[c.id] = c
	return c
}

// add writes a file into c.
func (c *container) add(s *Server, path string, content []byte) *containerFile {
	f := &containerFile{id: fmt.Sprintf("cfile_mock%d", s.ids.Add(1)), path: path, created: s.now().Unix(), content: content}
	c.files[f.id] = f
	c.order = append(c.order, f.id)
	return f
}

// containers serves the Containers API: POST and GET /v1/containers, and
// the calls on a container by its id (its files, and their content).
func (s *Server) containers(w http.ResponseWriter, r *http.Request, _ Faults) {
	var body struct {
		Name    string   `json:"name"`
		FileIDs []string `json:"file_ids"`
		FileID  string   `json:"file_id"`
	}
	var upload []byte
	var uploadName string
	if ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		form := multipart.NewReader(r.Body, params["boundary"])
		for {
			part, err := form.NextPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(part)
			switch part.FormName() {
			case "file":
				upload, uploadName = b, part.FileName()
			case "file_id":
				body.FileID = string(b)
			}
		}
	} else if r.Method == http.MethodPost && r.ContentLength != 0 {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "invalid JSON: "+err.Error())
			return
		}
	}
	st := &s.files
	st.mu.Lock()
	defer st.mu.Unlock()
	id := r.PathValue("id")
	if id == "" {
		if r.Method == http.MethodGet {
			writeJSON(w, http.StatusOK, pageOf(st.containers, r.URL.Query()))
			return
		}
		for _, f := range body.FileIDs {
			if _, ok := st.files[f]; !ok {
				s.writeError(w, r, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("No such File object: %s", f))
				return
			}
		}
		writeJSON(w, http.StatusOK, s.newContainer(st, body.Name, body.FileIDs).object())
		return
	}
	c, ok := st.containers[id]
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("Container with id '%s' not found.", id))
		return
	}
	rest := afterID(r.URL.Path, id)
	fileID := r.PathValue("file")
	f := c.files[fileID]
	switch {
	case rest == "" && r.Method == http.MethodDelete:
		delete(st.containers, id)
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "container.deleted", "deleted": true})
	case rest == "":
		writeJSON(w, http.StatusOK, c.object())
	case rest == "files" && r.Method == http.MethodPost:
		switch {
		case upload != nil:
			f = c.add(s, "/mnt/data/"+uploadName, upload)
		case body.FileID != "":
			src, ok := st.files[body.FileID]
			if !ok {
				s.writeError(w, r, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("No such File object: %s", body.FileID))
				return
			}
			f = c.add(s, "/mnt/data/"+src.filename, src.content)
		default:
			s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "Missing required parameter: 'file' or 'file_id'.")
			return
		}
		writeJSON(w, http.StatusOK, c.fileObject(f))
	case rest == "files":
		var objs []map[string]any
		for _, fid := range c.order {
			if cf, ok := c.files[fid]; ok {
				objs = append(objs, c.fileObject(cf))
			}
		}
		writeJSON(w, http.StatusOK, page(objs, r.URL.Query(), 20))
	case f == nil:
		s.writeError(w, r, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("Container file with id '%s' not found.", fileID))
	case strings.HasSuffix(rest, "/content"):
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(f.content)
	case r.Method == http.MethodDelete:
		delete(c.files, fileID)
		writeJSON(w, http.StatusOK, map[string]any{"id": fileID, "object": "container.file.deleted", "deleted": true})
	default:
		writeJSON(w, http.StatusOK, c.fileObject(f))
	}
}

// interpret runs the Responses API's code interpreter for a request whose
// tool names container (an id, or {"type": "auto", "file_ids": [...]}):
// it writes the answer's text to /mnt/data/answer.txt there, and returns
// the container's id and the citation of the file; no id, and why, when
// the container named is not the mock's.
func (s *Server) interpret(spec json.RawMessage, text string) (id string, cite map[string]any, msg string) {
	st := &s.files
	st.mu.Lock()
	defer st.mu.Unlock()
	var c *container
	var named string
	if json.Unmarshal(spec, &named) == nil {
		if c = st.containers[named]; c == nil {
			return "", nil, fmt.Sprintf("Container with id '%s' not found.", named)
		}
	} else {
		var auto struct {
			FileIDs []string `json:"file_ids"`
		}
		_ = json.Unmarshal(spec, &auto)
		c = s.newContainer(st, "code interpreter", auto.FileIDs)
	}
	f := c.add(s, "/mnt/data/answer.txt", []byte(text))
	return c.id, map[string]any{"type": "container_file_citation", "container_id": c.id, "file_id": f.id,
		"filename": "answer.txt", "start_index": 0, "end_index": 0}, ""
}
