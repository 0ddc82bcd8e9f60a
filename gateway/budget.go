package gateway

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/breakerd/breakerd/config"
)

// Budget is a spend limit in force (config.Budget, LiteLLM's provider and
// deployment budgets): what the answered calls it covers cost in its
// current window. A window opens with the first spend after the last one
// ended, as in LiteLLM. With shared state the window and its spend are
// the fleet's (Share).
type Budget struct {
	// Scope is "proxy" (every deployment: Name "proxy"), "provider",
	// "deployment" or "tag" (requests with the tag), and Name the
	// provider's prefix, the deployment's name or the tag.
	Scope, Name string
	// Provider is the provider of what the budget covers ("" for the
	// proxy's).
	Provider string
	Config   config.Budget

	mu    sync.Mutex
	ends  time.Time // the open window's end; zero while none is open
	spent float64   // spent in the open window
	local float64   // spent by this process, ever: what it shares
}

// Spend adds usd spent at now, opening a window when none is open. It
// reports whether this spend used up the budget's limit.
func (b *Budget) Spend(now time.Time, usd float64) (usedUp bool) {
	if usd <= 0 {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ends.IsZero() || !now.Before(b.ends) {
		b.ends, b.spent = b.Config.End(now), 0
	}
	before := b.spent
	b.spent += usd
	b.local += usd
	return before < b.Config.Limit && b.spent >= b.Config.Limit
}

// Spent returns what was spent in the window open at now, and when that
// window ends; 0 and the zero time when none is open.
func (b *Budget) Spent(now time.Time) (usd float64, ends time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ends.IsZero() || !now.Before(b.ends) {
		return 0, time.Time{}
	}
	return b.spent, b.ends
}

// Local returns the USD this process has spent against b, ever: what it
// shares with the other replicas.
func (b *Budget) Local() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.local
}

// WindowEnd returns the end of the window a spend at now falls in: the
// open one's, else that of one opened at now.
func (b *Budget) WindowEnd(now time.Time) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.ends.IsZero() && now.Before(b.ends) {
		return b.ends
	}
	return b.Config.End(now)
}

// Share takes the replicas' window: when it ends (zero: none is open)
// and what they spent in it, as of this process's Local of local; what
// this process spent since is added.
func (b *Budget) Share(ends time.Time, spent, local float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	since := b.local - local
	if ends.IsZero() {
		if since == 0 {
			b.ends, b.spent = time.Time{}, 0
		}
		return
	}
	b.ends, b.spent = ends, spent+since
}

// exhausted says why b refuses calls at now, and until when; "" while it
// has some left.
func (b *Budget) exhausted(now time.Time) (why string, until time.Time) {
	spent, ends := b.Spent(now)
	if spent < b.Config.Limit {
		return "", time.Time{}
	}
	return b.SpentText(spent, ends), ends
}

// SpentText says that b is spent, how much, and until when: "its provider
// budget of $100 per 1d is spent ($100.2) until 2026-12-05T10:00:00Z".
func (b *Budget) SpentText(spent float64, until time.Time) string {
	return fmt.Sprintf("its %s budget of %s is spent ($%.4g) until %s", b.Scope, b.Config, spent, until.UTC().Format(time.RFC3339))
}

// OverBudget says why one of d's budgets (the proxy's, its provider's,
// its own) passes it over at now, and until when; "" when none does.
func (d *Deployment) OverBudget(now time.Time) (why string, until time.Time) {
	for _, b := range d.budgets {
		if why, until = b.exhausted(now); why != "" {
			return why, until
		}
	}
	return "", time.Time{}
}

// keptBudget is prev when it is the same budget as b (a reload keeps what
// it spent), else b.
func keptBudget(prev, b *Budget) *Budget {
	if prev != nil && prev.Config == b.Config {
		return prev
	}
	return b
}

// charge adds an answered call's cost to b, and reports b when this call
// used it up.
func (g *Gateway) charge(b *Budget, now time.Time, usd float64) {
	if b.Spend(now, usd) {
		spent, ends := b.Spent(now)
		g.obs.BudgetSpent(b, spent, ends) // logs and alerts: why traffic moved
	}
}

// spend charges an answered call's cost to d's budgets.
func (g *Gateway) spend(d *Deployment, now time.Time, usd float64) {
	for _, b := range d.budgets {
		g.charge(b, now, usd)
	}
}

// Budgets returns the budgets in force: the proxy's, each provider's,
// then each deployment's, in config order.
func (g *Gateway) Budgets() []*Budget {
	var out []*Budget
	if g.proxyBudget != nil {
		out = append(out, g.proxyBudget)
	}
	for _, name := range g.budgetOrder {
		out = append(out, g.providerBudgets[name])
	}
	for _, d := range g.deployments {
		if d.budget != nil {
			out = append(out, d.budget)
		}
	}
	for _, tag := range slices.Sorted(maps.Keys(g.tagBudgets)) {
		out = append(out, g.tagBudgets[tag])
	}
	return out
}

// tagSpent says why a request with tags may not be served now, and until
// when: the budget of one of its tags is spent. "" when none is.
func (g *Gateway) tagSpent(tags []string, now time.Time) (why string, until time.Time) {
	for _, t := range tags {
		if b := g.tagBudgets[t]; b != nil {
			if why, until = b.exhausted(now); why != "" {
				return "tag `" + t + "`: " + why, until
			}
		}
	}
	return "", time.Time{}
}

// spendTags charges an answered call's cost to the budgets of the
// request's tags.
func (g *Gateway) spendTags(tags []string, now time.Time, usd float64) {
	for _, t := range tags {
		if b := g.tagBudgets[t]; b != nil {
			g.charge(b, now, usd)
		}
	}
}
