package dialect

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

// A whole chat answer's reasoning goes into its content, before the
// answer between <think> and </think>, as LiteLLM's
// merge_reasoning_content_in_choices has it; an answer without any is
// kept byte for byte.
func TestMergeReasoning(t *testing.T) {
	for _, tc := range []struct {
		name, body, content string
		kept                bool // the body comes back as it was
	}{
		{"reasoning_content before the answer", `{"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":"Hi!","reasoning_content":"They greet me."}}]}`,
			"<think>They greet me.</think>Hi!", false},
		{"reasoning, vLLM's newer name", `{"choices":[{"message":{"content":"Hi!","reasoning":"hmm"}}]}`, "<think>hmm</think>Hi!", false},
		{"a tool call's reasoning, no content", `{"choices":[{"message":{"content":null,"reasoning_content":"call it","tool_calls":[{"id":"t"}]}}]}`,
			"<think>call it</think>", false},
		{"no reasoning: kept", `{"choices":[{"message":{"content":"Hi!"}}]}`, "Hi!", true},
		{"empty reasoning: kept", `{"choices":[{"message":{"content":"Hi!","reasoning_content":""}}]}`, "Hi!", true},
		{"not a chat completion: kept", `{"reasoning":5}`, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := MergeReasoning([]byte(tc.body))
			if tc.kept != (string(out) == tc.body) {
				t.Fatalf("got %s, kept %v", out, !tc.kept)
			}
			var a struct {
				Choices []struct {
					Message map[string]any `json:"message"`
				} `json:"choices"`
			}
			if err := json.Unmarshal(out, &a); err != nil {
				t.Fatal(err)
			}
			if len(a.Choices) == 0 {
				return
			}
			m := a.Choices[0].Message
			got, _ := m["content"].(string)
			if got != tc.content {
				t.Fatalf("content %q, want %q", got, tc.content)
			}
			if _, ok := m["reasoning_content"]; ok && !tc.kept {
				t.Fatalf("reasoning_content left in %s", out)
			}
		})
	}
}

// A stream's reasoning deltas become content: the first opens <think>,
// the first delta after them (the answer, a tool call, the finish)
// closes it; chunks without reasoning pass as they came.
func TestMergedReasoning(t *testing.T) {
	delta := func(d string) string {
		return `{"id":"c","choices":[{"index":0,"delta":` + d + `,"finish_reason":null}]}`
	}
	for _, tc := range []struct {
		name   string
		chunks []string
		want   string // the deltas' content, joined
		kept   bool   // each chunk comes through byte for byte
	}{
		{"reasoning then the answer", []string{delta(`{"role":"assistant","content":""}`), delta(`{"content":null,"reasoning_content":"They "}`),
			delta(`{"content":null,"reasoning_content":"greet."}`), delta(`{"content":"Hi","reasoning_content":null}`), delta(`{"content":"!"}`),
			`{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`}, "<think>They greet.</think>Hi!", false},
		{"reasoning then a tool call", []string{delta(`{"reasoning":"call"}`), delta(`{"tool_calls":[{"index":0,"id":"t"}]}`)}, "<think>call</think>", false},
		{"reasoning then the finish", []string{delta(`{"reasoning_content":"hmm"}`), `{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}`}, "<think>hmm</think>", false},
		{"reasoning and answer in one delta", []string{delta(`{"reasoning_content":"a","content":"b"}`)}, "<think>a</think>b", false},
		{"no reasoning", []string{delta(`{"content":"Hi"}`), delta(`{"content":"!"}`)}, "Hi!", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := MergedReasoning(&chunks{append([]string(nil), tc.chunks...)})
			var text strings.Builder
			for i := 0; ; i++ {
				b, err := s.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if tc.kept && string(b) != tc.chunks[i] {
					t.Fatalf("chunk %d changed: %s", i, b)
				}
				var c struct {
					Choices []struct {
						Delta map[string]any `json:"delta"`
					} `json:"choices"`
				}
				if err := json.Unmarshal(b, &c); err != nil {
					t.Fatalf("%s: %v", b, err)
				}
				for _, ch := range c.Choices {
					if _, ok := ch.Delta["reasoning_content"]; ok {
						t.Fatalf("reasoning_content left in %s", b)
					}
					if s, ok := ch.Delta["content"].(string); ok {
						text.WriteString(s)
					}
				}
			}
			if text.String() != tc.want {
				t.Fatalf("content %q, want %q", text.String(), tc.want)
			}
		})
	}
}
