package gateway

import (
	"time"

	"github.com/breakerd/breakerd/provider"
)

// Observer receives request-path events. Its methods are called on the
// request goroutine and must not block; metrics record directly, anything
// slower hands off.
type Observer interface {
	// RequestDone is called once per client request.
	RequestDone(RequestInfo)
	// AttemptDone is called after each upstream attempt.
	AttemptDone(AttemptInfo)
	// Skipped is called when a deployment is passed over without an
	// upstream call (reason: "open", "bulkhead_full" or "rate_limited").
	Skipped(d *Deployment, op provider.Operation, reason string)
	// Retried is called before a retry on the same deployment.
	Retried(d *Deployment, op provider.Operation)
	// FellBack is called when a request moves to another deployment;
	// reason is "open", "failure", "bulkhead_full", "rate_limited",
	// "context_window" or "content_policy" (to a group of
	// context_window_fallbacks or content_policy_fallbacks), or
	// "midstream" (a stream that broke goes on there).
	FellBack(group string, from, to *Deployment, reason string)
	// BudgetSpent is called when an answered call uses up b: what it
	// covers is passed over until its window ends, at until. It is called
	// once per window, by the call that crossed the limit.
	BudgetSpent(b *Budget, spent float64, until time.Time)
	// CooledDown is called when a provider's 429 begins a cooldown of d's
	// op: it is passed over, with no breaker failure, until until. A 429
	// that extends a cooldown under way is not reported.
	CooledDown(d *Deployment, op provider.Operation, until time.Time, message string)
	// BatchCharged is called once per batch (the Batch API's) that d ran,
	// when a client first sees it ended: its tokens (usage) and what they
	// cost at d's batch prices (usd, 0 when d has no price).
	BatchCharged(d *Deployment, usage provider.Usage, usd float64)
	// Probed is called after each health check call (Gateway.Probe).
	Probed(ProbeInfo)
	// Hanging is called, from a goroutine of its own, when an attempt
	// at d's op has waited for an answer (a stream, its first chunk) for
	// the slow-alert threshold (config.Alerting.SlowThreshold, when set)
	// and waits still.
	Hanging(d *Deployment, op provider.Operation, waited time.Duration)
}

// RequestInfo describes a finished client request.
type RequestInfo struct {
	Group string
	Op    provider.Operation
	// API is the client's API (chat for chat and embeddings).
	API      provider.API
	Status   int
	Duration time.Duration
	// Overhead is the part of Duration breakerd itself spent until the
	// response began: Duration up to that point minus the time waiting on
	// upstreams and in retry backoff. Zero when no deployment served.
	Overhead time.Duration
	Attempts int
	// Served is the deployment that answered, nil on failure.
	Served   *Deployment
	Fallback bool
	Stream   bool
	// Tried is the last deployment the route reached (Served, when one
	// served); nil when the request reached none. When it is in another
	// group than Group, the request fell back to that group, and Cause is
	// why Group's own deployments were given up: the last one's reason
	// (open, cooldown, timeout, http_503, ...).
	Tried *Deployment
	Cause string
	// FallbackGroups are the other groups the request fell back to, in
	// the order it reached them: the last is Tried's.
	FallbackGroups []string
	// Cached is set when the response cache answered (no upstream call).
	Cached bool
}

// AttemptInfo describes one upstream attempt.
type AttemptInfo struct {
	Deployment *Deployment
	Op         provider.Operation
	Attempt    int
	Duration   time.Duration
	// TTFT is the time to the first streamed chunk (streams only).
	TTFT    time.Duration
	Status  int    // upstream status; 0 for transport errors
	ErrType string // "" on success; else timeout, connection, http_<status>, canceled, stream_cut
	Usage   provider.Usage
	// Remaining is what the upstream said is left of its rate limits,
	// with its answer or its error status (a 429's).
	Remaining provider.Remaining
}

// NopObserver returns an Observer that ignores everything; embed it to
// implement only some methods.
func NopObserver() Observer { return nopObserver{} }

type nopObserver struct{}

func (nopObserver) RequestDone(RequestInfo)                                       {}
func (nopObserver) AttemptDone(AttemptInfo)                                       {}
func (nopObserver) Skipped(*Deployment, provider.Operation, string)               {}
func (nopObserver) Retried(*Deployment, provider.Operation)                       {}
func (nopObserver) FellBack(string, *Deployment, *Deployment, string)             {}
func (nopObserver) BudgetSpent(*Budget, float64, time.Time)                       {}
func (nopObserver) CooledDown(*Deployment, provider.Operation, time.Time, string) {}
func (nopObserver) BatchCharged(*Deployment, provider.Usage, float64)             {}
func (nopObserver) Probed(ProbeInfo)                                              {}
func (nopObserver) Hanging(*Deployment, provider.Operation, time.Duration)        {}

// Observers returns an Observer that calls each of obs in turn.
func Observers(obs ...Observer) Observer { return multi(obs) }

type multi []Observer

func (m multi) RequestDone(r RequestInfo) {
	for _, o := range m {
		o.RequestDone(r)
	}
}

func (m multi) AttemptDone(a AttemptInfo) {
	for _, o := range m {
		o.AttemptDone(a)
	}
}

func (m multi) Skipped(d *Deployment, op provider.Operation, reason string) {
	for _, o := range m {
		o.Skipped(d, op, reason)
	}
}

func (m multi) Retried(d *Deployment, op provider.Operation) {
	for _, o := range m {
		o.Retried(d, op)
	}
}

func (m multi) FellBack(group string, from, to *Deployment, reason string) {
	for _, o := range m {
		o.FellBack(group, from, to, reason)
	}
}

func (m multi) BudgetSpent(b *Budget, spent float64, until time.Time) {
	for _, o := range m {
		o.BudgetSpent(b, spent, until)
	}
}

func (m multi) CooledDown(d *Deployment, op provider.Operation, until time.Time, message string) {
	for _, o := range m {
		o.CooledDown(d, op, until, message)
	}
}

func (m multi) BatchCharged(d *Deployment, usage provider.Usage, usd float64) {
	for _, o := range m {
		o.BatchCharged(d, usage, usd)
	}
}

func (m multi) Probed(p ProbeInfo) {
	for _, o := range m {
		o.Probed(p)
	}
}

func (m multi) Hanging(d *Deployment, op provider.Operation, waited time.Duration) {
	for _, o := range m {
		o.Hanging(d, op, waited)
	}
}
