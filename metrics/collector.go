package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/breakerd/breakerd/breaker"
)

// scrapeCollector reads breaker, bulkhead and event-bus state at scrape
// time, so the request path pays nothing for these metrics.
type scrapeCollector struct{ m *Metrics }

var (
	descState = prometheus.NewDesc("circuit_breaker_state",
		"Circuit breaker state: 0 closed, 0.5 half-open, 1 open (forced open counts as open, disabled as closed).", BreakerLabels, nil)
	descStateInfo = prometheus.NewDesc("circuit_breaker_state_info",
		"1 for the breaker's current state, 0 for the others.", append(BreakerLabels[:5:5], "state"), nil)
	descFailures = prometheus.NewDesc("circuit_breaker_failures_total",
		"Calls that counted as failures.", BreakerLabels, nil)
	descCalls = prometheus.NewDesc("circuit_breaker_calls_total",
		"Calls by outcome: success, failure, ignored, rejected (fast-failed), slow (a subset of success and failure).",
		append(BreakerLabels[:5:5], "outcome"), nil)
	descLastFailure = prometheus.NewDesc("circuit_breaker_last_failure_info",
		"1 for the class of a breaker's latest counted failure (cause: http_<status>, timeout, connection, stream_cut, or a fault of the deployment's own: out_of_credit, account_disabled, model_missing, wrong_path); absent before its first. Alert rules join it to name the cause.",
		append(BreakerLabels[:5:5], "deployment", "cause"), nil)
	descRatio = prometheus.NewDesc("circuit_breaker_window_failure_ratio",
		"Failure ratio (0 to 1) over the breaker's sliding window.", BreakerLabels, nil)
	descInFlight = prometheus.NewDesc("breakerd_bulkhead_in_flight",
		"Calls holding a bulkhead slot.", []string{"deployment", "provider", "model"}, nil)
	descQueued = prometheus.NewDesc("breakerd_bulkhead_queued",
		"Calls waiting for a bulkhead slot.", []string{"deployment", "provider", "model"}, nil)
	descBulkRejected = prometheus.NewDesc("breakerd_bulkhead_rejected_total",
		"Calls turned away by a full bulkhead (or its wait timing out).", []string{"deployment", "provider", "model"}, nil)
	descBulkLimit = prometheus.NewDesc("breakerd_bulkhead_max_concurrent",
		"The bulkhead's concurrency limit (0: none).", []string{"deployment", "provider", "model"}, nil)
	descRateRemaining = prometheus.NewDesc("breakerd_rate_limit_remaining",
		"What is left of a deployment's per-minute limit (limit: requests for rpm, tokens for tpm); only for enforced limits.",
		[]string{"deployment", "provider", "model", "limit"}, nil)
	descUpstreamLeft = prometheus.NewDesc("breakerd_upstream_rate_limit_remaining",
		"Requests or tokens (limit) left of the upstream's own rate limit, as the upstream last said (OpenAI's and Azure's x-ratelimit-*, Anthropic's anthropic-ratelimit-*, with 429s too): until the limit's reset (a minute when it gave none), then its whole size when it gave that, else no series.",
		[]string{"deployment", "provider", "model", "limit"}, nil)
	descBudgetLeft = prometheus.NewDesc("breakerd_budget_remaining_usd",
		"USD left of a budget in its current window (scope proxy: litellm_settings.max_budget; provider: router_settings.provider_budget_config; deployment: its max_budget; tag: litellm_settings.tag_budget_config): its limit less what answered calls cost. At 0 or less, what it covers is passed over (a tag's requests refused) until the window ends.",
		[]string{"scope", "name"}, nil)
	descBudgetLimit = prometheus.NewDesc("breakerd_budget_limit_usd",
		"A budget's limit in USD per window.", []string{"scope", "name", "window"}, nil)
	descCooldown = prometheus.NewDesc("breakerd_cooldown_remaining_seconds",
		"Seconds until a deployment that its provider rate-limited (a 429 that is not a breaker failure) takes calls again; 0 when it does now.",
		[]string{"deployment", "provider", "model", "operation"}, nil)
	descShed = prometheus.NewDesc("breakerd_shed_total",
		"Requests answered at once with a 503 because breakerd was overloaded (load shedding), or at server.max_concurrent_requests.", nil, nil)
	descConcLimit = prometheus.NewDesc("breakerd_concurrency_limit",
		"The adaptive limit on breakerd_requests_unanswered (less breakerd_requests_at_upstream while breakerd keeps up): it shrinks when breakerd's own time per request passes its target, and grows while it is nearly used.", nil, nil)
	descInFlightReq = prometheus.NewDesc("breakerd_requests_in_flight",
		"Client requests breakerd is serving now, streams included.", nil, nil)
	descConnsOpen = prometheus.NewDesc("breakerd_connections_open",
		"Client connections open on the API listener.", nil, nil)
	descConnsIdle = prometheus.NewDesc("breakerd_connections_idle",
		"Of breakerd_connections_open, those idle between requests (kept alive).", nil, nil)
	descConnsLimit = prometheus.NewDesc("breakerd_connections_limit",
		"server.max_connections in force: past it, new client connections wait in the listen queue (0: no limit).", nil, nil)
	descUnanswered = prometheus.NewDesc("breakerd_requests_unanswered",
		"Client requests whose answer has not started yet (a stream counts until its first chunk).", nil, nil)
	descAtUpstream = prometheus.NewDesc("breakerd_requests_at_upstream",
		"Of breakerd_requests_unanswered, those waiting on their upstream call's answer (or first chunk) or to retry; while breakerd keeps up, the adaptive limit does not count them.", nil, nil)
	descRoutable = prometheus.NewDesc("breakerd_model_group_routable",
		"1 when some deployment on the group's route (fallbacks included) lets chat calls through, else 0.", []string{"model_group"}, nil)
	descHealthy = prometheus.NewDesc("breakerd_healthy",
		"1 when /health answers 200 (healthy or degraded), 0 when it answers 503.", nil, nil)
	descDropped = prometheus.NewDesc("breakerd_events_dropped_total",
		"Events a slow subscriber lost.", []string{"subscriber"}, nil)
	descQueue = prometheus.NewDesc("breakerd_events_queue_depth",
		"Events waiting in a subscriber's queue.", []string{"subscriber"}, nil)
)

// Describe implements prometheus.Collector.
func (c *scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descState, descStateInfo, descFailures, descCalls, descRatio, descLastFailure,
		descInFlight, descQueued, descBulkRejected, descBulkLimit, descRateRemaining, descUpstreamLeft, descBudgetLeft, descBudgetLimit, descCooldown, descShed, descConcLimit, descInFlightReq, descUnanswered, descAtUpstream, descConnsOpen, descConnsIdle, descConnsLimit, descRoutable, descHealthy, descDropped, descQueue} {
		ch <- d
	}
}

// StateValue is circuit_breaker_state's value for s.
func StateValue(s breaker.State) float64 {
	switch s {
	case breaker.Open, breaker.ForcedOpen:
		return 1
	case breaker.HalfOpen:
		return 0.5
	}
	return 0
}

// Collect reads every breaker, bulkhead and subscriber at scrape time.
func (c *scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	for _, b := range c.m.src.Registry().All() {
		lv := breakerLabelValues(b)
		st := b.State()
		counts := b.Counts()
		ch <- prometheus.MustNewConstMetric(descState, prometheus.GaugeValue, StateValue(st), lv...)
		for _, s := range breaker.States() {
			v := 0.0
			if s == st {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(descStateInfo, prometheus.GaugeValue, v, append(lv, s.String())...)
		}
		ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(counts.Failures), lv...)
		for _, o := range []struct {
			name string
			v    uint64
		}{{"success", counts.Successes}, {"failure", counts.Failures}, {"ignored", counts.Ignored},
			{"rejected", counts.Rejected}, {"slow", counts.Slow}} {
			ch <- prometheus.MustNewConstMetric(descCalls, prometheus.CounterValue, float64(o.v), append(lv, o.name)...)
		}
		ch <- prometheus.MustNewConstMetric(descRatio, prometheus.GaugeValue, b.Window().FailureRate, lv...)
		if kind, _ := b.LastFailureCause(); kind != "" {
			ch <- prometheus.MustNewConstMetric(descLastFailure, prometheus.GaugeValue, 1, append(lv, b.Labels()["deployment"], kind)...)
		}
	}
	now := c.m.src.Clock().Now()
	for _, grp := range c.m.src.Groups() {
		for _, d := range grp.Deployments {
			lv := []string{d.Config.Name, d.Config.Provider, d.Config.Model}
			for _, op := range d.Operations() {
				left := 0.0
				if until, ok := d.Cooldowns[op].Until(now); ok {
					left = until.Sub(now).Seconds()
				}
				ch <- prometheus.MustNewConstMetric(descCooldown, prometheus.GaugeValue, left, append(lv, string(op))...)
			}
			ch <- prometheus.MustNewConstMetric(descInFlight, prometheus.GaugeValue, float64(d.Bulkhead.InFlight()), lv...)
			ch <- prometheus.MustNewConstMetric(descQueued, prometheus.GaugeValue, float64(d.Bulkhead.Queued()), lv...)
			ch <- prometheus.MustNewConstMetric(descBulkRejected, prometheus.CounterValue, float64(d.Bulkhead.Rejected()), lv...)
			ch <- prometheus.MustNewConstMetric(descBulkLimit, prometheus.GaugeValue, float64(d.Bulkhead.Settings().MaxConcurrent), lv...)
			for _, l := range []struct {
				kind  string
				limit *breaker.RateLimit
			}{{"requests", d.RPM}, {"tokens", d.TPM}} {
				if l.limit != nil {
					ch <- prometheus.MustNewConstMetric(descRateRemaining, prometheus.GaugeValue, l.limit.Remaining(), append(lv, l.kind)...)
				}
			}
			left, known := c.m.rateLimitsLeft(d, now)
			for i, kind := range rateLimitKinds {
				if known[i] {
					ch <- prometheus.MustNewConstMetric(descUpstreamLeft, prometheus.GaugeValue, left[i], append(lv, kind)...)
				}
			}
		}
	}
	for _, b := range c.m.src.Budgets() {
		spent, _ := b.Spent(now)
		ch <- prometheus.MustNewConstMetric(descBudgetLeft, prometheus.GaugeValue, b.Config.Limit-spent, b.Scope, b.Name)
		ch <- prometheus.MustNewConstMetric(descBudgetLimit, prometheus.GaugeValue, b.Config.Limit, b.Scope, b.Name, b.Config.Text)
	}
	for _, grp := range c.m.src.Groups() {
		v := 0.0
		for _, d := range c.m.src.Route(grp.Name) {
			if d.MainBreaker().AllowsAt(now) {
				v = 1
				break
			}
		}
		ch <- prometheus.MustNewConstMetric(descRoutable, prometheus.GaugeValue, v, grp.Name)
	}
	sh := c.m.src.Shedding()
	ch <- prometheus.MustNewConstMetric(descShed, prometheus.CounterValue, float64(sh.Shed))
	ch <- prometheus.MustNewConstMetric(descConcLimit, prometheus.GaugeValue, float64(sh.Limit))
	ch <- prometheus.MustNewConstMetric(descInFlightReq, prometheus.GaugeValue, float64(sh.InFlight))
	ch <- prometheus.MustNewConstMetric(descUnanswered, prometheus.GaugeValue, float64(sh.Unanswered))
	ch <- prometheus.MustNewConstMetric(descAtUpstream, prometheus.GaugeValue, float64(sh.AtUpstream))
	open, idle, limit := c.m.src.Connections()
	ch <- prometheus.MustNewConstMetric(descConnsOpen, prometheus.GaugeValue, float64(open))
	ch <- prometheus.MustNewConstMetric(descConnsIdle, prometheus.GaugeValue, float64(idle))
	ch <- prometheus.MustNewConstMetric(descConnsLimit, prometheus.GaugeValue, float64(limit))
	if c.m.healthy != nil {
		v := 0.0
		if c.m.healthy() {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descHealthy, prometheus.GaugeValue, v)
	}
	if c.m.bus != nil {
		for _, s := range c.m.bus.Stats() {
			ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(s.Dropped), s.Name)
			ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(s.Queued), s.Name)
		}
	}
}
