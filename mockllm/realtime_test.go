package mockllm

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The mock's Realtime API opens a session as OpenAI's does, answers the
// events it knows, an unknown one with an error event (the session going
// on), and a handshake under an injected fault with the fault's status.
func TestRealtime(t *testing.T) {
	m, url := newMock(t, Options{Name: "m"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a guard, not a timing
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url+"/v1/realtime?model=gpt-realtime", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	recv := func() map[string]any {
		t.Helper()
		_, b, err := conn.Read(ctx)
		var ev map[string]any
		if err != nil || json.Unmarshal(b, &ev) != nil {
			t.Fatalf("%s %v", b, err)
		}
		return ev
	}
	send := func(ev string) {
		t.Helper()
		if err := conn.Write(ctx, websocket.MessageText, []byte(ev)); err != nil {
			t.Fatal(err)
		}
	}
	if ev := recv(); ev["type"] != "session.created" || ev["session"].(map[string]any)["model"] != "gpt-realtime" {
		t.Fatalf("first event %v", ev)
	}
	send(`{"type":"session.update","session":{"instructions":"be brief"}}`)
	if ev := recv(); ev["type"] != "session.updated" {
		t.Fatalf("%v", ev)
	}
	send(`{"type":"input_audio_buffer.commit"}`)
	if ev := recv(); ev["type"] != "error" || !strings.Contains(ev["error"].(map[string]any)["message"].(string), "input_audio_buffer.commit") {
		t.Fatalf("%v", ev)
	}
	send(`{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}}`)
	if ev := recv(); ev["type"] != "conversation.item.created" {
		t.Fatalf("%v", ev)
	}
	send(`{"type":"response.create"}`)
	var text strings.Builder
	for {
		ev := recv()
		if d, ok := ev["delta"].(string); ok {
			text.WriteString(d)
		}
		if ev["type"] == "response.done" {
			break
		}
	}
	if text.String() != "Hello from m! The conversation has 1 items." {
		t.Fatalf("response %q", text.String())
	}

	m.SetFaults(Faults{ErrorRate: 1, Status: 503})
	_, resp, err := websocket.Dial(ctx, url+"/v1/realtime?model=gpt-realtime", nil)
	if err == nil || resp == nil || resp.StatusCode != 503 {
		t.Fatalf("a handshake under a fault: %v", err)
	}
	if s := m.Stats(); s.Realtime != 2 || s.Failed != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// A WebRTC call's form may carry its SDP offer as a file part, as a
// browser's FormData sends a Blob: the mock reads it either way.
func TestRealtimeCallTakesTheOfferAsAFile(t *testing.T) {
	_, url := newMock(t, Options{Name: "rt"})
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	f, _ := w.CreateFormFile("sdp", "blob")
	_, _ = f.Write([]byte("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"))
	_ = w.WriteField("session", `{"type":"realtime","model":"gpt-realtime"}`)
	_ = w.Close()
	resp, err := http.Post(url+"/v1/realtime/calls", w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(answer), "s=rt gpt-realtime") || resp.Header.Get("Location") == "" {
		t.Fatalf("%d %v %q", resp.StatusCode, resp.Header, answer)
	}
}
