package config

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Budget is a spend limit in USD over a window that starts with the first
// spend after the last window ended (LiteLLM's provider and deployment
// budgets): once Limit is spent, what it covers is passed over until the
// window ends.
type Budget struct {
	Limit float64
	// Period is the window's length; Months, when set, makes it that many
	// calendar months instead ("1mo").
	Period time.Duration
	Months int
	// Text is the window as the config wrote it ("1d").
	Text string
}

// End is when a window that started at start ends.
func (b Budget) End(start time.Time) time.Time {
	if b.Months > 0 {
		return start.AddDate(0, b.Months, 0)
	}
	return start.Add(b.Period)
}

// budgetPeriod is how LiteLLM writes a budget's window: a count and a
// unit (seconds, minutes, hours, days, weeks, months).
var budgetPeriod = regexp.MustCompile(`^(\d+)(s|m|h|d|w|mo)$`)

// budgetUnits are budgetPeriod's units, but months.
var budgetUnits = map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}

// budget reads a budget at path: its limit (limitKey's, else altLimitKey's)
// and its window (periodKey's, else altPeriodKey's), both required.
func (c *converter) budget(path string, limit, altLimit *float64, limitKey, altLimitKey string, period, altPeriod, periodKey, altPeriodKey string) (Budget, bool) {
	if limit == nil && altLimit != nil {
		limit, limitKey = altLimit, altLimitKey
	}
	if period == "" && altPeriod != "" {
		period, periodKey = altPeriod, altPeriodKey
	}
	switch {
	case limit == nil:
		c.errf(path, "a budget needs its limit in USD (%s)", limitKey)
		return Budget{}, false
	case *limit <= 0:
		c.errf(path+"."+limitKey, "must be more than 0 USD, got %v", *limit)
		return Budget{}, false
	case period == "":
		c.errf(path, "a budget needs its window (%s: 1d, 7d, 30d, 1mo, ...)", periodKey)
		return Budget{}, false
	}
	period = c.resolve(path+"."+periodKey, period)
	m := budgetPeriod.FindStringSubmatch(period)
	n := 0
	if m != nil {
		n, _ = strconv.Atoi(m[1])
	}
	if m == nil || n == 0 {
		c.errf(path+"."+periodKey, "%q is not a budget window (a count and a unit: 30s, 30m, 1h, 1d, 1w, 1mo)", period)
		return Budget{}, false
	}
	b := Budget{Limit: *limit, Text: period}
	if m[2] == "mo" {
		b.Months = n
	} else {
		b.Period = time.Duration(n) * budgetUnits[m[2]]
	}
	return b, true
}

// providerBudgets reads router_settings.provider_budget_config: a budget
// for each provider it names, which must be one breakerd knows.
func (c *converter) providerBudgets(raw map[string]rawBudget) map[string]Budget {
	if len(raw) == 0 {
		return nil
	}
	out := map[string]Budget{}
	for _, prov := range slices.Sorted(maps.Keys(raw)) {
		at := "router_settings.provider_budget_config." + prov
		if _, known := LookupProvider(prov); !known {
			msg := fmt.Sprintf("unknown provider %q", prov)
			if n := nearest(prov, providerNames()); n != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", n)
			}
			c.errf(at, "%s: a provider budget is keyed by LiteLLM's provider prefix (openai, anthropic, azure, ...)", msg)
			continue
		}
		r := raw[prov]
		if b, ok := c.budget(at, r.BudgetLimit, r.MaxBudget, "budget_limit", "max_budget", r.TimePeriod, r.BudgetDuration, "time_period", "budget_duration"); ok {
			out[prov] = b
		}
	}
	return out
}

// proxyBudget reads litellm_settings.max_budget over budget_duration:
// LiteLLM's budget for the whole proxy. Without budget_duration it never
// resets (as LiteLLM's spend, kept in its database, does not): breakerd's
// window is then a century, from the first spend.
func (c *converter) proxyBudget(ls rawLiteLLM) *Budget {
	if ls.MaxBudget == nil && ls.BudgetDuration == "" {
		return nil
	}
	period := ls.BudgetDuration
	if period == "" && ls.MaxBudget != nil {
		period = "36500d"
	}
	b, ok := c.budget("litellm_settings", ls.MaxBudget, nil, "max_budget", "", period, "", "budget_duration", "")
	if !ok {
		return nil
	}
	if ls.BudgetDuration == "" {
		b.Text = "ever"
	}
	return &b
}

// tagBudgets reads litellm_settings.tag_budget_config: a budget for each
// request tag it names.
func (c *converter) tagBudgets(raw map[string]rawBudget) map[string]Budget {
	if len(raw) == 0 {
		return nil
	}
	out := map[string]Budget{}
	for _, tag := range slices.Sorted(maps.Keys(raw)) {
		r := raw[tag]
		if b, ok := c.budget("litellm_settings.tag_budget_config."+tag, r.MaxBudget, r.BudgetLimit, "max_budget", "budget_limit",
			r.BudgetDuration, r.TimePeriod, "budget_duration", "time_period"); ok {
			out[tag] = b
		}
	}
	return out
}

// deploymentBudget reads a deployment's max_budget and budget_duration;
// nil when it sets neither.
func (c *converter) deploymentBudget(pp string, p rawParams) *Budget {
	if p.MaxBudget == nil && p.BudgetDuration == "" {
		return nil
	}
	b, ok := c.budget(pp, p.MaxBudget, nil, "max_budget", "", p.BudgetDuration, "", "budget_duration", "")
	if !ok {
		return nil
	}
	return &b
}

// String says the budget as the config wrote it: "$100 per 1d", or "$100
// in all" for a proxy budget that never resets.
func (b Budget) String() string {
	limit := "$" + strconv.FormatFloat(b.Limit, 'f', -1, 64)
	if b.Text == "ever" {
		return limit + " in all"
	}
	return limit + " per " + cmp.Or(b.Text, b.Period.String())
}

// Tokens counts a call's tokens as Cost prices them. Input is the whole
// prompt, its cached part included; CacheRead and CacheWrite are the
// parts of it read from the provider's prompt cache and written to it,
// and CacheWriteHour the part of CacheWrite written for an hour
// (Anthropic's 1-hour cache, cache_control's ttl "1h").
type Tokens struct {
	Input, CacheRead, CacheWrite, CacheWriteHour, Output float64
	// ServiceTier is the service tier that served the call (OpenAI's
	// "flex", "priority"; Anthropic's fast mode, "fast"), priced by
	// Deployment.ServiceTiers.
	ServiceTier string
	// USOnly: US-only inference served the call (Anthropic's
	// inference_geo "us"), priced at Deployment.USOnlyPrice times.
	USOnly bool
	// Billed, when > 0, is what the upstream said the call cost in USD
	// (OpenRouter's usage.cost, in every answer): its cost, whatever d's
	// prices say.
	Billed float64
}

// Cost is what a call to d of t tokens costs in USD: what the upstream
// said it billed (Tokens.Billed), else its tokens at d's prices, or at
// those of the service tier that served it (ServiceTiers; OpenAI's flex
// at its batch prices unless configured), or at those of the LongContext
// tier its input passes: 0 for an unpriced deployment. A service tier's
// prices are not tiered by the prompt's length.
func (d *Deployment) Cost(t Tokens) float64 {
	if t.Billed > 0 {
		return t.Billed
	}
	p := PriceTier{Input: d.InputCostPerToken, Output: d.OutputCostPerToken, CacheRead: d.CacheReadCostPerToken,
		CacheWrite: d.CacheWriteCostPerToken, CacheWriteHour: d.CacheWriteHourCostPerToken}
	switch sp, ok := d.ServiceTiers[t.ServiceTier]; {
	case ok:
		p = sp
	case t.ServiceTier == "flex":
		// OpenAI's flex processing costs what its batches do.
		p = PriceTier{Input: d.BatchInputCostPerToken, Output: d.BatchOutputCostPerToken, CacheRead: p.CacheRead / 2,
			CacheWrite: p.CacheWrite / 2, CacheWriteHour: p.CacheWriteHour / 2}
	default:
		for i := len(d.LongContext) - 1; i >= 0; i-- {
			if t.Input > float64(d.LongContext[i].Above) {
				p = d.LongContext[i]
				break
			}
		}
	}
	fresh, minutes := max(t.Input-t.CacheRead-t.CacheWrite, 0), max(t.CacheWrite-t.CacheWriteHour, 0)
	usd := fresh*p.Input + t.CacheRead*p.CacheRead + minutes*p.CacheWrite + t.CacheWriteHour*p.CacheWriteHour + t.Output*p.Output
	if t.USOnly && d.USOnlyPrice > 0 {
		usd *= d.USOnlyPrice // on top of the tier's, as Anthropic's multipliers stack
	}
	return usd
}

// PriceTier is the price of a call whose prompt, its cached part
// included, has more than Above tokens, in USD per token: a provider's
// long-context price, which applies to all the call's tokens.
type PriceTier struct {
	Above                                                int
	Input, Output, CacheRead, CacheWrite, CacheWriteHour float64
}

// Suffix is the end of the names LiteLLM gives the tier's prices
// (input_cost_per_token_above_200k_tokens): "_above_200k_tokens".
func (t PriceTier) Suffix() string {
	n := strconv.Itoa(t.Above)
	if t.Above%1000 == 0 {
		n = strconv.Itoa(t.Above/1000) + "k"
	}
	return "_above_" + n + "_tokens"
}

// BatchCost is what a batch's in input and out output tokens cost at d's
// batch prices, in US dollars.
func (d *Deployment) BatchCost(in, out float64) float64 {
	return in*d.BatchInputCostPerToken + out*d.BatchOutputCostPerToken
}
