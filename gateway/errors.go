package gateway

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/breakerd/breakerd/provider"
)

// apiError is OpenAI's error body.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// writeError writes an OpenAI-shaped error.
func writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	writeAPIError(w, provider.APIChat, status, typ, code, msg)
}

func writeJSONResponse(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// anthropicErrorTypes maps an HTTP status to the error type Anthropic's
// API uses for it, for errors on /v1/messages.
func anthropicErrorType(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusForbidden:
		return "permission_error"
	case status == http.StatusNotFound:
		return "not_found_error"
	case status == http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status == 529:
		return "overloaded_error"
	case status >= 500:
		return "api_error"
	}
	return "invalid_request_error"
}

// writeAPIError writes an error in the shape of the client's API:
// Anthropic's {"type":"error","error":{type, message}} on /v1/messages,
// OpenAI's elsewhere.
func writeAPIError(w http.ResponseWriter, api provider.API, status int, typ, code, msg string) {
	writeJSONBytes(w, status, encodeAPIError(api, status, typ, code, msg))
}

// encodeAPIError returns the body writeAPIError writes.
func encodeAPIError(api provider.API, status int, typ, code, msg string) []byte {
	var v any
	if api == provider.APIMessages {
		v = map[string]any{"type": "error", "error": map[string]string{"type": anthropicErrorType(status), "message": msg}}
	} else {
		body := apiError{Error: apiErrorBody{Message: msg, Type: typ}}
		if code != "" {
			body.Error.Code = &code
		}
		v = body
	}
	data, _ := json.Marshal(v) // strings and maps of strings always encode
	return append(data, '\n')
}

// writeJSONBytes writes an encoded JSON body with its status.
func writeJSONBytes(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// apiOf tells the client's API from its request, for errors written
// before (or without) reading a body: the Messages API's paths, and the
// models calls of an Anthropic SDK, which sends anthropic-version with
// every call.
func apiOf(r *http.Request) provider.API {
	p := r.URL.Path
	switch {
	case strings.HasSuffix(strings.TrimSuffix(p, "/count_tokens"), "/messages"):
		return provider.APIMessages
	case (strings.HasPrefix(p, "/v1/models") || strings.HasPrefix(p, "/models")) && r.Header.Get("anthropic-version") != "":
		return provider.APIMessages
	}
	return provider.APIChat
}
