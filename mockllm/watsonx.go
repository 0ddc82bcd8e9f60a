package mockllm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// IBM watsonx.ai as the mock plays it: IBM Cloud IAM's token endpoint,
// which trades an API key for a bearer token, and watsonx.ai's chat API
// (/ml/v1/text/chat and chat_stream, or a deployment's), which takes only
// tokens the mock granted (or a Cloud Pak's ZenApiKey), needs ?version=,
// and takes the model as model_id with its project_id or space_id.
// Streams are watsonx.ai's: each event an id and "event: message", and no
// [DONE]. Errors are watsonx.ai's {"errors": [...]}.

// iamToken serves IAM's POST /identity/token: with Options.APIKey set,
// only that key gets a token.
func (s *Server) iamToken(w http.ResponseWriter, r *http.Request) {
	iamError := func(status int, code, msg string) {
		writeJSON(w, status, map[string]any{"errorCode": code, "errorMessage": msg, "context": map[string]string{"requestId": "mock"}})
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ibm:params:oauth:grant-type:apikey" {
		iamError(http.StatusBadRequest, "BXNIM0109E", "Property missing or empty. Operation not allowed.")
		return
	}
	key := r.PostForm.Get("apikey")
	s.mu.Lock()
	want := s.opts.APIKey
	s.mu.Unlock()
	if key == "" || want != "" && key != want {
		iamError(http.StatusBadRequest, "BXNIM0415E", "Provided API key could not be found.")
		return
	}
	token := fmt.Sprintf("iam-mock-%d", s.ids.Add(1))
	s.iamTokens.Store(token, key)
	s.stats.iamTokens.Add(1)
	writeJSON(w, http.StatusOK, map[string]any{"access_token": token, "refresh_token": "not_supported", "token_type": "Bearer",
		"expires_in": 3600, "scope": "ibm openid"})
}

// watsonxChat serves watsonx.ai's chat API in the mock's chat, as the
// OpenAI request it stands for.
func (s *Server) watsonxChat(w http.ResponseWriter, r *http.Request, f Faults) {
	if !s.watsonxAdmits(w, r) {
		return
	}
	var body map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		s.writeErrorCode(w, r, http.StatusBadRequest, "invalid_request_error", "json_validation_error", "Json document validation error: "+err.Error())
		return
	}
	model := r.PathValue("deployment")
	if model == "" {
		if err := json.Unmarshal(body["model_id"], &model); err != nil || model == "" {
			s.writeErrorCode(w, r, http.StatusBadRequest, "invalid_request_error", "json_validation_error",
				"Json document validation error: 'model_id' is a required property")
			return
		}
		if body["project_id"] == nil && body["space_id"] == nil {
			s.writeErrorCode(w, r, http.StatusBadRequest, "invalid_request_error", "invalid_request_entity",
				"Either 'project_id' or 'space_id' must be specified")
			return
		}
	}
	var choice string
	if json.Unmarshal(body["tool_choice"], &choice) == nil {
		s.writeErrorCode(w, r, http.StatusBadRequest, "invalid_request_error", "json_type_error",
			"Json field type error: tool_choice must be of type TextChatParameterToolChoice; 'auto', 'none' and 'required' go in tool_choice_option")
		return
	}
	if c := body["tool_choice_option"]; c != nil {
		body["tool_choice"] = c // the chat mock's name for it
	}
	body["model"], _ = json.Marshal(model)
	if strings.HasSuffix(r.URL.Path, "/chat_stream") {
		body["stream"] = json.RawMessage("true")
		body["stream_options"] = json.RawMessage(`{"include_usage":true}`) // its last event's usage
		w = &watsonxStreamWriter{ResponseWriter: w}
	}
	b, _ := json.Marshal(body)
	r.Body = http.NoBody
	r2 := r.Clone(r.Context())
	r2.Body = readCloser{bytes.NewReader(b)}
	s.chat(w, r2, f)
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// watsonxStreamWriter turns the chat mock's SSE into watsonx.ai's: each
// event numbered and named message, and no [DONE].
type watsonxStreamWriter struct {
	http.ResponseWriter
	n int
}

func (w *watsonxStreamWriter) Write(p []byte) (int, error) {
	if w.Header().Get("Content-Type") != "text/event-stream" {
		return w.ResponseWriter.Write(p) // an error before the stream
	}
	data, ok := bytes.CutPrefix(p, []byte("data: "))
	if !ok || bytes.HasPrefix(data, []byte("[DONE]")) {
		return len(p), nil
	}
	w.n++
	if _, err := fmt.Fprintf(w.ResponseWriter, "id: %d\nevent: message\ndata: %s", w.n, data); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (w *watsonxStreamWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// watsonxEmbeddings serves watsonx.ai's /ml/v1/text/embeddings: inputs,
// model_id and project_id (or space_id), as the chat API wants its
// credentials and version; a vector per input, and input_token_count.
func (s *Server) watsonxEmbeddings(w http.ResponseWriter, r *http.Request, f Faults) {
	if !s.watsonxAdmits(w, r) {
		return
	}
	var req struct {
		Inputs    []string `json:"inputs"`
		ModelID   string   `json:"model_id"`
		ProjectID string   `json:"project_id"`
		SpaceID   string   `json:"space_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.ModelID == "" || len(req.Inputs) == 0 {
		s.writeErrorCode(w, r, http.StatusBadRequest, "invalid_request_error", "json_validation_error",
			"Json document validation error: 'model_id' and 'inputs' are required properties")
		return
	}
	if req.ProjectID == "" && req.SpaceID == "" {
		s.writeErrorCode(w, r, http.StatusBadRequest, "invalid_request_error", "invalid_request_entity", "Either 'project_id' or 'space_id' must be specified")
		return
	}
	results := make([]map[string]any, len(req.Inputs))
	total := 0
	for i, in := range req.Inputs {
		results[i] = map[string]any{"embedding": vector(in, 8)}
		total += tokens(in)
	}
	writeJSON(w, http.StatusOK, map[string]any{"model_id": req.ModelID, "results": results, "input_token_count": total,
		"created_at": "2026-01-01T00:00:00.000Z"})
}

// watsonxAdmits checks what watsonx.ai checks of every call, answering its
// error when one fails: ?version=, and an IAM token the mock granted (or a
// Cloud Pak's ZenApiKey).
func (s *Server) watsonxAdmits(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Query().Get("version") == "" {
		s.writeErrorCode(w, r, http.StatusBadRequest, "invalid_request_error", "missing_version", "Missing query parameter 'version'.")
		return false
	}
	auth := r.Header.Get("Authorization")
	token, bearer := strings.CutPrefix(auth, "Bearer ")
	if _, issued := s.iamTokens.Load(token); (!bearer || !issued) && !strings.HasPrefix(auth, "ZenApiKey ") {
		s.writeErrorCode(w, r, http.StatusUnauthorized, "authentication_error", "authentication_token_not_valid",
			"Failed to authenticate the request due to invalid token: Failed to parse and verify token")
		return false
	}
	return true
}
