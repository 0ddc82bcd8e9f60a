package daemon_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/daemon"
	"github.com/breakerd/breakerd/mockllm"
)

// LiteLLM's force_ipv4: breakerd's upstream connections go over IPv4
// alone, so an upstream that listens on IPv6 only is out of reach; without
// it, the same upstream answers.
func TestForceIPv4(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback on this machine:", err)
	}
	up := httptest.NewUnstartedServer(mockllm.New(mockllm.Options{Name: "v6"}).Handler())
	up.Listener.Close()
	up.Listener = ln
	up.Start()
	defer up.Close()
	for _, tc := range []struct {
		name, settings string
		status         int
	}{
		{"forced", "litellm_settings: {force_ipv4: true}\n", http.StatusServiceUnavailable},
		{"not forced", "", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse("t.yaml", []byte("model_list:\n  - model_name: m\n    litellm_params: {model: openai/gpt-4.1, api_base: \""+
				up.URL+"/v1\", api_key: sk-test-key-123}\nrouter_settings: {num_retries: 0}\n"+tc.settings), func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(strings.Join(cfg.Warnings, "\n"), "force_ipv4") {
				t.Fatalf("force_ipv4 warned of: %q", cfg.Warnings)
			}
			d, err := daemon.New(daemon.Options{Config: cfg, Clock: breaker.NewManualClock(t0), AlertTick: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			srv := httptest.NewServer(d.Handler())
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			resp, err := client.Post(srv.URL+"/v1/chat/completions", "application/json",
				strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
}
