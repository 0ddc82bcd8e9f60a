package alerting

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/events"
)

// Notifier sends one alert somewhere.
type Notifier interface {
	Name() string
	Send(ctx context.Context, a *Alert) error
}

// Options configure a Manager.
type Options struct {
	Clock  breaker.Clock
	Client *http.Client
	Logger *slog.Logger
	// Fallback names the deployment that now serves a breaker's group.
	Fallback func(breakerName string) string
	// Sleep waits between retries; tests make it instant. nil means a
	// real timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Notifiers replaces the ones built from the config (tests).
	Notifiers []Notifier
}

// Manager decides what to send and delivers it.
type Manager struct {
	cfg   config.Alerting
	opts  Options
	log   *slog.Logger
	outs  []*outlet
	mu    sync.Mutex
	state map[string]*bstate
	// pending opens wait for the group window to close.
	pending  []Item
	groupDue time.Time
	// cooldownSent, slowSent and hangingSent are when each breaker's last
	// cooldown, slow and hanging alerts went.
	cooldownSent, slowSent, hangingSent map[string]time.Time
	// retired are the outlets a Reconfigure removed, delivering what they
	// had queued; Close waits for them too. Under mu, as outs.
	retired   []*outlet
	closed    bool // Close has closed the queues; under mu
	stop      chan struct{}
	stopOnce  sync.Once
	tickDone  chan struct{}
	closeOnce sync.Once
}

// bstate is what the manager remembers of one breaker.
type bstate struct {
	firing     bool
	key        string
	openedAt   time.Time
	lastSent   time.Time
	changes    []time.Time
	flapping   bool
	lastChange time.Time
	last       breaker.Transition
}

// outlet is one notifier with its filter, queue and counters.
type outlet struct {
	n     Notifier
	cfg   config.Notifier
	queue chan *Alert
	done  chan struct{}
	// removed ends when a reload removes the notifier (retire): it
	// stops retrying, and gives up its queue at its first failure.
	removed context.Context
	retire  context.CancelFunc
	mu      sync.Mutex
	sent    float64
	failed  float64
	dropped float64
}

// New builds the notifiers from cfg and starts one delivery goroutine for
// each. Call Close to drain them.
func New(cfg config.Alerting, opts Options) *Manager {
	if opts.Clock == nil {
		opts.Clock = breaker.SystemClock()
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	m := &Manager{cfg: cfg, opts: opts, log: opts.Logger, state: map[string]*bstate{}, stop: make(chan struct{})}
	notifiers := opts.Notifiers
	cfgs := cfg.Notifiers
	if notifiers == nil {
		for _, nc := range cfg.Notifiers {
			notifiers = append(notifiers, Build(nc, opts.Client))
		}
	} else {
		cfgs = make([]config.Notifier, len(notifiers))
	}
	for i, n := range notifiers {
		m.outs = append(m.outs, m.startOutlet(n, cfgs[i], cfg.QueueSize))
	}
	return m
}

// startOutlet starts delivering to n, once the outlets in after are done
// (a reload's removed ones: alerts keep their order across a reload, and
// a recovery can reply in the thread of an opening queued before it).
func (m *Manager) startOutlet(n Notifier, nc config.Notifier, queueSize int, after ...*outlet) *outlet {
	o := &outlet{n: n, cfg: nc, queue: make(chan *Alert, max(queueSize, 1)), done: make(chan struct{})}
	o.removed, o.retire = context.WithCancel(context.Background())
	go func() {
		for _, prev := range after {
			<-prev.done
		}
		m.deliver(o)
	}()
	return o
}

// Reconfigure puts cfg in force (a config reload) and keeps what the
// manager remembers of each breaker: an outage under way is neither
// alerted again nor forgotten (its resolution pairs with its opening, on
// the notifiers configured now), and openings waiting for the group
// window still go. A notifier whose config did not change keeps its
// queue and counters; a removed one delivers what it has queued, one try
// each, and stops (at its first failure it gives the rest up: it may be
// removed for failing, and the notifiers in force wait for it); a new one
// starts once the removed ones are done, so that alerts keep their order
// (a Slack bot rebuilt for the same channel keeps the threads of the
// outages under way). With Options.Notifiers (tests) the notifiers stay
// as they are.
func (m *Manager) Reconfigure(cfg config.Alerting) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg = cfg
	if m.opts.Notifiers != nil || m.closed {
		return
	}
	kept := make([]*outlet, len(cfg.Notifiers)) // by cfg.Notifiers index
	removed := slices.Clone(m.outs)
	for i, nc := range cfg.Notifiers {
		if j := slices.IndexFunc(removed, func(o *outlet) bool { return reflect.DeepEqual(o.cfg, nc) }); j >= 0 {
			kept[i] = removed[j]
			removed = slices.Delete(removed, j, j+1)
		}
	}
	outs := make([]*outlet, len(cfg.Notifiers))
	for i, nc := range cfg.Notifiers {
		if outs[i] = kept[i]; outs[i] != nil {
			continue
		}
		n := Build(nc, m.opts.Client)
		if s, ok := n.(*slackNotifier); ok {
			for _, o := range removed {
				if prev, ok := o.n.(*slackNotifier); ok && s.sameBot(prev) {
					s.threads = prev.threads // recoveries reply under openings it posted
				}
			}
		}
		outs[i] = m.startOutlet(n, nc, cfg.QueueSize, removed...)
	}
	for _, o := range removed {
		close(o.queue) // nothing sends to it once m.outs no longer holds it
		o.retire()
	}
	m.retired = append(m.retired, removed...)
	m.outs = outs
}

// outlets returns the notifiers in force.
func (m *Manager) outlets() []*outlet {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.outs
}

// Build returns the notifier a config entry describes.
func Build(nc config.Notifier, client *http.Client) Notifier {
	switch nc.Type {
	case "slack":
		return newSlack(nc, client)
	case "pagerduty":
		return &pagerDuty{cfg: nc, client: client}
	}
	return &webhook{cfg: nc, client: client}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Start runs Tick every interval until Close.
func (m *Manager) Start(interval time.Duration) {
	m.tickDone = make(chan struct{})
	go func() {
		defer close(m.tickDone)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				m.Tick()
			case <-m.stop:
				return
			}
		}
	}()
}

// Handle is the event-bus subscriber.
func (m *Manager) Handle(e events.Event) {
	if e.Kind == events.Budget {
		until, _ := time.Parse(time.RFC3339, e.Labels["until"])
		m.mu.Lock()
		defer m.mu.Unlock()
		m.send(KindBudget, Item{Key: alertKey("budget "+e.Labels["scope"]+" "+e.Labels["name"], until), Labels: e.Labels,
			To: "spent", Reason: e.Reason, At: e.At})
		return
	}
	if e.Kind == events.Cooldown {
		m.cooledDown(e)
		return
	}
	if e.Kind == events.Slow {
		m.slow(KindSlow, &m.slowSent, e)
		return
	}
	if e.Kind == events.Hanging {
		m.slow(KindHanging, &m.hangingSent, e)
		return
	}
	if e.Kind != events.Transition {
		return
	}
	t := e.Transition
	if t.Extends() {
		return // an open breaker stays open, a little longer: nothing to tell
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.state[t.Breaker]
	if st == nil {
		st = &bstate{}
		m.state[t.Breaker] = st
	}
	st.last, st.lastChange = t, t.At
	cutoff := t.At.Add(-m.cfg.FlapWindow)
	st.changes = append(slices.DeleteFunc(st.changes, func(x time.Time) bool { return x.Before(cutoff) }), t.At)
	if st.flapping {
		return // quiet until stable; Tick ends it
	}
	if len(st.changes) > m.cfg.FlapThreshold {
		st.flapping = true
		m.dropPending(t.Breaker)
		it := itemOf(t, st.key)
		it.Changes = len(st.changes)
		m.send(KindFlapping, it)
		return
	}
	opening := (t.To == breaker.Open || t.To == breaker.ForcedOpen) && t.OpenedAt.IsZero()
	switch {
	case opening:
		st.firing, st.openedAt, st.key = true, t.At, alertKey(t.Breaker, t.At)
		it := itemOf(t, st.key)
		it.Fallback = m.fallback(t.Breaker)
		if m.cfg.GroupWindow <= 0 {
			st.lastSent = t.At
			m.send(KindOpen, it)
			return
		}
		if len(m.pending) == 0 {
			m.groupDue = m.opts.Clock.Now().Add(m.cfg.GroupWindow)
		}
		m.pending = append(m.pending, it)
	case (t.To == breaker.Closed || t.To == breaker.Disabled) && st.firing:
		st.firing = false
		if m.dropPending(t.Breaker) {
			return // opened and closed within the group window: a blip, nothing sent
		}
		m.send(KindResolved, itemOf(t, st.key))
	case t.To == breaker.HalfOpen:
		m.send(KindHalfOpen, itemOf(t, st.key))
	}
}

// cooledDown sends a cooldown alert, unless the breaker had one within
// CooldownAlertEvery.
func (m *Manager) cooledDown(e events.Event) {
	name := e.Labels["breaker"]
	m.mu.Lock()
	defer m.mu.Unlock()
	if !due(&m.cooldownSent, name, e.At, CooldownAlertEvery) {
		return
	}
	m.send(KindCooldown, Item{Key: alertKey("cooldown "+name, e.At), Breaker: name, Labels: e.Labels, To: "cooldown",
		Reason: e.Reason, At: e.At, Fallback: m.fallback(name)})
}

// slow sends a slow (or hanging) alert, unless the breaker had one of
// the kind within SlowAlertEvery (sent records when).
func (m *Manager) slow(kind Kind, sent *map[string]time.Time, e events.Event) {
	name := e.Labels["breaker"]
	m.mu.Lock()
	defer m.mu.Unlock()
	if !due(sent, name, e.At, SlowAlertEvery) {
		return
	}
	m.send(kind, Item{Key: alertKey(string(kind)+" "+name, e.At), Breaker: name, Labels: e.Labels, To: string(kind), Reason: e.Reason, At: e.At})
}

// due reports whether an alert for breaker name at at may go, given when
// its last of the kind went (sent): not within every of it. It records
// this one when it may.
func due(sent *map[string]time.Time, name string, at time.Time, every time.Duration) bool {
	if last, ok := (*sent)[name]; ok && at.Sub(last) < every {
		return false
	}
	if *sent == nil {
		*sent = map[string]time.Time{}
	}
	(*sent)[name] = at
	return true
}

// dropPending removes a breaker's unsent opening, reporting whether there
// was one.
func (m *Manager) dropPending(name string) bool {
	n := len(m.pending)
	m.pending = slices.DeleteFunc(m.pending, func(it Item) bool { return it.Breaker == name })
	return len(m.pending) < n
}

func (m *Manager) fallback(name string) string {
	if m.opts.Fallback == nil {
		return ""
	}
	return m.opts.Fallback(name)
}

// Tick does what is due: send grouped openings whose window has closed,
// end flapping for breakers stable long enough, and send reminders.
func (m *Manager) Tick() {
	now := m.opts.Clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.pending) > 0 && !now.Before(m.groupDue) {
		m.flushPending(now)
	}
	names := make([]string, 0, len(m.state))
	for n := range m.state {
		names = append(names, n)
	}
	slices.Sort(names)
	var reminders []Item
	for _, name := range names {
		st := m.state[name]
		if st.flapping && now.Sub(st.lastChange) >= m.cfg.StableAfter {
			st.flapping, st.changes = false, nil
			t := st.last
			switch {
			case t.To == breaker.Closed || t.To == breaker.Disabled:
				if st.firing {
					st.firing = false
					it := itemOf(t, st.key)
					it.Reason = "stable again: " + t.Reason
					it.OpenFor = t.At.Sub(st.openedAt)
					m.send(KindResolved, it)
				}
			default:
				if !st.firing {
					st.firing, st.openedAt, st.key = true, t.At, alertKey(name, t.At)
				}
				st.lastSent = now
				it := itemOf(t, st.key)
				it.Reason = "stable, but open: " + t.Reason
				it.Fallback = m.fallback(name)
				m.send(KindOpen, it)
			}
			continue
		}
		if st.firing && !st.flapping && m.cfg.ReminderInterval > 0 && now.Sub(st.lastSent) >= m.cfg.ReminderInterval {
			st.lastSent = now
			it := itemOf(st.last, st.key)
			it.OpenFor = now.Sub(st.openedAt)
			it.Fallback = m.fallback(name)
			reminders = append(reminders, it)
		}
	}
	if len(reminders) > 0 {
		m.send(KindReminder, reminders...)
	}
}

func (m *Manager) flushPending(now time.Time) {
	for _, it := range m.pending {
		if st := m.state[it.Breaker]; st != nil {
			st.lastSent = now
		}
	}
	m.send(KindOpen, m.pending...)
	m.pending = nil
}

// send queues an alert for every notifier whose filter keeps some of its
// items. It never blocks: a full queue drops the alert (and counts it).
func (m *Manager) send(kind Kind, items ...Item) {
	for _, o := range m.outs {
		kept := o.filter(kind, items)
		if len(kept) == 0 {
			continue
		}
		a := &Alert{ID: newID(), Kind: kind, At: m.opts.Clock.Now(), Items: kept,
			DashboardURL: m.cfg.DashboardURL, RunbookURL: m.cfg.RunbookURL}
		select {
		case o.queue <- a:
		default:
			o.mu.Lock()
			o.dropped++
			o.mu.Unlock()
			m.log.Warn("alert dropped: queue full", "notifier", o.n.Name(), "kind", string(kind))
		}
	}
}

// defaultKinds are sent to notifiers that name no transitions.
var defaultKinds = []string{"open", "resolved", "flapping", "reminder", "budget_spent"}

func (o *outlet) filter(kind Kind, items []Item) []Item {
	kinds := o.cfg.Transitions
	if len(kinds) == 0 {
		kinds = defaultKinds
	}
	if !slices.Contains(kinds, string(kind)) {
		return nil
	}
	var out []Item
	for _, it := range items {
		if len(o.cfg.Providers) > 0 && !slices.Contains(o.cfg.Providers, it.Labels["provider"]) {
			continue
		}
		if len(o.cfg.Breakers) > 0 && !slices.ContainsFunc(o.cfg.Breakers, func(p string) bool {
			ok, _ := path.Match(p, it.Breaker)
			return ok || p == it.Breaker
		}) {
			continue
		}
		out = append(out, it)
	}
	return out
}

// deliver sends one notifier's alerts in order, retrying transient
// failures with exponential backoff.
func (m *Manager) deliver(o *outlet) {
	defer close(o.done)
	for a := range o.queue {
		err := m.sendWithRetry(o, a)
		o.mu.Lock()
		if err != nil {
			o.failed++
		} else {
			o.sent++
		}
		o.mu.Unlock()
		if err != nil {
			m.log.Error("alert not delivered", "notifier", o.n.Name(), "kind", string(a.Kind), "error", err.Error())
			if o.removed.Err() != nil {
				m.giveUp(o)
				return
			}
		}
	}
}

// giveUp drops what a removed notifier that failed still has queued.
func (m *Manager) giveUp(o *outlet) {
	n := 0
	for range o.queue {
		n++
	}
	if n > 0 {
		m.log.Warn("alerts dropped: the notifier was removed by a reload and fails", "notifier", o.n.Name(), "dropped", n)
	}
}

func (m *Manager) sendWithRetry(o *outlet, a *Alert) error {
	timeout := o.cfg.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	backoff := time.Second
	var err error
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err = o.n.Send(ctx, a)
		cancel()
		m.mu.Lock() // Reconfigure may change it
		maxRetries := m.cfg.MaxRetries
		m.mu.Unlock()
		if err == nil || !Retryable(err) || attempt >= maxRetries || o.removed.Err() != nil {
			return err
		}
		if serr := m.opts.Sleep(o.removed, backoff); serr != nil {
			return err
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// SendNow delivers a to every notifier synchronously, without filters or
// retries, and returns each notifier's error (nil on success). alert-test
// uses it.
func (m *Manager) SendNow(ctx context.Context, a *Alert) map[string]error {
	out := map[string]error{}
	for _, o := range m.outlets() {
		timeout := o.cfg.Timeout
		if timeout <= 0 {
			timeout = 10 * time.Second
		}
		sctx, cancel := context.WithTimeout(ctx, timeout)
		out[o.n.Name()] = o.n.Send(sctx, a)
		cancel()
	}
	return out
}

// Close sends grouped openings still waiting, then waits for every queue
// to drain, or until ctx ends.
func (m *Manager) Close(ctx context.Context) error {
	m.stopOnce.Do(func() { close(m.stop) })
	if m.tickDone != nil {
		<-m.tickDone
	}
	m.closeOnce.Do(func() {
		m.mu.Lock()
		if len(m.pending) > 0 {
			m.flushPending(m.opts.Clock.Now())
		}
		for _, o := range m.outs {
			close(o.queue)
		}
		m.closed = true
		m.mu.Unlock()
	})
	m.mu.Lock()
	all := append(slices.Clip(m.outs), m.retired...)
	m.mu.Unlock()
	for _, o := range all {
		select {
		case <-o.done:
		case <-ctx.Done():
			return errors.New("alerting: pending alerts not delivered before the shutdown deadline")
		}
	}
	return nil
}

var (
	descSent    = prometheus.NewDesc("breakerd_alerts_sent_total", "Alerts delivered, per notifier.", []string{"notifier"}, nil)
	descFailed  = prometheus.NewDesc("breakerd_alerts_failed_total", "Alerts that could not be delivered after retries, per notifier.", []string{"notifier"}, nil)
	descDropped = prometheus.NewDesc("breakerd_alerts_dropped_total", "Alerts dropped because a notifier's queue was full.", []string{"notifier"}, nil)
	descQueue   = prometheus.NewDesc("breakerd_alerts_queue_depth", "Alerts waiting for delivery, per notifier.", []string{"notifier"}, nil)
)

// Describe implements prometheus.Collector.
func (m *Manager) Describe(ch chan<- *prometheus.Desc) {
	ch <- descSent
	ch <- descFailed
	ch <- descDropped
	ch <- descQueue
}

// Collect implements prometheus.Collector.
func (m *Manager) Collect(ch chan<- prometheus.Metric) {
	for _, o := range m.outlets() {
		o.mu.Lock()
		sent, failed, dropped := o.sent, o.failed, o.dropped
		o.mu.Unlock()
		name := o.n.Name()
		ch <- prometheus.MustNewConstMetric(descSent, prometheus.CounterValue, sent, name)
		ch <- prometheus.MustNewConstMetric(descFailed, prometheus.CounterValue, failed, name)
		ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, dropped, name)
		ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(len(o.queue)), name)
	}
}
