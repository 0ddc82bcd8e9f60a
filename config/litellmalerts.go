package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// liteLLMAlertKinds maps LiteLLM's alert_types to the alerts breakerd
// sends for them: breakerd alerts on outages (a deployment's circuit
// opening, and its recovery), provider cooldowns (429) and spent budgets,
// not on each failed call.
// LiteLLM's other types (spend reports, key and team changes, ...) have
// none.
var liteLLMAlertKinds = map[string][]string{
	"llm_too_slow":         {"slow"},
	"llm_requests_hanging": {"hanging"},
	"llm_exceptions":       {"open", "resolved", "flapping", "reminder"},
	"outage_alerts":        {"open", "resolved", "flapping", "reminder"},
	"region_outage_alerts": {"open", "resolved", "flapping", "reminder"},
	"cooldown_deployment":  {"open", "resolved", "cooldown"},
	"budget_alerts":        {"budget_spent"},
}

// liteLLMAlerting adds the notifiers of LiteLLM's general_settings.alerting
// to a: "slack" posts to $SLACK_WEBHOOK_URL (and alert_to_webhook_url's
// webhooks, per alert type), "webhook" to $WEBHOOK_URL, each with the
// alerts of alert_types (all, when unset). A notifier whose variable is
// not set is left out, with a warning.
func (c *converter) liteLLMAlerting(g rawGeneral, a *Alerting) {
	const path = "general_settings"
	// LiteLLM alerts on slow answers after alerting_threshold (300 s by
	// default) once its alerting is on; breakerd, when either is set.
	threshold := g.AlertingThreshold
	if n, ok := threshold.(uint64); ok && n == 0 {
		// LiteLLM's settings reference shows 0 as a placeholder; at 0 it
		// would alert on every answer.
		c.warnf(path+".alerting_threshold", "0 would call every answer slow: it is left out, so LiteLLM's default, 300 s, applies once alerting is on; leave it out, or set the seconds")
		threshold = nil
	}
	if threshold != nil || len(g.Alerting) > 0 {
		a.SlowThreshold = c.duration(path+".alerting_threshold", threshold, 300*time.Second, false)
	}
	if len(g.Alerting) == 0 {
		if len(g.AlertTypes) > 0 || len(g.AlertToWebhookURL) > 0 {
			c.warnf(path+".alerting", "is not set: alert_types and alert_to_webhook_url send nothing without alerting: [slack]")
		}
		return
	}
	// unknown warns about a type that has no breakerd alerts, at at.
	unknown := func(at, t string) {
		c.warnf(at, "LiteLLM's %q alerts have no breakerd equivalent; breakerd sends %s", t,
			"circuit openings and recoveries (llm_exceptions, outage_alerts, region_outage_alerts, cooldown_deployment), spent budgets (budget_alerts), slow answers (llm_too_slow) and hanging calls (llm_requests_hanging)")
	}
	for i, t := range g.AlertTypes {
		if _, ok := liteLLMAlertKinds[t]; !ok {
			unknown(fmt.Sprintf("%s.alert_types[%d]", path, i), t)
		}
	}
	// kindsOf is the union of the alert kinds of types.
	kindsOf := func(types []string) []string {
		var kinds []string
		for _, t := range types {
			for _, k := range liteLLMAlertKinds[t] {
				if !slices.Contains(kinds, k) {
					kinds = append(kinds, k)
				}
			}
		}
		return kinds
	}
	types := g.AlertTypes
	if types == nil {
		types = slices.Sorted(maps.Keys(liteLLMAlertKinds))
	}
	// Types alert_to_webhook_url sends elsewhere leave the default webhook.
	var rest []string
	for _, t := range types {
		if _, routed := g.AlertToWebhookURL[t]; !routed {
			rest = append(rest, t)
		}
	}
	kinds := kindsOf(rest) // without alert_types, LiteLLM's every type: cooldowns too
	if len(kinds) == 0 {
		rest = nil // the types left have no breakerd alerts: no default webhook
	}
	const timeout = 10 * time.Second
	for i, channel := range g.Alerting {
		at := fmt.Sprintf("%s.alerting[%d]", path, i)
		switch channel {
		case "slack":
			// alert_to_webhook_url's types go to their own webhooks, as
			// LiteLLM sends them, with or without $SLACK_WEBHOOK_URL.
			url, ok := c.env("SLACK_WEBHOOK_URL")
			switch {
			case ok && url != "" && len(rest) > 0:
				a.Notifiers = append(a.Notifiers, Notifier{Type: "slack", Name: "litellm-slack", WebhookURL: Secret(url), Transitions: kinds, Timeout: timeout})
			case (!ok || url == "") && len(g.AlertToWebhookURL) == 0:
				c.warnf(at, "slack alerts need $SLACK_WEBHOOK_URL, which is not set: none are sent")
			case !ok || url == "":
				if len(rest) > 0 {
					c.warnf(at, "slack alerts of the types alert_to_webhook_url does not route (%s) need $SLACK_WEBHOOK_URL, which is not set: those are not sent",
						strings.Join(rest, ", "))
				}
			}
			for _, t := range slices.Sorted(maps.Keys(g.AlertToWebhookURL)) {
				p := path + ".alert_to_webhook_url." + t
				var urls []string
				switch v := g.AlertToWebhookURL[t].(type) {
				case string:
					urls = []string{v}
				case []any:
					for _, u := range v {
						if s, ok := u.(string); ok {
							urls = append(urls, s)
						}
					}
				}
				if len(urls) == 0 {
					c.errf(p, "must be a Slack webhook URL, or a list of them")
					continue
				}
				tk := kindsOf([]string{t})
				if len(tk) == 0 {
					unknown(p, t)
					continue
				}
				for j, u := range urls {
					a.Notifiers = append(a.Notifiers, Notifier{Type: "slack", Name: fmt.Sprintf("litellm-slack-%s-%d", t, j+1),
						WebhookURL: Secret(c.resolve(p, u)), Transitions: tk, Timeout: timeout})
				}
			}
		case "webhook":
			url, ok := c.env("WEBHOOK_URL")
			if !ok || url == "" {
				c.warnf(at, "webhook alerts need $WEBHOOK_URL, which is not set: none are sent")
				break
			}
			if len(rest) > 0 {
				a.Notifiers = append(a.Notifiers, Notifier{Type: "webhook", Name: "litellm-webhook", Format: "breakerd", URL: Secret(url),
					Transitions: kinds, Timeout: timeout})
			}
		default:
			c.warnf(at, "LiteLLM's %q alerting is not one breakerd sends (it sends slack and webhook; router_settings.alerting has more: PagerDuty, Alertmanager's format)",
				strings.ToLower(channel))
		}
	}
}
