package mockllm

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The mock serves Vertex AI's paths: Claude's rawPredict and
// streamRawPredict (the model in the path, anthropic_version in the body,
// which must not name the model), count-tokens, and the OpenAI-compatible
// API's chat completions.
func TestVertexPaths(t *testing.T) {
	_, url := newMock(t, Options{Name: "v"})
	const models = "/v1/projects/p/locations/us-east5/publishers/anthropic/models/"
	for _, tc := range []struct {
		name, path, body string
		status           int
		want             string
	}{
		{"rawPredict", models + "claude-sonnet-4@20250514:rawPredict", `{"anthropic_version":"vertex-2023-10-16","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}`,
			200, `"model":"claude-sonnet-4@20250514"`},
		{"streamRawPredict", models + "claude-sonnet-4@20250514:streamRawPredict", `{"anthropic_version":"vertex-2023-10-16","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}`,
			200, "event: message_stop"},
		{"a model in the body", models + "claude-sonnet-4:rawPredict", `{"anthropic_version":"vertex-2023-10-16","model":"x","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}`,
			400, "Extra inputs are not permitted"},
		{"no anthropic_version", models + "claude-sonnet-4:rawPredict", `{"max_tokens":9,"messages":[{"role":"user","content":"hi"}]}`, 400, "anthropic_version"},
		{"count-tokens", models + "count-tokens:rawPredict", `{"anthropic_version":"vertex-2023-10-16","model":"claude-sonnet-4","messages":[{"role":"user","content":"hi"}]}`,
			200, `"input_tokens"`},
		{"the OpenAI-compatible API", "/v1/projects/p/locations/us-central1/endpoints/openapi/chat/completions", chatBody, 200, "Hello from v"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(url+tc.path, "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(data), tc.want) {
				t.Fatalf("%d %s", resp.StatusCode, data)
			}
		})
	}
}
