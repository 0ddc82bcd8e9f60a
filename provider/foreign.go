package provider

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// A thinking model that is not Claude or OpenAI's (DeepSeek's, served by
// chat) gives its reasoning as text, which breakerd shows a Messages
// client as thinking blocks and a Responses client as reasoning items.
// Clients send them back; Claude and OpenAI could not read them (Claude
// checks a thinking block's signature, OpenAI looks a reasoning item up
// by its id), so they are left out of what those get.

// ReasoningSignature signs the thinking blocks breakerd makes of another
// model's reasoning (a chat answer's reasoning_content, for a Messages
// client), followed, where the block keeps what the model wants back
// (Gemini's thought signatures), by a colon and that: Claude could not
// check it, so such blocks are left out of what Claude gets
// (withoutForeignThinking).
const ReasoningSignature = "breakerd:reasoning"

// ReasoningItemPrefix begins the id of a reasoning item breakerd makes of
// another model's reasoning, for a Responses client: OpenAI, which would
// look the id up, does not get such items (withoutForeignReasoning).
const ReasoningItemPrefix = "rs_breakerd_"

// ThinkingContentPrefix begins the encrypted content of such a reasoning
// item that carries what a model wants back of its reasoning (Claude's
// signed thinking blocks, Gemini 3's thought signatures; base64 JSON
// after it), for a Responses client to send back and the model to get
// again.
const ThinkingContentPrefix = "breakerd-thinking:"

// withoutForeignThinking returns a Messages request's body without the
// thinking blocks signed ReasoningSignature (and without a message they
// were all of); body as it is when it has none.
func withoutForeignThinking(body []byte) []byte {
	if !bytes.Contains(body, []byte(`"`+ReasoningSignature)) {
		return body
	}
	var fields map[string]json.RawMessage
	var msgs []map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil || json.Unmarshal(fields["messages"], &msgs) != nil {
		return body
	}
	msgs = slices.DeleteFunc(msgs, func(m map[string]json.RawMessage) bool {
		var blocks []json.RawMessage
		if json.Unmarshal(m["content"], &blocks) != nil {
			return false // text
		}
		kept := slices.DeleteFunc(slices.Clone(blocks), func(b json.RawMessage) bool {
			var t struct{ Type, Signature string }
			return json.Unmarshal(b, &t) == nil && t.Type == "thinking" && strings.HasPrefix(t.Signature, ReasoningSignature)
		})
		if len(kept) < len(blocks) {
			m["content"], _ = json.Marshal(kept)
		}
		// An answer that was only reasoning (cut short at its limit) is
		// left out whole: Claude refuses a message without content, and
		// joins the turns around it.
		return len(kept) == 0 && len(blocks) > 0
	})
	fields["messages"], _ = json.Marshal(msgs)
	out, err := json.Marshal(fields)
	if err != nil {
		return body
	}
	return out
}

// withoutForeignReasoning returns a Responses request's body without the
// reasoning items whose id begins with ReasoningItemPrefix, and those
// whose encrypted content is ReasoningSignature (an OpenAI item a broken
// stream cut short, which breakerd closed without its encrypted
// content); body as it is when it has none.
func withoutForeignReasoning(body []byte) []byte {
	if !bytes.Contains(body, []byte(`"`+ReasoningItemPrefix)) && !bytes.Contains(body, []byte(`"`+ReasoningSignature+`"`)) {
		return body
	}
	var fields map[string]json.RawMessage
	var items []json.RawMessage
	if json.Unmarshal(body, &fields) != nil || json.Unmarshal(fields["input"], &items) != nil {
		return body
	}
	items = slices.DeleteFunc(items, func(it json.RawMessage) bool {
		var r struct {
			Type, ID  string
			Encrypted string `json:"encrypted_content"`
		}
		return json.Unmarshal(it, &r) == nil && r.Type == "reasoning" && (strings.HasPrefix(r.ID, ReasoningItemPrefix) || r.Encrypted == ReasoningSignature)
	})
	fields["input"], _ = json.Marshal(items)
	out, err := json.Marshal(fields)
	if err != nil {
		return body
	}
	return out
}
