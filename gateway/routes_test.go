package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
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

// LiteLLM's allowed_ips: a client whose address is in none of the ranges
// gets LiteLLM's 403, before its key is checked; with use_x_forwarded_for
// the address is the last one in X-Forwarded-For, which the proxy in
// front added (the ones before it a client may forge).
func TestAllowedIPs(t *testing.T) {
	mock := httptest.NewServer(mockllm.New(mockllm.Options{Name: "m"}).Handler())
	defer mock.Close()
	const key = "sk-master-key-0123456789"
	config := func(settings string) string {
		return `
model_list:
  - model_name: m
    litellm_params: {model: openai/my-model, api_base: "` + mock.URL + `/v1", api_key: sk-upstream-key}
general_settings:
  master_key: ` + key + `
  ` + settings + "\n"
	}
	for _, tc := range []struct {
		name, settings string
		forwarded      []string // X-Forwarded-For lines
		noKey          bool
		want           int
		message        string
	}{
		{name: "loopback allowed", settings: "allowed_ips: [127.0.0.1]", want: 200},
		{name: "in an allowed range", settings: "allowed_ips: [10.0.0.0/8, 127.0.0.0/8]", want: 200},
		{name: "in no allowed range", settings: "allowed_ips: [10.0.0.0/8, '::1']", want: 403,
			message: "Access forbidden: IP address 127.0.0.1 not allowed."},
		{name: "refused before the key is asked", settings: "allowed_ips: [10.0.0.0/8]", noKey: true, want: 403},
		{name: "allowed, without a key: the key's 401", settings: "allowed_ips: [127.0.0.1]", noKey: true, want: 401},
		{name: "X-Forwarded-For not read unless asked", settings: "allowed_ips: [192.0.2.7]", forwarded: []string{"192.0.2.7"}, want: 403},
		{name: "the forwarded address", settings: "allowed_ips: [192.0.2.0/24]\n  use_x_forwarded_for: true", forwarded: []string{"192.0.2.7"}, want: 200},
		{name: "the last forwarded address, not one a client forged before it", settings: "allowed_ips: [192.0.2.0/24]\n  use_x_forwarded_for: true",
			forwarded: []string{"192.0.2.7, 198.51.100.9"}, want: 403, message: "IP address 198.51.100.9 not allowed"},
		{name: "the last line's last address", settings: "allowed_ips: [192.0.2.0/24]\n  use_x_forwarded_for: true",
			forwarded: []string{"198.51.100.9", "10.0.0.1, 192.0.2.8"}, want: 200},
		{name: "no X-Forwarded-For", settings: "allowed_ips: [127.0.0.1]\n  use_x_forwarded_for: true", want: 403,
			message: "no X-Forwarded-For header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := serveGateway(t, config(tc.settings))
			opts := []option.RequestOption{option.WithBaseURL(url + "/v1"), option.WithMaxRetries(0)}
			if tc.noKey {
				opts = append(opts, option.WithHeaderDel("Authorization"))
			} else {
				opts = append(opts, option.WithAPIKey(key))
			}
			for _, v := range tc.forwarded {
				opts = append(opts, option.WithHeaderAdd("X-Forwarded-For", v))
			}
			client := openai.NewClient(opts...)
			_, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "m",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
			status := 200
			var apiErr *openai.Error
			if errors.As(err, &apiErr) {
				status = apiErr.StatusCode
			} else if err != nil {
				t.Fatal(err)
			}
			if status != tc.want || tc.message != "" && !strings.Contains(apiErr.Message, tc.message) {
				t.Fatalf("%d (%v), want %d and %q", status, err, tc.want, tc.message)
			}
		})
	}
}

// The official Anthropic SDK meets allowed_ips' 403 as Anthropic's own
// permission_error.
func TestAllowedIPsWithAnthropicsSDK(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-3-5-sonnet-20241022, api_base: "${MOCK_A}", api_key: sk-ant-secret-key}
general_settings:
  allowed_ips: [10.0.0.0/8]
`, "a")
	client := e.anthropicClient()
	_, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{Model: "claude", MaxTokens: 10,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden || !strings.Contains(apiErr.RawJSON(), `"permission_error"`) ||
		!strings.Contains(apiErr.RawJSON(), "Access forbidden: IP address 127.0.0.1 not allowed.") || e.mocks["a"].Stats().Requests != 0 {
		t.Fatalf("err %v: want Anthropic's 403 permission_error, and no upstream call", err)
	}
}
