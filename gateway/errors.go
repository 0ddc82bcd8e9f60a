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

// apiOfPath tells the client API from a request path, for errors written
// before a handler runs (a missing key).
func apiOfPath(path string) provider.API {
	if strings.HasSuffix(strings.TrimSuffix(path, "/count_tokens"), "/messages") {
		return provider.APIMessages
	}
	return provider.APIChat
}
