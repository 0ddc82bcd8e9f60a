package gateway

import (
	"fmt"
	"sync"
	"time"

	"github.com/breakerd/breakerd/config"
)

// Budget is a spend limit in force (config.Budget, LiteLLM's provider and
// deployment budgets): what the answered calls it covers cost in its
// current window. A window opens with the first spend after the last one
// ended, as in LiteLLM.
type Budget struct {
	// Scope is "provider" or "deployment", and Name the provider's prefix
	// or the deployment's name.
	Scope, Name string
	Config      config.Budget

	mu    sync.Mutex
	start time.Time // zero while no window is open
	spent float64
}

// Spend adds usd spent at now, opening a window when none is open.
func (b *Budget) Spend(now time.Time, usd float64) {
	if usd <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.start.IsZero() || !now.Before(b.Config.End(b.start)) {
		b.start, b.spent = now, 0
	}
	b.spent += usd
}

// Spent returns what was spent in the window open at now, and when that
// window ends; 0 and the zero time when none is open.
func (b *Budget) Spent(now time.Time) (usd float64, ends time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.start.IsZero() {
		return 0, time.Time{}
	}
	if ends = b.Config.End(b.start); !now.Before(ends) {
		return 0, time.Time{}
	}
	return b.spent, ends
}

// exhausted says why b refuses calls at now, and until when; "" while it
// has some left.
func (b *Budget) exhausted(now time.Time) (why string, until time.Time) {
	spent, ends := b.Spent(now)
	if spent < b.Config.Limit {
		return "", time.Time{}
	}
	return fmt.Sprintf("its %s budget of %s is spent ($%.4g) until %s", b.Scope, b.Config, spent, ends.UTC().Format(time.RFC3339)), ends
}

// OverBudget says why one of d's budgets (its provider's, its own) passes
// it over at now, and until when; "" when none does.
func (d *Deployment) OverBudget(now time.Time) (why string, until time.Time) {
	for _, b := range d.budgets {
		if why, until = b.exhausted(now); why != "" {
			return why, until
		}
	}
	return "", time.Time{}
}

// spend charges an answered call's cost to d's budgets.
func (d *Deployment) spend(now time.Time, usd float64) {
	for _, b := range d.budgets {
		b.Spend(now, usd)
	}
}

// Budgets returns the budgets in force: each provider's, then each
// deployment's, in config order.
func (g *Gateway) Budgets() []*Budget {
	var out []*Budget
	for _, name := range g.budgetOrder {
		out = append(out, g.providerBudgets[name])
	}
	for _, d := range g.deployments {
		if d.budget != nil {
			out = append(out, d.budget)
		}
	}
	return out
}
