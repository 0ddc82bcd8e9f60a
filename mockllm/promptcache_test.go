package mockllm

import (
	"context"
	"strings"
	"testing"

	anthropicsdk "github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
)

// The Messages API caches a prompt's prefix up to its last block marked
// cache_control, as Anthropic does: the first request writes it, a later
// one with the same prefix reads it, and a prefix under 1,024 tokens is
// not cached. Streams count the same in message_start.
func TestMessagesPromptCaching(t *testing.T) {
	_, url := newMock(t, Options{Name: "claude"})
	client := anthropicsdk.NewClient(option.WithBaseURL(url), option.WithAPIKey("sk-ant"), option.WithMaxRetries(0))
	long := strings.Repeat("policy ", 1200) // 1,201 tokens as the mock counts them
	ask := func(system string, stream bool) anthropicsdk.Usage {
		t.Helper()
		params := anthropicsdk.MessageNewParams{Model: "claude-sonnet-4-5", MaxTokens: 64,
			System:   []anthropicsdk.TextBlockParam{{Text: system, CacheControl: anthropicsdk.NewCacheControlEphemeralParam()}},
			Messages: []anthropicsdk.MessageParam{anthropicsdk.NewUserMessage(anthropicsdk.NewTextBlock("hello there"))}}
		if !stream {
			msg, err := client.Messages.New(context.Background(), params)
			if err != nil {
				t.Fatal(err)
			}
			return msg.Usage
		}
		st := client.Messages.NewStreaming(context.Background(), params)
		var acc anthropicsdk.Message
		for st.Next() {
			if err := acc.Accumulate(st.Current()); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
		return acc.Usage
	}
	for _, tc := range []struct {
		name          string
		system        string
		stream        bool
		read, written int64
	}{
		{"first: written", long, false, 0, 1201},
		{"again: read", long, false, 1201, 0},
		{"streamed: read", long, true, 1201, 0},
		{"another prefix: written", long + "v2", true, 0, 1202},
		{"too short to cache", "be brief", false, 0, 0},
	} {
		u := ask(tc.system, tc.stream)
		if u.CacheReadInputTokens != tc.read || u.CacheCreationInputTokens != tc.written || u.InputTokens != 3 {
			t.Errorf("%s: read %d, written %d, input %d; want %d, %d, 3", tc.name, u.CacheReadInputTokens, u.CacheCreationInputTokens,
				u.InputTokens, tc.read, tc.written)
		}
	}
}
