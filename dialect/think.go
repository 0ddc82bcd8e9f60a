package dialect

import (
	"bytes"
	"encoding/json"

	"github.com/breakerd/breakerd/provider"
)

// LiteLLM's merge_reasoning_content_in_choices: a chat client that shows
// only content (Open WebUI) gets the model's reasoning there, between
// <think> and </think> before the answer, as reasoning models served by
// Ollama or vLLM without a reasoning parser write it. The reasoning is
// read from reasoning_content, or reasoning (vLLM's newer name,
// OpenRouter's).

// reasoningKeys are the names a chat message or delta carries its
// reasoning under.
var reasoningKeys = []string{"reasoning_content", "reasoning"}

// takeReasoning removes the reasoning from a message or delta and
// returns it ("" for none).
func takeReasoning(m map[string]json.RawMessage) string {
	var text string
	for _, k := range reasoningKeys {
		if v, ok := m[k]; ok {
			var s string
			if json.Unmarshal(v, &s) == nil && text == "" {
				text = s
			}
			if s != "" || string(v) == "null" || string(v) == `""` {
				delete(m, k)
			}
		}
	}
	return text
}

// content is a message's or delta's content as a string ("" for none
// or null).
func content(m map[string]json.RawMessage) string {
	var s string
	_ = json.Unmarshal(m["content"], &s)
	return s
}

// MergeReasoning returns a whole chat completion with each choice's
// reasoning moved into its content: <think>reasoning</think>content. An
// answer without reasoning, or that is not a chat completion, is
// returned as it is.
func MergeReasoning(body []byte) []byte {
	if !bytes.Contains(body, []byte(`"reasoning`)) {
		return body
	}
	var answer map[string]json.RawMessage
	var choices []map[string]json.RawMessage
	if json.Unmarshal(body, &answer) != nil || json.Unmarshal(answer["choices"], &choices) != nil {
		return body
	}
	changed := false
	for _, ch := range choices {
		var msg map[string]json.RawMessage
		if json.Unmarshal(ch["message"], &msg) != nil || msg == nil {
			continue
		}
		r := takeReasoning(msg)
		if r == "" {
			continue
		}
		msg["content"], _ = json.Marshal("<think>" + r + "</think>" + content(msg))
		ch["message"], _ = json.Marshal(msg)
		changed = true
	}
	if !changed {
		return body
	}
	answer["choices"], _ = json.Marshal(choices)
	out, err := json.Marshal(answer)
	if err != nil {
		return body
	}
	return out
}

// MergedReasoning returns a chat chunk stream with each choice's
// reasoning moved into its content: the first reasoning delta's content
// starts with <think>, and the first delta after the reasoning (its
// answer, a tool call or its finish) starts with </think>. Chunks with
// no reasoning, and none open, pass as they are.
func MergedReasoning(in provider.Stream) provider.Stream {
	return &mergedReasoning{Stream: in, open: map[int]bool{}}
}

type mergedReasoning struct {
	provider.Stream
	// open are the choices (by index) whose <think> is not yet closed.
	open map[int]bool
}

func (s *mergedReasoning) Next() ([]byte, error) {
	chunk, err := s.Stream.Next()
	if err != nil || len(s.open) == 0 && !bytes.Contains(chunk, []byte(`"reasoning`)) {
		return chunk, err
	}
	var c map[string]json.RawMessage
	var choices []map[string]json.RawMessage
	if json.Unmarshal(chunk, &c) != nil || json.Unmarshal(c["choices"], &choices) != nil {
		return chunk, nil
	}
	for _, ch := range choices {
		var index int
		_ = json.Unmarshal(ch["index"], &index)
		var delta map[string]json.RawMessage
		if json.Unmarshal(ch["delta"], &delta) != nil {
			continue
		}
		if delta == nil {
			delta = map[string]json.RawMessage{}
		}
		r, text := takeReasoning(delta), content(delta)
		ends := text != "" || len(delta["tool_calls"]) > 0 && string(delta["tool_calls"]) != "null" ||
			len(ch["finish_reason"]) > 0 && string(ch["finish_reason"]) != "null"
		merged := ""
		if r != "" {
			if !s.open[index] {
				merged, s.open[index] = "<think>", true
			}
			merged += r
		}
		if s.open[index] && ends {
			merged += "</think>"
			delete(s.open, index)
		}
		if merged == "" {
			ch["delta"], _ = json.Marshal(delta)
			continue
		}
		delta["content"], _ = json.Marshal(merged + text)
		ch["delta"], _ = json.Marshal(delta)
	}
	c["choices"], _ = json.Marshal(choices)
	out, err := json.Marshal(c)
	if err != nil {
		return chunk, nil
	}
	return out, nil
}
