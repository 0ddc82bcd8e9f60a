package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/gateway"
	"github.com/breakerd/breakerd/mockllm"
)

// openAIToAnthropic falls back from an OpenAI deployment to an Anthropic one.
const openAIToAnthropic = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: ${MOCK_OPENAI}/v1
      api_key: sk-openai-secret
  - model_name: claude-3-5-sonnet
    litellm_params:
      model: anthropic/claude-3-5-sonnet-20241022
      api_base: ${MOCK_ANTHROPIC}
      api_key: sk-ant-secret-key
router_settings:
  routing_strategy: ordered
  fallbacks: [claude-3-5-sonnet]
`

func TestOpenAIFailsAnthropicServes(t *testing.T) {
	e := newEnv(t, openAIToAnthropic, "openai", "anthropic")
	e.mocks["openai"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})

	out, h, err := e.chat("gpt-4o-mini")
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("X-Breakerd-Provider") != "anthropic" || h.Get("X-Breakerd-Fallback") != "true" {
		t.Fatalf("headers %v", h)
	}
	if out.Object != "chat.completion" || out.Model != "claude-3-5-sonnet-20241022" || !strings.HasPrefix(out.ID, "msg_mock_") ||
		!strings.Contains(out.Choices[0].Message.Content, "Hello from anthropic! You said: Hello") ||
		out.Choices[0].FinishReason != "stop" || out.Usage.TotalTokens != out.Usage.PromptTokens+out.Usage.CompletionTokens {
		t.Fatalf("response %+v", out)
	}

	stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-4o-mini", Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("be kind"), openai.UserMessage("stream")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	acc, _, err := drain(stream)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(acc.Choices[0].Message.Content, "Hello from anthropic! You said: stream") ||
		acc.Choices[0].FinishReason != "stop" || acc.Usage.TotalTokens == 0 {
		t.Fatalf("accumulated %+v", acc.ChatCompletion)
	}
	if e.mocks["anthropic"].Stats().Messages != 2 {
		t.Fatalf("anthropic mock stats %+v", e.mocks["anthropic"].Stats())
	}
}

func TestToolCallsThroughAnthropic(t *testing.T) {
	e := newEnv(t, openAIToAnthropic, "openai", "anthropic")
	params := openai.ChatCompletionNewParams{
		Model:    "claude-3-5-sonnet",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("search something")},
		Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
			Name: "search", Parameters: openai.FunctionParameters{"type": "object", "properties": map[string]any{"query": map[string]any{"type": "string"}}}})},
		ToolChoice: openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")},
	}
	out, err := e.client.Chat.Completions.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	tc := out.Choices[0].Message.ToolCalls
	if out.Choices[0].FinishReason != "tool_calls" || len(tc) != 1 || tc[0].Function.Name != "search" || tc[0].Function.Arguments != `{"query":"mock"}` {
		t.Fatalf("tool calls %+v finish %q", tc, out.Choices[0].FinishReason)
	}
	stream := e.client.Chat.Completions.NewStreaming(context.Background(), params)
	acc, _, err := drain(stream)
	if err != nil {
		t.Fatal(err)
	}
	stc := acc.Choices[0].Message.ToolCalls
	if len(stc) != 1 || stc[0].Function.Name != "search" || stc[0].Function.Arguments != `{"query":"mock"}` {
		t.Fatalf("streamed tool calls %+v", stc)
	}
}

func TestAnthropicOverloadCountsAndRejectedParamIs400(t *testing.T) {
	e := newEnv(t, openAIToAnthropic, "openai", "anthropic")
	e.mocks["anthropic"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 529})
	status, _, _ := e.post("/v1/chat/completions", `{"model":"claude-3-5-sonnet","messages":[{"role":"user","content":"x"}]}`)
	if status != 503 {
		t.Fatalf("status %d, want 503 after the only deployment is overloaded", status)
	}
	if c := e.breaker("claude-3-5-sonnet/anthropic/claude-3-5-sonnet-20241022:chat").Counts(); c.Failures != 1 {
		t.Fatalf("a 529 must count: %+v", c)
	}
	e.mocks["anthropic"].SetFaults(mockllm.Faults{})
	status, _, body := e.post("/v1/chat/completions", `{"model":"claude-3-5-sonnet","n":3,"messages":[{"role":"user","content":"x"}]}`)
	msg, _ := body["error"].(map[string]any)["message"].(string)
	if status != 400 || !strings.Contains(msg, `"n"`) {
		t.Fatalf("status %d body %v", status, body)
	}
	if e.mocks["anthropic"].Stats().Messages != 1 {
		t.Fatal("a request that cannot be translated must not reach Anthropic")
	}
}

func TestEmbeddingsPassOverAnthropicDeployments(t *testing.T) {
	const embed = `{"model":"%s","input":"hello"}`
	// The OpenAI deployment an embedding model, with Claude its fallback.
	openAIToAnthropic := strings.Replace(openAIToAnthropic, "model: openai/gpt-4o-mini", "model: openai/text-embedding-3-small", 1)
	t.Run("an Anthropic deployment has no embeddings breaker", func(t *testing.T) {
		e := newEnv(t, openAIToAnthropic, "openai", "anthropic")
		names := e.gw.Registry().Names()
		if slices.Contains(names, "claude-3-5-sonnet/anthropic/claude-3-5-sonnet-20241022:embeddings") ||
			!slices.Contains(names, "gpt-4o-mini/openai/text-embedding-3-small:embeddings") {
			t.Fatalf("breakers %v", names)
		}
	})
	t.Run("a failing primary with only an Anthropic fallback is a 503, not Anthropic's 400", func(t *testing.T) {
		e := newEnv(t, openAIToAnthropic, "openai", "anthropic")
		e.mocks["openai"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
		status, h, body := e.post("/v1/embeddings", fmt.Sprintf(embed, "gpt-4o-mini"))
		if status != 503 || h.Get("X-Breakerd-Attempts") != "1" {
			t.Fatalf("status %d, attempts %q, body %v", status, h.Get("X-Breakerd-Attempts"), body)
		}
		if e.mocks["openai"].Stats().Embeddings != 1 || e.mocks["anthropic"].Stats().Requests != 0 {
			t.Fatalf("openai %+v, anthropic %+v", e.mocks["openai"].Stats(), e.mocks["anthropic"].Stats())
		}
	})
	t.Run("a group no deployment of which serves embeddings is a 400 without an upstream call", func(t *testing.T) {
		e := newEnv(t, openAIToAnthropic, "openai", "anthropic")
		status, _, body := e.post("/v1/embeddings", fmt.Sprintf(embed, "claude-3-5-sonnet"))
		errBody, _ := body["error"].(map[string]any)
		if msg, _ := errBody["message"].(string); status != 400 || errBody["code"] != "model_not_supported" ||
			!strings.Contains(msg, "`claude-3-5-sonnet` does not serve embeddings") {
			t.Fatalf("status %d, body %v", status, body)
		}
		if e.mocks["anthropic"].Stats().Requests != 0 {
			t.Fatalf("anthropic %+v", e.mocks["anthropic"].Stats())
		}
	})
}

// redirect sends requests for the real providers' hosts to loopback mocks,
// so the seed's config runs unchanged.
type redirect map[string]string

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	if to, ok := r[req.URL.Host]; ok {
		u, _ := url.Parse(to)
		req = req.Clone(req.Context())
		req.URL.Scheme, req.URL.Host = u.Scheme, u.Host
		req.Host = u.Host
	}
	return http.DefaultTransport.RoundTrip(req)
}

// The seed guide's litellm_config.yaml, unchanged, behaves as the guide
// says: 6 failing requests open OpenAI's circuit, the next one goes to
// Claude with a header saying so, and 30 seconds later OpenAI is back.
func TestSeedConfigUnchangedEndToEnd(t *testing.T) {
	seed := filepath.Join("..", "..", "shared", "seeds", "litellm_config.yaml")
	if _, err := os.Stat(seed); err != nil {
		seed = filepath.Join("..", "config", "testdata", "litellm_config.yaml")
	}
	oa := mockllm.New(mockllm.Options{Name: "openai", APIKey: "sk-openai-real"})
	an := mockllm.New(mockllm.Options{Name: "claude", APIKey: "sk-ant-real"})
	oaSrv, anSrv := httptest.NewServer(oa.Handler()), httptest.NewServer(an.Handler())
	defer oaSrv.Close()
	defer anSrv.Close()

	t.Setenv("OPENAI_API_KEY", "sk-1234567890abcdef") // the seed's invalid key
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-real")
	cfg, err := config.Load(seed)
	if err != nil {
		t.Fatal(err)
	}
	clock := breaker.NewManualClock(t0)
	client := &http.Client{Transport: redirect{"api.openai.com": oaSrv.URL, "api.anthropic.com": anSrv.URL}}
	gw, err := gateway.New(gateway.Options{Config: cfg, Clock: clock, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	srv := httptest.NewServer(gw.Handler())
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	defer http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	sdk := openai.NewClient(option.WithBaseURL(srv.URL+"/"), option.WithAPIKey("sk-1234567890abcdef"),
		option.WithMaxRetries(0), option.WithHTTPClient(hc))
	chat := func() (string, http.Header) {
		var resp *http.Response
		out, err := sdk.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")}}, option.WithResponseInto(&resp))
		if err != nil {
			t.Fatal(err)
		}
		return out.Choices[0].Message.Content, resp.Header
	}
	for i := 0; i < 6; i++ {
		chat()
	}
	openaiChat := "gpt-4o-mini/openai/gpt-4o-mini:chat"
	b, _ := gw.Registry().Lookup(openaiChat)
	if b.State() != breaker.Open || oa.Stats().Chat != 5 {
		t.Fatalf("state %s after 6 requests with OpenAI calls %d; want open after 5", b.State(), oa.Stats().Chat)
	}
	content, h := chat()
	if h.Get("X-Breakerd-Provider") != "anthropic" || !strings.Contains(content, "Hello from claude") {
		t.Fatalf("provider %q content %q", h.Get("X-Breakerd-Provider"), content)
	}
	// "Fix the key" and wait the seed's 30 seconds.
	oa.SetAPIKey("sk-1234567890abcdef")
	clock.Advance(30 * time.Second)
	for i := 0; i < 2; i++ {
		_, h := chat()
		if h.Get("X-Breakerd-Provider") != "openai" {
			t.Fatalf("trial %d served by %q", i, h.Get("X-Breakerd-Provider"))
		}
	}
	if b.State() != breaker.Closed {
		t.Fatalf("state %s, want closed after the seed's success_threshold of 2", b.State())
	}
}

// Claude on Azure AI Foundry (azure/claude-*): chat (translated) and the
// Messages API go to Anthropic's API at the api_base, with the key in an
// api-key header, as Azure takes it.
func TestClaudeOnAzureFoundry(t *testing.T) {
	mock := mockllm.New(mockllm.Options{Name: "foundry", APIKey: "az-foundry-key-123"})
	var keyHeaders []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keyHeaders = append(keyHeaders, fmt.Sprintf("%s api-key=%q x-api-key=%q", r.URL.Path, r.Header.Get("Api-Key"), r.Header.Get("X-Api-Key")))
		mu.Unlock()
		mock.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	e := newEnv(t, `
model_list:
  - model_name: claude
    litellm_params: {model: azure/claude-sonnet-4-5, api_key: az-foundry-key-123, api_base: "`+srv.URL+`/anthropic"}
`)
	got, _, err := e.chat("claude")
	if err != nil || !strings.Contains(got.Choices[0].Message.Content, "Hello from foundry") {
		t.Fatalf("chat: %+v %v", got, err)
	}
	status, _, body := e.post("/v1/messages", `{"model":"claude","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`)
	if content, _ := body["content"].([]any); status != 200 || len(content) == 0 {
		t.Fatalf("messages: %d %v", status, body)
	}
	mu.Lock()
	defer mu.Unlock()
	want := `/anthropic/v1/messages api-key="az-foundry-key-123" x-api-key=""`
	if len(keyHeaders) != 2 || keyHeaders[0] != want || keyHeaders[1] != want {
		t.Fatalf("upstream saw %q, want twice %q", keyHeaders, want)
	}
}
