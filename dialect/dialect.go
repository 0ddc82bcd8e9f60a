// Package dialect translates the APIs clients speak (OpenAI's Responses,
// Anthropic's Messages) to and from chat completions, breakerd's common
// form, for deployments that do not serve them natively. Requests become
// chat requests; chat answers and chat streams become the client's
// answers and event streams. A deployment that does serve the client's API
// gets the request untouched instead, and none of this runs.
package dialect

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/breakerd/breakerd/provider"
)

// Error is a request the translation cannot take: the client gets it in
// its own API's error shape, with Status.
type Error struct {
	Status int
	// Param names the offending parameter, when there is one.
	Param   string
	Message string
}

func (e *Error) Error() string { return e.Message }

func badRequest(param, format string, args ...any) *Error {
	return &Error{Status: 400, Param: param, Message: fmt.Sprintf(format, args...)}
}

// Translated is a client request as a chat request.
type Translated struct {
	// Chat is the chat completions body (model included).
	Chat []byte
	// Unfit names features that only a deployment serving the client's
	// API natively can honour (previous_response_id, built-in tools, ...):
	// a translating deployment would silently ignore them, so it must not
	// take the request, not even with drop_params.
	Unfit []string
	// Unknown names the client's parameters newer than the translation,
	// which it leaves out: a chat deployment would not see them, so it
	// takes the request only where drop_params says to go without what
	// it does not support, as LiteLLM's does.
	Unknown []string
	// Optional names parameters the translation made of the client's
	// (a Messages request's thinking, a Responses request's reasoning, as
	// reasoning_effort) that a deployment may go without: sent only to
	// one that takes them (config.Deployment.Fit.Reasons, or a Claude that
	// thinks), never a reason to pass one over.
	Optional []string
	// Custom names a Responses request's custom tools (free-form input,
	// as Codex's apply_patch), which the chat request has as function
	// tools of one string parameter, input: their calls go back to the
	// client as custom tool calls (ChatToResponse, ResponsesFrames).
	Custom []string
	// Reasoning says the chat request's assistant messages carry
	// reasoning_content (a Messages request's thinking text, a Responses
	// request's reasoning summaries), thinking_blocks (Claude's, from a
	// reasoning item's encrypted content) or tool calls' extra_content
	// (Gemini's, from there too), which only a
	// deployment that reads it back should get
	// (config.Deployment.Fit.ReasoningContent, DeepSeek's thinking models).
	Reasoning bool
	// Thinking says the client asked to be shown the model's reasoning (a
	// Messages request's thinking, not omitted; a Responses request's
	// reasoning summary): a chat answer's reasoning goes back to it as
	// thinking blocks (ChatToMessage, MessagesFrames) or a reasoning
	// item's summary (ChatToResponse, ResponsesFrames).
	Thinking bool
	// Encrypted says a Responses client asked for its reasoning's
	// encrypted content (include: reasoning.encrypted_content, as Codex
	// does): what a model wants back of its reasoning goes to the client
	// there (kept), and comes back in the next turn: Claude's signed
	// thinking blocks (thinking_blocks), which Claude wants before a tool
	// call its thinking led to, and Gemini 3's thought signatures (each
	// tool call's extra_content).
	Encrypted bool
}

// chatToolCall is a tool call of a chat completion, or a piece of one in
// a chunk (where Index says which call it continues).
type chatToolCall struct {
	Index    int    `json:"index"`
	ID       string `json:"id"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
	// ExtraContent is Gemini 3's (its thought signature, which it wants
	// back with the call).
	ExtraContent json.RawMessage `json:"extra_content"`
}

// chatChunk is the part of a chat.completion.chunk the stream translators
// read.
type chatChunk struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Choices []struct {
		Delta struct {
			Content   *string        `json:"content"`
			Refusal   *string        `json:"refusal"`
			ToolCalls []chatToolCall `json:"tool_calls"`
			reasoned
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *chatUsage `json:"usage"`
}

// reasoned is a chat message's or delta's reasoning, under either name
// it goes by (reasoningKeys).
type reasoned struct {
	ReasoningContent string `json:"reasoning_content"`
	Reasoning        string `json:"reasoning"`
	// ThinkingBlocks are Claude's, with their signatures (LiteLLM's
	// field; a stream's, each block whole once it ends).
	ThinkingBlocks []json.RawMessage `json:"thinking_blocks"`
}

// text is the reasoning, "" for none.
func (r reasoned) text() string { return cmp.Or(r.ReasoningContent, r.Reasoning) }

// chatCompletion is the part of a chat.completion the translators read.
type chatCompletion struct {
	ID      string `json:"id"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Content   *string        `json:"content"`
			Refusal   *string        `json:"refusal"`
			ToolCalls []chatToolCall `json:"tool_calls"`
			reasoned
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage chatUsage `json:"usage"`
}

// chatUsage is a chat answer's usage, as the translators read it.
type chatUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

// anthropic is the usage as Anthropic's says it: the prompt's tokens
// read from the cache apart from the others (input_tokens), as Claude
// Code counts the context and the cost.
func (u chatUsage) anthropic() map[string]int {
	cached := min(u.PromptTokensDetails.CachedTokens, u.PromptTokens)
	return map[string]int{"input_tokens": u.PromptTokens - cached, "cache_creation_input_tokens": 0, "cache_read_input_tokens": cached,
		"output_tokens": u.CompletionTokens}
}

// frames turns a chat chunk stream into another API's event stream: each
// upstream chunk becomes zero or more events, and the end (or a break)
// one more set. It reads the first upstream chunk before it says anything,
// so that a stream that fails at once still fails before the first byte
// and the gateway can fall back.
type frames struct {
	in      provider.Stream
	pending [][]byte
	done    bool
	// chunk turns one upstream chunk into events; end makes the closing
	// events.
	chunk func(c *chatChunk)
	end   func()
}

func (f *frames) emit(name string, v any) {
	data, _ := json.Marshal(v)
	f.pending = append(f.pending, provider.Frame(name, data))
}

func (f *frames) Next() ([]byte, error) {
	for len(f.pending) == 0 {
		if f.done {
			return nil, io.EOF
		}
		data, err := f.in.Next()
		if err == io.EOF {
			f.done = true
			f.end()
			continue
		}
		if err != nil {
			return nil, err
		}
		var c chatChunk
		if json.Unmarshal(data, &c) != nil {
			continue
		}
		f.chunk(&c)
	}
	b := f.pending[0]
	f.pending = f.pending[1:]
	return b, nil
}

func (f *frames) Usage() provider.Usage { return f.in.Usage() }

func (f *frames) Close() error { return f.in.Close() }

// ChatFrames frames a chat chunk stream as chat completions streams are
// written: one data event per chunk, then data: [DONE]. A frame is valid
// until the next call to Next: each is written into the same buffer, since
// a long stream would otherwise allocate one per chunk.
func ChatFrames(in provider.Stream) provider.Stream { return &chatFrames{Stream: in} }

type chatFrames struct {
	provider.Stream
	ended bool
	buf   []byte
}

func (c *chatFrames) Next() ([]byte, error) {
	if c.ended {
		return nil, io.EOF
	}
	data, err := c.Stream.Next()
	if err == io.EOF {
		c.ended = true
		return []byte("data: [DONE]\n\n"), nil
	}
	if err != nil {
		return nil, err
	}
	c.buf = provider.AppendFrame(c.buf[:0], nil, data)
	return c.buf, nil
}

// kept is what a model wants back of its reasoning in the next turn,
// which a reasoning item breakerd made carries in its encrypted content
// (after provider.ThinkingContentPrefix), and a thinking block in its
// signature (after provider.ReasoningSignature and a colon): Claude's
// signed thinking blocks, and Gemini 3's thought signatures
// (extra_content) by the id of the tool call each came with.
type kept struct {
	Blocks []json.RawMessage          `json:"thinking_blocks,omitempty"`
	Calls  map[string]json.RawMessage `json:"extra_content,omitempty"`
}

func (k *kept) empty() bool { return len(k.Blocks) == 0 && len(k.Calls) == 0 }

// call keeps a tool call's extra_content, if it has one.
func (k *kept) call(tc chatToolCall) {
	if tc.ID == "" || len(tc.ExtraContent) == 0 || string(tc.ExtraContent) == "null" {
		return
	}
	if k.Calls == nil {
		k.Calls = map[string]json.RawMessage{}
	}
	k.Calls[tc.ID] = tc.ExtraContent
}

// keptIn reads what s keeps, an encrypted content or a signature breakerd
// made (prefix, then base64 JSON); ok is false for another's (OpenAI's
// own, Claude's).
func keptIn(s, prefix string) (k kept, ok bool) {
	enc, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return kept{}, false
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	return k, err == nil && json.Unmarshal(raw, &k) == nil
}

// encoded is what k keeps, after prefix, as keptIn reads it.
func (k *kept) encoded(prefix string) string {
	b, _ := json.Marshal(k)
	return prefix + base64.StdEncoding.EncodeToString(b)
}
