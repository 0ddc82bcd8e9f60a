package mockllm

import (
	"context"
	"strings"
	"testing"

	anthropicsdk "github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	openaioption "github.com/openai/openai-go/v3/option"
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

// Chat completions cache long prompts as OpenAI does, with nothing
// marked: a prompt of 1,024 tokens or more is cached in steps of 128, and
// a later prompt of the same model that starts the same reads its longest
// cached prefix (prompt_tokens_details.cached_tokens, part of
// prompt_tokens), streamed or not.
func TestChatAutomaticPromptCaching(t *testing.T) {
	_, url := newMock(t, Options{Name: "gpt"})
	client := openai.NewClient(openaioption.WithBaseURL(url+"/v1/"), openaioption.WithAPIKey("sk"), openaioption.WithMaxRetries(0))
	long := strings.Repeat("policy ", 1200) // with "hello there": 1,202 words, 1,203 tokens
	ask := func(model, system string, stream bool) openai.CompletionUsage {
		t.Helper()
		params := openai.ChatCompletionNewParams{Model: model,
			Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(system), openai.UserMessage("hello there")}}
		if !stream {
			c, err := client.Chat.Completions.New(context.Background(), params)
			if err != nil {
				t.Fatal(err)
			}
			return c.Usage
		}
		params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		st := client.Chat.Completions.NewStreaming(context.Background(), params)
		var acc openai.ChatCompletionAccumulator
		for st.Next() {
			acc.AddChunk(st.Current())
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
		return acc.Usage
	}
	for _, tc := range []struct {
		name          string
		model, system string
		stream        bool
		prompt, read  int64
	}{
		{"first: nothing cached yet", "gpt-4o", long, false, 1203, 0},
		{"again: its longest step read", "gpt-4o", long, false, 1203, 1152},
		{"streamed: read", "gpt-4o", long, true, 1203, 1152},
		{"a longer prompt that starts the same", "gpt-4o", long + strings.Repeat("more ", 100), false, 1303, 1152},
		{"now its own longer step", "gpt-4o", long + strings.Repeat("more ", 100), false, 1303, 1280},
		{"another model: its own cache", "gpt-4o-mini", long, false, 1203, 0},
		{"a different start: nothing read", "gpt-4o", "rules " + long, false, 1204, 0},
		{"too short to cache", "gpt-4o", "be brief", false, 3, 0},
	} {
		u := ask(tc.model, tc.system, tc.stream)
		if u.PromptTokens != tc.prompt || u.PromptTokensDetails.CachedTokens != tc.read {
			t.Errorf("%s: prompt %d, cached %d; want %d, %d", tc.name, u.PromptTokens, u.PromptTokensDetails.CachedTokens, tc.prompt, tc.read)
		}
	}
}
