package dashboards

import (
	"github.com/goccy/go-yaml"
)

// RunbookURL is where rule annotations point.
const RunbookURL = "https://github.com/breakerd/breakerd/blob/main/README.md#runbook-a-circuit-is-open"

// RuleFile is a Prometheus rule file.
type RuleFile struct {
	Groups []RuleGroup `yaml:"groups"`
}

// RuleGroup is a named group of rules.
type RuleGroup struct {
	Name  string `yaml:"name"`
	Rules []Rule `yaml:"rules"`
}

// Rule is one alerting rule.
type Rule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

const breakerLabels = "breaker, provider, model, operation, model_group"

// Rules returns breakerd's alerting rules.
func Rules() RuleFile {
	rule := func(name, expr, forDur, severity, summary, description string) Rule {
		return Rule{Alert: name, Expr: expr, For: forDur, Labels: map[string]string{"severity": severity},
			Annotations: map[string]string{"summary": summary, "description": description, "runbook_url": RunbookURL}}
	}
	return RuleFile{Groups: []RuleGroup{{Name: "breakerd", Rules: []Rule{
		rule("CircuitBreakerOpen",
			// The open state, with the deployment and the class of its last
			// failure joined in; a breaker opened by hand has none.
			"(max by ("+breakerLabels+") (circuit_breaker_state) == 1)"+
				" * on (breaker) group_left (deployment, cause) max by (breaker, deployment, cause) (circuit_breaker_last_failure_info)"+
				" or on (breaker) (max by ("+breakerLabels+") (circuit_breaker_state) == 1)", "1m", "warning",
			"Circuit {{ $labels.breaker }} is open",
			"The circuit for {{ $labels.provider }}/{{ $labels.model }} ({{ $labels.operation }}) has been open for more than 1 minute{{ with $labels.cause }} (last failure: {{ . }}){{ end }}: calls fail fast and go to fallbacks."),
		rule("CircuitBreakerFlapping",
			"sum by ("+breakerLabels+") (increase(circuit_breaker_state_changes_total[15m])) > 6", "", "warning",
			"Circuit {{ $labels.breaker }} is flapping",
			"The circuit changed state {{ $value | printf \"%.0f\" }} times in 15 minutes: the provider is unstable or the thresholds are too tight."),
		rule("HighFailureRatio",
			"max by ("+breakerLabels+") (circuit_breaker_window_failure_ratio) > 0.25", "5m", "warning",
			"High failure ratio on {{ $labels.breaker }}",
			"{{ $value | humanizePercentage }} of recent calls to {{ $labels.provider }}/{{ $labels.model }} failed for 5 minutes."),
		rule("ModelGroupUnavailable",
			"max by (model_group) (breakerd_model_group_routable) == 0", "1m", "critical",
			"Model group {{ $labels.model_group }} cannot be served",
			"No deployment on the route of {{ $labels.model_group }}, fallbacks included, lets calls through: requests for it get 503."),
		rule("DeploymentAtRateLimit",
			"sum by (provider, model) (rate(breakerd_rate_limited_total[5m])) > 0", "10m", "info",
			"{{ $labels.provider }}/{{ $labels.model }} is at its rate limit",
			"For 10 minutes calls have passed over this deployment because it used its configured rpm or tpm, or its provider answered 429: raise the limit (or the provider quota) or add a deployment."),
		rule("ProviderRateLimitExhausted",
			"min by (deployment, provider, model, limit) (breakerd_upstream_rate_limit_remaining) == 0", "1m", "warning",
			"{{ $labels.deployment }} has used its provider's {{ $labels.limit }} limit",
			"For a minute the provider has said no {{ $labels.limit }} are left of this deployment's rate limit: its calls get 429 until the limit's window resets, and traffic moves to fallbacks. Raise the provider quota or add a deployment."),
		rule("BudgetSpent",
			"max by (scope, name) (breakerd_budget_remaining_usd) <= 0", "1m", "warning",
			"The {{ $labels.scope }} budget of {{ $labels.name }} is spent",
			"What answered calls cost has reached this budget's limit: {{ if eq $labels.scope \"provider\" }}every deployment of the provider{{ else }}the deployment{{ end }} is passed over until the budget's window ends, and traffic moves to the others and to fallbacks (429 budget_exceeded when none is left). Raise the budget, or wait for the window."),
		rule("BreakerdUnhealthy",
			"max(breakerd_healthy) == 0", "2m", "critical",
			"breakerd reports unhealthy",
			"/health has answered 503 for 2 minutes: load balancers take breakerd out of rotation."),
		rule("BreakerdDown",
			`up{job="breakerd"} == 0`, "1m", "critical",
			"breakerd is down",
			"Prometheus could not scrape breakerd for 1 minute: the process is down or unreachable."),
	}}}}
}

// WithFor returns rf with every rule's for: set to d: the rules as they
// are, only quicker to fire, for tests and demos (breakerd rules --for).
func (rf RuleFile) WithFor(d string) RuleFile {
	out := RuleFile{}
	for _, g := range rf.Groups {
		ng := RuleGroup{Name: g.Name}
		for _, r := range g.Rules {
			if r.For != "" {
				r.For = d
			}
			ng.Rules = append(ng.Rules, r)
		}
		out.Groups = append(out.Groups, ng)
	}
	return out
}

// RulesYAML renders the rules as a Prometheus rule file.
func RulesYAML() ([]byte, error) { return Rules().YAML() }

// YAML renders rf as a Prometheus rule file.
func (rf RuleFile) YAML() ([]byte, error) {
	body, err := yaml.MarshalWithOptions(rf, yaml.IndentSequence(true))
	if err != nil {
		return nil, err
	}
	return append([]byte("# Generated by `breakerd rules`; do not edit.\n"), body...), nil
}

// PrometheusRuleYAML renders the same rules as a Prometheus Operator
// PrometheusRule manifest.
func PrometheusRuleYAML() ([]byte, error) {
	manifest := map[string]any{
		"apiVersion": "monitoring.coreos.com/v1",
		"kind":       "PrometheusRule",
		"metadata": map[string]any{"name": "breakerd", "labels": map[string]string{
			"app.kubernetes.io/name": "breakerd", "release": "prometheus"}},
		"spec": Rules(),
	}
	body, err := yaml.MarshalWithOptions(manifest, yaml.IndentSequence(true))
	if err != nil {
		return nil, err
	}
	return append([]byte("# Generated by `breakerd rules`; do not edit.\n"), body...), nil
}
