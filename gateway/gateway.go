// Package gateway is breakerd's OpenAI-compatible edge: it routes each
// request to a model group's deployments through their breakers and
// bulkheads, retries, falls back to other groups, and streams.
package gateway

import (
	"cmp"
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/complexity"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/internal/lograte"
	"github.com/breakerd/breakerd/provider"
)

// Options configure a Gateway. Only Config is required.
type Options struct {
	Config *config.Config
	// Clock drives the breakers and rate limits. nil means the system
	// clock. (Not a breaker.CoarseClock: its ticks, a thousand a second
	// under load, cost a gateway more CPU and tail latency than the few
	// clock reads per request they save; see BENCHMARKS.md.)
	Clock breaker.Clock
	// Client's Transport makes upstream calls; nil means a pooled
	// transport. Its other fields (Timeout, Jar, CheckRedirect) are not
	// used: each deployment's timeouts bound its calls, and an upstream's
	// redirect is its answer.
	Client *http.Client
	Logger *slog.Logger
	// Observer receives request-path events (metrics, events); nil
	// means none.
	Observer Observer
	// TracerProvider makes the request and attempt spans; nil means no
	// tracing.
	TracerProvider trace.TracerProvider
	// ConfigureBreaker, when set, adjusts each breaker's settings before
	// it is created (shared state sets a TrialGate).
	ConfigureBreaker func(*breaker.Settings)
	// Registry, when set, holds the breakers instead of a new registry:
	// a reloaded gateway keeps the one that metrics, health and admin read.
	Registry *breaker.Registry
	// Cut, when set, ends every upstream call in flight when it ends, as
	// CutInFlight does: one context for all the gateways reloads make.
	Cut context.Context
	// Detached, when set, counts the streams that gateways serve on client
	// connections taken over from net/http (HTTP/1.x streams, relayed on
	// goroutines of their own), which http.Server.Shutdown neither waits
	// for nor closes: a shutdown waits on it too. One for all the gateways
	// reloads make, as Cut. nil means one of the gateway's own (Wait).
	Detached *sync.WaitGroup
	// Draining, when set, is closed when a shutdown begins: each
	// WebSocket client (the Responses API's WebSocket mode) is asked to
	// go (close code 1001) once its response in flight is done. An open
	// socket counts in Detached, as a stream does.
	Draining <-chan struct{}
	// Previous is the gateway a config reload replaces: each deployment
	// whose config and breaker settings did not change is taken over as
	// it is (breaker state, bulkhead, cooldowns, routing figures), and the
	// breakers of the others leave Registry.
	Previous *Gateway
}

// Gateway routes OpenAI-format requests. Create it with New and serve
// Handler; Close it when done.
type Gateway struct {
	cfg         *config.Config
	reg         *breaker.Registry
	clock       breaker.Clock
	ownClient   *http.Client // the upstream client New made, closed by Close
	log         *slog.Logger
	obs         Observer
	deployments []*Deployment
	// fileStores are files_settings' accounts (config.FileStores), in no
	// route: they hold the files, and batches, of uploads that name no
	// model.
	fileStores []*Deployment
	// charged remembers the batches whose tokens were charged (a reload
	// keeps it); batchOnce, when set, asks the fleet too
	// (ShareBatchCharges).
	charged *batchCharges
	// pins are deployment affinity's (affinity.go), answers the response
	// cache's (cache.go); a reload keeps them.
	pins      *pins
	answers   *answers
	batchOnce atomic.Pointer[func(id string) bool]
	// providerBudgets are router_settings.provider_budget_config's, by
	// provider, and budgetOrder their providers, sorted.
	providerBudgets map[string]*Budget
	budgetOrder     []string
	// proxyBudget is litellm_settings.max_budget's, over every deployment;
	// tagBudgets are tag_budget_config's, by tag.
	proxyBudget *Budget
	tagBudgets  map[string]*Budget
	// scorers are the complexity routers' scorers, by name.
	scorers map[string]*complexity.Scorer
	// passEndpoints are LiteLLM's pass-through endpoints (passthrough.go).
	passEndpoints []*passEndpoint
	groups        map[string]*Group
	groupOrder    []*Group
	redactor      *Redactor
	shed          *shedder     // load shedding, capped by server.max_concurrent_requests
	refusals      [2][2][]byte // refuseOverloaded's bodies (encodeRefusals)
	calls         sync.Pool    // of *call: each request's state
	tracer        trace.Tracer
	// traced is false when spans go nowhere (no tracer provider, or the
	// no-op one): the request path then makes none at all.
	traced bool
	// countsUsage is set when routing orders deployments by this minute's
	// usage: only then does each call count into it (a clock read).
	countsUsage bool
	routes      map[string]route // built once in New
	// cut ends every upstream call in flight when canceled (CutInFlight).
	cut       context.Context
	cutCancel context.CancelFunc
	// detached counts the streams served on connections taken over
	// (takeover.go), which http.Server.Shutdown does not wait for.
	detached *sync.WaitGroup
	// draining is Options.Draining.
	draining <-chan struct{}
	// frames holds the buffers (*[]byte) a taken-over connection frames
	// its chunks in.
	frames sync.Pool
	// upstream and configure make deployments, at New and for wildcards.
	upstream http.RoundTripper
	// upstreamH2C makes the calls of deployments with
	// http2_prior_knowledge; nil when Options.Client cannot (not
	// NewUpstreamClient's).
	upstreamH2C http.RoundTripper
	// tlsPools are the pools of deployments with certificate checks of
	// their own (ssl_verify), one per kind, made from base (Options.Client's
	// transport); closed by Close.
	base      http.RoundTripper
	tlsPools  map[string]*http.Transport
	tlsMu     sync.Mutex
	configure func(*breaker.Settings)
	// patterns are the model_names with a "*", in config order; wild
	// holds the groups resolved from them (wildcard.go).
	patterns []*pattern
	wild     wildGroups
	// headers are the response header values that recur.
	headers headerValues
}

// Deployment is one upstream model with its breakers and bulkhead.
type Deployment struct {
	Config   config.Deployment
	Bulkhead *breaker.Bulkhead
	// Breakers holds one breaker per operation the deployment serves:
	// an Anthropic deployment has none for embeddings.
	Breakers map[provider.Operation]*breaker.Breaker
	// RPM and TPM are the deployment's rate limits, nil when
	// router_settings does not enforce them or the deployment sets none.
	RPM, TPM *breaker.RateLimit
	// Cooldowns hold, per operation, until when the provider said it is
	// busy (a 429 that is not a breaker failure): the deployment is passed
	// over until then, as LiteLLM cools down a deployment on 429.
	Cooldowns map[provider.Operation]*Cooldown
	// streams judges the chat breaker's latest streams (stream failure
	// rate); nil when that condition is off.
	streams *streamWindow
	// budgets are the spend limits d's answered calls count against: the
	// proxy's, its provider's and its own (budget), which pass it over
	// once spent.
	budgets []*Budget
	budget  *Budget
	ops     []provider.Operation
	prov    provider.Provider
	failLog lograte.Limiter // one failure log line a second
	load    loadStats       // for latency- and usage-based routing
	// header holds the response headers that name the deployment, built
	// once; setHeaders shares their value slices, which net/http only
	// reads.
	header http.Header
	// lacks holds the translatable APIs (lackBit) d's server answered it
	// has no path for (a chat-only server at openai/): their requests go
	// to d translated to chat from then on.
	lacks atomic.Uint32
}

// native reports whether d takes api's requests as they are: its
// provider's API, unless d's server answered it has no such path.
func (d *Deployment) native(api provider.API) bool {
	return d.prov.Native(api) && d.lacks.Load()&lackBit(api) == 0
}

// lackBit is api's bit in Deployment.lacks; 0 for an API that is not
// translated to chat.
func lackBit(api provider.API) uint32 {
	switch api {
	case provider.APIResponses:
		return 1
	case provider.APIMessages:
		return 2
	}
	return 0
}

// Operations returns the operations d serves, the keys of Breakers, always
// in the same order (chat first). Callers must not modify the slice.
func (d *Deployment) Operations() []provider.Operation { return d.ops }

// MainBreaker returns the breaker of d's first operation: chat's, or an
// audio or image deployment's only one. Health and the routable metric
// judge d by it.
func (d *Deployment) MainBreaker() *breaker.Breaker { return d.Breakers[d.ops[0]] }

// DefaultCooldown is how long a deployment is passed over after a 429
// without Retry-After, LiteLLM's default cooldown_time.
const DefaultCooldown = 5 * time.Second

// Cooldown is a provider's "busy until": a deployment it holds is passed
// over, with no call and no breaker failure, until then. The zero value
// holds nothing.
type Cooldown struct{ until atomic.Int64 }

// Until returns the end of the cooldown, and false when there is none at
// now.
func (c *Cooldown) Until(now time.Time) (time.Time, bool) {
	u := c.until.Load()
	if u <= now.UnixNano() {
		return time.Time{}, false
	}
	return time.Unix(0, u), true
}

// holding is Until at clock's now, read only for a cooldown that was
// ever set: most never are, and on some machines a clock read costs more
// than the rest of the check.
func (c *Cooldown) holding(clock breaker.Clock) (time.Time, bool) {
	if c.until.Load() == 0 {
		return time.Time{}, false
	}
	return c.Until(clock.Now())
}

// extend moves the end of the cooldown to t, if later. It reports
// whether this began a cooldown: none held at now.
func (c *Cooldown) extend(now, t time.Time) (began bool) {
	n := t.UnixNano()
	for {
		u := c.until.Load()
		if u >= n {
			return false
		}
		if c.until.CompareAndSwap(u, n) {
			return u <= now.UnixNano()
		}
	}
}

// streamWindow holds whether each of a deployment's latest streams broke
// after its first chunk. Streams end seldom next to requests, so a mutex
// costs nothing that matters here.
type streamWindow struct {
	mu     sync.Mutex
	broken [config.StreamWindow]bool
	n      int // streams recorded, up to the window
	next   int
}

// record adds one stream's end and returns how many of the window's
// streams broke, and how many it holds.
func (s *streamWindow) record(broke bool) (broken, of int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broken[s.next] = broke
	s.next = (s.next + 1) % len(s.broken)
	s.n = min(s.n+1, len(s.broken))
	for i := 0; i < s.n; i++ {
		if s.broken[i] {
			broken++
		}
	}
	return broken, s.n
}

// reset forgets the window, once the breaker has tripped on it.
func (s *streamWindow) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broken, s.n, s.next = [config.StreamWindow]bool{}, 0, 0
}

// Group is a model group: its deployments in config order, and the groups
// it falls back to.
type Group struct {
	Name        string
	Deployments []*Deployment
	Fallbacks   []string
}

// BreakerName returns the stable name of a deployment's breaker for op.
func BreakerName(deployment string, op provider.Operation) string {
	return deployment + ":" + string(op)
}

// New builds a gateway from a loaded config.
func New(opts Options) (*Gateway, error) {
	cfg := opts.Config
	g := &Gateway{cfg: cfg, clock: opts.Clock, log: opts.Logger, obs: opts.Observer, groups: map[string]*Group{}}
	g.headers.init()
	g.cut, g.cutCancel = context.WithCancel(cmp.Or(opts.Cut, context.Background()))
	g.detached = cmp.Or(opts.Detached, new(sync.WaitGroup))
	g.draining = opts.Draining
	g.frames.New = func() any { b := make([]byte, 0, 1024); return &b }
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.obs == nil {
		g.obs = nopObserver{}
	}
	if g.clock == nil {
		g.clock = breaker.SystemClock()
	}
	client := opts.Client
	if client == nil {
		client = NewUpstreamClient()
		g.ownClient = client
	}
	tp := opts.TracerProvider
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	g.tracer = tp.Tracer("github.com/breakerd/breakerd/gateway")
	_, isNoop := tp.(noop.TracerProvider)
	g.traced = !isNoop
	g.countsUsage = strings.HasPrefix(opts.Config.Router.Strategy, "usage-based-routing") // and -v2
	for _, st := range opts.Config.Router.GroupStrategies {
		g.countsUsage = g.countsUsage || strings.HasPrefix(st.Strategy, "usage-based-routing")
	}
	// Every upstream call carries the W3C traceparent of its attempt span.
	g.base = transportOf(client)
	forward := forwards(cfg)
	upstream := propagating{base: g.base, forward: forward}
	if h2c, ok := h2cOf(client); ok {
		g.upstreamH2C = propagating{base: h2c, forward: forward}
	}
	secrets := []string{cfg.Server.MasterKey.Value()}
	for _, d := range slices.Concat(cfg.Deployments, cfg.FileStores) {
		for _, v := range d.Secrets() {
			secrets = append(secrets, v.Value())
		}
	}
	for _, k := range cfg.ProviderKeys {
		secrets = append(secrets, k.Value())
	}
	secrets = append(secrets, cfg.Router.Redis.Password.Value(), cfg.Router.Redis.URL.Value())
	for _, pt := range cfg.PassThrough {
		for _, v := range pt.Headers {
			secrets = append(secrets, v.Value())
		}
	}
	if cc := cfg.Cache; cc != nil && cc.Redis != nil {
		secrets = append(secrets, cc.Redis.Password.Value(), cc.Redis.URL.Value(), cc.Redis.SentinelPassword.Value())
	}
	g.redactor = NewRedactor(secrets...)
	g.shed = newShedder(g.clock, cfg.Server.MaxConcurrent)
	g.refusals = encodeRefusals(cfg.Server.MaxConcurrent)
	g.charged, g.pins, g.answers = &batchCharges{}, &pins{}, &answers{}
	if opts.Previous != nil {
		g.charged, g.pins, g.answers = opts.Previous.charged, opts.Previous.pins, opts.Previous.answers
	}
	if opts.Previous != nil && opts.Previous.cfg.Server.MaxConcurrent == cfg.Server.MaxConcurrent {
		g.shed = opts.Previous.shed // a reload keeps the limit it learnt, and the count
	}
	g.upstream, g.configure = upstream, opts.ConfigureBreaker
	g.reg = opts.Registry
	if g.reg == nil {
		g.reg = breaker.NewRegistry(breaker.Settings{Clock: g.clock})
	}
	// A reload keeps what an unchanged budget has spent.
	prev := opts.Previous
	if prev == nil {
		prev = &Gateway{}
	}
	g.providerBudgets = map[string]*Budget{}
	for _, prov := range slices.Sorted(maps.Keys(cfg.Router.ProviderBudgets)) {
		g.providerBudgets[prov] = keptBudget(prev.providerBudgets[prov], &Budget{Scope: "provider", Name: prov, Provider: prov,
			Config: cfg.Router.ProviderBudgets[prov]})
		g.budgetOrder = append(g.budgetOrder, prov)
	}
	if pb := cfg.Router.ProxyBudget; pb != nil {
		g.proxyBudget = keptBudget(prev.proxyBudget, &Budget{Scope: "proxy", Name: "proxy", Config: *pb})
	}
	for tag, tb := range cfg.Router.TagBudgets {
		if g.tagBudgets == nil {
			g.tagBudgets = map[string]*Budget{}
		}
		g.tagBudgets[tag] = keptBudget(prev.tagBudgets[tag], &Budget{Scope: "tag", Name: tag, Config: tb})
	}
	g.scorers = scorers(cfg.Router.Aliases)
	g.passEndpoints = g.passThroughs()
	kept := g.takeOver(opts.Previous)
	for _, dc := range cfg.Deployments {
		if strings.Contains(dc.Group, "*") || dc.Wildcard {
			g.addToPattern(dc)
			if dc.Wildcard {
				continue // a template: Resolve makes one per requested model
			}
		}
		d := kept[dc.Name]
		if d == nil {
			var err error
			if d, err = g.newDeployment(dc); err != nil {
				g.Close()
				return nil, err
			}
		}
		g.deployments = append(g.deployments, d)
		if strings.Contains(dc.Group, "*") {
			g.pattern(dc.Group).static = append(g.pattern(dc.Group).static, d)
			continue
		}
		grp, ok := g.groups[dc.Group]
		if !ok {
			grp = &Group{Name: dc.Group, Fallbacks: cfg.Router.Fallbacks[dc.Group]}
			g.groups[dc.Group] = grp
			g.groupOrder = append(g.groupOrder, grp)
		}
		grp.Deployments = append(grp.Deployments, d)
	}
	for _, dc := range cfg.FileStores {
		d, err := g.newDeployment(dc)
		if err != nil {
			g.Close()
			return nil, err
		}
		g.fileStores = append(g.fileStores, d)
	}
	// As LiteLLM's pattern router: the most specific pattern first (the
	// longer), so that "anthropic/*" serves anthropic/... before a "*"
	// catch-all does; config order among equals.
	slices.SortStableFunc(g.patterns, func(a, b *pattern) int { return cmp.Compare(len(b.name), len(a.name)) })
	g.buildRoutes()
	return g, nil
}

// takeOver returns prev's deployments that g's config leaves unchanged,
// by name, and takes the breakers of the others out of the registry, so
// that a changed deployment starts with fresh breakers and a removed one
// no longer shows. In-flight calls on them finish undisturbed.
func (g *Gateway) takeOver(prev *Gateway) map[string]*Deployment {
	if prev == nil {
		return nil
	}
	want := map[string]config.Deployment{}
	for _, dc := range g.cfg.Deployments {
		want[dc.Name] = dc
	}
	same := sameRouting(prev.cfg, g.cfg)
	kept := map[string]*Deployment{}
	for _, d := range prev.deployments {
		dc, ok := want[d.Config.Name]
		old := d.Config
		old.Index, dc.Index = 0, 0
		if ok && same && reflect.DeepEqual(old, dc) {
			kept[d.Config.Name] = d
			continue
		}
		for _, b := range d.Breakers {
			g.reg.Remove(b.Name())
		}
	}
	for _, d := range prev.fileStores { // made again, whatever changed
		for _, b := range d.Breakers {
			g.reg.Remove(b.Name())
		}
	}
	return kept
}

// sameRouting reports whether two configs give a deployment the same
// breakers, bulkhead, limits and provider and proxy budgets.
func sameRouting(a, b *config.Config) bool {
	return reflect.DeepEqual(a.Router.Breaker, b.Router.Breaker) && a.Router.Bulkhead == b.Router.Bulkhead &&
		a.Router.EnforceRateLimits == b.Router.EnforceRateLimits && maps.Equal(a.Router.ProviderBudgets, b.Router.ProviderBudgets) &&
		reflect.DeepEqual(a.Router.ProxyBudget, b.Router.ProxyBudget)
}

// newDeployment makes a deployment's provider, bulkhead, limits and
// breakers (one per operation its provider serves).
func (g *Gateway) newDeployment(dc config.Deployment) (*Deployment, error) {
	cfg, bc := g.cfg, g.cfg.Router.Breaker
	upstream := g.upstream
	if dc.HTTP2PriorKnowledge {
		if g.upstreamH2C == nil {
			return nil, fmt.Errorf("deployment %s: http2_prior_knowledge needs the upstream client of gateway.NewUpstreamClient", dc.Name)
		}
		upstream = g.upstreamH2C
	}
	if dc.TLSSkipVerify || dc.TLSRootCAs != nil {
		t, err := g.tlsPool(dc)
		if err != nil {
			return nil, fmt.Errorf("deployment %s: %w", dc.Name, err)
		}
		upstream = propagating{base: t, forward: forwards(g.cfg)}
	}
	p, err := provider.New(dc, upstream, g.redactor)
	if err != nil {
		return nil, fmt.Errorf("deployment %s: %w", dc.Name, err)
	}
	d := &Deployment{Config: dc, prov: p, Breakers: map[provider.Operation]*breaker.Breaker{},
		header: http.Header{"X-Breakerd-Provider": {dc.Provider}, "X-Breakerd-Deployment": {dc.Name},
			"X-Litellm-Model-Id": {dc.Name}}, // LiteLLM's: its model_info.id, when the config gives one
		Cooldowns: map[provider.Operation]*Cooldown{},
		Bulkhead: breaker.NewBulkhead(breaker.BulkheadSettings{MaxConcurrent: dc.MaxParallel,
			MaxQueue: cfg.Router.Bulkhead.MaxQueue, MaxWait: cfg.Router.Bulkhead.MaxWait})}
	if g.proxyBudget != nil {
		d.budgets = append(d.budgets, g.proxyBudget)
	}
	if b := g.providerBudgets[dc.Provider]; b != nil {
		d.budgets = append(d.budgets, b)
	}
	if dc.Budget != nil {
		d.budget = &Budget{Scope: "deployment", Name: dc.Name, Provider: dc.Provider, Config: *dc.Budget}
		d.budgets = append(d.budgets, d.budget)
	}
	if cfg.Router.EnforceRateLimits {
		d.RPM = breaker.NewRateLimit(dc.RPM, time.Minute, g.clock)
		d.TPM = breaker.NewRateLimit(dc.TPM, time.Minute, g.clock)
	}
	for _, op := range provider.Operations {
		if !p.Supports(op) {
			continue
		}
		b := g.breaker(BreakerName(dc.Name, op), bc.SettingsFor(string(op)), map[string]string{"provider": dc.Provider, "model": dc.Model,
			"operation": string(op), "model_group": dc.Group, "deployment": dc.Name})
		if !bc.Enabled {
			b.Disable("circuit_breaker.enabled is false")
		}
		d.Breakers[op] = b
		d.Cooldowns[op] = &Cooldown{}
		d.ops = append(d.ops, op)
	}
	if bc.StreamFailureRate > 0 && d.Breakers[provider.Chat] != nil {
		d.streams = &streamWindow{}
	}
	return d, nil
}

// breaker returns the breaker name, made with settings s (on the
// registry's clock) and labels when it is new.
func (g *Gateway) breaker(name string, s breaker.Settings, labels map[string]string) *breaker.Breaker {
	return g.reg.GetOrCreate(name, func(bs *breaker.Settings) {
		clock := bs.Clock
		*bs = s
		bs.Clock, bs.Labels = clock, labels
		if g.configure != nil {
			g.configure(bs)
		}
	})
}

// ShedState is load shedding's state.
type ShedState struct {
	Shed       uint64 // requests shed so far
	Limit      int64  // the adaptive limit on Unanswered (less AtUpstream while breakerd keeps up)
	InFlight   int64  // requests being served, streams included
	Unanswered int64  // requests whose answer has not started (a stream counts until its first chunk)
	AtUpstream int64  // of Unanswered, those waiting on their upstream call's answer or first chunk, or to retry
}

// Shedding reports load shedding's state now.
func (g *Gateway) Shedding() ShedState {
	s := g.shed
	return ShedState{Shed: s.shed.Load(), Limit: s.limit.Load(), InFlight: s.inflight.Load(), Unanswered: s.unanswered.Load(),
		AtUpstream: s.away.Load()}
}

// PauseAccept reports whether a listener with open client connections
// should take no more for now: open is at least twice the adaptive limit
// (or the hard cap) on the requests it admits, and load shedding refused
// a request in the last 200 ms; or breakerd was over one of its targets
// (its own time, or the CPUs' scheduling latency) in the last 3 s, and
// open, less the connections relaying answered streams, is at least
// twice the adaptive limit. The excess then waits in the kernel's listen
// queue, costing nothing, instead of each new connection bringing a
// request to be refused at a quarter to twice a served request's CPU, or
// one more to share CPUs that are already short (Envoy's overload
// manager stops accepting connections for the same reason). Streams and
// keep-alive clients keep their connections.
func (g *Gateway) PauseAccept(open int64) bool { return g.shed.pauseAccept(open) }

// CutInFlight ends every upstream call in flight, and any started later:
// the end of a shutdown's grace period. A stream already under way ends
// with an error event saying so, and each cut is logged.
func (g *Gateway) CutInFlight() { g.cutCancel() }

// Wait waits for the streams served on connections taken over from
// net/http, and the WebSockets, to end (see Options.Detached), or for ctx
// to: http.Server's Shutdown waits for the other requests. It reports
// whether they ended.
func (g *Gateway) Wait(ctx context.Context) bool { return waitFor(ctx, g.detached) }

// waitFor waits for wg, or for ctx to end; it reports whether wg did.
func waitFor(ctx context.Context, wg *sync.WaitGroup) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// Close closes the idle upstream connections of the client New made, if
// Options.Client was nil. Calls in flight are not interrupted.
func (g *Gateway) Close() {
	if g.ownClient != nil {
		g.ownClient.CloseIdleConnections()
	}
	g.tlsMu.Lock()
	defer g.tlsMu.Unlock()
	for _, t := range g.tlsPools {
		t.CloseIdleConnections()
	}
}

// tlsPool returns the connection pool of the deployments that check
// certificates as d does (LiteLLM's ssl_verify): not at all, or against
// its CA bundle. It is base's pool with those checks, so the same
// timeouts and limits hold.
func (g *Gateway) tlsPool(d config.Deployment) (*http.Transport, error) {
	key := "skip"
	if !d.TLSSkipVerify {
		key = string(d.TLSRootCAs)
	}
	g.tlsMu.Lock()
	defer g.tlsMu.Unlock()
	if t, ok := g.tlsPools[key]; ok {
		return t, nil
	}
	var t *http.Transport
	switch b := g.base.(type) {
	case *upstreamTransport:
		t = b.Transport.Clone()
	case *http.Transport:
		t = b.Clone()
	default:
		return nil, errors.New("ssl_verify needs the upstream client of gateway.NewUpstreamClient (or an *http.Transport)")
	}
	// InsecureSkipVerify is the operator's ssl_verify: false, warned about at load.
	tc := &tls.Config{InsecureSkipVerify: d.TLSSkipVerify}
	if t.TLSClientConfig != nil {
		tc = t.TLSClientConfig.Clone()
		tc.InsecureSkipVerify = d.TLSSkipVerify
	}
	if d.TLSRootCAs != nil {
		tc.RootCAs = x509.NewCertPool()
		tc.RootCAs.AppendCertsFromPEM(d.TLSRootCAs)
	}
	t.TLSClientConfig = tc
	if g.tlsPools == nil {
		g.tlsPools = map[string]*http.Transport{}
	}
	g.tlsPools[key] = t
	return t, nil
}

// Registry returns the breaker registry. Health, metrics and admin read it.
func (g *Gateway) Registry() *breaker.Registry { return g.reg }

// Groups returns the model groups in config order, then those resolved
// from wildcard deployments, in the order they were first asked for.
func (g *Gateway) Groups() []*Group { return append(slices.Clone(g.groupOrder), g.wildGroupsList()...) }

// Clock returns the clock that drives the breakers.
func (g *Gateway) Clock() breaker.Clock { return g.clock }

// Redactor returns the redactor that scrubs configured secrets.
func (g *Gateway) Redactor() *Redactor { return g.redactor }

// AliasOf returns the group model_group_alias sends requests for name to,
// if name is an alias (one named as a group wins over it, as in
// LiteLLM).
func (g *Gateway) AliasOf(name string) (string, bool) {
	a, ok := g.cfg.Router.Aliases[name]
	return a.Group, ok
}

// Route returns the deployments a request for group is tried on, in order:
// the group's own in its strategy's order, then each fallback group's in
// its own (config.Router.StrategyOf). A fallback that names an undefined
// group is skipped. Callers must not modify the slice: where every group
// on the route orders statically (ordered, least-cost) it is shared.
func (g *Gateway) Route(group string) []*Deployment {
	r, ok := g.routes[group]
	if !ok {
		if r, ok = g.wildRoute(group); !ok {
			return nil
		}
	}
	if r.static {
		return r.flat
	}
	var now time.Time
	out := make([]*Deployment, 0, len(r.flat))
	for k := range r.segments {
		st := r.strategies[k]
		var key func(*Deployment) float64 // lower first, for the live strategies
		switch st.Strategy {
		case "least-busy":
			key = func(d *Deployment) float64 { return float64(d.Bulkhead.InFlight()) }
		case "latency-based-routing":
			key = func(d *Deployment) float64 { return d.load.latency() }
		case "usage-based-routing", "usage-based-routing-v2":
			if now.IsZero() {
				now = g.clock.Now()
			}
			key = func(d *Deployment) float64 { return d.load.usage(now) }
		}
		for _, t := range r.tiers[k] {
			start := len(out)
			out = append(out, t...)
			part := out[start:]
			switch {
			case st.Strategy == "simple-shuffle" && r.weighted[k]:
				weightedShuffle(part)
			case st.Strategy == "simple-shuffle":
				rand.Shuffle(len(part), func(i, j int) { part[i], part[j] = part[j], part[i] })
			case key != nil:
				// The tier's deployments by their live figure; ties keep
				// config order.
				slices.SortStableFunc(part, func(a, b *Deployment) int { return cmp.Compare(key(a), key(b)) })
				if buf := st.LatencyBuffer; buf > 0 && st.Strategy == "latency-based-routing" && len(part) > 1 {
					// LiteLLM's lowest_latency_buffer: any deployment
					// within the buffer of the fastest may go first.
					n := 1
					for n < len(part) && key(part[n]) <= key(part[0])*(1+buf) {
						n++
					}
					rand.Shuffle(n, func(i, j int) { part[i], part[j] = part[j], part[i] })
				}
			}
		}
	}
	return out
}

// weightedShuffle orders ds at random so that each weighted deployment
// comes first with a probability proportional to its weight, as LiteLLM's
// simple-shuffle picks (Efraimidis-Spirakis: sort by an exponential draw
// divided by the weight). Deployments without a weight go last, shuffled.
func weightedShuffle(ds []*Deployment) {
	type keyed struct {
		d   *Deployment
		key float64
	}
	ks := make([]keyed, len(ds))
	for i, d := range ds {
		ks[i] = keyed{d, math.Inf(1)}
		if d.Config.Weight > 0 {
			ks[i].key = rand.ExpFloat64() / d.Config.Weight
		}
	}
	rand.Shuffle(len(ks), func(i, j int) { ks[i], ks[j] = ks[j], ks[i] }) // among the unweighted
	slices.SortStableFunc(ks, func(a, b keyed) int { return cmp.Compare(a.key, b.key) })
	for i := range ks {
		ds[i] = ks[i].d
	}
}

// route is a group's precomputed route: one segment per group on it (its
// own, then each fallback's), each deployment once, with the strategy
// each segment's group routes by.
type route struct {
	segments   [][]*Deployment
	tiers      [][][]*Deployment // each segment's tiers (LiteLLM's order)
	strategies []config.GroupStrategy
	weighted   []bool // a segment has a deployment with a simple-shuffle weight
	flat       []*Deployment
	static     bool // every segment is in its strategy's order already
}

// buildRoutes orders every group's route once; only simple-shuffle and
// the live strategies have per-request work left.
func (g *Gateway) buildRoutes() {
	g.routes = map[string]route{}
	for _, grp := range g.groupOrder {
		g.routes[grp.Name] = g.routeOf(grp, func(name string) *Group {
			if len(g.patterns) == 0 {
				return nil
			}
			g.wild.mu.Lock()
			defer g.wild.mu.Unlock()
			other, _ := g.wildGroupLocked(name) // a fallback served through a wildcard
			return other
		})
	}
}

// routeOf orders a group's route: one segment for its own deployments,
// then one for each fallback group's, each deployment once. wild finds a
// fallback group that is not a configured one (a model a wildcard
// serves); nil when there is none.
func (g *Gateway) routeOf(grp *Group, wild func(name string) *Group) route {
	r := route{static: true}
	seen := map[*Deployment]bool{}
	add := func(grp *Group) {
		st := g.strategyOf(grp)
		var seg []*Deployment
		for _, d := range order(grp.Deployments, st.Strategy) {
			if !seen[d] {
				seen[d] = true
				seg = append(seg, d)
			}
		}
		r.segments = append(r.segments, seg)
		r.tiers = append(r.tiers, tiers(seg))
		r.strategies = append(r.strategies, st)
		r.weighted = append(r.weighted, slices.ContainsFunc(seg, func(d *Deployment) bool { return d.Config.Weight > 0 }))
		r.flat = append(r.flat, seg...)
		r.static = r.static && (st.Strategy == "ordered" || st.Strategy == "least-cost" || len(seg) == 1)
	}
	add(grp)
	for _, name := range grp.Fallbacks {
		for _, name := range g.aliasGroups(name) {
			if other, ok := g.groups[name]; ok {
				add(other)
			} else if d := g.byID(name); d != nil {
				// One deployment, by its model_info.id (LiteLLM's exact
				// targeting); its breaker still passes it over when open.
				add(&Group{Name: d.Config.Group, Deployments: []*Deployment{d}})
			} else if other := wild(name); other != nil {
				add(other)
			}
		}
	}
	return r
}

// byID returns the deployment whose model_info.id is id, nil if none.
func (g *Gateway) byID(id string) *Deployment {
	for _, grp := range g.groupOrder {
		for _, d := range grp.Deployments {
			if d.Config.ID == id {
				return d
			}
		}
	}
	return nil
}

// strategyOf is the strategy grp routes by: its own, or, for a model a
// wildcard serves, its pattern's (config.Router.StrategyOf).
func (g *Gateway) strategyOf(grp *Group) config.GroupStrategy {
	if _, own := g.cfg.Router.GroupStrategies[grp.Name]; !own && len(grp.Deployments) > 0 {
		return g.cfg.Router.StrategyOf(grp.Deployments[0].Config.Group)
	}
	return g.cfg.Router.StrategyOf(grp.Name)
}

// aliasGroups returns the groups name stands for: an alias's group, then
// an auto router's other groups in turn (config.Alias.Then); name itself
// when it is no alias.
func (g *Gateway) aliasGroups(name string) []string {
	a, ok := g.cfg.Router.Aliases[name]
	if !ok {
		return []string{name}
	}
	return append([]string{a.Group}, a.Then...)
}

// order sorts a group's deployments into their tiers (LiteLLM's order,
// lowest first, those without one last), and within each by a static
// strategy; the live strategies and simple-shuffle keep config order
// here and arrange each tier per request in Route.
func order(ds []*Deployment, strategy string) []*Deployment {
	ds = slices.Clone(ds)
	switch strategy {
	case "least-cost":
		slices.SortStableFunc(ds, func(a, b *Deployment) int {
			if a.Config.Priced != b.Config.Priced { // an unknown price is not a free one
				if a.Config.Priced {
					return -1
				}
				return 1
			}
			return cmp.Compare(a.Config.InputCostPerToken+a.Config.OutputCostPerToken,
				b.Config.InputCostPerToken+b.Config.OutputCostPerToken)
		})
	}
	slices.SortStableFunc(ds, func(a, b *Deployment) int { return cmp.Compare(tier(a), tier(b)) })
	return ds
}

// tier is d's tier in its group: its order, or, without one, after
// every tier.
func tier(d *Deployment) int {
	if o := d.Config.Order; o != nil {
		return *o
	}
	return math.MaxInt
}

// tiers returns seg's tiers, consecutive in it (order put them so).
func tiers(seg []*Deployment) [][]*Deployment {
	var out [][]*Deployment
	for start := 0; start < len(seg); {
		end := start + 1
		for end < len(seg) && tier(seg[end]) == tier(seg[start]) {
			end++
		}
		out = append(out, seg[start:end])
		start = end
	}
	return out
}

// Handler serves the OpenAI-compatible API, with and without the /v1
// prefix. A request that matches no route gets OpenAI's error shape: 404
// for an unknown path, 405 with an Allow header for a known path asked
// with the wrong method.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	// posts holds the POST routes by their exact path, taken without the
	// mux's matching (which cleans the path and walks its tree, about a
	// microsecond a request); any other request goes through the mux.
	posts := map[string]http.Handler{}
	// route serves path (with and without /v1) by a handler per method.
	route := func(path string, methods ...methodHandler) {
		var allow []string
		for _, m := range methods {
			allow = append(allow, m.method)
			if m.method == http.MethodGet {
				allow = append(allow, http.MethodHead) // the mux serves HEAD with GET routes
			}
		}
		allowed := strings.Join(allow, ", ")
		for _, p := range []string{"/v1" + path, path} {
			for _, m := range methods {
				mux.Handle(m.method+" "+p, m.h)
				if m.method == http.MethodPost && !strings.Contains(p, "{") {
					posts[p] = m.h
				}
			}
			// Method-less patterns are less specific, so they only see the
			// other methods.
			mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Allow", allowed)
				msg := fmt.Sprintf("Method %s is not allowed for %s; allowed: %s", r.Method, r.URL.Path, allowed)
				if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
					msg += "; breakerd serves WebSockets on /v1/responses (the Responses API's WebSocket mode) and /v1/realtime only"
				}
				writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "", msg)
			})
		}
	}
	post := func(h http.Handler) methodHandler { return methodHandler{http.MethodPost, h} }
	get := func(h http.Handler) methodHandler { return methodHandler{http.MethodGet, h} }
	route("/embeddings", post(g.serve(provider.Embeddings, provider.APIChat)))
	route("/responses", post(g.serve(provider.Chat, provider.APIResponses)), get(http.HandlerFunc(g.responsesSocket)))
	none := func(*http.Request) string { return "" }
	fixed := func(sub string) func(*http.Request) string { return func(*http.Request) string { return sub } }
	route("/responses/{id}", get(g.storedCall(storedResponses, none)), methodHandler{http.MethodDelete, g.storedCall(storedResponses, none)})
	// Not through route: their method-less patterns would overlap GET
	// /responses/{id} (a GET of one is a 404 there).
	for path, h := range map[string]http.Handler{"/responses/compact": g.serve(provider.Chat, provider.APICompact),
		"/responses/input_tokens": g.countTokens(provider.APIResponses)} {
		for _, p := range []string{"/v1" + path, path} {
			mux.Handle("POST "+p, h)
			posts[p] = h
		}
	}
	route("/responses/{id}/cancel", post(g.storedCall(storedResponses, fixed("/cancel"))))
	route("/responses/{id}/input_items", get(g.storedCall(storedResponses, fixed("/input_items"))))
	conv := g.storedCall(storedConversations, none)
	route("/conversations", post(g.storedHandler(provider.APIConversations, g.makeConversation)))
	route("/conversations/{id}", get(conv), post(conv), methodHandler{http.MethodDelete, conv})
	route("/conversations/{id}/items", get(g.storedCall(storedConversations, fixed("/items"))), post(g.storedCall(storedConversations, fixed("/items"))))
	item := g.storedCall(storedConversations, func(r *http.Request) string { return "/items/" + url.PathEscape(r.PathValue("item")) })
	route("/conversations/{id}/items/{item}", get(item), methodHandler{http.MethodDelete, item})
	list := func(obj storedObject) http.Handler {
		return g.storedHandler(obj.api, func(ctx context.Context, w http.ResponseWriter, r *http.Request) (*Deployment, int) {
			return g.list(ctx, w, r, obj)
		})
	}
	// OpenAI's Files API, and Anthropic's at the same paths for Anthropic's
	// clients (which send anthropic-version).
	route("/files", post(byClient(g.storedHandler(provider.APIFiles, g.upload), g.storedHandler(provider.APIFiles, g.uploadAnthropic))),
		get(byClient(list(storedFiles), list(storedAnthropicFiles))))
	file := byClient(g.storedCall(storedFiles, none), g.storedCall(storedAnthropicFiles, none))
	route("/files/{id}", get(file), methodHandler{http.MethodDelete, file})
	route("/files/{id}/content", get(byClient(g.storedCall(storedFiles, fixed("/content")), g.storedCall(storedAnthropicFiles, fixed("/content")))))
	route("/batches", post(g.storedHandler(provider.APIBatches, g.makeBatch)), get(list(storedBatches)))
	route("/batches/{id}", get(g.storedCall(storedBatches, none)))
	route("/batches/{id}/cancel", post(g.storedCall(storedBatches, fixed("/cancel"))))
	route("/chat/completions", post(g.serve(provider.Chat, provider.APIChat)), get(list(storedChat)))
	g.storedChatRoutes(route, get)
	g.uploadRoutes(route)
	g.fineTuningRoutes(route, list)
	g.vectorStoreRoutes(route, list)
	g.containerRoutes(route, list)
	g.videoRoutes(route, list)
	route("/audio/transcriptions", post(g.serve(provider.Transcriptions, provider.APITranscriptions)))
	route("/audio/translations", post(g.serve(provider.Transcriptions, provider.APITranslations)))
	route("/audio/speech", post(g.serve(provider.Speech, provider.APISpeech)))
	route("/images/generations", post(g.serve(provider.Images, provider.APIImages)))
	route("/images/edits", post(g.serve(provider.Images, provider.APIImageEdits)))
	route("/images/variations", post(g.serve(provider.Images, provider.APIImageVariations)))
	route("/moderations", post(g.serve(provider.Moderations, provider.APIModerations)))
	route("/realtime", get(http.HandlerFunc(g.realtime)))
	route("/realtime/client_secrets", post(g.realtimeCall("client_secrets")))
	route("/realtime/calls", post(g.realtimeCall("calls")))
	route("/rerank", post(g.serve(provider.Rerank, provider.APIRerank)))
	route("/v2/rerank", post(g.serve(provider.Rerank, provider.APIRerank))) // Cohere's v2 clients' path, as LiteLLM serves it
	route("/messages", post(g.serve(provider.Chat, provider.APIMessages)))
	route("/messages/count_tokens", post(g.countTokens(provider.APIMessages)))
	route("/messages/batches", post(g.storedHandler(provider.APIMessageBatches, g.makeMessageBatch)), get(list(storedMessageBatches)))
	msgBatch := g.storedCall(storedMessageBatches, none)
	route("/messages/batches/{id}", get(msgBatch), methodHandler{http.MethodDelete, msgBatch})
	route("/messages/batches/{id}/cancel", post(g.storedCall(storedMessageBatches, fixed("/cancel"))))
	route("/messages/batches/{id}/results", get(g.storedCall(storedMessageBatches, fixed("/results"))))
	route("/completions", post(g.serve(provider.Chat, provider.APICompletions)))
	route("/models", get(http.HandlerFunc(g.models)))
	route("/model/info", get(http.HandlerFunc(g.modelInfo))) // LiteLLM's
	route("/models/{model...}", get(http.HandlerFunc(g.model)))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		msg := fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path)
		rest := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/v1"), "/")
		first, _, _ := strings.Cut(rest, "/")
		api := apiOf(r)
		// Not a wrong base URL, but an API breakerd does not proxy: say so.
		switch {
		case strings.HasPrefix(rest, "messages/"), api == provider.APIMessages || r.Header.Get("Anthropic-Version") != "":
			api = provider.APIMessages
			msg += ": breakerd does not serve this Anthropic API (it serves messages, messages/count_tokens and message batches, and models); call the provider directly"
		case strings.HasPrefix(rest, "realtime/"):
			msg += ": breakerd serves Realtime sessions as WebSockets on /v1/realtime, and POST /v1/realtime/client_secrets and /v1/realtime/calls; a call already made (accept, hangup, refer, reject) belongs to the provider that made it: call it directly"
		case unservedAPIs[first]:
			msg += ": breakerd does not serve this OpenAI API (it serves chat completions, embeddings, responses, messages, completions, " +
				"stored chat completions, audio transcriptions, translations and speech, image generations, edits and variations, moderations, rerank, files, uploads, batches, fine-tuning jobs, vector stores, containers, and realtime sessions); call the provider directly"
		}
		writeAPIError(w, api, http.StatusNotFound, "invalid_request_error", "", msg)
	})
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.RawPath == "" { // the mux matches an escaped path by its segments
			if h, ok := posts[r.URL.Path]; ok {
				h.ServeHTTP(w, r)
				return
			}
		}
		mux.ServeHTTP(w, r)
	})
	if routes := g.cfg.Server.AllowedRoutes; routes != nil {
		h = onlyRoutes(routes, h)
	}
	key := g.cfg.Server.MasterKey.Value()
	if key != "" {
		h = requireKey(key, g.cfg.Server.PublicRoutes, h)
	}
	h = g.servePassThrough(key, h) // its endpoints ask for the key only where they say auth
	if ips := g.cfg.Server.AllowedIPs; ips != nil {
		h = onlyFrom(ips, g.cfg.Server.ForwardedFor, h) // before the key, as LiteLLM checks
	}
	if origins := g.cfg.Server.CORSOrigins; len(origins) > 0 {
		h = cors(origins, h) // outermost: preflights carry no key, and a 401 must be readable
	}
	return h
}

// byClient serves openai to OpenAI's clients and anthropic to
// Anthropic's, which send anthropic-version with every call: the two
// Files APIs share their paths.
func byClient(openai, anthropic http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Anthropic-Version") != "" {
			anthropic.ServeHTTP(w, r)
			return
		}
		openai.ServeHTTP(w, r)
	})
}

// unservedAPIs are the first path segments (after /v1) of OpenAI's APIs
// that breakerd does not serve.
var unservedAPIs = map[string]bool{"audio": true, "images": true, "videos": true,
	"assistants": true, "threads": true,
	"evals": true}

// methodHandler is a route's handler for one method.
type methodHandler struct {
	method string
	h      http.Handler
}

// corsExposed are the response headers a page may read besides the
// CORS-safelisted ones.
const corsExposed = "X-Breakerd-Provider, X-Breakerd-Deployment, X-Breakerd-Attempts, X-Breakerd-Fallback, X-Breakerd-Overhead-Ms, X-Breakerd-Dropped-Params, X-Breakerd-Ignored-Params, Retry-After"

// cors lets web pages from the allowed origins ("*": any) call the API: it
// answers their preflight requests itself and marks the responses to
// their requests readable. Requests from other origins pass unchanged,
// so the browser refuses them.
func cors(origins []string, next http.Handler) http.Handler {
	anyOrigin := slices.Contains(origins, "*")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || !(anyOrigin || slices.Contains(origins, origin)) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Allow-Origin", origin)
		if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
			h.Set("Access-Control-Expose-Headers", corsExposed)
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Methods", "GET, POST")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Add("Vary", "Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Headers", req)
		}
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
	})
}

// requireKey lets through requests that carry key as a bearer token (as
// OpenAI's SDKs send it), an api-key header (as Azure OpenAI's do) or an
// x-api-key header (as Anthropic's do), and those for public routes
// (matchRoute), and answers the rest with a 401 in the client API's
// shape. The key sent is never echoed.
func requireKey(key string, public []string, next http.Handler) http.Handler {
	want := []byte(key)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(public) > 0 && matchRoute(public, r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		auth := r.Header.Get("Authorization")
		got, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			got = cmp.Or(r.Header.Get("Api-Key"), r.Header.Get("X-Api-Key"), browserSocketKey(r))
		}
		if subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="breakerd"`)
			msg := "Incorrect API key provided. Send breakerd's master key as a bearer token (Authorization: Bearer KEY)."
			if got == "" && auth == "" {
				msg = "You didn't provide an API key. Send breakerd's master key as a bearer token (Authorization: Bearer KEY)."
			}
			writeAPIError(w, apiOf(r), http.StatusUnauthorized, "invalid_request_error", "invalid_api_key", msg)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// browserSocketKey is the key a browser's WebSocket carries, which cannot
// set headers: OpenAI's Realtime clients offer it as the subprotocol
// openai-insecure-api-key.KEY. It returns "" for any other request.
func browserSocketKey(r *http.Request) string {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return ""
	}
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			if key, ok := strings.CutPrefix(strings.TrimSpace(p), "openai-insecure-api-key."); ok {
				return key
			}
		}
	}
	return ""
}

// refuseOverloaded answers a request that load shedding refused: at once,
// so that a client (or its load balancer) tries again, here or on another
// replica, instead of waiting in a queue that only grows.
//
// The client keeps its connection. A refusal on it costs breakerd a
// fraction of a served request's CPU; one that closes it makes the client
// connect again, and costs more than a served request. The connections a
// flood of clients opens are bounded by the listener instead, which takes
// none past twice the limit while breakerd refuses or is over a target
// (PauseAccept). In bench/load -overload, closing refused connections
// held breakerd at 105-128 MB, keeping them at 143-200 MB, but the
// admitted requests' p99 fell from 8.7-9.9 s to 2.0-3.5 s, the
// refusals' from 8.6-9.8 s to 1.3-6.1 s, and as many were served or
// more.
func (g *Gateway) refuseOverloaded(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "1")
	var api, capped int
	if apiOf(r) == provider.APIMessages {
		api = 1
	}
	if lim := g.cfg.Server.MaxConcurrent; lim > 0 && g.shed.inflight.Load() >= int64(lim) {
		capped = 1
	}
	writeJSONBytes(w, http.StatusServiceUnavailable, g.refusals[api][capped])
}

// encodeRefusals encodes refuseOverloaded's bodies once, for each API
// shape (chat, Messages) and cause (the adaptive limit, the hard cap):
// under overload every refusal's CPU comes out of the requests served.
func encodeRefusals(maxConcurrent int) (out [2][2][]byte) {
	for i, api := range [...]provider.API{provider.APIChat, provider.APIMessages} {
		out[i][0] = encodeAPIError(api, http.StatusServiceUnavailable, "service_unavailable", "server_overloaded",
			"breakerd is overloaded: it answers the excess at once instead of queueing it; retry shortly")
		out[i][1] = encodeAPIError(api, http.StatusServiceUnavailable, "service_unavailable", "server_overloaded",
			fmt.Sprintf("breakerd is serving its maximum of %d concurrent requests", maxConcurrent))
	}
	return out
}

// models lists the model groups and the aliases that are not hidden, as
// OpenAI's API lists models, or as Anthropic's does for its SDKs: a page
// of limit models (20 unless set, at most 1000) after after_id or before
// before_id.
func (g *Gateway) models(w http.ResponseWriter, r *http.Request) {
	names := g.modelNames()
	api := apiOf(r)
	if api == provider.APIMessages {
		page, more, err := anthropicPage(names, r.URL.Query())
		if err != nil {
			writeAPIError(w, api, http.StatusBadRequest, "invalid_request_error", "", err.Error())
			return
		}
		data := make([]map[string]any, len(page))
		for i, name := range page {
			data[i] = modelObject(api, name)
		}
		var first, last any // null on an empty page, as Anthropic's
		if len(page) > 0 {
			first, last = page[0], page[len(page)-1]
		}
		writeJSONResponse(w, http.StatusOK, map[string]any{"data": data, "has_more": more, "first_id": first, "last_id": last})
		return
	}
	data := make([]map[string]any, len(names))
	for i, name := range names {
		data[i] = modelObject(api, name)
	}
	writeJSONResponse(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

// anthropicPage is the page of names that the query of Anthropic's list
// models call asks for, and whether more follow it in its direction.
func anthropicPage(names []string, q url.Values) (page []string, more bool, err error) {
	limit := 20
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 1000 {
			return nil, false, fmt.Errorf("limit: must be a whole number from 1 to 1000, got %q", s)
		}
	}
	at := func(key string) (int, error) {
		i := slices.Index(names, q.Get(key))
		if i < 0 {
			return 0, fmt.Errorf("%s: no model %q", key, q.Get(key))
		}
		return i, nil
	}
	switch {
	case q.Get("before_id") != "":
		end, err := at("before_id")
		if err != nil {
			return nil, false, err
		}
		start := max(end-limit, 0)
		return names[start:end], start > 0, nil
	case q.Get("after_id") != "":
		i, err := at("after_id")
		if err != nil {
			return nil, false, err
		}
		names = names[i+1:]
	}
	if len(names) > limit {
		return names[:limit], true, nil
	}
	return names, false, nil
}

// matchesPattern reports whether a model name matches a wildcard
// model_name.
func (g *Gateway) matchesPattern(name string) bool {
	for _, p := range g.patterns {
		if _, ok := config.MatchGroup(p.name, name); ok || p.name == name {
			return true
		}
	}
	return false
}

// modelNames returns the group names in config order (wildcard model_names
// as written, as LiteLLM lists them), then the aliases that are not
// hidden, sorted.
func (g *Gateway) modelNames() []string {
	names := make([]string, 0, len(g.groupOrder)+len(g.patterns)+len(g.cfg.Router.Aliases))
	for _, grp := range g.groupOrder {
		names = append(names, grp.Name)
	}
	for _, p := range g.patterns {
		names = append(names, p.name)
	}
	for _, name := range slices.Sorted(maps.Keys(g.cfg.Router.Aliases)) {
		if _, group := g.groups[name]; !group && !g.cfg.Router.Aliases[name].Hidden { // a group's name, listed once
			names = append(names, name)
		}
	}
	return names
}

// model serves OpenAI's retrieve-model call for one model group or alias.
// Group names may contain slashes (org/model), hence the rest-of-path
// wildcard.
func (g *Gateway) model(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("model")
	if !g.knows(name) {
		g.modelNotFound(w, apiOf(r), name)
		return
	}
	writeJSONResponse(w, http.StatusOK, modelObject(apiOf(r), name))
}

// knows reports whether name is a model clients may ask for: a model
// group, an alias, or a name a wildcard deployment matches.
func (g *Gateway) knows(name string) bool {
	_, group := g.groups[name]
	_, alias := g.cfg.Router.Aliases[name]
	return group || alias || g.matchesPattern(name)
}

// modelObject describes a model in api's shape. breakerd knows no
// creation date: it gives the epoch.
func modelObject(api provider.API, name string) map[string]any {
	if api == provider.APIMessages {
		return map[string]any{"type": "model", "id": name, "display_name": name, "created_at": "1970-01-01T00:00:00Z"}
	}
	return map[string]any{"id": name, "object": "model", "created": 0, "owned_by": "breakerd"}
}

// modelNotFound answers a request for an unknown model group with
// OpenAI's 404, naming the models GET /v1/models lists. A group that is in
// the config, but none of whose deployments breakerd can call, is named as
// such, with why: an on-call reader looking at the config sees it there.
func (g *Gateway) modelNotFound(w http.ResponseWriter, api provider.API, name string) {
	names := g.modelNames()
	msg := fmt.Sprintf("The model `%s` does not exist. Known models: %s", name, strings.Join(names, ", "))
	if why, ok := g.cfg.LeftOut[name]; ok {
		msg = fmt.Sprintf("The model `%s` is in breakerd's config, but breakerd can call none of its deployments: %s. Known models: %s",
			name, why, strings.Join(names, ", "))
	}
	writeAPIError(w, api, http.StatusNotFound, "invalid_request_error", "model_not_found", msg)
}

// Redactor removes secrets from text: those configured, and those
// fetched at run time (tokens, temporary keys), the most recent
// maxFetchedSecrets of them. It is safe for concurrent use; Redact takes
// no lock.
type Redactor struct {
	r atomic.Pointer[strings.Replacer]
	// mu guards fixed and fetched, and the rebuilding of r from them.
	mu             sync.Mutex
	fixed, fetched []string
}

// maxFetchedSecrets bounds the run-time secrets a Redactor keeps: enough
// for every credential of a large config and the one each replaced,
// while one that renews without end cannot grow it.
const maxFetchedSecrets = 512

// NewRedactor returns a Redactor for the given secrets; values shorter than
// config.MinRedactLen are ignored (they would mangle ordinary text, and the
// config warns about such keys).
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		if len(s) >= config.MinRedactLen {
			r.fixed = append(r.fixed, s)
		}
	}
	r.rebuild()
	return r
}

// Redact returns s with every secret replaced by [REDACTED].
func (r *Redactor) Redact(s string) string { return r.r.Load().Replace(s) }

// Add adds secrets fetched at run time; the oldest are forgotten past
// maxFetchedSecrets. Values shorter than config.MinRedactLen are ignored.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	added := false
	for _, s := range secrets {
		if len(s) >= config.MinRedactLen && !slices.Contains(r.fixed, s) && !slices.Contains(r.fetched, s) {
			r.fetched, added = append(r.fetched, s), true
		}
	}
	if !added {
		return
	}
	if n := len(r.fetched) - maxFetchedSecrets; n > 0 {
		r.fetched = slices.Delete(r.fetched, 0, n)
	}
	r.rebuild()
}

// rebuild makes r's replacer from its secrets; the caller holds mu, or
// has r to itself.
func (r *Redactor) rebuild() {
	var pairs []string
	for _, s := range slices.Concat(r.fixed, r.fetched) {
		pairs = append(pairs, s, "[REDACTED]")
	}
	r.r.Store(strings.NewReplacer(pairs...))
}

// NewUpstreamClient returns the pooled HTTP client used for upstream calls.
// It has no overall timeout: request contexts bound each attempt.
//
// Every connection that finishes a call is kept for the next one, for up
// to 90 s idle: a gateway sends its whole load to a few hosts, and a pool
// smaller than the calls in flight closes a connection after nearly every
// call above its size. That churn costs a TCP handshake per call and
// leaves a socket in TIME_WAIT for a minute per call; at thousands of
// calls a second the local ports to one upstream run out and calls fail
// to connect, which the breakers would count against a healthy provider.
// The idle connections are never more than the calls that were once in
// flight at the same time, which load shedding bounds.
//
// Deployments with http2_prior_knowledge get a second pool of the same
// settings that speaks cleartext HTTP/2 (upstreamTransport).
func NewUpstreamClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0 // no overall cap (see above)
	t.MaxIdleConnsPerHost = math.MaxInt32
	t.IdleConnTimeout = 90 * time.Second
	h2c := t.Clone()
	h2c.Protocols = new(http.Protocols)
	h2c.Protocols.SetUnencryptedHTTP2(true)
	h2c.HTTP2 = &http.HTTP2Config{
		// A stream's unread data waits in breakerd, not in the kernel as
		// on a connection of its own: bound it, so that a client that
		// reads slowly holds this much, not HTTP/2's default of megabytes.
		MaxReceiveBufferPerStream: h2cStreamWindow,
		// A connection carries many calls: find a dead one by its
		// silence, as TCP keep-alives are too slow to.
		SendPingTimeout: 15 * time.Second,
		PingTimeout:     15 * time.Second,
	}
	return &http.Client{Transport: &upstreamTransport{Transport: t, h2c: h2c}}
}

// ForceIPv4 has client, one NewUpstreamClient made, connect to upstreams
// over IPv4 alone (LiteLLM's force_ipv4): an upstream named by an IPv6
// address is unreachable, and a name's IPv6 addresses are not tried.
func ForceIPv4(client *http.Client) {
	t, ok := client.Transport.(*upstreamTransport)
	if !ok {
		return
	}
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if network == "tcp" {
			network = "tcp4"
		}
		return d.DialContext(ctx, network, addr)
	}
	t.Transport.DialContext, t.h2c.DialContext = dial, dial
}

// h2cStreamWindow is the most of one stream's answer breakerd takes from
// an h2c upstream before its client reads it.
const h2cStreamWindow = 256 << 10

// upstreamTransport is NewUpstreamClient's transport: HTTP/1.1 to http://
// upstreams and whatever TLS negotiates (HTTP/2 where the server offers
// it) to https:// ones; and, for deployments with http2_prior_knowledge,
// a pool that speaks HTTP/2 in cleartext (h2c).
type upstreamTransport struct {
	*http.Transport
	h2c *http.Transport
}

// CloseIdleConnections closes both pools' idle connections.
func (t *upstreamTransport) CloseIdleConnections() {
	t.Transport.CloseIdleConnections()
	t.h2c.CloseIdleConnections()
}

// h2cOf returns the cleartext HTTP/2 pool of a client NewUpstreamClient
// made, and false for any other client (a test's, say).
func h2cOf(c *http.Client) (http.RoundTripper, bool) {
	t, ok := c.Transport.(*upstreamTransport)
	if !ok {
		return nil, false
	}
	return t.h2c, true
}
