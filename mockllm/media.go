package mockllm

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// transcriptions serves /v1/audio/transcriptions and /translations: a
// multipart form with the audio file and the model; the "transcript" says
// which mock heard how many bytes, in the asked response_format (json,
// verbose_json, text, srt or vtt).
func (s *Server) transcriptions(w http.ResponseWriter, r *http.Request, f Faults) {
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		s.writeError(w, r, 400, "invalid_request_error", "Could not parse multipart form: "+err.Error())
		return
	}
	model := r.FormValue("model")
	file, hdr, err := r.FormFile("file")
	if err != nil || model == "" {
		s.writeError(w, r, 400, "invalid_request_error", "Missing required parameter: 'file' or 'model'.")
		return
	}
	defer file.Close()
	n, _ := io.Copy(io.Discard, file)
	text := fmt.Sprintf("Hello from %s! I heard %d bytes of %s.", s.opts.Name, n, hdr.Filename)
	if r.FormValue("stream") == "true" && !strings.HasPrefix(model, "whisper") { // whisper-1 answers whole, as OpenAI's does
		var events []any
		for _, wd := range strings.SplitAfter(text, " ") {
			events = append(events, map[string]any{"type": "transcript.text.delta", "delta": wd})
		}
		events = append(events, map[string]any{"type": "transcript.text.done", "text": text,
			"usage": map[string]any{"type": "tokens", "input_tokens": n, "output_tokens": tokens(text), "total_tokens": n + int64(tokens(text))}})
		s.streamEvents(newSSE(w), r, f, events, func() {})
		return
	}
	switch format := r.FormValue("response_format"); format {
	case "", "json":
		writeJSON(w, 200, map[string]any{"text": text, "usage": map[string]any{"type": "duration", "seconds": 1}})
	case "verbose_json":
		writeJSON(w, 200, map[string]any{"task": "transcribe", "language": "english", "duration": 1.0, "text": text,
			"segments": []any{map[string]any{"id": 0, "start": 0.0, "end": 1.0, "text": text}}})
	case "text", "srt", "vtt":
		ctype := map[string]string{"text": "text/plain; charset=utf-8", "srt": "application/x-subrip", "vtt": "text/vtt"}[format]
		switch format {
		case "srt":
			text = "1\n00:00:00,000 --> 00:00:01,000\n" + text + "\n"
		case "vtt":
			text = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n" + text + "\n"
		}
		w.Header().Set("Content-Type", ctype)
		_, _ = io.WriteString(w, text+"\n")
	default:
		s.writeError(w, r, 400, "invalid_request_error", fmt.Sprintf("Invalid value for 'response_format': %q.", format))
	}
}

// speech serves /v1/audio/speech: a few bytes of "audio" in the asked
// response_format (mp3 by default), that name the mock and the input.
func (s *Server) speech(w http.ResponseWriter, r *http.Request, f Faults) {
	var req struct {
		Model, Input, Voice, ResponseFormat, StreamFormat string
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&struct {
		Model          *string `json:"model"`
		Input          *string `json:"input"`
		Voice          *string `json:"voice"`
		ResponseFormat *string `json:"response_format"`
		StreamFormat   *string `json:"stream_format"`
	}{&req.Model, &req.Input, &req.Voice, &req.ResponseFormat, &req.StreamFormat}); err != nil || req.Model == "" || req.Input == "" {
		s.writeError(w, r, 400, "invalid_request_error", "Missing required parameter: 'model' or 'input'.")
		return
	}
	types := map[string]string{"": "audio/mpeg", "mp3": "audio/mpeg", "opus": "audio/opus", "aac": "audio/aac",
		"flac": "audio/flac", "wav": "audio/wav", "pcm": "audio/pcm"}
	ctype, ok := types[req.ResponseFormat]
	if !ok {
		s.writeError(w, r, 400, "invalid_request_error", fmt.Sprintf("Invalid value for 'response_format': %q.", req.ResponseFormat))
		return
	}
	audio := "MOCKAUDIO from " + s.opts.Name + ": " + req.Input
	if req.StreamFormat == "sse" {
		var events []any
		for _, wd := range strings.SplitAfter(audio, " ") {
			events = append(events, map[string]any{"type": "speech.audio.delta", "audio": base64.StdEncoding.EncodeToString([]byte(wd))})
		}
		events = append(events, map[string]any{"type": "speech.audio.done",
			"usage": map[string]any{"input_tokens": tokens(req.Input), "output_tokens": len(events), "total_tokens": tokens(req.Input) + len(events)}})
		s.streamEvents(newSSE(w), r, f, events, func() {})
		return
	}
	w.Header().Set("Content-Type", ctype)
	_, _ = io.WriteString(w, audio)
}

// images serves /v1/images/generations: n (default 1) images, as URLs or
// base64 (response_format b64_json), that name the mock.
func (s *Server) images(w http.ResponseWriter, r *http.Request, f Faults) {
	var req struct {
		Model          string `json:"model"`
		Prompt         string `json:"prompt"`
		N              int    `json:"n"`
		ResponseFormat string `json:"response_format"`
		Stream         bool   `json:"stream"`
		PartialImages  int    `json:"partial_images"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Prompt == "" {
		s.writeError(w, r, 400, "invalid_request_error", "Missing required parameter: 'prompt'.")
		return
	}
	if req.Stream {
		s.streamImage(w, r, f, "image_generation", req.Prompt, req.PartialImages)
		return
	}
	s.writeImages(w, req.Prompt, req.N, req.ResponseFormat)
}

// streamImage streams one image as gpt-image models do (stream: true):
// partial images (at most 3), then the image, as base64, in events of
// kind ("image_generation" or "image_edit").
func (s *Server) streamImage(w http.ResponseWriter, r *http.Request, f Faults, kind, prompt string, partials int) {
	var events []any
	for i := range min(partials, 3) {
		events = append(events, map[string]any{"type": kind + ".partial_image", "partial_image_index": i,
			"b64_json": "TU9DS1BBUlRJQUw=", "created_at": s.now().Unix()}) // "MOCKPARTIAL"
	}
	events = append(events, map[string]any{"type": kind + ".completed", "b64_json": "TU9DS0lNQUdF", "created_at": s.now().Unix(),
		"revised_prompt": prompt + " (from " + s.opts.Name + ")",
		"usage":          map[string]any{"input_tokens": tokens(prompt), "output_tokens": 1056, "total_tokens": tokens(prompt) + 1056}})
	s.streamEvents(newSSE(w), r, f, events, func() {})
}

// imageEdits serves /v1/images/edits and /variations: a form with the
// image (or several, as image[]) and, for an edit, the prompt; or, for an
// edit, JSON with the images by URL. The answer is images as from
// generations, revised_prompt naming how many images came.
func (s *Server) imageEdits(w http.ResponseWriter, r *http.Request, f Faults) {
	edit := strings.HasSuffix(r.URL.Path, "/edits")
	var prompt, format string
	var images, n, partials int
	var stream bool
	if media, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); edit && media == "application/json" {
		var req struct {
			Prompt         string            `json:"prompt"`
			Images         []json.RawMessage `json:"images"`
			N              int               `json:"n"`
			ResponseFormat string            `json:"response_format"`
			Stream         bool              `json:"stream"`
			PartialImages  int               `json:"partial_images"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			s.writeError(w, r, 400, "invalid_request_error", "We could not parse the JSON body of your request.")
			return
		}
		prompt, images, n, format = req.Prompt, len(req.Images), req.N, req.ResponseFormat
		stream, partials = req.Stream, req.PartialImages
	} else {
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			s.writeError(w, r, 400, "invalid_request_error", "Could not parse multipart form: "+err.Error())
			return
		}
		prompt, format = r.FormValue("prompt"), r.FormValue("response_format")
		n, _ = strconv.Atoi(r.FormValue("n"))
		partials, _ = strconv.Atoi(r.FormValue("partial_images"))
		stream = r.FormValue("stream") == "true"
		images = len(r.MultipartForm.File["image"]) + len(r.MultipartForm.File["image[]"])
	}
	switch {
	case images == 0:
		s.writeError(w, r, 400, "invalid_request_error", "Missing required parameter: 'image'.")
		return
	case edit && prompt == "":
		s.writeError(w, r, 400, "invalid_request_error", "Missing required parameter: 'prompt'.")
		return
	case !edit:
		prompt = "a variation"
	}
	if edit && stream {
		s.streamImage(w, r, f, "image_edit", fmt.Sprintf("%s (of %d images)", prompt, images), partials)
		return
	}
	s.writeImages(w, fmt.Sprintf("%s (of %d images)", prompt, images), n, format)
}

// writeImages writes n (at least 1) images, as URLs or base64
// (response_format b64_json), that name the mock.
func (s *Server) writeImages(w http.ResponseWriter, revised string, n int, format string) {
	var data []any
	for i := 0; i < max(n, 1); i++ {
		img := map[string]any{"revised_prompt": revised}
		if format == "b64_json" {
			img["b64_json"] = "TU9DS0lNQUdF" // "MOCKIMAGE"
		} else {
			img["url"] = fmt.Sprintf("https://images.mock/%s/%d.png", strings.ReplaceAll(s.opts.Name, " ", "-"), i)
		}
		data = append(data, img)
	}
	writeJSON(w, 200, map[string]any{"created": s.now().Unix(), "data": data})
}

// moderationCategories are the categories of OpenAI's moderation
// results; the mock flags an input under one when the input names it
// ("violence" is flagged as violence), so that tests can script both.
var moderationCategories = []string{"harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
	"illicit/violent", "self-harm", "self-harm/instructions", "self-harm/intent", "sexual", "sexual/minors", "violence", "violence/graphic"}

// moderations serves /v1/moderations: one result per input (a string,
// an array of strings, or of text and image parts), with the model it was
// asked for (omni-moderation-latest when none).
func (s *Server) moderations(w http.ResponseWriter, r *http.Request, _ Faults) {
	var req struct {
		Model string          `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Input) == 0 {
		s.writeError(w, r, 400, "invalid_request_error", "Missing required parameter: 'input'.")
		return
	}
	var one string
	var many []json.RawMessage
	if json.Unmarshal(req.Input, &one) == nil {
		many = []json.RawMessage{req.Input}
	} else if json.Unmarshal(req.Input, &many) != nil || len(many) == 0 {
		s.writeError(w, r, 400, "invalid_request_error", "Invalid type for 'input': expected a string or an array.")
		return
	}
	var results []any
	for _, in := range many {
		var text string
		if json.Unmarshal(in, &text) != nil {
			var part struct {
				Text string `json:"text"`
			}
			_ = json.Unmarshal(in, &part) // an image part flags nothing
			text = part.Text
		}
		categories, scores, flagged := map[string]bool{}, map[string]float64{}, false
		for _, c := range moderationCategories {
			hit := strings.Contains(strings.ToLower(text), c)
			categories[c], scores[c], flagged = hit, 0.0001, flagged || hit
			if hit {
				scores[c] = 0.99
			}
		}
		results = append(results, map[string]any{"flagged": flagged, "categories": categories, "category_scores": scores})
	}
	writeJSON(w, 200, map[string]any{"id": fmt.Sprintf("modr-%d", s.ids.Add(1)), "model": cmp.Or(req.Model, "omni-moderation-latest"), "results": results})
}

// rerank serves Cohere's rerank API (/v1/rerank, /v2/rerank; Jina's and
// vLLM's take the same request): the documents (strings, or objects with
// text) ordered by how many of the query's words each holds, the top_n
// first, with their index and score (and the document, with
// return_documents).
func (s *Server) rerank(w http.ResponseWriter, r *http.Request, _ Faults) {
	var req struct {
		Model           string            `json:"model"`
		Query           string            `json:"query"`
		Documents       []json.RawMessage `json:"documents"`
		TopN            int               `json:"top_n"`
		ReturnDocuments bool              `json:"return_documents"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Query == "" || len(req.Documents) == 0 {
		s.writeError(w, r, 400, "invalid_request_error", "Missing required parameter: 'query' or 'documents'.")
		return
	}
	words := strings.Fields(strings.ToLower(req.Query))
	type result struct {
		Index    int            `json:"index"`
		Score    float64        `json:"relevance_score"`
		Document map[string]any `json:"document,omitempty"`
	}
	results := make([]result, len(req.Documents))
	for i, raw := range req.Documents {
		var text string
		if json.Unmarshal(raw, &text) != nil {
			var doc struct {
				Text string `json:"text"`
			}
			_ = json.Unmarshal(raw, &doc)
			text = doc.Text
		}
		hits := 0
		for _, wd := range words {
			if strings.Contains(strings.ToLower(text), wd) {
				hits++
			}
		}
		results[i] = result{Index: i, Score: float64(hits) / float64(max(len(words), 1))}
		if req.ReturnDocuments {
			results[i].Document = map[string]any{"text": text}
		}
	}
	slices.SortStableFunc(results, func(a, b result) int { return cmp.Compare(b.Score, a.Score) })
	if req.TopN > 0 && req.TopN < len(results) {
		results = results[:req.TopN]
	}
	writeJSON(w, 200, map[string]any{"id": fmt.Sprintf("rerank-%d", s.ids.Add(1)), "model": req.Model, "results": results,
		"meta": map[string]any{"billed_units": map[string]any{"search_units": 1}}})
}
