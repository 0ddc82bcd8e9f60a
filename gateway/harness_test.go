package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"go.uber.org/goleak"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/gateway"
	"github.com/breakerd/breakerd/mockllm"
	"github.com/breakerd/breakerd/provider"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 1, 26, 12, 0, 0, 0, time.UTC)

// env is a gateway in front of named mock upstreams, all on loopback.
type env struct {
	t     *testing.T
	clock *breaker.ManualClock
	mocks map[string]*mockllm.Server
	// mockURLs are the mocks' addresses, by name, to call one directly.
	mockURLs map[string]string
	gw       *gateway.Gateway
	url      string
	client   openai.Client
	http     *http.Client
	// done receives every finished client request; attempts, the first
	// hundred upstream attempts.
	done     chan gateway.RequestInfo
	attempts chan gateway.AttemptInfo
	// budgets receives "scope name" of each budget used up, cooldowns
	// the breaker of each cooldown begun.
	budgets, cooldowns chan string
	// moves receives "from -> to: reason" of the first hundred moves
	// to another deployment (Observer.FellBack).
	moves chan string
	// logs holds what the gateway logged, as JSON lines.
	logs *lockedBuffer
	// draining, closed, begins the gateway's shutdown (Options.Draining).
	draining chan struct{}
}

// lockedBuffer is a bytes.Buffer safe for a logger and a test at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// recorder is an Observer that reports finished requests to env.done,
// and attempts to env.attempts while it has room.
type recorder struct {
	gateway.Observer
	done     chan gateway.RequestInfo
	attempts chan gateway.AttemptInfo
	budgets  chan string
	cooldown chan string
	moves    chan string
}

func (r recorder) FellBack(_ string, from, to *gateway.Deployment, reason string) {
	select {
	case r.moves <- from.Config.Name + " -> " + to.Config.Name + ": " + reason:
	default:
	}
}

func (r recorder) CooledDown(d *gateway.Deployment, op provider.Operation, _ time.Time, _ string) {
	select {
	case r.cooldown <- d.Breakers[op].Name():
	default:
	}
}

func (r recorder) BudgetSpent(b *gateway.Budget, _ float64, _ time.Time) {
	select {
	case r.budgets <- b.Scope + " " + b.Name:
	default:
	}
}

func (r recorder) RequestDone(info gateway.RequestInfo) { r.done <- info }

func (r recorder) AttemptDone(info gateway.AttemptInfo) {
	select {
	case r.attempts <- info:
	default:
	}
}

// newEnv starts one mockllm per name and a gateway whose config is
// yamlText with ${MOCK_<NAME>} replaced by each mock's URL.
func newEnv(t *testing.T, yamlText string, names ...string) *env {
	t.Helper()
	e := &env{t: t, clock: breaker.NewManualClock(t0), mocks: map[string]*mockllm.Server{},
		done: make(chan gateway.RequestInfo, 1000), attempts: make(chan gateway.AttemptInfo, 100), budgets: make(chan string, 100), cooldowns: make(chan string, 100), moves: make(chan string, 100), logs: &lockedBuffer{}, draining: make(chan struct{})}
	vars := map[string]string{}
	for _, n := range names {
		m := mockllm.New(mockllm.Options{Name: n, Now: e.clock.Now}) // its objects made at the test's times
		srv := httptest.NewUnstartedServer(nil)
		srv.Config = m.HTTPServer() // HTTP/1.1, and h2c for http2_prior_knowledge
		srv.Start()
		t.Cleanup(srv.Close)
		e.mocks[n] = m
		vars["MOCK_"+strings.ToUpper(n)] = srv.URL
	}
	e.mockURLs = map[string]string{}
	for n := range e.mocks {
		e.mockURLs[n] = vars["MOCK_"+strings.ToUpper(n)]
	}
	cfg, err := config.Parse("test.yaml", []byte(yamlText), func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	upstream := gateway.NewUpstreamClient()
	gw, err := gateway.New(gateway.Options{Config: cfg, Clock: e.clock, Client: upstream, Draining: e.draining,
		Logger:   slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Observer: recorder{Observer: gateway.NopObserver(), done: e.done, attempts: e.attempts, budgets: e.budgets, cooldown: e.cooldowns, moves: e.moves}})
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	e.gw = gw
	srv := httptest.NewServer(gw.Handler())
	e.url = srv.URL
	e.http = &http.Client{Transport: &http.Transport{}}
	e.client = openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("sk-client"),
		option.WithMaxRetries(0), option.WithHTTPClient(e.http))
	t.Cleanup(func() {
		// Streams relayed on connections taken over outlive the server's
		// Close (as they do http.Server.Shutdown): they end first, each
		// handing its connection back to the server before Close waits for
		// the server's connections (httptest counts them in a WaitGroup,
		// which must not gain one while Close waits on it).
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if !gw.Wait(ctx) {
			t.Error("a stream still relayed 10 s after the test")
		}
		srv.Close()
		e.http.CloseIdleConnections()
		upstream.CloseIdleConnections()
		gw.Registry().WaitListeners()
		gw.Close()
	})
	return e
}

// chat makes one non-streaming chat call through the SDK and returns the
// response headers.
func (e *env) chat(model string) (*openai.ChatCompletion, http.Header, error) {
	e.t.Helper()
	var resp *http.Response
	out, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")},
	}, option.WithResponseInto(&resp))
	var h http.Header
	if resp != nil {
		h = resp.Header
	}
	return out, h, err
}

// chatStream makes one streamed chat call through the SDK and returns the
// text of its deltas.
func (e *env) chatStream(model string) (string, error) {
	e.t.Helper()
	stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")}})
	defer stream.Close()
	var text strings.Builder
	for stream.Next() {
		if c := stream.Current(); len(c.Choices) > 0 {
			text.WriteString(c.Choices[0].Delta.Content)
		}
	}
	return text.String(), stream.Err()
}

// post sends a raw request and returns status, headers and the decoded
// OpenAI error body.
func (e *env) post(path, body string) (int, http.Header, map[string]any) {
	e.t.Helper()
	return e.do(http.MethodPost, path, body)
}

// do is post with any method.
func (e *env) do(method, path, body string) (int, http.Header, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return resp.StatusCode, resp.Header, m
}

// drain reads a chat stream to its end and returns the accumulated
// completion, the number of chunks and the stream's error.
func drain(stream *ssestream.Stream[openai.ChatCompletionChunk]) (openai.ChatCompletionAccumulator, int, error) {
	defer stream.Close() // its connection back to the pool (or closed), whatever ended it
	var acc openai.ChatCompletionAccumulator
	chunks := 0
	for stream.Next() {
		acc.AddChunk(stream.Current())
		chunks++
	}
	return acc, chunks, stream.Err()
}

// modelIDs lists the models through the SDK.
func (e *env) modelIDs() []string {
	e.t.Helper()
	page, err := e.client.Models.List(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
	}
	return ids
}

func (e *env) breaker(name string) *breaker.Breaker {
	e.t.Helper()
	b, ok := e.gw.Registry().Lookup(name)
	if !ok {
		e.t.Fatalf("no breaker %q; have %v", name, e.gw.Registry().Names())
	}
	return b
}

// twoGroups is a primary group with a fallback group, ordered routing.
const twoGroups = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: ${MOCK_PRIMARY}/v1
      api_key: sk-primary-secret-key
  - model_name: claude-3-5-sonnet
    litellm_params:
      model: openai/claude-3-5-sonnet
      api_base: ${MOCK_BACKUP}/v1
      api_key: sk-backup-secret-key
router_settings:
  routing_strategy: ordered
  retry_backoff: 1ms
  fallbacks: [claude-3-5-sonnet]
  circuit_breaker:
    failure_threshold: 5
    recovery_timeout: 30
    success_threshold: 2
`

const primaryChat = "gpt-4o-mini/openai/gpt-4o-mini:chat"

// openStream starts a streaming chat request for gpt-4o-mini under ctx and
// reads its first line, which must be a data line. The caller closes the
// response.
func (e *env) openStream(ctx context.Context) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if line, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: ") {
		resp.Body.Close()
		e.t.Fatalf("first line %q: %v", line, err)
	}
	return resp
}

// serveGateway serves a gateway for yamlText (no environment) on loopback,
// with the pooled upstream client, and returns its URL. It is closed when
// the test ends.
func serveGateway(t *testing.T, yamlText string) string {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte(yamlText), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	client := gateway.NewUpstreamClient()
	t.Cleanup(client.CloseIdleConnections)
	gw, err := gateway.New(gateway.Options{Config: cfg, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.Close)
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// chatOnce serves a gateway for yamlText (no environment) on loopback,
// sends it one chat request for model m with header (name, value pairs),
// and returns the response with its body read. Everything is closed when
// it returns.
func chatOnce(t *testing.T, yamlText string, header ...string) (*http.Response, []byte) {
	t.Helper()
	url := serveGateway(t, yamlText)
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/chat/completions",
		strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"x"}]}`))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

// recordingUpstream is an upstream on loopback that answers every call
// with answer (JSON) and keeps the last call's headers, which headers
// returns.
func recordingUpstream(t *testing.T, answer string) (url string, headers func() http.Header) {
	t.Helper()
	var mu sync.Mutex
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Header.Clone()
		mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(answer))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() http.Header {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
}
