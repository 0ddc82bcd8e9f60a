package metrics

import (
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/gateway"
	"github.com/breakerd/breakerd/provider"
)

// liteLLM holds the metrics of LiteLLM's Prometheus callback, under the
// names and label names a scrape of LiteLLM shows (its Python client adds
// _total to a counter's name), for the dashboards and alert rules an operator
// wrote for a LiteLLM proxy (Options.LiteLLMNames). breakerd sets the
// labels it knows: the model group, the deployment and its provider;
// LiteLLM's per-key, team and user labels are not there, and model_id is
// the deployment's name (model_info.id when set, as in LiteLLM).
type liteLLM struct {
	deployTotal, deploySuccess, deployFailure *prometheus.CounterVec
	cooledDown                                *prometheus.CounterVec
	proxyTotal, proxyFailed                   *prometheus.CounterVec
	requestLatency, apiLatency                *prometheus.HistogramVec
	inputTokens, outputTokens, totalTokens    *prometheus.CounterVec
	ttft, overhead, perToken                  *prometheus.HistogramVec
	requests, spend                           *prometheus.CounterVec
	fallbackOK, fallbackFailed                *prometheus.CounterVec
}

// Label names of LiteLLM's deployment metrics.
var (
	liteLLMDeployment = []string{"litellm_model_name", "model_id", "api_base", "api_provider"}
	liteLLMCall       = append([]string{"requested_model"}, liteLLMDeployment...)
	liteLLMModel      = []string{"model", "requested_model", "model_id"}
	liteLLMSpend      = []string{"model", "model_id", "api_provider"}
	liteLLMFallback   = []string{"requested_model", "fallback_model", "exception_status", "exception_class", "model_id"}
	liteLLMRemaining  = []string{"model_group", "api_provider", "api_base", "litellm_model_name", "model_id"}
)

// liteLLMLatencyBuckets are LiteLLM's LATENCY_BUCKETS.
var liteLLMLatencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 420, 600}

var (
	descLiteLLMState = prometheus.NewDesc("litellm_deployment_state",
		"LLM Deployment Analytics - The state of the deployment: 0 = healthy, 1 = partial outage, 2 = complete outage (breakerd: its chat circuit open, or a 429 cooldown, is 2; half-open, or failures in its window, 1).",
		liteLLMDeployment, nil)
	descLiteLLMRPM    = prometheus.NewDesc("litellm_deployment_rpm_limit", "Deployment RPM limit found in config", liteLLMDeployment, nil)
	descLiteLLMTPM    = prometheus.NewDesc("litellm_deployment_tpm_limit", "Deployment TPM limit found in config", liteLLMDeployment, nil)
	descLiteLLMBudget = prometheus.NewDesc("litellm_provider_remaining_budget_metric",
		"Remaining budget for provider - used when you set provider budget limits", []string{"api_provider"}, nil)
	// descLiteLLMLeft are LiteLLM's remaining requests and tokens, in
	// rateLimitKinds' order.
	descLiteLLMLeft = [2]*prometheus.Desc{
		prometheus.NewDesc("litellm_remaining_requests_metric",
			"LLM Deployment Analytics - remaining requests for model, returned from LLM API Provider", liteLLMRemaining, nil),
		prometheus.NewDesc("litellm_remaining_tokens_metric",
			"remaining tokens for model, returned from LLM API Provider", liteLLMRemaining, nil),
	}
)

func newLiteLLM() *liteLLM {
	counter := func(name, help string, labels []string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	histogram := func(name, help string, labels []string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: liteLLMLatencyBuckets}, labels)
	}
	return &liteLLM{
		deployTotal: counter("litellm_deployment_total_requests_total",
			"LLM Deployment Analytics - Total number of LLM API calls via litellm - success + failure", liteLLMCall),
		deploySuccess: counter("litellm_deployment_success_responses_total",
			"LLM Deployment Analytics - Total number of successful LLM API calls via litellm", liteLLMCall),
		deployFailure: counter("litellm_deployment_failure_responses_total",
			"LLM Deployment Analytics - Total number of failed LLM API calls to a specific LLM deploymeny. exception_status is the status of the exception from the llm api",
			append(liteLLMCall[:len(liteLLMCall):len(liteLLMCall)], "exception_status", "exception_class")),
		cooledDown: counter("litellm_deployment_cooled_down_total",
			"LLM Deployment Analytics - Number of times a deployment has been cooled down by LiteLLM load balancing logic (breakerd: its chat circuit opened). exception_status is the status of the exception that caused the deployment to be cooled down",
			append(liteLLMDeployment[:4:4], "exception_status")),
		proxyTotal: counter("litellm_proxy_total_requests_metric_total",
			"Total number of requests made to the proxy server - track number of client side requests", []string{"requested_model", "status_code", "route"}),
		proxyFailed: counter("litellm_proxy_failed_requests_metric_total",
			"Total number of failed responses from proxy - the client did not get a success response from litellm proxy",
			[]string{"requested_model", "exception_status", "exception_class", "route"}),
		requestLatency: histogram("litellm_request_total_latency_metric", "Total latency (seconds) for a request to LiteLLM",
			[]string{"requested_model", "model_id"}),
		apiLatency:   histogram("litellm_llm_api_latency_metric", "Total latency (seconds) for a models LLM API call", liteLLMModel),
		inputTokens:  counter("litellm_input_tokens_metric_total", "Total number of input tokens from LLM requests", liteLLMModel),
		outputTokens: counter("litellm_output_tokens_metric_total", "Total number of output tokens from LLM requests", liteLLMModel),
		totalTokens:  counter("litellm_total_tokens_metric_total", "Total number of input + output tokens from LLM requests", liteLLMModel),
		ttft: histogram("litellm_llm_api_time_to_first_token_metric", "Time to first token for a models LLM API call",
			liteLLMModel),
		overhead: histogram("litellm_overhead_latency_metric", "Latency overhead (milliseconds) added by LiteLLM processing (breakerd: in seconds, as LiteLLM observes it)",
			append([]string{"model_group", "api_provider", "api_base", "litellm_model_name"}, "model_id")),
		perToken: histogram("litellm_deployment_latency_per_output_token", "LLM Deployment Analytics - Latency per output token",
			liteLLMDeployment),
		requests: counter("litellm_requests_metric_total", "Total number of LLM calls to litellm - track total per API Key, team, user",
			liteLLMSpend),
		spend: counter("litellm_spend_metric_total",
			"Total spend on LLM requests (breakerd: USD, what the upstream said it billed, else from the deployment's input_cost_per_token and output_cost_per_token or its built-in prices)",
			liteLLMSpend),
		fallbackOK: counter("litellm_deployment_successful_fallbacks_total",
			"LLM Deployment Analytics - Number of successful fallback requests from primary model -> fallback model",
			liteLLMFallback),
		fallbackFailed: counter("litellm_deployment_failed_fallbacks_total",
			"LLM Deployment Analytics - Number of failed fallback requests from primary model -> fallback model",
			liteLLMFallback),
	}
}

func (l *liteLLM) collectors() []prometheus.Collector {
	return []prometheus.Collector{l.deployTotal, l.deploySuccess, l.deployFailure, l.cooledDown, l.proxyTotal, l.proxyFailed,
		l.requestLatency, l.apiLatency, l.inputTokens, l.outputTokens, l.totalTokens, l.ttft, l.overhead, l.perToken, l.requests, l.spend,
		l.fallbackOK, l.fallbackFailed}
}

// liteLLMSeries are a deployment's LiteLLM series, resolved once.
type liteLLMSeries struct {
	total, success          prometheus.Counter
	latency, ttft           prometheus.Observer
	overhead, perToken      prometheus.Observer
	input, output, combined prometheus.Counter
	requests, spend         prometheus.Counter
	call                    []string // requested_model and the deployment's labels, for failures
}

func (l *liteLLM) series(d *gateway.Deployment) *liteLLMSeries {
	call := liteLLMCallLabels(d)
	model := []string{d.Config.Model, d.Config.Group, d.Config.Name}
	spend := []string{d.Config.Model, d.Config.Name, d.Config.Provider}
	dl := liteLLMDeploymentLabels(d) // litellm_model_name, model_id, api_base, api_provider
	return &liteLLMSeries{overhead: l.overhead.WithLabelValues(d.Config.Group, dl[3], dl[2], dl[0], dl[1]),
		perToken: l.perToken.WithLabelValues(dl...), total: l.deployTotal.WithLabelValues(call...), success: l.deploySuccess.WithLabelValues(call...),
		latency: l.apiLatency.WithLabelValues(model...), ttft: l.ttft.WithLabelValues(model...), input: l.inputTokens.WithLabelValues(model...),
		output: l.outputTokens.WithLabelValues(model...), combined: l.totalTokens.WithLabelValues(model...),
		requests: l.requests.WithLabelValues(spend...), spend: l.spend.WithLabelValues(spend...), call: call}
}

// attemptDone counts an upstream call, as LiteLLM's deployment metrics do:
// a call that succeeded also counts in requests and its cost in spend,
// and a stream's time to its first chunk is observed.
func (l *liteLLM) attemptDone(s *liteLLMSeries, a gateway.AttemptInfo) {
	s.total.Inc()
	s.latency.Observe(a.Duration.Seconds())
	if a.TTFT > 0 {
		s.ttft.Observe(a.TTFT.Seconds())
	}
	if a.ErrType == "" {
		s.success.Inc()
		s.requests.Inc()
		if n := a.Usage.OutputTokens; n > 0 {
			s.perToken.Observe(a.Duration.Seconds() / float64(n))
		}
		u := a.Usage
		s.spend.Add(a.Deployment.Config.Cost(u.Tokens()))
	} else if a.ErrType != "canceled" {
		status := liteLLMStatus(a.Status, a.ErrType)
		l.deployFailure.WithLabelValues(append(s.call[:len(s.call):len(s.call)], status, liteLLMExceptionClass(status))...).Inc()
	}
	if n := a.Usage.InputTokens + a.Usage.OutputTokens; n > 0 {
		s.input.Add(float64(a.Usage.InputTokens))
		s.output.Add(float64(a.Usage.OutputTokens))
		s.combined.Add(float64(n))
	}
}

// requestDone counts a client request, as LiteLLM's proxy metrics do;
// group is already bounded to the configured groups.
func (l *liteLLM) requestDone(r gateway.RequestInfo, group string, timed bool) {
	route := liteLLMRoutes[r.API]
	if r.Op == provider.Embeddings {
		route = "/v1/embeddings"
	}
	status := strconv.Itoa(r.Status)
	l.proxyTotal.WithLabelValues(group, status, route).Inc()
	modelID := ""
	if r.Served != nil {
		modelID = r.Served.Config.Name
	}
	if timed {
		l.requestLatency.WithLabelValues(group, modelID).Observe(r.Duration.Seconds())
	}
	if r.Status >= 400 {
		l.proxyFailed.WithLabelValues(group, status, liteLLMExceptionClass(status), route).Inc()
	}
	if n := len(r.FallbackGroups); n > 0 {
		// Each group fell back to failed but the last, which served or
		// failed too, as LiteLLM counts its fallbacks.
		cause, class := liteLLMCause(r.Cause)
		for i, fg := range r.FallbackGroups {
			counter, modelID := l.fallbackFailed, ""
			if i == n-1 {
				if r.Served != nil {
					counter = l.fallbackOK
				}
				if r.Tried != nil {
					modelID = r.Tried.Config.Name
				}
			}
			counter.WithLabelValues(group, fg, cause, class, modelID).Inc()
		}
	}
}

// liteLLMCause is the status and class of LiteLLM's exception for the
// reason a group's deployments were given up (RequestInfo.Cause): with
// none available (circuits open, cooling down, rate-limited, bulkheads
// full), LiteLLM's router raises a 429; "" for no reason known.
func liteLLMCause(reason string) (status, class string) {
	switch reason {
	case "":
		return "", ""
	case "open", "cooldown", "rate_limited", "bulkhead_full":
		status = "429"
	case provider.ContextWindow:
		return "400", "ContextWindowExceededError"
	case provider.ContentPolicy:
		return "400", "ContentPolicyViolationError"
	case "unsupported_params":
		status = "400"
	default:
		status = liteLLMStatus(0, reason)
	}
	return status, liteLLMExceptionClass(status)
}

// transition counts a deployment's main circuit (chat's) opening as
// LiteLLM counts a cooldown.
func (l *liteLLM) transition(t breaker.Transition, src Source) {
	if t.To != breaker.Open {
		return
	}
	for _, grp := range src.Groups() {
		for _, d := range grp.Deployments {
			if d.Config.Name != t.Labels["deployment"] || t.Labels["operation"] != string(d.Operations()[0]) {
				continue
			}
			kind, _ := d.MainBreaker().LastFailureCause()
			l.cooledDown.WithLabelValues(append(liteLLMDeploymentLabels(d), liteLLMStatus(0, kind))...).Inc()
			return
		}
	}
}

// collect reads each deployment's state, its configured limits, and what
// its upstream said is left of its own (as breakerd_upstream_rate_limit_remaining).
func (l *liteLLM) collect(ch chan<- prometheus.Metric, m *Metrics) {
	now := m.src.Clock().Now()
	for _, b := range m.src.Budgets() {
		if b.Scope == "provider" {
			spent, _ := b.Spent(now)
			ch <- prometheus.MustNewConstMetric(descLiteLLMBudget, prometheus.GaugeValue, b.Config.Limit-spent, b.Name)
		}
	}
	for _, grp := range m.src.Groups() {
		for _, d := range grp.Deployments {
			lv := liteLLMDeploymentLabels(d)
			ch <- prometheus.MustNewConstMetric(descLiteLLMState, prometheus.GaugeValue, liteLLMState(d, now), lv...)
			if c := d.Config; c.RPM > 0 {
				ch <- prometheus.MustNewConstMetric(descLiteLLMRPM, prometheus.GaugeValue, c.RPM, lv...)
			}
			if c := d.Config; c.TPM > 0 {
				ch <- prometheus.MustNewConstMetric(descLiteLLMTPM, prometheus.GaugeValue, c.TPM, lv...)
			}
			left, known := m.rateLimitsLeft(d, now)
			for i, desc := range descLiteLLMLeft {
				if known[i] { // model_group, api_provider, api_base, litellm_model_name, model_id
					ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, left[i], d.Config.Group, lv[3], lv[2], lv[0], lv[1])
				}
			}
		}
	}
}

// liteLLMState is litellm_deployment_state for d: 2 (complete outage)
// when its main circuit (chat's) is open or its provider's 429 holds it,
// 1 (partial outage) when half-open or with failures in its window, else
// 0.
func liteLLMState(d *gateway.Deployment, now time.Time) float64 {
	b := d.MainBreaker()
	if _, held := d.Cooldowns[d.Operations()[0]].Until(now); held {
		return 2
	}
	switch b.State() {
	case breaker.Open, breaker.ForcedOpen:
		return 2
	case breaker.HalfOpen:
		return 1
	}
	if b.Window().FailureRate > 0 {
		return 1
	}
	return 0
}

// liteLLMDeploymentLabels are a deployment's LiteLLM labels:
// litellm_model_name (litellm_params.model as written), model_id,
// api_base (without credentials or query) and api_provider.
func liteLLMDeploymentLabels(d *gateway.Deployment) []string {
	c := d.Config
	return []string{c.ModelRef, c.Name, c.PublicBase(), c.Provider}
}

func liteLLMCallLabels(d *gateway.Deployment) []string {
	return append([]string{d.Config.Group}, liteLLMDeploymentLabels(d)...)
}

// liteLLMStatus is LiteLLM's exception_status: the upstream's HTTP
// status, or for a call without one what broke it (timeout: 408, as
// LiteLLM's Timeout is).
func liteLLMStatus(status int, errType string) string {
	switch {
	case status > 0:
		return strconv.Itoa(status)
	case strings.HasPrefix(errType, "http_"):
		return strings.TrimPrefix(errType, "http_")
	case errType == "timeout":
		return "408"
	case errType == "":
		return ""
	}
	return "500" // a connection that failed or a stream that broke: LiteLLM's APIConnectionError
}

// liteLLMExceptionClass is the class of LiteLLM's exception for an HTTP
// status (LiteLLM's exception_mapping).
func liteLLMExceptionClass(status string) string {
	if c, ok := liteLLMExceptions[status]; ok {
		return c
	}
	if strings.HasPrefix(status, "5") {
		return "APIError"
	}
	return "BadRequestError"
}

var liteLLMExceptions = map[string]string{"400": "BadRequestError", "401": "AuthenticationError", "403": "PermissionDeniedError",
	"404": "NotFoundError", "408": "Timeout", "413": "BadRequestError", "422": "UnprocessableEntityError", "429": "RateLimitError",
	"500": "InternalServerError", "502": "APIConnectionError", "503": "ServiceUnavailableError", "504": "Timeout"}

// liteLLMRoutes are the route label's values: the API's path.
var liteLLMRoutes = map[provider.API]string{"": "/v1/chat/completions", provider.APIChat: "/v1/chat/completions",
	provider.APIResponses: "/v1/responses", provider.APIMessages: "/v1/messages", provider.APICompletions: "/v1/completions",
	provider.APICompact: "/v1/responses/compact", provider.APITranscriptions: "/v1/audio/transcriptions",
	provider.APITranslations: "/v1/audio/translations", provider.APISpeech: "/v1/audio/speech", provider.APIImages: "/v1/images/generations",
	provider.APIImageEdits: "/v1/images/edits", provider.APIImageVariations: "/v1/images/variations", provider.APIModerations: "/v1/moderations",
	provider.APIStoredResponses: "/v1/responses/{response_id}", provider.APIConversations: "/v1/conversations",
	provider.APIFiles: "/v1/files", provider.APIBatches: "/v1/batches", provider.APIVectorStores: "/v1/vector_stores", provider.APIContainers: "/v1/containers",
	provider.APIRealtime: "/v1/realtime", provider.APIRerank: "/v1/rerank", provider.APIStoredChat: "/v1/chat/completions/{completion_id}",
	provider.APIUploads: "/v1/uploads", provider.APIFineTuning: "/v1/fine_tuning/jobs", provider.APIVideos: "/v1/videos"}
