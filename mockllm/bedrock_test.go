package mockllm

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	anthropicsdk "github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/bedrock"
	"github.com/anthropics/anthropic-sdk-go/option"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// bedrockClient is Anthropic's official client for Claude on Bedrock,
// signing with an access key, pointed at the mock.
func bedrockClient(t *testing.T, url, keyID string) anthropicsdk.Client {
	t.Setenv("AWS_BEARER_TOKEN_BEDROCK", "") // the SDK would send it instead
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(keyID, "mock-secret-key", "")}
	return anthropicsdk.NewClient(bedrock.WithConfig(cfg), option.WithBaseURL(url), option.WithMaxRetries(0))
}

// The mock serves Claude on Bedrock as Anthropic's own Bedrock client
// calls it: a whole message, a stream in AWS's event stream, and errors
// in Bedrock's shape.
func TestBedrockWithAnthropicsClient(t *testing.T) {
	srv, url := newMock(t, Options{Name: "br", APIKey: "AKIDMOCK"})
	client := bedrockClient(t, url, "AKIDMOCK")
	ctx := context.Background()
	params := anthropicsdk.MessageNewParams{Model: "anthropic.claude-3-5-haiku-20241022-v1:0", MaxTokens: 64,
		Messages: []anthropicsdk.MessageParam{anthropicsdk.NewUserMessage(anthropicsdk.NewTextBlock("hello there"))}}

	msg, err := client.Messages.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Model != "anthropic.claude-3-5-haiku-20241022-v1:0" || !strings.Contains(msg.Content[0].Text, "Hello from br") {
		t.Errorf("message: model %q, %+v", msg.Model, msg.Content)
	}

	stream := client.Messages.NewStreaming(ctx, params)
	var acc anthropicsdk.Message
	for stream.Next() {
		if err := acc.Accumulate(stream.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if acc.Content[0].Text != msg.Content[0].Text || acc.Usage.OutputTokens == 0 || acc.StopReason != "end_turn" {
		t.Errorf("stream: %q (%d tokens, %s), want %q", acc.Content[0].Text, acc.Usage.OutputTokens, acc.StopReason, msg.Content[0].Text)
	}

	srv.SetFaults(Faults{ErrorRate: 1, Status: 429})
	_, err = client.Messages.New(ctx, params)
	var apiErr *anthropicsdk.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || !strings.Contains(apiErr.RawJSON(), "mock br injected a 429") {
		t.Errorf("throttled: %v", err)
	}
	srv.SetFaults(Faults{})

	other := bedrockClient(t, url, "AKIDOTHER")
	if _, err := other.Messages.New(ctx, params); !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
		t.Errorf("another access key: %v, want 401", err)
	}
}

// What the mock refuses, as Bedrock does, and its count-tokens.
func TestBedrockPaths(t *testing.T) {
	_, url := newMock(t, Options{Name: "br"})
	const model = "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/"
	signed := map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20261203/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=00",
		"X-Amz-Date": "20261203T000000Z"}
	bearer := map[string]string{"Authorization": "Bearer bedrock-api-key"}
	const hi = `"anthropic_version":"bedrock-2023-05-31","max_tokens":9,"messages":[{"role":"user","content":"hi"}]`
	for _, tc := range []struct {
		name, path, body string
		headers          map[string]string
		status           int
		want             string
	}{
		{"invoke, signed", model + "invoke", "{" + hi + "}", signed, 200, `"model":"anthropic.claude-3-5-haiku-20241022-v1:0"`},
		{"invoke, with an API key", model + "invoke", "{" + hi + "}", bearer, 200, `"type":"message"`},
		{"count-tokens", model + "count-tokens", `{"input":{"invokeModel":{"body":"{` + strings.ReplaceAll(hi, `"`, `\"`) + `}"}}}`, signed, 200, `{"inputTokens":`},
		{"no signature", model + "invoke", "{" + hi + "}", nil, 403, `{"message":"Missing Authentication Token"}`},
		{"a model in the body", model + "invoke", `{"model":"x",` + hi + "}", signed, 400, "extraneous key"},
		{"no anthropic_version", model + "invoke", `{"max_tokens":9,"messages":[{"role":"user","content":"hi"}]}`, signed, 400, "anthropic_version"},
		{"an unknown operation", model + "converse", "{" + hi + "}", signed, 404, "unknown operation converse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, url+tc.path, strings.NewReader(tc.body))
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(data), tc.want) {
				t.Fatalf("%d %s", resp.StatusCode, data)
			}
			if tc.status >= 400 && !strings.HasPrefix(resp.Header.Get("X-Amzn-Errortype"), bedrockErrorTypes[tc.status]+":") {
				t.Errorf("x-amzn-ErrorType %q, want %s", resp.Header.Get("X-Amzn-Errortype"), bedrockErrorTypes[tc.status])
			}
		})
	}
}
