package provider

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsevent "github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	aws4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/breakerd/breakerd/config"
)

// awsSigner's Authorization is the one AWS's own SDK makes for the same
// request, whatever its path, query and headers.
func TestAWSSignaturesMatchTheAWSSDK(t *testing.T) {
	at := time.Date(2026, 12, 3, 14, 5, 6, 0, time.UTC)
	body := []byte(`{"anthropic_version":"bedrock-2023-05-31","max_tokens":9}`)
	for _, tc := range []struct {
		name, url string
		token     string
		headers   map[string][]string
	}{
		{"a model ID escaped in the path", "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/invoke", "", nil},
		{"a temporary key", "https://bedrock-runtime.eu-west-1.amazonaws.com/model/m/invoke-with-response-stream", "session-token", nil},
		{"an ARN in the path", "https://bedrock-runtime.us-east-1.amazonaws.com/model/" +
			awsEscape("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4", true) + "/invoke", "", nil},
		{"a query", "https://example.amazonaws.com/model/m/invoke?b=two words&a=1&a=0&a-b=2&a.c=%2F", "", nil},
		{"the default port, and headers to trim", "https://bedrock-runtime.us-east-1.amazonaws.com:443/model/m/invoke", "",
			map[string][]string{"X-Custom": {"  a   b  "}, "X-Multi": {"one", "two"}, "Anthropic-Beta": {"x"}}},
		{"a port of its own", "http://127.0.0.1:8123/prefix/model/m/invoke", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := config.AWSKey{ID: "AKIDEXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", SessionToken: config.Secret(tc.token)}
			req := func() *http.Request {
				r, err := http.NewRequest(http.MethodPost, tc.url, bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				r.Header.Set("Content-Type", "application/json")
				for k, v := range tc.headers {
					r.Header[k] = v
				}
				return r
			}
			ours := req()
			awsSigner{key: key, region: "us-east-1", service: "bedrock"}.sign(ours, body, at)
			theirs := req()
			sum := sha256.Sum256(body)
			creds := aws.Credentials{AccessKeyID: key.ID.Value(), SecretAccessKey: key.Secret.Value(), SessionToken: tc.token}
			if err := aws4.NewSigner().SignHTTP(context.Background(), creds, theirs, hex.EncodeToString(sum[:]), "bedrock", "us-east-1", at); err != nil {
				t.Fatal(err)
			}
			if got, want := ours.Header.Get("Authorization"), theirs.Header.Get("Authorization"); got != want {
				t.Errorf("Authorization\n got %s\nwant %s", got, want)
			}
			if ours.Header.Get("X-Amz-Security-Token") != tc.token || ours.Header.Get("X-Amz-Date") != "20261203T140506Z" {
				t.Errorf("headers %v", ours.Header)
			}
		})
	}
}

// A Messages request becomes InvokeModel's body, and a count
// CountTokens'.
func TestBedrockRequests(t *testing.T) {
	for _, tc := range []struct {
		name, in, beta string
		count          bool
		want           string
	}{
		{"model and stream leave, the version comes", `{"model":"claude","stream":true,"max_tokens":5}`, "", false,
			`{"anthropic_version":"bedrock-2023-05-31","max_tokens":5}`},
		{"a version of the client's own stays", `{"anthropic_version":"bedrock-2099-01-01","max_tokens":5}`, "", false,
			`{"anthropic_version":"bedrock-2099-01-01","max_tokens":5}`},
		{"betas go in the body", `{"max_tokens":5}`, "a, b,,", false,
			`{"anthropic_beta":["a","b"],"anthropic_version":"bedrock-2023-05-31","max_tokens":5}`},
		{"a count wraps the body, with max_tokens", `{"model":"claude","messages":[]}`, "", true,
			`{"input":{"invokeModel":{"body":"{\"anthropic_version\":\"bedrock-2023-05-31\",\"max_tokens\":4096,\"messages\":[]}"}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := bedrockRequest([]byte(tc.in), tc.beta, tc.count, 4096)
			if err != nil || string(got) != tc.want {
				t.Errorf("got %s, %v\nwant %s", got, err, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		converse, stream bool
		path, want       string
	}{
		{false, true, "/v1/messages", "https://h/model/anthropic.claude-v1%3A0/invoke-with-response-stream"},
		{false, false, "/v1/messages", "https://h/model/anthropic.claude-v1%3A0/invoke"},
		{false, false, "/v1/messages/count_tokens", "https://h/model/anthropic.claude-v1%3A0/count-tokens"},
		{true, true, "/v1/messages", "https://h/model/anthropic.claude-v1%3A0/converse-stream"},
		{true, false, "/v1/messages", "https://h/model/anthropic.claude-v1%3A0/converse"},
		{true, false, "/v1/messages/count_tokens", "https://h/model/anthropic.claude-v1%3A0/count-tokens"},
	} {
		b := &config.Bedrock{ModelID: "anthropic.claude-v1:0", Converse: tc.converse}
		if got := bedrockURL("https://h", b, tc.path, tc.stream); got != tc.want {
			t.Errorf("converse %v, stream %v, %s: %s, want %s", tc.converse, tc.stream, tc.path, got, tc.want)
		}
	}
}

// Bedrock's errors carry their type in x-amzn-ErrorType; breakerd reads
// it as Anthropic's type and, where Bedrock's status would mislead, the
// status of an upstream failure.
func TestBedrockErrors(t *testing.T) {
	p := &anthropic{d: config.Deployment{Bedrock: &config.Bedrock{}}, now: time.Now, redact: func(s string) string { return strings.ReplaceAll(s, "AKIDSECRET", "[REDACTED]") }}
	for _, tc := range []struct {
		status     int
		errType    string
		body       string
		wantStatus int
		wantType   string
		wantMsg    string
	}{
		{429, "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/", `{"message":"Too many requests"}`, 429, "rate_limit_error", "Too many requests"},
		{400, "ValidationException", `{"message":"Input is too long for requested model."}`, 400, "invalid_request_error", "Input is too long"},
		{424, "ModelErrorException", `{"message":"The model failed"}`, 502, "server_error", "The model failed"},
		{403, "UnrecognizedClientException", `{"Message":"The security token included in the request is invalid: AKIDSECRET"}`, 403, "authentication_error", "invalid: [REDACTED]"},
		{503, "", `not json`, 503, "server_error", "not json"},
		{424, "ModelError", `{"ErrorCode":"CLIENT_ERROR_FROM_MODEL","Message":"Received client error (422) from primary","OriginalStatusCode":422,` +
			`"OriginalMessage":"{\"error\":\"Input validation error: inputs tokens + max_new_tokens must be <= 4096\",\"error_type\":\"validation\"}"}`,
			422, "invalid_request_error", "Input validation error: inputs tokens"},
		{424, "ModelError", `{"Message":"Received server error (500) from primary","OriginalStatusCode":500,"OriginalMessage":"boom"}`,
			502, "server_error", "Received server error (500)"},
	} {
		resp := &http.Response{StatusCode: tc.status, Header: http.Header{"X-Amzn-Errortype": {tc.errType}}, Body: io.NopCloser(strings.NewReader(tc.body))}
		e := p.httpError(resp)
		if e.Status != tc.wantStatus || e.Type != tc.wantType || !strings.Contains(e.Message, tc.wantMsg) {
			t.Errorf("%d %s: got %d %s %q", tc.status, tc.errType, e.Status, e.Type, e.Message)
		}
	}
	e := p.httpError(&http.Response{StatusCode: 400, Header: http.Header{"X-Amzn-Errortype": {"ValidationException"}},
		Body: io.NopCloser(strings.NewReader(`{"message":"Input is too long for requested model."}`))})
	if e.Refusal() != ContextWindow {
		t.Errorf("a prompt too long for the model: refusal %q, want %q", e.Refusal(), ContextWindow)
	}
}

// A Bedrock stream reads as Anthropic's SSE: each chunk its event, an
// exception an error event; a stream cut short is an error.
func TestBedrockStreamsReadAsAnthropicEvents(t *testing.T) {
	var wire bytes.Buffer
	enc := awsevent.NewEncoder()
	event := func(payload string) awsevent.Message {
		return awsevent.Message{Headers: awsevent.Headers{{Name: ":event-type", Value: awsevent.StringValue("chunk")},
			{Name: ":message-type", Value: awsevent.StringValue("event")}}, Payload: []byte(payload)}
	}
	for _, m := range []awsevent.Message{
		event(`{"bytes":"eyJ0eXBlIjoibWVzc2FnZV9zdGFydCJ9"}`), // {"type":"message_start"}
		event(`{"bytes":"eyJ0eXBlIjoicGluZyJ9","p":"abcd"}`),  // {"type":"ping"}, padded
		{Headers: awsevent.Headers{{Name: ":exception-type", Value: awsevent.StringValue("throttlingException")},
			{Name: ":message-type", Value: awsevent.StringValue("exception")}}, Payload: []byte(`{"message":"slow down"}`)},
	} {
		if err := enc.Encode(&wire, m); err != nil {
			t.Fatal(err)
		}
	}
	full := wire.Bytes()
	got, err := io.ReadAll(newBedrockStream(io.NopCloser(bytes.NewReader(full)), false, "m"))
	want := "event: message_start\ndata: {\"type\":\"message_start\"}\n\n" +
		"event: ping\ndata: {\"type\":\"ping\"}\n\n" +
		"event: error\ndata: {\"error\":{\"message\":\"throttlingException: slow down\",\"type\":\"rate_limit_error\"},\"type\":\"error\"}\n\n"
	if err != nil || string(got) != want {
		t.Errorf("got %q, %v\nwant %q", got, err, want)
	}
	_, err = io.ReadAll(newBedrockStream(io.NopCloser(bytes.NewReader(full[:len(full)-5])), false, "m"))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a stream cut within a message: %v", err)
	}
}

// A parameter Converse cannot honour is named with the API that cannot.
func TestConverseNamesItselfInRefusals(t *testing.T) {
	p := &anthropic{d: config.Deployment{Bedrock: &config.Bedrock{Converse: true}}}
	params, why := p.Unsupported(&Request{Body: []byte(`{"model":"m","seed":7,"messages":[]}`)})
	if len(params) != 1 || params[0] != "seed" || why != "Bedrock's Converse API has no seed" {
		t.Errorf("%v %q", params, why)
	}
}

// Messages requests become Converse's, block by block.
func TestConverseRequests(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		count    bool
		want     string // "": a 400
	}{
		{"text, a system prompt and limits", `{"model":"m","system":"be brief","max_tokens":9,"temperature":0.5,"top_p":0.9,"stop_sequences":["x"],"messages":[{"role":"user","content":"hi"}]}`, false,
			`{"inferenceConfig":{"maxTokens":9,"stopSequences":["x"],"temperature":0.5,"topP":0.9},"messages":[{"content":[{"text":"hi"}],"role":"user"}],"system":[{"text":"be brief"}]}`},
		{"an image as data", `{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBO"}},{"type":"text","text":"what?"}]}]}`, false,
			`{"inferenceConfig":{},"messages":[{"content":[{"image":{"format":"png","source":{"bytes":"iVBO"}}},{"text":"what?"}],"role":"user"}]}`},
		{"an image by URL", `{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]}]}`, false, ""},
		{"a tool call and its result, a forced tool", `{"max_tokens":5,"tools":[{"name":"weather","description":"d","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"weather"},` +
			`"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"weather","input":{"city":"Oslo"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"sunny"}]}]}]}`, false,
			`{"inferenceConfig":{"maxTokens":5},"messages":[{"content":[{"toolUse":{"toolUseId":"t1","name":"weather","input":{"city":"Oslo"}}}],"role":"assistant"},` +
				`{"content":[{"toolResult":{"toolUseId":"t1","content":[{"text":"sunny"}]}}],"role":"user"}],` +
				`"toolConfig":{"toolChoice":{"tool":{"name":"weather"}},"tools":[{"toolSpec":{"description":"d","inputSchema":{"json":{"type":"object"}},"name":"weather"}}]}}`},
		{"thinking, as the model's own field", `{"max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"hi"}]}`, false,
			`{"additionalModelRequestFields":{"thinking":{"type":"enabled","budget_tokens":1024}},"inferenceConfig":{"maxTokens":2048},"messages":[{"content":[{"text":"hi"}],"role":"user"}]}`},
		{"adaptive thinking and its effort", `{"max_tokens":2048,"thinking":{"type":"adaptive","display":"summarized"},"output_config":{"effort":"high"},"messages":[{"role":"user","content":"hi"}]}`, false,
			`{"additionalModelRequestFields":{"output_config":{"effort":"high"},"thinking":{"type":"adaptive","display":"summarized"}},"inferenceConfig":{"maxTokens":2048},"messages":[{"content":[{"text":"hi"}],"role":"user"}]}`},
		{"prompt caching: a cachePoint after each cache_control", `{"max_tokens":5,"system":[{"type":"text","text":"long","cache_control":{"type":"ephemeral"}}],` +
			`"tools":[{"name":"f","input_schema":{"type":"object"},"cache_control":{"type":"ephemeral"}}],` +
			`"messages":[{"role":"user","content":[{"type":"text","text":"doc","cache_control":{"type":"ephemeral"}},{"type":"text","text":"q"}]}]}`, false,
			`{"inferenceConfig":{"maxTokens":5},"messages":[{"content":[{"text":"doc"},{"cachePoint":{"type":"default"}},{"text":"q"}],"role":"user"}],` +
				`"system":[{"text":"long"},{"cachePoint":{"type":"default"}}],` +
				`"toolConfig":{"tools":[{"toolSpec":{"description":"","inputSchema":{"json":{"type":"object"}},"name":"f"}},{"cachePoint":{"type":"default"}}]}}`},
		{"a count", `{"model":"m","system":"s","messages":[{"role":"user","content":"hi"}]}`, true,
			`{"input":{"converse":{"messages":[{"content":[{"text":"hi"}],"role":"user"}],"system":[{"text":"s"}]}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := converseRequest([]byte(tc.in), tc.count, nil)
			if tc.want == "" {
				var e *Error
				if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
					t.Fatalf("got %s, %v; want a 400", got, err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Errorf("got  %s, %v\nwant %s", got, err, tc.want)
			}
		})
	}
}

// A deployment's guardrail goes in Converse's body, and in InvokeModel's
// headers; a count is not checked by it.
func TestBedrockGuardrails(t *testing.T) {
	g := &config.Guardrail{ID: "gr-abc123", Version: "DRAFT", Trace: "enabled"}
	got, err := converseRequest([]byte(`{"max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`), false, g)
	if err != nil || !strings.Contains(string(got), `"guardrailConfig":{"guardrailIdentifier":"gr-abc123","guardrailVersion":"DRAFT","trace":"enabled"}`) {
		t.Errorf("converse: %s %v", got, err)
	}
	if got, _ := converseRequest([]byte(`{"messages":[{"role":"user","content":"hi"}]}`), true, g); strings.Contains(string(got), "guardrail") {
		t.Errorf("count: %s", got)
	}
	p := &anthropic{d: config.Deployment{APIKey: "k-123456", APIBase: "https://h", Bedrock: &config.Bedrock{ModelID: "anthropic.claude", Guardrail: g}},
		now: time.Now, redact: func(s string) string { return s }}
	for _, tc := range []struct {
		path string
		want string
	}{{"/v1/messages", "gr-abc123 DRAFT ENABLED"}, {"/v1/messages/count_tokens", "  "}} {
		hreq, err := p.post(context.Background(), tc.path, []byte(`{"model":"m","max_tokens":5,"messages":[]}`), false, "", "")
		if err != nil {
			t.Fatal(err)
		}
		h := hreq.Header
		if got := h.Get("X-Amzn-Bedrock-Guardrailidentifier") + " " + h.Get("X-Amzn-Bedrock-Guardrailversion") + " " + h.Get("X-Amzn-Bedrock-Trace"); got != tc.want {
			t.Errorf("%s: guardrail headers %q, want %q", tc.path, got, tc.want)
		}
	}
}

// Converse's answers read as the Messages API's.
func TestConverseAnswers(t *testing.T) {
	got, ok := fromConverse([]byte(`{"output":{"message":{"role":"assistant","content":[{"reasoningContent":{"reasoningText":{"text":"hmm","signature":"sig"}}},`+
		`{"text":"hi"},{"toolUse":{"toolUseId":"t1","name":"f","input":{"a":1}}}]}},"stopReason":"guardrail_intervened",`+
		`"usage":{"inputTokens":3,"outputTokens":4,"totalTokens":7,"cacheReadInputTokens":100,"cacheWriteInputTokens":20}}`), "m")
	var r anthropicResponse
	if !ok || json.Unmarshal(got, &r) != nil || r.Model != "m" || r.StopReason != "refusal" || r.Usage.InputTokens != 3 || r.Usage.OutputTokens != 4 ||
		len(r.Content) != 3 || r.Content[0].Type != "thinking" || r.Content[1].Text != "hi" || r.Content[2].Name != "f" || string(r.Content[2].Input) != `{"a":1}` ||
		!strings.HasPrefix(r.ID, "msg_bdrk_") || !strings.Contains(string(got), `"cache_creation_input_tokens":20,"cache_read_input_tokens":100`) {
		t.Errorf("got %s", got)
	}
	if _, ok := fromConverse([]byte(`{"message":"not an answer"}`), "m"); ok {
		t.Error("an answer without output read as one")
	}
}

// A Converse stream reads as Anthropic's events, its stop reason held
// until the usage that follows it.
func TestConverseStreamsReadAsAnthropicEvents(t *testing.T) {
	var wire bytes.Buffer
	enc := awsevent.NewEncoder()
	for _, ev := range [][2]string{
		{"messageStart", `{"role":"assistant"}`},
		{"contentBlockDelta", `{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"hmm"}}}`},
		{"contentBlockStop", `{"contentBlockIndex":0}`},
		{"contentBlockDelta", `{"contentBlockIndex":1,"delta":{"text":"Hi"}}`},
		{"contentBlockDelta", `{"contentBlockIndex":1,"delta":{"text":" there"}}`},
		{"contentBlockStop", `{"contentBlockIndex":1}`},
		{"contentBlockStart", `{"contentBlockIndex":2,"start":{"toolUse":{"toolUseId":"t1","name":"f"}}}`},
		{"contentBlockDelta", `{"contentBlockIndex":2,"delta":{"toolUse":{"input":"{\"a\":"}}}`},
		{"contentBlockStop", `{"contentBlockIndex":2}`},
		{"messageStop", `{"stopReason":"tool_use"}`},
		{"metadata", `{"usage":{"inputTokens":5,"outputTokens":6,"totalTokens":11},"metrics":{"latencyMs":1}}`},
	} {
		if err := enc.Encode(&wire, awsevent.Message{Headers: awsevent.Headers{{Name: ":event-type", Value: awsevent.StringValue(ev[0])},
			{Name: ":message-type", Value: awsevent.StringValue("event")}}, Payload: []byte(ev[1])}); err != nil {
			t.Fatal(err)
		}
	}
	st := newAnthropicStream(context.Background(), newBedrockStream(io.NopCloser(&wire), true, "meta.llama"), "meta.llama", true, 1, func(s string) string { return s })
	var text, args strings.Builder
	var finish string
	for _, c := range chunksOf(t, st) {
		var chunk struct {
			Choices []struct {
				Delta struct {
					Content   string `json:"content"`
					ToolCalls []struct {
						Function struct{ Name, Arguments string } `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
		}
		_ = json.Unmarshal(c, &chunk)
		for _, ch := range chunk.Choices {
			text.WriteString(ch.Delta.Content)
			for _, tc := range ch.Delta.ToolCalls {
				args.WriteString(tc.Function.Name + tc.Function.Arguments)
			}
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
		}
	}
	if text.String() != "Hi there" || args.String() != `f{"a":` || finish != "tool_calls" || st.Usage() != (Usage{InputTokens: 5, OutputTokens: 6}) {
		t.Errorf("text %q, tool %q, finish %q, usage %+v", text.String(), args.String(), finish, st.Usage())
	}
}

// Thinking blocks go to Converse as reasoningContent and come back as
// thinking blocks: with their signature, or redacted, as their data; one
// without a signature, which Claude would refuse, is left out.
func TestThinkingBlocksOnConverse(t *testing.T) {
	in := []anthropicBlock{{Type: "thinking", Thinking: "t", Signature: "sig"}, {Type: "redacted_thinking", Data: "ZW5j"},
		{Type: "thinking", Thinking: "unsigned"}, {Type: "text", Text: "x"}}
	var docs int
	out, err := converseBlocks(in, &docs)
	if err != nil {
		t.Fatal(err)
	}
	sent, _ := json.Marshal(out)
	if want := `[{"reasoningContent":{"reasoningText":{"text":"t","signature":"sig"}}},{"reasoningContent":{"redactedContent":"ZW5j"}},{"text":"x"}]`; string(sent) != want {
		t.Fatalf("sent %s\nwant %s", sent, want)
	}
	back, _ := json.Marshal(anthropicBlocks(out))
	if want := `[{"signature":"sig","thinking":"t","type":"thinking"},{"data":"ZW5j","type":"redacted_thinking"},{"text":"x","type":"text"}]`; string(back) != want {
		t.Fatalf("back %s\nwant %s", back, want)
	}
}
