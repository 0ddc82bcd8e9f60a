package gateway_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/provider"
)

// Every provider in the table that breakerd can call gets a chat request
// on the right path, with the key in the right header, from a config
// written as LiteLLM's docs write it (api_base pointing at a loopback
// server standing in for the provider).
func TestEveryProviderInTheTableRoutesChat(t *testing.T) {
	type seen struct{ path, auth, apiKey, xAPIKey, version string }
	for _, p := range config.Providers() {
		if p.Unsupported != "" || p.Vertex || p.SageMaker || p.Watsonx { // Vertex AI's tokens: TestVertexAITokens; SageMaker's signing: TestSageMakerEndpoints; watsonx.ai's: TestWatsonx
			continue
		}
		t.Run(p.Name, func(t *testing.T) {
			var mu sync.Mutex
			var got seen
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				got = seen{r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("api-key"), r.Header.Get("x-api-key"),
					r.URL.Query().Get("api-version")}
				mu.Unlock()
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/json")
				if strings.HasSuffix(r.URL.Path, "/converse") {
					_, _ = w.Write([]byte(`{"output":{"message":{"role":"assistant","content":[{"text":"hi"}]}},"stopReason":"end_turn","usage":{"inputTokens":1,"outputTokens":1}}`))
					return
				}
				if p.Dialect == config.DialectAnthropic {
					_, _ = w.Write([]byte(`{"id":"m","type":"message","role":"assistant","model":"x","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`))
					return
				}
				_, _ = w.Write([]byte(`{"id":"x","object":"chat.completion","model":"x","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`))
			}))
			defer upstream.Close()
			model := "some-model"
			if p.Bedrock { // Claude, with a Bedrock API key: TestClaudeOnBedrock signs
				model = "anthropic.some-model"
			}
			resp, _ := chatOnce(t, "model_list:\n  - model_name: m\n    litellm_params:\n      model: "+p.Name+"/"+model+"\n"+
				"      api_base: "+upstream.URL+"\n      api_key: key-for-"+p.Name+"\n")
			if resp.StatusCode != 200 || resp.Header.Get("X-Breakerd-Provider") != p.Name {
				t.Fatalf("status %d provider %q", resp.StatusCode, resp.Header.Get("X-Breakerd-Provider"))
			}
			key := "key-for-" + p.Name
			want := seen{path: p.PathSuffix + "/chat/completions", auth: "Bearer " + key}
			switch p.Dialect {
			case config.DialectAzure:
				want = seen{path: "/openai/deployments/some-model/chat/completions", apiKey: key, version: config.AzureDefaultAPIVersion}
			case config.DialectAnthropic:
				want = seen{path: "/v1/messages", xAPIKey: key}
			}
			if p.Bedrock {
				method := map[bool]string{false: "invoke", true: "converse"}[p.Name == "bedrock_converse"]
				want = seen{path: "/model/anthropic.some-model/" + method, auth: "Bearer " + key}
			}
			mu.Lock()
			defer mu.Unlock()
			if got != want {
				t.Fatalf("upstream saw %+v, want %+v", got, want)
			}
		})
	}
}

// litellm_params.headers and extra_headers reach the upstream with every
// call, in each dialect and API, set after breakerd's own (so a configured
// Authorization wins, and extra_headers' win over headers'). A
// credential header's value is scrubbed from what the upstream says back.
func TestConfiguredHeadersReachTheUpstream(t *testing.T) {
	const secret = "gw-secret-0123456789"
	for _, tc := range []struct{ provider, path, body string }{
		{"openai", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`},
		{"azure", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`},
		{"anthropic", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`},
		{"anthropic", "/v1/messages", `{"model":"m","max_tokens":8,"messages":[{"role":"user","content":"x"}]}`},
	} {
		t.Run(tc.provider+tc.path, func(t *testing.T) {
			var mu sync.Mutex
			var got http.Header
			var fail atomic.Bool
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				got = r.Header.Clone()
				mu.Unlock()
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/json")
				if fail.Load() {
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","message":"X-Gateway-Key ` + secret + ` is not allowed here, from breakerd tests"}}`))
					return
				}
				if tc.provider == "anthropic" {
					_, _ = w.Write([]byte(`{"id":"m","type":"message","role":"assistant","model":"x","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`))
					return
				}
				_, _ = w.Write([]byte(`{"id":"x","object":"chat.completion","model":"x","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`))
			}))
			defer upstream.Close()
			url := serveGateway(t, "model_list:\n  - model_name: m\n    litellm_params:\n      model: "+tc.provider+"/some-model\n"+
				"      api_base: "+upstream.URL+"\n      api_key: key-for-the-provider\n"+
				"      headers: {x-title: breakerd tests, X-Gateway-Key: overridden, Authorization: Bearer from-config}\n"+
				"      extra_headers: {X-Gateway-Key: "+secret+", X-Priority: 1}\n")
			hc := &http.Client{Transport: &http.Transport{}}
			defer hc.CloseIdleConnections()
			post := func() (int, string) {
				resp, err := hc.Post(url+tc.path, "application/json", strings.NewReader(tc.body))
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				data, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(data)
			}
			if code, body := post(); code != 200 {
				t.Fatalf("status %d: %s", code, body)
			}
			mu.Lock()
			for name, want := range map[string]string{"X-Title": "breakerd tests", "X-Gateway-Key": secret, "X-Priority": "1",
				"Authorization": "Bearer from-config", "Content-Type": "application/json"} {
				if v := got.Values(name); len(v) != 1 || v[0] != want {
					t.Errorf("upstream got %s: %q, want %q", name, v, want)
				}
			}
			mu.Unlock()
			fail.Store(true)
			// A credential's value is scrubbed; an app's title is not.
			if code, body := post(); code != http.StatusBadRequest || strings.Contains(body, secret) || !strings.Contains(body, "[REDACTED]") ||
				!strings.Contains(body, "from breakerd tests") {
				t.Fatalf("status %d, body %s: want the upstream's 400 with the key header's value scrubbed, the title's kept", code, body)
			}
		})
	}
}

// Azure OpenAI's v1 API (api_version v1, latest or preview, as LiteLLM
// reads them): OpenAI's paths under /openai/v1, the deployment as the
// body's model, no dated api-version (preview asks for the v1 API's
// preview features).
func TestAzureV1API(t *testing.T) {
	for _, tc := range []struct{ version, path, query string }{
		{"v1", "/openai/v1/chat/completions", ""},
		{"latest", "/openai/v1/chat/completions", ""},
		{"preview", "/openai/v1/chat/completions", "api-version=preview"},
		{"2024-10-21", "/openai/deployments/prod-eu/chat/completions", "api-version=2024-10-21"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			var mu sync.Mutex
			var path, query, key, body string
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				path, query, key, body = r.URL.Path, r.URL.RawQuery, r.Header.Get("api-key"), string(b)
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"id":"x","object":"chat.completion","model":"x","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`))
			}))
			defer upstream.Close()
			resp, data := chatOnce(t, "model_list:\n  - model_name: m\n    litellm_params:\n      model: azure/prod-eu\n"+
				"      api_base: "+upstream.URL+"\n      api_key: azure-key-0123456789\n      api_version: \""+tc.version+"\"\n")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, data)
			}
			mu.Lock()
			defer mu.Unlock()
			if path != tc.path || query != tc.query || key != "azure-key-0123456789" || !strings.Contains(body, `"model":"prod-eu"`) {
				t.Fatalf("upstream saw %s?%s, api-key %q, body %s; want %s?%s, the key, and the deployment as model", path, query, key, body, tc.path, tc.query)
			}
		})
	}
}

// A request for a model group that is in the config, but none of whose
// deployments breakerd can call, gets a 404 that says so and why, not
// "does not exist".
func TestModelLeftOutSaysWhy(t *testing.T) {
	upstream := httptest.NewServer(http.NotFoundHandler())
	defer upstream.Close()
	resp, data := chatOnce(t, "model_list:\n  - model_name: m\n    litellm_params:\n      model: sagemaker/anthropic.claude-v2\n"+
		"  - model_name: other\n    litellm_params: {model: openai/x, api_base: "+upstream.URL+"}\n")
	if resp.StatusCode != 404 || !strings.Contains(string(data), "The model `m` is in breakerd's config, but breakerd can call none of its deployments: provider \\\"sagemaker\\\" needs its container's own request format") {
		t.Fatalf("status %d: %s", resp.StatusCode, data)
	}
}

// Azure OpenAI's paths for the Responses API's stored responses and for
// audio and images, with a dated api-version and with the v1 API.
func TestAzurePathsBeyondChat(t *testing.T) {
	for _, tc := range []struct {
		version, method, path, body, want string
	}{
		{"2025-04-01-preview", http.MethodGet, "/v1/responses/" + provider.EncodeResponseID("azure", "m/azure/prod-eu", "resp_1"), "",
			"/openai/responses/resp_1?api-version=2025-04-01-preview"},
		{"v1", http.MethodDelete, "/v1/responses/" + provider.EncodeResponseID("azure", "m/azure/prod-eu", "resp_1"), "", "/openai/v1/responses/resp_1"},
		{"preview", http.MethodGet, "/v1/responses/" + provider.EncodeResponseID("azure", "m/azure/prod-eu", "resp_1") + "/input_items?limit=5", "",
			"/openai/v1/responses/resp_1/input_items?api-version=preview&limit=5"},
		{"2025-04-01-preview", http.MethodPost, "/v1/images/generations", `{"model":"m","prompt":"a door"}`,
			"/openai/deployments/prod-eu/images/generations?api-version=2025-04-01-preview"},
		{"v1", http.MethodPost, "/v1/images/generations", `{"model":"m","prompt":"a door"}`, "/openai/v1/images/generations"},
	} {
		t.Run(tc.version+" "+tc.method+" "+strings.SplitN(tc.path, "/", 4)[2], func(t *testing.T) {
			var mu sync.Mutex
			var got string
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				got = r.URL.RequestURI()
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"id":"resp_1","object":"response","deleted":true,"data":[]}`))
			}))
			defer upstream.Close()
			mode := ""
			if strings.Contains(tc.path, "images") {
				mode = "    model_info: {mode: image_generation}\n"
			}
			url := serveGateway(t, "model_list:\n  - model_name: m\n    litellm_params:\n      model: azure/prod-eu\n"+
				"      api_base: "+upstream.URL+"\n      api_key: azure-key-0123456789\n      api_version: \""+tc.version+"\"\n"+mode)
			req, _ := http.NewRequest(tc.method, url+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			http.DefaultClient.CloseIdleConnections()
			mu.Lock()
			defer mu.Unlock()
			if resp.StatusCode != 200 || got != tc.want {
				t.Fatalf("status %d (%s); upstream saw %s, want %s", resp.StatusCode, data, got, tc.want)
			}
		})
	}
}

// A provider that knows OpenAI's max_completion_tokens as max_tokens (as
// LiteLLM's provider table says) gets it under that name, from the
// official SDK's request; OpenAI itself gets it as sent.
func TestParametersRenamedForTheProvider(t *testing.T) {
	for _, tc := range []struct{ model, want, not string }{
		{"chutes/deepseek-ai/DeepSeek-V3", `"max_tokens":64`, `max_completion_tokens`},
		{"openai/gpt-4o", `"max_completion_tokens":64`, `"max_tokens"`},
	} {
		e := newEnv(t, "model_list:\n  - model_name: m\n    litellm_params: {model: "+tc.model+", api_base: \"${MOCK_PRIMARY}/v1\", api_key: sk-provider-key}\n",
			"primary")
		if _, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "m",
			MaxCompletionTokens: openai.Int(64), Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}); err != nil {
			t.Fatalf("%s: %v", tc.model, err)
		}
		if body := e.mocks["primary"].LastBody(); !strings.Contains(body, tc.want) || strings.Contains(body, tc.not) {
			t.Errorf("%s: the upstream got %s, want %s and no %s", tc.model, body, tc.want, tc.not)
		}
	}
}

// Z.AI's GLM takes a tool result only as a string: one the official SDK
// sends as text parts reaches it joined; OpenAI gets the parts as sent.
func TestToolResultPartsFlattenedForGLM(t *testing.T) {
	for _, tc := range []struct{ model, want string }{
		{"zai/glm-4.6", `"content":"first\nsecond"`},
		{"openai/gpt-4o", `"content":[{"text":"first","type":"text"},{"text":"second","type":"text"}]`},
	} {
		e := newEnv(t, "model_list:\n  - model_name: m\n    litellm_params: {model: "+tc.model+", api_base: \"${MOCK_PRIMARY}/v1\", api_key: sk-provider-key}\n",
			"primary")
		call := openai.ChatCompletionMessageToolCallUnionParam{OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{ID: "call_1",
			Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: "lookup", Arguments: "{}"}}}
		msgs := []openai.ChatCompletionMessageParamUnion{openai.UserMessage("look it up"),
			{OfAssistant: &openai.ChatCompletionAssistantMessageParam{ToolCalls: []openai.ChatCompletionMessageToolCallUnionParam{call}}},
			openai.ToolMessage([]openai.ChatCompletionContentPartTextParam{{Text: "first"}, {Text: "second"}}, "call_1")}
		if _, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "m", Messages: msgs}); err != nil {
			t.Fatalf("%s: %v", tc.model, err)
		}
		if body := e.mocks["primary"].LastBody(); !strings.Contains(body, tc.want) {
			t.Errorf("%s: the upstream got %s, want %s", tc.model, body, tc.want)
		}
	}
}

// litellm_params.custom_user_agent is the User-Agent of the deployment's
// calls (a key its provider binds to a client); a User-Agent in headers
// wins.
func TestCustomUserAgentReachesTheUpstream(t *testing.T) {
	for _, tc := range []struct{ name, params, want string }{
		{"custom_user_agent", "      custom_user_agent: Claude Code/1.0\n", "Claude Code/1.0"},
		{"headers win", "      custom_user_agent: Claude Code/1.0\n      extra_headers: {User-Agent: my-app/2}\n", "my-app/2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			upstream, headers := recordingUpstream(t, `{"id":"m","type":"message","role":"assistant","model":"x","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`)
			resp, data := chatOnce(t, "model_list:\n  - model_name: m\n    litellm_params:\n      model: anthropic/claude-sonnet-4\n"+
				"      api_base: "+upstream+"\n      api_key: sk-ant-test-key\n"+tc.params)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, data)
			}
			if got := headers().Values("User-Agent"); len(got) != 1 || got[0] != tc.want {
				t.Fatalf("upstream got User-Agent %q, want %q", got, tc.want)
			}
		})
	}
}
