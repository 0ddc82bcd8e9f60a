package mockllm

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
)

// OpenAI's Videos API (Sora): a video is a job, queued when made and
// completed at a later look (Faults.BatchPolls, as a batch is), whose
// content (an MP4, here a few bytes that say which video) can be read
// once done; a remix, an edit or an extension makes a new video from a
// done one (by its id, or an uploaded one).

type mockVideo struct {
	id, model, prompt, remixedFrom, seconds, size string
	created, completed                            int64
	looks                                         int
}

func (v *mockVideo) object() map[string]any {
	o := map[string]any{"id": v.id, "object": "video", "model": v.model, "prompt": v.prompt, "created_at": v.created,
		"status": "queued", "progress": 0, "seconds": v.seconds, "size": v.size, "completed_at": nil, "expires_at": nil,
		"error": nil, "remixed_from_video_id": nil}
	if v.remixedFrom != "" {
		o["remixed_from_video_id"] = v.remixedFrom
	}
	if v.completed > 0 {
		o["status"], o["progress"], o["completed_at"], o["expires_at"] = "completed", 100, v.completed, v.completed+86400
	}
	return o
}

// content is a done video's bytes, as the mock makes them: which video.
func (v *mockVideo) content() []byte { return []byte("mock video " + v.id + ": " + v.prompt) }

// videos serves the Videos API: POST and GET /v1/videos, and the calls on
// a video by its id (retrieve, delete, content, remix).
func (s *Server) videos(w http.ResponseWriter, r *http.Request, f Faults) {
	st := &s.files
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.videos == nil {
		st.videos = map[string]*mockVideo{}
	}
	id := r.PathValue("id")
	if r.Method == http.MethodPost && (strings.HasSuffix(r.URL.Path, "/videos/edits") || strings.HasSuffix(r.URL.Path, "/videos/extensions")) {
		fields, err := videoFields(r)
		if err != nil || fields["prompt"] == "" {
			s.writeError(w, r, 400, "invalid_request_error", "Missing required parameter: 'prompt'.")
			return
		}
		ref := fields["video[id]"]
		src, ok := st.videos[ref]
		switch {
		case ref == "" && fields["video"] == "":
			s.writeError(w, r, 400, "invalid_request_error", "Missing required parameter: 'video'.")
			return
		case ref != "" && !ok:
			s.writeErrorCode(w, r, 404, "invalid_request_error", "video_not_found", fmt.Sprintf("Video with id '%s' not found.", ref))
			return
		case ok && src.completed == 0:
			s.writeError(w, r, 400, "invalid_request_error", fmt.Sprintf("Video '%s' is not ready: its status is queued.", ref))
			return
		}
		model, seconds, size := "sora-2", fields["seconds"], ""
		if ok {
			model, seconds, size = src.model, cmp.Or(seconds, src.seconds), src.size
		}
		writeJSON(w, http.StatusOK, s.newVideo(st, model, fields["prompt"], seconds, size).object())
		return
	}
	if id == "" {
		switch r.Method {
		case http.MethodPost:
			fields, err := videoFields(r)
			if err != nil || fields["prompt"] == "" {
				s.writeError(w, r, 400, "invalid_request_error", "Missing required parameter: 'prompt'.")
				return
			}
			if s.refuseMissing(w, r, f, cmp.Or(fields["model"], "sora-2")) {
				return
			}
			v := s.newVideo(st, fields["model"], fields["prompt"], fields["seconds"], fields["size"])
			writeJSON(w, http.StatusOK, v.object())
		default:
			for _, v := range st.videos {
				s.look(v, f)
			}
			writeJSON(w, http.StatusOK, pageOf(st.videos, r.URL.Query()))
		}
		return
	}
	v, ok := st.videos[id]
	if !ok {
		s.writeErrorCode(w, r, 404, "invalid_request_error", "video_not_found", fmt.Sprintf("Video with id '%s' not found.", id))
		return
	}
	switch {
	case r.Method == http.MethodDelete:
		delete(st.videos, id)
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "video.deleted", "deleted": true})
	case strings.HasSuffix(r.URL.Path, "/content"):
		if v.completed == 0 {
			s.writeError(w, r, 400, "invalid_request_error", fmt.Sprintf("Video '%s' is not ready: its status is queued.", id))
			return
		}
		w.Header().Set("Content-Type", "video/mp4")
		_, _ = w.Write(v.content())
	case strings.HasSuffix(r.URL.Path, "/remix"):
		var body struct {
			Prompt string `json:"prompt"`
		}
		if json.NewDecoder(r.Body).Decode(&body) != nil || body.Prompt == "" {
			s.writeError(w, r, 400, "invalid_request_error", "Missing required parameter: 'prompt'.")
			return
		}
		remix := s.newVideo(st, v.model, body.Prompt, v.seconds, v.size)
		remix.remixedFrom = v.id
		writeJSON(w, http.StatusOK, remix.object())
	default:
		s.look(v, f)
		writeJSON(w, http.StatusOK, v.object())
	}
}

// newVideo makes a queued video. st.mu is held.
func (s *Server) newVideo(st *fileStore, model, prompt, seconds, size string) *mockVideo {
	v := &mockVideo{id: fmt.Sprintf("video_mock%d", s.ids.Add(1)), model: cmp.Or(model, "sora-2"), prompt: prompt,
		seconds: cmp.Or(seconds, "4"), size: cmp.Or(size, "720x1280"), created: s.now().Unix()}
	st.videos[v.id] = v
	return v
}

// look is one look at v: it completes once it has been looked at more
// than Faults.BatchPolls times.
func (s *Server) look(v *mockVideo, f Faults) {
	if v.completed == 0 {
		if v.looks++; v.looks > f.BatchPolls {
			v.completed = s.now().Unix()
		}
	}
}

// videoFields reads a video request's fields: a multipart form's (the
// SDKs'), its input_reference's bytes left unread, or a JSON object's.
func videoFields(r *http.Request) (map[string]string, error) {
	fields := map[string]string{}
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return nil, err
		}
		for k, v := range body {
			switch v := v.(type) {
			case string:
				fields[k] = v
			case map[string]any: // a video by id, {"id": ...}, as the form's video[id]
				if id, ok := v["id"].(string); ok {
					fields[k+"[id]"] = id
				}
			}
		}
		return fields, nil
	}
	form := multipart.NewReader(r.Body, params["boundary"])
	for {
		part, err := form.NextPart()
		if err == io.EOF {
			return fields, nil
		}
		if err != nil {
			return nil, err
		}
		if part.FileName() == "" {
			b, _ := io.ReadAll(part)
			fields[part.FormName()] = string(b)
		} else {
			fields[part.FormName()] = part.FileName() // an upload: its name says it came
		}
	}
}
