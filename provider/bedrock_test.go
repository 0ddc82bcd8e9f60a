package provider

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	if got := bedrockURL("https://h", "anthropic.claude-v1:0", "/v1/messages", true); got != "https://h/model/anthropic.claude-v1%3A0/invoke-with-response-stream" {
		t.Errorf("stream URL %s", got)
	}
	if got := bedrockURL("https://h", "m", "/v1/messages/count_tokens", false); got != "https://h/model/m/count-tokens" {
		t.Errorf("count URL %s", got)
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
	got, err := io.ReadAll(newBedrockStream(io.NopCloser(bytes.NewReader(full))))
	want := "event: message_start\ndata: {\"type\":\"message_start\"}\n\n" +
		"event: ping\ndata: {\"type\":\"ping\"}\n\n" +
		"event: error\ndata: {\"error\":{\"message\":\"throttlingException: slow down\",\"type\":\"rate_limit_error\"},\"type\":\"error\"}\n\n"
	if err != nil || string(got) != want {
		t.Errorf("got %q, %v\nwant %q", got, err, want)
	}
	_, err = io.ReadAll(newBedrockStream(io.NopCloser(bytes.NewReader(full[:len(full)-5]))))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a stream cut within a message: %v", err)
	}
}
