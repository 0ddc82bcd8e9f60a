package provider

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/breakerd/breakerd/config"
)

// BenchmarkStreamNext measures reading one event from an upstream stream
// (the event, its validation, usage and error detection, and for a native
// stream its frame), work the gateway does per chunk of every stream it
// relays (issue #22: CPU per chunk at thousands of streams).
func BenchmarkStreamNext(b *testing.B) {
	for _, tc := range []struct {
		name  string
		event string
		open  func(io.ReadCloser) Stream
	}{
		{"chat", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"word "},"finish_reason":null}]}`,
			func(r io.ReadCloser) Stream { return newSSEStream(context.Background(), r, nil) }},
		{"messages", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"word "}}`,
			func(r io.ReadCloser) Stream { return newRawStream(context.Background(), r, APIMessages, nil) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			chunk := "data: " + tc.event + "\n\n"
			body := strings.Repeat(chunk, 1000)
			b.ReportAllocs()
			b.SetBytes(int64(len(chunk)))
			var s Stream
			for i := 0; b.Loop(); i++ {
				if i%1000 == 0 {
					s = tc.open(io.NopCloser(strings.NewReader(body)))
				}
				if _, err := s.Next(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBodyFor measures the body sent to a deployment whose model name
// differs from the client's (the usual case behind a model group), for a
// request with a long conversation.
func BenchmarkBodyFor(b *testing.B) {
	msg := `{"role":"user","content":"` + strings.Repeat("lorem ipsum dolor sit amet ", 40) + `"},`
	body := []byte(`{"model":"gpt-4o","temperature":0.2,"messages":[` + strings.Repeat(msg, 100) + `{"role":"user","content":"end"}]}`)
	r := &Request{Op: Chat, Body: body, Model: "gpt-4o"}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := r.BodyFor("my-azure-gpt-4o"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadMeta measures reading a whole chat answer's model and
// usage, work the gateway does per answer, against json.Unmarshal into a
// struct of them (what it did before).
func BenchmarkReadMeta(b *testing.B) {
	answer := []byte(`{"choices":[{"finish_reason":"stop","index":0,"logprobs":null,"message":{"content":"Hello from load! You said: Hello, how are you today?","refusal":null,"role":"assistant"}}],"created":1796255062,"id":"chatcmpl-mock-90001","model":"gpt-4o-mini","object":"chat.completion","usage":{"completion_tokens":11,"prompt_tokens":6,"total_tokens":17}}`)
	b.Run("readMeta", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if m, ok := readMeta(answer); !ok || m.prompt != 6 {
				b.Fatal(m, ok)
			}
		}
	})
	b.Run("json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m struct {
				Model string `json:"model"`
				Usage struct {
					PromptTokens     int `json:"prompt_tokens"`
					CompletionTokens int `json:"completion_tokens"`
				} `json:"usage"`
			}
			if err := json.Unmarshal(answer, &m); err != nil || m.Usage.PromptTokens != 6 {
				b.Fatal(m, err)
			}
		}
	})
}

// BenchmarkMessagesToClaude measures what a Messages request (Claude
// Code's kind: a long conversation, adaptive thinking, an effort) costs
// before it is sent to a Claude deployment: the sampling it refuses
// (Unsupported) and its thinking fitted to the model (fitClaude), read in
// place. To a Claude 4.6, which takes it as it is, nothing is copied; to
// Haiku 4.5, a fallback, the body is rewritten.
func BenchmarkMessagesToClaude(b *testing.B) {
	msg := `{"role":"user","content":"` + strings.Repeat("lorem ipsum dolor sit amet ", 40) + `"},{"role":"assistant","content":"ok"},`
	body := []byte(`{"model":"claude","max_tokens":32000,"thinking":{"type":"adaptive"},"output_config":{"effort":"high"},"temperature":1,"messages":[` +
		strings.Repeat(msg, 100) + `{"role":"user","content":"end"}]}`)
	for _, model := range []string{"claude-sonnet-4-6", "claude-haiku-4-5"} {
		b.Run(model, func(b *testing.B) {
			p := &anthropic{d: config.Deployment{Model: model}}
			r := &Request{Op: Chat, API: APIMessages, Body: body, Model: "claude"}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if why := p.Unfit(r); why != "" {
					b.Fatal(why)
				}
				if params, _ := p.Unsupported(r); len(params) > 0 {
					b.Fatal(params)
				}
				if _, err := fitClaude(model, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUnsupportedWithTools: what a 110 KB chat request with 20
// function tools costs to check at a deployment before it is sent: at
// GPT-5.4, which takes tools in chat completions only without
// reasoning, its fields are read (in place); at GPT-4o, whose refusals
// the request does not name, a byte search finds nothing to read.
func BenchmarkUnsupportedWithTools(b *testing.B) {
	msgs := strings.Repeat(`{"role":"user","content":"`+strings.Repeat("lorem ipsum ", 80)+`"},`, 100)
	tool := `{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}}`
	body := []byte(`{"model":"g","messages":[` + msgs + `{"role":"user","content":"end"}],"tools":[` + strings.Repeat(tool+",", 19) + tool + `]}`)
	for _, model := range []string{"gpt-5.4", "gpt-4o"} {
		b.Run(model, func(b *testing.B) {
			mp := config.OpenAIModelParams(model)
			p := newOpenAI(config.Deployment{Model: model, Refuses: mp.Refuses, ParamRenames: mp.Renames, Fit: mp}, nil, func(s string) string { return s })
			r := &Request{Op: Chat, Body: body}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if params, _ := p.Unsupported(r); len(params) > 0 {
					b.Fatal(params)
				}
			}
		})
	}
}

// BenchmarkResponsesBridge: what a chat request costs to translate for a
// model of the Responses API alone (a 110 KB conversation of 100
// messages with 20 function tools), and its answer back to chat.
func BenchmarkResponsesBridge(b *testing.B) {
	msgs := strings.Repeat(`{"role":"user","content":"`+strings.Repeat("lorem ipsum ", 80)+`"},`, 100)
	tool := `{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}}`
	body := []byte(`{"model":"gpt-5.1-codex","reasoning_effort":"high","max_completion_tokens":4000,"messages":[` + msgs +
		`{"role":"user","content":"end"}],"tools":[` + strings.TrimSuffix(strings.Repeat(tool+",", 20), ",") + `]}`)
	answer := []byte(`{"id":"resp_1","object":"response","created_at":1,"model":"gpt-5.1-codex","status":"completed","output":[` +
		`{"type":"reasoning","id":"rs_1","summary":[]},{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":"` +
		strings.Repeat("lorem ipsum ", 100) + `","annotations":[]}]}],"usage":{"input_tokens":9000,"output_tokens":300,"input_tokens_details":{"cached_tokens":0},"output_tokens_details":{"reasoning_tokens":100}}}`)
	b.Run("request", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := chatToResponses(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("request to Claude, for comparison", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(body, &fields); err != nil {
				b.Fatal(err)
			}
			if _, err := toAnthropic(fields, "claude-sonnet-4-5", 4096, true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("answer", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(answer)))
		for b.Loop() {
			if _, _, err := responseToChat(answer); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDeclinedPeek: what reading a classifier model's stream to its
// first content block (for a refusal before any content) and replaying
// it costs a Claude Fable 5 stream, against a Claude model whose stream
// is not read ahead.
func BenchmarkDeclinedPeek(b *testing.B) {
	stream := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\n\n" +
		"event: ping\ndata: {\"type\":\"ping\"}\n\n" +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
		strings.Repeat("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"word \"}}\n\n", 20)
	for _, model := range []string{"claude-fable-5", "claude-sonnet-4-6"} {
		b.Run(model, func(b *testing.B) {
			p := &anthropic{d: config.Deployment{Model: model}}
			b.ReportAllocs()
			for b.Loop() {
				events, why, _ := p.declined(io.NopCloser(strings.NewReader(stream)))
				if why != "" {
					b.Fatal(why)
				}
				if n, err := io.Copy(io.Discard, events); err != nil || n != int64(len(stream)) {
					b.Fatalf("replayed %d bytes of %d: %v", n, len(stream), err)
				}
			}
		})
	}
}
