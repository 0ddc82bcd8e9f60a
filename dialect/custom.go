package dialect

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/breakerd/breakerd/provider"
)

// A chat client's custom tools (OpenAI's free-form tools, which GPT-5
// takes in chat) go to a model that does not take them (Claude, DeepSeek,
// Gemini, an older GPT) as functions of one string, input, their grammar
// said in words, as a Responses client's do (customFunction); the model's
// calls of them come back to the client as custom tool calls, whole
// (CustomCalls) and streamed (CustomCallStream).

// HasCustomTools reports whether a chat request offers a custom tool.
func HasCustomTools(body []byte) bool {
	return bytes.Contains(body, []byte(`"custom"`)) && provider.CustomTool(body) != ""
}

// CustomAsFunctions returns a chat request with its custom tools as
// functions of one string, input: the tools, a tool_choice that names
// one, and the assistant's earlier calls of them (their input as the
// function's arguments). The translation's Custom names them, for
// CustomCalls and CustomCallStream.
func CustomAsFunctions(body []byte) (*Translated, *Error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, badRequest("", "the request body is not a JSON object: %v", err)
	}
	var tools []map[string]json.RawMessage
	if err := json.Unmarshal(fields["tools"], &tools); err != nil {
		return nil, badRequest("tools", "Invalid 'tools': %v", err)
	}
	out := &Translated{}
	for i, t := range tools {
		var typ string
		if json.Unmarshal(t["type"], &typ) != nil || typ != "custom" {
			continue
		}
		var c struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			// Format is chat's: its grammar in an object of its own
			// (the Responses API's is flat, customFormat).
			Format *struct {
				Type    string       `json:"type"`
				Grammar customFormat `json:"grammar"`
			} `json:"format"`
		}
		if err := json.Unmarshal(t["custom"], &c); err != nil || c.Name == "" {
			return nil, badRequest("tools", "tools[%d]: a custom tool needs custom.name", i)
		}
		var format *customFormat
		if c.Format != nil {
			format = &customFormat{Type: c.Format.Type, Syntax: c.Format.Grammar.Syntax, Definition: c.Format.Grammar.Definition}
		}
		out.Custom = append(out.Custom, c.Name)
		fn, _ := json.Marshal(customFunction(c.Name, c.Description, format))
		tools[i] = map[string]json.RawMessage{"type": json.RawMessage(`"function"`), "function": fn}
	}
	fields["tools"], _ = json.Marshal(tools)
	var choice struct {
		Type   string `json:"type"`
		Custom struct {
			Name string `json:"name"`
		} `json:"custom"`
	}
	if json.Unmarshal(fields["tool_choice"], &choice) == nil && choice.Type == "custom" {
		fields["tool_choice"], _ = json.Marshal(map[string]any{"type": "function", "function": map[string]string{"name": choice.Custom.Name}})
	}
	if bytes.Contains(fields["messages"], []byte(`"custom"`)) {
		var msgs []map[string]json.RawMessage
		if err := json.Unmarshal(fields["messages"], &msgs); err != nil {
			return nil, badRequest("messages", "Invalid 'messages': %v", err)
		}
		for _, m := range msgs {
			var calls []map[string]json.RawMessage
			if json.Unmarshal(m["tool_calls"], &calls) != nil || len(calls) == 0 {
				continue
			}
			for j, call := range calls {
				var c struct {
					Type   string `json:"type"`
					Custom struct {
						Name  string `json:"name"`
						Input string `json:"input"`
					} `json:"custom"`
				}
				if json.Unmarshal(mustJSON(call), &c) != nil || c.Type != "custom" {
					continue
				}
				args, _ := json.Marshal(map[string]string{"input": c.Custom.Input})
				fn, _ := json.Marshal(map[string]string{"name": c.Custom.Name, "arguments": string(args)})
				calls[j] = map[string]json.RawMessage{"id": call["id"], "type": json.RawMessage(`"function"`), "function": fn}
			}
			m["tool_calls"], _ = json.Marshal(calls)
		}
		fields["messages"], _ = json.Marshal(msgs)
	}
	chat, err := json.Marshal(fields)
	if err != nil {
		return nil, badRequest("", "the request cannot be translated: %v", err)
	}
	out.Chat = chat
	return out, nil
}

// mustJSON is v encoded; v is one json.Unmarshal gave.
func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// customCall is a chat custom tool call: {id, type: custom, custom:
// {name, input}}, input from the function call's arguments.
func customCall(id json.RawMessage, name, args string) map[string]any {
	return map[string]any{"id": id, "type": "custom", "custom": map[string]string{"name": name, "input": customInput(args)}}
}

// CustomCalls returns a chat completion with its calls of custom (the
// functions CustomAsFunctions made) as custom tool calls; body as it is
// when it has none.
func CustomCalls(body []byte, custom []string) []byte {
	if len(custom) == 0 || !bytes.Contains(body, []byte(`"tool_calls"`)) {
		return body
	}
	return withToolCalls(body, "message", func(calls []map[string]json.RawMessage) bool {
		changed := false
		for j, call := range calls {
			var fn struct{ Name, Arguments string }
			if json.Unmarshal(call["function"], &fn) != nil || !slices.Contains(custom, fn.Name) {
				continue
			}
			calls[j], changed = mapOf(customCall(call["id"], fn.Name, fn.Arguments)), true
		}
		return changed
	})
}

// mapOf is v as raw fields.
func mapOf(v map[string]any) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(v))
	for k, x := range v {
		out[k], _ = json.Marshal(x)
	}
	return out
}

// CustomCallStream returns a chat chunk stream with its calls of custom
// as custom tool calls: a call's first delta (its id and name) as a
// custom call with no input yet; its arguments, JSON that holds the
// input ({"input": "..."}), as deltas of the input's text as it comes
// (an escape cut short waits for the rest); what is left when the choice
// finishes (or the stream ends) goes in a delta of its own before the
// finish, and the whole input there when the arguments are not of that
// shape.
func CustomCallStream(in provider.Stream, custom []string) provider.Stream {
	return &customCallStream{Stream: in, custom: custom, args: map[[2]int]*customArgs{}}
}

type customCallStream struct {
	provider.Stream
	custom []string
	// args are the arguments so far of each custom call, by choice and
	// call index; pending, chunks to send before the next read.
	args    map[[2]int]*customArgs
	pending [][]byte
	// ended is the end the inner stream gave, held while the inputs it
	// left unsent go first.
	ended error
	// head is the stream's id, created time and model (JSON), for the
	// chunks this stream adds.
	head map[string]json.RawMessage
}

// customArgs is a custom call's arguments so far: JSON that holds its
// input ({"input": "..."}), whose string content goes to the client as
// it comes.
type customArgs struct {
	args string
	// start is where the input's string content begins in args, -1
	// until args say, -2 when they do not begin so (the input then goes
	// whole at the end); sent is how much of the content went.
	start, sent int
	done        bool
}

// more is the input's content (JSON string content, escaped as it came)
// that came since the last call, up to its last whole escape.
func (a *customArgs) more() string {
	if a.start == -1 {
		a.start = inputStart(a.args)
	}
	if a.start < 0 {
		return ""
	}
	content := a.args[a.start:]
	upto := closingQuote(content)
	if upto == len(content) {
		upto = wholeEscapes(content)
	}
	if upto <= a.sent {
		return ""
	}
	out := content[a.sent:upto]
	a.sent = upto
	return out
}

// rest is what is left of the input for the client at the end: the
// content not yet sent (as JSON), or, where args did not begin as the
// function's do, the input as customInput reads it.
func (a *customArgs) rest() json.RawMessage {
	if a.start < 0 {
		b, _ := json.Marshal(customInput(a.args))
		return b
	}
	content := a.args[a.start:]
	end := closingQuote(content)
	if end < a.sent {
		end = a.sent
	}
	raw := content[a.sent:end]
	if wholeEscapes(raw) != len(raw) {
		raw = raw[:wholeEscapes(raw)] // an escape cut short by the end
	}
	return inputJSON(raw)
}

// inputJSON is JSON string content raw as a JSON string: as it came where
// that is valid, its text escaped where it is not (a model's arguments
// with a line break in a string).
func inputJSON(raw string) json.RawMessage {
	if q := `"` + raw + `"`; json.Valid([]byte(q)) {
		return json.RawMessage(q)
	}
	b, _ := json.Marshal(raw)
	return b
}

// inputStart is where the content of the input's string begins in
// arguments that begin {"input":" (spaces allowed), -1 while they could
// still, -2 when they do not.
func inputStart(args string) int {
	i := 0
	space := func() {
		for i < len(args) && strings.IndexByte(" \t\r\n", args[i]) >= 0 {
			i++
		}
	}
	for _, want := range []string{"{", `"input"`, ":", `"`} {
		space()
		n := min(len(want), len(args)-i)
		if args[i:i+n] != want[:n] {
			return -2
		}
		if n < len(want) {
			return -1
		}
		i += n
	}
	return i
}

// closingQuote is the index of the quote that ends JSON string content s,
// len(s) when none does yet.
func closingQuote(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(s)
}

// wholeEscapes is how much of JSON string content s ends with whole
// escapes: an escape cut short (a backslash, or \u and fewer than four
// digits) is left for the next delta.
func wholeEscapes(s string) int {
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			i++
			continue
		}
		n := 2
		if i+1 < len(s) && s[i+1] == 'u' {
			n = 6
		}
		if i+n > len(s) {
			return i
		}
		i += n
	}
	return len(s)
}

func (s *customCallStream) Next() ([]byte, error) {
	if len(s.pending) > 0 {
		c := s.pending[0]
		s.pending = s.pending[1:]
		return c, nil
	}
	if s.ended != nil {
		return nil, s.ended
	}
	chunk, err := s.Stream.Next()
	if err != nil {
		if err == io.EOF {
			if inputs := s.inputs(-1); inputs != nil {
				s.ended = err // a stream that ends without its finish
				return inputs, nil
			}
		}
		return chunk, err
	}
	if !bytes.Contains(chunk, []byte(`"tool_calls"`)) && (len(s.args) == 0 || !bytes.Contains(chunk, []byte(`"finish_reason":"`))) {
		return chunk, nil
	}
	var c map[string]json.RawMessage
	var choices []map[string]json.RawMessage
	if json.Unmarshal(chunk, &c) != nil || json.Unmarshal(c["choices"], &choices) != nil {
		return chunk, nil
	}
	if s.head == nil {
		s.head = map[string]json.RawMessage{"id": c["id"], "object": json.RawMessage(`"chat.completion.chunk"`), "created": c["created"], "model": c["model"]}
	}
	var before []byte
	for _, ch := range choices {
		var index int
		_ = json.Unmarshal(ch["index"], &index)
		var delta map[string]json.RawMessage
		var calls []map[string]json.RawMessage
		if json.Unmarshal(ch["delta"], &delta) == nil && json.Unmarshal(delta["tool_calls"], &calls) == nil && len(calls) > 0 {
			kept := calls[:0]
			for _, call := range calls {
				var at int
				_ = json.Unmarshal(call["index"], &at)
				var fn struct{ Name, Arguments string }
				_ = json.Unmarshal(call["function"], &fn)
				key := [2]int{index, at}
				a := s.args[key]
				switch {
				case a != nil:
					a.args += fn.Arguments // the rest of a custom call's arguments
				case slices.Contains(s.custom, fn.Name):
					a = &customArgs{args: fn.Arguments, start: -1}
					s.args[key] = a
					started := mapOf(map[string]any{"index": at, "type": "custom", "custom": map[string]string{"name": fn.Name, "input": ""}})
					started["id"] = call["id"]
					kept = append(kept, started)
				default:
					kept = append(kept, call)
					continue
				}
				if more := a.more(); more != "" {
					kept = append(kept, mapOf(map[string]any{"index": at, "custom": map[string]json.RawMessage{"input": inputJSON(more)}}))
				}
			}
			if len(kept) == 0 {
				delete(delta, "tool_calls")
			} else {
				delta["tool_calls"], _ = json.Marshal(kept)
			}
			ch["delta"], _ = json.Marshal(delta)
		}
		if len(ch["finish_reason"]) > 0 && string(ch["finish_reason"]) != "null" {
			if inputs := s.inputs(index); inputs != nil {
				before = inputs
			}
		}
	}
	c["choices"], _ = json.Marshal(choices)
	out, err := json.Marshal(c)
	if err != nil {
		return chunk, nil
	}
	if before != nil {
		s.pending = append(s.pending, out)
		return before, nil
	}
	return out, nil
}

// inputs is a chunk with the whole input of each custom call of choice
// (-1: every choice) not yet sent, nil when there is none.
func (s *customCallStream) inputs(choice int) []byte {
	calls := map[int][]map[string]any{}
	for key, a := range s.args {
		if a.done || choice >= 0 && key[0] != choice {
			continue
		}
		a.done = true
		rest := a.rest()
		if string(rest) == `""` {
			continue // all of it went as it came
		}
		calls[key[0]] = append(calls[key[0]], map[string]any{"index": key[1], "custom": map[string]json.RawMessage{"input": rest}})
	}
	if len(calls) == 0 {
		return nil
	}
	var choices []map[string]any
	for _, i := range slices.Sorted(maps.Keys(calls)) {
		slices.SortFunc(calls[i], func(a, b map[string]any) int { return a["index"].(int) - b["index"].(int) })
		choices = append(choices, map[string]any{"index": i, "delta": map[string]any{"tool_calls": calls[i]}, "finish_reason": nil})
	}
	c := maps.Clone(s.head)
	c["choices"], _ = json.Marshal(choices)
	b, _ := json.Marshal(c)
	return b
}

// AllowedToolsFitted returns a chat request whose allowed_tools
// tool_choice (OpenAI's: the tools the model may call, of those offered)
// is, for a model that does not take it, the allowed tools alone and the
// choice's mode as tool_choice (auto, or required); body as it is without
// one.
func AllowedToolsFitted(body []byte) []byte {
	if !bytes.Contains(body, []byte(`"allowed_tools"`)) {
		return body
	}
	var fields map[string]json.RawMessage
	var tc struct {
		Type    string `json:"type"`
		Allowed struct {
			Mode  string `json:"mode"`
			Tools []struct {
				Function struct{ Name string } `json:"function"`
				Custom   struct{ Name string } `json:"custom"`
			} `json:"tools"`
		} `json:"allowed_tools"`
	}
	if json.Unmarshal(body, &fields) != nil || json.Unmarshal(fields["tool_choice"], &tc) != nil || tc.Type != "allowed_tools" {
		return body
	}
	allowed := map[string]bool{}
	for _, t := range tc.Allowed.Tools {
		allowed[cmp.Or(t.Function.Name, t.Custom.Name)] = true
	}
	var tools []json.RawMessage
	_ = json.Unmarshal(fields["tools"], &tools)
	tools = slices.DeleteFunc(tools, func(t json.RawMessage) bool {
		var named struct {
			Function struct{ Name string } `json:"function"`
			Custom   struct{ Name string } `json:"custom"`
		}
		_ = json.Unmarshal(t, &named)
		return !allowed[cmp.Or(named.Function.Name, named.Custom.Name)]
	})
	fields["tools"], _ = json.Marshal(tools)
	fields["tool_choice"], _ = json.Marshal(cmp.Or(tc.Allowed.Mode, "auto"))
	out, err := json.Marshal(fields)
	if err != nil {
		return body
	}
	return out
}
