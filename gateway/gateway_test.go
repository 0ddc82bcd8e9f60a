package gateway_test

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/gateway"
	"github.com/breakerd/breakerd/mockllm"
)

func TestChatThroughSDK(t *testing.T) {
	e := newEnv(t, twoGroups, "primary", "backup")
	out, h, err := e.chat("gpt-4o-mini")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.Choices[0].Message.Content, "Hello from primary") {
		t.Fatalf("content %q", out.Choices[0].Message.Content)
	}
	want := map[string]string{"X-Breakerd-Provider": "openai", "X-Breakerd-Deployment": "gpt-4o-mini/openai/gpt-4o-mini",
		"X-Breakerd-Attempts": "1", "X-Breakerd-Fallback": "false", "X-Litellm-Attempted-Retries": "0", "X-Litellm-Attempted-Fallbacks": "0"}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
	if d := h.Values("Date"); len(d) != 1 {
		t.Errorf("Date headers %q, want one", d)
	} else if _, err := http.ParseTime(d[0]); err != nil {
		t.Errorf("Date: %v", err)
	}
	if out.Model != "gpt-4o-mini" || out.Usage.TotalTokens == 0 {
		t.Fatalf("model %q usage %+v", out.Model, out.Usage)
	}
	// LiteLLM's response headers, for applications that read them: the
	// deployment's id, and what the call cost at gpt-4o-mini's list
	// prices ($0.15 and $0.60 per 1M tokens).
	cost := (float64(out.Usage.PromptTokens)*0.15 + float64(out.Usage.CompletionTokens)*0.60) / 1e6
	got, err := strconv.ParseFloat(h.Get("X-Litellm-Response-Cost"), 64)
	if err != nil || math.Abs(got-cost) > 1e-15 || h.Get("X-Litellm-Model-Id") != "gpt-4o-mini/openai/gpt-4o-mini" {
		t.Errorf("x-litellm-response-cost %q (want %v), x-litellm-model-id %q", h.Get("X-Litellm-Response-Cost"), cost, h.Get("X-Litellm-Model-Id"))
	}
}

// A prompt past GPT-5.4's 272K input tokens costs twice its input price
// and 1.5 times its output's, all its tokens, in the cost breakerd says
// (and charges to budgets and counts in its spend), as OpenAI bills it;
// /model/info shows the tier under LiteLLM's names.
func TestLongPromptsCostTheirTier(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: g
    litellm_params: {model: openai/gpt-5.4, api_base: "${MOCK_A}/v1", api_key: sk-a-secret-123456}
`, "a")
	for _, tc := range []struct {
		name    string
		words   int
		in, out float64 // USD per million tokens
	}{{"short", 10, 2.50, 15}, {"past 272K tokens", 280_000, 5, 22.50}} {
		t.Run(tc.name, func(t *testing.T) {
			var resp *http.Response
			out, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "g",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(strings.Repeat("a ", tc.words))}}, option.WithResponseInto(&resp))
			if err != nil {
				t.Fatal(err)
			}
			if long := out.Usage.PromptTokens > 272_000; long != (tc.words > 272_000) {
				t.Fatalf("%d prompt tokens", out.Usage.PromptTokens)
			}
			want := (float64(out.Usage.PromptTokens)*tc.in + float64(out.Usage.CompletionTokens)*tc.out) / 1e6
			got, err := strconv.ParseFloat(resp.Header.Get("X-Litellm-Response-Cost"), 64)
			if err != nil || math.Abs(got-want) > 1e-12 {
				t.Fatalf("x-litellm-response-cost %q, want %v", resp.Header.Get("X-Litellm-Response-Cost"), want)
			}
		})
	}
	_, _, body := e.do("GET", "/model/info", "")
	info := body["data"].([]any)[0].(map[string]any)["model_info"].(map[string]any)
	if info["input_cost_per_token_above_272k_tokens"] != 5e-6 || info["output_cost_per_token_above_272k_tokens"] != 22.5e-6 ||
		info["cache_read_input_token_cost_above_272k_tokens"] != 0.5e-6 || info["cache_creation_input_token_cost_above_1hr"] != 2.5e-6 {
		t.Fatalf("/model/info: %v", info)
	}
}

// A call OpenAI says its flex tier served costs its batch prices (half),
// and one its priority tier served the configured priority prices
// (LiteLLM's input_cost_per_token_priority and kin), whole or streamed,
// chat or Responses, in the cost breakerd says and the spend it charges.
func TestServiceTiersCostTheirPrices(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: g
    litellm_params: {model: openai/gpt-5, api_base: "${MOCK_A}/v1", api_key: sk-a-secret-123456}
    model_info: {input_cost_per_token_priority: 0.0000025, output_cost_per_token_priority: 0.00002}
`, "a")
	for _, tc := range []struct {
		tier    string
		in, out float64 // USD per million tokens
	}{{"", 1.25, 10}, {"flex", 0.625, 5}, {"priority", 2.5, 20}} {
		t.Run(cmp.Or(tc.tier, "default"), func(t *testing.T) {
			params := openai.ChatCompletionNewParams{Model: "g", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello there")},
				ServiceTier: openai.ChatCompletionNewParamsServiceTier(tc.tier)}
			var resp *http.Response
			out, err := e.client.Chat.Completions.New(context.Background(), params, option.WithResponseInto(&resp))
			if err != nil {
				t.Fatal(err)
			}
			want := (float64(out.Usage.PromptTokens)*tc.in + float64(out.Usage.CompletionTokens)*tc.out) / 1e6
			got, err := strconv.ParseFloat(resp.Header.Get("X-Litellm-Response-Cost"), 64)
			if err != nil || math.Abs(got-want) > 1e-12 {
				t.Fatalf("x-litellm-response-cost %q, want %v", resp.Header.Get("X-Litellm-Response-Cost"), want)
			}
			<-e.done
			acc, _, err := drain(e.client.Chat.Completions.NewStreaming(context.Background(), params))
			if err != nil {
				t.Fatal(err)
			}
			<-e.done
			u := (<-e.attempts).Usage
			u = (<-e.attempts).Usage // the stream's
			if u.ServiceTier != cmp.Or(tc.tier, "default") || acc.Choices[0].Message.Content == "" {
				t.Fatalf("the stream's usage %+v", u)
			}
			status, _, body := e.post("/v1/responses", `{"model":"g","input":"hi","service_tier":"`+cmp.Or(tc.tier, "auto")+`"}`)
			if status != 200 {
				t.Fatalf("responses: %d %v", status, body)
			}
			<-e.done
			if u := (<-e.attempts).Usage; u.ServiceTier != cmp.Or(tc.tier, "default") {
				t.Fatalf("the response's usage %+v", u)
			}
			rp := responseParams("g", "stream it", false)
			rp.ServiceTier = responses.ResponseNewParamsServiceTier(cmp.Or(tc.tier, "auto"))
			stream := e.client.Responses.NewStreaming(context.Background(), rp)
			for stream.Next() {
			}
			stream.Close()
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			<-e.done
			if u := (<-e.attempts).Usage; u.ServiceTier != cmp.Or(tc.tier, "default") {
				t.Fatalf("the streamed response's usage %+v", u)
			}
		})
	}
}

// A non-streaming answer goes out with its length, not chunked, short
// (net/http sets it) or long (breakerd does).
func TestAnswersHaveContentLength(t *testing.T) {
	for _, tc := range []struct {
		name     string
		words    int
		min, max int
	}{{"short", 0, 1, 2 << 10}, {"long", 2000, 8 << 10, 1 << 20}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, twoGroups, "primary", "backup")
			e.mocks["primary"].SetFaults(mockllm.Faults{ReplyWords: tc.words})
			resp, err := e.http.Post(e.url+"/v1/chat/completions", "application/json",
				strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("status %d, err %v", resp.StatusCode, err)
			}
			if len(body) < tc.min || len(body) > tc.max || resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
				t.Fatalf("%d bytes, Content-Length %d, Transfer-Encoding %v", len(body), resp.ContentLength, resp.TransferEncoding)
			}
		})
	}
}

func TestStreamingThroughSDK(t *testing.T) {
	e := newEnv(t, twoGroups, "primary", "backup")
	stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:         "gpt-4o-mini",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream please")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	acc, chunks, err := drain(stream)
	if err != nil {
		t.Fatal(err)
	}
	if chunks < 3 || !strings.Contains(acc.Choices[0].Message.Content, "Hello from primary! You said: stream please") {
		t.Fatalf("%d chunks, content %q", chunks, acc.Choices[0].Message.Content)
	}
	if acc.Usage.TotalTokens == 0 {
		t.Fatal("no usage chunk although include_usage was set")
	}
}

// A deployment with http2_prior_knowledge makes its calls, streams among
// them, over cleartext HTTP/2, concurrent ones sharing its connections; a
// deployment without it stays on HTTP/1.1.
func TestHTTP2PriorKnowledge(t *testing.T) {
	yaml := strings.Replace(twoGroups, "sk-primary-secret-key\n", "sk-primary-secret-key\n      http2_prior_knowledge: true\n", 1)
	e := newEnv(t, yaml, "primary", "backup")
	const streams = 10
	for _, model := range []string{"gpt-4o-mini", "claude-3-5-sonnet"} {
		if _, _, err := e.chat(model); err != nil {
			t.Fatalf("%s: %v", model, err)
		}
		errs := make(chan error, streams)
		for range streams {
			go func() {
				acc, _, err := drain(e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
					Model: model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream please")}}))
				if err == nil && !strings.Contains(acc.Choices[0].Message.Content, "You said: stream please") {
					err = fmt.Errorf("content %q", acc.Choices[0].Message.Content)
				}
				errs <- err
			}()
		}
		for range streams {
			if err := <-errs; err != nil {
				t.Fatalf("%s stream: %v", model, err)
			}
		}
	}
	for name, want := range map[string]int64{"primary": 1 + streams, "backup": 0} {
		if st := e.mocks[name].Stats(); st.Requests != 1+streams || st.HTTP2 != want {
			t.Errorf("%s saw %d requests, %d over HTTP/2; want %d, %d", name, st.Requests, st.HTTP2, 1+streams, want)
		}
	}
}

func TestEmbeddingsThroughSDK(t *testing.T) {
	// A model whose name says nothing of what it serves serves both.
	e := newEnv(t, strings.Replace(twoGroups, "openai/gpt-4o-mini", "openai/my-model", 1), "primary", "backup")
	out, err := e.client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
		Model: "gpt-4o-mini",
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Data) != 2 || len(out.Data[0].Embedding) == 0 {
		t.Fatalf("embeddings %+v", out.Data)
	}
	if e.mocks["primary"].Stats().Embeddings != 1 {
		t.Fatal("embeddings did not reach the primary")
	}
}

func TestModelsList(t *testing.T) {
	e := newEnv(t, twoGroups, "primary", "backup")
	if ids := e.modelIDs(); strings.Join(ids, ",") != "gpt-4o-mini,claude-3-5-sonnet" {
		t.Fatalf("models %v", ids)
	}
}

func TestModelsRetrieve(t *testing.T) {
	// A group name with a slash, as in org/model names.
	cfg := strings.Replace(twoGroups, "model_name: claude-3-5-sonnet", "model_name: anthropic/claude-3-5-sonnet", 1)
	cfg = strings.Replace(cfg, "fallbacks: [claude-3-5-sonnet]", "fallbacks: [anthropic/claude-3-5-sonnet]", 1)
	e := newEnv(t, cfg, "primary", "backup")
	tests := []struct {
		name   string
		model  string
		status int // 0: found
	}{
		{"a configured group", "gpt-4o-mini", 0},
		{"a group whose name has a slash", "anthropic/claude-3-5-sonnet", 0},
		{"an unknown model is OpenAI's 404", "gpt-5", http.StatusNotFound},
		{"a deployment's upstream model is not a group", "openai/gpt-4o-mini", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := e.client.Models.Get(context.Background(), tt.model)
			if tt.status == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if m.ID != tt.model || m.Object != "model" {
					t.Fatalf("got %+v, want the model object of %q", m, tt.model)
				}
				return
			}
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status || apiErr.Code != "model_not_found" {
				t.Fatalf("err = %v, want %d model_not_found", err, tt.status)
			}
			if !strings.Contains(apiErr.Message, "Known models: gpt-4o-mini, anthropic/claude-3-5-sonnet") {
				t.Fatalf("message %q does not name the known models", apiErr.Message)
			}
		})
	}
}

// The seed guide's Option A test: six failing requests open the circuit,
// the next request is served by the fallback with a header saying so, and
// after the recovery timeout trials close the circuit.
func TestSeedScenario(t *testing.T) {
	e := newEnv(t, twoGroups, "primary", "backup")
	primary := e.mocks["primary"]
	primary.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 401}) // the seed's invalid key
	for i := 1; i <= 6; i++ {
		if _, _, err := e.chat("gpt-4o-mini"); err != nil {
			t.Fatalf("request %d: the fallback should have served it: %v", i, err)
		}
	}
	if got := e.breaker(primaryChat).State(); got != breaker.Open {
		t.Fatalf("after 6 failing requests the circuit is %s, want open", got)
	}
	if got := primary.Stats().Chat; got != 5 {
		t.Fatalf("primary received %d calls, want 5: the 6th must fast-fail", got)
	}
	out, h, err := e.chat("gpt-4o-mini")
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("X-Breakerd-Fallback") != "true" || h.Get("X-Breakerd-Deployment") != "claude-3-5-sonnet/openai/claude-3-5-sonnet" ||
		!strings.Contains(out.Choices[0].Message.Content, "Hello from backup") {
		t.Fatalf("headers %v content %q", h, out.Choices[0].Message.Content)
	}
	if primary.Stats().Chat != 5 {
		t.Fatal("an open circuit let a call through to the primary")
	}

	primary.SetFaults(mockllm.Faults{}) // the key is fixed
	e.clock.Advance(30 * time.Second)
	for i := 0; i < 2; i++ {
		_, h, err := e.chat("gpt-4o-mini")
		if err != nil || h.Get("X-Breakerd-Fallback") != "false" {
			t.Fatalf("trial %d: err %v, fallback header %q", i, err, h.Get("X-Breakerd-Fallback"))
		}
	}
	if got := e.breaker(primaryChat).State(); got != breaker.Closed {
		t.Fatalf("after two successful trials the circuit is %s, want closed", got)
	}
}

func TestErrorResponses(t *testing.T) {
	const small = twoGroups + "server:\n  max_body_bytes: 200\n"
	tests := []struct {
		name       string
		method     string // POST when empty
		path, body string
		status     int
		wantMsg    string
		wantCode   string
		wantType   string // the error's type, and Anthropic's shape ({"type":"error",...}) when it is one of theirs
		wantAllow  string
	}{
		{name: "malformed JSON is a 400", path: "/v1/chat/completions", body: `{"model":`, status: 400,
			wantMsg: "could not parse the JSON body"},
		{name: "a missing model is a 400", path: "/v1/chat/completions", body: `{"messages":[{"role":"user","content":"x"}]}`,
			status: 400, wantMsg: "model parameter"},
		{name: "empty messages are a 400", path: "/v1/chat/completions", body: `{"model":"gpt-4o-mini","messages":[]}`,
			status: 400, wantMsg: "messages"},
		{name: "an unknown model is a 404 naming the known ones", path: "/v1/chat/completions",
			body: `{"model":"gpt-5","messages":[{"role":"user","content":"x"}]}`, status: 404,
			wantMsg: "Known models: gpt-4o-mini, claude-3-5-sonnet", wantCode: "model_not_found"},
		{name: "a body over the limit is a 413", path: "/v1/chat/completions",
			body:   `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + strings.Repeat("x", 300) + `"}]}`,
			status: 413, wantCode: "request_too_large"},
		{name: "embeddings without input are a 400", path: "/v1/embeddings", body: `{"model":"gpt-4o-mini"}`, status: 400,
			wantMsg: "input"},
		{name: "an unknown path is a 404", path: "/v1/nonsense", body: `{"model":"gpt-4o-mini"}`, status: 404,
			wantMsg: "Invalid URL (POST /v1/nonsense)"},
		{name: "an OpenAI API breakerd does not serve is a 404 that says so", path: "/v1/evals", body: `{"name":"x"}`, status: 404,
			wantMsg: "Invalid URL (POST /v1/evals): breakerd does not serve this OpenAI API"},
		{name: "an Anthropic API breakerd does not serve is a 404 in Anthropic's shape that says so", path: "/v1/messages/batches/msgbatch_1/retry",
			body: `{}`, status: 404, wantMsg: "Invalid URL (POST /v1/messages/batches/msgbatch_1/retry): breakerd does not serve this Anthropic API",
			wantType: "not_found_error"},
		{name: "a message batch with no requests is a 400 in Anthropic's shape", path: "/v1/messages/batches",
			body: `{"requests":[]}`, status: 400, wantMsg: "a message batch is a JSON object with requests", wantType: "invalid_request_error"},
		{name: "a Realtime call already made is a 404 that says what is served", path: "/v1/realtime/calls/rtc_123/hangup", body: `{}`, status: 404,
			wantMsg: "a call already made (accept, hangup, refer, reject) belongs to the provider that made it"},
		{name: "a Realtime client secret with no Realtime model says so", path: "/v1/realtime/client_secrets", body: `{}`, status: 400,
			wantMsg: "no model in breakerd's config serves /v1/realtime (its session's model)"},
		{name: "a route's path with a slash more is a 404", path: "/v1/chat/completions/", body: `{"model":"gpt-4o-mini"}`, status: 404,
			wantMsg: "Invalid URL (POST /v1/chat/completions/)"},
		{name: "a route's path with an escaped slash is a 404", path: "/v1/chat%2Fcompletions", body: `{"model":"gpt-4o-mini"}`, status: 404,
			wantMsg: "Invalid URL (POST /v1/chat/completions)"},
		{name: "a Responses request without input is a 400", path: "/v1/responses", body: `{"model":"gpt-4o-mini"}`, status: 400,
			wantMsg: "Missing required parameter: 'input'."},
		{name: "a legacy completion without a prompt is a 400", path: "/v1/completions", body: `{"model":"gpt-4o-mini"}`, status: 400,
			wantMsg: "prompt"},
		{name: "a Responses item of an unknown type is a 400", path: "/v1/responses",
			body: `{"model":"claude-3-5-sonnet","input":[{"type":"bogus"}]}`, status: 400, wantMsg: "input[0].type"},
		{name: "a wrong method is a 405 naming the allowed ones", method: http.MethodPut, path: "/v1/chat/completions",
			status: 405, wantMsg: "PUT is not allowed", wantAllow: "POST, GET, HEAD"},
		{name: "a wrong method on a read-only path allows GET and HEAD", method: http.MethodDelete, path: "/models",
			status: 405, wantMsg: "DELETE is not allowed", wantAllow: "GET, HEAD"},
	}
	e := newEnv(t, small, "primary", "backup")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := cmp.Or(tc.method, http.MethodPost)
			status, h, body := e.do(method, tc.path, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d (%v)", status, tc.status, body)
			}
			if got := h.Get("Allow"); got != tc.wantAllow {
				t.Fatalf("Allow %q, want %q", got, tc.wantAllow)
			}
			errObj, ok := body["error"].(map[string]any)
			if !ok || errObj["type"] == nil || errObj["message"] == nil {
				t.Fatalf("body %v is not OpenAI's error shape", body)
			}
			if !strings.Contains(errObj["message"].(string), tc.wantMsg) {
				t.Fatalf("message %q, want it to contain %q", errObj["message"], tc.wantMsg)
			}
			if tc.wantCode != "" && errObj["code"] != tc.wantCode {
				t.Fatalf("code %v, want %q", errObj["code"], tc.wantCode)
			}
			if tc.wantType != "" && (errObj["type"] != tc.wantType || body["type"] != "error") {
				t.Fatalf("body %v, want Anthropic's error of type %q", body, tc.wantType)
			}
		})
	}
	if got := e.mocks["primary"].Stats().Requests; got != 0 {
		t.Fatalf("invalid requests reached the upstream %d times", got)
	}
}

func TestAllDeploymentsUnavailableIs503WithRetryAfter(t *testing.T) {
	e := newEnv(t, twoGroups, "primary", "backup")
	e.breaker(primaryChat).OpenUntil(t0.Add(20*time.Second), "test")
	e.breaker("claude-3-5-sonnet/openai/claude-3-5-sonnet:chat").OpenUntil(t0.Add(45*time.Second), "test")
	e.clock.Advance(5 * time.Second)
	status, h, body := e.post("/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`)
	if status != 503 || h.Get("Retry-After") != "15" {
		t.Fatalf("status %d Retry-After %q, want 503 and 15 (the earliest breaker)", status, h.Get("Retry-After"))
	}
	if code := body["error"].(map[string]any)["code"]; code != "all_deployments_unavailable" {
		t.Fatalf("code %v", code)
	}
	if e.mocks["primary"].Stats().Requests+e.mocks["backup"].Stats().Requests != 0 {
		t.Fatal("open breakers let calls through")
	}
	// The SDK sees the same as an *openai.Error.
	_, _, err := e.chat("gpt-4o-mini")
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Fatalf("SDK error %v", err)
	}
}

func TestFailureClassification(t *testing.T) {
	tests := []struct {
		name       string
		conditions string
		faults     mockllm.Faults
		wantCount  bool // counts against the breaker
		wantStatus int  // client status: 200 via fallback, or the passed-through error
	}{
		{name: "500 counts and falls back", faults: mockllm.Faults{ErrorRate: 1, Status: 500}, wantCount: true, wantStatus: 200},
		{name: "503 counts", faults: mockllm.Faults{ErrorRate: 1, Status: 503}, wantCount: true, wantStatus: 200},
		{name: "401 counts by default", faults: mockllm.Faults{ErrorRate: 1, Status: 401}, wantCount: true, wantStatus: 200},
		{name: "401 is configurable", conditions: "- auth_error: false", faults: mockllm.Faults{ErrorRate: 1, Status: 401},
			wantCount: false, wantStatus: 200},
		{name: "429 does not count without rate_limit", faults: mockllm.Faults{ErrorRate: 1, Status: 429}, wantCount: false,
			wantStatus: 200},
		{name: "429 counts with rate_limit", conditions: "- rate_limit: true", faults: mockllm.Faults{ErrorRate: 1, Status: 429},
			wantCount: true, wantStatus: 200},
		{name: "a 5xx not listed does not count", conditions: "- status_code: 500", faults: mockllm.Faults{ErrorRate: 1, Status: 502},
			wantCount: false, wantStatus: 200},
		{name: "400 never counts and is passed through", faults: mockllm.Faults{ErrorRate: 1, Status: 400}, wantCount: false,
			wantStatus: 400},
		{name: "404 never counts", faults: mockllm.Faults{ErrorRate: 1, Status: 404}, wantCount: false, wantStatus: 404},
		{name: "422 never counts", faults: mockllm.Faults{ErrorRate: 1, Status: 422}, wantCount: false, wantStatus: 422},
		{name: "a connection reset counts", faults: mockllm.Faults{Reset: true}, wantCount: true, wantStatus: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := twoGroups
			if tc.conditions != "" {
				cfg += "    failure_conditions:\n      " + tc.conditions + "\n"
			}
			e := newEnv(t, cfg, "primary", "backup")
			e.mocks["primary"].SetFaults(tc.faults)
			status, _, body := e.post("/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`)
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %v", status, tc.wantStatus, body)
			}
			c := e.breaker(primaryChat).Counts()
			if counted := c.Failures == 1; counted != tc.wantCount {
				t.Fatalf("counts %+v: counted=%v, want %v", c, counted, tc.wantCount)
			}
			if tc.wantStatus != 200 && e.mocks["backup"].Stats().Requests != 0 {
				t.Fatal("a client error fell back to another deployment")
			}
		})
	}
}

func TestUpstreamErrorsNeverLeakKeys(t *testing.T) {
	e := newEnv(t, twoGroups, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
	e.mocks["backup"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
	_, _, body := e.post("/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`)
	msg := fmt.Sprint(body)
	if strings.Contains(msg, "sk-primary-secret-key") || strings.Contains(msg, "sk-backup-secret-key") {
		t.Fatalf("error leaks a key: %s", msg)
	}
	if !strings.Contains(msg, "upstream returned 500") {
		t.Fatalf("error does not say what happened: %s", msg)
	}
}

func TestRetriesThenFallback(t *testing.T) {
	cfg := strings.Replace(twoGroups, "  retry_backoff: 1ms", "  retry_backoff: 1ms\n  num_retries: 2", 1)
	e := newEnv(t, cfg, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	_, h, err := e.chat("gpt-4o-mini")
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("X-Breakerd-Attempts") != "4" || e.mocks["primary"].Stats().Chat != 3 {
		t.Fatalf("attempts %s, primary calls %d: want 1 try + 2 retries, then the fallback",
			h.Get("X-Breakerd-Attempts"), e.mocks["primary"].Stats().Chat)
	}
	// LiteLLM's headers say the same: 2 retries, 1 fallback group.
	if r, f := h.Get("X-Litellm-Attempted-Retries"), h.Get("X-Litellm-Attempted-Fallbacks"); r != "2" || f != "1" {
		t.Fatalf("x-litellm-attempted-retries %q, -fallbacks %q; want 2 and 1", r, f)
	}
}

// A key the upstream refuses (401, 403) is not retried on the same
// deployment: the request goes on to the next at once.
func TestARefusedKeyIsNotRetried(t *testing.T) {
	for _, status := range []int{401, 403} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			cfg := strings.Replace(twoGroups, "  retry_backoff: 1ms", "  retry_backoff: 1ms\n  num_retries: 2", 1)
			e := newEnv(t, cfg, "primary", "backup")
			e.mocks["primary"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: status})
			_, h, err := e.chat("gpt-4o-mini")
			if err != nil || h.Get("X-Breakerd-Fallback") != "true" {
				t.Fatalf("%v (fallback %q), want the fallback's answer", err, h.Get("X-Breakerd-Fallback"))
			}
			if n := e.mocks["primary"].Stats().Chat; n != 1 || h.Get("X-Breakerd-Attempts") != "2" {
				t.Fatalf("primary called %d times, %s attempts: want one call, then the fallback", n, h.Get("X-Breakerd-Attempts"))
			}
		})
	}
}

func TestRetrySucceedsOnSameDeployment(t *testing.T) {
	cfg := strings.Replace(twoGroups, "  retry_backoff: 1ms", "  retry_backoff: 1ms\n  num_retries: 1", 1)
	e := newEnv(t, cfg, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{ErrorRate: 0.5, Status: 503}) // the 1st fails, the 2nd succeeds
	_, h, err := e.chat("gpt-4o-mini")
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("X-Breakerd-Attempts") != "2" || h.Get("X-Breakerd-Fallback") != "false" {
		t.Fatalf("headers %v", h)
	}
}

func TestRetryAfterOpensBreakerUntilThen(t *testing.T) {
	cfg := twoGroups + "    failure_conditions:\n      - rate_limit: true\n"
	e := newEnv(t, cfg, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 429, RetryAfter: 90})
	if _, _, err := e.chat("gpt-4o-mini"); err != nil {
		t.Fatal(err)
	}
	at, ok := e.breaker(primaryChat).RetryAt()
	if !ok || !at.Equal(t0.Add(90*time.Second)) {
		t.Fatalf("breaker open until %v (%v), want t0+90s", at, ok)
	}
}

func TestBulkheadFullMovesToNextDeployment(t *testing.T) {
	cfg := strings.Replace(twoGroups, "      api_key: sk-primary-secret-key", "      api_key: sk-primary-secret-key\n      max_parallel_requests: 1", 1)
	e := newEnv(t, cfg, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{Hang: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hung := make(chan error, 1)
	go func() {
		_, err := e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hang")}})
		hung <- err
	}()
	// Wait until the hanging call holds the only slot.
	if err := e.mocks["primary"].WaitRequests(ctx, 1); err != nil {
		t.Fatal(err)
	}
	d := e.gw.Route("gpt-4o-mini")[0]
	if d.Bulkhead.InFlight() != 1 {
		t.Fatalf("in flight %d, want the hanging call", d.Bulkhead.InFlight())
	}
	_, h, err := e.chat("gpt-4o-mini")
	if err != nil || h.Get("X-Breakerd-Fallback") != "true" {
		t.Fatalf("err %v fallback %q", err, h.Get("X-Breakerd-Fallback"))
	}
	if c := e.breaker(primaryChat).Counts(); c.Failures != 0 {
		t.Fatalf("a full bulkhead counted as a breaker failure: %+v", c)
	}
	cancel()
	<-hung
	// The client left: the hanging attempt is not a failure either.
	<-e.done // the fallback request
	<-e.done // the hanging request, once its handler has finished
	if c := e.breaker(primaryChat).Counts(); c.Failures != 0 || c.Ignored != 2 {
		t.Fatalf("counts %+v: want the canceled call and the bulkhead pass ignored", c)
	}
}

func TestConnectionErrorsDoNotRevealUpstreamURLs(t *testing.T) {
	cfg := strings.Replace(twoGroups, "api_base: ${MOCK_PRIMARY}/v1", "api_base: http://127.0.0.1:1/s3cr3t-in-url/v1", 1)
	cfg = strings.Replace(cfg, "api_base: ${MOCK_BACKUP}/v1", "api_base: http://127.0.0.1:1/s3cr3t-in-url/v1", 1)
	e := newEnv(t, cfg, "primary", "backup")
	status, _, body := e.post("/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`)
	msg := fmt.Sprint(body)
	if status != 503 || !strings.Contains(msg, "connection refused") {
		t.Fatalf("status %d: %s", status, msg)
	}
	if strings.Contains(msg, "s3cr3t-in-url") || strings.Contains(msg, "127.0.0.1:1/") {
		t.Fatalf("the error reveals an upstream URL: %s", msg)
	}
}

// A client that stops sending its body mid-way gets a 408 after
// server.body_read_timeout instead of holding the connection forever,
// and nothing reaches an upstream.
func TestStalledRequestBodyIs408(t *testing.T) {
	e := newEnv(t, twoGroups+"server:\n  body_read_timeout: 50ms\n", "primary", "backup")
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Content-Length promises 100 bytes; 10 arrive, then nothing.
	if _, err := io.WriteString(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"Content-Length: 100\r\n\r\n{\"model\":"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second)) // bounds a failing test only
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response to a stalled body: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), `"code":"request_timeout"`) {
		t.Fatalf("status %d, body %s: want OpenAI's 408 request_timeout", resp.StatusCode, body)
	}
	if got := e.mocks["primary"].Stats().Requests; got != 0 {
		t.Fatalf("%d calls reached the upstream", got)
	}
}

// Close releases the idle upstream connections of the client the gateway
// made for itself, so that a stopped gateway leaves none open.
func TestCloseReleasesIdleUpstreamConnections(t *testing.T) {
	closed := make(chan struct{}, 10)
	mock := httptest.NewUnstartedServer(mockllm.New(mockllm.Options{}).Handler())
	mock.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed <- struct{}{}
		}
	}
	mock.Start()
	defer mock.Close()
	cfg, err := config.Parse("c.yaml", []byte("model_list:\n  - model_name: m\n    litellm_params: {model: openai/m, api_base: \""+
		mock.URL+"/v1\", api_key: sk-close-test}\n"), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(gateway.Options{Config: cfg}) // no Client: the gateway makes its own
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	gw.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/chat/completions",
		strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`)))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	select {
	case <-closed:
		t.Fatal("the upstream connection closed before Close")
	default:
	}
	gw.Close()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the idle upstream connection is still open after Close")
	}
}

// An upstream that echoes the credential it was sent into every field of
// its error body, for each dialect that passes the body's fields on: the
// client sees the status and the error's shape, never the key.
func TestUpstreamErrorFieldsNeverCarryTheKey(t *testing.T) {
	const key = "sk-canary-4f1c9e2a7b"
	for _, tc := range []struct{ name, params string }{
		{"openai", "model: openai/gpt-4o"},
		{"azure", "model: azure/gpt4o\n      api_version: \"2024-06-01\""},
		{"anthropic", "model: anthropic/claude-3-5-sonnet"},
	} {
		for _, status := range []int{400, 422} {
			t.Run(fmt.Sprintf("%s/%d", tc.name, status), func(t *testing.T) {
				upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					cred := cmp.Or(r.Header.Get("Authorization"), r.Header.Get("api-key"), r.Header.Get("x-api-key"))
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(status)
					_ = json.NewEncoder(w).Encode(map[string]any{"type": "error", "error": map[string]any{
						"message": "bad key " + cred, "type": cred, "code": cred, "param": cred}})
				}))
				defer upstream.Close()
				resp, data := chatOnce(t, "model_list:\n  - model_name: m\n    litellm_params:\n      "+tc.params+
					"\n      api_base: "+upstream.URL+"\n      api_key: "+key+"\n")
				if resp.StatusCode != status {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, data)
				}
				if strings.Contains(string(data), key) || strings.Contains(fmt.Sprint(resp.Header), key) {
					t.Fatalf("the key reached the client: %s", data)
				}
				if !strings.Contains(string(data), "[REDACTED]") {
					t.Fatalf("the error lost its content: %s", data)
				}
			})
		}
	}
}

// A Retry-After longer than the retry's own backoff moves the request on
// at once: the upstream said it will refuse until then, and the next
// deployment may serve now. Before, the request slept it out and called
// the refusing upstream again.
func TestLongRetryAfterMovesOnInsteadOfWaiting(t *testing.T) {
	for _, tc := range []struct {
		name       string
		conditions string
		status     int
	}{
		{"a counted 503", "", 503},
		{"a 429 that opens the breaker", "    failure_conditions:\n      - rate_limit: true\n", 429},
		{"a 503 with respect_retry_after off", "    respect_retry_after: false\n", 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := strings.Replace(twoGroups, "  retry_backoff: 1ms", "  retry_backoff: 1ms\n  num_retries: 1", 1) + tc.conditions
			e := newEnv(t, cfg, "primary", "backup")
			e.mocks["primary"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: tc.status, RetryAfter: 5})
			_, h, err := e.chat("gpt-4o-mini")
			if err != nil {
				t.Fatal(err)
			}
			if calls := e.mocks["primary"].Stats().Chat; calls != 1 || h.Get("X-Breakerd-Fallback") != "true" {
				t.Fatalf("primary called %d times, fallback %q: want 1 call, then the fallback", calls, h.Get("X-Breakerd-Fallback"))
			}
		})
	}
}

// A Retry-After holds a breaker open for at most max_recovery_timeout
// (DefaultRetryAfterCap when unset), and extending an open breaker is not
// a state change.
func TestRetryAfterIsCapped(t *testing.T) {
	for _, tc := range []struct {
		name, extra string
		want        time.Duration
	}{
		{"default cap", "", gateway.DefaultRetryAfterCap},
		{"max_recovery_timeout", "    max_recovery_timeout: 2m\n", 2 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, twoGroups+tc.extra, "primary", "backup")
			e.mocks["primary"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503, RetryAfter: 31536000})
			if _, _, err := e.chat("gpt-4o-mini"); err != nil {
				t.Fatal(err)
			}
			at, ok := e.breaker(primaryChat).RetryAt()
			if !ok || !at.Equal(t0.Add(tc.want)) {
				t.Fatalf("breaker open until %v (%v), want t0+%s", at, ok, tc.want)
			}
		})
	}
}

// When every deployment is open, the official SDK at its default retry
// settings surfaces the 503 at once: breakerd already did the retries and
// fallbacks, and says so with x-should-retry: false. Without it the SDK
// waits out Retry-After on each of its two retries.
func TestAllOpenReachesTheSDKWithoutClientRetries(t *testing.T) {
	e := newEnv(t, twoGroups, "primary", "backup")
	e.breaker(primaryChat).OpenUntil(t0.Add(20*time.Second), "test")
	e.breaker("claude-3-5-sonnet/openai/claude-3-5-sonnet:chat").OpenUntil(t0.Add(20*time.Second), "test")
	client := openai.NewClient(option.WithBaseURL(e.url+"/v1/"), option.WithAPIKey("sk-client"), option.WithHTTPClient(e.http))
	_, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")}})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Fatalf("SDK error %v, want the 503", err)
	}
	<-e.done
	if n := len(e.done); n != 0 {
		t.Fatalf("the gateway got %d more requests: the SDK retried", n)
	}
}

// Every counted failure leaves its cause: in the breaker's snapshot and in
// a log line naming the deployment, status, cause and attempt, at most one
// a second per deployment, never with the upstream URL or key.
func TestFailureCausesAreLoggedAndKept(t *testing.T) {
	cfg := strings.Replace(twoGroups, "failure_threshold: 5", "failure_threshold: 50", 1)
	e := newEnv(t, cfg, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	for i := 0; i < 5; i++ {
		if _, _, err := e.chat("gpt-4o-mini"); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(time.Second)
	e.mocks["primary"].SetFaults(mockllm.Faults{Reset: true})
	if _, _, err := e.chat("gpt-4o-mini"); err != nil {
		t.Fatal(err)
	}
	type line struct {
		Msg, Deployment, Operation, Cause string
		Status, Attempt                   int
		Skipped                           int `json:"not_logged_since_last"`
	}
	var lines []line
	for _, l := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var v line
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if v.Msg == "upstream call failed" {
			lines = append(lines, v)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d failure lines, want 2 (one a second):\n%s", len(lines), e.logs)
	}
	first, second := lines[0], lines[1]
	if first.Deployment != "gpt-4o-mini/openai/gpt-4o-mini" || first.Operation != "chat" || first.Status != 503 ||
		first.Attempt != 1 || !strings.HasPrefix(first.Cause, "503 Service Unavailable: ") {
		t.Fatalf("first line %+v", first)
	}
	if second.Skipped != 4 || second.Status != 0 || !strings.HasPrefix(second.Cause, "connection: ") {
		t.Fatalf("second line %+v: want the 4 left out counted, and the reset's cause", second)
	}
	if cause := e.breaker(primaryChat).Snapshot().LastFailureCause; !strings.HasPrefix(cause, "connection: ") {
		t.Fatalf("snapshot cause %q", cause)
	}
	for _, secret := range []string{"sk-primary-secret-key", "127.0.0.1"} {
		if strings.Contains(e.logs.String(), secret) {
			t.Fatalf("logs hold %q:\n%s", secret, e.logs)
		}
	}
}

// A 429 that is not a breaker failure (rate_limit: false, the default)
// cools the deployment down until the provider's Retry-After (5 s without
// one): requests pass it over with no call, and the breaker counts
// nothing. Before, every request went to the throttled provider first.
// The cooldown's beginning is reported once.
func TestRateLimitedProviderCoolsDown(t *testing.T) {
	for _, tc := range []struct {
		name       string
		retryAfter int
		want       time.Duration
	}{{"Retry-After", 30, 30 * time.Second}, {"no Retry-After", 0, gateway.DefaultCooldown}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, twoGroups, "primary", "backup")
			e.mocks["primary"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 429, RetryAfter: tc.retryAfter})
			for i := 0; i < 3; i++ {
				if _, h, err := e.chat("gpt-4o-mini"); err != nil || h.Get("X-Breakerd-Fallback") != "true" {
					t.Fatalf("request %d: err %v, headers %v", i, err, h)
				}
			}
			if n := e.mocks["primary"].Stats().Chat; n != 1 {
				t.Fatalf("the throttled primary got %d calls, want 1", n)
			}
			if c := e.breaker(primaryChat).Counts(); c.Failures != 0 {
				t.Fatalf("counts %+v: a 429 is not a failure here", c)
			}
			d := e.gw.Groups()[0].Deployments[0]
			if until, ok := d.Cooldowns["chat"].Until(e.clock.Now()); !ok || !until.Equal(t0.Add(tc.want)) {
				t.Fatalf("cooldown until %v (%v), want t0+%s", until, ok, tc.want)
			}
			// One cooldown began, reported once (for its alert and log line).
			if got := []string{<-e.cooldowns}; got[0] != primaryChat || len(e.cooldowns) != 0 {
				t.Fatalf("cooldowns reported: %q and %d more, want %s once", got, len(e.cooldowns), primaryChat)
			}
			e.clock.Advance(tc.want)
			e.mocks["primary"].SetFaults(mockllm.Faults{})
			if _, h, err := e.chat("gpt-4o-mini"); err != nil || h.Get("X-Breakerd-Fallback") != "false" {
				t.Fatalf("after the cooldown: err %v, headers %v", err, h)
			}
		})
	}
}

// With nowhere else to go, a rate-limited provider's 429 reaches the
// client as a 429 with Retry-After, and the next request inside the
// cooldown gets the same without an upstream call.
func TestRateLimitedOnlyDeploymentIs429(t *testing.T) {
	e := newEnv(t, twoGroups, "primary", "backup")
	e.mocks["backup"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 429, RetryAfter: 7})
	for i := 0; i < 2; i++ {
		status, h, body := e.post("/v1/chat/completions", `{"model":"claude-3-5-sonnet","messages":[{"role":"user","content":"x"}]}`)
		if status != 429 || h.Get("Retry-After") != "7" {
			t.Fatalf("request %d: status %d Retry-After %q: %v", i, status, h.Get("Retry-After"), body)
		}
	}
	if n := e.mocks["backup"].Stats().Chat; n != 1 {
		t.Fatalf("the provider got %d calls, want 1", n)
	}
}

// A request past the limit is answered at once: a 503 server_overloaded
// with Retry-After: 1, in the client API's shape, and counted.
func TestRequestsPastTheLimitAreShedAtOnce(t *testing.T) {
	e := newEnv(t, twoGroups+"server:\n  max_concurrent_requests: 1\n", "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{Hang: true})
	ctx, cancel := context.WithCancel(context.Background())
	held := make(chan struct{})
	go func() {
		defer close(held)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/v1/chat/completions",
			strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`))
		if resp, err := e.http.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	if err := e.mocks["primary"].WaitRequests(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	status, h, body := e.post("/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`)
	if status != 503 || h.Get("Retry-After") != "1" || h.Get("Content-Type") != "application/json" ||
		body["error"].(map[string]any)["code"] != "server_overloaded" ||
		body["error"].(map[string]any)["message"] != "breakerd is serving its maximum of 1 concurrent requests" {
		t.Fatalf("status %d headers %v body %v", status, h, body)
	}
	status, _, body = e.post("/v1/messages", `{"model":"gpt-4o-mini","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`)
	if status != 503 || body["type"] != "error" || body["error"].(map[string]any)["type"] != "api_error" {
		t.Fatalf("on /v1/messages: status %d body %v", status, body)
	}
	if st := e.gw.Shedding(); st.Shed != 2 || st.InFlight != 1 || st.Unanswered != 1 || st.AtUpstream != 1 {
		t.Fatalf("shedding %+v, want 2 shed and the held request in flight, unanswered and at its upstream", st)
	}
	// Connections past twice the hard cap wait, for 200 ms after the last
	// refusal (being over a target holds them only past twice the
	// adaptive limit, never under 128).
	if e.gw.PauseAccept(1) || !e.gw.PauseAccept(2) {
		t.Fatal("PauseAccept after a refusal: want connections to wait from twice the cap of 1")
	}
	e.clock.Advance(200 * time.Millisecond)
	if e.gw.PauseAccept(2) {
		t.Fatal("PauseAccept 200 ms after the last refusal")
	}
	cancel()
	<-held
}

// An upstream's redirect is not followed, as with LiteLLM's client: breakerd
// does not resend the request (and its key) to wherever a 307 points. It
// is the deployment's failure (a wrong api_base), and the error says so.
func TestUpstreamRedirectIsNotFollowed(t *testing.T) {
	var followed atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed.Add(1) }))
	defer target.Close()
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirecting.Close()
	resp, body := chatOnce(t, `
model_list:
  - model_name: m
    litellm_params: {model: openai/m, api_base: "`+redirecting.URL+`/v1", api_key: sk-redirect}
router_settings: {num_retries: 0}
`)
	if resp.StatusCode != http.StatusServiceUnavailable || followed.Load() != 0 ||
		!strings.Contains(string(body), "307 Temporary Redirect to http://"+strings.TrimPrefix(target.URL, "http://")+"/v1/chat/completions; breakerd does not follow redirects") {
		t.Fatalf("status %d, redirect target called %d times; want a 503 that names the redirect, and no call: %s", resp.StatusCode, followed.Load(), body)
	}
}

// Without a tracer breakerd makes no spans, but a client's trace context
// still reaches the upstream, so a trace across the gateway stays whole.
func TestTraceparentPassesThroughWithoutTracing(t *testing.T) {
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	mock := mockllm.New(mockllm.Options{}).Handler()
	got := make(chan string, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("Traceparent")
		mock.ServeHTTP(w, r)
	}))
	defer up.Close()
	resp, body := chatOnce(t, `
model_list:
  - model_name: m
    litellm_params: {model: openai/m, api_base: "`+up.URL+`/v1", api_key: sk-trace}
`, "Traceparent", parent)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if tp := <-got; tp != parent {
		t.Fatalf("upstream got traceparent %q, want the client's %q", tp, parent)
	}
}

// Upstream connections are kept for the next call however many calls were
// in flight at once: a pool smaller than that closes a connection after
// almost every call above its size (a handshake per call, and TIME_WAIT
// sockets until the local ports to the upstream run out).
func TestUpstreamConnectionsAreReusedAboveTheOldPoolSize(t *testing.T) {
	const concurrent = 300 // above the 256 idle connections per host the pool used to keep
	var arrived, newConns atomic.Int32
	// One barrier per wave: its calls are answered once all of them are in
	// flight, each on a connection of its own.
	var barriers [2]struct {
		ch   chan struct{}
		once sync.Once
	}
	for i := range barriers {
		barriers[i].ch = make(chan struct{})
	}
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(arrived.Add(1))
		b := &barriers[min((n-1)/concurrent, len(barriers)-1)]
		if n%concurrent == 0 {
			b.once.Do(func() { close(b.ch) })
		}
		<-b.ch
	}))
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	up.Start()
	defer up.Close()
	defer func() { // before Close, which waits for the handlers: a failed wave leaves none waiting
		for i := range barriers {
			barriers[i].once.Do(func() { close(barriers[i].ch) })
		}
	}()
	client := gateway.NewUpstreamClient()
	defer client.CloseIdleConnections()
	for wave := 1; wave <= 2; wave++ {
		errs := make(chan error, concurrent)
		for range concurrent {
			go func() {
				resp, err := client.Post(up.URL, "application/json", strings.NewReader("{}"))
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				errs <- err
			}()
		}
		for range concurrent {
			if err := <-errs; err != nil {
				t.Fatalf("wave %d: %v", wave, err)
			}
		}
	}
	if n := newConns.Load(); n != concurrent {
		t.Fatalf("the upstream saw %d connections for two waves of %d concurrent calls; want %d (the second wave on the first's)", n, concurrent, concurrent)
	}
}

// A stream whose first chunk is on its way no longer counts against the
// adaptive limit (an idle stream is hardly load); it still counts as in
// flight, and against server.max_concurrent_requests.
func TestAStreamUnderWayIsAnswered(t *testing.T) {
	e := newEnv(t, twoGroups, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{StallAfter: 2}) // two chunks, then nothing until the client leaves
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp := e.openStream(ctx)
	defer resp.Body.Close()
	if st := e.gw.Shedding(); st.InFlight != 1 || st.Unanswered != 0 || st.AtUpstream != 0 {
		t.Fatalf("shedding %+v with one stream under way: want 1 in flight, 0 unanswered, 0 at the upstream", st)
	}
}
