package gateway

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/breakerd/breakerd/provider"
)

// A Responses stream (Codex's, the Agents SDK's) that breaks goes on as a
// chat or Messages one does, with what the Responses API adds: every event
// numbered (sequence_number), output items addressed by output index and
// item id, and a last event that carries the whole response. The
// continuation's events are numbered after the client's, its message goes
// on in the client's open one (its id, its index, its text part), its
// reasoning is left out, its other items come after the client's, and its
// last event carries the client's response id and output: the SDKs'
// accumulators, which check each of these, see one response.

// responsesEvent is what continuing reads of a Responses stream event, in
// place: its type, number, output and content indices (-1 when absent),
// item id, its item's type and id, its part's type, its response's id and
// its text delta (JSON, as they came).
type responsesEvent struct {
	typ, itemID, itemType, item, partType, respID, delta []byte
	seq, output, content                                 int
}

// readResponsesEvent reads a Responses event's data.
func readResponsesEvent(data []byte) (ev responsesEvent, ok bool) {
	ev.output, ev.content = -1, -1
	num := func(v []byte) int {
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return -1
		}
		return n
	}
	ok = provider.EachField(data, func(k, v []byte) {
		switch string(k) {
		case "type":
			ev.typ = v
		case "sequence_number":
			ev.seq = num(v)
		case "output_index":
			ev.output = num(v)
		case "content_index":
			ev.content = num(v)
		case "item_id":
			ev.itemID = v
		case "delta":
			ev.delta = v
		case "item":
			provider.EachField(v, func(k, v []byte) {
				switch string(k) {
				case "type":
					ev.itemType = v
				case "id":
					ev.item = v
				}
			})
		case "part":
			provider.EachField(v, func(k, v []byte) {
				if string(k) == "type" {
					ev.partType = v
				}
			})
		case "response":
			provider.EachField(v, func(k, v []byte) {
				if string(k) == "id" {
					ev.respID = v
				}
			})
		}
	})
	return ev, ok
}

// noteResponsesPartial reads a Responses event the client got into
// c.cont: the response's id, the event's number, the output items and
// text, or what ends continuing: a tool's call, a refusal, the end.
func (c *call) noteResponsesPartial(frame []byte) {
	_, data, ok := splitFrame(frame)
	if !ok {
		return
	}
	ev, ok := readResponsesEvent(data)
	if !ok {
		c.cont.ok = false
		return
	}
	k := &c.cont
	k.seq = ev.seq
	switch string(ev.typ) {
	case `"response.created"`:
		if k.id == nil && set(ev.respID) {
			k.id = append(json.RawMessage(nil), ev.respID...)
		}
	case `"response.output_item.added"`:
		k.blocks = max(k.blocks, ev.output+1)
		switch string(ev.itemType) {
		case `"message"`:
			k.textOpen, k.text0, k.part = true, ev.output, -1
			k.msgID = append(json.RawMessage(nil), ev.item...)
		case `"reasoning"`:
			k.reasoning, k.summary, k.summaryOpen, k.thoughts, k.thoughtOpen = ev.output+1, nil, false, nil, false
			k.reasoningID = append(json.RawMessage(nil), ev.item...)
		default:
			k.ok = false // a tool's call
		}
	case `"response.reasoning_summary_part.added"`:
		if ev.output == k.reasoning-1 {
			k.summary, k.summaryOpen = append(k.summary, nil), true
		}
	case `"response.reasoning_summary_text.delta"`:
		if ev.output == k.reasoning-1 && k.summaryOpen {
			k.summary[len(k.summary)-1] = appendDelta(k.summary[len(k.summary)-1], ev.delta)
		}
	case `"response.reasoning_summary_part.done"`:
		if ev.output == k.reasoning-1 {
			k.summaryOpen = false
		}
	case `"response.reasoning_text.delta"`:
		if ev.output == k.reasoning-1 && k.thoughtOpen {
			k.thoughts[len(k.thoughts)-1] = appendDelta(k.thoughts[len(k.thoughts)-1], ev.delta)
		}
	case `"response.content_part.done"`:
		if ev.output == k.reasoning-1 {
			k.thoughtOpen = false
		}
	case `"response.content_part.added"`:
		if ev.output == k.reasoning-1 {
			k.thoughts, k.thoughtOpen = append(k.thoughts, nil), true
			return
		}
		if ev.output == k.text0 && k.textOpen {
			if string(ev.partType) != `"output_text"` {
				k.ok = false // a refusal
				return
			}
			k.part, k.partText = ev.content, len(k.text)
		}
	case `"response.output_text.delta"`:
		// A continuation's text is noted as it is spliced in
		// (intoClientMessage): the last deployment's is not read here.
		if ev.output == k.text0 && k.textOpen && !k.midStream {
			k.text = appendDelta(k.text, ev.delta)
		}
	case `"response.output_item.done"`:
		if k.items == nil {
			k.items = map[int]json.RawMessage{}
		}
		provider.EachField(data, func(key, v []byte) {
			if string(key) == "item" {
				k.items[ev.output] = append(json.RawMessage(nil), v...)
			}
		})
		if ev.output == k.text0 {
			k.textOpen = false
		}
		if ev.output == k.reasoning-1 {
			k.reasoning = 0
		}
	case `"response.refusal.delta"`, `"response.completed"`, `"response.incomplete"`, `"response.failed"`:
		k.ok = false
	}
}

// responsesContinued splices a continuation's Responses event into the
// client's stream (responses' comment above), nil for one the client is
// not to get.
func (c *call) responsesContinued(w http.ResponseWriter, frame []byte) []byte {
	name, data, ok := splitFrame(frame)
	if !ok {
		return frame
	}
	ev, ok := readResponsesEvent(data)
	if !ok {
		return frame
	}
	k := &c.cont
	if k.mapped == nil {
		k.mapped = map[int]int{}
	}
	c.closeOpenReasoning(w)
	switch string(ev.typ) {
	case `"response.created"`, `"response.in_progress"`, `"response.queued"`:
		return nil
	case `"error"`:
		return frame
	case `"response.completed"`, `"response.incomplete"`, `"response.failed"`:
		c.closeOpenMessage(w)
		data = c.responseSpliced(data)
	case `"response.output_item.added"`:
		switch {
		case string(ev.itemType) == `"reasoning"`:
			k.mapped[ev.output] = -1
			return nil
		case string(ev.itemType) == `"message"` && k.textOpen && k.part >= 0 && k.into == 0:
			k.mapped[ev.output], k.into = k.text0, ev.output+1 // the client's message goes on
			return nil
		}
		c.closeOpenMessage(w)
		k.mapped[ev.output] = k.blocks
		k.blocks++
	}
	if ev.output >= 0 {
		to, known := k.mapped[ev.output]
		if !known || to < 0 {
			return nil // a part of what was left out
		}
		if ev.output == k.into-1 {
			if data = c.intoClientMessage(ev, data); data == nil {
				return nil
			}
		}
		data = setJSON(data, "output_index", strconv.Itoa(to))
	}
	return provider.Frame(string(name), c.numbered(data))
}

// intoClientMessage rewrites an event of the continuation's message so
// that it goes on in the client's: its item id and text part the
// client's, its done events with the whole text; nil for the start of
// its first part, which the client has.
func (c *call) intoClientMessage(ev responsesEvent, data []byte) []byte {
	k := &c.cont
	switch string(ev.typ) {
	case `"response.content_part.added"`:
		if ev.content == 0 {
			return nil
		}
	case `"response.output_text.delta"`:
		if ev.content == 0 {
			k.text = appendDelta(k.text, ev.delta)
		}
	case `"response.output_text.done"`:
		if ev.content == 0 {
			data = setJSON(data, "text", `"`+string(k.text[k.partText:])+`"`)
		}
	case `"response.content_part.done"`:
		if ev.content == 0 {
			data = setJSON(data, "part", string(textPart(k.text[k.partText:])))
		}
	case `"response.output_item.done"`:
		var item map[string]json.RawMessage
		provider.EachField(data, func(key, v []byte) {
			if string(key) == "item" {
				_ = json.Unmarshal(v, &item)
			}
		})
		if item != nil {
			data = setJSON(data, "item", string(c.clientMessage(item)))
		}
		k.textOpen = false
	}
	if ev.content >= 0 {
		data = setJSON(data, "content_index", strconv.Itoa(k.part+ev.content))
	}
	if ev.itemID != nil {
		data = setJSON(data, "item_id", string(k.msgID))
	}
	return data
}

// clientMessage is the continuation's message item as the client's: its
// id, and its first part's text the whole text.
func (c *call) clientMessage(item map[string]json.RawMessage) json.RawMessage {
	k := &c.cont
	item["id"] = k.msgID
	var parts []map[string]json.RawMessage
	if json.Unmarshal(item["content"], &parts) == nil && len(parts) > 0 {
		parts[0]["text"] = json.RawMessage(`"` + string(k.text[k.partText:]) + `"`)
		item["content"], _ = json.Marshal(parts)
	}
	b, _ := json.Marshal(item)
	return b
}

// closeOpenMessage ends the client's open message, which the
// continuation does not go on in, with the events that end it: its text
// part's done events and its item's done event, the text it has.
func (c *call) closeOpenMessage(w http.ResponseWriter) {
	k := &c.cont
	if !k.textOpen || k.into != 0 {
		return
	}
	k.textOpen = false
	at, id := strconv.Itoa(k.text0), string(k.msgID)
	content := "[]"
	if k.part >= 0 {
		full, ci := k.text[k.partText:], strconv.Itoa(k.part)
		part := textPart(full)
		content = "[" + string(part) + "]"
		c.sendNumbered(w, "response.output_text.done", `{"type":"response.output_text.done","item_id":`+id+`,"output_index":`+at+
			`,"content_index":`+ci+`,"text":"`+string(full)+`","logprobs":[]}`)
		c.sendNumbered(w, "response.content_part.done", `{"type":"response.content_part.done","item_id":`+id+`,"output_index":`+at+
			`,"content_index":`+ci+`,"part":`+string(part)+`}`)
	}
	item := `{"id":` + id + `,"type":"message","status":"completed","role":"assistant","content":` + content + `}`
	if k.items == nil {
		k.items = map[int]json.RawMessage{}
	}
	k.items[k.text0] = json.RawMessage(item)
	c.sendNumbered(w, "response.output_item.done", `{"type":"response.output_item.done","output_index":`+at+`,"item":`+item+`}`)
}

// closeOpenReasoning ends the client's reasoning item the break cut
// short, before the continuation's events: its open summary or
// reasoning_text part's done events, then its item's done event with the
// summary and content it has. Its
// encrypted content is provider.ReasoningSignature, which no model reads:
// sent back, the item is left out at OpenAI, which would look its id up
// (a response not stored: 404), and its summary goes as reasoning to a
// model that reads another's.
func (c *call) closeOpenReasoning(w http.ResponseWriter) {
	k := &c.cont
	if k.reasoning == 0 {
		return
	}
	i := k.reasoning - 1
	at, id := strconv.Itoa(i), string(k.reasoningID)
	k.reasoning = 0
	if k.summaryOpen {
		k.summaryOpen = false
		si, text := strconv.Itoa(len(k.summary)-1), string(k.summary[len(k.summary)-1])
		c.sendNumbered(w, "response.reasoning_summary_text.done", `{"type":"response.reasoning_summary_text.done","item_id":`+id+
			`,"output_index":`+at+`,"summary_index":`+si+`,"text":"`+text+`"}`)
		c.sendNumbered(w, "response.reasoning_summary_part.done", `{"type":"response.reasoning_summary_part.done","item_id":`+id+
			`,"output_index":`+at+`,"summary_index":`+si+`,"part":{"type":"summary_text","text":"`+text+`"}}`)
	}
	if k.thoughtOpen {
		k.thoughtOpen = false
		ci, text := strconv.Itoa(len(k.thoughts)-1), string(k.thoughts[len(k.thoughts)-1])
		c.sendNumbered(w, "response.reasoning_text.done", `{"type":"response.reasoning_text.done","item_id":`+id+
			`,"output_index":`+at+`,"content_index":`+ci+`,"text":"`+text+`"}`)
		c.sendNumbered(w, "response.content_part.done", `{"type":"response.content_part.done","item_id":`+id+
			`,"output_index":`+at+`,"content_index":`+ci+`,"part":{"type":"reasoning_text","text":"`+text+`"}}`)
	}
	parts := make([]string, len(k.summary))
	for i, text := range k.summary {
		parts[i] = `{"type":"summary_text","text":"` + string(text) + `"}`
	}
	item := `{"id":` + id + `,"type":"reasoning","summary":[` + strings.Join(parts, ",") + `]`
	if len(k.thoughts) > 0 {
		content := make([]string, len(k.thoughts))
		for i, text := range k.thoughts {
			content[i] = `{"type":"reasoning_text","text":"` + string(text) + `"}`
		}
		item += `,"content":[` + strings.Join(content, ",") + `]`
	}
	item += `,"encrypted_content":"` + provider.ReasoningSignature + `"}`
	if k.items == nil {
		k.items = map[int]json.RawMessage{}
	}
	k.items[i] = json.RawMessage(item)
	c.sendNumbered(w, "response.output_item.done", `{"type":"response.output_item.done","output_index":`+at+`,"item":`+item+`}`)
}

// appendDelta appends a text delta (a JSON string) to text, as escaped.
func appendDelta(text, delta []byte) []byte {
	if len(delta) < 2 || delta[0] != '"' {
		return text
	}
	return append(text, delta[1:len(delta)-1]...)
}

// textPart is an output_text part with text (JSON string content).
func textPart(text []byte) []byte {
	return []byte(`{"type":"output_text","text":"` + string(text) + `","annotations":[],"logprobs":[]}`)
}

// responseSpliced is the continuation's last event with the client's
// response: its id, and as output the items the client got and the
// continuation's, each at the client's output index (its message the
// client's, its reasoning left out).
func (c *call) responseSpliced(data []byte) []byte {
	k := &c.cont
	var ev map[string]json.RawMessage
	var resp map[string]json.RawMessage
	if json.Unmarshal(data, &ev) != nil || json.Unmarshal(ev["response"], &resp) != nil {
		return data
	}
	var output []json.RawMessage
	_ = json.Unmarshal(resp["output"], &output)
	at := map[int]json.RawMessage{}
	for i, raw := range k.items {
		at[i] = raw
	}
	for i, raw := range output {
		to, known := k.mapped[i]
		switch {
		case !known:
			to = k.blocks // announced only here
			k.blocks++
		case to < 0:
			continue
		}
		if i == k.into-1 {
			var item map[string]json.RawMessage
			if json.Unmarshal(raw, &item) == nil {
				raw = c.clientMessage(item)
			}
		}
		at[to] = raw
	}
	indices := make([]int, 0, len(at))
	for i := range at {
		indices = append(indices, i)
	}
	slices.SortFunc(indices, cmp.Compare)
	all := make([]json.RawMessage, 0, len(indices))
	for _, i := range indices {
		all = append(all, at[i])
	}
	resp["output"], _ = json.Marshal(all)
	if k.id != nil {
		resp["id"] = k.id
	}
	ev["response"], _ = json.Marshal(resp)
	b, _ := json.Marshal(ev)
	return b
}

// numbered returns an event's data numbered after the last the client
// got.
func (c *call) numbered(data []byte) []byte {
	c.cont.seq++
	return setJSON(data, "sequence_number", strconv.Itoa(c.cont.seq))
}

// sendNumbered sends the client an event breakerd makes, numbered.
func (c *call) sendNumbered(w http.ResponseWriter, name, data string) {
	_ = c.send(w, provider.Frame(name, c.numbered([]byte(data))), false)
}

// setJSON is provider.SetField that keeps obj when it is not an object.
func setJSON(obj []byte, key, value string) []byte {
	if b, ok := provider.SetField(obj, key, []byte(value)); ok {
		return b
	}
	return obj
}
