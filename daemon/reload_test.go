package daemon_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/daemon"
	"github.com/breakerd/breakerd/mockllm"
)

// A reload under load: requests keep being served with no error while the
// config changes under them; a deployment that did not change keeps its
// breaker state; a stream in flight on a removed deployment finishes; a
// new group serves at once; a config that does not load is refused, and
// the one in force stays.
func TestReloadUnderLoad(t *testing.T) {
	mocks := map[string]*mockllm.Server{}
	urls := map[string]string{}
	for _, n := range []string{"a", "b", "c"} {
		m := mockllm.New(mockllm.Options{Name: n})
		srv := httptest.NewServer(m.Handler())
		defer srv.Close()
		mocks[n], urls[n] = m, srv.URL
	}
	const head = `
model_list:
  - model_name: steady
    litellm_params: {model: openai/steady, api_base: "${A}/v1"}
  - model_name: kept
    litellm_params: {model: openai/kept, api_base: "${A}/v1"}
`
	first := head + `  - model_name: going
    litellm_params: {model: openai/going, api_base: "${B}/v1"}
admin:
  token: reload-admin-token-0123456789
server:
  shutdown_drain: 0s
`
	second := head + `  - model_name: new
    litellm_params: {model: openai/new, api_base: "${C}/v1"}
admin:
  token: reload-admin-token-0123456789
server:
  shutdown_drain: 0s
`
	for k, v := range map[string]string{"A": urls["a"], "B": urls["b"], "C": urls["c"]} {
		t.Setenv(k, v)
	}
	path := filepath.Join(t.TempDir(), "breakerd.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(first)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	upstream := &http.Client{Transport: &http.Transport{}}
	defer upstream.CloseIdleConnections()
	var logs syncBuffer
	d, err := daemon.New(daemon.Options{Config: cfg, Client: upstream, Clock: breaker.NewManualClock(t0),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- d.Serve(ctx, ln) }()
	<-d.Ready()
	url := "http://" + ln.Addr().String()
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	post := func(path, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer reload-admin-token-0123456789")
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	chat := func(model string) string {
		return `{"model":"` + model + `","messages":[{"role":"user","content":"hi"}]}`
	}

	// The kept deployment's breaker is forced open by hand: a reload must
	// not forget it.
	if code, body := post("/admin/breakers/kept/openai/kept:chat/open", ""); code != 200 {
		t.Fatalf("open: %d %s", code, body)
	}
	// A long stream on the deployment the reload removes.
	mocks["b"].SetFaults(mockllm.Faults{ReplyWords: 40})
	streamResp, err := hc.Post(url+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"going","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(streamResp.Body)
	if !sc.Scan() {
		t.Fatal("no first event")
	}

	// Load: four clients, each a bounded number of requests, throughout.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	stopLoad := make(chan struct{})
	for i := 0; i < 4; i++ {
		wg.Go(func() {
			for n := 0; n < 2000; n++ {
				select {
				case <-stopLoad:
					return
				default:
				}
				if code, body := post("/v1/chat/completions", chat("steady")); code != 200 {
					mu.Lock()
					failures = append(failures, body)
					mu.Unlock()
				}
			}
		})
	}
	if err := mocks["a"].WaitRequests(context.Background(), 20); err != nil {
		t.Fatal(err)
	}
	write(second)
	code, body := post("/admin/reload", "")
	if code != 200 {
		t.Fatalf("reload: %d %s", code, body)
	}
	var res struct {
		Result daemon.ReloadResult
	}
	_ = json.Unmarshal([]byte(body), &res)
	if strings.Join(res.Result.Added, ",") != "new/openai/new" || strings.Join(res.Result.Removed, ",") != "going/openai/going" || res.Result.Kept != 2 {
		t.Fatalf("reload result %+v", res.Result)
	}
	before := mocks["a"].Stats().Requests
	if err := mocks["a"].WaitRequests(context.Background(), before+20); err != nil { // load goes on after the swap
		t.Fatal(err)
	}
	if b, _ := d.Gateway().Registry().Lookup("kept/openai/kept:chat"); b == nil || b.State() != breaker.ForcedOpen {
		t.Fatalf("the kept deployment's breaker lost its state: %v", b)
	}
	if _, ok := d.Gateway().Registry().Lookup("going/openai/going:chat"); ok {
		t.Fatal("the removed deployment's breaker is still listed")
	}
	if code, body := post("/v1/chat/completions", chat("new")); code != 200 {
		t.Fatalf("the new group: %d %s", code, body)
	}
	if code, _ := post("/v1/chat/completions", chat("going")); code != 404 {
		t.Fatalf("the removed group answers %d", code)
	}
	// The stream that started on the removed deployment ends whole.
	var last string
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			last = l
		}
	}
	streamResp.Body.Close()
	if last != "data: [DONE]" {
		t.Fatalf("the stream on the removed deployment ended with %q", last)
	}

	// A config that does not load is refused; the one in force stays.
	write("model_list: [\n")
	if code, body := post("/admin/reload", ""); code != 400 || !strings.Contains(body, "the one in force stays") {
		t.Fatalf("bad reload: %d %s", code, body)
	}
	if code, body := post("/v1/chat/completions", chat("new")); code != 200 {
		t.Fatalf("after a refused reload: %d %s", code, body)
	}
	close(stopLoad)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d requests failed across the reloads, first: %s", len(failures), failures[0])
	}
	rec := httptest.NewRecorder()
	d.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{`breakerd_config_reloads_total{result="success"} 1`, `breakerd_config_reloads_total{result="failure"} 1`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Fatalf("metrics lack %s", want)
		}
	}
	if !strings.Contains(logs.String(), "config reload refused") {
		t.Fatalf("the refused reload was not logged:\n%s", logs.String())
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	d.Close()
}

// A reload puts a changed health policy in force for the next probe, and
// does not name health as needing a restart: /health judges the critical
// groups of the config in force.
func TestReloadAppliesTheHealthPolicy(t *testing.T) {
	m := mockllm.New(mockllm.Options{Name: "up"})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	t.Setenv("UP", srv.URL)
	cfgWith := func(critical string) *config.Config {
		cfg, err := config.Parse("breakerd.yaml", []byte(`
model_list:
  - model_name: a
    litellm_params: {model: openai/a, api_base: "${UP}/v1"}
  - model_name: b
    litellm_params: {model: openai/b, api_base: "${UP}/v1"}
health:
  critical_groups: [`+critical+`]
server:
  shutdown_drain: 0s
`), func(k string) (string, bool) { return os.LookupEnv(k) })
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	d, err := daemon.New(daemon.Options{Config: cfgWith("a"), Client: &http.Client{Transport: &http.Transport{}},
		Clock: breaker.NewManualClock(t0), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, b := range d.Gateway().Registry().All() {
		if strings.HasPrefix(b.Name(), "a/") {
			b.ForceOpen("test: group a down")
		}
	}
	health := func() int {
		rec := httptest.NewRecorder()
		d.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
		return rec.Code
	}
	if code := health(); code != http.StatusServiceUnavailable {
		t.Fatalf("/health %d with critical group a down, want 503", code)
	}
	res, err := d.Reload(cfgWith("b"))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(res.NeedsRestart, "health") {
		t.Fatalf("reload says health needs a restart: %+v", res)
	}
	if code := health(); code != http.StatusOK {
		t.Fatalf("/health %d after the reload made b the critical group, want 200", code)
	}
}

// oneGroup is a config of one group (its upstream never called) with
// extra, top-level YAML, appended.
func oneGroup(t *testing.T, extra string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("breakerd.yaml", []byte(`
model_list:
  - model_name: a
    litellm_params: {model: openai/a, api_base: "http://127.0.0.1:1/v1"}
server:
  shutdown_drain: 0s
`+extra), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A reload puts a changed logging.level in force for the next line when
// the daemon was given the level its logger logs at (as serve does); a
// changed format, or a level with no such handle, is named as needing a
// restart.
func TestReloadAppliesTheLogLevel(t *testing.T) {
	cfgWith := func(logging string) *config.Config { return oneGroup(t, "logging: {"+logging+"}\n") }
	for _, tc := range []struct {
		name        string
		handle      bool // the daemon has the logger's LevelVar
		to          string
		wantDebug   bool
		wantRestart []string
	}{
		{name: "level, with the handle", handle: true, to: "level: debug", wantDebug: true},
		{name: "level, without it", to: "level: debug", wantRestart: []string{"logging.level"}},
		{name: "format", handle: true, to: "level: info, format: json", wantRestart: []string{"logging.format"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &syncBuffer{}
			level := new(slog.LevelVar) // info
			log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level}))
			opts := daemon.Options{Config: cfgWith("level: info"), Logger: log,
				Client: &http.Client{Transport: &http.Transport{}}, Clock: breaker.NewManualClock(t0)}
			if tc.handle {
				opts.LogLevel = level
			}
			d, err := daemon.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			res, err := d.Reload(cfgWith(tc.to))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.NeedsRestart, tc.wantRestart) {
				t.Fatalf("needs restart %v, want %v", res.NeedsRestart, tc.wantRestart)
			}
			log.Debug("after the reload")
			if got := strings.Contains(logs.String(), "after the reload"); got != tc.wantDebug {
				t.Fatalf("debug line logged: %v, want %v; logs:\n%s", got, tc.wantDebug, logs.String())
			}
		})
	}
}

// A reload puts changed alerting in force for the next alert: a breaker
// that opens after the reload is alerted on the webhook configured now,
// not the one before, and alerting is not named as needing a restart.
func TestReloadAppliesAlerting(t *testing.T) {
	before, after := &inbox{}, &inbox{}
	beforeSrv, afterSrv := httptest.NewServer(http.HandlerFunc(before.handler)), httptest.NewServer(http.HandlerFunc(after.handler))
	defer beforeSrv.Close()
	defer afterSrv.Close()
	cfgWith := func(hook string) *config.Config {
		return oneGroup(t, "router_settings:\n  alerting: {webhook_url: \""+hook+"\"}\n")
	}
	clock := breaker.NewManualClock(t0)
	d, err := daemon.New(daemon.Options{Config: cfgWith(beforeSrv.URL), Client: &http.Client{Transport: &http.Transport{}},
		Clock: clock, Logger: slog.New(slog.DiscardHandler), AlertTick: -1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Reload(cfgWith(afterSrv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.NeedsRestart) != 0 {
		t.Fatalf("needs restart %v, want none", res.NeedsRestart)
	}
	for _, b := range d.Gateway().Registry().All() {
		b.ForceOpen("test: down")
	}
	d.Gateway().Registry().WaitListeners()
	if err := d.Bus().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute) // past the group window
	d.Alerts().Tick()
	d.Close() // drains the alert queues
	if got := before.all(); len(got) != 0 {
		t.Fatalf("the webhook of before the reload got %d alerts", len(got))
	}
	if got := after.all(); len(got) == 0 || !strings.Contains(got[0], `"kind":"open"`) {
		t.Fatalf("the webhook configured by the reload got %q, want the opening", got)
	}
}

// A reload from the file reads the files its include names again: a
// deployment added to an included file is added by the reload.
func TestReloadReadsIncludedFilesAgain(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const model = "  - model_name: %s\n    litellm_params: {model: openai/%s, api_base: \"http://127.0.0.1:9/v1\"}\n"
	write("config.yaml", "include: [models.yaml]\n")
	write("models.yaml", "model_list:\n"+fmt.Sprintf(model, "a", "a"))
	cfg, err := config.Load(filepath.Join(dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.New(daemon.Options{Config: cfg, Logger: slog.New(slog.DiscardHandler),
		Client: &http.Client{Transport: &http.Transport{}}, Clock: breaker.NewManualClock(t0)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Gateway().HasGroup("b") {
		t.Fatal("group b before it is in the included file")
	}
	write("models.yaml", "model_list:\n"+fmt.Sprintf(model, "a", "a")+fmt.Sprintf(model, "b", "b"))
	if err := d.ReloadFile(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !d.Gateway().HasGroup("b") {
		t.Fatal("after the reload the gateway has no group b, added to the included file")
	}
}
