package alerting

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/breakerd/breakerd/config"
)

// SignatureHeader carries "sha256=<hex HMAC-SHA256 of the body>" when the
// webhook has a signing secret.
const SignatureHeader = "X-Breakerd-Signature"

// webhook posts JSON: breakerd's own Payload, or Alertmanager's webhook v4.
type webhook struct {
	cfg    config.Notifier
	client *http.Client
}

func (w *webhook) Name() string { return w.cfg.Name }

// Payload is breakerd's webhook body (format: breakerd).
type Payload struct {
	Version      string        `json:"version"`
	EventID      string        `json:"event_id"`
	Kind         Kind          `json:"kind"`
	Resolved     bool          `json:"resolved"`
	Summary      string        `json:"summary"`
	SentAt       time.Time     `json:"sent_at"`
	DashboardURL string        `json:"dashboard_url,omitempty"`
	RunbookURL   string        `json:"runbook_url,omitempty"`
	Alerts       []PayloadItem `json:"alerts"`
}

// PayloadItem is one breaker in a Payload.
type PayloadItem struct {
	Key               string            `json:"key"`
	Breaker           string            `json:"breaker"`
	Labels            map[string]string `json:"labels"`
	From              string            `json:"from"`
	To                string            `json:"to"`
	Reason            string            `json:"reason"`
	At                time.Time         `json:"at"`
	OpenedAt          *time.Time        `json:"opened_at,omitempty"`
	OpenSeconds       float64           `json:"open_seconds,omitempty"`
	RejectedWhileOpen uint64            `json:"rejected_while_open"`
	Counts            any               `json:"counts"`
	Window            any               `json:"window"`
	Fallback          string            `json:"fallback,omitempty"`
	Changes           int               `json:"changes,omitempty"`
}

// NewPayload builds breakerd's webhook body for an alert.
func NewPayload(a *Alert) Payload {
	p := Payload{Version: "1", EventID: a.ID, Kind: a.Kind, Resolved: a.Resolved(), Summary: a.Title(), SentAt: a.At,
		DashboardURL: a.DashboardURL, RunbookURL: a.RunbookURL}
	for _, it := range a.Items {
		pi := PayloadItem{Key: it.Key, Breaker: it.Breaker, Labels: it.Labels, From: it.From, To: it.To, Reason: it.Reason,
			At: it.At, RejectedWhileOpen: it.RejectedWhileOpen, Counts: it.Counts, Window: it.Window, Fallback: it.Fallback,
			Changes: it.Changes, OpenSeconds: it.OpenFor.Seconds()}
		if !it.OpenedAt.IsZero() {
			at := it.OpenedAt
			pi.OpenedAt = &at
		}
		p.Alerts = append(p.Alerts, pi)
	}
	return p
}

// AlertmanagerPayload is Alertmanager's webhook (version 4) body.
type AlertmanagerPayload struct {
	Version           string              `json:"version"`
	GroupKey          string              `json:"groupKey"`
	TruncatedAlerts   int                 `json:"truncatedAlerts"`
	Status            string              `json:"status"`
	Receiver          string              `json:"receiver"`
	GroupLabels       map[string]string   `json:"groupLabels"`
	CommonLabels      map[string]string   `json:"commonLabels"`
	CommonAnnotations map[string]string   `json:"commonAnnotations"`
	ExternalURL       string              `json:"externalURL"`
	Alerts            []AlertmanagerAlert `json:"alerts"`
}

// AlertmanagerAlert is one alert in an AlertmanagerPayload.
type AlertmanagerAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// NewAlertmanagerPayload renders an alert as Alertmanager would send it,
// so any receiver of Alertmanager webhooks understands breakerd.
func NewAlertmanagerPayload(a *Alert) AlertmanagerPayload {
	status := "firing"
	if a.Resolved() {
		status = "resolved"
	}
	name := "CircuitBreakerOpen"
	switch a.Kind {
	case KindFlapping:
		name = "CircuitBreakerFlapping"
	case KindBudget:
		name = "BudgetSpent" // as the Prometheus rule names it
	case KindCooldown:
		name = "DeploymentRateLimited"
	case KindSlow:
		name = "LLMResponsesSlow"
	case KindHanging:
		name = "LLMRequestsHanging"
	}
	p := AlertmanagerPayload{Version: "4", Status: status, Receiver: "breakerd", GroupKey: "{}:{alertname=\"" + name + "\"}",
		GroupLabels: map[string]string{"alertname": name}, CommonLabels: map[string]string{"alertname": name},
		CommonAnnotations: map[string]string{}, ExternalURL: a.DashboardURL}
	for _, it := range a.Items {
		labels := map[string]string{"alertname": name, "breaker": it.Breaker, "severity": "critical"}
		if a.Kind == KindFlapping || a.Kind == KindBudget || a.Kind == KindCooldown || a.Kind == KindSlow || a.Kind == KindHanging {
			labels["severity"] = "warning"
		}
		if a.Kind == KindBudget {
			delete(labels, "breaker")
		}
		for _, k := range []string{"provider", "model", "operation", "model_group", "scope", "name"} {
			if v := it.Labels[k]; v != "" {
				labels[k] = v
			}
		}
		ann := map[string]string{"summary": a.Title(), "description": it.Reason}
		if a.RunbookURL != "" {
			ann["runbook_url"] = a.RunbookURL
		}
		start := it.OpenedAt
		if start.IsZero() {
			start = it.At
		}
		am := AlertmanagerAlert{Status: status, Labels: labels, Annotations: ann, StartsAt: start,
			GeneratorURL: a.DashboardURL, Fingerprint: it.Key}
		if a.Resolved() {
			am.EndsAt = it.At
		}
		p.Alerts = append(p.Alerts, am)
	}
	return p
}

// Sign returns the signature header value for body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func (w *webhook) Send(ctx context.Context, a *Alert) error {
	var v any = NewPayload(a)
	if w.cfg.Format == "alertmanager" {
		v = NewAlertmanagerPayload(a)
	}
	body, err := json.Marshal(v)
	if err != nil {
		return &SendError{Notifier: w.Name(), Msg: "encode: " + err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL.Value(), bytes.NewReader(body))
	if err != nil {
		return &SendError{Notifier: w.Name(), Msg: "invalid webhook URL"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "breakerd-alerting")
	req.Header.Set("X-Breakerd-Event-Id", a.ID)
	secrets := []string{w.cfg.Secret.Value()}
	for k, v := range w.cfg.Headers {
		req.Header.Set(k, v.Value())
		secrets = append(secrets, v.Value())
	}
	if s := w.cfg.Secret.Value(); s != "" {
		req.Header.Set(SignatureHeader, Sign(s, body))
	}
	return do(w.client, req, w.Name(), secrets...)
}

// do sends req and classifies the outcome. The receiver's answer goes into
// the error with req's URL and secrets scrubbed from it.
func do(client *http.Client, req *http.Request, notifier string, secrets ...string) error {
	resp, err := client.Do(req)
	if err != nil {
		return transportError(notifier, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode >= 300 {
		return httpStatusError(notifier, resp.StatusCode, receiverBody(string(data), req.URL, secrets...))
	}
	return nil
}
