package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/openai/openai-go/v3"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/mockllm"
)

// awsUpstream is a mock AWS service (bedrock, sagemaker: the mock's
// name) that, as AWS does, takes a call only when its signature is the
// one AWS's own signer makes for the service, over the headers the call
// says it signed, with the access key's secret; refused counts the calls
// it refused.
func awsUpstream(t *testing.T, service string, creds aws.Credentials, refused *atomic.Int64) (*mockllm.Server, *httptest.Server) {
	t.Helper()
	mock := mockllm.New(mockllm.Options{Name: service, APIKey: creds.AccessKeyID})
	h := mock.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if !validSignature(r, body, creds, service) {
			refused.Add(1)
			w.Header().Set("X-Amzn-Errortype", "InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"message":"The request signature we calculated does not match the signature you provided."}`))
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return mock, srv
}

// validSignature signs a copy of r, with only the headers r's signature
// names, by AWS's SDK, at r's X-Amz-Date, for service and the region r's
// signature names, and compares the two.
func validSignature(r *http.Request, body []byte, creds aws.Credentials, service string) bool {
	auth := r.Header.Get("Authorization")
	_, signedList, ok := strings.Cut(auth, "SignedHeaders=")
	if !ok {
		return false
	}
	signedList, _, _ = strings.Cut(signedList, ",")
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return false
	}
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	cp, _ := http.NewRequest(r.Method, u.String(), bytes.NewReader(body))
	for _, name := range strings.Split(signedList, ";") {
		if name != "host" && name != "content-length" && name != "x-amz-security-token" {
			cp.Header[http.CanonicalHeaderKey(name)] = r.Header.Values(name)
		}
	}
	sum := sha256.Sum256(body)
	scope := strings.Split(strings.Split(auth, "Credential=")[1], "/") // key/day/region/service/aws4_request
	if len(scope) < 5 || scope[3] != service || creds.SessionToken != r.Header.Get("X-Amz-Security-Token") {
		return false
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, cp, hex.EncodeToString(sum[:]), scope[3], scope[2], at); err != nil {
		return false
	}
	return cp.Header.Get("Authorization") == auth
}

// Claude on Bedrock: chat completions (translated, whole and streamed
// from AWS's event stream), the Messages API through Anthropic's client,
// and count_tokens reach the model's InvokeModel signed with the
// deployment's temporary key; the secret and the token appear nowhere;
// a failing Bedrock is an outage the request falls back from.
func TestClaudeOnBedrock(t *testing.T) {
	creds := aws.Credentials{AccessKeyID: "AKIDBEDROCKTEST", SecretAccessKey: "bedrock-secret-access-key", SessionToken: "bedrock-session-token"}
	var refused atomic.Int64
	bedrock, upstream := awsUpstream(t, "bedrock", creds, &refused)
	e := newEnv(t, `
model_list:
  - model_name: claude
    litellm_params:
      model: bedrock/anthropic.claude-3-5-haiku-20241022-v1:0
      aws_region_name: eu-west-1
      aws_access_key_id: `+creds.AccessKeyID+`
      aws_secret_access_key: `+creds.SecretAccessKey+`
      aws_session_token: `+creds.SessionToken+`
      aws_bedrock_runtime_endpoint: "`+upstream.URL+`"
  - model_name: claude
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
router_settings:
  routing_strategy: ordered
  num_retries: 0
`, "b")
	got, _, err := e.chat("claude")
	if err != nil || !strings.Contains(got.Choices[0].Message.Content, "Hello from bedrock") || got.Model != "anthropic.claude-3-5-haiku-20241022-v1:0" {
		t.Fatalf("chat: %+v %v (refused %d)", got, err, refused.Load())
	}

	stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: "claude",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream please")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}})
	acc, _, err := drain(stream)
	if err != nil || !strings.Contains(acc.Choices[0].Message.Content, "Hello from bedrock! You said: stream please") ||
		acc.Choices[0].FinishReason != "stop" || acc.Usage.CompletionTokens == 0 {
		t.Fatalf("stream: %+v %v", acc.ChatCompletion, err)
	}

	client := e.anthropicClient()
	msg, err := drainMessages(client.Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{Model: "claude", MaxTokens: 64,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("messages"))}}))
	if err != nil || !strings.Contains(msg.Content[0].Text, "Hello from bedrock! You said: messages") || msg.StopReason != "end_turn" {
		t.Fatalf("Messages stream: %+v %v", msg, err)
	}
	count, err := client.Messages.CountTokens(context.Background(), anthropic.MessageCountTokensParams{Model: "claude",
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("count these words"))}})
	if err != nil || count.InputTokens == 0 {
		t.Fatalf("count_tokens: %+v %v", count, err)
	}
	if n := bedrock.Stats().Messages; n != 4 || refused.Load() != 0 {
		t.Fatalf("bedrock served %d calls and refused %d, want 4 and none", n, refused.Load())
	}

	bedrock.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
	got, h, err := e.chat("claude")
	if err != nil || !strings.Contains(got.Choices[0].Message.Content, "Hello from b") {
		t.Fatalf("failing: %+v %v %v", got, h, err)
	}
	if f := e.breaker("claude/bedrock/anthropic.claude-3-5-haiku-20241022-v1:0:chat").Counts().Failures; f != 1 {
		t.Fatalf("breaker failures %d, want 1", f)
	}
	logs := e.logs.String()
	for _, secret := range []string{creds.SecretAccessKey, creds.SessionToken} {
		if strings.Contains(logs, secret) {
			t.Fatalf("logs hold %q:\n%s", secret, logs)
		}
	}
}

// A call whose signature AWS refuses (a wrong secret) is the
// deployment's failure, which the client is told with Bedrock's message.
func TestBedrockRefusesAWrongSecret(t *testing.T) {
	var refused atomic.Int64
	_, upstream := awsUpstream(t, "bedrock", aws.Credentials{AccessKeyID: "AKIDBEDROCKTEST", SecretAccessKey: "the-right-secret"}, &refused)
	e := newEnv(t, `
model_list:
  - model_name: claude
    litellm_params: {model: bedrock/anthropic.claude-3-5-haiku-20241022-v1:0, aws_access_key_id: AKIDBEDROCKTEST,
      aws_secret_access_key: a-wrong-secret, api_base: "`+upstream.URL+`"}
router_settings: {num_retries: 0}
`)
	status, _, body := e.post("/v1/chat/completions", `{"model":"claude","messages":[{"role":"user","content":"hi"}]}`)
	msg, _ := body["error"].(map[string]any)["message"].(string)
	if status != http.StatusServiceUnavailable || !strings.Contains(msg, "403: The request signature we calculated does not match") || refused.Load() != 1 {
		t.Fatalf("%d %v (refused %d)", status, body, refused.Load())
	}
}

// Other models on Bedrock take its Converse API: chat completions (whole,
// streamed, with a forced tool call), the Responses and Messages APIs and
// count_tokens reach converse, converse-stream and count-tokens, each call
// signed as AWS's signer signs it.
func TestConverseOnBedrock(t *testing.T) {
	creds := aws.Credentials{AccessKeyID: "AKIDBEDROCKTEST", SecretAccessKey: "bedrock-secret-access-key"}
	var refused atomic.Int64
	bedrock, upstream := awsUpstream(t, "bedrock", creds, &refused)
	e := newEnv(t, `
model_list:
  - model_name: llama
    litellm_params:
      model: bedrock/meta.llama3-1-70b-instruct-v1:0
      aws_access_key_id: `+creds.AccessKeyID+`
      aws_secret_access_key: `+creds.SecretAccessKey+`
      aws_bedrock_runtime_endpoint: "`+upstream.URL+`"
`)
	ctx := context.Background()
	got, _, err := e.chat("llama")
	if err != nil || !strings.Contains(got.Choices[0].Message.Content, "Hello from bedrock") || got.Model != "meta.llama3-1-70b-instruct-v1:0" ||
		got.Usage.PromptTokens == 0 || got.Choices[0].FinishReason != "stop" {
		t.Fatalf("chat: %+v %v (refused %d)", got, err, refused.Load())
	}

	stream := e.client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "llama",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("be brief"), openai.UserMessage("stream please")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}})
	acc, _, err := drain(stream)
	if err != nil || !strings.Contains(acc.Choices[0].Message.Content, "Hello from bedrock! You said: stream please") ||
		acc.Choices[0].FinishReason != "stop" || acc.Usage.PromptTokens == 0 || acc.Usage.CompletionTokens == 0 {
		t.Fatalf("stream: %+v %v", acc.ChatCompletion, err)
	}

	tools := openai.ChatCompletionNewParams{Model: "llama", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("weather?")},
		Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{Name: "weather",
			Parameters: openai.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}})},
		ToolChoice: openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")}}
	called, err := e.client.Chat.Completions.New(ctx, tools)
	if err != nil || len(called.Choices[0].Message.ToolCalls) != 1 || called.Choices[0].Message.ToolCalls[0].Function.Name != "weather" ||
		!strings.Contains(called.Choices[0].Message.ToolCalls[0].Function.Arguments, `"city"`) || called.Choices[0].FinishReason != "tool_calls" {
		t.Fatalf("tool call: %+v %v", called, err)
	}
	toolStream := e.client.Chat.Completions.NewStreaming(ctx, tools)
	acc, _, err = drain(toolStream)
	if err != nil || len(acc.Choices[0].Message.ToolCalls) != 1 || !strings.Contains(acc.Choices[0].Message.ToolCalls[0].Function.Arguments, `"city"`) {
		t.Fatalf("streamed tool call: %+v %v", acc.ChatCompletion, err)
	}

	r, err := e.client.Responses.New(ctx, responseParams("llama", "responses here", false))
	if err != nil || !strings.Contains(r.OutputText(), "Hello from bedrock! You said: responses here") {
		t.Fatalf("responses: %+v %v", r, err)
	}

	client := e.anthropicClient()
	msg, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: "llama", MaxTokens: 64,
		System:   []anthropic.TextBlockParam{{Text: "be brief"}},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("messages"))}})
	if err != nil || !strings.Contains(msg.Content[0].Text, "Hello from bedrock! You said: messages") || msg.StopReason != "end_turn" || msg.Usage.InputTokens == 0 {
		t.Fatalf("Messages: %+v %v", msg, err)
	}
	count, err := client.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: "llama",
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("count these words"))}})
	if err != nil || count.InputTokens != 4 {
		t.Fatalf("count_tokens: %+v %v", count, err)
	}
	if n := bedrock.Stats().Messages; n != 7 || refused.Load() != 0 {
		t.Fatalf("bedrock served %d calls and refused %d, want 7 and none", n, refused.Load())
	}
}

// stsServer is AWS STS, as its documentation shows it: AssumeRole, signed
// with base's key, and AssumeRoleWithWebIdentity, with token, answer
// temp's key for an hour; anything else is refused with STS's error.
// calls counts the calls.
func stsServer(t *testing.T, base aws.Credentials, token string, temp aws.Credentials, calls *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		_ = r.ParseForm()
		action := r.PostForm.Get("Action")
		ok := r.PostForm.Get("RoleArn") == "arn:aws:iam::123456789012:role/bedrock" && r.PostForm.Get("Version") == "2011-06-15" &&
			(action == "AssumeRole" && validSignature(r, body, base, "sts") ||
				action == "AssumeRoleWithWebIdentity" && r.PostForm.Get("WebIdentityToken") == token && r.Header.Get("Authorization") == "")
		if !ok {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>` +
				`<Message>Not authorized to perform sts:` + action + `</Message></Error><RequestId>r1</RequestId></ErrorResponse>`))
			return
		}
		expires := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		_, _ = w.Write([]byte(`<` + action + `Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><` + action + `Result>` +
			`<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/bedrock/` + r.PostForm.Get("RoleSessionName") + `</Arn></AssumedRoleUser>` +
			`<Credentials><AccessKeyId>` + temp.AccessKeyID + `</AccessKeyId><SecretAccessKey>` + temp.SecretAccessKey + `</SecretAccessKey>` +
			`<SessionToken>` + temp.SessionToken + `</SessionToken><Expiration>` + expires + `</Expiration></Credentials>` +
			`</` + action + `Result><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></` + action + `Response>`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A role is assumed through STS, with the key given (AssumeRole, signed)
// or a web identity's token, once for many calls; the role's temporary
// key signs the calls. A role STS refuses is the deployment's
// authentication failure, which the request falls back from, and whose
// error shows neither key nor token.
func TestBedrockRolesAreAssumed(t *testing.T) {
	base := aws.Credentials{AccessKeyID: "AKIDBASEKEY", SecretAccessKey: "base-secret-access-key"}
	temp := aws.Credentials{AccessKeyID: "ASIATEMPKEY", SecretAccessKey: "temp-secret-access-key", SessionToken: "temp-session-token"}
	const token = "eyJ-web-identity-token"
	for _, tc := range []struct {
		name, with string
		refused    bool
	}{
		{"with the key given", "aws_access_key_id: " + base.AccessKeyID + ", aws_secret_access_key: " + base.SecretAccessKey, false},
		{"with a web identity's token", "aws_web_identity_token: " + token, false},
		{"refused", "aws_access_key_id: " + base.AccessKeyID + ", aws_secret_access_key: a-wrong-secret", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stsCalls, refused atomic.Int64
			sts := stsServer(t, base, token, temp, &stsCalls)
			bedrock, upstream := awsUpstream(t, "bedrock", temp, &refused)
			e := newEnv(t, `
model_list:
  - model_name: claude
    litellm_params: {model: bedrock/anthropic.claude-3-5-haiku-20241022-v1:0, aws_role_name: "arn:aws:iam::123456789012:role/bedrock",
      `+tc.with+`, aws_sts_endpoint: "`+sts.URL+`", aws_bedrock_runtime_endpoint: "`+upstream.URL+`"}
  - model_name: claude
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
router_settings: {routing_strategy: ordered, num_retries: 0}
`, "b")
			for range 2 {
				got, _, err := e.chat("claude")
				want := map[bool]string{false: "Hello from bedrock", true: "Hello from b"}[tc.refused]
				if err != nil || !strings.Contains(got.Choices[0].Message.Content, want) {
					t.Fatalf("chat: %+v %v", got, err)
				}
			}
			if tc.refused {
				if f := e.breaker("claude/bedrock/anthropic.claude-3-5-haiku-20241022-v1:0:chat").Counts().Failures; f != 2 || bedrock.Stats().Requests != 0 {
					t.Fatalf("failures %d, bedrock calls %d: want 2 and none", f, bedrock.Stats().Requests)
				}
				logs := e.logs.String()
				if !strings.Contains(logs, "AWS STS did not let breakerd assume arn:aws:iam::123456789012:role/bedrock: 403 AccessDenied") ||
					strings.Contains(logs, "a-wrong-secret") {
					t.Fatalf("logs:\n%s", logs)
				}
				return
			}
			if n := stsCalls.Load(); n != 1 || bedrock.Stats().Messages != 2 || refused.Load() != 0 {
				t.Fatalf("%d STS calls, %d Bedrock calls, %d refused: want 1, 2, none", n, bedrock.Stats().Messages, refused.Load())
			}
		})
	}
}

// Embedding models on Bedrock serve OpenAI's embeddings API: Titan's one
// call per input (with dimensions), Cohere's one for all, as floats or as
// base64 (the Node SDK's default), each call signed.
func TestBedrockEmbeddings(t *testing.T) {
	creds := aws.Credentials{AccessKeyID: "AKIDBEDROCKTEST", SecretAccessKey: "bedrock-secret-access-key"}
	var refused atomic.Int64
	bedrock, upstream := awsUpstream(t, "bedrock", creds, &refused)
	keys := "aws_access_key_id: " + creds.AccessKeyID + ", aws_secret_access_key: " + creds.SecretAccessKey + `, aws_bedrock_runtime_endpoint: "` + upstream.URL + `"`
	e := newEnv(t, `
model_list:
  - model_name: titan
    litellm_params: {model: bedrock/amazon.titan-embed-text-v2:0, `+keys+`}
  - model_name: cohere
    litellm_params: {model: bedrock/cohere.embed-english-v3, `+keys+`}
`)
	ctx := context.Background()
	for _, tc := range []struct {
		model string
		calls int64
		dims  int
	}{{"titan", 2, 256}, {"cohere", 1, 8}} {
		bedrock.Reset()
		params := openai.EmbeddingNewParams{Model: tc.model, Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"first text", "second text"}}}
		if tc.model == "titan" {
			params.Dimensions = openai.Int(256)
		}
		got, err := e.client.Embeddings.New(ctx, params)
		if err != nil || len(got.Data) != 2 || len(got.Data[1].Embedding) != tc.dims || got.Data[1].Index != 1 || got.Usage.PromptTokens == 0 {
			t.Fatalf("%s: %+v %v", tc.model, got, err)
		}
		status, _, body := e.post("/v1/embeddings", fmt.Sprintf(`{"model":%q,"input":"first text","encoding_format":"base64"%s}`, tc.model,
			map[bool]string{true: `,"dimensions":256`}[tc.model == "titan"]))
		data, _ := body["data"].([]any)
		if status != 200 || len(data) != 1 {
			t.Fatalf("%s base64: %d %v", tc.model, status, body)
		}
		raw, err := base64.StdEncoding.DecodeString(data[0].(map[string]any)["embedding"].(string))
		if err != nil || len(raw) != 4*tc.dims ||
			math.Float32frombits(binary.LittleEndian.Uint32(raw)) != float32(got.Data[0].Embedding[0]) {
			t.Fatalf("%s base64: %d bytes, %v", tc.model, len(raw), err)
		}
		if n := bedrock.Stats().Embeddings; n != tc.calls+1 || refused.Load() != 0 { // and the one input in base64
			t.Fatalf("%s: %d calls, %d refused", tc.model, n, refused.Load())
		}
	}
	if status, _, _ := e.post("/v1/chat/completions", `{"model":"titan","messages":[{"role":"user","content":"hi"}]}`); status < 400 {
		t.Fatalf("chat with an embedding model: %d", status)
	}
}

// A SageMaker endpoint whose container speaks OpenAI's chat API: chat
// whole and streamed (from its PayloadParts) at its invocations, signed
// for sagemaker; the container's own 400 (a prompt too long) reaches the
// client as its refusal; an endpoint that fails is an outage the request
// falls back from.
func TestSageMakerEndpoints(t *testing.T) {
	creds := aws.Credentials{AccessKeyID: "AKIDSAGEMAKER", SecretAccessKey: "sagemaker-secret-access-key"}
	var refused atomic.Int64
	sm, upstream := awsUpstream(t, "sagemaker", creds, &refused)
	e := newEnv(t, `
model_list:
  - model_name: llama
    litellm_params: {model: sagemaker_chat/my-llama-endpoint, aws_access_key_id: `+creds.AccessKeyID+`,
      aws_secret_access_key: `+creds.SecretAccessKey+`, aws_region_name: eu-west-1, api_base: "`+upstream.URL+`"}
  - model_name: llama
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
router_settings: {routing_strategy: ordered, num_retries: 0}
`, "b")
	got, h, err := e.chat("llama")
	if err != nil || !strings.Contains(got.Choices[0].Message.Content, "Hello from sagemaker") || h.Get("X-Breakerd-Provider") != "sagemaker_chat" {
		t.Fatalf("chat: %+v %v %v (refused %d)", got, h, err, refused.Load())
	}
	stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: "llama",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream please")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}})
	acc, _, err := drain(stream)
	if err != nil || !strings.Contains(acc.Choices[0].Message.Content, "Hello from sagemaker! You said: stream please") || acc.Usage.TotalTokens == 0 {
		t.Fatalf("stream: %+v %v", acc.ChatCompletion, err)
	}
	if !strings.Contains(sm.LastBody(), `"model":"my-llama-endpoint"`) || sm.Stats().Chat != 2 || refused.Load() != 0 {
		t.Fatalf("sagemaker got %s, %d calls, %d refused", sm.LastBody(), sm.Stats().Chat, refused.Load())
	}

	sm.SetFaults(mockllm.Faults{ContextTokens: 1})
	status, _, body := e.post("/v1/chat/completions", `{"model":"llama","messages":[{"role":"user","content":"a prompt too long"}]}`)
	msg, _ := body["error"].(map[string]any)["message"].(string)
	if status != http.StatusBadRequest || msg != "This model's maximum context length is 1 tokens. However, your messages resulted in 5 tokens." {
		t.Fatalf("too long: %d %v", status, body)
	}
	sm.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	got, _, err = e.chat("llama")
	if err != nil || !strings.Contains(got.Choices[0].Message.Content, "Hello from b") {
		t.Fatalf("failing: %+v %v", got, err)
	}
	if f := e.breaker("llama/sagemaker_chat/my-llama-endpoint:chat").Counts().Failures; f != 1 {
		t.Fatalf("breaker failures %d, want 1", f)
	}
}

// A deployment's Bedrock guardrail checks every call, at InvokeModel (in
// its headers) and at Converse (in its body); the guardrail's answer in
// the model's place reaches the client as a refusal (finish_reason
// content_filter), not an answer that ended.
func TestBedrockGuardrails(t *testing.T) {
	creds := aws.Credentials{AccessKeyID: "AKIDBEDROCKTEST", SecretAccessKey: "bedrock-secret-access-key"}
	var refused atomic.Int64
	bedrock, upstream := awsUpstream(t, "bedrock", creds, &refused)
	bedrock.SetFaults(mockllm.Faults{BlockedWords: []string{"forbidden"}})
	keys := "aws_access_key_id: " + creds.AccessKeyID + ", aws_secret_access_key: " + creds.SecretAccessKey + `, aws_bedrock_runtime_endpoint: "` + upstream.URL + `"`
	e := newEnv(t, `
model_list:
  - model_name: claude
    litellm_params: {model: bedrock/anthropic.claude-3-5-haiku-20241022-v1:0, `+keys+`, guardrailConfig: {guardrailIdentifier: gr-1, guardrailVersion: "1"}}
  - model_name: llama
    litellm_params: {model: bedrock/meta.llama3-1-70b-instruct-v1:0, `+keys+`, guardrailConfig: {guardrailIdentifier: gr-1, guardrailVersion: DRAFT, trace: enabled}}
`)
	ctx := context.Background()
	for _, model := range []string{"claude", "llama"} {
		got, err := e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: model,
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("something forbidden")}})
		if err != nil || got.Choices[0].Message.Content != "Sorry, the model cannot answer this question." || got.Choices[0].FinishReason != "content_filter" {
			t.Fatalf("%s: %+v %v", model, got, err)
		}
		got, err = e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: model,
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("something fine")}})
		if err != nil || !strings.Contains(got.Choices[0].Message.Content, "Hello from bedrock") || got.Choices[0].FinishReason != "stop" {
			t.Fatalf("%s, allowed: %+v %v", model, got, err)
		}
	}
	if refused.Load() != 0 {
		t.Fatalf("%d calls refused", refused.Load())
	}
}

// Claude on Bedrock's Converse API thinks as on Anthropic's: its thinking
// comes back with the signature Claude checks (whole, and in a stream as
// a signature delta), and goes back to it as reasoningContent, so a tool
// loop with thinking on keeps its thinking before the tool call, as
// Claude wants (the mock, as Bedrock, refuses the step otherwise).
func TestThinkingOnConverse(t *testing.T) {
	creds := aws.Credentials{AccessKeyID: "AKIDBEDROCKTEST", SecretAccessKey: "bedrock-secret-access-key"}
	var refused atomic.Int64
	_, upstream := awsUpstream(t, "bedrock", creds, &refused)
	e := newEnv(t, `
model_list:
  - model_name: sonnet
    litellm_params:
      model: bedrock/converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0
      aws_access_key_id: `+creds.AccessKeyID+`
      aws_secret_access_key: `+creds.SecretAccessKey+`
      aws_bedrock_runtime_endpoint: "`+upstream.URL+`"
`)
	ctx := context.Background()
	client := e.anthropicClient()
	thinking := anthropic.ThinkingConfigParamOfEnabled(2000)
	first, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: "sonnet", MaxTokens: 4000, Thinking: thinking,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Read go.mod"))}})
	if err != nil || len(first.Content) != 2 || first.Content[0].Type != "thinking" || !strings.HasPrefix(first.Content[0].Signature, "mocksig_converse_") {
		t.Fatalf("%v (refused %d): %+v", err, refused.Load(), first)
	}
	// The next step of a tool loop: the thinking that led to the call, then
	// the call, then its result.
	step := anthropic.MessageNewParams{Model: "sonnet", MaxTokens: 4000, Thinking: thinking,
		Tools: []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "read", InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{}}}}},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Read go.mod")),
			anthropic.NewAssistantMessage(anthropic.NewThinkingBlock(first.Content[0].Signature, first.Content[0].Thinking),
				anthropic.NewToolUseBlock("toolu_1", map[string]any{}, "read")),
			anthropic.NewUserMessage(anthropic.NewToolResultBlock("toolu_1", "module m", false))}}
	if next, err := client.Messages.New(ctx, step); err != nil || next.Content[0].Type != "thinking" {
		t.Fatalf("the tool loop's next step: %v %+v", err, next)
	}
	msg, err := drainMessages(client.Messages.NewStreaming(ctx, step))
	if err != nil || len(msg.Content) < 2 || msg.Content[0].Type != "thinking" || !strings.HasPrefix(msg.Content[0].Signature, "mocksig_converse_") {
		t.Fatalf("stream: %v %+v", err, msg)
	}
}

// A Claude model Bedrock serves only through an inference profile, called
// by its model ID, is refused by Bedrock every time: the deployment's
// circuit opens at once, saying why, and the request falls back.
func TestBedrockProfileOnlyModelByItsID(t *testing.T) {
	creds := aws.Credentials{AccessKeyID: "AKIDBEDROCKTEST", SecretAccessKey: "bedrock-secret-access-key"}
	var refused atomic.Int64
	_, upstream := awsUpstream(t, "bedrock", creds, &refused)
	e := newEnv(t, `
model_list:
  - model_name: claude
    litellm_params:
      model: bedrock/anthropic.claude-sonnet-4-6
      aws_region_name: us-east-1
      aws_access_key_id: `+creds.AccessKeyID+`
      aws_secret_access_key: `+creds.SecretAccessKey+`
      aws_bedrock_runtime_endpoint: "`+upstream.URL+`"
  - model_name: claude
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
router_settings:
  routing_strategy: ordered
  num_retries: 2
`, "b")
	if _, h, err := e.chat("claude"); err != nil || h.Get("X-Breakerd-Deployment") != "claude/openai/gpt-4o-mini" {
		t.Fatalf("%v, served by %q: want the other deployment", err, h.Get("X-Breakerd-Deployment"))
	}
	s := e.breaker("claude/bedrock/anthropic.claude-sonnet-4-6:chat").Snapshot()
	if s.State != breaker.Open || !strings.Contains(s.Reason, "its upstream does not serve its model") || !strings.Contains(s.Reason, "on-demand throughput") {
		t.Fatalf("the Bedrock deployment's breaker %v, reason %q", s.State, s.Reason)
	}
	if refused.Load() != 0 {
		t.Fatalf("%d calls refused for their signature", refused.Load())
	}
}
