// Package alerting turns breaker transitions into notifications on Slack,
// webhooks (breakerd's JSON or Alertmanager's) and PagerDuty. It reads the
// event fan-out, so it never touches the request path; deliveries go
// through a bounded queue per notifier with retries.
//
// To keep on-call people reading: breakers that open within the group
// window share one message; a breaker that flaps sends one "flapping"
// alert and then stays quiet until stable; every recovery carries the key
// (and, for Slack bots, the thread) of its opening; optional reminders
// repeat while a circuit stays open.
package alerting

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/breakerd/breakerd/breaker"
)

// Kind is what an alert announces.
type Kind string

const (
	// KindOpen announces an outage: a circuit opened (or was forced open).
	KindOpen Kind = "open"
	// KindResolved ends an outage; it carries the opening's key.
	KindResolved Kind = "resolved"
	// KindHalfOpen says a circuit is testing recovery.
	KindHalfOpen Kind = "half_open"
	// KindFlapping says a circuit changes state too often; alerts for it
	// pause until it is stable.
	KindFlapping Kind = "flapping"
	// KindReminder repeats an open outage's alert.
	KindReminder Kind = "reminder"
	// KindTest is sent by breakerd alert-test.
	KindTest Kind = "test"
	// KindBudget says a budget is spent: what it covers (a provider's
	// deployments, or one deployment) is passed over until its window
	// ends. Its items' labels hold scope, name, budget and until.
	KindBudget Kind = "budget_spent"
	// KindCooldown says a provider's 429 made a deployment cool down: it
	// is passed over, with no breaker failure, until its labels' until.
	// At most one per breaker in CooldownAlertEvery.
	KindCooldown Kind = "cooldown"
	// KindSlow says a deployment answered (or hung) slower than the slow
	// threshold (LiteLLM's alerting_threshold). At most one per breaker in
	// SlowAlertEvery.
	KindSlow Kind = "slow"
	// KindHanging says a deployment's call has waited the slow threshold
	// for an answer, and waits still (LiteLLM's llm_requests_hanging). At
	// most one per breaker in SlowAlertEvery.
	KindHanging Kind = "hanging"
)

// SlowAlertEvery is the least time between two slow alerts of one
// breaker: a slow provider is slow for many calls.
const SlowAlertEvery = 10 * time.Minute

// CooldownAlertEvery is the least time between two cooldown alerts of one
// breaker: a provider at its limit answers 429 again and again.
const CooldownAlertEvery = 10 * time.Minute

// Alert is one message: one or more breakers with the same kind.
type Alert struct {
	ID           string
	Kind         Kind
	At           time.Time
	Items        []Item
	DashboardURL string
	RunbookURL   string
}

// Item is one breaker in an alert.
type Item struct {
	// Key is the same on an outage's opening and its resolution.
	Key     string
	Breaker string
	Labels  map[string]string
	From    string
	To      string
	Reason  string
	At      time.Time
	// OpenedAt is when the outage began; OpenFor how long it lasted (on
	// resolution) or has lasted (reminders).
	OpenedAt          time.Time
	OpenFor           time.Duration
	RejectedWhileOpen uint64
	Counts            breaker.Counts
	Window            breaker.WindowStats
	// Fallback is the deployment that now serves the breaker's group.
	Fallback string
	// Changes counts recent state changes (flapping alerts).
	Changes int
}

// Resolved reports whether the alert ends an outage.
func (a *Alert) Resolved() bool { return a.Kind == KindResolved }

// Title is a one-line summary, used as Slack's text and webhook summaries.
func (a *Alert) Title() string {
	names := make([]string, len(a.Items))
	for i, it := range a.Items {
		names[i] = it.Breaker
	}
	subject := strings.Join(names, ", ")
	if len(a.Items) > 1 {
		subject = fmt.Sprintf("%d circuits: %s", len(a.Items), subject)
	}
	switch a.Kind {
	case KindBudget:
		budgets := make([]string, len(a.Items))
		for i, it := range a.Items {
			subject := it.Labels["scope"] + " " + it.Labels["name"]
			if it.Labels["scope"] == "proxy" {
				subject = "the proxy's" // every deployment's
			}
			budgets[i] = fmt.Sprintf("%s (%s)", subject, it.Labels["budget"])
		}
		return "💸 Budget SPENT: " + strings.Join(budgets, ", ") + ": passed over until its window ends"
	case KindCooldown:
		return "⏸️ Rate limited: " + subject + " is cooling down after its provider's 429"
	case KindSlow:
		return "🐢 Slow: " + subject + ": " + a.Items[0].Reason
	case KindHanging:
		return "⏳ Hanging: " + subject + ": " + a.Items[0].Reason
	case KindOpen:
		return "🔴 Circuit OPEN: " + subject
	case KindResolved:
		if len(a.Items) == 1 {
			return fmt.Sprintf("✅ Circuit CLOSED: %s recovered after %s", subject, round(a.Items[0].OpenFor))
		}
		return "✅ Circuits CLOSED: " + subject
	case KindHalfOpen:
		return "🟡 Circuit HALF-OPEN: " + subject + " is testing recovery"
	case KindFlapping:
		return "🟡 Circuit FLAPPING: " + subject + " (alerts paused until it is stable)"
	case KindReminder:
		if len(a.Items) == 1 {
			return fmt.Sprintf("🔴 Still OPEN after %s: %s", round(a.Items[0].OpenFor), subject)
		}
		return "🔴 Still OPEN: " + subject
	case KindTest:
		return "🧪 breakerd test alert: this notifier works"
	}
	return string(a.Kind) + ": " + subject
}

func round(d time.Duration) time.Duration {
	if d > time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

// alertKey pairs an outage's opening with its resolution.
func alertKey(breakerName string, openedAt time.Time) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s|%d", breakerName, openedAt.UnixNano())))
	return hex.EncodeToString(h[:8])
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// itemOf builds an alert item from a transition.
func itemOf(t breaker.Transition, key string) Item {
	it := Item{Key: key, Breaker: t.Breaker, Labels: t.Labels, From: t.From.String(), To: t.To.String(), Reason: t.Reason,
		At: t.At, OpenedAt: t.OpenedAt, RejectedWhileOpen: t.RejectedWhileOpen, Counts: t.Counts, Window: t.Window}
	if !t.OpenedAt.IsZero() {
		it.OpenFor = t.At.Sub(t.OpenedAt)
	} else if t.To == breaker.Open || t.To == breaker.ForcedOpen {
		it.OpenedAt = t.At
	}
	return it
}
