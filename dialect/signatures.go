package dialect

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/breakerd/breakerd/provider"
)

// Gemini 3 signs each turn's first tool call (a thought signature, in the
// call's extra_content) and refuses, or reasons worse with a stand-in, a
// tool loop that does not send it back. Many chat clients drop fields
// they do not know (LangChain's, the Vercel AI SDK's), but every client
// sends a call's id back. So a chat client gets the signature in the id
// too, after ThoughtSeparator, as LiteLLM does (a session that moves
// between the two keeps working), and the id is the model's again in what
// any deployment gets: Gemini 3 gets the signature back where the call
// came without it, others only the id (OpenAI refuses an id over 40
// characters).

// ThoughtSeparator joins a tool call's id and its thought signature in
// the id a chat client gets: LiteLLM's "__thought__".
const ThoughtSeparator = "__thought__"

// thoughtSignature is a tool call's (or tool call delta's) Gemini thought
// signature, "" when it has none.
func thoughtSignature(call map[string]json.RawMessage) string {
	var extra struct {
		Google struct {
			ThoughtSignature string `json:"thought_signature"`
		} `json:"google"`
	}
	if json.Unmarshal(call["extra_content"], &extra) != nil {
		return ""
	}
	return extra.Google.ThoughtSignature
}

// signedIDs sets the id of each call that carries a thought signature to
// the id and the signature, and reports whether any did.
func signedIDs(calls []map[string]json.RawMessage) bool {
	changed := false
	for _, call := range calls {
		var id string
		if json.Unmarshal(call["id"], &id) != nil || id == "" || strings.Contains(id, ThoughtSeparator) {
			continue
		}
		if sig := thoughtSignature(call); sig != "" {
			call["id"], _ = json.Marshal(id + ThoughtSeparator + sig)
			changed = true
		}
	}
	return changed
}

// SignaturesIntoIDs returns a chat completion whose tool calls that carry
// a thought signature have it in their id too (ThoughtSeparator); body as
// it is when none does.
func SignaturesIntoIDs(body []byte) []byte {
	if !bytes.Contains(body, []byte(`"thought_signature"`)) {
		return body
	}
	return withToolCalls(body, "message", signedIDs)
}

// SignatureIDStream returns a chat chunk stream whose tool call deltas
// that carry a thought signature beside their id (Gemini sends a call
// whole, in one delta) have it in the id too.
func SignatureIDStream(in provider.Stream) provider.Stream {
	return signatureIDStream{in}
}

type signatureIDStream struct{ provider.Stream }

func (s signatureIDStream) Next() ([]byte, error) {
	chunk, err := s.Stream.Next()
	if err != nil || !bytes.Contains(chunk, []byte(`"thought_signature"`)) {
		return chunk, err
	}
	return withToolCalls(chunk, "delta", signedIDs), nil
}

// withToolCalls returns a chat completion or chunk (data) with each
// choice's tool calls (those of its message or delta: in) passed through
// edit, which reports whether it changed them; data as it is when it
// changed none.
func withToolCalls(data []byte, in string, edit func(calls []map[string]json.RawMessage) bool) []byte {
	var c map[string]json.RawMessage
	var choices []map[string]json.RawMessage
	if json.Unmarshal(data, &c) != nil || json.Unmarshal(c["choices"], &choices) != nil {
		return data
	}
	changed := false
	for _, ch := range choices {
		var m map[string]json.RawMessage
		var calls []map[string]json.RawMessage
		if json.Unmarshal(ch[in], &m) != nil || json.Unmarshal(m["tool_calls"], &calls) != nil || !edit(calls) {
			continue
		}
		m["tool_calls"], _ = json.Marshal(calls)
		ch[in], _ = json.Marshal(m)
		changed = true
	}
	if !changed {
		return data
	}
	c["choices"], _ = json.Marshal(choices)
	out, err := json.Marshal(c)
	if err != nil {
		return data
	}
	return out
}

// SignaturesFromIDs returns a chat request whose tool call ids (the
// assistant's calls', and tool messages' tool_call_id) are the model's
// again, the signature after ThoughtSeparator cut off; with keep (a
// deployment whose model wants it back), an assistant's call that carries
// no extra_content gets the signature there. body as it is when no id
// carries one.
func SignaturesFromIDs(body []byte, keep bool) []byte {
	if !bytes.Contains(body, []byte(ThoughtSeparator)) {
		return body
	}
	var fields map[string]json.RawMessage
	var msgs []map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil || json.Unmarshal(fields["messages"], &msgs) != nil {
		return body
	}
	changed := false
	for _, m := range msgs {
		var id string
		if json.Unmarshal(m["tool_call_id"], &id) == nil {
			if base, _, ok := strings.Cut(id, ThoughtSeparator); ok {
				m["tool_call_id"], _ = json.Marshal(base)
				changed = true
			}
		}
		var calls []map[string]json.RawMessage
		if json.Unmarshal(m["tool_calls"], &calls) != nil || len(calls) == 0 {
			continue
		}
		touched := false
		for _, call := range calls {
			var id string
			base, sig, ok := "", "", false
			if json.Unmarshal(call["id"], &id) == nil {
				base, sig, ok = strings.Cut(id, ThoughtSeparator)
			}
			if !ok {
				continue
			}
			call["id"], _ = json.Marshal(base)
			if _, has := call["extra_content"]; keep && !has && sig != "" {
				call["extra_content"], _ = json.Marshal(map[string]any{"google": map[string]string{"thought_signature": sig}})
			}
			touched = true
		}
		if touched {
			m["tool_calls"], _ = json.Marshal(calls)
			changed = true
		}
	}
	if !changed {
		return body
	}
	fields["messages"], _ = json.Marshal(msgs)
	out, err := json.Marshal(fields)
	if err != nil {
		return body
	}
	return out
}
