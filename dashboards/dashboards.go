// Package dashboards generates breakerd's Grafana dashboards (with the
// grafana-foundation-sdk) and its Prometheus alert rules from code, so
// that they cannot drift from the metrics the daemon exports: a test parses
// every query and checks each metric and label against a live registry.
package dashboards

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// UIDs of the generated dashboards.
const (
	OverviewUID = "breakerd-circuit-breakers"
	ProviderUID = "breakerd-provider"
)

var ds = dashboard.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}

// Filters applied by the dashboard variables.
const (
	sel      = `provider=~"$provider",model_group=~"$model_group"`
	groupSel = `model_group=~"$model_group"`
)

func target(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).LegendFormat(legend).Range()
}

func datasourceVar() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder("datasource").Label("Data source").Type("prometheus")
}

func queryVar(name, label, query string, multi bool) *dashboard.QueryVariableBuilder {
	v := dashboard.NewQueryVariableBuilder(name).Label(label).
		Query(dashboard.StringOrMap{String: cog.ToPtr(query)}).
		Datasource(ds).Refresh(dashboard.VariableRefreshOnTimeRangeChanged).Sort(dashboard.VariableSortAlphabeticalAsc)
	if multi {
		v = v.Multi(true).IncludeAll(true).AllValue(".*")
	}
	return v
}

// stateMappings colour circuit_breaker_state: 0 closed, 0.5 half-open, 1 open.
func stateMappings() []dashboard.ValueMapping {
	m := dashboard.NewValueMap()
	for v, r := range map[string][2]string{"0": {"closed", "green"}, "0.5": {"half-open", "yellow"}, "1": {"open", "red"}} {
		m.Options[v] = dashboard.ValueMappingResult{Text: cog.ToPtr(r[0]), Color: cog.ToPtr(r[1])}
	}
	return []dashboard.ValueMapping{{ValueMap: m}}
}

func ts(title, unit string, h, w uint32, targets ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().Title(title).Datasource(ds).Unit(unit).Height(h).Span(w)
	for _, t := range targets {
		p = p.WithTarget(t)
	}
	return p
}

func statPanel(title, unit, expr, desc string) *stat.PanelBuilder {
	return stat.NewPanelBuilder().Title(title).Description(desc).Datasource(ds).Unit(unit).Height(4).Span(6).
		WithTarget(prometheus.NewDataqueryBuilder().Expr(expr).Instant())
}

// Overview builds "breakerd: circuit breakers".
func Overview() (dashboard.Dashboard, error) {
	b := dashboard.NewDashboardBuilder("breakerd: circuit breakers").Uid(OverviewUID).
		Tags([]string{"breakerd", "llm", "circuit-breaker"}).Refresh("30s").Time("now-3h", "now").
		Timezone(common.TimeZoneBrowser).Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(datasourceVar()).
		WithVariable(queryVar("provider", "Provider", `label_values(circuit_breaker_state, provider)`, true)).
		WithVariable(queryVar("model_group", "Model group", `label_values(circuit_breaker_state{provider=~"$provider"}, model_group)`, true)).
		Annotation(dashboard.NewAnnotationQueryBuilder().Name("Circuit state changes").Datasource(ds).Enable(true).
			IconColor("red").Expr(`sum by (breaker, from_state, to_state) (increase(circuit_breaker_state_changes_total{` + sel + `}[1m])) > 0`).
			TitleFormat("{{breaker}}: {{from_state}} → {{to_state}}").Step("1m"))

	b = b.WithRow(dashboard.NewRowBuilder("Circuits")).
		WithPanel(statetimeline.NewPanelBuilder().Title("Circuit state over time").
			Description("Each breaker's state: closed, half-open, open (forced open shows as open).").
			Datasource(ds).Height(9).Span(24).Mappings(stateMappings()).ShowValue(common.VisibilityModeNever).
			WithTarget(target(`max by (breaker) (circuit_breaker_state{`+sel+`})`, "{{breaker}}"))).
		WithPanel(ts("Failure ratio by provider", "percentunit", 8, 12,
			target(`sum by (provider) (rate(circuit_breaker_calls_total{outcome="failure",`+sel+`}[$__rate_interval])) / sum by (provider) (rate(circuit_breaker_calls_total{outcome=~"success|failure",`+sel+`}[$__rate_interval]))`, "{{provider}}")).
			Description("Failures over finished calls, per provider.").Min(0).Max(1)).
		WithPanel(ts("Served by a fallback", "percentunit", 8, 12,
			target(`sum by (model_group) (rate(breakerd_requests_served_by_fallback_total{`+groupSel+`}[$__rate_interval])) / sum by (model_group) (rate(breakerd_requests_total{status_code="200",`+groupSel+`}[$__rate_interval]))`, "{{model_group}}")).
			Description("Share of successful requests answered by a deployment other than the group's first choice.").Min(0).Max(1))

	b = b.WithRow(dashboard.NewRowBuilder("Fast-fails and savings")).
		WithPanel(ts("Rejected (fast-failed) calls", "reqps", 8, 12,
			target(`sum by (breaker) (rate(circuit_breaker_calls_total{outcome="rejected",`+sel+`}[$__rate_interval]))`, "{{breaker}}")).
			Description("Calls an open circuit turned away without touching the provider.")).
		WithPanel(statPanel("Upstream calls avoided", "short",
			`sum(increase(breakerd_upstream_calls_avoided_total{provider=~"$provider"}[$__range]))`,
			"Calls not made to providers with an open circuit, over the time range.")).
		WithPanel(statPanel("Spend avoided", "currencyUSD",
			`sum(increase(breakerd_spend_avoided_usd_total{provider=~"$provider"}[$__range]))`,
			"Estimated USD those calls would have cost (configured prices x average tokens per call)."))

	b = b.WithRow(dashboard.NewRowBuilder("Recovery")).
		WithPanel(heatmap.NewPanelBuilder().Title("Recovery time (how long each outage lasted)").Datasource(ds).Height(8).Span(12).
			Description("Outages by duration, first open to close: the seed's recovery time histogram.").
			WithTarget(prometheus.NewDataqueryBuilder().Expr(`sum by (le) (increase(circuit_breaker_open_duration_seconds_bucket{` + sel + `}[$__rate_interval]))`).
				Format(prometheus.PromQueryFormatHeatmap).LegendFormat("{{le}}").Range())).
		WithPanel(ts("Outages closed", "short", 8, 12,
			target(`sum by (breaker) (increase(circuit_breaker_open_duration_seconds_count{`+sel+`}[$__rate_interval]))`, "{{breaker}}")))

	b = b.WithRow(dashboard.NewRowBuilder("Latency")).
		WithPanel(ts("Request latency", "s", 8, 8,
			target(`histogram_quantile(0.5, sum by (le) (rate(breakerd_request_duration_seconds_bucket{`+groupSel+`}[$__rate_interval])))`, "p50"),
			target(`histogram_quantile(0.95, sum by (le) (rate(breakerd_request_duration_seconds_bucket{`+groupSel+`}[$__rate_interval])))`, "p95"),
			target(`histogram_quantile(0.99, sum by (le) (rate(breakerd_request_duration_seconds_bucket{`+groupSel+`}[$__rate_interval])))`, "p99"))).
		WithPanel(ts("Time to first token", "s", 8, 8,
			target(`histogram_quantile(0.5, sum by (le, provider) (rate(breakerd_time_to_first_token_seconds_bucket{provider=~"$provider"}[$__rate_interval])))`, "p50 {{provider}}"),
			target(`histogram_quantile(0.95, sum by (le, provider) (rate(breakerd_time_to_first_token_seconds_bucket{provider=~"$provider"}[$__rate_interval])))`, "p95 {{provider}}"))).
		WithPanel(ts("breakerd overhead", "s", 8, 8,
			target(`histogram_quantile(0.5, sum by (le) (rate(breakerd_overhead_duration_seconds_bucket{`+groupSel+`}[$__rate_interval])))`, "p50"),
			target(`histogram_quantile(0.99, sum by (le) (rate(breakerd_overhead_duration_seconds_bucket{`+groupSel+`}[$__rate_interval])))`, "p99")).
			Description("Time breakerd itself adds to served requests: request time minus upstream waits and retry backoff (also in each response's X-Breakerd-Overhead-Ms)."))

	b = b.WithRow(dashboard.NewRowBuilder("Traffic")).
		WithPanel(ts("Responses by status code", "reqps", 8, 8,
			target(`sum by (status_code) (rate(breakerd_requests_total{`+groupSel+`}[$__rate_interval]))`, "{{status_code}}"))).
		WithPanel(ts("Retries and fallbacks", "reqps", 8, 8,
			target(`sum by (provider) (rate(breakerd_retries_total{provider=~"$provider"}[$__rate_interval]))`, "retries {{provider}}"),
			target(`sum by (reason) (rate(breakerd_fallbacks_total{`+groupSel+`}[$__rate_interval]))`, "fallback: {{reason}}"),
			target(`sum by (provider) (rate(breakerd_rate_limited_total{provider=~"$provider"}[$__rate_interval]))`, "over rpm/tpm {{provider}}"),
			target(`sum by (reason) (rate(breakerd_passed_over_total{provider=~"$provider"}[$__rate_interval]))`, "passed over: {{reason}}"),
			target(`sum by (result) (rate(breakerd_health_checks_total{provider=~"$provider"}[$__rate_interval]))`, "health checks: {{result}}"),
			target(`sum by (model_group) (rate(breakerd_cache_hits_total{`+groupSel+`}[$__rate_interval]))`, "cache hits {{model_group}}"))).
		WithPanel(ts("Bulkhead saturation", "percentunit", 8, 8,
			target(`sum by (deployment) (breakerd_bulkhead_in_flight{provider=~"$provider"}) / sum by (deployment) (breakerd_bulkhead_max_concurrent{provider=~"$provider"} > 0)`, "{{deployment}}"),
			target(`sum by (deployment) (breakerd_bulkhead_queued{provider=~"$provider"})`, "queued {{deployment}}")))

	b = b.WithRow(dashboard.NewRowBuilder("Spend and provider limits")).
		WithPanel(ts("Spend per hour", "currencyUSD", 6, 8,
			target(`sum by (model) (rate(breakerd_spend_usd_total{provider=~"$provider"}[$__rate_interval])) * 3600`, "{{model}}"),
			target(`sum by (model) (rate(breakerd_spend_estimated_usd_total{provider=~"$provider"}[$__rate_interval])) * 3600 > 0`, "estimated {{model}}")).
			Description("Estimated USD an hour at this rate: what the upstream billed where it says (OpenRouter), else calls' tokens at the deployments' prices, prompt-cache tokens at their own. \"estimated\": the part of it for streams that ended before their usage (broken, or left by their client), whose tokens breakerd estimated.")).
		WithPanel(ts("Prompt cache hit ratio", "percentunit", 6, 8,
			target(`sum by (model) (rate(breakerd_cached_tokens_total{type="read",provider=~"$provider"}[$__rate_interval])) / sum by (model) (rate(breakerd_tokens_total{type="input",provider=~"$provider"}[$__rate_interval]))`, "{{model}}")).
			Description("Share of input tokens the providers read from their prompt caches (billed at a fraction of the input price).").Min(0).Max(1)).
		WithPanel(ts("Left of the providers' rate limits", "short", 6, 8,
			target(`min by (deployment, limit) (breakerd_upstream_rate_limit_remaining{provider=~"$provider"})`, "{{deployment}} {{limit}}")).
			Description("Requests and tokens the providers say are left of their own limits, as of each deployment's latest answer; at 0 the provider answers 429 until its window resets.")).
		WithPanel(ts("Left of the budgets", "currencyUSD", 6, 8,
			target(`min by (scope, name) (breakerd_budget_remaining_usd)`, "{{scope}} {{name}}")).
			Description("USD left of each provider's and deployment's budget in its window (provider_budget_config, max_budget); at 0 what it covers is passed over until the window ends."))

	b = b.WithRow(dashboard.NewRowBuilder("Alerts and health")).
		WithPanel(ts("Alert deliveries", "short", 8, 8,
			target(`sum by (notifier) (increase(breakerd_alerts_sent_total[$__rate_interval]))`, "sent {{notifier}}"),
			target(`sum by (notifier) (increase(breakerd_alerts_failed_total[$__rate_interval]))`, "failed {{notifier}}"),
			target(`sum by (notifier) (increase(breakerd_alerts_dropped_total[$__rate_interval]))`, "dropped {{notifier}}"))).
		WithPanel(ts("Model groups that can be served", "short", 8, 8,
			target(`min by (model_group) (breakerd_model_group_routable{`+groupSel+`})`, "{{model_group}}")).Min(0).Max(1)).
		WithPanel(ts("Load shedding", "short", 8, 8,
			target(`sum(rate(breakerd_shed_total[$__rate_interval]))`, "shed req/s"),
			target(`max(breakerd_requests_in_flight)`, "in flight"),
			target(`max(breakerd_requests_unanswered)`, "not yet answered"),
			target(`max(breakerd_requests_at_upstream)`, "waiting on upstreams"),
			target(`max(breakerd_concurrency_limit)`, "limit")).
			Description("Requests answered at once with a 503 because breakerd itself was the bottleneck; the adaptive limit, which bounds the requests not yet answered (a stream counts until its first chunk; those waiting on upstreams only while breakerd is short of CPU), against all requests in flight.")).
		WithPanel(ts("Client connections", "short", 8, 8,
			target(`max(breakerd_connections_open)`, "open"),
			target(`max(breakerd_connections_idle)`, "idle between requests"),
			target(`max(breakerd_connections_limit > 0)`, "limit (server.max_connections)")).
			Description("Client connections on the API listener. Past the limit, or while breakerd is overloaded (refusing requests, or over its latency targets) and twice its concurrency limit are open, new connections wait in the kernel's listen queue. Each open connection holds memory, idle ones included."))
	return b.Build()
}

// Provider builds "breakerd: provider", a drill-down into one provider.
func Provider() (dashboard.Dashboard, error) {
	const psel = `provider="$provider"`
	return dashboard.NewDashboardBuilder("breakerd: provider").Uid(ProviderUID).
		Tags([]string{"breakerd", "llm", "circuit-breaker"}).Refresh("30s").Time("now-3h", "now").
		Timezone(common.TimeZoneBrowser).
		WithVariable(datasourceVar()).
		WithVariable(queryVar("provider", "Provider", `label_values(circuit_breaker_state, provider)`, false)).
		WithPanel(statetimeline.NewPanelBuilder().Title("Breakers").Datasource(ds).Height(8).Span(24).Mappings(stateMappings()).
			WithTarget(target(`max by (breaker) (circuit_breaker_state{`+psel+`})`, "{{breaker}}"))).
		WithPanel(ts("Calls by outcome", "reqps", 8, 12,
			target(`sum by (outcome) (rate(circuit_breaker_calls_total{`+psel+`}[$__rate_interval]))`, "{{outcome}}"))).
		WithPanel(ts("Window failure ratio", "percentunit", 8, 12,
			target(`max by (breaker) (circuit_breaker_window_failure_ratio{`+psel+`})`, "{{breaker}}")).Min(0).Max(1)).
		WithPanel(ts("Upstream attempt latency p95", "s", 8, 12,
			target(`histogram_quantile(0.95, sum by (le, model, operation) (rate(breakerd_upstream_attempt_duration_seconds_bucket{`+psel+`}[$__rate_interval])))`, "{{model}} {{operation}}"))).
		WithPanel(ts("Tokens", "short", 8, 12,
			target(`sum by (model, type) (rate(breakerd_tokens_total{`+psel+`}[$__rate_interval]))`, "{{model}} {{type}}"))).
		Build()
}

// All returns every generated dashboard by file name.
func All() (map[string]dashboard.Dashboard, error) {
	out := map[string]dashboard.Dashboard{}
	for name, build := range map[string]func() (dashboard.Dashboard, error){
		"breakerd-circuit-breakers.json": Overview, "breakerd-provider.json": Provider} {
		d, err := build()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = d
	}
	return out, nil
}

// JSON renders a dashboard as Grafana's dashboard JSON.
func JSON(d dashboard.Dashboard) ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
