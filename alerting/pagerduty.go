package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/breakerd/breakerd/config"
)

// pagerDuty sends Events API v2 events: trigger on open, resolve on close,
// deduplicated by the outage's key.
type pagerDuty struct {
	cfg    config.Notifier
	client *http.Client
}

func (p *pagerDuty) Name() string { return p.cfg.Name }

// PagerDutyEvent is an Events API v2 event.
type PagerDutyEvent struct {
	RoutingKey  string              `json:"routing_key"`
	EventAction string              `json:"event_action"`
	DedupKey    string              `json:"dedup_key"`
	Payload     *PagerDutyPayload   `json:"payload,omitempty"`
	Links       []map[string]string `json:"links,omitempty"`
}

// PagerDutyPayload is an event's payload (trigger only).
type PagerDutyPayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class"`
	CustomDetails map[string]any `json:"custom_details"`
}

func (p *pagerDuty) Send(ctx context.Context, a *Alert) error {
	for _, it := range a.Items {
		ev := PagerDutyEvent{RoutingKey: p.cfg.RoutingKey.Value(), DedupKey: "breakerd-" + it.Key}
		switch a.Kind {
		case KindResolved:
			ev.EventAction = "resolve"
		case KindOpen, KindReminder, KindFlapping, KindTest:
			ev.EventAction = "trigger"
			sev := "critical"
			if a.Kind == KindFlapping || a.Kind == KindTest {
				sev = "warning"
			}
			if a.Kind == KindTest {
				ev.DedupKey = "breakerd-test-" + a.ID
			}
			ev.Payload = &PagerDutyPayload{Summary: fmt.Sprintf("%s (%s)", a.Title(), it.Reason), Source: "breakerd",
				Severity: sev, Component: it.Labels["provider"], Group: it.Labels["model_group"], Class: "circuit_breaker",
				CustomDetails: map[string]any{"breaker": it.Breaker, "reason": it.Reason, "failures": it.Counts.Failures,
					"failure_rate": it.Window.FailureRate, "fallback": it.Fallback, "labels": it.Labels}}
		default:
			continue // half-open is not an incident
		}
		for _, l := range [][2]string{{a.DashboardURL, "Dashboard"}, {a.RunbookURL, "Runbook"}} {
			if l[0] != "" {
				ev.Links = append(ev.Links, map[string]string{"href": l[0], "text": l[1]})
			}
		}
		body, _ := json.Marshal(ev)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.EventsURL, bytes.NewReader(body))
		if err != nil {
			return &SendError{Notifier: p.Name(), Msg: "invalid events URL"}
		}
		req.Header.Set("Content-Type", "application/json")
		if err := do(p.client, req, p.Name(), p.cfg.RoutingKey.Value()); err != nil {
			return err
		}
	}
	return nil
}
