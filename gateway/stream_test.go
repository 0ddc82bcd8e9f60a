package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/mockllm"
)

func streamParams() openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("tell me")}}
}

func TestStreamFailsOverBeforeFirstByte(t *testing.T) {
	for _, f := range []mockllm.Faults{{ErrorRate: 1, Status: 503}, {Reset: true}} {
		e := newEnv(t, twoGroups, "primary", "backup")
		e.mocks["primary"].SetFaults(f)
		stream := e.client.Chat.Completions.NewStreaming(context.Background(), streamParams())
		acc, _, err := drain(stream)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		if !strings.Contains(acc.Choices[0].Message.Content, "Hello from backup") {
			t.Fatalf("%+v: content %q", f, acc.Choices[0].Message.Content)
		}
		if c := e.breaker(primaryChat).Counts(); c.Failures != 1 {
			t.Fatalf("%+v: primary counts %+v", f, c)
		}
	}
}

// withoutContinuing is twoGroups with continue_broken_streams off: a
// stream that breaks ends with an error event.
var withoutContinuing = strings.Replace(twoGroups, "router_settings:\n", "router_settings:\n  continue_broken_streams: false\n", 1)

// streamEvents posts body to the chat API of e and returns the data of
// the stream's events, which must be a 200 event stream.
func streamEvents(t *testing.T, e *env, body string) []string {
	t.Helper()
	resp, err := e.http.Post(e.url+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var events []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			events = append(events, d)
		}
	}
	return events
}

func TestStreamCutMidwayEndsWithErrorEventAndCountsAsFailure(t *testing.T) {
	e := newEnv(t, withoutContinuing, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{CutAfter: 3})
	events := streamEvents(t, e, `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"x"}]}`)
	if len(events) != 4 {
		t.Fatalf("events %q: want 3 chunks and an error", events)
	}
	if last := events[len(events)-1]; !strings.Contains(last, `"error"`) || strings.Contains(last, "[DONE]") {
		t.Fatalf("last event %q, want an error event", last)
	}
	<-e.done
	if c := e.breaker(primaryChat).Counts(); c.Failures != 1 || c.Successes != 0 {
		t.Fatalf("counts %+v: a broken stream is a failure", c)
	}
	if e.mocks["backup"].Stats().Requests != 0 {
		t.Fatal("failed over after the first byte reached the client")
	}
	// The SDK surfaces the error event as an error.
	stream := e.client.Chat.Completions.NewStreaming(context.Background(), streamParams())
	for stream.Next() {
	}
	if stream.Err() == nil {
		t.Fatal("the SDK saw a clean end of a broken stream")
	}
}

func TestStreamClientDisconnectCancelsUpstreamAndIsNotAFailure(t *testing.T) {
	e := newEnv(t, twoGroups, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{ChunkDelayMS: 60_000}) // first chunk, then a long pause
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp := e.openStream(ctx)
	cancel()
	resp.Body.Close()
	info := <-e.done // the handler returns only once the upstream call is canceled
	if info.Served == nil {
		t.Fatalf("request info %+v", info)
	}
	c := e.breaker(primaryChat).Counts()
	if c.Failures != 0 || c.Ignored != 1 {
		t.Fatalf("counts %+v: a client disconnect is neither success nor failure", c)
	}
}

func TestDeploymentTimeoutCountsAndFallsBack(t *testing.T) {
	cfg := strings.Replace(twoGroups, "      api_key: sk-primary-secret-key", "      api_key: sk-primary-secret-key\n      timeout: 50ms", 1)
	e := newEnv(t, cfg, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{Hang: true})
	_, h, err := e.chat("gpt-4o-mini")
	if err != nil || h.Get("X-Breakerd-Fallback") != "true" {
		t.Fatalf("err %v headers %v", err, h)
	}
	if c := e.breaker(primaryChat).Counts(); c.Failures != 1 {
		t.Fatalf("counts %+v: a timeout is a failure", c)
	}
}

// A call that gets no answer says which limit ran out: the deployment's
// timeout (and the request falls back), or the whole request's
// router_settings.timeout (and it ends there, with no time left for a
// fallback).
func TestTimeoutsSayWhichLimitRanOut(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		deployment, request       string
		wantMessage, wantAttempts string
	}{
		{"the deployment's", "50ms", "10s", "openai/gpt-4o-mini: upstream timed out: no answer within the deployment's timeout of 50ms", "2"},
		{"the request's", "10s", "100ms", "openai/gpt-4o-mini: upstream timed out: request deadline exceeded", "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := strings.Replace(twoGroups, "      api_key: sk-primary-secret-key", "      api_key: sk-primary-secret-key\n      timeout: "+tc.deployment, 1)
			cfg = strings.Replace(cfg, "  retry_backoff: 1ms\n", "  retry_backoff: 1ms\n  timeout: "+tc.request+"\n", 1)
			e := newEnv(t, cfg, "primary", "backup")
			e.mocks["primary"].SetFaults(mockllm.Faults{Hang: true})
			e.mocks["backup"].SetFaults(mockllm.Faults{ErrorRate: 1})
			status, h, body := e.post("/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`)
			errObj, _ := body["error"].(map[string]any)
			msg, _ := errObj["message"].(string)
			if status != http.StatusServiceUnavailable || !strings.Contains(msg, tc.wantMessage) || h.Get("X-Breakerd-Attempts") != tc.wantAttempts {
				t.Fatalf("%d, %s attempts, %q: want 503 after %s attempts saying %q", status, h.Get("X-Breakerd-Attempts"), msg, tc.wantAttempts, tc.wantMessage)
			}
			if c := e.breaker(primaryChat).Counts(); c.Failures != 1 {
				t.Fatalf("counts %+v: a timeout is a failure", c)
			}
		})
	}
}

// When the request's deadline cuts an attempt that had less than half of
// the request's time (the rest went to a deployment before it), the
// deployment it cut is not blamed: its breaker counts nothing, and the
// error says why.
func TestALateAttemptCutByTheRequestsDeadlineIsNotBlamed(t *testing.T) {
	cfg := strings.Replace(twoGroups, "      api_key: sk-primary-secret-key", "      api_key: sk-primary-secret-key\n      timeout: 1200ms", 1)
	cfg = strings.Replace(cfg, "  retry_backoff: 1ms\n", "  retry_backoff: 1ms\n  timeout: 2s\n", 1)
	e := newEnv(t, cfg, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{Hang: true})
	e.mocks["backup"].SetFaults(mockllm.Faults{Hang: true})
	status, h, body := e.post("/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`)
	errObj, _ := body["error"].(map[string]any)
	msg, _ := errObj["message"].(string)
	if status != http.StatusServiceUnavailable || h.Get("X-Breakerd-Attempts") != "2" || !strings.Contains(msg, "so its deployment is not blamed") {
		t.Fatalf("%d after %s attempts: %q", status, h.Get("X-Breakerd-Attempts"), msg)
	}
	if p, b := e.breaker(primaryChat).Counts().Failures, e.breaker("claude-3-5-sonnet/openai/claude-3-5-sonnet:chat").Counts().Failures; p != 1 || b != 0 {
		t.Fatalf("failures: primary %d (its own timeout), backup %d (cut late by the request's), want 1 and 0", p, b)
	}
}

func TestTimeoutsCanBeExcluded(t *testing.T) {
	cfg := strings.Replace(twoGroups, "      api_key: sk-primary-secret-key", "      api_key: sk-primary-secret-key\n      timeout: 50ms", 1)
	cfg += "    failure_conditions:\n      - timeout: false\n"
	e := newEnv(t, cfg, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{Hang: true})
	if _, _, err := e.chat("gpt-4o-mini"); err != nil {
		t.Fatal(err)
	}
	if c := e.breaker(primaryChat).Counts(); c.Failures != 0 || c.Ignored != 1 {
		t.Fatalf("counts %+v", c)
	}
}

func TestSlowFirstTokenFeedsSlowCallDetection(t *testing.T) {
	cfg := twoGroups + "    slow_call_threshold: 20ms\n    slow_call_rate_threshold: 0.5\n    minimum_calls: 2\n"
	e := newEnv(t, cfg, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{LatencyMS: 40})
	for i := 0; i < 2; i++ {
		stream := e.client.Chat.Completions.NewStreaming(context.Background(), streamParams())
		for stream.Next() {
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		<-e.done
	}
	b := e.breaker(primaryChat)
	if c := b.Counts(); c.Slow != 2 || b.State() != breaker.Open {
		t.Fatalf("counts %+v state %s: two slow first tokens should trip the slow-call rate", c, b.State())
	}
}

// body_read_timeout bounds reading the request only: a stream that runs
// far longer than it completes.
func TestBodyReadTimeoutDoesNotCutALongStream(t *testing.T) {
	e := newEnv(t, twoGroups+"server:\n  body_read_timeout: 20ms\n", "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{ChunkDelayMS: 30}) // several chunks: well past 20ms
	stream := e.client.Chat.Completions.NewStreaming(context.Background(), streamParams())
	acc, chunks, err := drain(stream)
	if err != nil {
		t.Fatalf("the stream was cut after %d chunks: %v", chunks, err)
	}
	if chunks < 3 || !strings.Contains(acc.Choices[0].Message.Content, "Hello from primary") {
		t.Fatalf("%d chunks, content %q", chunks, acc.Choices[0].Message.Content)
	}
}

// A client that stops reading gets its connection closed after
// server.send_timeout, instead of holding the handler and the upstream
// call forever; a client that leaves is not a breaker failure. It holds
// for a stream and for a whole answer too long for net/http to buffer.
func TestClientThatStopsReadingIsDroppedAfterSendTimeout(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stream bool
		words  int
	}{
		// 60,000 words, one event each: about 10 MB, more than the
		// sockets between here and the gateway hold.
		{"a stream", true, 60000},
		{"a whole answer", false, 1_500_000}, // about 10 MB in one write
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, twoGroups+"server:\n  send_timeout: 50ms\n", "primary", "backup")
			e.mocks["primary"].SetFaults(mockllm.Faults{ReplyWords: tc.words})
			body := []byte(fmt.Sprintf(`{"model":"gpt-4o-mini","stream":%t,"messages":[{"role":"user","content":"a long answer"}]}`, tc.stream))
			conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.(*net.TCPConn).SetReadBuffer(4096) // a small window, no autotuning
			go func() {
				fmt.Fprintf(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
			}()
			// Read the status line and nothing more.
			if line, err := bufio.NewReaderSize(conn, 16).ReadString('\n'); err != nil || !strings.Contains(line, "200") {
				t.Fatalf("status line %q: %v", line, err)
			}
			select {
			case info := <-e.done:
				if info.Status != 200 || info.Stream != tc.stream {
					t.Fatalf("request info %+v", info)
				}
			case <-time.After(30 * time.Second): // bounds a failing test only
				t.Fatal("the gateway still holds a client that stopped reading")
			}
			if c := e.breaker(primaryChat).Counts(); c.Failures != 0 {
				t.Fatalf("counts %+v: a client that left is not an upstream failure", c)
			}
		})
	}
}

// LiteLLM's ttft_timeout bounds a stream's wait for its first chunk and
// stream_idle_timeout its wait for each later one, each in place of
// stream_timeout: a first chunk slower than ttft_timeout goes to the
// fallback, and a stream that falls silent ends with an error event
// naming stream_idle_timeout, while waits within them are no failure.
func TestStreamStallTimeouts(t *testing.T) {
	cfg := strings.Replace(withoutContinuing, "      api_key: sk-primary-secret-key",
		"      api_key: sk-primary-secret-key\n      stream_timeout: 10s\n      ttft_timeout: 300ms\n      stream_idle_timeout: 2s", 1)
	for _, tc := range []struct {
		name    string
		faults  mockllm.Faults
		backup  bool   // the fallback serves
		errText string // the stream's error, if it breaks
	}{
		{name: "a first chunk within ttft_timeout", faults: mockllm.Faults{LatencyMS: 20}},
		{name: "a first chunk later than ttft_timeout, within stream_timeout", faults: mockllm.Faults{LatencyMS: 3000}, backup: true},
		{name: "later chunks within stream_idle_timeout, each slower than ttft_timeout", faults: mockllm.Faults{ChunkDelayMS: 400}},
		{name: "silent after two chunks", faults: mockllm.Faults{StallAfter: 2}, errText: "(stream_idle_timeout)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, cfg, "primary", "backup")
			e.mocks["primary"].SetFaults(tc.faults)
			acc, _, err := drain(e.client.Chat.Completions.NewStreaming(context.Background(), streamParams()))
			if tc.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("err %v, want one naming %s", err, tc.errText)
				}
				<-e.done
			} else {
				want := map[bool]string{false: "Hello from primary", true: "Hello from backup"}[tc.backup]
				if err != nil || !strings.Contains(acc.Choices[0].Message.Content, want) {
					t.Fatalf("err %v, content %+v; want %q", err, acc.Choices, want)
				}
			}
			wantFailures := int64(0)
			if tc.backup || tc.errText != "" {
				wantFailures = 1
			}
			if c := e.breaker(primaryChat).Counts(); int64(c.Failures) != wantFailures {
				t.Fatalf("primary counts %+v, want %d failures", c, wantFailures)
			}
		})
	}
}

// A provider that accepts the connection and never answers a stream is
// caught by stream_timeout: the breaker counts a timeout and the fallback
// serves the client. The same holds for a stream whose first chunk comes
// and is then followed by nothing: the client gets an error event naming
// stream_timeout, and the breaker counts it.
func TestHangingStreamIsCaughtByStreamTimeout(t *testing.T) {
	cfg := strings.Replace(withoutContinuing, "      api_key: sk-primary-secret-key", "      api_key: sk-primary-secret-key\n      stream_timeout: 50ms", 1)
	t.Run("no first chunk: the fallback serves", func(t *testing.T) {
		e := newEnv(t, cfg, "primary", "backup")
		e.mocks["primary"].SetFaults(mockllm.Faults{Hang: true})
		acc, _, err := drain(e.client.Chat.Completions.NewStreaming(context.Background(), streamParams()))
		if err != nil || !strings.Contains(acc.Choices[0].Message.Content, "Hello from backup") {
			t.Fatalf("err %v, content %+v", err, acc.Choices)
		}
		if c := e.breaker(primaryChat).Counts(); c.Failures != 1 {
			t.Fatalf("primary counts %+v: a hang is a failure", c)
		}
	})
	t.Run("silent after the first chunks: an error event", func(t *testing.T) {
		e := newEnv(t, cfg, "primary", "backup")
		e.mocks["primary"].SetFaults(mockllm.Faults{StallAfter: 2})
		_, chunks, err := drain(e.client.Chat.Completions.NewStreaming(context.Background(), streamParams()))
		if err == nil || !strings.Contains(err.Error(), "stream_timeout") || chunks != 2 {
			t.Fatalf("after %d chunks, err %v: want 2 chunks, then an error naming stream_timeout", chunks, err)
		}
		if info := <-e.done; info.Status != 200 {
			t.Fatalf("request %+v", info)
		}
		if c := e.breaker(primaryChat).Counts(); c.Failures != 1 {
			t.Fatalf("primary counts %+v: a stalled stream is a failure", c)
		}
	})
}

// A provider that breaks most streams mid-answer, while its short calls
// succeed, is taken out of rotation: streams have their own failure rate,
// since every successful call resets the consecutive-failure count.
func TestProviderThatBreaksStreamsTrips(t *testing.T) {
	e := newEnv(t, withoutContinuing, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{CutAfter: 2})
	b := e.breaker(primaryChat)
	for i := 1; i <= 10; i++ {
		if _, _, err := drain(e.client.Chat.Completions.NewStreaming(context.Background(), streamParams())); err == nil {
			t.Fatalf("stream %d: the cut stream ended cleanly", i)
		}
		<-e.done
		if _, _, err := e.chat("gpt-4o-mini"); err != nil { // a short call that succeeds
			t.Fatal(err)
		}
		<-e.done
		if open := b.State() == breaker.Open; open != (i == 10) {
			t.Fatalf("after %d broken streams: state %s (want open from the 10th: stream_minimum_calls)", i, b.State())
		}
	}
	if r := b.Snapshot().Reason; !strings.HasPrefix(r, "10 of the last 10 streams broke after their first chunk; last: stream broke") {
		t.Fatalf("reason %q", r)
	}
}

// One client connection carries calls and streams one after another:
// the gateway's handling of the request body (read to its end, then
// closed) must not cost the client its keep-alive.
func TestClientConnectionServesCallsAndStreamsInTurn(t *testing.T) {
	e := newEnv(t, twoGroups, "primary", "backup")
	var reused []bool
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { reused = append(reused, info.Reused) },
	})
	for i, stream := range []bool{false, true, false, true} {
		if stream {
			// Read to its end: a client that closes a stream's body
			// early (as the SDK does at [DONE]) loses the connection
			// whatever the server does.
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/v1/chat/completions",
				strings.NewReader(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"tell me"}]}`))
			resp, err := e.http.Do(req)
			if err != nil {
				t.Fatalf("call %d (stream): %v", i, err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(data), "data: [DONE]") {
				t.Fatalf("call %d (stream): %s %q", i, resp.Status, data)
			}
			continue
		}
		if _, err := e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")}}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if want := []bool{false, true, true, true}; !slices.Equal(reused, want) {
		t.Fatalf("connection reused per call: %v, want %v", reused, want)
	}
}

// A request body reaches the upstream byte for byte however it comes:
// of a length read at once, of a length past what is read at once, and
// chunked, of no stated length; streamed or not.
func TestRequestBodiesReachTheUpstreamWhole(t *testing.T) {
	e := newEnv(t, twoGroups, "primary", "backup")
	for _, tc := range []struct {
		name    string
		prompt  int
		chunked bool
		stream  bool
	}{
		{"short", 10, false, false},
		{"past the size read at once", 70 << 10, false, true},
		{"chunked", 70 << 10, true, false},
		{"chunked stream", 100, true, true},
	} {
		// A stream asks for its usage itself: one that does not has it
		// asked for (TestStreamUsageIsCounted).
		opts := ""
		if tc.stream {
			opts = `,"stream_options":{"include_usage":true}`
		}
		body := fmt.Sprintf(`{"model":"gpt-4o-mini","stream":%t%s,"messages":[{"role":"user","content":"%s"}]}`,
			tc.stream, opts, strings.Repeat("y", tc.prompt))
		var r io.Reader = strings.NewReader(body)
		if tc.chunked {
			r = io.MultiReader(r) // no length: sent chunked
		}
		req, _ := http.NewRequest(http.MethodPost, e.url+"/v1/chat/completions", r)
		resp, err := e.http.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s %s", tc.name, resp.Status, data)
		}
		if got := e.mocks["primary"].LastBody(); got != body {
			t.Fatalf("%s: the upstream got %d bytes, want the %d sent", tc.name, len(got), len(body))
		}
	}
}

// A chat stream whose client did not ask for its usage asks the upstream
// for it, as LiteLLM does, so that its tokens count (metrics, spend, tpm
// limits); the usage chunk stays from the client unless the client asked
// or always_include_stream_usage says to relay it, and false leaves the
// request as sent.
func TestStreamUsageIsCounted(t *testing.T) {
	for _, tc := range []struct {
		name, settings, options string
		upstream                string // the stream_options the upstream got; "" none
		clientUsage, counted    bool
	}{
		{"not asked: asked for, kept from the client", "", "", `{"include_usage":true}`, false, true},
		{"asked by the client: relayed", "", `"stream_options":{"include_usage":true},`, `{"include_usage":true}`, true, true},
		{"declined by the client: asked for, kept from it", "", `"stream_options":{"include_usage":false},`, `{"include_usage":true}`, false, true},
		{"the client's other options kept", "", `"stream_options":{"include_obfuscation":false},`,
			`{"include_obfuscation":false,"include_usage":true}`, false, true},
		{"always_include_stream_usage: true relays it", "litellm_settings:\n  always_include_stream_usage: true\n", "",
			`{"include_usage":true}`, true, true},
		{"always_include_stream_usage: false asks nothing", "general_settings:\n  always_include_stream_usage: false\n", "", "", false, false},
		{"Azure at an api-version that takes it", azureAt("2024-10-21"), "", `{"include_usage":true}`, false, true},
		{"Azure at one that refuses it: not asked", azureAt("2024-02-01"), "", "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := twoGroups + tc.settings
			if strings.HasPrefix(tc.settings, "model_list") {
				cfg = tc.settings
			}
			e := newEnv(t, cfg, "primary", "backup")
			body := `{"model":"gpt-4o-mini","stream":true,` + tc.options + `"messages":[{"role":"user","content":"hello"}]}`
			resp, err := e.http.Post(e.url+"/v1/chat/completions", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.HasSuffix(string(data), "data: [DONE]\n\n") || !strings.Contains(string(data), `"content":"Hello `) {
				t.Fatalf("%s: %s", resp.Status, data)
			}
			if got := strings.Contains(string(data), `"usage":{`); got != tc.clientUsage {
				t.Errorf("usage chunk relayed: %v, want %v\n%s", got, tc.clientUsage, data)
			}
			var sent struct {
				StreamOptions json.RawMessage `json:"stream_options"`
			}
			if err := json.Unmarshal([]byte(e.mocks["primary"].LastBody()), &sent); err != nil || string(sent.StreamOptions) != tc.upstream {
				t.Errorf("upstream's stream_options: %s (%v), want %s", sent.StreamOptions, err, tc.upstream)
			}
			a := <-e.attempts
			if got := a.Usage.InputTokens > 0 && a.Usage.OutputTokens > 0; got != tc.counted {
				t.Errorf("usage counted %+v, want counted: %v", a.Usage, tc.counted)
			}
		})
	}
}

// azureAt is a config of one Azure OpenAI deployment, on the primary
// mock, at api-version v.
func azureAt(v string) string {
	return "model_list:\n  - model_name: gpt-4o-mini\n    litellm_params: {model: azure/gpt-4o-mini, api_base: \"${MOCK_PRIMARY}\", api_key: az-key, api_version: \"" +
		v + "\"}\n"
}

// An OpenAI-compatible server that refuses stream_options (an older or
// stricter one), whether or not its 400 names it, gets the stream as the
// client sent it, at once and from then on: the refusal is neither the
// client's error nor the deployment's failure. A 400 for the request
// itself reaches the client, and the server is still asked after it.
func TestStreamOptionsRefusedAreNotAskedAgain(t *testing.T) {
	for _, tc := range []struct {
		name, refusal string
		badPrompt     bool   // the first prompt is refused too
		asked         []bool // stream_options in each request the server gets
	}{
		{"a refusal that names it", `{"object":"error","message":"[{'type': 'extra_forbidden', 'loc': ('body', 'stream_options'), 'msg': 'Extra inputs are not permitted'}]","type":"BadRequestError","code":400}`,
			false, []bool{true, false, false}},
		{"a refusal that says nothing", `{"error":{"message":"Invalid request","type":"invalid_request_error"}}`, false, []bool{true, false, false}},
		{"the request itself refused", `{"error":{"message":"Invalid request","type":"invalid_request_error"}}`, true, []bool{true, false, true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mock := mockllm.New(mockllm.Options{Name: "strict"})
			var mu sync.Mutex
			var asked []bool
			strict := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				asked = append(asked, strings.Contains(string(b), "stream_options"))
				mu.Unlock()
				if strings.Contains(string(b), "stream_options") || (tc.badPrompt && strings.Contains(string(b), "forbidden")) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(tc.refusal))
					return
				}
				r.Body = io.NopCloser(strings.NewReader(string(b)))
				mock.Handler().ServeHTTP(w, r)
			}))
			defer strict.Close()
			e := newEnv(t, "model_list:\n  - model_name: m\n    litellm_params: {model: hosted_vllm/llama, api_base: \""+strict.URL+"/v1\", api_key: sk-vllm-key}\n")
			for i := range 2 {
				prompt := "hello"
				if tc.badPrompt {
					prompt = []string{"forbidden", "hello"}[i]
				}
				st := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: "m",
					Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)}})
				text := ""
				for st.Next() {
					if len(st.Current().Choices) > 0 {
						text += st.Current().Choices[0].Delta.Content
					}
				}
				if prompt == "forbidden" {
					if st.Err() == nil || !strings.Contains(st.Err().Error(), "400") {
						t.Fatalf("a refused prompt: %v, want the 400", st.Err())
					}
					continue
				}
				if err := st.Err(); err != nil || !strings.Contains(text, "Hello from strict") {
					t.Fatalf("stream %d: %q %v", i, text, err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(asked, tc.asked) {
				t.Fatalf("stream_options in each request the server got: %v, want %v", asked, tc.asked)
			}
			if c := e.breaker("m/hosted_vllm/llama:chat").Counts(); c.Failures != 0 {
				t.Fatalf("the breaker counted %+v, want no failure", c)
			}
		})
	}
}

// With LiteLLM's include_cost_in_streaming_usage, a chat stream's usage
// chunk carries what the call cost (usage.cost, at the deployment's
// price), whether the upstream speaks OpenAI's API or Anthropic's; the
// other chunks, and every chunk without the setting, are as they came.
func TestStreamUsageCarriesItsCost(t *testing.T) {
	const cfg = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
  - model_name: claude
    litellm_params: {model: anthropic/claude-3-5-sonnet-20241022, api_base: "${MOCK_A}", api_key: sk-ant-secret}
`
	for _, tc := range []struct {
		name     string
		settings string
		model    string
		in, out  float64 // $ per 1M tokens
		wantCost bool
	}{
		{"OpenAI's stream, asked", "litellm_settings: {include_cost_in_streaming_usage: true}\n", "gpt-4o-mini", 0.15, 0.60, true},
		{"Anthropic's, translated, asked", "litellm_settings: {include_cost_in_streaming_usage: true}\n", "claude", 3, 15, true},
		{"not asked", "", "gpt-4o-mini", 0.15, 0.60, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, cfg+tc.settings, "a")
			stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: tc.model,
				Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("what does it cost")},
				StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}})
			var costs []float64
			var usage openai.CompletionUsage
			for stream.Next() {
				c := stream.Current()
				var raw struct {
					Usage *struct {
						Cost *float64 `json:"cost"`
					} `json:"usage"`
				}
				if err := json.Unmarshal([]byte(c.RawJSON()), &raw); err != nil {
					t.Fatal(err)
				}
				if raw.Usage != nil && raw.Usage.Cost != nil {
					costs = append(costs, *raw.Usage.Cost)
				}
				if c.Usage.TotalTokens > 0 {
					usage = c.Usage
				}
			}
			if err := stream.Err(); err != nil || usage.TotalTokens == 0 {
				t.Fatalf("stream: %v, usage %+v", err, usage)
			}
			if !tc.wantCost {
				if len(costs) != 0 {
					t.Fatalf("costs %v, want none", costs)
				}
				return
			}
			want := (float64(usage.PromptTokens)*tc.in + float64(usage.CompletionTokens)*tc.out) / 1e6
			if len(costs) != 1 || math.Abs(costs[0]-want) > 1e-15 {
				t.Fatalf("costs %v, want one of %v", costs, want)
			}
		})
	}
}

// Today's SDKs send max_completion_tokens; an Azure deployment on an
// api-version older than 2024-09-01-preview refuses it, so it goes as
// max_tokens there (as LiteLLM sends it), and as sent to a newer one. A
// health check of the older one is answered, not refused.
func TestMaxCompletionTokensToAnOlderAzure(t *testing.T) {
	for _, tc := range []struct {
		version, sent string
	}{
		{"2024-06-01", `"max_tokens":7`},
		{"2024-10-21", `"max_completion_tokens":7`},
	} {
		t.Run(tc.version, func(t *testing.T) {
			e := newEnv(t, azureAt(tc.version), "primary")
			_, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}, MaxCompletionTokens: openai.Int(7)})
			if err != nil {
				t.Fatal(err)
			}
			if body := e.mocks["primary"].LastBody(); !strings.Contains(body, tc.sent) {
				t.Fatalf("the upstream got %s, want %s in it", body, tc.sent)
			}
			e.gw.Probe(context.Background())
			if body := e.mocks["primary"].LastBody(); !strings.Contains(body, `_tokens":1`) || strings.Contains(e.logs.String(), "health check") {
				t.Fatalf("the health check sent %s; the log:\n%s", body, e.logs.String())
			}
		})
	}
}
