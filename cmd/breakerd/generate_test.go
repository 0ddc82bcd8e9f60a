package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestDashboardsAndRulesCommands(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"dashboards", "--out", dir}, &out, &errOut); code != 0 {
		t.Fatalf("dashboards --out: %d %s", code, errOut.String())
	}
	for _, f := range []string{"breakerd-circuit-breakers.json", "breakerd-provider.json"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || !json.Valid(data) {
			t.Fatalf("%s: %v", f, err)
		}
	}
	rules, k8s := filepath.Join(dir, "alerts.yml"), filepath.Join(dir, "rule.yaml")
	if code := run(context.Background(), []string{"rules", "--out", rules, "--k8s-out", k8s}, &out, &errOut); code != 0 {
		t.Fatalf("rules: %d %s", code, errOut.String())
	}
	if data, _ := os.ReadFile(rules); !strings.Contains(string(data), "alert: CircuitBreakerOpen") {
		t.Fatalf("rules file: %s", data)
	}
	if data, _ := os.ReadFile(k8s); !strings.Contains(string(data), "kind: PrometheusRule") {
		t.Fatalf("PrometheusRule: %s", data)
	}

	var mu sync.Mutex
	var uids []string
	grafana := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/dashboards/db" || r.Header.Get("Authorization") != "Bearer glsa_test" {
			w.WriteHeader(401)
			return
		}
		var body struct {
			Dashboard struct {
				UID string `json:"uid"`
			} `json:"dashboard"`
			Overwrite bool `json:"overwrite"`
		}
		data, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(data, &body)
		mu.Lock()
		uids = append(uids, body.Dashboard.UID)
		mu.Unlock()
		_, _ = w.Write([]byte(`{"status":"success"}`))
	}))
	defer grafana.Close()
	defer http.DefaultClient.CloseIdleConnections()
	t.Setenv(grafanaTokenEnv, "")
	if code := run(context.Background(), []string{"dashboards", "--push", grafana.URL}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), grafanaTokenEnv) {
		t.Fatalf("push without a token: %d %s", code, errOut.String())
	}
	t.Setenv(grafanaTokenEnv, "glsa_test")
	out.Reset()
	if code := run(context.Background(), []string{"dashboards", "--push", grafana.URL}, &out, &errOut); code != 0 {
		t.Fatalf("push: %d %s", code, errOut.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(uids, ",") != "breakerd-circuit-breakers,breakerd-provider" {
		t.Fatalf("pushed %v", uids)
	}
}
