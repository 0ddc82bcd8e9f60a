package mockllm

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	anthropicsdk "github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// With a requests-a-minute limit, the mock answers as the providers do:
// every answer says how many requests are left (OpenAI's and Azure's
// x-ratelimit-* headers, Anthropic's anthropic-ratelimit-*), and one over
// the limit gets a 429 with Retry-After until the minute is up.
func TestRequestsPerMinuteLimit(t *testing.T) {
	srv, url := newMock(t, Options{Name: "limited"})
	srv.SetFaults(Faults{RPMLimit: 2})
	oc := openai.NewClient(option.WithBaseURL(url+"/v1/"), option.WithAPIKey("sk"), option.WithMaxRetries(0))
	ac := anthropicsdk.NewClient(aoption.WithBaseURL(url), aoption.WithAPIKey("sk-ant"), aoption.WithMaxRetries(0))
	chat := func() (*http.Response, error) {
		var resp *http.Response
		_, err := oc.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}, option.WithResponseInto(&resp))
		return resp, err
	}
	messages := func() (*http.Response, error) {
		var resp *http.Response
		_, err := ac.Messages.New(context.Background(), anthropicsdk.MessageNewParams{Model: "claude-sonnet-4-5", MaxTokens: 16,
			Messages: []anthropicsdk.MessageParam{anthropicsdk.NewUserMessage(anthropicsdk.NewTextBlock("hi"))}},
			aoption.WithResponseInto(&resp))
		return resp, err
	}
	for i, tc := range []struct {
		call      func() (*http.Response, error)
		remaining string // the header's value; "" for a 429
		header    string
	}{
		{chat, "1", "x-ratelimit-remaining-requests"},
		{messages, "0", "anthropic-ratelimit-requests-remaining"},
		{chat, "", "x-ratelimit-remaining-requests"},
		{messages, "", "anthropic-ratelimit-requests-remaining"},
	} {
		resp, err := tc.call()
		if tc.remaining != "" {
			if err != nil || resp.Header.Get(tc.header) != tc.remaining {
				t.Fatalf("call %d: %v, %s %q, want %q", i, err, tc.header, resp.Header.Get(tc.header), tc.remaining)
			}
			continue
		}
		var oe *openai.Error
		var ae *anthropicsdk.Error
		switch {
		case errors.As(err, &oe):
			resp = oe.Response
		case errors.As(err, &ae):
			resp = ae.Response
		default:
			t.Fatalf("call %d: %v, want a 429", i, err)
		}
		if resp.StatusCode != 429 || resp.Header.Get(tc.header) != "0" || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("call %d: %d, %s %q, Retry-After %q; want a 429 with 0 left and when to retry", i, resp.StatusCode,
				tc.header, resp.Header.Get(tc.header), resp.Header.Get("Retry-After"))
		}
	}
	// OpenAI's reset: a duration, within the minute.
	resp, _ := chat()
	if reset, err := time.ParseDuration(resp.Header.Get("x-ratelimit-reset-requests")); err != nil || reset <= 0 || reset > time.Minute {
		t.Fatalf("reset %v (%v), want within the minute", reset, err)
	}
}
