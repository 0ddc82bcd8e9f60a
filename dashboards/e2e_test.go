package dashboards_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/daemon"
	"github.com/breakerd/breakerd/dashboards"
	"github.com/breakerd/breakerd/internal/external"
	"github.com/breakerd/breakerd/mockllm"
)

// emptyInAHealthyOutage are the dashboard panels whose queries may return
// nothing in this run, and why: every other panel must show data.
var emptyInAHealthyOutage = map[string]string{
	"breakerd_alerts_":              "breakerd itself sends no alert in this run (Alertmanager does)",
	"breakerd_rate_limited_total":   "no call was passed over for a rate limit or a provider's 429",
	"breakerd_rate_limit_remaining": "no deployment has an enforced rpm or tpm limit",
	"breakerd_cooldown_remaining":   "no provider answered 429",
	"breakerd_state_backend":        "shared state (Redis) is not configured",
	"breakerd_time_to_first_token":  "only streams have one, and the traffic here does not stream",
	"breakerd_health_checks_total":  "background health checks are off in this run",
	"breakerd_cache_hits_total":     "the response cache is off in this run",
	"breakerd_spend_estimated_usd":  "only streams that end before their usage are estimated, and the traffic here does not stream",
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// readYAML reads a shipped config as a map, to change only addresses and
// intervals in it.
func readYAML(t *testing.T, path string) map[string]any {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func writeYAML(t *testing.T, path string, v any) {
	data, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// amAlert is one alert in an Alertmanager webhook.
type amAlert struct {
	Status string            `json:"status"`
	Labels map[string]string `json:"labels"`
}

// The whole monitoring chain, with the real servers: a real Prometheus
// scrapes a real breakerd through an outage of its primary, evaluates the
// repository's rules (only their for: durations shortened, by `breakerd
// rules --for`), and a real Alertmanager, with the Compose stack's config
// (only addresses and intervals changed), delivers to a loopback webhook.
// The breaker-open alert arrives once, naming the deployment and the
// cause, and resolves after the recovery; no rule fires that the outage
// does not explain; no secret is in any alert; and every query of both
// generated dashboards returns data, but for the panels listed above.
func TestMonitoringChainEndToEnd(t *testing.T) {
	prometheus := external.Program(t, "prometheus")
	alertmanager := external.Program(t, "prometheus-alertmanager", "alertmanager")
	root := filepath.Join("..")
	dir := t.TempDir()

	// Two providers and breakerd.
	primary, backup := mockllm.New(mockllm.Options{Name: "p"}), mockllm.New(mockllm.Options{Name: "b"})
	pSrv, bSrv := httptest.NewServer(primary.Handler()), httptest.NewServer(backup.Handler())
	defer pSrv.Close()
	defer bSrv.Close()
	const key1, key2 = "sk-e2e-secret-primary-1", "sk-e2e-secret-backup-2"
	cfg, err := config.Parse("e2e.yaml", []byte(`
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "`+pSrv.URL+`/v1", api_key: `+key1+`, max_parallel_requests: 100}
  - model_name: claude
    litellm_params: {model: anthropic/claude-3-5-sonnet, api_base: "`+bSrv.URL+`", api_key: `+key2+`}
router_settings:
  routing_strategy: ordered
  fallbacks: [claude]
  circuit_breaker: {failure_threshold: 3, recovery_timeout: 2, success_threshold: 2}
  provider_budget_config: {anthropic: {budget_limit: 100, time_period: 1d}}
server: {shutdown_drain: 0s}
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	upstream := &http.Client{Transport: &http.Transport{}}
	defer upstream.CloseIdleConnections()
	d, err := daemon.New(daemon.Options{Config: cfg, Client: upstream})
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
	defer func() {
		cancel()
		<-served
		d.Close()
	}()
	<-d.Ready()
	gw := ln.Addr().String()

	// The webhook receiver Alertmanager delivers to.
	var mu sync.Mutex
	var bodies []string
	arrived := make(chan amAlert, 100)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(data))
		mu.Unlock()
		var p struct {
			Alerts []amAlert `json:"alerts"`
		}
		_ = json.Unmarshal(data, &p)
		for _, a := range p.Alerts {
			arrived <- a
		}
	}))
	defer receiver.Close()

	// The repository's rules, for: shortened; the Compose stack's
	// Prometheus and Alertmanager configs, addresses and intervals changed.
	rules, err := dashboards.Rules().WithFor("1s").YAML()
	if err != nil {
		t.Fatal(err)
	}
	rulesPath := filepath.Join(dir, "alerts.yml")
	if err := os.WriteFile(rulesPath, rules, 0o600); err != nil {
		t.Fatal(err)
	}
	promAddr, amAddr := freeAddr(t), freeAddr(t)
	pc := readYAML(t, filepath.Join(root, "deploy", "prometheus", "prometheus.yml"))
	pc["global"] = map[string]any{"scrape_interval": "1s", "evaluation_interval": "1s"}
	pc["rule_files"] = []string{rulesPath}
	pc["alerting"].(map[string]any)["alertmanagers"].([]any)[0].(map[string]any)["static_configs"] = []any{map[string]any{"targets": []string{amAddr}}}
	pc["scrape_configs"].([]any)[0].(map[string]any)["static_configs"] = []any{map[string]any{"targets": []string{gw}}}
	writeYAML(t, filepath.Join(dir, "prometheus.yml"), pc)
	ac := readYAML(t, filepath.Join(root, "deploy", "alertmanager", "alertmanager.yml"))
	route := ac["route"].(map[string]any)
	route["group_wait"], route["group_interval"] = "1s", "1s"
	ac["receivers"].([]any)[0].(map[string]any)["webhook_configs"].([]any)[0].(map[string]any)["url"] = receiver.URL + "/alertmanager"
	writeYAML(t, filepath.Join(dir, "alertmanager.yml"), ac)

	startProc := func(bin string, args ...string) {
		cmd := exec.Command(bin, args...)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if t.Failed() {
				t.Logf("%s output:\n%s", filepath.Base(bin), out.String())
			}
		})
	}
	startProc(alertmanager, "--config.file="+filepath.Join(dir, "alertmanager.yml"), "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")
	startProc(prometheus, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr)

	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	query := func(q string) (int, error) {
		resp, err := hc.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		var r struct {
			Status string `json:"status"`
			Error  string `json:"error"`
			Data   struct {
				Result json.RawMessage `json:"result"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			return 0, err
		}
		if r.Status != "success" {
			return 0, fmt.Errorf("%s", r.Error)
		}
		var vec []any
		if json.Unmarshal(r.Data.Result, &vec) != nil {
			return 1, nil // a scalar
		}
		return len(vec), nil
	}
	// until waits for cond, checking once a second: the servers here keep
	// real time, so the test waits on them, for at most a minute.
	until := func(what string, cond func() bool) {
		t.Helper()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		deadline := time.After(90 * time.Second)
		for !cond() {
			select {
			case <-tick.C:
			case <-deadline:
				t.Fatalf("gave up waiting for %s", what)
			}
		}
	}

	// Steady traffic throughout.
	stop := make(chan struct{})
	// The primary reports its rate limit's remaining requests, as OpenAI
	// does with every answer.
	const rpm = 1_000_000
	primary.SetFaults(mockllm.Faults{RPMLimit: rpm})
	var traffic sync.WaitGroup
	traffic.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				resp, err := hc.Post("http://"+gw+"/v1/chat/completions", "application/json",
					strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`))
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}
	})
	defer func() { close(stop); traffic.Wait() }()

	until("Prometheus to scrape breakerd", func() bool { n, _ := query(`up{job="breakerd"} == 1`); return n == 1 })
	primary.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503, RPMLimit: rpm})
	var seen []amAlert
	waitAlert := func(status string) amAlert {
		t.Helper()
		deadline := time.After(90 * time.Second)
		for {
			select {
			case a := <-arrived:
				seen = append(seen, a)
				if a.Labels["alertname"] == "CircuitBreakerOpen" && a.Status == status {
					return a
				}
			case <-deadline:
				t.Fatalf("no %s CircuitBreakerOpen; got %v", status, seen)
			}
		}
	}
	open := waitAlert("firing")
	if open.Labels["deployment"] != "gpt-4o-mini/openai/gpt-4o-mini" || open.Labels["cause"] != "http_503" ||
		open.Labels["breaker"] != "gpt-4o-mini/openai/gpt-4o-mini:chat" {
		t.Fatalf("the open alert's labels %v", open.Labels)
	}

	// Every dashboard query, during the outage, as Grafana would send it.
	// The provider whose breaker opened, and its group, selected.
	vars := strings.NewReplacer("$__rate_interval", "1m", "$__range", "5m", "$__interval", "15s",
		"$provider", "openai", "$model_group", "gpt-4o-mini")
	labelValues := regexp.MustCompile(`^label_values\((.*),\s*\w+\)$`)
	until("the outage's series in Prometheus", func() bool {
		n, _ := query(`circuit_breaker_state{breaker="gpt-4o-mini/openai/gpt-4o-mini:chat"} == 1`)
		return n == 1
	})
	var empty []string
	for where, q := range queries(t) {
		if strings.HasPrefix(where, "alerts.yml") {
			continue
		}
		expr := vars.Replace(q)
		if m := labelValues.FindStringSubmatch(expr); m != nil {
			expr = m[1]
		}
		n, err := query(expr)
		if err != nil {
			t.Errorf("%s: %s: %v", where, expr, err)
			continue
		}
		if n > 0 {
			continue
		}
		known := false
		for metric, why := range emptyInAHealthyOutage {
			if strings.Contains(q, metric) {
				known = true
				t.Logf("empty, as documented (%s): %s", why, where)
			}
		}
		if !known {
			empty = append(empty, where+": "+q)
		}
	}
	slices.Sort(empty)
	if len(empty) > 0 {
		t.Errorf("dashboard queries with no data during an outage:\n%s", strings.Join(empty, "\n"))
	}

	primary.SetFaults(mockllm.Faults{})
	resolved := waitAlert("resolved")
	if resolved.Labels["breaker"] != open.Labels["breaker"] {
		t.Fatalf("resolved %v", resolved.Labels)
	}
	// Drain what else arrived, then judge.
	for len(arrived) > 0 {
		seen = append(seen, <-arrived)
	}
	firing := 0
	for _, a := range seen {
		switch a.Labels["alertname"] {
		case "CircuitBreakerOpen":
			if a.Status == "firing" {
				firing++
			}
		case "HighFailureRatio": // the outage explains it
		default:
			t.Errorf("a rule the outage does not explain fired: %v", a.Labels)
		}
	}
	if firing != 1 {
		t.Errorf("CircuitBreakerOpen arrived firing %d times, want once", firing)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, b := range bodies {
		for _, secret := range []string{key1, key2} {
			if strings.Contains(b, secret) {
				t.Fatalf("an alert holds a key: %s", b)
			}
		}
	}
}
