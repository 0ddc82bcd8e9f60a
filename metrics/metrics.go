// Package metrics exports breakerd's Prometheus metrics from its own
// registry. Breaker and bulkhead state is read at scrape time by a
// Collector; request-path metrics are recorded by the gateway Observer;
// transitions, fallbacks and retries come from the event bus.
package metrics

import (
	"cmp"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/events"
	"github.com/breakerd/breakerd/gateway"
	"github.com/breakerd/breakerd/provider"
)

// BreakerLabels are the labels of every circuit_breaker_* series.
var BreakerLabels = []string{"breaker", "provider", "model", "operation", "model_group"}

// Source is what the metrics read at scrape time.
type Source interface {
	Registry() *breaker.Registry
	Groups() []*gateway.Group
	Route(group string) []*gateway.Deployment
	Clock() breaker.Clock
	// HasGroup reports whether name is a model group (configured, or
	// resolved from a wildcard): request series are labelled only with
	// those, so clients cannot grow them.
	HasGroup(name string) bool
	// Shedding reports load shedding (gateway.Gateway.Shedding).
	Shedding() gateway.ShedState
	// Connections reports the client connections open on the API
	// listener, those of them idle between requests, and
	// server.max_connections in force (zeros when not serving or with
	// no limit).
	Connections() (open, idle, limit int64)
	// Budgets returns the spend limits in force (gateway.Gateway.Budgets).
	Budgets() []*gateway.Budget
}

// Options configure Metrics.
type Options struct {
	// Version is reported by breakerd_build_info.
	Version string
	// Bus, when set, is read for dropped-event counts.
	Bus *events.Bus
	// Healthy, when set, reports /health's verdict for breakerd_healthy.
	Healthy func() bool
	// LiteLLMNames adds the metrics of LiteLLM's Prometheus callback
	// (config.Metrics.LiteLLMNames).
	LiteLLMNames bool
}

// Metrics holds breakerd's registry and instruments.
type Metrics struct {
	reg     *prometheus.Registry
	src     Source
	bus     *events.Bus
	healthy func() bool

	stateChanges *prometheus.CounterVec
	openDuration *prometheus.HistogramVec
	requests     *prometheus.CounterVec
	viaFallback  *prometheus.CounterVec
	reqDuration  *prometheus.HistogramVec
	overhead     *prometheus.HistogramVec
	attemptDur   *prometheus.HistogramVec
	ttft         *prometheus.HistogramVec
	retries      *prometheus.CounterVec
	fallbacks    *prometheus.CounterVec
	tokens       *prometheus.CounterVec
	avoided      *prometheus.CounterVec
	rateLimited  *prometheus.CounterVec
	probes       *prometheus.CounterVec
	cacheHits    *prometheus.CounterVec
	passedOver   *prometheus.CounterVec
	spendAvoided *prometheus.CounterVec
	spend        *prometheus.CounterVec
	// spendEstimated is the part of spend whose usage breakerd estimated.
	spendEstimated *prometheus.CounterVec
	cachedTokens   *prometheus.CounterVec

	reloads *prometheus.CounterVec

	// litellm holds LiteLLM's metrics; nil unless Options.LiteLLMNames.
	litellm *liteLLM

	// usage is built once in New and only read afterwards, so the request
	// path takes no lock.
	usage map[string]*usageAvg // by deployment name

	// groups (by model group) and attempts (by attemptKey) hold the
	// request path's series, resolved on first use: resolving one by its
	// label values hashes each value and takes the vector's lock, several
	// times per request. Emptied on each reload, which replaces
	// deployments.
	groups, attempts sync.Map
	// upstreamLeft holds what each deployment's upstream last said of its
	// rate limits (*upstreamLeft by *gateway.Deployment), read at scrape
	// time so that it can lapse.
	upstreamLeft sync.Map
}

// groupSeries are a model group's series of served requests.
type groupSeries struct {
	ok                 prometheus.Counter // breakerd_requests_total with status 200
	viaFallback        prometheus.Counter
	duration, overhead prometheus.Observer
	cacheHits          prometheus.Counter
}

// attemptKey names a deployment's upstream calls of one operation.
type attemptKey struct {
	d  *gateway.Deployment
	op provider.Operation
}

// attemptSeries are the series of a deployment's calls of one operation.
type attemptSeries struct {
	success, failure prometheus.Observer
	ttft             prometheus.Observer
	in, out          prometheus.Counter
	read, write      prometheus.Counter // prompt-cache tokens
	spend, estimated prometheus.Counter
	usage            *usageAvg      // nil for a deployment added by a reload
	litellm          *liteLLMSeries // nil without LiteLLM's metrics
}

// group returns the request series of model group name.
func (m *Metrics) group(name string) *groupSeries {
	if s, ok := m.groups.Load(name); ok {
		return s.(*groupSeries)
	}
	s, _ := m.groups.LoadOrStore(name, &groupSeries{ok: m.requests.WithLabelValues(name, "200"),
		viaFallback: m.viaFallback.WithLabelValues(name), duration: m.reqDuration.WithLabelValues(name),
		overhead: m.overhead.WithLabelValues(name), cacheHits: m.cacheHits.WithLabelValues(name)})
	return s.(*groupSeries)
}

// attempt returns the series of d's calls of op.
func (m *Metrics) attempt(d *gateway.Deployment, op provider.Operation) *attemptSeries {
	k := attemptKey{d, op}
	if s, ok := m.attempts.Load(k); ok {
		return s.(*attemptSeries)
	}
	c := d.Config
	s, _ := m.attempts.LoadOrStore(k, &attemptSeries{success: m.attemptDur.WithLabelValues(c.Provider, c.Model, string(op), "success"),
		failure: m.attemptDur.WithLabelValues(c.Provider, c.Model, string(op), "error"),
		ttft:    m.ttft.WithLabelValues(c.Provider, c.Model),
		in:      m.tokens.WithLabelValues(c.Provider, c.Model, "input"), out: m.tokens.WithLabelValues(c.Provider, c.Model, "output"),
		read: m.cachedTokens.WithLabelValues(c.Provider, c.Model, "read"), write: m.cachedTokens.WithLabelValues(c.Provider, c.Model, "write"),
		spend: m.spend.WithLabelValues(c.Provider, c.Model), estimated: m.spendEstimated.WithLabelValues(c.Provider, c.Model),
		usage: m.usage[c.Name], litellm: m.liteLLMSeries(d)})
	return s.(*attemptSeries)
}

// upstreamLeft is what a deployment's upstream last said of its rate
// limits, [requests, tokens]: each nil until it says.
type upstreamLeft [2]atomic.Pointer[rateLeft]

// rateLeft is what an upstream said is left of one of its rate limits,
// and until when that holds.
type rateLeft struct {
	left  float64
	until time.Time
	// whole is the limit's size, what is left once until has passed; 0
	// when the upstream did not say.
	whole float64
}

// rateLeftHeld is how long what an upstream said holds when it did not
// say when its limit is whole again: rpm and tpm limits' window.
const rateLeftHeld = time.Minute

// upstreamSaid keeps what d's upstream said of its rate limits at now.
func (m *Metrics) upstreamSaid(d *gateway.Deployment, r provider.Remaining, now time.Time) {
	v, ok := m.upstreamLeft.Load(d)
	if !ok {
		v, _ = m.upstreamLeft.LoadOrStore(d, new(upstreamLeft))
	}
	for i, said := range [2]provider.RateLeft{r.Requests, r.Tokens} {
		if said.Said {
			v.(*upstreamLeft)[i].Store(&rateLeft{left: float64(said.Left), until: now.Add(cmp.Or(said.Reset, rateLeftHeld)),
				whole: float64(said.Limit)})
		}
	}
}

// rateLimitsLeft returns what is left of d's upstream's rate limits at
// now, [requests, tokens]: what it said until the limit's reset (or, with
// none said, for rateLeftHeld), then the limit's whole size; false for a
// limit it has not said, or whose size it did not say once that passed.
// A stale "none left" of an idle deployment would otherwise stay, and
// alert, until its next call.
func (m *Metrics) rateLimitsLeft(d *gateway.Deployment, now time.Time) (left [2]float64, known [2]bool) {
	v, ok := m.upstreamLeft.Load(d)
	if !ok {
		return left, known
	}
	for i := range left {
		switch l := v.(*upstreamLeft)[i].Load(); {
		case l == nil:
		case now.Before(l.until):
			left[i], known[i] = l.left, true
		case l.whole > 0:
			left[i], known[i] = l.whole, true
		}
	}
	return left, known
}

// rateLimitKinds name rateLimitsLeft's limits, in order.
var rateLimitKinds = [2]string{"requests", "tokens"}

// usageAvg tracks the tokens of a deployment's calls, to price the calls
// that fast-failing avoided.
type usageAvg struct {
	calls, in, out, read, write, hour atomic.Uint64
}

// Buckets for durations of LLM calls, which run from milliseconds to
// minutes.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}

// openBuckets are for how long a circuit stayed open.
// overheadBuckets resolve breakerd's own share of a request: tens of
// microseconds when all is well, milliseconds under CPU pressure or
// bulkhead queueing.
var overheadBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}

var openBuckets = []float64{1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200}

// New registers every metric on a new registry and initialises each
// configured breaker's and deployment's series to 0.
func New(src Source, opts Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), src: src, bus: opts.Bus, healthy: opts.Healthy,
		usage: map[string]*usageAvg{}}
	for _, grp := range src.Groups() {
		for _, d := range grp.Deployments {
			m.usage[d.Config.Name] = &usageAvg{}
		}
	}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.stateChanges = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "circuit_breaker_state_changes_total",
		Help: "Circuit breaker state transitions."}, append(BreakerLabels[:5:5], "from_state", "to_state"))
	m.openDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "circuit_breaker_open_duration_seconds",
		Help: "How long each outage (first open to close) lasted: the recovery time.", Buckets: openBuckets}, BreakerLabels)
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "breakerd_requests_total",
		Help: "Client requests by model group and HTTP status code."}, []string{"model_group", "status_code"})
	m.viaFallback = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "breakerd_requests_served_by_fallback_total",
		Help: "Client requests answered by a deployment other than the group's first choice."}, []string{"model_group"})
	m.reqDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "breakerd_request_duration_seconds",
		Help: "Client request duration, retries and fallbacks included.", Buckets: durationBuckets}, []string{"model_group"})
	m.overhead = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "breakerd_overhead_duration_seconds",
		Help:    "Time breakerd itself added to each served request before its response began: the request's time minus upstream waits and retry backoff.",
		Buckets: overheadBuckets}, []string{"model_group"})
	m.attemptDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "breakerd_upstream_attempt_duration_seconds",
		Help: "Duration of each upstream attempt.", Buckets: durationBuckets}, []string{"provider", "model", "operation", "outcome"})
	m.ttft = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "breakerd_time_to_first_token_seconds",
		Help: "Time to the first streamed chunk of each upstream stream.", Buckets: durationBuckets}, []string{"provider", "model"})
	m.retries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "breakerd_retries_total",
		Help: "Retries on the same deployment."}, []string{"provider", "model", "operation"})
	m.fallbacks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "breakerd_fallbacks_total",
		Help: "Requests moved from one deployment to the next, by reason (open, failure, bulkhead_full, rate_limited, context_window, content_policy)."},
		[]string{"model_group", "from", "to", "reason"})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "breakerd_tokens_total",
		Help: "Tokens used, by type (input or output)."}, []string{"provider", "model", "type"})
	m.avoided = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "breakerd_upstream_calls_avoided_total",
		Help: "Upstream calls not made because the deployment's circuit was open."}, []string{"provider", "model", "operation"})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "breakerd_config_reloads_total",
		Help: "Config reloads (SIGHUP, POST /admin/reload) by result: success, or failure (the config in force stayed)."}, []string{"result"})
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("failure")
	m.rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "breakerd_rate_limited_total",
		Help: "Upstream calls not made because the deployment had used its rpm or tpm (with enable_pre_call_checks), or its provider had answered 429 and is cooling down."},
		[]string{"provider", "model", "operation"})
	m.passedOver = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "breakerd_passed_over_total",
		Help: "Deployments passed over without a call because the request did not suit them or their budget was spent, by reason: context_window (the prompt is over its max_input_tokens, with enable_pre_call_checks), unsupported_params (a parameter it cannot take, without drop_params) or budget (its provider's or its own budget is spent)."},
		[]string{"provider", "model", "operation", "reason"})
	m.spend = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "breakerd_spend_usd_total",
		Help: "Estimated USD spent on upstream calls: what the upstream said it billed (OpenRouter's usage.cost), else their tokens at the deployment's prices (configured, else built-in list prices), prompt-cache tokens at their own; a stream that ended before its usage, at an estimate (breakerd_spend_estimated_usd_total); and each finished batch's tokens, once, at its batch prices."},
		[]string{"provider", "model"})
	m.spendEstimated = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "breakerd_spend_estimated_usd_total",
		Help: "The part of breakerd_spend_usd_total whose tokens breakerd estimated: streams that ended before their upstream said their usage (broken, or left by their client), charged the prompt's estimated tokens and the output relayed."},
		[]string{"provider", "model"})
	m.cachedTokens = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "breakerd_cached_tokens_total",
		Help: "Input tokens read from the provider's prompt cache (type read) or written to it (write): parts of breakerd_tokens_total's input."},
		[]string{"provider", "model", "type"})
	m.spendAvoided = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "breakerd_spend_avoided_usd_total",
		Help: "Estimated USD not spent on calls to open circuits (configured prices x the deployment's average tokens per call)."},
		[]string{"provider", "model"})
	m.probes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "breakerd_health_checks_total",
		Help: "Background health check calls (general_settings.background_health_checks), by result: success, failure (counted toward the breaker with enable_health_check_routing), ignored (an answer the breaker does not judge) or skipped (its circuit open or its bulkhead full: no call)."},
		[]string{"provider", "model", "operation", "result"})
	m.cacheHits = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "breakerd_cache_hits_total",
		Help: "Requests answered from the response cache (litellm_settings.cache), with no upstream call; they are counted in breakerd_requests_total too."},
		[]string{"model_group"})
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "breakerd_build_info",
		Help: "breakerd's version and Go version; always 1."}, []string{"version", "goversion"})
	build.WithLabelValues(cmp.Or(opts.Version, "dev"), runtime.Version()).Set(1)
	for _, c := range []prometheus.Collector{m.stateChanges, m.openDuration, m.requests, m.viaFallback, m.reqDuration, m.overhead, m.attemptDur, m.ttft,
		m.retries, m.fallbacks, m.tokens, m.avoided, m.rateLimited, m.passedOver, m.reloads, m.spendAvoided,
		m.spend, m.spendEstimated, m.cachedTokens, m.probes, m.cacheHits, build, &scrapeCollector{m: m},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	if opts.LiteLLMNames {
		m.litellm = newLiteLLM()
		for _, c := range append(m.litellm.collectors(), liteLLMCollector{m}) {
			f(c)
		}
	}
	m.initSeries()
	return m
}

// initSeries makes every configured breaker's and deployment's series
// exist at 0 from startup, so that rate() and alerts work from the first
// scrape.
func (m *Metrics) initSeries() {
	for _, grp := range m.src.Groups() {
		// Every move a request can make along the group's route.
		route := m.src.Route(grp.Name)
		for _, from := range route {
			for _, to := range route {
				if from != to {
					for _, reason := range []string{"open", "failure", "bulkhead_full", "rate_limited"} {
						m.fallbacks.WithLabelValues(grp.Name, from.Config.Name, to.Config.Name, reason)
					}
				}
			}
		}
		m.requests.WithLabelValues(grp.Name, "200")
		m.viaFallback.WithLabelValues(grp.Name)
		m.reqDuration.WithLabelValues(grp.Name)
		m.overhead.WithLabelValues(grp.Name)
		for _, d := range grp.Deployments {
			c := d.Config
			m.liteLLMSeries(d)
			m.tokens.WithLabelValues(c.Provider, c.Model, "input")
			m.tokens.WithLabelValues(c.Provider, c.Model, "output")
			m.spendAvoided.WithLabelValues(c.Provider, c.Model)
			m.spend.WithLabelValues(c.Provider, c.Model)
			m.spendEstimated.WithLabelValues(c.Provider, c.Model)
			m.cachedTokens.WithLabelValues(c.Provider, c.Model, "read")
			m.cachedTokens.WithLabelValues(c.Provider, c.Model, "write")
			m.ttft.WithLabelValues(c.Provider, c.Model)
			for _, op := range d.Operations() {
				m.retries.WithLabelValues(c.Provider, c.Model, string(op))
				m.passedOver.WithLabelValues(c.Provider, c.Model, string(op), "context_window")
				m.passedOver.WithLabelValues(c.Provider, c.Model, string(op), "unsupported_params")
				m.avoided.WithLabelValues(c.Provider, c.Model, string(op))
				if d.RPM != nil || d.TPM != nil {
					m.rateLimited.WithLabelValues(c.Provider, c.Model, string(op))
				}
				m.attemptDur.WithLabelValues(c.Provider, c.Model, string(op), "success")
				b := d.Breakers[op]
				lv := breakerLabelValues(b)
				m.openDuration.WithLabelValues(lv...)
				for _, ft := range [][2]string{{"closed", "open"}, {"open", "half_open"}, {"half_open", "closed"}, {"half_open", "open"}} {
					m.stateChanges.WithLabelValues(append(lv, ft[0], ft[1])...)
				}
			}
		}
	}
}

func breakerLabelValues(b *breaker.Breaker) []string {
	l := b.Labels()
	return []string{b.Name(), l["provider"], l["model"], l["operation"], l["model_group"]}
}

func labelValuesOf(name string, l map[string]string) []string {
	return []string{name, l["provider"], l["model"], l["operation"], l["model_group"]}
}

// Registry returns the Prometheus registry, for tests and extra handlers.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Handle is the event-bus subscriber: transitions, fallbacks and retries.
func (m *Metrics) Handle(e events.Event) {
	switch e.Kind {
	case events.Transition:
		t := e.Transition
		if t.Extends() {
			return // not a state change; it must not feed the flapping rule
		}
		lv := labelValuesOf(t.Breaker, t.Labels)
		m.stateChanges.WithLabelValues(append(lv, t.From.String(), t.To.String())...).Inc()
		if t.To == breaker.Closed && !t.OpenedAt.IsZero() {
			m.openDuration.WithLabelValues(lv...).Observe(t.At.Sub(t.OpenedAt).Seconds())
		}
		if m.litellm != nil {
			m.litellm.transition(t, m.src)
		}
	case events.Fallback:
		m.fallbacks.WithLabelValues(e.Group, e.Deployment, e.To, e.Reason).Inc()
	case events.Retry:
		m.retries.WithLabelValues(e.Labels["provider"], e.Labels["model"], e.Operation).Inc()
	}
}

// ReloadDone counts a config reload, by result (success or failure).
func (m *Metrics) ReloadDone(ok bool) {
	result := "success"
	if !ok {
		result = "failure"
	}
	m.reloads.WithLabelValues(result).Inc()
	if ok {
		// Forget the series of deployments the reload may have removed;
		// the rest are resolved again on first use.
		m.groups.Clear()
		m.attempts.Clear()
		m.upstreamLeft.Clear()
	}
}

// Observer returns the gateway Observer that records request-path metrics.
func (m *Metrics) Observer() gateway.Observer { return observer{m} }

type observer struct{ m *Metrics }

func (o observer) RequestDone(r gateway.RequestInfo) {
	// A call on what an upstream stores (a response, a file, ...) is
	// counted, not timed: a retrieval's milliseconds would hide the
	// model's latency. So is a Realtime session, whose minutes would too.
	timed := !r.API.Stored() && r.API != provider.APIRealtime
	if r.Served != nil && r.Status == http.StatusOK {
		// Answered (200) by a deployment of the group: its series were
		// made at startup, or with its wildcard group, and are kept.
		g := o.m.group(r.Group)
		g.ok.Inc()
		if r.Fallback {
			g.viaFallback.Inc()
		}
		if timed {
			g.duration.Observe(r.Duration.Seconds())
			g.overhead.Observe(r.Overhead.Seconds())
		}
		if l := o.m.litellm; l != nil {
			l.requestDone(r, r.Group, timed)
			if s := o.m.attempt(r.Served, r.Op).litellm; s != nil && timed {
				s.overhead.Observe(r.Overhead.Seconds())
			}
		}
		return
	}
	if !o.m.src.HasGroup(r.Group) {
		// Rejected before its model was read, or an unknown model: keep
		// label values bounded to configured groups.
		r.Group = "unknown"
	}
	if r.Cached {
		o.m.group(r.Group).cacheHits.Inc()
	}
	o.m.requests.WithLabelValues(r.Group, strconv.Itoa(r.Status)).Inc()
	if timed {
		o.m.reqDuration.WithLabelValues(r.Group).Observe(r.Duration.Seconds())
	}
	if l := o.m.litellm; l != nil {
		l.requestDone(r, r.Group, timed)
	}
}

func (o observer) AttemptDone(a gateway.AttemptInfo) {
	s := o.m.attempt(a.Deployment, a.Op)
	if a.ErrType != "" {
		s.failure.Observe(a.Duration.Seconds())
	} else {
		s.success.Observe(a.Duration.Seconds())
	}
	if a.TTFT > 0 {
		s.ttft.Observe(a.TTFT.Seconds())
	}
	if s.litellm != nil {
		o.m.litellm.attemptDone(s.litellm, a)
	}
	if r := a.Remaining; r.Requests.Said || r.Tokens.Said {
		o.m.upstreamSaid(a.Deployment, r, o.m.src.Clock().Now())
	}
	if u := a.Usage; u.InputTokens > 0 || u.OutputTokens > 0 {
		s.in.Add(float64(u.InputTokens))
		s.out.Add(float64(u.OutputTokens))
		s.read.Add(float64(u.CacheReadTokens))
		s.write.Add(float64(u.CacheWriteTokens))
		// Whatever the outcome, as the tokens: a broken stream's were paid for.
		usd := a.Deployment.Config.Cost(u.Tokens())
		s.spend.Add(usd)
		if u.Estimated {
			s.estimated.Add(usd)
		}
		if u := s.usage; u != nil {
			u.calls.Add(1)
			u.in.Add(uint64(a.Usage.InputTokens))
			u.read.Add(uint64(a.Usage.CacheReadTokens))
			u.write.Add(uint64(a.Usage.CacheWriteTokens))
			u.hour.Add(uint64(a.Usage.CacheWriteHourTokens))
			u.out.Add(uint64(a.Usage.OutputTokens))
		}
	}
}

func (o observer) Skipped(d *gateway.Deployment, op provider.Operation, reason string) {
	c := &d.Config
	switch reason {
	case "rate_limited", "cooldown":
		o.m.rateLimited.WithLabelValues(c.Provider, c.Model, string(op)).Inc()
	case "context_window", "unsupported_params", "budget":
		o.m.passedOver.WithLabelValues(c.Provider, c.Model, string(op), reason).Inc()
	}
	if reason != "open" {
		return
	}
	o.m.avoided.WithLabelValues(c.Provider, c.Model, string(op)).Inc()
	var avoided float64
	if u := o.m.usage[c.Name]; u != nil {
		if n := float64(u.calls.Load()); n > 0 {
			avoided = c.Cost(config.Tokens{Input: float64(u.in.Load()) / n, CacheRead: float64(u.read.Load()) / n, CacheWrite: float64(u.write.Load()) / n,
				CacheWriteHour: float64(u.hour.Load()) / n, Output: float64(u.out.Load()) / n})
		}
	}
	if avoided > 0 {
		o.m.spendAvoided.WithLabelValues(c.Provider, c.Model).Add(avoided)
	}
}

func (observer) Retried(*gateway.Deployment, provider.Operation)                   {}
func (observer) FellBack(string, *gateway.Deployment, *gateway.Deployment, string) {}

// BudgetSpent records nothing: breakerd_budget_remaining_usd reads the
// budgets at scrape time.
func (observer) BudgetSpent(*gateway.Budget, float64, time.Time) {}

// CooledDown records nothing: breakerd_cooldown_remaining_seconds reads
// the cooldowns at scrape time, and breakerd_rate_limited_total counts
// the calls they pass over.
func (observer) CooledDown(*gateway.Deployment, provider.Operation, time.Time, string) {}

// Hanging is the alerts' (alerting); a hanging call is seen in the
// metrics when it ends.
func (observer) Hanging(*gateway.Deployment, provider.Operation, time.Duration) {}

// Probed counts a health check call.
func (o observer) Probed(p gateway.ProbeInfo) {
	c := &p.Deployment.Config
	o.m.probes.WithLabelValues(c.Provider, c.Model, string(p.Op), p.Result).Inc()
}

// BatchCharged adds a finished batch's tokens and cost to the deployment's
// (its chat series'), as an answered call's are added.
func (o observer) BatchCharged(d *gateway.Deployment, u provider.Usage, usd float64) {
	s := o.m.attempt(d, provider.Chat)
	s.in.Add(float64(u.InputTokens))
	s.out.Add(float64(u.OutputTokens))
	if usd > 0 {
		s.spend.Add(usd)
	}
}

// liteLLMSeries returns d's LiteLLM series, nil without LiteLLM's
// metrics.
func (m *Metrics) liteLLMSeries(d *gateway.Deployment) *liteLLMSeries {
	if m.litellm == nil {
		return nil
	}
	return m.litellm.series(d)
}

// liteLLMCollector reads LiteLLM's deployment gauges at scrape time.
type liteLLMCollector struct{ m *Metrics }

// Describe implements prometheus.Collector.
func (c liteLLMCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descLiteLLMState
	ch <- descLiteLLMRPM
	ch <- descLiteLLMTPM
	ch <- descLiteLLMBudget
	for _, d := range descLiteLLMLeft {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c liteLLMCollector) Collect(ch chan<- prometheus.Metric) { c.m.litellm.collect(ch, c.m) }
