package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/breakerd/breakerd/provider"
)

// A chat, Messages or Responses stream that breaks after its first chunk need not
// end there: the client has part of an answer, and the route's next
// deployment can be asked to go on with it, as LiteLLM's mid-stream
// fallback does. Its request is the client's with the text the client got
// as an assistant message and an instruction to continue; its chunks go
// on the same stream (Router.ContinueStreams), a Messages stream's spliced
// into the client's content blocks (messagesContinued), a Responses
// stream's into the client's response (responsesContinued).

// continueInstruction follows the text a continuation goes on with.
const continueInstruction = "Your previous reply was cut off. Continue it from exactly where it stopped, " +
	"without repeating any of it and without any preamble."

// continuation is a call's state for continuing its stream.
type continuation struct {
	// on is set while the stream may be continued: a chat client's, of
	// one choice, with the switch on and a deployment after this one.
	on bool
	// text is the text the client got, as JSON string content (escaped
	// as it came); ok is cleared by a chunk a continuation cannot carry
	// on from: a tool call, another choice, a finish.
	text []byte
	ok   bool
	// id is the stream's id (its first chunk's, as JSON), which a
	// continuation's chunks take: clients keep to one stream's id.
	id json.RawMessage
	// midStream is set once a stream broke with the client holding its
	// headers and chunks: the attempts after it continue it. again tells
	// the attempt whose stream broke so; broke says why it broke, for
	// the error event if no deployment continues it.
	midStream, again bool
	broke            string
	// hop is set from the break until the request moves on: that move
	// is a "midstream" one (Observer.FellBack).
	hop bool
	// req is the continuation's request, made once for each break.
	req *provider.Request
	// A Messages stream's content blocks, as the client has them: how
	// many were started, and whether the last is text still open (at
	// index text), which a continuation's text goes on in. blocks maps a
	// continuation's block indices to the client's (-1: left out).
	blocks   int
	textOpen bool
	// thought is 1 + the index of the client's thinking block the break
	// left open (0: none), which the continuation closes.
	thought int
	text0   int
	mapped  map[int]int
	// A Responses stream's, besides those (its output items as blocks,
	// its open message at text0): the last event's sequence_number; the
	// open message's item id (JSON) and text part (part, -1 before one;
	// partText, where its text starts in text); the items the client
	// got whole, by output index; into, 1 + the output index of the
	// continuation's message that goes on in the client's (0: none).
	seq            int
	msgID          json.RawMessage
	part, partText int
	items          map[int]json.RawMessage
	into           int
	// reasoning is 1 + the output index of the client's reasoning item
	// the break left open (0: none), which the continuation closes: its
	// item id (JSON), the text of its summary parts so far (JSON string
	// content), and whether the last part is open.
	reasoning   int
	reasoningID json.RawMessage
	summary     [][]byte
	summaryOpen bool
	// thoughts are its content's reasoning_text parts so far (an
	// open-weight model's reasoning as it is), the last open when
	// thoughtOpen.
	thoughts    [][]byte
	thoughtOpen bool
}

// continuable reports whether c's stream, about to be relayed, may be
// continued elsewhere should it break: a chat, Messages or Responses
// stream, not stored (Request.Store: a stored completion's or response's
// id names the deployment that stores it whole), with deployments after
// the one streaming (c.rest). Whether it asks for one choice is read only
// if it breaks (oneChoice).
func (c *call) continuable() bool {
	switch c.api {
	case "", provider.APIChat, provider.APIMessages, provider.APIResponses:
	default:
		return false
	}
	return c.g.cfg.Router.ContinueStreams && c.op == provider.Chat && c.rest > 0 && c.req != nil && c.req.Stream && !c.req.Store
}

// oneChoice reports whether c's request asks for one choice (n unset or
// 1): a continuation carries on one text.
func (c *call) oneChoice() bool {
	one := true
	provider.EachField(c.req.Body, func(k, v []byte) {
		if string(k) == "n" && string(bytes.TrimSpace(v)) != "1" {
			one = false
		}
	})
	return one
}

// notePartial reads a chunk the client got (an SSE frame of a chat chunk)
// into c.cont: its text, or what ends continuing (continuation.ok). It
// reads the chunk in place, with no decoding, as it does every chunk of a
// stream that may be continued.
func (c *call) notePartial(frame []byte) {
	switch c.api {
	case provider.APIMessages:
		c.noteMessagesPartial(frame)
		return
	case provider.APIResponses:
		c.noteResponsesPartial(frame)
		return
	}
	data, ok := bytes.CutPrefix(frame, []byte("data: "))
	if data = bytes.TrimSpace(data); !ok || len(data) == 0 || data[0] != '{' {
		return // [DONE], or not a chunk
	}
	fine := provider.EachField(data, func(k, v []byte) {
		switch string(k) {
		case "id":
			if c.cont.id == nil && set(v) {
				c.cont.id = append(json.RawMessage(nil), v...)
			}
		case "choices":
			if !provider.EachElement(v, c.noteChoice) {
				c.cont.ok = false
			}
		}
	})
	if !fine {
		c.cont.ok = false
	}
}

// noteChoice reads one choice of a chunk (notePartial).
func (c *call) noteChoice(choice []byte) {
	if !provider.EachField(choice, func(k, v []byte) {
		switch string(k) {
		case "index":
			if string(v) != "0" {
				c.cont.ok = false // another choice
			}
		case "finish_reason":
			if set(v) {
				c.cont.ok = false
			}
		case "delta":
			provider.EachField(v, func(k, v []byte) {
				switch string(k) {
				case "content":
					if len(v) >= 2 && v[0] == '"' && c.cont.ok {
						c.cont.text = append(c.cont.text, v[1:len(v)-1]...)
					}
				case "tool_calls", "function_call":
					if set(v) {
						c.cont.ok = false
					}
				}
			})
		}
	}) {
		c.cont.ok = false
	}
}

// messagesEvent is what continuing reads of a Messages stream event, in
// place: its type, its content block's index and type, its delta's type
// and text (a JSON string, escaped as it came).
type messagesEvent struct {
	typ, block, delta []byte
	index             int
	text              []byte
}

// readMessagesEvent reads a Messages event's data.
func readMessagesEvent(data []byte) (ev messagesEvent, ok bool) {
	ev.index = -1
	ok = provider.EachField(data, func(k, v []byte) {
		switch string(k) {
		case "type":
			ev.typ = v
		case "index":
			if n, err := strconv.Atoi(string(v)); err == nil {
				ev.index = n
			}
		case "content_block":
			provider.EachField(v, func(k, v []byte) {
				if string(k) == "type" {
					ev.block = v
				}
			})
		case "delta":
			provider.EachField(v, func(k, v []byte) {
				switch string(k) {
				case "type":
					ev.delta = v
				case "text":
					ev.text = v
				}
			})
		}
	})
	return ev, ok
}

// noteMessagesPartial reads a Messages event the client got into c.cont:
// its text, its content blocks, or what ends continuing: a tool's call
// (its input cannot be gone on with), the message's end.
func (c *call) noteMessagesPartial(frame []byte) {
	_, data, ok := splitFrame(frame)
	if !ok {
		return
	}
	ev, ok := readMessagesEvent(data)
	if !ok {
		c.cont.ok = false
		return
	}
	switch string(ev.typ) {
	case `"content_block_start"`:
		c.cont.blocks = max(c.cont.blocks, ev.index+1)
		switch string(ev.block) {
		case `"text"`:
			c.cont.textOpen, c.cont.text0 = true, ev.index
		case `"thinking"`:
			c.cont.textOpen, c.cont.thought = false, ev.index+1
		case `"redacted_thinking"`:
			c.cont.textOpen = false
		default:
			c.cont.ok = false // a tool's call
		}
	case `"content_block_delta"`:
		if string(ev.delta) == `"text_delta"` && len(ev.text) >= 2 && ev.text[0] == '"' {
			c.cont.text = append(c.cont.text, ev.text[1:len(ev.text)-1]...)
		}
	case `"content_block_stop"`:
		if ev.index == c.cont.text0 {
			c.cont.textOpen = false
		}
		if ev.index+1 == c.cont.thought {
			c.cont.thought = 0
		}
	case `"message_delta"`, `"message_stop"`:
		c.cont.ok = false
	}
}

// continued is a continuation's chunk as the client is to get it, nil
// for one it is not to get: a chat chunk under the stream's id; a
// Messages event in the client's content blocks (messagesContinued); a
// Responses event in the client's response (responsesContinued).
func (c *call) continued(w http.ResponseWriter, chunk []byte) []byte {
	switch c.api {
	case provider.APIMessages:
		return c.messagesContinued(w, chunk)
	case provider.APIResponses:
		return c.responsesContinued(w, chunk)
	}
	return c.withStreamID(chunk)
}

// messagesContinued splices a continuation's Messages event into the
// client's stream: its message_start and pings left out (the client has
// its message), its thinking left out (the client's answer goes on), its
// first text block going on in the client's open text block, its other
// blocks after the client's, each index rewritten to the client's. The
// client's open text block is closed (sent here) before a block or the
// message's end that does not go on in it.
func (c *call) messagesContinued(w http.ResponseWriter, frame []byte) []byte {
	name, data, ok := splitFrame(frame)
	if !ok {
		return frame
	}
	ev, ok := readMessagesEvent(data)
	if !ok {
		return frame
	}
	if c.cont.mapped == nil {
		c.cont.mapped = map[int]int{}
	}
	if i := c.cont.thought - 1; i >= 0 {
		// The break cut the client's thinking short, before its
		// signature: it ends signed as breakerd's, which Claude is not
		// sent back (it would refuse a block it cannot check).
		c.cont.thought = 0
		_ = c.send(w, provider.Frame("content_block_delta", []byte(`{"type":"content_block_delta","index":`+strconv.Itoa(i)+
			`,"delta":{"type":"signature_delta","signature":"`+provider.ReasoningSignature+`"}}`)), false)
		_ = c.send(w, provider.Frame("content_block_stop", []byte(`{"type":"content_block_stop","index":`+strconv.Itoa(i)+`}`)), false)
	}
	closeOpen := func() {
		if c.cont.textOpen {
			c.cont.textOpen = false
			_ = c.send(w, provider.Frame("content_block_stop", []byte(`{"type":"content_block_stop","index":`+strconv.Itoa(c.cont.text0)+`}`)), false)
		}
	}
	switch string(ev.typ) {
	case `"message_start"`, `"ping"`:
		return nil
	case `"content_block_start"`:
		switch {
		case string(ev.block) == `"thinking"` || string(ev.block) == `"redacted_thinking"`:
			c.cont.mapped[ev.index] = -1
			return nil
		case string(ev.block) == `"text"` && c.cont.textOpen && !mappedTo(c.cont.mapped, c.cont.text0):
			c.cont.mapped[ev.index] = c.cont.text0 // the client's text goes on
			return nil
		}
		closeOpen()
		c.cont.mapped[ev.index] = c.cont.blocks
		c.cont.blocks++
	case `"content_block_delta"`, `"content_block_stop"`:
		to, known := c.cont.mapped[ev.index]
		if !known || to < 0 {
			return nil
		}
		if string(ev.typ) == `"content_block_stop"` && to == c.cont.text0 {
			c.cont.textOpen = false
		}
	case `"message_delta"`:
		closeOpen()
		return frame
	default:
		return frame
	}
	to := c.cont.mapped[ev.index]
	if to == ev.index {
		return frame
	}
	if b, ok := provider.SetField(data, "index", []byte(strconv.Itoa(to))); ok {
		return provider.Frame(string(name), b)
	}
	return frame
}

// mappedTo reports whether a continuation's block already goes to the
// client's block i.
func mappedTo(m map[int]int, i int) bool {
	for _, to := range m {
		if to == i {
			return true
		}
	}
	return false
}

// set reports whether a JSON value is there and not null.
func set(v []byte) bool { return len(v) > 0 && string(v) != "null" }

// withStreamID returns a continuation's chunk (an SSE frame) with the
// id of the stream it continues.
func (c *call) withStreamID(frame []byte) []byte {
	data, ok := bytes.CutPrefix(frame, []byte("data: "))
	if data = bytes.TrimSpace(data); !ok || c.cont.id == nil || len(data) == 0 || data[0] != '{' {
		return frame
	}
	if b, ok := provider.SetField(data, "id", c.cont.id); ok {
		return provider.Frame("", b)
	}
	return frame
}

// continuationRequest is the request that continues c's broken stream:
// the client's, with the text the client got as an assistant message and
// continueInstruction after it (the client's own, when it got no text):
// in messages (chat, Messages) or input (Responses, a string of input
// made a user message).
func (c *call) continuationRequest() *provider.Request {
	if c.cont.req != nil {
		return c.cont.req
	}
	req := *c.req
	c.cont.req = &req
	if len(c.cont.text) == 0 {
		return c.cont.req
	}
	field := "messages"
	if c.api == provider.APIResponses {
		field = "input"
	}
	var list []json.RawMessage
	provider.EachField(c.req.Body, func(k, v []byte) {
		if string(k) == field {
			var s string
			if json.Unmarshal(v, &s) == nil {
				user, _ := json.Marshal(map[string]string{"role": "user", "content": s})
				list = []json.RawMessage{user}
				return
			}
			_ = json.Unmarshal(v, &list)
		}
	})
	assistant := append(append([]byte(`{"role":"assistant","content":"`), c.cont.text...), `"}`...)
	user, _ := json.Marshal(map[string]string{"role": "user", "content": continueInstruction})
	b, _ := json.Marshal(append(list, assistant, user))
	if body, ok := provider.SetField(c.req.Body, field, b); ok {
		req.Body = body
	}
	return c.cont.req
}

// continueInstead ends a stream c could not continue: the client gets
// the error event the break would have given it, saying that no
// deployment went on with it.
func (c *call) continueInstead(w http.ResponseWriter, why string) {
	msg := "the upstream stream broke: " + c.cont.broke + "; no other deployment could continue it"
	if why != "" {
		msg += " (" + why + ")"
	}
	_ = c.send(w, c.errorEvent(msg), true)
}
