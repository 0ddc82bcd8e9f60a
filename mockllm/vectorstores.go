package mockllm

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// OpenAI's Vector Stores API, as the Responses API's file_search tool
// uses it: stores of the mock's own files (they must exist), their files,
// file batches, and a search that scores each file by the share of the
// query's words its text holds.

type vectorStore struct {
	id, name string
	created  int64
	metadata map[string]any
	files    map[string]*vectorStoreFile
}

type vectorStoreFile struct {
	id         string
	created    int64
	attributes map[string]any
}

func (v *vectorStore) object() map[string]any {
	n := len(v.files)
	return map[string]any{"id": v.id, "object": "vector_store", "created_at": v.created, "name": v.name, "usage_bytes": 0,
		"file_counts": map[string]any{"in_progress": 0, "completed": n, "failed": 0, "cancelled": 0, "total": n},
		"status":      "completed", "expires_after": nil, "expires_at": nil, "last_active_at": v.created, "metadata": v.metadata}
}

func (v *vectorStore) fileObject(f *vectorStoreFile) map[string]any {
	return map[string]any{"id": f.id, "object": "vector_store.file", "usage_bytes": 0, "created_at": f.created,
		"vector_store_id": v.id, "status": "completed", "last_error": nil, "attributes": f.attributes,
		"chunking_strategy": map[string]any{"type": "static", "static": map[string]any{"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}}}
}

// vectorStoreBody is what the calls that make or change a store, or add
// files to it, may send.
type vectorStoreBody struct {
	Name       *string        `json:"name"`
	FileIDs    []string       `json:"file_ids"`
	FileID     string         `json:"file_id"`
	Metadata   map[string]any `json:"metadata"`
	Attributes map[string]any `json:"attributes"`
	Query      any            `json:"query"`
	MaxResults int            `json:"max_num_results"`
}

// vectorStores serves the Vector Stores API: POST and GET /v1/vector_stores,
// and the calls on a store by its id (its files, file batches, search).
func (s *Server) vectorStores(w http.ResponseWriter, r *http.Request, _ Faults) {
	var body vectorStoreBody
	if r.Method == http.MethodPost && r.ContentLength != 0 {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "invalid JSON: "+err.Error())
			return
		}
	}
	st := &s.files
	st.mu.Lock()
	defer st.mu.Unlock()
	missing := func(ids ...string) bool {
		for _, id := range ids {
			if _, ok := st.files[id]; !ok {
				s.writeError(w, r, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("No such File object: %s", id))
				return true
			}
		}
		return false
	}
	now := s.now().Unix()
	id := r.PathValue("id")
	if id == "" {
		if r.Method == http.MethodGet {
			writeJSON(w, http.StatusOK, pageOf(st.vectorStores, r.URL.Query()))
			return
		}
		if missing(body.FileIDs...) {
			return
		}
		v := &vectorStore{id: fmt.Sprintf("vs_mock%d", s.ids.Add(1)), created: now, metadata: body.Metadata, files: map[string]*vectorStoreFile{}}
		if body.Name != nil {
			v.name = *body.Name
		}
		for _, f := range body.FileIDs {
			v.files[f] = &vectorStoreFile{id: f, created: now}
		}
		if st.vectorStores == nil {
			st.vectorStores = map[string]*vectorStore{}
		}
		st.vectorStores[v.id] = v
		writeJSON(w, http.StatusOK, v.object())
		return
	}
	v, ok := st.vectorStores[id]
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("No vector store found with id '%s'.", id))
		return
	}
	rest := afterID(r.URL.Path, id)
	file := r.PathValue("file")
	switch {
	case rest == "" && r.Method == http.MethodDelete:
		delete(st.vectorStores, id)
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "vector_store.deleted", "deleted": true})
	case rest == "" && r.Method == http.MethodPost:
		if body.Name != nil {
			v.name = *body.Name
		}
		if body.Metadata != nil {
			v.metadata = body.Metadata
		}
		writeJSON(w, http.StatusOK, v.object())
	case rest == "":
		writeJSON(w, http.StatusOK, v.object())
	case rest == "search":
		s.searchVectorStore(w, r, v, body)
	case rest == "files" && r.Method == http.MethodPost:
		if body.FileID == "" {
			s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "Missing required parameter: 'file_id'.")
			return
		}
		if missing(body.FileID) {
			return
		}
		f := &vectorStoreFile{id: body.FileID, created: now, attributes: body.Attributes}
		v.files[f.id] = f
		writeJSON(w, http.StatusOK, v.fileObject(f))
	case rest == "files":
		var objs []map[string]any
		for _, f := range v.files {
			objs = append(objs, v.fileObject(f))
		}
		writeJSON(w, http.StatusOK, page(objs, r.URL.Query(), 20))
	case file != "":
		f, ok := v.files[file]
		switch {
		case !ok:
			s.writeError(w, r, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("No file found with id '%s' in vector store '%s'.", file, id))
		case r.Method == http.MethodDelete:
			delete(v.files, file)
			writeJSON(w, http.StatusOK, map[string]any{"id": file, "object": "vector_store.file.deleted", "deleted": true})
		case strings.HasSuffix(rest, "/content"):
			text := ""
			if mf := st.files[file]; mf != nil {
				text = string(mf.content)
			}
			writeJSON(w, http.StatusOK, map[string]any{"object": "vector_store.file_content.page", "has_more": false, "next_page": nil,
				"data": []any{map[string]any{"type": "text", "text": text}}})
		default:
			if r.Method == http.MethodPost {
				f.attributes = body.Attributes
			}
			writeJSON(w, http.StatusOK, v.fileObject(f))
		}
	case rest == "file_batches":
		if missing(body.FileIDs...) {
			return
		}
		for _, f := range body.FileIDs {
			v.files[f] = &vectorStoreFile{id: f, created: now, attributes: body.Attributes}
		}
		writeJSON(w, http.StatusOK, fileBatch(v, fmt.Sprintf("vsfb_mock%d", s.ids.Add(1)), now, len(body.FileIDs), "completed"))
	case strings.HasPrefix(rest, "file_batches/"):
		batch, tail, _ := strings.Cut(strings.TrimPrefix(rest, "file_batches/"), "/")
		switch tail {
		case "files":
			var objs []map[string]any
			for _, f := range v.files {
				objs = append(objs, v.fileObject(f))
			}
			writeJSON(w, http.StatusOK, page(objs, r.URL.Query(), 20))
		default: // the batch, or its cancel: it has finished (the mock's are made done)
			writeJSON(w, http.StatusOK, fileBatch(v, batch, now, len(v.files), "completed"))
		}
	default:
		s.writeError(w, r, http.StatusNotFound, "invalid_request_error", "Invalid URL ("+r.Method+" "+r.URL.Path+")")
	}
}

func fileBatch(v *vectorStore, id string, created int64, n int, status string) map[string]any {
	return map[string]any{"id": id, "object": "vector_store.files_batch", "created_at": created, "vector_store_id": v.id, "status": status,
		"file_counts": map[string]any{"in_progress": 0, "completed": n, "failed": 0, "cancelled": 0, "total": n}}
}

// searchVectorStore answers a search of v: each of its files whose text
// holds any of the query's words, best first, scored by the share of the
// words it holds.
func (s *Server) searchVectorStore(w http.ResponseWriter, r *http.Request, v *vectorStore, body vectorStoreBody) {
	var queries []string
	switch q := body.Query.(type) {
	case string:
		queries = []string{q}
	case []any:
		for _, e := range q {
			if t, ok := e.(string); ok {
				queries = append(queries, t)
			}
		}
	}
	if len(queries) == 0 {
		s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "Missing required parameter: 'query'.")
		return
	}
	words := strings.Fields(strings.ToLower(strings.Join(queries, " ")))
	var results []map[string]any
	for _, f := range v.files {
		mf := s.files.files[f.id]
		if mf == nil {
			continue
		}
		text := strings.ToLower(string(mf.content))
		hits := 0
		for _, word := range words {
			if strings.Contains(text, word) {
				hits++
			}
		}
		if hits > 0 {
			results = append(results, map[string]any{"file_id": f.id, "filename": mf.filename, "score": float64(hits) / float64(len(words)),
				"attributes": f.attributes, "content": []any{map[string]any{"type": "text", "text": string(mf.content)}}})
		}
	}
	slices.SortFunc(results, func(a, b map[string]any) int { // best first; ties by file
		return cmp.Or(cmp.Compare(b["score"].(float64), a["score"].(float64)), strings.Compare(a["file_id"].(string), b["file_id"].(string)))
	})
	if n := body.MaxResults; n > 0 && len(results) > n {
		results = results[:n]
	}
	if results == nil {
		results = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "vector_store.search_results.page", "search_query": queries,
		"data": results, "has_more": false, "next_page": nil})
}

// vectorStoresKnown reports whether every id in ids is one of the mock's
// vector stores, and the first that is not.
func (s *Server) vectorStoresKnown(ids []string) (string, bool) {
	s.files.mu.Lock()
	defer s.files.mu.Unlock()
	for _, id := range ids {
		if _, ok := s.files.vectorStores[id]; !ok {
			return id, false
		}
	}
	return "", true
}
