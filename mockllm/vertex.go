package mockllm

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// vertexAnthropic serves Claude on Vertex AI
// (POST .../publishers/anthropic/models/{model}:rawPredict, and
// :streamRawPredict for a stream): Anthropic's Messages API with the model
// in the path, not the body, and anthropic_version in the body
// (vertex-2023-10-16), not a header. It answers as messages does; and
// count-tokens:rawPredict (the model in the body) as count_tokens does.
func (s *Server) vertexAnthropic(w http.ResponseWriter, r *http.Request, f Faults) {
	model, method, _ := strings.Cut(r.PathValue("model"), ":")
	var body map[string]json.RawMessage
	data, _ := io.ReadAll(r.Body)
	if json.Unmarshal(data, &body) != nil {
		s.writeError(w, r, 400, "invalid_request_error", "invalid JSON")
		return
	}
	var version string
	_ = json.Unmarshal(body["anthropic_version"], &version)
	switch {
	case method != "rawPredict" && method != "streamRawPredict":
		s.writeError(w, r, 404, "not_found_error", "unknown method "+method)
		return
	case version != "vertex-2023-10-16":
		s.writeError(w, r, 400, "invalid_request_error", "anthropic_version: vertex-2023-10-16 is required in the body")
		return
	case model == "count-tokens": // the model is in the body there
		delete(body, "anthropic_version")
		data, _ = json.Marshal(body)
		r.Body = io.NopCloser(bytes.NewReader(data))
		r.Header.Set("anthropic-version", "2023-06-01")
		s.countTokens(w, r, f)
		return
	case body["model"] != nil:
		s.writeError(w, r, 400, "invalid_request_error", "model: Extra inputs are not permitted")
		return
	}
	delete(body, "anthropic_version")
	body["model"], _ = json.Marshal(model)
	body["stream"], _ = json.Marshal(method == "streamRawPredict")
	data, _ = json.Marshal(body)
	r.Body = io.NopCloser(bytes.NewReader(data))
	r.Header.Set("anthropic-version", "2023-06-01")
	s.messages(w, r, f)
}
