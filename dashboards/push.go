package dashboards

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// Push uploads d through Grafana's HTTP API (POST /api/dashboards/db,
// overwriting the dashboard with the same uid). token is a Grafana service
// account token.
func Push(ctx context.Context, client *http.Client, grafanaURL, token string, d dashboard.Dashboard) error {
	body, err := json.Marshal(map[string]any{"dashboard": d, "overwrite": true, "message": "breakerd dashboards --push"})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(grafanaURL, "/")+"/api/dashboards/db", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("push %q: %w", deref(d.Title), err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("push %q: Grafana answered %s: %s", deref(d.Title), resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
