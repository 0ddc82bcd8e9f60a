package mockllm

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
)

// vertexAnthropic serves Claude on Vertex AI
// (POST .../publishers/anthropic/models/{model}:rawPredict, and
// :streamRawPredict for a stream): Anthropic's Messages API with the model
// in the path, not the body, and anthropic_version in the body
// (vertex-2023-10-16), not a header. It answers as messages does; and
// count-tokens:rawPredict (the model in the body) as count_tokens does.
// firstPartyBetas are anthropic-beta values only Anthropic's own API
// takes, which Vertex AI and Bedrock refuse with a 400 (those Claude
// Code sends that reports of 2025-2026 show refused).
var firstPartyBetas = []string{"advanced-tool-use-2025-11-20", "prompt-caching-scope-2026-01-05", "thinking-token-count-2026-05-13",
	"tool-examples-2025-10-29"}

// foreignBetas returns those of betas that are Anthropic's API's alone.
func foreignBetas(betas []string) []string {
	var out []string
	for _, b := range betas {
		if b = strings.TrimSpace(b); slices.Contains(firstPartyBetas, b) {
			out = append(out, b)
		}
	}
	return out
}

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
	if refused := foreignBetas(strings.Split(r.Header.Get("anthropic-beta"), ",")); len(refused) > 0 {
		s.writeError(w, r, 400, "invalid_request_error", "Unexpected value(s) `"+strings.Join(refused, "`, `")+
			"` for the `anthropic-beta` header. Please consult our documentation at docs.anthropic.com or try again without the header.")
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
