package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/breakerd/breakerd/provider"
)

// A chat stream that breaks after its first chunk need not end there: the
// client has part of an answer, and the route's next deployment can be
// asked to go on with it, as LiteLLM's mid-stream fallback does. Its
// request is the client's with the text the client got as an assistant
// message and an instruction to continue; its chunks go on the same
// stream (Router.ContinueStreams).

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
}

// continuable reports whether c's stream, about to be relayed, may be
// continued elsewhere should it break: a chat stream, not stored (store:
// true), with deployments after the one streaming (c.rest). Whether it
// asks for one choice is read only if it breaks (oneChoice).
func (c *call) continuable() bool {
	return c.g.cfg.Router.ContinueStreams && c.op == provider.Chat && (c.api == "" || c.api == provider.APIChat) &&
		c.rest > 0 && c.req != nil && c.req.Stream &&
		!c.req.Store // a stored completion's id names the deployment that stores it whole
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
// continueInstruction after it (the client's own, when it got no text).
func (c *call) continuationRequest() *provider.Request {
	if c.cont.req != nil {
		return c.cont.req
	}
	req := *c.req
	c.cont.req = &req
	if len(c.cont.text) == 0 {
		return c.cont.req
	}
	var messages []json.RawMessage
	provider.EachField(c.req.Body, func(k, v []byte) {
		if string(k) == "messages" {
			_ = json.Unmarshal(v, &messages)
		}
	})
	assistant := append(append([]byte(`{"role":"assistant","content":"`), c.cont.text...), `"}`...)
	user, _ := json.Marshal(map[string]string{"role": "user", "content": continueInstruction})
	list, _ := json.Marshal(append(messages, assistant, user))
	if body, ok := provider.SetField(c.req.Body, "messages", list); ok {
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
