package mockllm

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The mock's watsonx.ai refuses what watsonx.ai refuses, in its own error
// format: IAM a key it does not know; the chat API a request without an
// IAM token it granted, without ?version=, without model_id and a
// project, or with tool_choice as a string. A request with all of these
// is answered.
func TestWatsonxRefusals(t *testing.T) {
	m, base := newMock(t, Options{Name: "wx", APIKey: "ibm-key-1"})
	grant := func(key string) (int, map[string]any) {
		resp, err := http.PostForm(base+"/identity/token", url.Values{"grant_type": {"urn:ibm:params:oauth:grant-type:apikey"}, "apikey": {key}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if status, out := grant("ibm-key-other"); status != 400 || out["errorCode"] != "BXNIM0415E" {
		t.Fatalf("a key IAM does not know: %d %v", status, out)
	}
	status, out := grant("ibm-key-1")
	token, _ := out["access_token"].(string)
	if status != 200 || token == "" || out["expires_in"] != 3600.0 || m.Stats().IAMTokens != 1 {
		t.Fatalf("the key: %d %v", status, out)
	}
	const good = `{"model_id":"ibm/granite","project_id":"p","messages":[{"role":"user","content":"hi"}]}`
	for _, tc := range []struct {
		name, path, auth, body string
		status                 int
		code                   string
	}{
		{"no token", "/ml/v1/text/chat?version=2024-03-13", "", good, 401, "authentication_token_not_valid"},
		{"the API key as a token", "/ml/v1/text/chat?version=2024-03-13", "Bearer ibm-key-1", good, 401, "authentication_token_not_valid"},
		{"no version", "/ml/v1/text/chat", "Bearer " + token, good, 400, "missing_version"},
		{"no model_id", "/ml/v1/text/chat?version=2024-03-13", "Bearer " + token, `{"model":"ibm/granite","project_id":"p","messages":[]}`, 400, "json_validation_error"},
		{"no project", "/ml/v1/text/chat?version=2024-03-13", "Bearer " + token, `{"model_id":"ibm/granite","messages":[]}`, 400, "invalid_request_entity"},
		{"tool_choice a string", "/ml/v1/text/chat?version=2024-03-13", "Bearer " + token,
			`{"model_id":"ibm/granite","project_id":"p","tool_choice":"auto","messages":[{"role":"user","content":"hi"}]}`, 400, "json_type_error"},
		{"all there", "/ml/v1/text/chat?version=2024-03-13", "Bearer " + token, good, 200, ""},
		{"a deployment: no model_id", "/ml/v1/deployments/dep-1/text/chat?version=2024-03-13", "Bearer " + token,
			`{"messages":[{"role":"user","content":"hi"}]}`, 200, ""},
	} {
		req, _ := http.NewRequest(http.MethodPost, base+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var got struct {
			Errors []struct{ Code, Message string } `json:"errors"`
			Model  string                           `json:"model"`
		}
		_ = json.Unmarshal(data, &got)
		switch {
		case resp.StatusCode != tc.status:
			t.Errorf("%s: %d %s, want %d", tc.name, resp.StatusCode, data, tc.status)
		case tc.code != "" && (len(got.Errors) != 1 || got.Errors[0].Code != tc.code || got.Errors[0].Message == ""):
			t.Errorf("%s: %s, want watsonx.ai's error %s", tc.name, data, tc.code)
		case tc.code == "" && got.Model == "":
			t.Errorf("%s: %s, want an answer naming its model", tc.name, data)
		}
	}
}
