package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// LiteLLM's general_settings.alerting sends breakerd's alerts where
// LiteLLM's would go: "slack" to $SLACK_WEBHOOK_URL, "webhook" to
// $WEBHOOK_URL, alert_to_webhook_url's types to their own webhooks, each
// with the alerts its alert_types map to (all, when unset). What has no
// breakerd equivalent, or no URL, is said.
func TestLiteLLMAlerting(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o, api_key: sk-123456}\ngeneral_settings:\n"
	slackEnv := map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/main", "WEBHOOK_URL": "https://alerts.example/hook"}
	type notifier struct {
		Type, Name, URL string
		Transitions     []string
	}
	for _, tc := range []struct {
		name, yaml string
		env        map[string]string
		want       []notifier
		says       string
	}{
		{name: "slack, every alert", yaml: "  alerting: [slack]\n", env: slackEnv,
			want: []notifier{{"slack", "litellm-slack", "https://hooks.slack.com/services/T/B/main", []string{"budget_spent", "open", "resolved", "cooldown", "flapping", "reminder", "hanging", "slow"}}}},
		{name: "slack and a webhook, some types", yaml: "  alerting: [slack, webhook]\n  alert_types: [llm_exceptions, budget_alerts, daily_reports]\n",
			env: slackEnv, says: `general_settings.alert_types[2]: LiteLLM's "daily_reports" alerts have no breakerd equivalent`,
			want: []notifier{{"slack", "litellm-slack", "https://hooks.slack.com/services/T/B/main", []string{"open", "resolved", "flapping", "reminder", "budget_spent"}},
				{"webhook", "litellm-webhook", "https://alerts.example/hook", []string{"open", "resolved", "flapping", "reminder", "budget_spent"}}}},
		{name: "a type to its own webhook", yaml: "  alerting: [slack]\n  alert_types: [outage_alerts, budget_alerts]\n" +
			"  alert_to_webhook_url:\n    budget_alerts: [\"https://hooks.slack.com/services/T/B/finance\", \"https://hooks.slack.com/services/T/B/ops\"]\n",
			env: slackEnv,
			want: []notifier{{"slack", "litellm-slack", "https://hooks.slack.com/services/T/B/main", []string{"open", "resolved", "flapping", "reminder"}},
				{"slack", "litellm-slack-budget_alerts-1", "https://hooks.slack.com/services/T/B/finance", []string{"budget_spent"}},
				{"slack", "litellm-slack-budget_alerts-2", "https://hooks.slack.com/services/T/B/ops", []string{"budget_spent"}}}},
		{name: "only types without breakerd alerts", yaml: "  alerting: [slack]\n  alert_types: [daily_reports]\n", env: slackEnv,
			says: `general_settings.alert_types[0]: LiteLLM's "daily_reports" alerts have no breakerd equivalent`},
		{name: "types to their own webhooks, without $SLACK_WEBHOOK_URL", yaml: "  alerting: [slack]\n  alert_types: [llm_exceptions, budget_alerts]\n" +
			"  alert_to_webhook_url: {llm_exceptions: \"https://hooks.slack.com/services/T/B/oncall\"}\n",
			says: "general_settings.alerting[0]: slack alerts of the types alert_to_webhook_url does not route (budget_alerts) need $SLACK_WEBHOOK_URL, which is not set: those are not sent",
			want: []notifier{{"slack", "litellm-slack-llm_exceptions-1", "https://hooks.slack.com/services/T/B/oncall", []string{"open", "resolved", "flapping", "reminder"}}}},
		{name: "no webhook URL", yaml: "  alerting: [slack]\n",
			says: "general_settings.alerting[0]: slack alerts need $SLACK_WEBHOOK_URL, which is not set: none are sent"},
		{name: "a channel breakerd does not send to", yaml: "  alerting: [email]\n",
			says: `general_settings.alerting[0]: LiteLLM's "email" alerting is not one breakerd sends`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseExpecting(t, []byte(head+tc.yaml), env(tc.env), "")
			if w := strings.Join(cfg.Warnings, "\n"); !strings.Contains(w, tc.says) {
				t.Fatalf("warnings:\n%s\nwant one saying %q", w, tc.says)
			}
			var got []notifier
			for _, n := range cfg.Alerting.Notifiers {
				got = append(got, notifier{n.Type, n.Name, n.WebhookURL.Value() + n.URL.Value(), n.Transitions})
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("notifiers %+v, want %+v", got, tc.want)
			}
		})
	}
}

// LiteLLM's alerting_threshold sets how slow an answer must be to alert:
// 300 s once LiteLLM's alerting is on, as in LiteLLM; without either,
// breakerd sends no slow alerts.
func TestAlertingThreshold(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o, api_key: sk-123456}\n"
	slackEnv := map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/main"}
	for _, tc := range []struct {
		name, yaml string
		want       time.Duration
	}{
		{"no alerting", "", 0},
		{"LiteLLM's default", "general_settings:\n  alerting: [slack]\n", 300 * time.Second},
		{"set", "general_settings:\n  alerting: [slack]\n  alerting_threshold: 120\n", 2 * time.Minute},
		{"set for breakerd's own alerting", "general_settings:\n  alerting_threshold: 60\n", time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseExpecting(t, []byte(head+tc.yaml), env(slackEnv), "")
			if cfg.Alerting.SlowThreshold != tc.want {
				t.Fatalf("slow threshold %s, want %s", cfg.Alerting.SlowThreshold, tc.want)
			}
		})
	}
}
