// Package daemon assembles breakerd: the gateway and the endpoints around
// it, with one event fan-out feeding metrics, tracing, alerting and logs.
// The serve and demo commands and the end-to-end tests all build it the
// same way.
package daemon

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/breakerd/breakerd/admin"
	"github.com/breakerd/breakerd/alerting"
	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/events"
	"github.com/breakerd/breakerd/fleet"
	"github.com/breakerd/breakerd/gateway"
	"github.com/breakerd/breakerd/health"
	"github.com/breakerd/breakerd/internal/lograte"
	"github.com/breakerd/breakerd/metrics"
	"github.com/breakerd/breakerd/provider"
	"github.com/breakerd/breakerd/tracing"
)

// Version is breakerd's version, reported in metrics and traces.
const Version = "0.1.0"

// Options configure a Daemon. Only Config is required.
type Options struct {
	Config *config.Config
	Logger *slog.Logger
	// LogLevel, when set, is the level Logger logs at: a reload puts a
	// changed logging.level in force through it. nil: a changed level
	// needs a restart.
	LogLevel *slog.LevelVar
	// Clock drives breakers, rate limits and alerting; nil means the
	// system clock.
	Clock breaker.Clock
	// Client makes upstream calls; nil means a pooled client.
	Client *http.Client
	// TracerProvider makes spans; nil means no tracing.
	TracerProvider trace.TracerProvider
	// AlertTick is how often alert timers (grouping, flapping, reminders)
	// are checked; 0 means every second, negative means never (tests call
	// Alerts().Tick themselves).
	AlertTick time.Duration
	// Inspect makes a daemon only to be looked at (check-config): it runs
	// no background health checks, which would call every deployment.
	Inspect bool
}

// Daemon is a configured breakerd.
type Daemon struct {
	cfg *config.Config
	// probes runs the background health checks (probes.go).
	probes   *prober
	log      *slog.Logger
	logLevel *slog.LevelVar // nil: not set by reloads
	// conns bounds the API listener's connections while Serve runs
	// (server.max_connections); fullLog limits its log line to one a
	// second.
	conns   atomic.Pointer[connLimit]
	fullLog lograte.Limiter
	// pauseLog limits the line logged when load shedding pauses accepting
	// connections to one a second.
	pauseLog lograte.Limiter
	// live is the gateway of the config in force, swapped by Reload;
	// gwOpts make each one, reloadMu orders reloads.
	live      atomic.Pointer[live]
	gwOpts    gateway.Options
	ownClient *http.Client
	reloadMu  sync.Mutex
	// cut ends the upstream calls of every gateway at the end of a
	// shutdown's grace period.
	cut     context.Context
	cutAll  context.CancelFunc
	bus     *events.Bus
	metrics *metrics.Metrics
	health  atomic.Pointer[health.Checker] // the policy in force; a reload replaces it
	alerts  *alerting.Manager
	fleet   *fleet.Fleet
	redis   redis.UniversalClient
	// cacheRedis is the response cache's own Redis (cacheStore), nil
	// when the config in force names none; under reloadMu.
	cacheRedis *cacheRedis
	admin      *admin.API
	handler    http.Handler
	// ready is closed once the listeners are up, draining from the moment
	// shutdown begins. Load balancers read both through /readyz.
	ready, draining         chan struct{}
	readyOnce, drainingOnce sync.Once
}

// Ready is closed once Serve's listeners all accept connections.
func (d *Daemon) Ready() <-chan struct{} { return d.ready }

// Draining is closed when shutdown begins and /readyz turns 503.
func (d *Daemon) Draining() <-chan struct{} { return d.draining }

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// New builds a daemon from a loaded config.
func New(opts Options) (*Daemon, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tp := opts.TracerProvider
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	d := &Daemon{cfg: opts.Config, log: log, logLevel: opts.LogLevel, bus: events.NewBus(), ready: make(chan struct{}),
		draining: make(chan struct{})}
	var configure func(*breaker.Settings)
	if rc := opts.Config.Router; rc.State == "redis" {
		client, err := redisClient(rc.Redis)
		if err != nil {
			return nil, err
		}
		d.redis = client
		// The gate is the fleet's, which needs the registry the gateway
		// builds; the closure reads it once it exists.
		configure = func(s *breaker.Settings) {
			s.TrialGate = func(name string) (func(), bool) { return d.fleet.TrialGate(name) }
		}
	}
	client := opts.Client
	if client == nil {
		// One upstream pool for every gateway a reload makes.
		client = gateway.NewUpstreamClient()
		if opts.Config.Router.ForceIPv4 {
			gateway.ForceIPv4(client)
		}
		d.ownClient = client
	}
	d.cut, d.cutAll = context.WithCancel(context.Background())
	d.gwOpts = gateway.Options{Clock: opts.Clock, Client: client, Logger: log, TracerProvider: tp, Cut: d.cut,
		Detached: new(sync.WaitGroup), Draining: d.draining,
		Observer: gateway.Observers(publisher{bus: d.bus, d: d}, lazyObserver{d}), ConfigureBreaker: configure}
	gwo := d.gwOpts
	gwo.Config = opts.Config
	gw, err := gateway.New(gwo)
	if err != nil {
		if d.redis != nil {
			d.redis.Close()
		}
		return nil, err
	}
	d.live.Store(&live{gw: gw, h: gw.Handler(), cfg: opts.Config})
	d.metrics = metrics.New(liveSource{d}, metrics.Options{Version: Version, Bus: d.bus,
		Healthy: func() bool { return d.health.Load().Check(false).Healthy }, LiteLLMNames: opts.Config.Metrics.LiteLLMNames})
	for _, w := range slices.Concat(opts.Config.Warnings, opts.Config.KeyWarnings()) {
		log.Warn("config warning", "warning", w)
	}
	d.bus.Subscribe("metrics", 8192, d.metrics)
	d.bus.Subscribe("tracing", 1024, tracing.TransitionSpans(tp))
	d.bus.Subscribe("logs", 1024, logSubscriber(log))
	gw.Registry().AddListener(func(t breaker.Transition) { d.bus.Publish(events.TransitionEvent(t)) })

	d.health.Store(health.New(liveSource{d}, opts.Config.Health))
	if d.redis != nil {
		rc := opts.Config.Router.Redis
		d.fleet = fleet.New(fleet.Options{Client: d.redis, Namespace: rc.Namespace, Registry: gw.Registry(),
			Clock: gw.Clock(), Logger: log, FlushInterval: rc.FlushInterval, RateLimits: rateLimits(gw),
			Budgets: budgets(gw)})
		d.metrics.Registry().MustRegister(d.fleet)
		d.fleet.Start()
	}
	d.shareWithFleet(gw, opts.Config)
	d.alerts = alerting.New(opts.Config.Alerting, alerting.Options{Clock: gw.Clock(), Client: alertClient(opts.Client),
		Logger: log, Fallback: d.servedBy})
	d.metrics.Registry().MustRegister(d.alerts)
	d.bus.Subscribe("alerting", 1024, d.alerts)
	if opts.AlertTick >= 0 {
		d.alerts.Start(cmp.Or(opts.AlertTick, time.Second))
	}
	if tok := opts.Config.Admin.Token.Value(); tok != "" {
		d.admin = admin.New(gw.Registry(), tok, log)
		d.admin.Reload = d.reloadFromFile
	}

	// Health endpoints ask the checker in force: a reload may change the
	// policy.
	checked := func(h func(*health.Checker) http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(d.health.Load()).ServeHTTP(w, r) })
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.metrics.Handler())
	mux.Handle("GET /health", checked((*health.Checker).Handler))
	mux.Handle("GET /health/circuit-breakers", checked((*health.Checker).BreakersHandler))
	mux.HandleFunc("GET /livez", livez)
	mux.HandleFunc("GET /readyz", d.readyz)
	// LiteLLM's probe paths, so that manifests and healthchecks written for
	// a LiteLLM proxy keep working when breakerd replaces it.
	mux.HandleFunc("GET /health/liveliness", livez)
	mux.HandleFunc("GET /health/liveness", livez)
	mux.HandleFunc("GET /health/readiness", d.readyz)
	mux.HandleFunc("GET /provider/budgets", d.providerBudgets)
	mux.Handle("GET /{$}", health.PageHandler())
	mux.Handle("GET /status.json", checked((*health.Checker).StatusHandler))
	if d.admin != nil && opts.Config.Admin.Listen == "" {
		mux.Handle("/admin/", d.admin.Handler())
	}
	// The API goes to the gateway of the config in force: a reload swaps
	// it for new requests while those under way finish on the old one.
	api := func(w http.ResponseWriter, r *http.Request) { d.live.Load().h.ServeHTTP(w, r) }
	mux.HandleFunc("/", api)
	// /v1/ is all the API's: such a request skips this mux's matching.
	d.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			api(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	d.probes = newProber(d)
	if opts.Inspect {
		d.probes.closed = true
	}
	d.probes.arm(0) // a first round at start, as LiteLLM's
	return d, nil
}

// redisClient connects to the shared-state Redis: one server, or the
// master Redis Sentinel names, or a Redis Cluster (the response cache's
// may be either). Connecting is lazy: a Redis that is down at startup
// only means local state until it is up.
func redisClient(rc config.Redis) (redis.UniversalClient, error) {
	if u := rc.URL.Value(); u != "" {
		opts, err := redis.ParseURL(u)
		if err != nil {
			return nil, errors.New("router_settings.redis_url: not a valid redis:// URL")
		}
		return redis.NewClient(opts), nil
	}
	const timeout = 500 * time.Millisecond
	var tc *tls.Config
	if rc.TLS {
		host, _, _ := net.SplitHostPort(rc.Addr)
		tc = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	switch {
	case len(rc.Sentinels) > 0:
		return redis.NewFailoverClient(&redis.FailoverOptions{MasterName: rc.MasterName, SentinelAddrs: rc.Sentinels,
			SentinelPassword: rc.SentinelPassword.Value(), Username: rc.Username, Password: rc.Password.Value(), DB: rc.DB,
			DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout, MaxRetries: 1, TLSConfig: tc}), nil
	case len(rc.ClusterNodes) > 0:
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: rc.ClusterNodes, Username: rc.Username, Password: rc.Password.Value(),
			DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout, MaxRetries: 1, TLSConfig: tc}), nil
	}
	return redis.NewClient(&redis.Options{Addr: rc.Addr, Username: rc.Username, Password: rc.Password.Value(), DB: rc.DB,
		DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout, MaxRetries: 1, TLSConfig: tc}), nil
}

// Fleet returns the shared-state link, nil with local state.
func (d *Daemon) Fleet() *fleet.Fleet { return d.fleet }

// budgets names every budget for the fleet to share: "provider:openai",
// "deployment:<name>".
func budgets(gw *gateway.Gateway) map[string]fleet.Budget {
	out := map[string]fleet.Budget{}
	for _, b := range gw.Budgets() {
		out[b.Scope+":"+b.Name] = b
	}
	return out
}

// rateLimits names every deployment's enforced rpm and tpm limit for the
// fleet to share.
func rateLimits(gw *gateway.Gateway) map[string]*breaker.RateLimit {
	out := map[string]*breaker.RateLimit{}
	for _, grp := range gw.Groups() {
		for _, dep := range grp.Deployments {
			if dep.RPM != nil {
				out[dep.Config.Name+":rpm"] = dep.RPM
			}
			if dep.TPM != nil {
				out[dep.Config.Name+":tpm"] = dep.TPM
			}
		}
	}
	return out
}

// alertClient is the HTTP client for notifications: the given one (tests)
// or one with its own pool.
func alertClient(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
}

// servedBy names the deployment that now serves the group of breaker
// name, for alerts ("now served by ...").
func (d *Daemon) servedBy(name string) string {
	b, ok := d.Gateway().Registry().Lookup(name)
	if !ok {
		return ""
	}
	for _, g := range d.health.Load().Check(true).Groups {
		if g.Name == b.Labels()["model_group"] {
			return g.ServedBy
		}
	}
	return ""
}

// shareWithFleet has gw, of cfg, charge each finished batch once in the
// fleet, and keep its deployment affinity's pins and its response
// cache's answers there, when there is one; answers go to the cache's
// own Redis instead when cfg names one.
func (d *Daemon) shareWithFleet(gw *gateway.Gateway, cfg *config.Config) {
	if d.fleet != nil {
		gw.ShareBatchCharges(func(id string) bool { return d.fleet.First("batch:" + id) })
		gw.SharePins(d.fleet)
		gw.ShareAnswers(d.fleet)
	}
	if store := d.cacheStore(cfg); store != nil {
		gw.ShareAnswers(store)
	}
}

// cacheStore returns the store of the response cache's own Redis
// (config.Cache.Redis), made once for each Redis a config names: a reload
// that names another makes a new one. nil when cfg names none, or its
// URL is not one.
func (d *Daemon) cacheStore(cfg *config.Config) gateway.AnswerStore {
	if cfg.Cache == nil || cfg.Cache.Redis == nil {
		return nil
	}
	rc := *cfg.Cache.Redis
	if c := d.cacheRedis; c != nil && reflect.DeepEqual(c.at, rc) {
		return c.store
	}
	client, err := redisClient(rc)
	if err != nil {
		d.log.Error("response cache: answers only in memory", "error", "litellm_settings.cache_params.url: not a valid redis:// URL")
		return nil
	}
	if old := d.cacheRedis; old != nil {
		old.client.Close() // the gateway that used it is being replaced
	}
	d.cacheRedis = &cacheRedis{at: rc, client: client, store: fleet.NewAnswers(client, rc.Namespace, 0, d.Gateway().Clock(), d.log)}
	return d.cacheRedis.store
}

// cacheRedis is the response cache's own Redis.
type cacheRedis struct {
	at     config.Redis
	client redis.UniversalClient
	store  *fleet.Answers
}

// Alerts returns the daemon's alert manager.
func (d *Daemon) Alerts() *alerting.Manager { return d.alerts }

// readyz is 200 once the listeners are up and until shutdown begins.
func (d *Daemon) readyz(w http.ResponseWriter, r *http.Request) {
	switch {
	case closed(d.draining):
		plain(w, http.StatusServiceUnavailable, "draining: shutting down, finishing in-flight requests")
	case !closed(d.ready):
		plain(w, http.StatusServiceUnavailable, "starting")
	default:
		plain(w, http.StatusOK, "ready")
	}
}

// providerBudgets answers LiteLLM's GET /provider/budgets: each
// provider budget's limit and window, what was spent in the window open
// now, and when that window ends (null with none open).
func (d *Daemon) providerBudgets(w http.ResponseWriter, r *http.Request) {
	gw := d.live.Load().gw
	now := gw.Clock().Now()
	providers := map[string]any{}
	for _, b := range gw.Budgets() {
		if b.Scope != "provider" {
			continue
		}
		spent, ends := b.Spent(now)
		var reset any
		if !ends.IsZero() {
			reset = ends.UTC().Format(time.RFC3339)
		}
		providers[b.Name] = map[string]any{"budget_limit": b.Config.Limit, "time_period": b.Config.Text, "spend": spent, "budget_reset_at": reset}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"providers": providers})
}

func plain(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg + "\n"))
}

// lazyObserver forwards to the metrics observer, which is built after the
// gateway it observes.
type lazyObserver struct{ d *Daemon }

func (l lazyObserver) o() gateway.Observer               { return l.d.metrics.Observer() }
func (l lazyObserver) RequestDone(r gateway.RequestInfo) { l.o().RequestDone(r) }
func (l lazyObserver) AttemptDone(a gateway.AttemptInfo) { l.o().AttemptDone(a) }
func (l lazyObserver) Skipped(d *gateway.Deployment, op provider.Operation, r string) {
	l.o().Skipped(d, op, r)
}
func (l lazyObserver) Retried(d *gateway.Deployment, op provider.Operation) { l.o().Retried(d, op) }
func (l lazyObserver) FellBack(g string, from, to *gateway.Deployment, r string) {
	l.o().FellBack(g, from, to, r)
}
func (l lazyObserver) BudgetSpent(b *gateway.Budget, spent float64, until time.Time) {
	l.o().BudgetSpent(b, spent, until)
}
func (l lazyObserver) CooledDown(d *gateway.Deployment, op provider.Operation, until time.Time, msg string) {
	l.o().CooledDown(d, op, until, msg)
}
func (l lazyObserver) BatchCharged(d *gateway.Deployment, u provider.Usage, usd float64) {
	l.o().BatchCharged(d, u, usd)
}
func (l lazyObserver) Probed(p gateway.ProbeInfo) { l.o().Probed(p) }
func (l lazyObserver) Hanging(d *gateway.Deployment, op provider.Operation, waited time.Duration) {
	l.o().Hanging(d, op, waited)
}

// publisher turns gateway events into bus events.
type publisher struct {
	bus *events.Bus
	d   *Daemon // for the config in force's slow-alert threshold
}

func (publisher) RequestDone(gateway.RequestInfo) {}

// AttemptDone publishes an answer (a stream's first chunk) that took at
// least alerting_threshold, or a call cut after hanging that long.
func (p publisher) AttemptDone(a gateway.AttemptInfo) {
	l := p.d.live.Load()
	if l == nil {
		return
	}
	limit := l.cfg.Alerting.SlowThreshold
	took, what := a.Duration, "answered after %s"
	switch {
	case a.TTFT > 0:
		took, what = a.TTFT, "streamed its first chunk after %s"
	case a.ErrType == "timeout":
		what = "gave no answer in %s, and was cut (timeout)"
	case a.ErrType != "":
		return // a failure: the breaker's to tell
	}
	if limit <= 0 || took < limit {
		return
	}
	p.slow(events.Slow, a.Deployment, a.Op, took, what, limit)
}

// Hanging publishes a call that has waited alerting_threshold for its
// answer, and waits still.
func (p publisher) Hanging(d *gateway.Deployment, op provider.Operation, waited time.Duration) {
	p.slow(events.Hanging, d, op, waited, "has given no answer for %s, and is still waiting", waited)
}

// slow publishes a slow or hanging call of d's op: what, with how long it
// took, and the threshold limit.
func (p publisher) slow(kind events.Kind, d *gateway.Deployment, op provider.Operation, took time.Duration, what string, limit time.Duration) {
	if took >= time.Second {
		took = took.Round(time.Second)
	} else {
		took = took.Round(time.Millisecond)
	}
	br := d.Breakers[op]
	labels := maps.Clone(br.Labels())
	labels["breaker"], labels["took"] = br.Name(), took.String()
	p.bus.Publish(events.Event{Kind: kind, At: time.Now(), Deployment: d.Config.Name, Operation: string(op),
		Reason: fmt.Sprintf(what+" (alerting_threshold %s)", took, limit), Labels: labels})
}
func (publisher) BatchCharged(*gateway.Deployment, provider.Usage, float64) {}
func (publisher) Probed(gateway.ProbeInfo)                                  {}
func (p publisher) Skipped(d *gateway.Deployment, op provider.Operation, reason string) {
	p.bus.Publish(events.Event{Kind: events.Rejection, At: time.Now(), Deployment: d.Config.Name,
		Operation: string(op), Reason: reason, Labels: d.Breakers[op].Labels()})
}
func (p publisher) Retried(d *gateway.Deployment, op provider.Operation) {
	p.bus.Publish(events.Event{Kind: events.Retry, At: time.Now(), Deployment: d.Config.Name,
		Operation: string(op), Labels: d.Breakers[op].Labels()})
}
func (p publisher) FellBack(group string, from, to *gateway.Deployment, reason string) {
	p.bus.Publish(events.Event{Kind: events.Fallback, At: time.Now(), Group: group, Deployment: from.Config.Name,
		To: to.Config.Name, Reason: reason, Labels: from.Config.Labels()})
}
func (p publisher) CooledDown(d *gateway.Deployment, op provider.Operation, until time.Time, msg string) {
	labels := maps.Clone(d.Breakers[op].Labels())
	labels["until"], labels["breaker"] = until.UTC().Format(time.RFC3339), d.Breakers[op].Name()
	p.bus.Publish(events.Event{Kind: events.Cooldown, At: time.Now(), Deployment: d.Config.Name, Operation: string(op),
		Reason: msg, Labels: labels})
}

func (p publisher) BudgetSpent(b *gateway.Budget, spent float64, until time.Time) {
	p.bus.Publish(events.Event{Kind: events.Budget, At: time.Now(),
		Reason: b.SpentText(spent, until),
		Labels: map[string]string{"scope": b.Scope, "name": b.Name, "provider": b.Provider, "budget": b.Config.String(),
			"until": until.UTC().Format(time.RFC3339)}})
}

// logSubscriber logs each transition on one line with its reason; other
// gateway events go to debug.
func logSubscriber(log *slog.Logger) events.Subscriber {
	return events.SubscriberFunc(func(e events.Event) {
		switch e.Kind {
		case events.Transition:
			t := e.Transition
			if t.Extends() {
				log.Info("circuit breaker stays open longer", "breaker", t.Breaker, "reason", t.Reason,
					"until", t.OpenUntil.UTC().Format(time.RFC3339))
				return
			}
			level := slog.LevelInfo
			if t.To == breaker.Open || t.To == breaker.ForcedOpen {
				level = slog.LevelWarn
			}
			log.Log(context.Background(), level, "circuit breaker "+t.From.String()+" -> "+t.To.String(),
				"breaker", t.Breaker, "reason", t.Reason, "failures", t.Counts.Failures, "rejected", t.Counts.Rejected)
		case events.Fallback:
			log.Debug("fallback", "model_group", e.Group, "from", e.Deployment, "to", e.To, "reason", e.Reason)
		case events.Retry:
			log.Debug("retry", "deployment", e.Deployment, "operation", e.Operation)
		case events.Rejection:
			log.Debug("deployment skipped", "deployment", e.Deployment, "operation", e.Operation, "reason", e.Reason)
		case events.Cooldown:
			log.Info("deployment cooling down: its provider answered 429", "deployment", e.Deployment, "operation", e.Operation,
				"until", e.Labels["until"], "message", e.Reason)
		case events.Budget:
			log.Warn("budget spent: what it covers is passed over until its window ends", "scope", e.Labels["scope"],
				"name", e.Labels["name"], "budget", e.Labels["budget"], "until", e.Labels["until"])
		}
	})
}

// Gateway returns the daemon's gateway.
func (d *Daemon) Gateway() *gateway.Gateway { return d.live.Load().gw }

// Metrics returns the daemon's metrics.
func (d *Daemon) Metrics() *metrics.Metrics { return d.metrics }

// Bus returns the daemon's event fan-out.
func (d *Daemon) Bus() *events.Bus { return d.bus }

// Handler returns the daemon's HTTP handler.
func (d *Daemon) Handler() http.Handler { return d.handler }

// livez answers a liveness probe: the process serves HTTP.
func livez(w http.ResponseWriter, r *http.Request) { plain(w, http.StatusOK, "ok") }

// Serve serves on ln (and on server.metrics_listen and admin.listen, if
// set) until ctx ends. Then /readyz turns 503 and breakerd keeps serving
// for server.shutdown_drain, so load balancers stop sending new requests,
// before it stops accepting and waits for in-flight requests to finish.
func (d *Daemon) Serve(ctx context.Context, ln net.Listener) error {
	type listener struct {
		ln net.Listener
		h  http.Handler
	}
	maxConns := d.cfg.Server.MaxConnections
	if maxConns == 0 {
		maxConns = defaultMaxConnections(openFileLimit())
	}
	if maxConns > 0 {
		cl := limitConns(ln, maxConns, func() {
			if ok, skipped := d.fullLog.Allow(time.Now(), time.Second); ok {
				d.log.Warn("at server.max_connections: new client connections wait in the listen queue until one closes",
					"max_connections", maxConns, "not_logged_since_last", skipped)
			}
		})
		cl.pause = func(open int64) bool { return d.Gateway().PauseAccept(open) }
		cl.paused = func() {
			if ok, skipped := d.pauseLog.Allow(time.Now(), time.Second); ok {
				d.log.Warn("overloaded (load shedding refusing requests, or over its latency targets): new client connections wait in the listen queue while twice the concurrency limit are open",
					"not_logged_since_last", skipped)
			}
		}
		d.conns.Store(cl)
		defer d.conns.Store(nil)
		ln = cl
	}
	ls := []listener{{ln, d.handler}}
	extra := func(addr, what string, h http.Handler) error {
		l, err := Listen(ctx, addr)
		if err != nil {
			for _, x := range ls[1:] {
				x.ln.Close()
			}
			return fmt.Errorf("%s listen: %w", what, err)
		}
		d.log.Info(what+" listening", "addr", l.Addr().String())
		ls = append(ls, listener{l, h})
		return nil
	}
	if addr := d.cfg.Server.MetricsListen; addr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", d.metrics.Handler())
		// Liveness too: this listener never waits for connections as the
		// API listener does under overload, when a probe there would
		// fail and get a busy replica restarted.
		mux.HandleFunc("GET /livez", livez)
		if err := extra(addr, "metrics", mux); err != nil {
			return err
		}
	}
	if addr := d.cfg.Admin.Listen; addr != "" && d.admin != nil {
		if err := extra(addr, "admin", d.admin.Handler()); err != nil {
			return err
		}
	}
	servers := make([]*http.Server, len(ls))
	errc := make(chan error, len(ls))
	for i, l := range ls {
		servers[i] = &http.Server{Handler: l.h, ReadHeaderTimeout: d.cfg.Server.ReadHeaderTimeout,
			IdleTimeout: d.cfg.Server.IdleTimeout}
		if cl, ok := l.ln.(*connLimit); ok {
			servers[i].ConnState = cl.connState
		}
		go func() { errc <- servers[i].Serve(l.ln) }()
	}
	d.readyOnce.Do(func() { close(d.ready) })
	var first error
	received := 0
	select {
	case first = <-errc: // a listener failed: shut the others down too
		received = 1
	case <-ctx.Done():
		d.drainingOnce.Do(func() { close(d.draining) })
		if drain := d.cfg.Server.ShutdownDrain; drain > 0 {
			d.log.Info("draining: /readyz is 503; still serving", "for", drain.String())
			t := time.NewTimer(drain)
			<-t.C
		}
	}
	d.drainingOnce.Do(func() { close(d.draining) })
	// Stop accepting; let what is in flight finish within the grace
	// period; then cut what is left (streams end with an error event) and
	// give the handlers a moment to write it.
	sctx, cancel := context.WithTimeout(context.Background(), d.cfg.Server.ShutdownGrace)
	defer cancel()
	var wg sync.WaitGroup
	for _, srv := range servers {
		wg.Go(func() { _ = srv.Shutdown(sctx) })
	}
	wg.Wait()
	// Streams relayed on connections taken over from net/http, which
	// Shutdown does not wait for: every gateway's (Options.Detached).
	streamsDone := d.Gateway().Wait(sctx)
	if sctx.Err() != nil || !streamsDone {
		d.log.Warn("shutdown grace period over: cutting requests still in flight", "grace", d.cfg.Server.ShutdownGrace.String())
		d.cutAll() // every gateway's, the retired ones' included
		fctx, fcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer fcancel()
		for _, srv := range servers {
			if srv.Shutdown(fctx) != nil {
				_ = srv.Close()
			}
		}
		d.Gateway().Wait(fctx)
	}
	for ; received < len(servers); received++ {
		<-errc
	}
	if errors.Is(first, http.ErrServerClosed) {
		first = nil
	}
	return first
}

// Close drains the event subscribers (up to the shutdown drain period) and
// releases the daemon's resources.
func (d *Daemon) Close() {
	d.probes.close()
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.Server.ShutdownDrain+time.Second)
	defer cancel()
	d.Gateway().Registry().WaitListeners()
	_ = d.bus.Close(ctx)
	if err := d.alerts.Close(ctx); err != nil {
		d.log.Error("alerting", "error", err.Error())
	}
	if d.fleet != nil {
		d.fleet.Close()
		d.redis.Close()
	}
	if d.cacheRedis != nil {
		d.cacheRedis.client.Close()
	}
	d.Gateway().Close()
	if d.ownClient != nil {
		d.ownClient.CloseIdleConnections()
	}
}

// RedisLogger adapts log to go-redis's logger, so that its lines (a pool
// that cannot dial, say) come out in breakerd's format, JSON included,
// instead of as plain text in the middle of JSON logs. go-redis keeps one
// logger per process (redis.SetLogger): the serve command sets it.
func RedisLogger(log *slog.Logger) interface {
	Printf(ctx context.Context, format string, v ...any)
} {
	return redisLog{log}
}

type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, strings.TrimSpace(fmt.Sprintf(format, v...)), "component", "redis")
}
