// Package health judges breakerd's health from its breakers, for load
// balancers (/health), for the seed guide's /health/circuit-breakers, and
// for the status page. It keeps no state of its own: every answer is read
// from the breakers at that moment.
package health

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/gateway"
)

// Status is the overall verdict.
type Status string

const (
	// Healthy: every circuit is closed.
	Healthy Status = "healthy"
	// Degraded: some circuit is not closed or some group runs on a
	// fallback, but the policy's groups can be served (200).
	Degraded Status = "degraded"
	// Unhealthy: the policy says breakerd cannot serve (503).
	Unhealthy Status = "unhealthy"
)

// Source is what health reads: the groups with their routes and breakers,
// and the breakers' clock.
type Source interface {
	Groups() []*gateway.Group
	Route(group string) []*gateway.Deployment
	// AliasOf returns the group a model_group_alias of name sends its
	// requests to, if there is one.
	AliasOf(name string) (group string, ok bool)
	Registry() *breaker.Registry
	Clock() breaker.Clock
}

// Checker applies a policy to a Source.
type Checker struct {
	src    Source
	policy config.Health
}

// New returns a Checker. A zero policy is the routable policy with its
// defaults.
func New(src Source, policy config.Health) *Checker {
	if policy.Policy == "" {
		policy.Policy = "routable"
	}
	if policy.OpenFraction == 0 {
		policy.OpenFraction = 0.5
	}
	return &Checker{src: src, policy: policy}
}

// Circuit is one breaker in a report, in the seed's shape.
type Circuit struct {
	State       string  `json:"state"`
	Healthy     bool    `json:"healthy"`
	FailureRate float64 `json:"failure_rate"`
}

// Group is one model group's routability (verbose reports only).
type Group struct {
	Name     string `json:"name"`
	Critical bool   `json:"critical"`
	Routable bool   `json:"routable"`
	// ServedBy is the first deployment on the route that takes calls now:
	// its breaker lets them through, and neither its provider's 429
	// cooldown nor a spent budget passes it over; empty when none does.
	// Routable judges by the breakers alone.
	ServedBy    string `json:"served_by,omitempty"`
	Fallback    bool   `json:"fallback"`
	RetryAt     string `json:"retry_at,omitempty"`
	Deployments []Dep  `json:"deployments"`
}

// Dep is a deployment on a group's route (verbose reports only).
type Dep struct {
	Name     string `json:"name"`
	Provider string `json:"provider"`
	Model    string `json:"model"`
	State    string `json:"state"`
}

// Report is the /health body.
type Report struct {
	Healthy  bool               `json:"healthy"`
	Status   Status             `json:"status"`
	Circuits map[string]Circuit `json:"circuits,omitempty"` // omitted on the status page, whose groups show them
	Summary  string             `json:"summary"`
	// Reason says why the status is what it is.
	Reason string `json:"reason"`
	// Policy and Groups are filled in for ?verbose.
	Policy string  `json:"policy,omitempty"`
	Groups []Group `json:"groups,omitempty"`
	// LiteLLM's /health lists, for the tools that read them: each
	// deployment, healthy when its circuit takes calls now. LiteLLM calls
	// every model to tell; breakerd reads its breakers (which its
	// background health checks, when on, keep current).
	HealthyEndpoints   []Endpoint `json:"healthy_endpoints"`
	UnhealthyEndpoints []Endpoint `json:"unhealthy_endpoints"`
	HealthyCount       int        `json:"healthy_count"`
	UnhealthyCount     int        `json:"unhealthy_count"`
}

// Endpoint is a deployment in LiteLLM's /health lists.
type Endpoint struct {
	// Model is litellm_params.model, ModelName its model_name, ModelID
	// breakerd's name for it (model_info.id when set).
	Model     string `json:"model"`
	ModelName string `json:"model_name"`
	ModelID   string `json:"model_id"`
	State     string `json:"state"`
}

// Check applies the policy now.
func (c *Checker) Check(verbose bool) Report {
	now := c.src.Clock().Now()
	r := Report{Circuits: map[string]Circuit{}}
	all := c.src.Registry().All()
	open := 0
	for _, b := range all {
		st := b.State()
		ok := b.AllowsAt(now)
		if !ok {
			open++
		}
		r.Circuits[b.Name()] = Circuit{State: st.String(), Healthy: ok, FailureRate: b.Window().FailureRate}
	}
	r.Summary = fmt.Sprintf("%d/%d circuits healthy", len(all)-open, len(all))

	groups := c.groups(now)
	judged, unroutable, onFallback := 0, 0, 0
	for _, g := range groups {
		if len(c.policy.CriticalGroups) > 0 && !g.Critical {
			continue
		}
		judged++
		if !g.Routable {
			unroutable++
		} else if g.Fallback {
			onFallback++
		}
	}
	notClosed := 0
	for _, b := range all {
		if s := b.State(); s != breaker.Closed && s != breaker.Disabled {
			notClosed++
		}
	}
	switch c.policy.Policy {
	case "open_fraction":
		r.Status = Healthy
		if len(all) > 0 && float64(open) >= c.policy.OpenFraction*float64(len(all)) && open > 0 {
			r.Status = Unhealthy
			r.Reason = fmt.Sprintf("%d of %d circuits are open (unhealthy from %.0f%%)", open, len(all), c.policy.OpenFraction*100)
		} else if notClosed > 0 {
			r.Status = Degraded
			r.Reason = fmt.Sprintf("%s not closed", count(notClosed, "circuit is", "circuits are"))
		}
	default: // routable
		threshold := c.policy.UnroutableFraction
		if threshold == 0 {
			threshold = 1 // all judged groups
			if len(c.policy.CriticalGroups) > 0 {
				threshold = 1e-9 // any critical group
			}
		}
		r.Status = Healthy
		switch {
		case judged > 0 && unroutable > 0 && float64(unroutable) >= threshold*float64(judged):
			r.Status = Unhealthy
			r.Reason = fmt.Sprintf("%d of %d model groups have no deployment that can take calls", unroutable, judged)
		case unroutable > 0 || onFallback > 0 || notClosed > 0:
			r.Status = Degraded
			r.Reason = fmt.Sprintf("%s not closed; %s on fallbacks, %d cannot be served", count(notClosed, "circuit is", "circuits are"),
				count(onFallback, "model group runs", "model groups run"), unroutable)
		}
	}
	if r.Reason == "" {
		r.Reason = "every circuit is closed"
	}
	r.HealthyEndpoints, r.UnhealthyEndpoints = []Endpoint{}, []Endpoint{}
	seen := map[string]bool{}
	for _, grp := range c.src.Groups() {
		for _, d := range grp.Deployments {
			if seen[d.Config.Name] {
				continue
			}
			seen[d.Config.Name] = true
			b := d.MainBreaker()
			e := Endpoint{Model: d.Config.ModelRef, ModelName: d.Config.Group, ModelID: d.Config.Name, State: b.State().String()}
			if b.AllowsAt(now) {
				r.HealthyEndpoints = append(r.HealthyEndpoints, e)
			} else {
				r.UnhealthyEndpoints = append(r.UnhealthyEndpoints, e)
			}
		}
	}
	r.HealthyCount, r.UnhealthyCount = len(r.HealthyEndpoints), len(r.UnhealthyEndpoints)
	r.Healthy = r.Status != Unhealthy
	if verbose {
		r.Policy = c.describe()
		r.Groups = groups
	}
	return r
}

// count writes n with the singular or plural words that follow it.
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (c *Checker) describe() string {
	if c.policy.Policy == "open_fraction" {
		return fmt.Sprintf("open_fraction: unhealthy when at least %.0f%% of circuits are open", c.policy.OpenFraction*100)
	}
	scope := "all model groups"
	if len(c.policy.CriticalGroups) > 0 {
		scope = fmt.Sprintf("the critical groups %v", c.policy.CriticalGroups)
	}
	if c.policy.UnroutableFraction == 0 {
		if len(c.policy.CriticalGroups) > 0 {
			return "routable: unhealthy when any of " + scope + " has no deployment that can take calls"
		}
		return "routable: unhealthy when every model group has no deployment that can take calls"
	}
	return fmt.Sprintf("routable: unhealthy when at least %.0f%% of %s have no deployment that can take calls", c.policy.UnroutableFraction*100, scope)
}

// routeOf is the route requests for group take: its own, or, where a
// model_group_alias of the same name wins over the group (as in
// LiteLLM), the alias's group's: the group's own deployments serve none.
func (c *Checker) routeOf(group string) []*gateway.Deployment {
	if target, ok := c.src.AliasOf(group); ok {
		group = target
	}
	return c.src.Route(group)
}

// groups reports each group's routability through its deployments' main
// breakers (chat's; an audio or image deployment's own).
func (c *Checker) groups(now time.Time) []Group {
	var out []Group
	for _, grp := range c.src.Groups() {
		g := Group{Name: grp.Name, Critical: slices.Contains(c.policy.CriticalGroups, grp.Name)}
		var earliest time.Time
		for _, d := range c.routeOf(grp.Name) {
			b := d.MainBreaker()
			g.Deployments = append(g.Deployments, Dep{Name: d.Config.Name, Provider: d.Config.Provider, Model: d.Config.Model, State: b.State().String()})
			if b.AllowsAt(now) {
				g.Routable = true
				// What serves now: passed over while its provider's 429
				// cools it down, or a budget of it is spent.
				_, cooling := d.Cooldowns[d.Operations()[0]].Until(now)
				if spent, _ := d.OverBudget(now); g.ServedBy == "" && !cooling && spent == "" {
					g.ServedBy, g.Fallback = d.Config.Name, d.Config.Group != grp.Name
				}
			} else if at, ok := b.RetryAt(); ok && (earliest.IsZero() || at.Before(earliest)) {
				earliest = at
			}
		}
		if !g.Routable && !earliest.IsZero() {
			g.RetryAt = earliest.UTC().Format(time.RFC3339)
		}
		out = append(out, g)
	}
	return out
}

// CircuitBreakers is the seed guide's /health/circuit-breakers body, with
// the reason for its verdict.
type CircuitBreakers struct {
	Providers     map[string]string `json:"providers"`
	OverallHealth string            `json:"overall_health"`
	Reason        string            `json:"reason"`
	// LastFailures holds, for each breaker that has failed, when and why
	// it last did: the seed's runbook step "check the logs for 401/403",
	// answered without the logs.
	LastFailures map[string]LastFailure `json:"last_failures"`
	// Cooldowns hold, for each breaker whose deployment its provider is
	// rate limiting (a 429 that is not a failure), until when it is
	// passed over. Cooldowns do not change the verdict: every replica
	// would meet the same limit.
	Cooldowns map[string]time.Time `json:"cooldowns"`
}

// LastFailure is a breaker's latest counted failure.
type LastFailure struct {
	At    time.Time `json:"at"`
	Cause string    `json:"cause,omitempty"`
}

// Breakers reports each breaker's state and the seed's overall verdict,
// taken from Check so that it never disagrees with /health: "critical"
// exactly when /health is unhealthy (the gateway cannot serve), "degraded"
// when it is degraded, else "healthy". (The seed's own rule, critical only
// when every circuit is open, said "degraded" while every chat request
// failed, since embeddings breakers that never saw a call stay closed.)
func (c *Checker) Breakers() CircuitBreakers {
	rep := c.Check(false)
	out := CircuitBreakers{Providers: map[string]string{}, Reason: rep.Reason, LastFailures: map[string]LastFailure{},
		Cooldowns: map[string]time.Time{}}
	now := c.src.Clock().Now()
	for _, grp := range c.src.Groups() {
		for _, d := range grp.Deployments {
			for _, op := range d.Operations() {
				if until, ok := d.Cooldowns[op].Until(now); ok {
					out.Cooldowns[d.Breakers[op].Name()] = until.UTC()
				}
			}
		}
	}
	for _, b := range c.src.Registry().All() {
		s := b.Snapshot()
		out.Providers[s.Name] = s.State.String()
		if !s.LastFailure.IsZero() {
			out.LastFailures[s.Name] = LastFailure{At: s.LastFailure.UTC(), Cause: s.LastFailureCause}
		}
	}
	switch rep.Status {
	case Unhealthy:
		out.OverallHealth = "critical"
	case Degraded:
		out.OverallHealth = "degraded"
	default:
		out.OverallHealth = "healthy"
	}
	return out
}

// Handler serves GET and HEAD /health: 200 when healthy or degraded, 503
// when unhealthy. ?verbose adds the policy and each group's route.
func (c *Checker) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, verbose := r.URL.Query()["verbose"]
		rep := c.Check(verbose)
		code := http.StatusOK
		if !rep.Healthy {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, r, code, rep)
	})
}

// BreakersHandler serves GET /health/circuit-breakers: 503 when critical,
// as /health is then, else 200.
func (c *Checker) BreakersHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := c.Breakers()
		code := http.StatusOK
		if b.OverallHealth == "critical" {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, r, code, b)
	})
}

func writeJSON(w http.ResponseWriter, r *http.Request, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if r.Method == http.MethodHead {
		return
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
