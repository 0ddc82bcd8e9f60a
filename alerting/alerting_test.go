package alerting_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
	"go.uber.org/goleak"

	"github.com/breakerd/breakerd/alerting"
	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/events"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 1, 26, 12, 0, 0, 0, time.UTC)

// receiver is a loopback webhook endpoint that records what it gets and
// answers with the statuses it is given (then 200).
type receiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	bodies   [][]byte
	headers  []http.Header
	statuses []int
	got      chan struct{}
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses, got: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, body)
		r.headers = append(r.headers, req.Header.Clone())
		status := 200
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte("ok"))
		r.got <- struct{}{}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) payloads(t *testing.T) []alerting.Payload {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []alerting.Payload
	for _, b := range r.bodies {
		var p alerting.Payload
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		out = append(out, p)
	}
	return out
}

// kinds lists the kinds of the payloads received, in order.
func (r *receiver) kinds(t *testing.T) string {
	var kinds []string
	for _, p := range r.payloads(t) {
		kinds = append(kinds, string(p.Kind))
	}
	return strings.Join(kinds, ",")
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

// rig is a manager fed by real breakers on a manual clock.
type rig struct {
	t      *testing.T
	clock  *breaker.ManualClock
	m      *alerting.Manager
	sleeps []time.Duration
	mu     sync.Mutex
	bs     map[string]*breaker.Breaker
}

func newRig(t *testing.T, cfg config.Alerting) *rig { return newRigSleeping(t, cfg, nil) }

// newRigSleeping is newRig with sleep as the wait between retries (nil:
// none, each wait recorded in r.sleeps).
func newRigSleeping(t *testing.T, cfg config.Alerting, sleep func(ctx context.Context, d time.Duration) error) *rig {
	r := &rig{t: t, clock: breaker.NewManualClock(t0), bs: map[string]*breaker.Breaker{}}
	if sleep == nil {
		sleep = func(ctx context.Context, d time.Duration) error {
			r.mu.Lock()
			r.sleeps = append(r.sleeps, d)
			r.mu.Unlock()
			return nil
		}
	}
	if cfg.FlapThreshold == 0 {
		cfg.FlapThreshold = 4
	}
	if cfg.FlapWindow == 0 {
		cfg.FlapWindow = 10 * time.Minute
	}
	if cfg.StableAfter == 0 {
		cfg.StableAfter = 5 * time.Minute
	}
	if cfg.QueueSize == 0 {
		cfg.QueueSize = 100
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 3
	}
	client := &http.Client{Transport: &http.Transport{}}
	r.m = alerting.New(cfg, alerting.Options{Clock: r.clock, Client: client,
		Fallback: func(string) string { return "claude-3-5-sonnet/anthropic/claude-3-5-sonnet" },
		Sleep:    sleep})
	t.Cleanup(func() {
		_ = r.m.Close(context.Background())
		client.CloseIdleConnections()
	})
	return r
}

func (r *rig) breaker(name string) *breaker.Breaker {
	if b, ok := r.bs[name]; ok {
		return b
	}
	b := breaker.New(breaker.Settings{Name: name, Clock: r.clock, ConsecutiveFailures: 1, SuccessThreshold: 1,
		OpenTimeout: 30 * time.Second, Labels: map[string]string{"provider": "openai", "model": "gpt-4o-mini", "model_group": "gpt-4o-mini"}})
	b.AddListener(func(t breaker.Transition) { r.m.Handle(events.TransitionEvent(t)) })
	r.bs[name] = b
	return b
}

func (r *rig) fail(name string) {
	b := r.breaker(name)
	if done, err := b.Allow(); err == nil {
		done(breaker.Failure, 0)
	}
	b.WaitListeners()
}

func (r *rig) recover(name string) {
	b := r.breaker(name)
	r.clock.Advance(30 * time.Second)
	if done, err := b.Allow(); err == nil {
		done(breaker.Success, 0)
	}
	b.WaitListeners()
}

// settle delivers everything queued so far.
func (r *rig) settle() {
	if err := r.m.Close(context.Background()); err != nil {
		r.t.Fatal(err)
	}
}

func webhookCfg(url string, format, secret string) config.Notifier {
	return config.Notifier{Type: "webhook", Name: "hook", URL: config.Secret(url), Format: format, Secret: config.Secret(secret),
		Timeout: 5 * time.Second}
}

func TestOpenAndRecoveryPairByKey(t *testing.T) {
	rec := newReceiver(t)
	r := newRig(t, config.Alerting{Notifiers: []config.Notifier{webhookCfg(rec.srv.URL, "breakerd", "s3cret-signing-key")},
		DashboardURL: "https://grafana.example/d/breakerd", RunbookURL: "https://wiki.example/runbook"})
	r.fail("openai:chat")
	for i := 0; i < 7; i++ {
		_, _ = r.breaker("openai:chat").Allow() // fast-failed
	}
	r.recover("openai:chat")
	r.settle()
	ps := rec.payloads(t)
	if len(ps) != 2 {
		t.Fatalf("%d payloads, want one opening and one resolution", len(ps))
	}
	open, res := ps[0], ps[1]
	if open.Kind != "open" || open.Resolved || len(open.Alerts) != 1 || open.Alerts[0].Reason != "1 consecutive failures" ||
		open.Alerts[0].Fallback == "" || open.DashboardURL == "" || open.RunbookURL == "" {
		t.Fatalf("opening %+v", open)
	}
	if res.Kind != "resolved" || !res.Resolved || res.Alerts[0].Key != open.Alerts[0].Key || res.Alerts[0].OpenSeconds != 30 ||
		res.Alerts[0].RejectedWhileOpen != 7 || res.EventID == open.EventID {
		t.Fatalf("resolution %+v (opening key %s)", res, open.Alerts[0].Key)
	}
	// The signature covers the exact body.
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i, b := range rec.bodies {
		if got := rec.headers[i].Get(alerting.SignatureHeader); got != alerting.Sign("s3cret-signing-key", b) {
			t.Fatalf("signature %q does not match the body", got)
		}
	}
}

func TestAlertmanagerFormat(t *testing.T) {
	rec := newReceiver(t)
	r := newRig(t, config.Alerting{Notifiers: []config.Notifier{webhookCfg(rec.srv.URL, "alertmanager", "")},
		RunbookURL: "https://wiki.example/runbook"})
	r.fail("openai:chat")
	r.recover("openai:chat")
	r.settle()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var firing, resolved alerting.AlertmanagerPayload
	_ = json.Unmarshal(rec.bodies[0], &firing)
	_ = json.Unmarshal(rec.bodies[1], &resolved)
	if firing.Version != "4" || firing.Status != "firing" || firing.Alerts[0].Labels["alertname"] != "CircuitBreakerOpen" ||
		firing.Alerts[0].Labels["breaker"] != "openai:chat" || firing.Alerts[0].Annotations["runbook_url"] == "" ||
		!firing.Alerts[0].EndsAt.IsZero() {
		t.Fatalf("firing %+v", firing)
	}
	if resolved.Status != "resolved" || resolved.Alerts[0].Fingerprint != firing.Alerts[0].Fingerprint ||
		!resolved.Alerts[0].EndsAt.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("resolved %+v", resolved)
	}
}

func TestRetriesOn503NotOn400(t *testing.T) {
	for _, tc := range []struct {
		statuses []int
		calls    int
		sleeps   int
	}{
		{[]int{503, 503}, 3, 2},                // retried until it works
		{[]int{400}, 1, 0},                     // a 4xx is final
		{[]int{503, 503, 503, 503, 503}, 4, 3}, // gives up after max_retries
	} {
		rec := newReceiver(t, tc.statuses...)
		r := newRig(t, config.Alerting{Notifiers: []config.Notifier{webhookCfg(rec.srv.URL, "breakerd", "")}, MaxRetries: 3})
		r.fail("b")
		r.settle()
		if rec.count() != tc.calls || len(r.sleeps) != tc.sleeps {
			t.Fatalf("statuses %v: %d calls, %d sleeps; want %d and %d", tc.statuses, rec.count(), len(r.sleeps), tc.calls, tc.sleeps)
		}
		if tc.sleeps >= 2 && r.sleeps[1] != 2*r.sleeps[0] {
			t.Fatalf("backoff %v is not exponential", r.sleeps)
		}
	}
}

func TestGroupingWindow(t *testing.T) {
	rec := newReceiver(t)
	r := newRig(t, config.Alerting{Notifiers: []config.Notifier{webhookCfg(rec.srv.URL, "breakerd", "")}, GroupWindow: 10 * time.Second})
	r.fail("a")
	r.clock.Advance(4 * time.Second)
	r.fail("b")
	r.clock.Advance(4 * time.Second)
	r.fail("c")
	r.m.Tick() // 8s: the window is still open
	r.clock.Advance(2 * time.Second)
	r.m.Tick() // 10s: one message for all three
	r.clock.Advance(5 * time.Second)
	r.fail("d") // a new window
	r.clock.Advance(10 * time.Second)
	r.m.Tick()
	r.settle()
	ps := rec.payloads(t)
	if len(ps) != 2 || len(ps[0].Alerts) != 3 || len(ps[1].Alerts) != 1 || ps[1].Alerts[0].Breaker != "d" {
		t.Fatalf("payloads %+v", ps)
	}
	if !strings.Contains(ps[0].Summary, "3 circuits: a, b, c") {
		t.Fatalf("summary %q", ps[0].Summary)
	}
}

func TestBlipWithinGroupWindowSendsNothing(t *testing.T) {
	rec := newReceiver(t)
	r := newRig(t, config.Alerting{Notifiers: []config.Notifier{webhookCfg(rec.srv.URL, "breakerd", "")}, GroupWindow: time.Minute})
	r.fail("a")
	r.recover("a") // 30s later, before the window closed
	r.clock.Advance(time.Minute)
	r.m.Tick()
	r.settle()
	if rec.count() != 0 {
		t.Fatalf("%d messages for a blip that healed inside the group window", rec.count())
	}
}

func TestFlapSuppression(t *testing.T) {
	rec := newReceiver(t)
	r := newRig(t, config.Alerting{Notifiers: []config.Notifier{webhookCfg(rec.srv.URL, "breakerd", "")},
		FlapThreshold: 4, FlapWindow: 10 * time.Minute, StableAfter: 5 * time.Minute})
	// open, half-open, closed, open, half-open, closed...: 4 changes pass,
	// the 5th makes it flapping.
	for i := 0; i < 4; i++ {
		r.fail("f")
		r.recover("f")
	}
	r.clock.Advance(4 * time.Minute)
	r.m.Tick() // not stable long enough yet
	r.clock.Advance(time.Minute)
	r.m.Tick() // stable for 5 minutes, and closed: one recovery
	r.clock.Advance(time.Hour)
	r.m.Tick()
	r.settle()
	// An outage is 3 changes (open, half-open, closed): the first one is
	// announced and resolved, the second opening is announced, its next
	// change (the 5th) makes it flapping, and then 6 more changes pass in
	// silence until one recovery once it has been stable.
	if got := rec.kinds(t); got != "open,resolved,open,flapping,resolved" {
		t.Fatalf("kinds %s", got)
	}
	ps := rec.payloads(t)
	if ps[4].Alerts[0].Key != ps[2].Alerts[0].Key || ps[4].Alerts[0].OpenSeconds <= 0 {
		t.Fatalf("the stable recovery does not pair with the outage it ends: %+v / %+v", ps[2].Alerts[0], ps[4].Alerts[0])
	}
}

func TestReminders(t *testing.T) {
	rec := newReceiver(t)
	r := newRig(t, config.Alerting{Notifiers: []config.Notifier{webhookCfg(rec.srv.URL, "breakerd", "")},
		ReminderInterval: 30 * time.Minute})
	b := r.breaker("r")
	b.ForceOpen("") // stays open: no trials
	b.WaitListeners()
	for i := 0; i < 7; i++ { // 70 minutes in 10-minute steps
		r.clock.Advance(10 * time.Minute)
		r.m.Tick()
	}
	b.ForceClose("")
	b.WaitListeners()
	r.settle()
	if got := rec.kinds(t); got != "open,reminder,reminder,resolved" {
		t.Fatalf("kinds %s", got)
	}
	if s := rec.payloads(t)[1].Summary; !strings.Contains(s, "Still OPEN after 30m0s") {
		t.Fatalf("reminder summary %q", s)
	}
}

func TestFilters(t *testing.T) {
	all, anthropicOnly, onlyResolved := newReceiver(t), newReceiver(t), newReceiver(t)
	n2 := webhookCfg(anthropicOnly.srv.URL, "breakerd", "")
	n2.Name, n2.Providers = "anthropic", []string{"anthropic"}
	n3 := webhookCfg(onlyResolved.srv.URL, "breakerd", "")
	n3.Name, n3.Transitions, n3.Breakers = "resolved", []string{"resolved"}, []string{"openai:*"}
	r := newRig(t, config.Alerting{Notifiers: []config.Notifier{webhookCfg(all.srv.URL, "breakerd", ""), n2, n3}})
	r.fail("openai:chat")
	r.recover("openai:chat")
	r.settle()
	if all.count() != 2 || anthropicOnly.count() != 0 || onlyResolved.count() != 1 {
		t.Fatalf("all %d, anthropic-only %d, resolved-only %d", all.count(), anthropicOnly.count(), onlyResolved.count())
	}
}

func TestSlackBotThreadsRecoveryUnderOpening(t *testing.T) {
	var mu sync.Mutex
	var posts []map[string]string
	srv := slacktest.NewTestServer(func(c slacktest.Customize) {
		// slacktest's own handler does not record messages.
		c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			mu.Lock()
			posts = append(posts, map[string]string{"channel": r.FormValue("channel"), "text": r.FormValue("text"),
				"thread_ts": r.FormValue("thread_ts"), "blocks": r.FormValue("blocks"), "attachments": r.FormValue("attachments"),
				"auth": r.Header.Get("Authorization") + r.FormValue("token")})
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"ok":true,"channel":"C123","ts":"1700000000.000100"}`))
		})
	})
	srv.Start()
	defer srv.Stop()
	bot := config.Notifier{Type: "slack", Name: "slack-bot", Token: "xoxb-secret-token",
		Channel: "#llm-oncall", APIURL: srv.GetAPIURL(), Timeout: 5 * time.Second}
	cfg := config.Alerting{Notifiers: []config.Notifier{bot}, FlapThreshold: 4, FlapWindow: 10 * time.Minute,
		StableAfter: 5 * time.Minute, QueueSize: 100, MaxRetries: 3,
		DashboardURL: "https://grafana.example/d/breakerd", RunbookURL: "https://wiki.example/runbook"}
	r := newRig(t, cfg)
	r.fail("openai:chat")
	r.recover("openai:chat")
	// Through a reload that rebuilds the bot (its filter changed), an
	// outage under way still recovers in its opening's thread.
	r.fail("anthropic:chat")
	bot.Transitions = []string{"open", "resolved", "half_open"}
	cfg.Notifiers = []config.Notifier{bot}
	r.m.Reconfigure(cfg)
	r.recover("anthropic:chat")
	r.settle()
	mu.Lock()
	defer mu.Unlock()
	if len(posts) != 5 {
		t.Fatalf("%d posts, want an opening and a recovery, then an opening, a half-open and a recovery: %v", len(posts), posts)
	}
	if after := posts[4]; after["thread_ts"] != "1700000000.000100" || !strings.Contains(after["text"], "anthropic:chat") {
		t.Fatalf("the recovery after the reload %v: want it in its opening's thread", after)
	}
	open, closed := posts[0], posts[1]
	if open["channel"] != "#llm-oncall" || !strings.Contains(open["text"], "Circuit OPEN: openai:chat") || open["thread_ts"] != "" ||
		!strings.Contains(open["auth"], "xoxb-secret-token") {
		t.Fatalf("opening %v", open)
	}
	for _, want := range []string{"*Reason*", "1 consecutive failures", "*Now served by*", "claude-3-5-sonnet", "Dashboard", "Runbook", "alert key"} {
		if !strings.Contains(open["blocks"], want) {
			t.Errorf("opening blocks lack %q: %s", want, open["blocks"])
		}
	}
	if !strings.Contains(open["attachments"], `"color":"danger"`) || !strings.Contains(closed["attachments"], `"color":"good"`) {
		t.Fatalf("colours: %s / %s", open["attachments"], closed["attachments"])
	}
	if closed["thread_ts"] != "1700000000.000100" || !strings.Contains(closed["text"], "recovered after 30s") ||
		!strings.Contains(closed["blocks"], "Calls fast-failed meanwhile") {
		t.Fatalf("recovery %v", closed)
	}
}

func TestSlackIncomingWebhook(t *testing.T) {
	rec := newReceiver(t)
	r := newRig(t, config.Alerting{Notifiers: []config.Notifier{{Type: "slack", Name: "slack", WebhookURL: config.Secret(rec.srv.URL + "/services/T/B/X"),
		Timeout: 5 * time.Second}}})
	r.fail("openai:chat")
	r.settle()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var msg slack.WebhookMessage
	if err := json.Unmarshal(rec.bodies[0], &msg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.Text, "Circuit OPEN") || len(msg.Blocks.BlockSet) < 2 || msg.Attachments[0].Color != "danger" ||
		msg.Attachments[0].Fields[0].Title != "Provider" {
		t.Fatalf("message %+v", msg)
	}
}

func TestPagerDutyTriggersAndResolves(t *testing.T) {
	rec := newReceiver(t)
	r := newRig(t, config.Alerting{Notifiers: []config.Notifier{{Type: "pagerduty", Name: "pd", RoutingKey: "R0UTING-KEY",
		EventsURL: rec.srv.URL + "/v2/enqueue", Timeout: 5 * time.Second}}})
	r.fail("openai:chat")
	r.recover("openai:chat")
	r.settle()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var trig, res alerting.PagerDutyEvent
	_ = json.Unmarshal(rec.bodies[0], &trig)
	_ = json.Unmarshal(rec.bodies[1], &res)
	if trig.EventAction != "trigger" || trig.RoutingKey != "R0UTING-KEY" || trig.Payload.Severity != "critical" ||
		trig.Payload.Source != "breakerd" || res.EventAction != "resolve" || res.DedupKey != trig.DedupKey {
		t.Fatalf("trigger %+v resolve %+v", trig, res)
	}
}

func TestErrorsNeverShowSecrets(t *testing.T) {
	secretURL := "http://127.0.0.1:1/services/T000/B000/supersecretpath"
	for _, n := range []config.Notifier{
		{Type: "slack", Name: "slack", WebhookURL: config.Secret(secretURL), Timeout: time.Second},
		{Type: "webhook", Name: "hook", URL: config.Secret(secretURL), Timeout: time.Second},
		{Type: "pagerduty", Name: "pd", RoutingKey: "supersecretkey", EventsURL: secretURL, Timeout: time.Second},
	} {
		client := &http.Client{}
		err := alerting.Build(n, client).Send(context.Background(), &alerting.Alert{Kind: alerting.KindTest,
			Items: []alerting.Item{{Breaker: "test", Key: "k"}}})
		if err == nil {
			t.Fatalf("%s: sent to a closed port", n.Type)
		}
		if strings.Contains(err.Error(), "supersecret") || strings.Contains(err.Error(), "/services/") {
			t.Fatalf("%s error leaks a secret: %v", n.Type, err)
		}
		if !alerting.Retryable(err) {
			t.Fatalf("%s: a refused connection should be retried: %v", n.Type, err)
		}
	}
}

func TestFullQueueDropsAndCounts(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	r := newRig(t, config.Alerting{Notifiers: []config.Notifier{webhookCfg(srv.URL, "breakerd", "")}, QueueSize: 1})
	for _, name := range []string{"a", "b", "c", "d"} {
		r.fail(name)
	}
	close(block)
	r.settle()
	if got := collect(t, r.m, "breakerd_alerts_dropped_total"); got < 2 {
		t.Fatalf("dropped %v, want at least 2 of 4 with a queue of 1 and a stuck receiver", got)
	}
	if got := collect(t, r.m, "breakerd_alerts_sent_total"); got < 1 {
		t.Fatalf("sent %v", got)
	}
}

// A receiver that echoes the request, as Express's 404 page echoes the
// path, gets its answer into the error with every secret of the request
// scrubbed: the URL's path and query, headers' values, the signing secret.
func TestReceiverAnswerEchoingTheRequestShowsNoSecret(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "Cannot POST %s (%s) token=%s auth=%s",
			r.URL.Path, r.URL.RequestURI(), r.URL.Query().Get("token"), r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	n := webhookCfg(srv.URL+"/hooks/T000/B000/pathsecret42?token=querysecret42", "", "signsecret42")
	n.Headers = map[string]config.Secret{"Authorization": "Bearer headersecret42"}
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	err := alerting.Build(n, client).Send(context.Background(), &alerting.Alert{Kind: alerting.KindTest,
		Items: []alerting.Item{{Breaker: "test", Key: "k"}}})
	if err == nil {
		t.Fatal("a 404 was taken for a delivery")
	}
	if strings.Contains(err.Error(), "secret42") {
		t.Fatalf("error leaks a secret: %v", err)
	}
	if !strings.Contains(err.Error(), "HTTP 404: Cannot POST [REDACTED]") {
		t.Fatalf("error lost the receiver's answer: %v", err)
	}
}

// A breaker held open longer by successive Retry-Afters stays one open
// alert: extensions are not changes, so they never make it flapping.
func TestExtendingAnOpenBreakerIsNotFlapping(t *testing.T) {
	rec := newReceiver(t)
	r := newRig(t, config.Alerting{Notifiers: []config.Notifier{webhookCfg(rec.srv.URL, "breakerd", "")},
		FlapThreshold: 2, FlapWindow: 10 * time.Minute, StableAfter: 5 * time.Minute})
	r.fail("f")
	b := r.breaker("f")
	for i := 1; i <= 5; i++ {
		b.OpenUntil(r.clock.Now().Add(time.Duration(i)*time.Minute), "Retry-After")
	}
	b.WaitListeners()
	r.settle()
	if got := rec.kinds(t); got != "open" {
		t.Fatalf("kinds %q, want one open alert", got)
	}
}

// A reload's Reconfigure keeps what the manager remembers: an outage under
// way is not alerted again, and its resolution pairs with its opening on
// the notifiers configured now. A notifier removed gets nothing more and
// leaves /metrics; one kept as it was keeps delivering, and its counts.
func TestReconfigureKeepsOutagesAndSwapsNotifiers(t *testing.T) {
	for _, tc := range []struct {
		name         string
		keepA        bool
		wantA, wantB string
		wantSent     float64 // breakerd_alerts_sent_total, summed over the notifiers in force
	}{
		{name: "notifier replaced", wantA: "open", wantB: "resolved", wantSent: 1},
		{name: "notifier kept, one added", keepA: true, wantA: "open,resolved", wantB: "resolved", wantSent: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newReceiver(t), newReceiver(t)
			hookA, hookB := webhookCfg(a.srv.URL, "breakerd", ""), webhookCfg(b.srv.URL, "breakerd", "")
			hookA.Name, hookB.Name = "a", "b"
			cfg := config.Alerting{Notifiers: []config.Notifier{hookA}, FlapThreshold: 4, FlapWindow: 10 * time.Minute,
				StableAfter: 5 * time.Minute, QueueSize: 100, MaxRetries: 3}
			r := newRig(t, cfg)
			r.fail("openai:chat")
			<-a.got // the opening, delivered before the reload
			cfg.Notifiers = []config.Notifier{hookB}
			if tc.keepA {
				cfg.Notifiers = []config.Notifier{hookA, hookB}
			}
			r.m.Reconfigure(cfg)
			r.recover("openai:chat")
			r.settle()
			if got := a.kinds(t); got != tc.wantA {
				t.Fatalf("notifier a got %q, want %q", got, tc.wantA)
			}
			if got := b.kinds(t); got != tc.wantB {
				t.Fatalf("notifier b got %q, want %q", got, tc.wantB)
			}
			if open, res := a.payloads(t)[0], b.payloads(t)[0]; res.Alerts[0].Key != open.Alerts[0].Key {
				t.Fatalf("resolution key %s, opening key %s: want the pair", res.Alerts[0].Key, open.Alerts[0].Key)
			}
			if got := collect(t, r.m, "breakerd_alerts_sent_total"); got != tc.wantSent {
				t.Fatalf("alerts sent %v, want %v", got, tc.wantSent)
			}
		})
	}
}

// A notifier a reload removes stops retrying, and gives up what it still
// has queued at its first failure: it may have been removed for failing,
// and the notifiers in force deliver only after it is done.
func TestRemovedNotifierStopsRetrying(t *testing.T) {
	failing, good := newReceiver(t, 503, 503, 503, 503, 503, 503, 503, 503), newReceiver(t)
	hookA, hookB := webhookCfg(failing.srv.URL, "breakerd", ""), webhookCfg(good.srv.URL, "breakerd", "")
	hookA.Name, hookB.Name = "a", "b"
	cfg := config.Alerting{Notifiers: []config.Notifier{hookA}, FlapThreshold: 4, FlapWindow: 10 * time.Minute,
		StableAfter: 5 * time.Minute, QueueSize: 100, MaxRetries: 5}
	waiting, release := make(chan struct{}, 10), make(chan struct{})
	r := newRigSleeping(t, cfg, func(ctx context.Context, d time.Duration) error {
		waiting <- struct{}{}
		select {
		case <-ctx.Done(): // removed
			return ctx.Err()
		case <-release: // the test is over
			return nil
		}
	})
	t.Cleanup(func() { close(release) }) // before the rig's: a failing test must not hang in Close
	r.fail("openai:chat")
	<-waiting                // a's first try failed; it waits to retry
	r.fail("anthropic:chat") // queued behind it
	cfg.Notifiers = []config.Notifier{hookB}
	r.m.Reconfigure(cfg)
	r.recover("openai:chat") // for b, which delivers once a is done
	select {
	case <-good.got:
	case <-time.After(30 * time.Second): // bounds a failing test only
		t.Fatal("the notifier in force still waits for the removed one's retries")
	}
	r.settle()
	if n := len(failing.payloads(t)); n != 1 {
		t.Fatalf("the removed notifier was tried %d times, want once: no retry, and its queue given up", n)
	}
	if got := good.kinds(t); got != "resolved" {
		t.Fatalf("notifier b got %q, want the recovery after the reload", got)
	}
}

// A budget used up is one alert, sent at once to the notifiers that take
// its kind (budget_spent, on by default) and its provider: on Slack it
// names the budget, its limit and when its window ends; for
// Alertmanager's receivers it is BudgetSpent, a warning; PagerDuty, for
// outages, gets nothing.
func TestBudgetSpentAlerts(t *testing.T) {
	slackRec, hook, am, anthropicOnly, pd := newReceiver(t), newReceiver(t), newReceiver(t), newReceiver(t), newReceiver(t)
	amCfg := webhookCfg(am.srv.URL, "alertmanager", "")
	amCfg.Name = "am"
	other := webhookCfg(anthropicOnly.srv.URL, "breakerd", "")
	other.Name, other.Providers = "anthropic", []string{"anthropic"}
	r := newRig(t, config.Alerting{Notifiers: []config.Notifier{
		{Type: "slack", Name: "slack", WebhookURL: config.Secret(slackRec.srv.URL + "/services/T/B/X"), Timeout: 5 * time.Second},
		webhookCfg(hook.srv.URL, "breakerd", ""), amCfg, other,
		{Type: "pagerduty", Name: "pd", RoutingKey: "R0UTING-KEY", EventsURL: pd.srv.URL + "/v2/enqueue", Timeout: 5 * time.Second}}})
	r.m.Handle(events.Event{Kind: events.Budget, At: t0, Reason: "its provider budget of $100 per 1d is spent ($100.2) until 2026-01-27T12:00:00Z",
		Labels: map[string]string{"scope": "provider", "name": "openai", "provider": "openai", "budget": "$100 per 1d", "until": "2026-01-27T12:00:00Z"}})
	r.settle()
	if slackRec.count() != 1 || hook.count() != 1 || am.count() != 1 || anthropicOnly.count() != 0 || pd.count() != 0 {
		t.Fatalf("sent: slack %d, webhook %d, alertmanager %d, anthropic-only %d, pagerduty %d",
			slackRec.count(), hook.count(), am.count(), anthropicOnly.count(), pd.count())
	}
	var msg slack.WebhookMessage
	if err := json.Unmarshal(slackRec.bodies[0], &msg); err != nil {
		t.Fatal(err)
	}
	blocks, _ := json.Marshal(msg.Blocks)
	if msg.Text != "💸 Budget SPENT: provider openai ($100 per 1d): passed over until its window ends" || msg.Attachments[0].Color != "warning" ||
		!strings.Contains(string(blocks), "2026-01-27T12:00:00Z") || !strings.Contains(string(blocks), "*Limit*\\n$100 per 1d") {
		t.Fatalf("slack: %q, %s, attachments %+v", msg.Text, blocks, msg.Attachments)
	}
	if p := hook.payloads(t)[0]; p.Kind != alerting.KindBudget || p.Alerts[0].Labels["name"] != "openai" || p.Alerts[0].Key == "" {
		t.Fatalf("webhook: %+v", p)
	}
	var firing alerting.AlertmanagerPayload
	_ = json.Unmarshal(am.bodies[0], &firing)
	if l := firing.Alerts[0].Labels; l["alertname"] != "BudgetSpent" || l["severity"] != "warning" || l["scope"] != "provider" || l["breaker"] != "" {
		t.Fatalf("alertmanager: %+v", firing)
	}
}

// A budget alert's title names each budget, the proxy's as such.
func TestBudgetAlertTitles(t *testing.T) {
	for _, tc := range []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"scope": "deployment", "name": "g/openai/gpt-4o", "budget": "$5 per 1h"},
			"💸 Budget SPENT: deployment g/openai/gpt-4o ($5 per 1h): passed over until its window ends"},
		{map[string]string{"scope": "proxy", "name": "proxy", "budget": "$500 in all"},
			"💸 Budget SPENT: the proxy's ($500 in all): passed over until its window ends"},
	} {
		a := &alerting.Alert{Kind: alerting.KindBudget, Items: []alerting.Item{{Labels: tc.labels}}}
		if got := a.Title(); got != tc.want {
			t.Errorf("title %q, want %q", got, tc.want)
		}
	}
}

// A provider's 429 cooldown, a slow deployment (LiteLLM's llm_too_slow)
// and a hanging call (llm_requests_hanging) are alerts for the notifiers
// that ask for them (transitions: [cooldown], [slow], [hanging]; not by
// default), at most one per breaker in CooldownAlertEvery and
// SlowAlertEvery, as a provider at its limit answers 429 again and again,
// and a slow one is slow for many calls; for Alertmanager's receivers
// they are DeploymentRateLimited, LLMResponsesSlow and
// LLMRequestsHanging, warnings.
func TestThrottledAlerts(t *testing.T) {
	for _, tc := range []struct {
		kind            events.Kind
		transition      string
		reason, summary string
		labels          map[string]string
		alertname       string
	}{
		{events.Cooldown, "cooldown", "Rate limit reached for requests", "a:chat is cooling down after its provider's 429",
			map[string]string{"until": t0.Add(20 * time.Second).Format(time.RFC3339)}, "DeploymentRateLimited"},
		{events.Slow, "slow", "answered after 6m2s (alerting_threshold 5m0s)", "🐢 Slow: a:chat: answered after 6m2s (alerting_threshold 5m0s)",
			map[string]string{"took": "6m2s"}, "LLMResponsesSlow"},
		{events.Hanging, "hanging", "has given no answer for 5m0s, and is still waiting (alerting_threshold 5m0s)",
			"⏳ Hanging: a:chat: has given no answer for 5m0s", map[string]string{"took": "5m0s"}, "LLMRequestsHanging"},
	} {
		t.Run(tc.transition, func(t *testing.T) {
			asked, byDefault := newReceiver(t), newReceiver(t)
			n := webhookCfg(asked.srv.URL, "alertmanager", "")
			n.Name, n.Transitions = tc.transition, []string{tc.transition}
			r := newRig(t, config.Alerting{Notifiers: []config.Notifier{n, webhookCfg(byDefault.srv.URL, "breakerd", "")}})
			handle := func(breaker string, at time.Time) {
				labels := map[string]string{"breaker": breaker, "provider": "openai"}
				maps.Copy(labels, tc.labels)
				r.m.Handle(events.Event{Kind: tc.kind, At: at, Deployment: strings.TrimSuffix(breaker, ":chat"), Operation: "chat",
					Reason: tc.reason, Labels: labels})
			}
			handle("a:chat", t0)
			handle("a:chat", t0.Add(time.Minute))    // the same storm: nothing
			handle("b:chat", t0.Add(time.Minute))    // another breaker
			handle("a:chat", t0.Add(11*time.Minute)) // past the ten minutes
			r.settle()
			if asked.count() != 3 || byDefault.count() != 0 {
				t.Fatalf("%d alerts to the notifier that asks, want 3; %d to the default one, want 0", asked.count(), byDefault.count())
			}
			var p alerting.AlertmanagerPayload
			_ = json.Unmarshal(asked.bodies[0], &p)
			if l := p.Alerts[0].Labels; l["alertname"] != tc.alertname || l["severity"] != "warning" || l["breaker"] != "a:chat" ||
				!strings.Contains(p.Alerts[0].Annotations["summary"], tc.summary) {
				t.Fatalf("alertmanager: %+v", p.Alerts[0])
			}
		})
	}
	text, _, att := alerting.SlackMessage(&alerting.Alert{Kind: alerting.KindSlow, Items: []alerting.Item{{Breaker: "a:chat",
		Reason: "answered after 6m2s (alerting_threshold 5m0s)", Labels: map[string]string{"provider": "openai", "took": "6m2s"}}}})
	if !strings.HasPrefix(text, "🐢 Slow: a:chat") || att.Color != "warning" || att.Fields[1].Value != "6m2s" {
		t.Fatalf("slack: %q %+v", text, att)
	}
	text, _, att = alerting.SlackMessage(&alerting.Alert{Kind: alerting.KindHanging, Items: []alerting.Item{{Breaker: "a:chat",
		Reason: "has given no answer for 5m0s, and is still waiting", Labels: map[string]string{"provider": "openai", "took": "5m0s"}}}})
	if !strings.HasPrefix(text, "⏳ Hanging: a:chat") || att.Color != "warning" || att.Fields[1].Title != "Waiting" || att.Fields[1].Value != "5m0s" {
		t.Fatalf("slack: %q %+v", text, att)
	}
}
