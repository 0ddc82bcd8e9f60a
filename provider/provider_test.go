package provider

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breakerd/breakerd/config"
)

func TestRefusal(t *testing.T) {
	tests := []struct {
		name string
		err  Error
		want string
	}{
		{"OpenAI's context code", Error{Status: 400, Code: "context_length_exceeded", Message: "too many"}, ContextWindow},
		{"vLLM's words", Error{Status: 400, Message: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens."}, ContextWindow},
		{"Anthropic's words", Error{Status: 400, Code: "invalid_request_error", Message: "prompt is too long: 210000 tokens > 200000 maximum"}, ContextWindow},
		{"a 413 in the same words", Error{Status: 413, Message: "Prompt is too long"}, ContextWindow},
		{"OpenAI's policy code", Error{Status: 400, Code: "content_policy_violation", Message: "rejected"}, ContentPolicy},
		{"Azure's content filter", Error{Status: 400, Code: "content_filter", Message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy."}, ContentPolicy},
		{"Anthropic's words", Error{Status: 400, Message: "Output blocked by content filtering policy"}, ContentPolicy},
		{"OpenRouter's moderation", Error{Status: 403, Message: `anthropic/claude-sonnet-4.6 requires moderation on OpenRouter. Your input was flagged for "violence". No credits were charged.`}, ContentPolicy},
		{"a 403 that is the key's", Error{Status: 403, Message: "Project does not have access to model gpt-5"}, ""},
		{"another 400", Error{Status: 400, Code: "invalid_value", Message: "temperature must be at most 2"}, ""},
		{"a server error in the same words", Error{Status: 500, Message: "context window service down"}, ""},
		{"a transport error", Error{Message: "prompt is too long"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Refusal(); got != tc.want {
				t.Fatalf("Refusal() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestModelMissing(t *testing.T) {
	tests := []struct {
		name  string
		err   Error
		model string
		want  bool
	}{
		{"OpenAI's shut-down model", Error{Status: 404, Code: "model_not_found", Message: "The model `dall-e-3` has been deprecated. Learn more: https://platform.openai.com/docs/deprecations"}, "dall-e-3", true},
		{"OpenAI's model not the key's", Error{Status: 404, Code: "model_not_found", Message: "The model `gpt-9` does not exist or you do not have access to it."}, "gpt-9", true},
		{"Azure's unknown deployment", Error{Status: 404, Code: "DeploymentNotFound", Message: "The API deployment for this resource does not exist."}, "gpt-4o-eastus", true},
		{"Anthropic's retired model", Error{Status: 404, Code: "not_found_error", Message: "model: claude-3-5-sonnet-20241022"}, "claude-3-5-sonnet-20241022", true},
		{"Gemini's unknown model", Error{Status: 404, Message: "models/gemini-1.5-pro is not found for API version v1main, or is not supported for generateContent."}, "gemini-1.5-pro", true},
		{"Bedrock's invalid model id", Error{Status: 400, Code: "ValidationException", Message: "The provided model identifier is invalid."}, "anthropic.claude-v2", true},
		{"Bedrock's model served only through a profile", Error{Status: 400, Code: "ValidationException", Message: "Invocation of model ID anthropic.claude-sonnet-4-6 with on-demand throughput isn’t supported. Retry your request with the ID or ARN of an inference profile that contains this model."}, "anthropic.claude-sonnet-4-6", true},
		{"OpenRouter's unknown model", Error{Status: 400, Message: "foo/bar is not a valid model ID"}, "foo/bar", true},
		{"a previous response not found", Error{Status: 404, Code: "previous_response_not_found", Message: "Previous response with id 'resp_1' not found."}, "gpt-5", false},
		{"a conversation not found", Error{Status: 404, Message: "Conversation with id 'conv_1' not found."}, "gpt-5", false},
		{"a 400 naming the model", Error{Status: 400, Message: "max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-6"}, "claude-sonnet-4-6", false},
		{"a server error naming the model", Error{Status: 503, Message: "claude-sonnet-4-6 is overloaded"}, "claude-sonnet-4-6", false},
		{"a 404 and no model to look for", Error{Status: 404, Message: "not found"}, "", false},
		{"a short model's name inside an id", Error{Status: 404, Message: "Previous response with id 'resp_abco3xyz' not found."}, "o3", false},
		{"a model's name inside a longer one", Error{Status: 404, Message: "model: gpt-4o-mini-2024"}, "gpt-4o-mini", false},
		{"vLLM's unknown model", Error{Status: 404, Message: "The model `o3` does not exist."}, "o3", true},
		{"Ollama's model not pulled", Error{Status: 404, Message: `model "llama3.2" not found, try pulling it first`}, "llama3.2", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.ModelMissing(tc.model); got != tc.want {
				t.Fatalf("ModelMissing(%q) = %v, want %v", tc.model, got, tc.want)
			}
		})
	}
}

func TestOutOfCredit(t *testing.T) {
	tests := []struct {
		name string
		err  Error
		want bool
	}{
		{"OpenAI's insufficient_quota", Error{Status: 429, Type: "insufficient_quota", Code: "insufficient_quota",
			Message: "You exceeded your current quota, please check your plan and billing details."}, true},
		{"Anthropic's credit balance", Error{Status: 400, Code: "invalid_request_error",
			Message: "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."}, true},
		{"Anthropic's billing_error", Error{Status: 402, Code: "billing_error", Message: "There's an issue with your billing."}, true},
		{"DeepSeek's 402", Error{Status: 402, Message: "Insufficient Balance"}, true},
		{"a rate limit", Error{Status: 429, Code: "rate_limit_exceeded", Message: "Rate limit reached for requests"}, false},
		{"Gemini's per-minute quota", Error{Status: 429, Message: "You exceeded your current quota, please check your plan and billing details."}, false},
		{"another 400", Error{Status: 400, Message: "max_tokens: must be at least 1"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.OutOfCredit(); got != tc.want {
				t.Fatalf("OutOfCredit() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWrongPath(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  Error
		want bool
	}{
		{"OpenAI's unknown URL", Error{Status: 404, Message: "Invalid URL (POST /v1/v1/chat/completions)"}, true},
		{"Azure's, which may be an object's", Error{Status: 404, Code: "404", Message: "Resource not found"}, false},
		{"vLLM's", Error{Status: 404, Message: `{"detail":"Not Found"}`}, true},
		{"Go's", Error{Status: 404, Message: "404 page not found"}, true},
		{"a stored response not found", Error{Status: 404, Message: "No response found with id 'resp_1'."}, false},
		{"a 400 in the same words", Error{Status: 400, Message: "Invalid URL (POST /v1/x)"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.WrongPath(); got != tc.want {
				t.Fatalf("WrongPath() = %v, want %v", got, tc.want)
			}
		})
	}
}

// Google's API refuses a key, or the region the server calls from, with
// a 400; it is read as the 401 or 403 it means, so that the deployment is
// passed over instead of the client getting it as its own mistake.
func TestGooglesAccountRefusalsAreWhatTheyMean(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
	}{
		{"a key not valid", `[{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}]`, 401},
		{"a key expired", `{"error":{"code":400,"message":"API key expired. Please renew the API key.","status":"INVALID_ARGUMENT"}}`, 401},
		{"a region refused", `[{"error":{"code":400,"message":"User location is not supported for the API use.","status":"FAILED_PRECONDITION"}}]`, 403},
		{"another 400", `{"error":{"code":400,"message":"Invalid JSON payload received.","status":"INVALID_ARGUMENT"}}`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: 400, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(tc.body))}
			e, _, _ := upstreamError(resp, time.Now(), func(s string) string { return s })
			if e.Status != tc.status {
				t.Fatalf("status %d (%s), want %d", e.Status, e.Message, tc.status)
			}
		})
	}
}

// Google's 429 says when to retry in its body (RetryInfo's retryDelay),
// which is read as Retry-After would be, so that the deployment cools
// down that long, not for the default 5 s at a time.
func TestGooglesRetryDelay(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		header     string
		want       time.Duration
	}{
		{"RetryInfo", `[{"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED","details":[` +
			`{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"36s"}]}}]`, "", 36 * time.Second},
		{"Retry-After wins", `{"error":{"code":429,"message":"x","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"36s"}]}}`, "7", 7 * time.Second},
		{"no RetryInfo", `{"error":{"code":429,"message":"x","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE_LIMIT_EXCEEDED"}]}}`, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("Retry-After", tc.header)
			}
			resp := &http.Response{StatusCode: 429, Header: h, Body: io.NopCloser(strings.NewReader(tc.body))}
			e, _, _ := upstreamError(resp, time.Now(), func(s string) string { return s })
			if e.RetryAfter != tc.want {
				t.Fatalf("RetryAfter %v, want %v", e.RetryAfter, tc.want)
			}
		})
	}
}

func TestAccountCannot(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  Error
		want bool
	}{
		{"OpenAI's unverified organization", Error{Status: 400, Code: "unsupported_value",
			Message: "Your organization must be verified to stream this model. Please go to: https://platform.openai.com/settings/organization/general and click on Verify Organization."}, true},
		{"another 400", Error{Status: 400, Code: "unsupported_value", Message: "Unsupported value: 'stream' does not support true with this model."}, false},
		{"a server error in the same words", Error{Status: 500, Message: "organization must be verified"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.AccountCannot(); got != tc.want {
				t.Fatalf("AccountCannot() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAccountDisabled(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  Error
		want bool
	}{
		{"Anthropic's", Error{Status: 400, Code: "invalid_request_error", Message: "This organization has been disabled."}, true},
		{"OpenAI's", Error{Status: 401, Code: "account_deactivated", Message: "Your OpenAI account has been deactivated, please check your email for more information."}, true},
		{"another 400", Error{Status: 400, Code: "invalid_request_error", Message: "messages: at least one message is required"}, false},
		{"a key refused", Error{Status: 401, Code: "invalid_api_key", Message: "Incorrect API key provided"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.AccountDisabled(); got != tc.want {
				t.Fatalf("AccountDisabled() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 26, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, header, value string
		want                time.Duration
	}{
		{"seconds", "Retry-After", "5", 5 * time.Second},
		{"fractional seconds", "Retry-After", "1.5", 1500 * time.Millisecond},
		{"milliseconds", "Retry-After-Ms", "250", 250 * time.Millisecond},
		{"an HTTP date", "Retry-After", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"a date in the past", "Retry-After", now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"zero", "Retry-After", "0", 0},
		{"negative", "Retry-After", "-3", 0},
		{"not a number", "Retry-After", "soon", 0},
		{"NaN", "Retry-After", "NaN", 0},
		{"a year is cut to the maximum", "Retry-After", "31536000", MaxRetryAfter},
		{"too large for a Duration", "Retry-After", "1e300", MaxRetryAfter},
		{"infinite", "Retry-After", "+Inf", MaxRetryAfter},
		{"too many milliseconds", "Retry-After-Ms", "1e300", MaxRetryAfter},
		{"a date far ahead", "Retry-After", now.AddDate(5, 0, 0).Format(http.TimeFormat), MaxRetryAfter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(tc.header, tc.value)
			if got := ParseRetryAfter(h, now); got != tc.want {
				t.Fatalf("ParseRetryAfter(%s: %s) = %v, want %v", tc.header, tc.value, got, tc.want)
			}
		})
	}
}

// Whatever an upstream sends, a Retry-After is never negative and never
// longer than MaxRetryAfter.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"5", "1.5", "1e300", "-1", "NaN", "+Inf", "Mon, 26 Jan 2026 12:01:30 GMT", ""} {
		f.Add(s, false)
		f.Add(s, true)
	}
	now := time.Date(2026, 1, 26, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string, ms bool) {
		h := http.Header{}
		if ms {
			h.Set("Retry-After-Ms", v)
		} else {
			h.Set("Retry-After", v)
		}
		if d := ParseRetryAfter(h, now); d < 0 || d > MaxRetryAfter {
			t.Fatalf("ParseRetryAfter(%q, ms=%v) = %v", v, ms, d)
		}
	})
}

// The config's names for operations (circuit_breaker.operations) are the
// operations there are, in their order.
func TestOperationsAreTheConfigsNames(t *testing.T) {
	var names []string
	for _, op := range Operations {
		names = append(names, string(op))
	}
	if !slices.Equal(names, config.OperationNames) {
		t.Fatalf("provider.Operations %v, config.OperationNames %v", names, config.OperationNames)
	}
}

// A rerank call goes beside the OpenAI-compatible API, except where the
// provider's rerank API is elsewhere (Cohere's v2), unless the config
// points the deployment at another server.
func TestRerankURLs(t *testing.T) {
	for _, tc := range []struct{ provider, base, want string }{
		{"hosted_vllm", "http://vllm:8000/v1", "http://vllm:8000/v1/rerank"},
		{"jina_ai", "https://api.jina.ai/v1", "https://api.jina.ai/v1/rerank"},
		{"cohere", "https://api.cohere.ai/compatibility/v1", "https://api.cohere.ai/v2/rerank"},
		{"cohere", "https://cohere-proxy.internal/v1", "https://cohere-proxy.internal/v1/rerank"},
	} {
		p := newOpenAI(config.Deployment{Provider: tc.provider, Dialect: config.DialectOpenAI, APIBase: tc.base, Model: "m", Mode: "rerank"}, nil, nil)
		if got := p.urlFor(&Request{Op: Rerank, API: APIRerank}); got != tc.want {
			t.Errorf("%s at %s: %s, want %s", tc.provider, tc.base, got, tc.want)
		}
	}
}

// A deployment whose key goes in a header of its own (Azure AI Foundry's
// api-key) and whose URLs carry a query (its api-version) is called so,
// for chat and for embeddings.
func TestKeyHeaderAndQuery(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.Path+"?"+r.URL.RawQuery+" api-key="+r.Header.Get("Api-Key")+" auth="+r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"object":"list","data":[],"model":"m","choices":[],"usage":{"prompt_tokens":1,"total_tokens":1}}`))
	}))
	defer srv.Close()
	p, err := New(config.Deployment{Provider: "azure_ai", Dialect: config.DialectOpenAI, Model: "m", APIBase: srv.URL + "/models",
		APIKey: "az-ai-key-123", KeyHeader: "api-key", Query: "api-version=2024-05-01-preview", Embeddings: true}, nil, &learned{})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []Operation{Chat, Embeddings} {
		if _, err := p.Send(context.Background(), &Request{Op: op, Model: "m", Body: []byte(`{"model":"m","input":"x","messages":[]}`)}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"/models/chat/completions?api-version=2024-05-01-preview api-key=az-ai-key-123 auth=",
		"/models/embeddings?api-version=2024-05-01-preview api-key=az-ai-key-123 auth="}
	if !slices.Equal(got, want) {
		t.Fatalf("upstream saw %q, want %q", got, want)
	}
}

// A Realtime call's session model is read and set in a client secret's
// JSON and in a WebRTC call's form, a session made where there is none.
func TestRealtimeSessionModel(t *testing.T) {
	form := func(parts ...string) (string, string) {
		var b strings.Builder
		for i := 0; i+1 < len(parts); i += 2 {
			b.WriteString("--B\r\nContent-Disposition: form-data; name=\"" + parts[i] + "\"\r\n\r\n" + parts[i+1] + "\r\n")
		}
		b.WriteString("--B--\r\n")
		return b.String(), "multipart/form-data; boundary=B"
	}
	withSession, ct := form("sdp", "v=0", "session", `{"type":"realtime","model":"group","voice":"alloy"}`)
	bare, _ := form("sdp", "v=0")
	for _, tc := range []struct {
		name, body, ctype, named, wantIn string
	}{
		{"a secret's session", `{"session":{"type":"realtime","model":"group","instructions":"x"},"expires_after":{"seconds":60}}`, "application/json", "group", `"model":"deployment-model"`},
		{"a secret without a session", `{}`, "application/json", "", `"session":{"model":"deployment-model","type":"realtime"}`},
		{"a call's form", withSession, ct, "group", `{"model":"deployment-model","type":"realtime","voice":"alloy"}`},
		{"a call without a session", bare, ct, "", `name="session"` + "\r\nContent-Type: application/json\r\n\r\n" + `{"model":"deployment-model","type":"realtime"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			named, err := RealtimeModel([]byte(tc.body), tc.ctype)
			if err != nil || named != tc.named {
				t.Fatalf("model %q, %v; want %q", named, err, tc.named)
			}
			out, _, err := realtimeSession([]byte(tc.body), tc.ctype, "deployment-model")
			if err != nil || !strings.Contains(string(out), tc.wantIn) {
				t.Fatalf("%q, %v; want it to hold %q", out, err, tc.wantIn)
			}
		})
	}
	if _, err := RealtimeModel([]byte("v=0\r\n"), "application/sdp"); err == nil {
		t.Error("an SDP offer read as a session")
	}
}

// An upstream's error body gives the error its message, type and code in
// each shape upstreams send: OpenAI's, watsonx.ai's list of errors,
// Google's error in a list (its number code is the status again, not an
// error code), and text.
func TestUpstreamErrorShapes(t *testing.T) {
	for _, tc := range []struct {
		name, body         string
		message, typ, code string
	}{
		{"OpenAI's", `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`, "Rate limit reached", "requests", "rate_limit_exceeded"},
		{"watsonx.ai's", `{"errors":[{"code":"model_not_supported","message":"no such model"}],"trace":"t"}`, "no such model", "", "model_not_supported"},
		{"Google's, in a list", `[{"error":{"code":400,"message":"Invalid JSON payload received. Unknown name \"top_k\": Cannot find field.","status":"INVALID_ARGUMENT"}}]`,
			`Invalid JSON payload received. Unknown name "top_k": Cannot find field.`, "", ""},
		{"text", "upstream connect error", "upstream connect error", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: 400, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(tc.body))}
			e, typ, code := upstreamError(resp, time.Now(), func(s string) string { return s })
			if e.Message != tc.message || typ != tc.typ || code != tc.code || e.Status != 400 {
				t.Fatalf("got %q %q %q (status %d)", e.Message, typ, code, e.Status)
			}
		})
	}
}

// A stream that ended before its usage is estimated: the input where
// none came, the output as at least a token for each delta relayed and
// for each 4 characters of their text.
func TestUsageEstimate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in, want Usage
	}{
		{"nothing said (OpenAI's, at its end)", Usage{Deltas: 7}, Usage{InputTokens: 40, OutputTokens: 7, Deltas: 7, Estimated: true}},
		{"the input said (Anthropic's message_start)", Usage{InputTokens: 12, OutputTokens: 1, Deltas: 5}, Usage{InputTokens: 12, OutputTokens: 5, Deltas: 5, Estimated: true}},
		{"more output said than deltas", Usage{InputTokens: 12, OutputTokens: 30, Deltas: 5}, Usage{InputTokens: 12, OutputTokens: 30, Deltas: 5, Estimated: true}},
		{"deltas of several tokens each (Anthropic's)", Usage{InputTokens: 12, Deltas: 3, DeltaChars: 90},
			Usage{InputTokens: 12, OutputTokens: 23, Deltas: 3, DeltaChars: 90, Estimated: true}},
		{"deltas shorter than a token each", Usage{Deltas: 6, DeltaChars: 9}, Usage{InputTokens: 40, OutputTokens: 6, Deltas: 6, DeltaChars: 9, Estimated: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.Estimate(40); got != tc.want {
				t.Fatalf("Estimate(40) = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// A delta's text is counted in characters, wherever a stream puts it;
// what is not text (ids, types, objects, a key's name inside the text)
// is not.
func TestDeltaChars(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       int
	}{
		{"a chat chunk's content", `{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"Hello"}}]}`, 5},
		{"a chat chunk's reasoning and content", `{"choices":[{"delta":{"reasoning_content":"hmm","content":"ok"}}]}`, 5},
		{"vLLM's spaced JSON", `{"choices": [{"delta": {"reasoning": "abc", "content": null}}]}`, 3},
		{"a tool call's arguments", `{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1}"}}]}}]}`, 7},
		{"a role chunk has none", `{"choices":[{"delta":{"role":"assistant","content":""}}]}`, 0},
		{"a Messages text delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"four score and seven"}}`, 20},
		{"a Messages thinking delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"let me see"}}`, 10},
		{"a Messages tool input delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"q\":"}}`, 5},
		{"a Responses text delta", `{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"abc","sequence_number":4}`, 3},
		{"an escape is a character", `{"choices":[{"delta":{"content":"a\nb\u00e9"}}]}`, 4},
		{"a character of several bytes is one", `{"choices":[{"delta":{"content":"日本語"}}]}`, 3},
		{"a key's name inside the text is text", `{"choices":[{"delta":{"content":"say \"content\": \"x\""}}]}`, 18},
		{"a string cut short is not counted", `{"choices":[{"delta":{"content":"abc`, 0},
		{"text before the delta", `{"choices":[{"message":{"content":"ab"},"delta":{"content":"cd"}}]}`, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := deltaChars([]byte(tc.data)); got != tc.want {
				t.Fatalf("deltaChars(%s) = %d, want %d", tc.data, got, tc.want)
			}
		})
	}
}

// BenchmarkDeltaChars counts the text of a chat chunk and of a Messages
// delta, as every delta relayed is counted.
func BenchmarkDeltaChars(b *testing.B) {
	for _, tc := range []struct{ name, data string }{
		{"chat", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"word "},"finish_reason":null}]}`},
		{"messages", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"word "}}`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			data := []byte(tc.data)
			b.ReportAllocs()
			for b.Loop() {
				if deltaChars(data) != 5 {
					b.Fatal("miscounted")
				}
			}
		})
	}
}
