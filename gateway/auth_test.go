package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

const masterKey = "sk-master-0123456789"

// With general_settings.master_key set, as in LiteLLM, API calls need the
// key; anything else is OpenAI's 401 and reaches no upstream.
func TestMasterKeyGuardsTheAPI(t *testing.T) {
	e := newEnv(t, twoGroups+"general_settings:\n  master_key: "+masterKey+"\n", "primary", "backup")
	chat := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`
	tests := []struct {
		name    string
		method  string
		path    string
		header  http.Header
		status  int
		wantMsg string
	}{
		{"the key as a bearer token", "POST", "/v1/chat/completions", http.Header{"Authorization": {"Bearer " + masterKey}}, 200, ""},
		{"the key in an api-key header", "POST", "/v1/chat/completions", http.Header{"Api-Key": {masterKey}}, 200, ""},
		{"no key", "POST", "/v1/chat/completions", nil, 401, "You didn't provide an API key"},
		{"a wrong key", "POST", "/v1/chat/completions", http.Header{"Authorization": {"Bearer sk-wrong-guess-123"}}, 401, "Incorrect API key"},
		{"the key without the Bearer scheme", "POST", "/v1/chat/completions", http.Header{"Authorization": {masterKey}}, 401, "Incorrect API key"},
		{"a prefix of the key", "POST", "/v1/chat/completions", http.Header{"Authorization": {"Bearer " + masterKey[:10]}}, 401, "Incorrect API key"},
		{"listing models needs the key too", "GET", "/v1/models", nil, 401, "You didn't provide an API key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.mocks["primary"].Stats().Requests
			req, err := http.NewRequest(tt.method, e.url+tt.path, strings.NewReader(chat))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header[k] = v
			}
			resp, err := e.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status == 200 {
				return
			}
			var m struct {
				Error struct{ Message, Type, Code string }
			}
			if err := json.Unmarshal(body, &m); err != nil || m.Error.Code != "invalid_api_key" || !strings.Contains(m.Error.Message, tt.wantMsg) {
				t.Fatalf("body %s, want OpenAI's invalid_api_key error saying %q", body, tt.wantMsg)
			}
			if strings.Contains(string(body), "sk-wrong-guess") || strings.Contains(string(body), masterKey[:10]) {
				t.Fatalf("the 401 echoes a key: %s", body)
			}
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Fatal("no WWW-Authenticate header on the 401")
			}
			if got := e.mocks["primary"].Stats().Requests; got != before {
				t.Fatalf("a refused request reached the upstream (%d calls)", got-before)
			}
		})
	}

	// The official SDK, given the key as its API key, just works; without
	// it, it sees the 401 as an *openai.Error.
	with := openai.NewClient(option.WithBaseURL(e.url+"/v1/"), option.WithAPIKey(masterKey),
		option.WithMaxRetries(0), option.WithHTTPClient(e.http))
	if _, err := with.Models.Get(context.Background(), "gpt-4o-mini"); err != nil {
		t.Fatalf("SDK with the master key: %v", err)
	}
	_, err := e.client.Models.Get(context.Background(), "gpt-4o-mini")
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Code != "invalid_api_key" {
		t.Fatalf("SDK with another key: %v, want a 401 invalid_api_key", err)
	}
}

func TestNoMasterKeyLetsEveryoneIn(t *testing.T) {
	e := newEnv(t, twoGroups, "primary", "backup")
	if _, _, err := e.chat("gpt-4o-mini"); err != nil { // e.client sends "sk-client"
		t.Fatal(err)
	}
}
