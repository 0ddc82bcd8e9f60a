package daemon_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/daemon"
	"github.com/breakerd/breakerd/mockllm"
)

const adminToken = "test-admin-token-0123456789"

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{} // closed, and replaced, at each write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.written != nil {
		close(s.written)
		s.written = nil
	}
	return s.b.Write(p)
}

// waitFor waits until what was written contains substr; after 30 s it
// fails the test instead of hanging it.
func (s *syncBuffer) waitFor(t *testing.T, substr string) {
	t.Helper()
	failsafe := time.After(30 * time.Second)
	for {
		s.mu.Lock()
		if strings.Contains(s.b.String(), substr) {
			s.mu.Unlock()
			return
		}
		if s.written == nil {
			s.written = make(chan struct{})
		}
		ch := s.written
		s.mu.Unlock()
		select {
		case <-ch:
		case <-failsafe:
			t.Fatalf("no log line with %q in 30 s; logs:\n%s", substr, s.String())
		}
	}
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serving is a daemon serving on a real loopback listener.
type serving struct {
	d       *daemon.Daemon
	url     string
	mock    *mockllm.Server
	mockURL string
	logs    *syncBuffer
	cancel  context.CancelFunc
	done    chan error
	client  *http.Client
}

// serve starts a daemon; drain is server.shutdown_drain.
func serve(t *testing.T, extra, drain string) *serving {
	t.Helper()
	mock := mockllm.New(mockllm.Options{Name: "m"})
	up := httptest.NewServer(mock.Handler())
	t.Cleanup(up.Close)
	text := `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${UP}/v1", api_key: sk-upstream-secret-1}
router_settings:
  routing_strategy: ordered
  stream_idle_timeout: 1h # a stream a test holds open is not cut on a slow machine
server:
  shutdown_drain: ` + drain + `
` + extra
	cfg, err := config.Parse("t.yaml", []byte(text), func(k string) (string, bool) {
		switch k {
		case "UP":
			return up.URL, true
		case "TOKEN":
			return adminToken, true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	upstream := &http.Client{Transport: &http.Transport{}}
	d, err := daemon.New(daemon.Options{Config: cfg, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Clock: breaker.NewManualClock(t0), Client: upstream})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{d: d, url: "http://" + ln.Addr().String(), mock: mock, mockURL: up.URL, logs: logs, cancel: cancel,
		done: make(chan error, 1), client: &http.Client{Transport: &http.Transport{}}}
	go func() { s.done <- d.Serve(ctx, ln) }()
	<-d.Ready()
	t.Cleanup(func() {
		s.stop(t)
		s.client.CloseIdleConnections()
		upstream.CloseIdleConnections()
		d.Close()
	})
	return s
}

// openStream starts a chat stream and reads its first event: the stream
// is under way. Its body is closed when the test ends.
func (s *serving) openStream(t *testing.T) *bufio.Reader {
	t.Helper()
	resp, err := s.client.Post(s.url+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: {") {
		t.Fatalf("first line %q: %v", line, err)
	}
	return br
}

func (s *serving) stop(t *testing.T) {
	if s.cancel != nil {
		s.cancel()
		if err := <-s.done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		s.cancel = nil
	}
}

func (s *serving) do(t *testing.T, method, path, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, s.url+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestProbeEndpoints(t *testing.T) {
	s := serve(t, "", "0s")
	for _, tc := range []struct {
		method, path string
		code         int
		contains     string
	}{
		{"GET", "/livez", 200, "ok"},
		{"GET", "/readyz", 200, "ready"},
		{"GET", "/health/liveliness", 200, "ok"}, // LiteLLM's probe paths
		{"GET", "/health/liveness", 200, "ok"},
		{"GET", "/health/readiness", 200, "ready"},
		{"GET", "/health", 200, `"status": "healthy"`},
		{"HEAD", "/health", 200, ""},
		{"GET", "/health?verbose", 200, `"policy": "routable`},
		{"GET", "/health/circuit-breakers", 200, `"overall_health": "healthy"`},
		{"GET", "/", 200, "breakerd status"},
		{"GET", "/status.json", 200, `"groups"`},
		{"GET", "/metrics", 200, "circuit_breaker_state"},
		{"GET", "/admin/breakers", 404, ""}, // no admin token configured: the API does not exist
	} {
		code, body := s.do(t, tc.method, tc.path, "")
		if code != tc.code || !strings.Contains(body, tc.contains) {
			t.Errorf("%s %s = %d %.200q, want %d containing %q", tc.method, tc.path, code, body, tc.code, tc.contains)
		}
	}
	for _, n := range s.d.Gateway().Registry().Names() {
		b, _ := s.d.Gateway().Registry().Lookup(n)
		b.ForceOpen("")
	}
	if code, _ := s.do(t, "GET", "/health", ""); code != 503 {
		t.Fatalf("/health = %d with every circuit open", code)
	}
	if code, _ := s.do(t, "HEAD", "/health", ""); code != 503 {
		t.Fatalf("HEAD /health = %d", code)
	}
	for _, p := range []string{"/livez", "/health/liveliness", "/health/readiness"} {
		if code, _ := s.do(t, "GET", p, ""); code != 200 {
			t.Fatalf("%s = %d: probes must stay 200 whatever the breakers say", p, code)
		}
	}
}

// A master key guards the API but not the probes, metrics and status
// page: a load balancer or a scraper does not hold the key.
func TestMasterKeyLeavesProbesOpen(t *testing.T) {
	s := serve(t, "general_settings:\n  master_key: sk-master-0123456789\n", "0s")
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/v1/models", 401},
		{"/livez", 200},
		{"/readyz", 200},
		{"/health/liveliness", 200},
		{"/health/readiness", 200},
		{"/health", 200},
		{"/health/circuit-breakers", 200},
		{"/metrics", 200},
		{"/status.json", 200},
		{"/", 200},
	} {
		if code, body := s.do(t, "GET", tc.path, ""); code != tc.code {
			t.Errorf("GET %s without the key = %d %.200q, want %d", tc.path, code, body, tc.code)
		}
	}
}

func TestAdminAPI(t *testing.T) {
	s := serve(t, "admin:\n  token: ${TOKEN}\n", "0s")
	for _, tc := range []struct {
		name, token string
		code        int
	}{{"no token", "", 401}, {"wrong token", "wrong-token-0123456789", 401}, {"right token", adminToken, 200}} {
		if code, _ := s.do(t, "GET", "/admin/breakers", tc.token); code != tc.code {
			t.Errorf("%s: %d, want %d", tc.name, code, tc.code)
		}
	}
	name := "gpt-4o-mini/openai/gpt-4o-mini:chat"
	code, body := s.do(t, "POST", "/admin/breakers/"+name+"/open", adminToken)
	if code != 200 || !strings.Contains(body, `"state": "forced_open"`) {
		t.Fatalf("open: %d %s", code, body)
	}
	b, _ := s.d.Gateway().Registry().Lookup(name)
	s.d.Gateway().Registry().WaitListeners()
	if h := b.Snapshot().History; len(h) != 1 || h[0].Reason != "manual: open" {
		t.Fatalf("history %+v", h)
	}
	if err := s.d.Bus().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, metrics := s.do(t, "GET", "/metrics", "")
	if !strings.Contains(metrics, `from_state="closed",model="gpt-4o-mini",model_group="gpt-4o-mini",operation="chat",provider="openai",to_state="forced_open"} 1`) {
		t.Fatal("metrics did not see the manual transition")
	}
	if !strings.Contains(s.logs.String(), "admin action") || !strings.Contains(s.logs.String(), "action=open") {
		t.Fatalf("no audit line in %s", s.logs.String())
	}
	// A forced-open breaker fails requests fast.
	req, _ := http.NewRequest("POST", s.url+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`))
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || s.mock.Stats().Chat != 0 {
		t.Fatalf("status %d, upstream calls %d", resp.StatusCode, s.mock.Stats().Chat)
	}
	for action, want := range map[string]string{"close": "closed", "disable": "disabled", "enable": "closed", "reset": "closed"} {
		if code, body := s.do(t, "POST", "/admin/breakers/"+name+"/"+action, adminToken); code != 200 || !strings.Contains(body, `"state": "`+want+`"`) {
			t.Fatalf("%s: %d %s", action, code, body)
		}
	}
	code, body = s.do(t, "POST", "/admin/breakers/nope:chat/open", adminToken)
	if code != 404 || !strings.Contains(body, name) {
		t.Fatalf("unknown breaker: %d %s", code, body)
	}
	if code, _ := s.do(t, "POST", "/admin/breakers/"+name+"/explode", adminToken); code != 400 {
		t.Fatalf("unknown action: %d", code)
	}
	if strings.Contains(s.logs.String(), adminToken) || strings.Contains(s.logs.String(), "sk-upstream-secret-1") {
		t.Fatal("a secret reached the logs")
	}
	var list struct {
		Breakers []breaker.Snapshot `json:"breakers"`
	}
	_, body = s.do(t, "GET", "/admin/breakers", adminToken)
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list.Breakers) != 1 || list.Breakers[0].Name != name {
		t.Fatalf("%v %s", err, body)
	}
}

// On shutdown /readyz turns 503 at once, while a stream that is already
// running completes.
func TestReadinessDrainsOnShutdown(t *testing.T) {
	s := serve(t, "", "300ms")
	s.mock.SetFaults(mockllm.Faults{ChunkDelayMS: 40})
	req, _ := http.NewRequest("POST", s.url+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"a long answer please"}]}`))
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: ") {
		t.Fatalf("first line %q %v", line, err)
	}
	s.cancel() // shutdown begins while the stream runs
	<-s.d.Draining()
	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, p := range []string{"/readyz", "/health/readiness"} {
		pr, err := probe.Get(s.url + p)
		if err != nil {
			t.Fatalf("%s unreachable during the drain: %v", p, err)
		}
		pr.Body.Close()
		if pr.StatusCode != 503 {
			t.Fatalf("%s = %d after shutdown began", p, pr.StatusCode)
		}
	}
	rest, err := io.ReadAll(r)
	if err != nil || !strings.Contains(string(rest), "data: [DONE]") {
		t.Fatalf("the in-flight stream did not complete: %v %q", err, rest)
	}
	if err := <-s.done; err != nil {
		t.Fatal(err)
	}
	s.cancel = nil
}

// A keep-alive connection left idle is closed after server.idle_timeout,
// so idle clients cannot hold connections (and their goroutines) forever.
func TestIdleKeepAliveConnectionIsClosed(t *testing.T) {
	s := serve(t, "", "0s\n  idle_timeout: 50ms")
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Close {
		t.Fatal("the server closed the connection at once; want keep-alive until idle")
	}
	// The guard only bounds a failing test; the server closes after 50ms.
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("read on the idle connection: %v, want EOF (closed by the server)", err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestSeparateMetricsAndAdminListeners(t *testing.T) {
	metricsAddr, adminAddr := freeAddr(t), freeAddr(t)
	s := serve(t, "admin:\n  token: ${TOKEN}\n  listen: "+adminAddr+"\n", "0s\n  metrics_listen: "+metricsAddr)
	get := func(url, token string) int {
		req, _ := http.NewRequest("GET", url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("http://"+metricsAddr+"/metrics", ""); code != 200 {
		t.Fatalf("metrics listener: %d", code)
	}
	if code := get("http://"+metricsAddr+"/livez", ""); code != 200 {
		t.Fatalf("metrics listener /livez: %d", code)
	}
	if code := get("http://"+adminAddr+"/admin/breakers", adminToken); code != 200 {
		t.Fatalf("admin listener: %d", code)
	}
	if code := get(s.url+"/admin/breakers", adminToken); code != 404 {
		t.Fatalf("the admin API must leave the main listener when it has its own: %d", code)
	}
	if code := get(s.url+"/metrics", ""); code != 200 {
		t.Fatalf("main /metrics: %d", code)
	}
}

// A shutdown waits for a stream under way to end within
// server.shutdown_grace, though it is relayed on a connection taken over
// from net/http, which http.Server.Shutdown does not wait for: when Serve
// returns, the stream has ended, whole, and been counted.
func TestShutdownWaitsForAStreamWithinGrace(t *testing.T) {
	s := serve(t, "  shutdown_grace: 30s\n", "0s")
	s.mock.SetFaults(mockllm.Faults{ReplyWords: 20, ChunkDelayMS: 25}) // about half a second of stream
	br := s.openStream(t)
	s.stop(t) // returns when Serve does
	rec := httptest.NewRecorder()
	s.d.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if want := `breakerd_requests_total{model_group="gpt-4o-mini",status_code="200"} 1`; !strings.Contains(rec.Body.String(), want) {
		t.Fatalf("when Serve returned, the stream was not done: /metrics lack %q", want)
	}
	rest, err := io.ReadAll(br)
	if err != nil || !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Fatalf("the stream's end %q: %v", rest, err)
	}
}

// While load shedding refuses requests, connections past twice the limit
// wait in the listen queue instead of being accepted to be refused, and
// are accepted once the pause after the last refusal has passed.
func TestSheddingPausesNewConnections(t *testing.T) {
	s := serve(t, "  max_concurrent_requests: 1\n  max_connections: 100\n", "0s")
	s.mock.SetFaults(mockllm.Faults{ReplyWords: 5, ChunkDelayMS: 600_000}) // a first chunk, then a long pause
	s.openStream(t)                                                        // holds the one request slot
	post := func() <-chan int {
		got := make(chan int, 1)
		go func() {
			c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}} // a connection of its own
			resp, err := c.Post(s.url+"/v1/chat/completions", "application/json",
				strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`))
			if err != nil {
				got <- 0
				return
			}
			resp.Body.Close()
			got <- resp.StatusCode
		}()
		return got
	}
	if code := <-post(); code != http.StatusServiceUnavailable {
		t.Fatalf("a request past max_concurrent_requests got %d, want 503", code)
	}
	// The stream's connection and the next one make twice the limit: the
	// connection after that waits.
	second := post()
	s.logs.waitFor(t, "overloaded (load shedding refusing requests, or over its latency targets): new client connections wait in the listen queue")
	third := post()
	// The pause after the last refusal is over: what waited is accepted
	// (and refused, the slot still held). Once per refused request, for
	// the pause may have begun before the second connection was accepted.
	clock := s.d.Gateway().Clock().(*breaker.ManualClock)
	for i, got := range []<-chan int{second, third} {
		clock.Advance(time.Second)
		if code := <-got; code != http.StatusServiceUnavailable {
			t.Fatalf("request %d after the first refusal got %d, want it accepted, then refused", i+1, code)
		}
	}
}

// A stream still running when server.shutdown_grace ends is cut with a
// final error event saying why, and a log line; Serve then returns.
func TestShutdownGraceEndsLongStreamsWithAnErrorEvent(t *testing.T) {
	s := serve(t, "  shutdown_grace: 50ms\n", "0s")
	s.mock.SetFaults(mockllm.Faults{ReplyWords: 1000, ChunkDelayMS: 100}) // about 100 s of stream
	sc := bufio.NewScanner(s.openStream(t))
	s.stop(t) // shuts down, waits out the grace period, cuts the stream
	var last string
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			last = d
		}
	}
	if !strings.Contains(last, "shutdown_grace") || !strings.Contains(last, `"error"`) {
		t.Fatalf("the stream's last event is %q, want an error naming shutdown_grace", last)
	}
	if !strings.Contains(s.logs.String(), "stream cut at shutdown") {
		t.Fatalf("no log line for the cut stream:\n%s", s.logs)
	}
}

// A scanner hammering the admin API does not flood the log: refusals are
// logged at most once a second, each line counting those left out.
func TestRefusedAdminRequestsAreLoggedSparingly(t *testing.T) {
	s := serve(t, "admin:\n  token: ${TOKEN}\n", "0s")
	for i := 0; i < 200; i++ {
		if code, _ := s.do(t, "GET", "/admin/breakers", "wrong-token-0123456789"); code != 401 {
			t.Fatalf("refused request got %d", code)
		}
	}
	// 200 requests take well under a second here, so one line, or a few
	// on a very slow machine; never one each.
	if n := strings.Count(s.logs.String(), "admin request refused"); n < 1 || n > 5 {
		t.Fatalf("%d refusal lines for 200 refused requests", n)
	}
}

// server.max_connections bounds the API listener's client connections; the
// limit, the connections open and those idle show on /metrics, and without
// the key the limit comes from the open-file limit.
func TestMaxConnectionsShowsOnMetrics(t *testing.T) {
	s := serve(t, "  max_connections: 3\n", "0s")
	_, metrics := s.do(t, "GET", "/metrics", "") // on a kept-alive connection: one open, busy
	for _, want := range []string{"breakerd_connections_limit 3\n", "breakerd_connections_open 1\n", "breakerd_connections_idle 0\n"} {
		if !strings.Contains(metrics, want) {
			t.Fatalf("metrics lack %q", want)
		}
	}
	// That connection idle, another asks: net/http marks a connection
	// idle only after its answer is sent, so ask until it has.
	other := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 0; ; i++ {
		resp, err := other.Get(s.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), "breakerd_connections_idle 1\n") && strings.Contains(string(body), "breakerd_connections_open 2\n") {
			break
		}
		if i == 1000 {
			t.Fatalf("the first connection never showed as idle:\n%s", body)
		}
	}
	s = serve(t, "", "0s")
	_, metrics = s.do(t, "GET", "/metrics", "")
	if strings.Contains(metrics, "breakerd_connections_limit 0\n") || !strings.Contains(metrics, "breakerd_connections_limit ") {
		t.Fatal("with server.max_connections unset, no limit from the open-file limit")
	}
}
