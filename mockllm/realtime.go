package mockllm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// realtime serves OpenAI's Realtime API (GET /v1/realtime?model=..., a
// WebSocket): session.created first, then, as OpenAI's does,
// session.updated for a session.update, conversation.item.created for a
// conversation.item.create, and for a response.create a response whose
// text says which mock made it and how many items the conversation
// holds, word by word (output_text deltas), ending in response.done.
// Other events are answered with an error event, and the session goes
// on. Faults apply to the handshake (an injected error is its answer);
// ChunkDelayMS paces a response's deltas, and CutAfter ends the session
// after that many events, closing it with 1011 (internal error), as an
// upstream that fails mid-session does.
func (s *Server) realtime(w http.ResponseWriter, r *http.Request, f Faults) {
	model := r.URL.Query().Get("model")
	if model == "" {
		s.writeError(w, r, 400, "invalid_request_error", "Missing required parameter: 'model'.")
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered
	}
	defer conn.CloseNow()
	ctx := r.Context()
	sess := "sess_" + fmt.Sprint(s.ids.Add(1))
	sent := 0
	send := func(ev map[string]any) error {
		if f.CutAfter > 0 && sent == f.CutAfter {
			s.stats.failed.Add(1)
			_ = conn.Close(websocket.StatusInternalError, "mock "+s.opts.Name+" cut the session")
			return errors.New("cut")
		}
		sent++
		ev["event_id"] = fmt.Sprintf("event_%d", s.ids.Add(1))
		b, _ := json.Marshal(ev)
		return conn.Write(ctx, websocket.MessageText, b)
	}
	session := map[string]any{"id": sess, "object": "realtime.session", "type": "realtime", "model": model}
	if send(map[string]any{"type": "session.created", "session": session}) != nil {
		return
	}
	items := 0
	for {
		_, msg, err := conn.Read(ctx)
		if err != nil {
			return
		}
		var ev struct {
			Type    string          `json:"type"`
			Session json.RawMessage `json:"session"`
			Item    json.RawMessage `json:"item"`
		}
		if json.Unmarshal(msg, &ev) != nil {
			ev.Type = ""
		}
		switch ev.Type {
		case "session.update":
			err = send(map[string]any{"type": "session.updated", "session": session})
		case "conversation.item.create":
			items++
			err = send(map[string]any{"type": "conversation.item.created", "item": ev.Item})
		case "response.create":
			err = s.realtimeResponse(ctx, send, f, items)
		default:
			err = send(map[string]any{"type": "error", "error": map[string]any{"type": "invalid_request_error",
				"code": "invalid_value", "message": fmt.Sprintf("Invalid value: '%s'. Supported values are: 'session.update', 'conversation.item.create' and 'response.create'.", ev.Type)}})
		}
		if err != nil {
			return
		}
	}
}

// realtimeResponse sends one response of a Realtime session.
func (s *Server) realtimeResponse(ctx context.Context, send func(map[string]any) error, f Faults, items int) error {
	id := fmt.Sprintf("resp_%d", s.ids.Add(1))
	text := fmt.Sprintf("Hello from %s! The conversation has %d items.", s.opts.Name, items)
	resp := map[string]any{"id": id, "object": "realtime.response", "status": "in_progress", "output": []any{}}
	if err := send(map[string]any{"type": "response.created", "response": resp}); err != nil {
		return err
	}
	for _, wd := range strings.SplitAfter(text, " ") {
		if f.ChunkDelayMS > 0 {
			select {
			case <-time.After(time.Duration(f.ChunkDelayMS) * time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := send(map[string]any{"type": "response.output_text.delta", "response_id": id, "delta": wd}); err != nil {
			return err
		}
	}
	if err := send(map[string]any{"type": "response.output_text.done", "response_id": id, "text": text}); err != nil {
		return err
	}
	resp["status"] = "completed"
	resp["output"] = []any{map[string]any{"type": "message", "role": "assistant", "status": "completed",
		"content": []any{map[string]any{"type": "output_text", "text": text}}}}
	resp["usage"] = map[string]any{"input_tokens": 10 * items, "output_tokens": tokens(text), "total_tokens": 10*items + tokens(text)}
	return send(map[string]any{"type": "response.done", "response": resp})
}
