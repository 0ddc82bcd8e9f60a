package health

import (
	_ "embed"
	"net/http"
	"slices"
	"time"

	"github.com/breakerd/breakerd/breaker"
)

//go:embed status.html
var statusPage []byte

// StatusView is the status page's data. It names providers and models but
// never an upstream URL or key.
type StatusView struct {
	GeneratedAt time.Time       `json:"generated_at"`
	Overall     Report          `json:"overall"`
	Groups      []StatusGroup   `json:"groups"`
	Transitions []StatusTransit `json:"transitions"`
}

// StatusGroup is a model group and its route.
type StatusGroup struct {
	Name        string             `json:"name"`
	Fallbacks   []string           `json:"fallbacks"`
	Deployments []StatusDeployment `json:"deployments"`
}

// StatusDeployment is one deployment on a group's route.
type StatusDeployment struct {
	Name     string          `json:"name"`
	Group    string          `json:"group"`
	Provider string          `json:"provider"`
	Model    string          `json:"model"`
	Fallback bool            `json:"fallback"`
	Breakers []StatusBreaker `json:"breakers"`
	InFlight int             `json:"in_flight"`
	Queued   int             `json:"queued"`
	MaxConc  int             `json:"max_concurrent"`
	// BudgetSpent, while one of the deployment's budgets is spent, says
	// which and until when: it is passed over until then.
	BudgetSpent string `json:"budget_spent,omitempty"`
	// Retired says when the model's vendor retired it (config.Deployment's
	// Retired): its calls fail.
	Retired string `json:"retired,omitempty"`
}

// StatusBreaker is one breaker of a deployment.
type StatusBreaker struct {
	Name        string  `json:"name"`
	Operation   string  `json:"operation"`
	State       string  `json:"state"`
	FailureRate float64 `json:"failure_rate"`
	Calls       uint64  `json:"calls"`
	Rejected    uint64  `json:"rejected"`
	RetryAt     string  `json:"retry_at,omitempty"`
	// Reason is why the breaker entered its state ("5 consecutive
	// failures; last: 503 Service Unavailable: ..."); the rate beside an
	// open breaker may be 0% once its window has moved on, so this says
	// why it opened.
	Reason string `json:"reason"`
	// LastFailure and LastFailureCause say when and why the latest
	// counted failure failed.
	LastFailure      string `json:"last_failure,omitempty"`
	LastFailureCause string `json:"last_failure_cause,omitempty"`
	// CooldownUntil is set while the provider rate limits the deployment
	// (a 429 that is not a failure): it is passed over until then.
	CooldownUntil string `json:"cooldown_until,omitempty"`
}

// statusBreaker is b, doing op, on the status page.
func statusBreaker(b *breaker.Breaker, op string) StatusBreaker {
	snap := b.Snapshot()
	sb := StatusBreaker{Name: snap.Name, Operation: op, State: snap.State.String(),
		FailureRate: snap.Window.FailureRate, Calls: snap.Counts.Calls, Rejected: snap.Counts.Rejected,
		Reason: snap.Reason, LastFailureCause: snap.LastFailureCause}
	if !snap.RetryAt.IsZero() {
		sb.RetryAt = snap.RetryAt.UTC().Format(time.RFC3339)
	}
	if !snap.LastFailure.IsZero() {
		sb.LastFailure = snap.LastFailure.UTC().Format(time.RFC3339)
	}
	return sb
}

// StatusTransit is one recent transition.
type StatusTransit struct {
	At      time.Time `json:"at"`
	Breaker string    `json:"breaker"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Reason  string    `json:"reason"`
}

// Status builds the status page's data: the groups in config order, each
// route in routing order, and the latest transitions first.
func (c *Checker) Status() StatusView {
	v := StatusView{GeneratedAt: c.src.Clock().Now(), Overall: c.Check(false)}
	v.Overall.Circuits = nil // the groups show them
	for _, grp := range c.src.Groups() {
		sg := StatusGroup{Name: grp.Name, Fallbacks: grp.Fallbacks}
		if sg.Fallbacks == nil {
			sg.Fallbacks = []string{}
		}
		for _, d := range c.routeOf(grp.Name) {
			sd := StatusDeployment{Name: d.Config.Name, Group: d.Config.Group, Provider: d.Config.Provider, Model: d.Config.Model,
				Fallback: d.Config.Group != grp.Name, InFlight: d.Bulkhead.InFlight(), Queued: d.Bulkhead.Queued(),
				MaxConc: d.Bulkhead.Settings().MaxConcurrent, Retired: d.Config.Retired}
			sd.BudgetSpent, _ = d.OverBudget(v.GeneratedAt)
			for _, op := range d.Operations() {
				sb := statusBreaker(d.Breakers[op], string(op))
				if until, ok := d.Cooldowns[op].Until(v.GeneratedAt); ok {
					sb.CooldownUntil = until.UTC().Format(time.RFC3339)
				}
				sd.Breakers = append(sd.Breakers, sb)
			}
			sg.Deployments = append(sg.Deployments, sd)
		}
		v.Groups = append(v.Groups, sg)
	}
	// LiteLLM's pass-through endpoints (gateway's passthrough: breakers),
	// each a route of one.
	for _, b := range c.src.Registry().All() {
		if l := b.Labels(); l["operation"] == "passthrough" {
			v.Groups = append(v.Groups, StatusGroup{Name: "pass-through " + l["model_group"], Fallbacks: []string{},
				Deployments: []StatusDeployment{{Name: b.Name(), Group: l["model_group"], Provider: l["provider"],
					Breakers: []StatusBreaker{statusBreaker(b, "passthrough")}}}})
		}
	}
	var ts []breaker.Transition
	for _, b := range c.src.Registry().All() {
		ts = append(ts, b.Snapshot().History...)
	}
	slices.SortFunc(ts, func(a, b breaker.Transition) int { return b.At.Compare(a.At) })
	v.Transitions = []StatusTransit{}
	for i, t := range ts {
		if i == 25 {
			break
		}
		v.Transitions = append(v.Transitions, StatusTransit{At: t.At, Breaker: t.Breaker, From: t.From.String(), To: t.To.String(), Reason: t.Reason})
	}
	return v
}

// StatusHandler serves the status page's JSON.
func (c *Checker) StatusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, http.StatusOK, c.Status())
	})
}

// PageHandler serves the status page itself.
func PageHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'")
		_, _ = w.Write(statusPage)
	})
}
