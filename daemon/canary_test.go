package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/daemon"
)

// Canary values for every kind of secret breakerd holds.
var canaries = map[string]string{
	"PRIMARY_KEY":  "sk-canary-primary-7f3a91",
	"BACKUP_KEY":   "sk-canary-backup-2c8e44",
	"MASTER_KEY":   "sk-canary-master-b61d07",
	"ADMIN_TOKEN":  "canary-admin-token-5e2f88",
	"HOOK_SECRET":  "canary-hook-path-9a1c33",
	"SLACK_SECRET": "canary-slack-path-4d7b20",
	"SIGN_SECRET":  "canary-sign-secret-11aa22",
	"REDIS_PASS":   "canary-redis-pass-83f0c6",
}

// tee writes every log record to a text and a JSON log at once.
type tee struct{ a, b slog.Handler }

func (t tee) Enabled(ctx context.Context, l slog.Level) bool { return true }
func (t tee) Handle(ctx context.Context, r slog.Record) error {
	_ = t.a.Handle(ctx, r.Clone())
	return t.b.Handle(ctx, r)
}
func (t tee) WithAttrs(as []slog.Attr) slog.Handler { return tee{t.a.WithAttrs(as), t.b.WithAttrs(as)} }
func (t tee) WithGroup(n string) slog.Handler       { return tee{t.a.WithGroup(n), t.b.WithGroup(n)} }

// seen collects everything that leaves breakerd: responses (bodies and
// headers), what upstreams and alert receivers receive is not collected
// (they are meant to get their own key), but what they answer with comes
// back through breakerd into the rest.
type seen struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *seen) add(parts ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range parts {
		s.buf.WriteString(p)
		s.buf.WriteByte('\n')
	}
}

// No secret ever leaves breakerd: with a canary for each kind of secret,
// failures (whose upstream echoes the key into every error field), alerts
// (whose receivers echo the request path and headers), admin calls with
// right and wrong tokens, wrong master keys, every probe, the status page
// and /metrics leave no canary in any response body or header, any log
// line (text and JSON), or any alert payload.
func TestNoSecretEverLeaves(t *testing.T) {
	var received seen // alert payloads
	echo := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		received.add(string(body))
		// As Express's 404 and chatty upstreams do: echo what was sent.
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "Cannot POST %s auth=%s sig=%s", r.URL.RequestURI(), r.Header.Get("Authorization"), r.Header.Get("X-Breakerd-Signature"))
	}
	hooks := httptest.NewServer(http.HandlerFunc(echo))
	defer hooks.Close()
	// An upstream that fails with the credential in every error field.
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cred := r.Header.Get("Authorization") + r.Header.Get("x-api-key")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo", cred)
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]any{"type": "error", "error": map[string]any{
			"message": "overloaded for " + cred, "type": cred, "code": cred, "param": cred}})
	}))
	defer upstream.Close()
	vars := map[string]string{"UP": upstream.URL, "HOOKS": hooks.URL}
	for k, v := range canaries {
		vars[k] = v
	}
	text := `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${UP}/v1", api_key: os.environ/PRIMARY_KEY}
  - model_name: claude
    litellm_params: {model: anthropic/claude-3-5-sonnet, api_base: "${UP}", api_key: os.environ/BACKUP_KEY}
router_settings:
  routing_strategy: ordered
  retry_backoff: 1ms
  fallbacks: [claude]
  redis_url: redis://:${REDIS_PASS}@127.0.0.1:1/0
  circuit_breaker: {failure_threshold: 2, recovery_timeout: 30}
  alerting:
    group_window: 0s
    notifiers:
      - {type: webhook, name: hook, url: "${HOOKS}/hook/${HOOK_SECRET}?token=${HOOK_SECRET}", secret: "${SIGN_SECRET}",
         headers: {Authorization: "Bearer ${HOOK_SECRET}"}}
      - {type: slack, name: slack, webhook_url: "${HOOKS}/services/T0/B0/${SLACK_SECRET}"}
general_settings:
  master_key: os.environ/MASTER_KEY
admin:
  token: ${ADMIN_TOKEN}
server:
  shutdown_drain: 0s
`
	cfg, err := config.Parse("canary.yaml", []byte(text), func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	var textLog, jsonLog syncBuffer
	log := slog.New(tee{slog.NewTextHandler(&textLog, &slog.HandlerOptions{Level: slog.LevelDebug}),
		slog.NewJSONHandler(&jsonLog, &slog.HandlerOptions{Level: slog.LevelDebug})})
	up := &http.Client{Transport: &http.Transport{}}
	d, err := daemon.New(daemon.Options{Config: cfg, Logger: log, Clock: breaker.NewManualClock(t0), Client: up, AlertTick: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.Handler())
	hc := &http.Client{Transport: &http.Transport{}}
	var out seen
	call := func(method, path, body string, header map[string]string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var h strings.Builder
		_ = resp.Header.Write(&h)
		out.add(resp.Status, h.String(), string(data))
	}
	master := map[string]string{"Authorization": "Bearer " + canaries["MASTER_KEY"]}
	chat := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`
	for i := 0; i < 4; i++ { // both breakers trip; alerts go out
		call("POST", "/v1/chat/completions", chat, master)
		call("POST", "/v1/chat/completions", strings.Replace(chat, "}]}", `}],"stream":true}`, 1), master)
		call("POST", "/v1/messages", `{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`,
			map[string]string{"x-api-key": canaries["MASTER_KEY"]})
		call("POST", "/v1/responses", `{"model":"claude","input":"x"}`, master)
	}
	call("POST", "/v1/chat/completions", chat, map[string]string{"Authorization": "Bearer sk-wrong-key-000000"})
	call("POST", "/v1/embeddings", `{"model":"gpt-4o-mini","input":"x"}`, master)
	for _, p := range []string{"/health", "/health?verbose", "/health/circuit-breakers", "/readyz", "/livez", "/status.json", "/", "/metrics", "/v1/models"} {
		call("GET", p, "", master)
	}
	call("GET", "/admin/breakers", "", map[string]string{"Authorization": "Bearer " + canaries["ADMIN_TOKEN"]})
	call("GET", "/admin/breakers", "", map[string]string{"Authorization": "Bearer wrong-admin-token-0000"})
	call("POST", "/admin/breakers/claude/anthropic/claude-3-5-sonnet:chat/reset", "", map[string]string{"Authorization": "Bearer " + canaries["ADMIN_TOKEN"]})
	d.Gateway().Registry().WaitListeners()
	if err := d.Bus().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	d.Alerts().Tick()
	srv.Close()
	hc.CloseIdleConnections()
	d.Close() // delivers the alerts, and logs their failures
	up.CloseIdleConnections()

	if len(received.buf.String()) == 0 {
		t.Fatal("no alert was sent: the test did not drive the alert path")
	}
	if !strings.Contains(textLog.String(), "upstream call failed") || !strings.Contains(jsonLog.String(), "alert") {
		t.Fatalf("the logs do not show the failures and alerts the test drove:\n%s", textLog.String())
	}
	for name, where := range map[string]string{"responses": out.buf.String(), "text log": textLog.String(),
		"JSON log": jsonLog.String(), "alert payloads": received.buf.String()} {
		for kind, canary := range canaries {
			if strings.Contains(where, canary) {
				i := strings.Index(where, canary)
				t.Errorf("%s leak the %s: ...%s...", name, kind, where[max(0, i-120):min(len(where), i+len(canary)+40)])
			}
		}
	}
}
