package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/realtime"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/mockllm"
)

// realtimeModels is a LiteLLM config's Realtime model on two deployments,
// one known by its name and one by model_info.mode, and a chat model.
const realtimeModels = `
model_list:
  - model_name: gpt-realtime
    litellm_params: {model: openai/gpt-realtime, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
  - model_name: gpt-realtime
    litellm_params: {model: openai/my-voice-model, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
    model_info: {mode: realtime}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
router_settings:
  routing_strategy: ordered
  num_retries: 0
`

// rtEvent is what the tests read of a Realtime server event.
type rtEvent struct {
	Type    string `json:"type"`
	Delta   string `json:"delta"`
	Session struct {
		Model string `json:"model"`
	} `json:"session"`
}

// converse sends a user message and a response.create on conn, and
// returns the response's text, once response.done has come.
func converse(t *testing.T, conn *realtime.RealtimeConnection) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a guard, not a timing
	defer cancel()
	for _, ev := range []string{
		`{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}}`,
		`{"type":"response.create"}`,
	} {
		if err := conn.SendRaw(ctx, json.RawMessage(ev)); err != nil {
			t.Fatal(err)
		}
	}
	var text strings.Builder
	for {
		raw, err := conn.RecvRaw(ctx)
		if err != nil {
			t.Fatalf("after %q: %v", text.String(), err)
		}
		var ev rtEvent
		_ = json.Unmarshal(raw, &ev)
		text.WriteString(ev.Delta)
		if ev.Type == "response.done" {
			return text.String()
		}
	}
}

// A Realtime session through the official SDK: opened at the first
// deployment whose handshake succeeds, the one that failed counting a
// failure on its realtime breaker, and relayed both ways as it is; the
// session's end frees the gateway.
func TestRealtimeSessionsFallBackAtTheHandshake(t *testing.T) {
	e := newEnv(t, realtimeModels, "a", "b")
	ctx := context.Background()
	e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	conn, err := e.client.Realtime.Connect(ctx, realtime.RealtimeConnectionOptions{}, option.WithQuery("model", "gpt-realtime"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := conn.RecvRaw(ctx)
	var first rtEvent
	if err != nil || json.Unmarshal(raw, &first) != nil || first.Type != "session.created" || first.Session.Model != "my-voice-model" {
		t.Fatalf("first event %s (%v)", raw, err)
	}
	if text := converse(t, conn); text != "Hello from b! The conversation has 1 items." {
		t.Fatalf("response %q", text)
	}
	if text := converse(t, conn); text != "Hello from b! The conversation has 2 items." {
		t.Fatalf("second response %q", text) // the same upstream session
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second) // a guard, not a timing
	defer cancel()
	if !e.gw.Wait(wctx) {
		t.Fatal("the gateway still holds the closed session")
	}
	if f := e.breaker("gpt-realtime/openai/gpt-realtime:realtime").Counts().Failures; f != 1 {
		t.Errorf("a's realtime breaker counted %d failures, want 1", f)
	}
	if n := e.breaker("gpt-4o/openai/gpt-4o:chat").Counts().Failures; n != 0 {
		t.Errorf("chat's breaker counted %d failures", n)
	}
}

// A Realtime model its upstream no longer serves (OpenAI's 404
// model_not_found at the handshake) is the deployment's fault: the
// session opens at the next deployment, and the first's realtime circuit
// opens, naming the cause.
func TestRealtimeModelMissingAtTheHandshake(t *testing.T) {
	e := newEnv(t, realtimeModels, "a", "b")
	ctx := context.Background()
	e.mocks["a"].SetFaults(mockllm.Faults{MissingModels: []string{"gpt-realtime"}})
	conn, err := e.client.Realtime.Connect(ctx, realtime.RealtimeConnectionOptions{}, option.WithQuery("model", "gpt-realtime"))
	if err != nil {
		t.Fatal(err)
	}
	if text := converse(t, conn); text != "Hello from b! The conversation has 1 items." {
		t.Fatalf("response %q", text)
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second) // a guard, not a timing
	defer cancel()
	if !e.gw.Wait(wctx) {
		t.Fatal("the gateway still holds the closed session")
	}
	s := e.breaker("gpt-realtime/openai/gpt-realtime:realtime").Snapshot()
	if s.State != breaker.Open || s.LastFailureKind != "model_missing" {
		t.Fatalf("a's realtime breaker %v (%q, class %q), want open, model_missing", s.State, s.Reason, s.LastFailureKind)
	}
}

// A session nothing can open is an HTTP error at the handshake, in
// OpenAI's shape: 503 when every deployment failed, and the client's
// error for a model that is not a Realtime model or not known, or a GET
// that is not a WebSocket.
func TestRealtimeErrors(t *testing.T) {
	e := newEnv(t, realtimeModels, "a", "b")
	ctx := context.Background()
	for _, tc := range []struct {
		model  string
		faults bool
		status int
		says   string
	}{
		{"gpt-realtime", true, 503, "No deployment of model `gpt-realtime` could open a Realtime session"},
		{"gpt-4o", false, 400, "does not serve the Realtime API"},
		{"nope", false, 404, "The model `nope` does not exist"},
	} {
		if tc.faults {
			e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
			e.mocks["b"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 502})
		}
		// The SDK reports a refused handshake's status only: its body is
		// read here as the SDK's WebSocket library gives it.
		_, resp, err := websocket.Dial(ctx, e.url+"/v1/realtime?model="+tc.model, &websocket.DialOptions{HTTPClient: e.http,
			HTTPHeader: http.Header{"Authorization": {"Bearer sk-client"}}})
		var body struct {
			Error struct{ Message, Type string }
		}
		if err == nil || resp == nil || resp.StatusCode != tc.status || json.NewDecoder(resp.Body).Decode(&body) != nil ||
			!strings.Contains(body.Error.Message, tc.says) {
			t.Fatalf("%s: %v %+v", tc.model, err, body)
		}
		e.mocks["a"].Reset()
		e.mocks["b"].Reset()
	}
	resp, err := e.http.Get(e.url + "/v1/realtime?model=gpt-realtime")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired || resp.Header.Get("Upgrade") != "websocket" {
		t.Fatalf("a plain GET: %d %v", resp.StatusCode, resp.Header)
	}
}

// At a shutdown a Realtime session is closed on both sides with 1001, and
// then no longer holds the gateway's Wait.
func TestRealtimeClosesWhenDraining(t *testing.T) {
	e := newEnv(t, realtimeModels, "a", "b")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a guard, not a timing
	defer cancel()
	conn, err := e.client.Realtime.Connect(ctx, realtime.RealtimeConnectionOptions{}, option.WithQuery("model", "gpt-realtime"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.RecvRaw(ctx); err != nil {
		t.Fatal(err)
	}
	close(e.draining)
	for {
		if _, err = conn.RecvRaw(ctx); err != nil {
			break
		}
	}
	if websocket.CloseStatus(err) != websocket.StatusGoingAway && !strings.Contains(err.Error(), "1001") {
		t.Fatalf("after draining began: %v", err)
	}
	if !e.gw.Wait(ctx) {
		t.Fatal("the gateway still waits on the closed session")
	}
}

// An Azure OpenAI deployment's Realtime session goes to Azure's path for
// its api_version, with its key as api-key.
func TestAzureRealtimePaths(t *testing.T) {
	for _, tc := range []struct{ version, want string }{
		{"2025-04-01-preview", "/openai/realtime?api-version=2025-04-01-preview&deployment=prod-eu&model=prod-eu"},
		{"v1", "/openai/v1/realtime?model=prod-eu"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			seen := make(chan *http.Request, 1)
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen <- r
				http.Error(w, `{"error":{"message":"no capacity"}}`, http.StatusServiceUnavailable)
			}))
			defer upstream.Close()
			url := serveGateway(t, "model_list:\n  - model_name: m\n    litellm_params:\n      model: azure/prod-eu\n"+
				"      api_base: "+upstream.URL+"\n      api_key: azure-key-0123456789\n      api_version: \""+tc.version+"\"\n"+
				"    model_info: {mode: realtime}\n")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a guard, not a timing
			defer cancel()
			hc := &http.Client{Transport: &http.Transport{}}
			defer hc.CloseIdleConnections()
			_, resp, err := websocket.Dial(ctx, url+"/v1/realtime?model=m", &websocket.DialOptions{HTTPClient: hc})
			if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("%v", err)
			}
			r := <-seen
			if r.URL.RequestURI() != tc.want || r.Header.Get("Api-Key") != "azure-key-0123456789" || r.Header.Get("Authorization") != "" {
				t.Fatalf("upstream saw %s with %v, want %s", r.URL.RequestURI(), r.Header, tc.want)
			}
		})
	}
}

// An upstream that ends a session mid-way is seen by the client as it
// ended it: the same close code and reason. (Read with the SDKs'
// WebSocket library: the Go SDK's errors leave the reason out.)
func TestRealtimeCloseIsMirrored(t *testing.T) {
	e := newEnv(t, realtimeModels, "a", "b")
	e.mocks["a"].SetFaults(mockllm.Faults{CutAfter: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a guard, not a timing
	defer cancel()
	conn, _, err := websocket.Dial(ctx, e.url+"/v1/realtime?model=gpt-realtime", &websocket.DialOptions{HTTPClient: e.http})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"response.create"}`)); err != nil {
		t.Fatal(err)
	}
	events := 0
	for {
		if _, _, err = conn.Read(ctx); err != nil {
			break
		}
		events++
	}
	var ce websocket.CloseError
	if events != 3 || !errors.As(err, &ce) || ce.Code != websocket.StatusInternalError || ce.Reason != "mock a cut the session" {
		t.Fatalf("after %d events: %v", events, err)
	}
	if !e.gw.Wait(ctx) {
		t.Fatal("the gateway still holds the ended session")
	}
}

// A browser's Realtime client, which cannot set headers, offers its key
// as the subprotocol openai-insecure-api-key.KEY, beside realtime: breakerd
// takes the key from there (for a WebSocket only) and chooses realtime,
// as OpenAI's server does.
func TestBrowserRealtimeClientsSendTheirKeyAsASubprotocol(t *testing.T) {
	e := newEnv(t, realtimeModels+"general_settings:\n  master_key: "+masterKey+"\n", "a", "b")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a guard, not a timing
	defer cancel()
	dial := func(key string) (*websocket.Conn, *http.Response, error) {
		return websocket.Dial(ctx, e.url+"/v1/realtime?model=gpt-realtime", &websocket.DialOptions{HTTPClient: e.http,
			Subprotocols: []string{"realtime", "openai-insecure-api-key." + key, "openai-beta.realtime-v1"}})
	}
	conn, _, err := dial(masterKey)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	_, data, err := conn.Read(ctx)
	var ev rtEvent
	if err != nil || json.Unmarshal(data, &ev) != nil || ev.Type != "session.created" || conn.Subprotocol() != "realtime" {
		t.Fatalf("first event %s (%v), subprotocol %q", data, err, conn.Subprotocol())
	}
	_ = conn.Close(websocket.StatusNormalClosure, "")

	if _, resp, err := dial("sk-wrong-guess-123"); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a wrong key: %v", err)
	}
	req, _ := http.NewRequest(http.MethodPost, e.url+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}`))
	req.Header.Set("Sec-WebSocket-Protocol", "openai-insecure-api-key."+masterKey)
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the subprotocol's key on a request that is no WebSocket: %d, want 401", resp.StatusCode)
	}
}

// The Realtime API's HTTP calls, through the official Go SDK: a client
// secret and a WebRTC call (the SDP offer and the session, as a form) go
// to the session's model's route through its realtime breakers, falling
// back when the first deployment fails, and come back as the upstream
// answered (the secret; the SDP answer, 201 and where the call is).
func TestRealtimeSecretsAndCallsFallBack(t *testing.T) {
	e := newEnv(t, realtimeModels, "a", "b")
	e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
	ctx := context.Background()
	secret, err := e.client.Realtime.ClientSecrets.New(ctx, realtime.ClientSecretNewParams{Session: realtime.ClientSecretNewParamsSessionUnion{
		OfRealtime: &realtime.RealtimeSessionCreateRequestParam{Model: "gpt-realtime", Instructions: openai.String("be brief")}}})
	if err != nil {
		t.Fatal(err)
	}
	sess := secret.Session.AsRealtime()
	if !strings.HasPrefix(secret.Value, "ek_mock_b_") || sess.Model != "my-voice-model" || sess.Instructions != "be brief" {
		t.Fatalf("secret %q, session %s", secret.Value, secret.Session.RawJSON())
	}
	resp, err := e.client.Realtime.Calls.New(ctx, realtime.CallNewParams{Sdp: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n",
		Session: realtime.RealtimeSessionCreateRequestParam{Model: "gpt-realtime"}})
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Content-Type") != "application/sdp" ||
		!strings.HasPrefix(resp.Header.Get("Location"), "/v1/realtime/calls/rtc_mock_") || !strings.Contains(string(answer), "s=b my-voice-model") {
		t.Fatalf("call: %d %v %q", resp.StatusCode, resp.Header, answer)
	}
	if n := e.breaker("gpt-realtime/openai/gpt-realtime:realtime").Counts().Failures; n != 2 {
		t.Fatalf("the failing deployment's realtime breaker counted %d failures, want 2", n)
	}
	req, _ := http.NewRequest(http.MethodPost, e.url+"/v1/realtime/calls", strings.NewReader("v=0\r\n"))
	req.Header.Set("Content-Type", "application/sdp")
	r, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusBadRequest {
		t.Fatalf("an SDP offer alone (a browser's, with a client secret): %d, want 400", r.StatusCode)
	}
}
