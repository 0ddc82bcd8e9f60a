package mockllm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	if s.refuseMissing(w, r, f, model) {
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

// realtimeSecret serves POST /v1/realtime/client_secrets: a short-lived
// key (ek_...) for the session's model, and the session.
func (s *Server) realtimeSecret(w http.ResponseWriter, r *http.Request, f Faults) {
	var req struct {
		Session map[string]any `json:"session"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Session["model"] == nil {
		s.writeError(w, r, 400, "invalid_request_error", "Missing required parameter: 'session.model'.")
		return
	}
	n := s.ids.Add(1)
	sess := map[string]any{"type": "realtime", "object": "realtime.session", "id": fmt.Sprintf("sess_mock_%d", n), "model": req.Session["model"]}
	for k, v := range req.Session {
		sess[k] = v
	}
	writeJSON(w, 200, map[string]any{"value": fmt.Sprintf("ek_mock_%s_%d", s.opts.Name, n), "expires_at": s.now().Add(time.Minute).Unix(), "session": sess})
}

// realtimeCall serves POST /v1/realtime/calls, a WebRTC call as an app's
// server makes it: a form of the SDP offer and the session. It answers
// 201 with an SDP answer (whose session name says which mock answered,
// for which model) and where the call is.
func (s *Server) realtimeCall(w http.ResponseWriter, r *http.Request, f Faults) {
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		s.writeError(w, r, 400, "invalid_request_error", "the call must be a form of sdp and session")
		return
	}
	offer := formText(r, "sdp")
	var sess struct {
		Model string `json:"model"`
	}
	if !strings.HasPrefix(offer, "v=0") || json.Unmarshal([]byte(formText(r, "session")), &sess) != nil || sess.Model == "" {
		s.writeError(w, r, 400, "invalid_request_error", "sdp (an SDP offer) and session (with its model) are required")
		return
	}
	n := s.ids.Add(1)
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", fmt.Sprintf("/v1/realtime/calls/rtc_mock_%d", n))
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, "v=0\r\no=- %d 2 IN IP4 127.0.0.1\r\ns=%s %s\r\nt=0 0\r\n", n, s.opts.Name, sess.Model)
}

// formText is a parsed form's field, given as a value or as a file (a
// browser's FormData sends a Blob as one).
func formText(r *http.Request, name string) string {
	if v := r.FormValue(name); v != "" {
		return v
	}
	if fhs := r.MultipartForm.File[name]; len(fhs) > 0 {
		if f, err := fhs[0].Open(); err == nil {
			defer f.Close()
			b, _ := io.ReadAll(f)
			return string(b)
		}
	}
	return ""
}
