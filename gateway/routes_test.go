package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/breakerd/breakerd/mockllm"
)

// LiteLLM's allowed_routes and public_routes: the routes listed (with or
// without /v1, or under a /path/*) are served, any other API route is
// LiteLLM's 403 once the key is checked; a public route needs no key.
func TestRouteControls(t *testing.T) {
	mock := httptest.NewServer(mockllm.New(mockllm.Options{Name: "m"}).Handler())
	defer mock.Close()
	url := serveGateway(t, `
model_list:
  - model_name: m
    litellm_params: {model: openai/my-model, api_base: "`+mock.URL+`/v1", api_key: sk-upstream-key}
general_settings:
  master_key: sk-master-key-0123456789
  allowed_routes: [/chat/completions, /models, "/files/*", LiteLLMRoutes.public_routes]
  public_routes: [/v1/models]
`)
	ctx := context.Background()
	client := openai.NewClient(option.WithBaseURL(url+"/v1"), option.WithAPIKey("sk-master-key-0123456789"), option.WithMaxRetries(0))
	if _, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "m",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}); err != nil {
		t.Fatalf("an allowed route: %v", err)
	}
	if _, err := client.Files.List(ctx, openai.FileListParams{}); err != nil {
		t.Fatalf("a route under an allowed prefix: %v", err)
	}
	_, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "m", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")}})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden || !strings.Contains(apiErr.Message, "Route /v1/embeddings not allowed") {
		t.Fatalf("a route not allowed: %v", err)
	}
	for _, tc := range []struct {
		name, method, path string
		want               int
	}{
		{"a public route, no key", "GET", "/v1/models", 200},
		{"a route not public, no key", "POST", "/v1/chat/completions", 401},
		{"a route not allowed, no key: the key first", "POST", "/v1/embeddings", 401},
	} {
		req, _ := http.NewRequest(tc.method, url+tc.path, strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"x"}]}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
}
