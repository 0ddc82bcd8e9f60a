package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/openai/openai-go/v3/responses"

	"github.com/breakerd/breakerd/mockllm"
	"github.com/breakerd/breakerd/provider"
)

// wsEvent is what the tests read of a WebSocket event.
type wsEvent struct {
	Type     string `json:"type"`
	StreamID string `json:"stream_id"`
	Status   int    `json:"status"`
	Error    struct {
		Code, Message string
	} `json:"error"`
	Response struct {
		ID string `json:"id"`
	} `json:"response"`
	Delta string `json:"delta"`
}

// turn sends one event and reads the events of its answer: to
// response.completed, or an error.
func turn(t *testing.T, conn *responses.ResponseConnection, event string) []wsEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a guard, not a timing
	defer cancel()
	if err := conn.SendRaw(ctx, json.RawMessage(event)); err != nil {
		t.Fatal(err)
	}
	var evs []wsEvent
	for {
		raw, err := conn.RecvRaw(ctx)
		if err != nil {
			t.Fatalf("after %d events: %v", len(evs), err)
		}
		var ev wsEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		evs = append(evs, ev)
		if ev.Type == "response.completed" || ev.Type == "error" {
			return evs
		}
	}
}

// The Responses API's WebSocket mode, through the official SDK's
// connection: each response.create is served as a streamed response
// through breakers and fallbacks, its events echo its stream_id, a
// store: false continuation carries its whole context (so another
// deployment can continue it), and errors are error events.
func TestWebSocketMode(t *testing.T) {
	e := newEnv(t, twoStores, "a", "b")
	conn, err := e.client.Responses.Connect(context.Background(), responses.ResponseConnectionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	evs := turn(t, conn, `{"type":"response.create","stream_id":"main","model":"gpt-4o","store":false,"input":"remember the blue door"}`)
	var types []string
	var text strings.Builder
	for _, ev := range evs {
		types = append(types, ev.Type)
		text.WriteString(ev.Delta)
		if ev.StreamID != "main" {
			t.Fatalf("%s carries stream_id %q", ev.Type, ev.StreamID)
		}
	}
	first := evs[len(evs)-1].Response.ID
	if _, d, _, _ := provider.DecodeResponseID(first); types[0] != "response.created" || d != "b" || !strings.Contains(text.String(), "Hello from b") {
		t.Fatalf("first turn: %v from %q: %q", types, d, text.String())
	}

	e.mocks["a"].Reset() // a, first in order, takes the next turn: it never saw the first
	evs = turn(t, conn, `{"type":"response.create","model":"gpt-4o","store":false,"previous_response_id":"`+first+`","input":[{"role":"user","content":"what colour?"}]}`)
	if last := evs[len(evs)-1]; last.Type != "response.completed" || last.StreamID != "" {
		t.Fatalf("second turn ended with %+v", last)
	}
	body := e.mocks["a"].LastBody()
	if strings.Contains(body, "previous_response_id") || !strings.Contains(body, "remember the blue door") ||
		!strings.Contains(body, "Hello from b") || !strings.Contains(body, "what colour?") {
		t.Fatalf("a got %s", body)
	}

	for _, tc := range []struct {
		event  string
		status int
		says   string
	}{
		{`{"type":"response.create","stream_id":"x","model":"nope","input":"hi"}`, 404, "nope"},
		{`{"type":"response.steer","stream_id":"x"}`, 400, "response.steer"},
		{`{"type":"response.create","stream_id":"x","model":"nope","input":"hi","generate":false}`, 404, "nope"},
	} {
		evs := turn(t, conn, tc.event)
		if ev := evs[len(evs)-1]; ev.Type != "error" || ev.Status != tc.status || ev.StreamID != "x" || !strings.Contains(ev.Error.Message, tc.says) {
			t.Fatalf("%s: %+v", tc.event, ev)
		}
	}
	// The socket still serves after errors.
	if evs := turn(t, conn, `{"type":"response.create","model":"gpt-4o","input":"still there?"}`); evs[len(evs)-1].Type != "response.completed" {
		t.Fatalf("after errors: %+v", evs)
	}
}

// A turn on the socket whose stream breaks mid-answer (store: false, as
// Codex sends) goes on at the next deployment on the same lane, one
// response to the client; the socket remembers the whole answer, which
// the turn that continues it carries.
func TestWebSocketTurnContinuesMidAnswer(t *testing.T) {
	e := newEnv(t, twoStores, "a", "b")
	conn, err := e.client.Responses.Connect(context.Background(), responses.ResponseConnectionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	e.mocks["a"].SetFaults(mockllm.Faults{CutAfter: 6}) // created, in_progress, the message's item and part, "Hello ", "from "
	evs := turn(t, conn, `{"type":"response.create","model":"gpt-4o","store":false,"input":"tell me"}`)
	var text strings.Builder
	created := 0
	for _, ev := range evs {
		text.WriteString(ev.Delta)
		if ev.Type == "response.created" {
			created++
		}
	}
	first, last := evs[0], evs[len(evs)-1]
	if created != 1 || last.Type != "response.completed" || last.Response.ID != first.Response.ID ||
		!strings.HasPrefix(text.String(), "Hello from Hello from b!") {
		t.Fatalf("turn: %d created, last %+v, id %q then %q, text %q", created, last, first.Response.ID, last.Response.ID, text.String())
	}
	e.mocks["a"].Reset()
	if evs := turn(t, conn, `{"type":"response.create","model":"gpt-4o","store":false,"previous_response_id":"`+last.Response.ID+
		`","input":[{"role":"user","content":"and then?"}]}`); evs[len(evs)-1].Type != "response.completed" {
		t.Fatalf("next turn: %+v", evs[len(evs)-1])
	}
	if body := e.mocks["a"].LastBody(); !strings.Contains(body, "Hello from Hello from b!") || !strings.Contains(body, "and then?") {
		t.Fatalf("a got %s: want the whole answer before the next input", body)
	}
}

// A warm-up (generate: false) is answered at once with a response that
// has no output, calling no upstream; the turn that continues it carries
// its context, and goes on naming the stored response it continued.
func TestWebSocketWarmUp(t *testing.T) {
	e := newEnv(t, twoStores, "a", "b")
	conn, err := e.client.Responses.Connect(context.Background(), responses.ResponseConnectionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	evs := turn(t, conn, `{"type":"response.create","stream_id":"w","model":"gpt-4o","generate":false,"instructions":"be brief","input":"my name is Ada"}`)
	warm := evs[len(evs)-1].Response.ID
	if len(evs) != 2 || evs[0].Type != "response.created" || evs[1].StreamID != "w" || !strings.HasPrefix(warm, "resp_") {
		t.Fatalf("warm-up: %+v", evs)
	}
	if n := e.mocks["a"].Stats().Requests + e.mocks["b"].Stats().Requests; n != 0 {
		t.Fatalf("a warm-up called the upstreams %d times", n)
	}
	evs = turn(t, conn, `{"type":"response.create","model":"gpt-4o","previous_response_id":"`+warm+`","input":"what is my name?"}`)
	body := e.mocks["a"].LastBody()
	if evs[len(evs)-1].Type != "response.completed" || strings.Contains(body, "previous_response_id") ||
		!strings.Contains(body, "my name is Ada") || !strings.Contains(body, "what is my name?") {
		t.Fatalf("the turn after the warm-up: %+v; a got %s", evs, body)
	}
	// A warm-up after a stored response: the turn still names it upstream.
	stored := evs[len(evs)-1].Response.ID
	_, _, upstream, _ := provider.DecodeResponseID(stored)
	evs = turn(t, conn, `{"type":"response.create","model":"gpt-4o","generate":false,"previous_response_id":"`+stored+`","input":"then warm"}`)
	warm = evs[len(evs)-1].Response.ID
	turn(t, conn, `{"type":"response.create","model":"gpt-4o","previous_response_id":"`+warm+`","input":"and now?"}`)
	body = e.mocks["a"].LastBody()
	if !strings.Contains(body, `"previous_response_id":"`+upstream+`"`) || !strings.Contains(body, "then warm") || !strings.Contains(body, "and now?") {
		t.Fatalf("a got %s", body)
	}
}

// At a shutdown a socket is told to go (1001) once its response is done,
// and then no longer holds the gateway's Wait.
func TestWebSocketClosesWhenDraining(t *testing.T) {
	e := newEnv(t, twoStores, "a", "b")
	conn, err := e.client.Responses.Connect(context.Background(), responses.ResponseConnectionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if evs := turn(t, conn, `{"type":"response.create","model":"gpt-4o","input":"hi"}`); evs[len(evs)-1].Type != "response.completed" {
		t.Fatalf("%+v", evs)
	}
	close(e.draining)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a guard, not a timing
	defer cancel()
	_, err = conn.RecvRaw(ctx)
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("after draining began: %v", err)
	}
	if !e.gw.Wait(ctx) {
		t.Fatal("the gateway still waits on the closed socket")
	}
}

// A web page may open a socket only from an origin server.cors_allowed_origins
// lets call the API (a browser sends no preflight for a WebSocket); a
// client that is no browser sends no Origin and is let in.
func TestWebSocketOrigins(t *testing.T) {
	e := newEnv(t, twoStores+"server:\n  cors_allowed_origins: [\"https://app.example\"]\n", "a", "b")
	for _, tc := range []struct {
		origin string
		ok     bool
	}{{"", true}, {"https://app.example", true}, {"https://evil.example", false}} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a guard, not a timing
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		conn, resp, err := websocket.Dial(ctx, strings.Replace(e.url, "http", "ws", 1)+"/v1/responses",
			&websocket.DialOptions{HTTPHeader: h, HTTPClient: e.http})
		cancel()
		if conn != nil {
			conn.CloseNow()
		}
		if (err == nil) != tc.ok {
			t.Errorf("origin %q: %v (%v)", tc.origin, err, resp)
		}
	}
}

// Lanes (stream_ids) are served at once: a response on one lane does not
// wait for another lane's, here one its provider never answers.
func TestWebSocketLanesRunAtOnce(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: stuck
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
  - model_name: quick
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
`, "a", "b")
	e.mocks["a"].SetFaults(mockllm.Faults{Hang: true})
	conn, err := e.client.Responses.Connect(context.Background(), responses.ResponseConnectionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a guard, not a timing
	defer cancel()
	if err := conn.SendRaw(ctx, json.RawMessage(`{"type":"response.create","stream_id":"A","model":"stuck","input":"hi"}`)); err != nil {
		t.Fatal(err)
	}
	if err := e.mocks["a"].WaitRequests(ctx, 1); err != nil {
		t.Fatal(err)
	}
	evs := turn(t, conn, `{"type":"response.create","stream_id":"B","model":"quick","input":"hi"}`)
	if last := evs[len(evs)-1]; last.Type != "response.completed" || last.StreamID != "B" {
		t.Fatalf("lane B, with lane A stuck: %+v", evs)
	}
}
