package gateway

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/dialect"
	"github.com/breakerd/breakerd/provider"
)

// call is one client request on its way through the route.
type call struct {
	g *Gateway
	// routing is what the body asks of routing in LiteLLM's parameters.
	routing clientRouting
	// pinKey is the request's deployment affinity key (pinKey); "" for none.
	pinKey string
	// cacheKey is its response cache key (cacheable); "" for none.
	cacheKey string
	// streamed is a stream's events as relayed so far, kept for the
	// response cache (cacheKey set, no no-store) while within the size
	// one answer may take; nil otherwise.
	streamed []byte
	rc       *http.ResponseController // the client's connection: deadlines, flushes
	op       provider.Operation
	group    string
	req      *provider.Request
	start    time.Time
	attempts int
	// failures explain, per deployment, why it did not serve.
	failures []string
	// retryAt is the earliest time an open breaker on the route lets a
	// trial through, or a deployment's rate limit lets a call through.
	retryAt time.Time
	// limited counts the entries of failures that are rate limits, and
	// limitKind is the last one's: "requests" or "tokens".
	limited   int
	limitKind string
	// refused is set once a model refused the prompt in a way another
	// model may not (provider.ContextWindow or ContentPolicy) and the
	// request moved to the group's fallbacks for that.
	refused string
	// lastErr is the last upstream error, used when nothing served.
	lastErr *provider.Error
	// dropped are the parameters left out for the deployment being tried
	// (drop_params); unfit counts deployments passed over for parameters
	// they cannot take, and unfitMsg says why the first could not.
	dropped  []string
	unfit    int
	unfitMsg string
	// unserved counts the deployments whose server answered that it has
	// no such API (unservedAPI); passedOver, those passed over for this
	// request by their upstream's own words (that, or an account that may
	// not make it: provider.Error.AccountCannot), and passedOverErr the
	// last such answer.
	unserved, passedOver int
	passedOverErr        *provider.Error
	// reprepare asks tryDeployment to make the request for the
	// deployment again (its server lacks the API: translated to chat).
	reprepare bool
	// leftOut are the translation's optional parameters the deployment
	// being tried goes without (dialect.Translated.Optional).
	leftOut []string
	// sendReq is the request for the deployment being tried (the
	// client's, or its chat translation when native is false).
	sendReq *provider.Request
	// prompt is the streamed request's estimated input tokens: its
	// usage's, should the stream end before it says.
	prompt int
	native bool
	// api is the client's API; translated is its request as a chat
	// request, made on first need for a deployment that does not serve
	// the API natively (nil for chat).
	api        provider.API
	translated *dialect.Translated
	// shown is the translation of the request the attempt sent, which
	// says how its chat answer goes back to the client (its custom tools,
	// the model's reasoning).
	shown *dialect.Translated
	// upstream is the time spent waiting on upstreams (failed attempts,
	// and the serving attempt up to its response or first chunk); waited
	// is the retry backoff slept. The rest is breakerd's overhead.
	upstream, waited time.Duration
	overhead         time.Duration
	// adm is the request's place in load shedding's counts.
	adm admission
	// answered is the outcome of the attempt that answered, kept here so
	// that returning it allocates nothing.
	answered outcome
	// deadline ends the request (router_settings.timeout after it
	// arrived). It is a time, not a context of its own: each attempt's
	// context carries it (one timer and one cancelation for this and the
	// deployment's limit), where a request-wide context would cost a
	// second timer and cancelation on every request for a rare event.
	deadline time.Time
	// lim bounds the attempt under way when it is not a stream (limit).
	lim callLimit
	// writeDeadline is set once send has set a write deadline on the
	// client's connection, which run clears.
	writeDeadline bool
	// pinned is set when the route was cut to the deployment that stores
	// the response the request continues (pin).
	pinned bool
	// tried is the last deployment the route reached; cause is why the
	// requested group's own deployments were given up for another group's,
	// from the last one's reason to move on, or errType, the last failed
	// attempt's AttemptInfo.ErrType, when that reason is "failure".
	tried          *Deployment
	cause, errType string
	// fallbackGroups are the other groups the route reached, in order.
	fallbackGroups []string
	// retried counts the calls made again on the same deployment.
	retried int
	// rest counts the deployments after the one being tried on the
	// route; cont is the state for continuing a stream that broke there.
	rest int
	cont continuation
}

func (g *Gateway) serve(op provider.Operation, api provider.API) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		adm, ok := g.shed.admit()
		if !ok {
			g.refuseOverloaded(w, r)
			return
		}
		c := g.newCall(op, api, adm)
		ctx, span := g.startRequestSpan(r, op, api)
		if ctx != r.Context() {
			r = r.WithContext(ctx) // a copy of the request: only when needed
		}
		c.rc = http.NewResponseController(w)
		if res := c.read(w, r); res != nil {
			defer g.putCall(c)
			c.finish(span, *res)
			return
		}
		if forwards(g.cfg) {
			r = g.forwarding(r, c.req.Model, c.group)
		}
		if c.cacheKey = c.cacheable(); c.cacheKey != "" {
			if res, ok := c.fromCache(w); ok {
				defer g.putCall(c)
				c.finish(span, *res)
				return
			}
		}
		if c.req.Stream {
			if t, ok := g.hijack(w, r, c.rc); ok {
				c.detach(t, r, span) // served on a goroutine of its own: takeover.go
				return
			}
		}
		defer g.putCall(c)
		c.finish(span, c.run(r.Context(), w))
	}
}

// newCall returns the state of a new request. It is recycled (calls),
// and kept off the handler's stack: see finish.
func (g *Gateway) newCall(op provider.Operation, api provider.API, adm admission) *call {
	c, _ := g.calls.Get().(*call)
	if c == nil {
		c = new(call)
	}
	*c = call{g: g, op: op, api: api, start: time.Now(), adm: adm}
	return c
}

// putCall ends a request's place in load shedding's counts and recycles
// its state, emptied first: a pooled call must not keep a request body
// (up to server.max_body_bytes) alive.
func (g *Gateway) putCall(c *call) {
	c.adm.release()
	*c = call{}
	g.calls.Put(c)
}

// finish ends the request's span and reports it. It is a function of its
// own, as are the other cold paths of a call, to keep the frames of the
// calls a stream is relayed under small: a goroutine's stack doubles
// when it runs out, and a handler whose stack stays within 8 KB holds
// 8 KB less for each stream (thousands at once).
func (c *call) finish(span trace.Span, status outcome) {
	g := c.g
	if span.IsRecording() {
		span.SetAttributes(semconv.HTTPResponseStatusCodeKey.Int(status.code), semconv.GenAIRequestModelKey.String(c.group),
			attribute.Int("breakerd.attempts", c.attempts), attribute.Bool("breakerd.fallback", status.fallback))
		if status.code >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status.code))
		}
	}
	span.End()
	if status.served != nil {
		g.shed.observe(c.overhead)
	}
	g.obs.RequestDone(RequestInfo{Group: c.group, Op: c.op, API: c.api, Status: status.code, Duration: time.Since(c.start),
		Overhead: c.overhead, Attempts: c.attempts, Served: status.served, Fallback: status.fallback,
		Stream: c.req != nil && c.req.Stream, Tried: c.tried, Cause: c.cause, FallbackGroups: c.fallbackGroups, Cached: status.cached})
}

// pacedBody fails a request body that pauses longer than timeout between
// reads, as nginx's client_body_timeout does: a client that trickles its
// body would otherwise hold a connection and a request slot forever.
// net/http's ReadTimeout bounds the whole request instead, which a large
// upload on a slow link can exceed while still arriving. The deadline
// needs no clearing: net/http clears it when the body has been read and
// it starts watching the connection for the client leaving. A zero
// timeout sets no deadline.
type pacedBody struct {
	r       io.Reader
	rc      *http.ResponseController
	timeout time.Duration
	// arrived is when the request arrived, read already: the first pause
	// is counted from it, one clock read less per request.
	arrived time.Time
}

func (p *pacedBody) Read(b []byte) (int, error) {
	if p.timeout > 0 {
		now := p.arrived
		if now.IsZero() {
			now = time.Now()
		}
		p.arrived = time.Time{}
		_ = p.rc.SetReadDeadline(now.Add(p.timeout))
	}
	return p.r.Read(b)
}

type outcome struct {
	code     int
	served   *Deployment
	fallback bool
	cached   bool // answered from the response cache
}

// run serves the request, read (c.read), on its route, through c.rc's
// connection; ctx is the client's request's.
func (c *call) run(ctx context.Context, w http.ResponseWriter) outcome {
	g := c.g
	defer c.clearWriteDeadline()
	group := c.group
	c.deadline = c.start.Add(g.cfg.Router.Timeout)
	if t := c.routing.timeout; t > 0 && t < g.cfg.Router.Timeout {
		c.deadline = c.start.Add(t)
	}
	route := g.Route(group)
	switch {
	case c.routing.noFallbacks:
		// The group's own deployments alone (Route's slice may be shared).
		route = slices.DeleteFunc(slices.Clone(route), func(d *Deployment) bool { return d.Config.Group != group })
	case len(c.routing.fallbacks) > 0:
		// A fallback object's fields go with the groups its model names
		// (an alias's, an auto router's).
		for _, name := range slices.Collect(maps.Keys(c.routing.overrides)) {
			for _, grp := range g.aliasGroups(name) {
				c.routing.overrides[grp] = c.routing.overrides[name]
			}
		}
		var msg string
		if route, msg = g.withFallbacks(route, c.routing.fallbacks); msg != "" {
			c.writeError(w, http.StatusBadRequest, "invalid_request_error", "", msg)
			return outcome{code: http.StatusBadRequest}
		}
	}
	if len(g.tagBudgets) > 0 && len(c.routing.tags) > 0 {
		if why, until := g.tagSpent(c.routing.tags, g.clock.Now()); why != "" {
			secs := int(until.Sub(g.clock.Now()).Seconds() + 0.999)
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			w.Header().Set("X-Should-Retry", "false") // not before Retry-After
			c.writeError(w, http.StatusTooManyRequests, "budget_exceeded", "budget_exceeded",
				fmt.Sprintf("Budget exceeded for model `%s`: the request's %s", group, why))
			return outcome{code: http.StatusTooManyRequests}
		}
	}
	if g.cfg.Router.TagFiltering {
		if route = tagged(route, c.routing.tags, g.cfg.Router.TagsMatchAll); len(route) == 0 {
			c.writeError(w, http.StatusBadRequest, "invalid_request_error", "", noneTagged(group, c.routing.tags))
			return outcome{code: http.StatusBadRequest}
		}
	}
	if region := c.routing.region; region != "" {
		// Route's slice may be shared: cut a copy.
		if route = slices.DeleteFunc(slices.Clone(route), func(d *Deployment) bool { return d.Config.Region != region }); len(route) == 0 {
			c.writeError(w, http.StatusBadRequest, "invalid_request_error", "",
				fmt.Sprintf("No deployment of model `%s` or its fallbacks is in region %q (allowed_model_region): litellm_params.region_name says a deployment's region", group, region))
			return outcome{code: http.StatusBadRequest}
		}
	}
	if c.op == provider.Chat && g.cfg.Router.StrategyOf(group).Strategy == "least-cost" {
		route = c.cheapestForPrompt(route)
	}
	if c.routing.storedAt != "" {
		route = c.pin(route)
	}
	if c.pinKey != "" && !c.pinned {
		route = g.pins.first(route, c.pinKey, group, g.clock.Now())
	}
	if c.routing.reasoningAt != "" && !c.pinned {
		route = c.reasoningFirst(route)
	}
	if g.cfg.Router.ContextWindowCheck && (c.op == provider.Chat || c.op == provider.Embeddings) {
		var tokens int
		if route, tokens = c.fitting(route); len(route) == 0 {
			return c.tooLong(w, tokens)
		}
	}
	var prev *Deployment
	prevReason := ""
	i := 0 // position among the deployments that serve c.op: 0 is the primary
	for k := 0; k < len(route); k++ {
		d := route[k]
		if d.Breakers[c.op] == nil || (!provider.Translatable(c.api) && !d.native(c.api)) {
			continue // passed over without a call, as if it were not on the route
		}
		if prev != nil {
			reason := prevReason
			if c.cont.hop { // the stream broke at prev: d is to go on with it
				reason, c.cont.hop = "midstream", false
				g.log.Info("stream continued at another deployment", "model_group", group, "from", prev.Config.Name,
					"to", d.Config.Name, "after_chars", len(c.cont.text), "cause", c.cont.broke)
			}
			g.obs.FellBack(group, prev, d, reason)
			if prev.Config.Group == group && d.Config.Group != group {
				c.cause = prevReason
				if prevReason == "failure" {
					c.cause = c.errType
				}
			}
		}
		c.tried = d
		if fg := d.Config.Group; fg != group && (len(c.fallbackGroups) == 0 || c.fallbackGroups[len(c.fallbackGroups)-1] != fg) {
			c.fallbackGroups = append(c.fallbackGroups, fg) // only on a fallback: no allocation otherwise
		}
		c.rest = len(route) - k - 1
		res, reason := c.tryDeployment(ctx, w, d, i)
		i++
		if res != nil {
			if c.pinKey != "" && res.code == http.StatusOK && res.served != nil && res.served.Config.Group == group {
				now := g.clock.Now()
				g.pins.set(c.pinKey, res.served.Config.Name, now, now.Add(g.cfg.Router.AffinityTTL))
			}
			return *res
		}
		if c.err(ctx) != nil {
			break
		}
		prev, prevReason = d, reason
		if reason != "" && reason == c.refused {
			// Refused by this group's model (too long, or by policy): go
			// on with the groups configured for such prompts instead.
			route, k = g.refusalRoute(reason, group), -1
		}
	}
	return c.fail(ctx, w, i)
}

// pin returns route cut to the deployment that stores the response the
// request continues (previous_response_id, a conversation, encrypted
// reasoning) or the files it names, when it is on the route: no other
// deployment has them, but those that share its store (the same upstream
// and key: two model groups on one OpenAI account) do, and follow it.
// When it is not on the route, those are the route; with none, the route
// is kept, for the upstreams to answer.
func (c *call) pin(route []*Deployment) []*Deployment {
	var home *Deployment
	for _, d := range slices.Concat(c.g.deployments, c.g.fileStores) {
		if d.Config.Name == c.routing.storedAt {
			home = d
		}
	}
	if home == nil {
		return route
	}
	var same []*Deployment
	onRoute := false
	for _, d := range route {
		switch {
		case d == home:
			onRoute = true
		case sameStore(d, home):
			same = append(same, d)
		}
	}
	switch {
	case onRoute:
		c.pinned = true
		return append([]*Deployment{home}, same...)
	case len(same) > 0:
		c.pinned = true
		c.routing.why += " (or another deployment on its account, with the same api_base and key)"
		return same
	}
	return route
}

// sameStore reports whether deployments a and b call the same upstream
// with the same key, and so share what it stores.
func sameStore(a, b *Deployment) bool {
	return a.Config.Dialect == b.Config.Dialect && a.Config.APIBase == b.Config.APIBase &&
		a.Config.APIKey.Value() == b.Config.APIKey.Value() && a.prov.Native(provider.APIResponses)
}

// reasoningFirst returns route with the deployments that read the
// latest encrypted content the request carries (the one that made it,
// and those on its account) first, the others after them in their order:
// they get the request without what they cannot read (readable).
func (c *call) reasoningFirst(route []*Deployment) []*Deployment {
	readsIt := func(d *Deployment) bool { return c.reads(d)(c.routing.reasoningAt) }
	if len(route) == 0 || readsIt(route[0]) {
		return route // the first reads it already (the commonest case)
	}
	out := make([]*Deployment, 0, len(route))
	for _, first := range []bool{true, false} {
		for _, d := range route {
			if readsIt(d) == first {
				out = append(out, d)
			}
		}
	}
	return out
}

// reads returns which deployments' encrypted content d reads: its own,
// and that of those that share its store (the same upstream and key).
func (c *call) reads(d *Deployment) func(name string) bool {
	return func(name string) bool {
		if name == d.Config.Name {
			return true
		}
		for _, o := range c.g.deployments {
			if o.Config.Name == name {
				return sameStore(d, o)
			}
		}
		return false
	}
}

// readable returns req as d is to get it when it carries encrypted
// content breakerd marked: the marks off, and the reasoning items a
// deployment on another account made left out (d could not read them:
// OpenAI answers 400; the model reasons anew), so that a Codex session
// goes on at a fallback when the deployment that made its reasoning is
// down. why says why d cannot take it at all: it carries another's
// compaction, the conversation itself.
func (c *call) readable(d *Deployment, req *provider.Request) (*provider.Request, string) {
	body, dropped, foreign := provider.EncryptedFor(req.Body, c.reads(d))
	if body == nil {
		return req, fmt.Sprintf("cannot read the %s another deployment encrypted (only that deployment's account can), and it cannot be left out", foreign)
	}
	if dropped > 0 {
		c.g.log.Info("reasoning another deployment encrypted left out", "model_group", c.group, "deployment", d.Config.Name,
			"items", dropped, "made_by", c.routing.reasoningAt)
	}
	out := *req
	out.Body = body
	return &out, ""
}

// err returns ctx's error (the client left), or DeadlineExceeded once
// the request's deadline has passed.
func (c *call) err(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// audioMaxBytes is the least limit on an audio upload's body (a
// transcription's): OpenAI's own limit on the file, 25 MB, and its form.
const audioMaxBytes = 26 << 20

// preallocBody is the longest request body read into a buffer of its
// Content-Length at once. A Content-Length is only the client's claim:
// past this, memory is taken as the body arrives, so that connections
// claiming megabytes and sending nothing cannot make breakerd allocate
// them.
const preallocBody = 64 << 10

// read reads and parses the request, and finds its model group (c.req,
// c.group), or answers the client's error and returns its outcome.
func (c *call) read(w http.ResponseWriter, r *http.Request) *outcome {
	g := c.g
	limit := g.cfg.Server.MaxBodyBytes
	if c.api.Multipart() {
		limit = max(limit, audioMaxBytes)
	}
	src := &pacedBody{r: http.MaxBytesReader(w, r.Body, limit), rc: c.rc, timeout: g.cfg.Server.BodyReadTimeout, arrived: c.start}
	var body []byte
	var err error
	if n := r.ContentLength; n > 0 && n <= min(limit, preallocBody) {
		// Of known length: one buffer of that size, not io.ReadAll's
		// growing copies (twice a long prompt, as garbage).
		body = make([]byte, n)
		_, err = io.ReadFull(src, body)
	} else {
		body, err = io.ReadAll(src)
	}
	if err != nil {
		// Closed unread, net/http closes the connection after the reply;
		// the deadline, still set, stops Close from waiting for the rest
		// of a body that may never come.
		r.Body.Close()
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			c.writeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "request_too_large",
				fmt.Sprintf("request body is larger than the limit of %d bytes", tooBig.Limit))
			return &outcome{code: http.StatusRequestEntityTooLarge}
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			c.writeError(w, http.StatusRequestTimeout, "invalid_request_error", "request_timeout",
				fmt.Sprintf("the request body stopped arriving for %s (server.body_read_timeout)", g.cfg.Server.BodyReadTimeout))
			return &outcome{code: http.StatusRequestTimeout}
		}
		c.writeError(w, http.StatusBadRequest, "invalid_request_error", "", "could not read request body")
		return &outcome{code: http.StatusBadRequest}
	}
	// Read to its end: closed now, net/http need not look for the rest
	// (a pooled 8 KB copy, deep under the frames a stream is relayed in)
	// when the answer begins.
	r.Body.Close()
	var req *provider.Request
	var routing clientRouting
	var group, msg string
	if ct := r.Header.Get("Content-Type"); c.api.Multipart() && (c.api != provider.APIImageEdits || !isJSON(ct)) {
		req, group, msg = parseForm(c.op, c.api, ct, body)
	} else {
		routing.messages = c.api == provider.APIMessages
		routing.serverFallback = routing.messages && strings.Contains(strings.Join(r.Header.Values("Anthropic-Beta"), ","), "server-side-fallback-")
		req, group, msg = parseBody(c.op, c.api, body, &routing)
	}
	if msg == "" && group == "" {
		group, msg = g.defaultGroup(c.op, c.api)
	}
	if msg != "" {
		c.writeError(w, http.StatusBadRequest, "invalid_request_error", "", msg)
		return &outcome{code: http.StatusBadRequest}
	}
	if c.api == provider.APIMessages {
		req.Header = http.Header{}
		for _, h := range []string{"Anthropic-Version", "Anthropic-Beta"} {
			if v := r.Header.Get(h); v != "" {
				req.Header.Set(h, v)
			}
		}
	}
	if a, ok := g.cfg.Router.Aliases[group]; ok {
		then := a.Then
		if a.Complexity != nil && req != nil {
			order := g.routeByComplexity(w, group, a, c.api, req.Body)
			then = order[1:]
			a.Group = order[0]
		}
		group = a.Group
		if len(then) > 0 { // an auto router's other groups, before the request's own
			routing.fallbacks = slices.Concat(then, routing.fallbacks)
		}
	}
	if g.cfg.Cache != nil {
		routing.ignored = slices.DeleteFunc(routing.ignored, func(k string) bool { return k == "cache" }) // honoured
	}
	if g.cfg.Router.TagFiltering || len(g.tagBudgets) > 0 {
		if routing.tags == nil {
			routing.tags = headerTags(r.Header) // LiteLLM's header: the body's tags win
		}
		routing.ignored = slices.DeleteFunc(routing.ignored, func(k string) bool { return k == "tags" || k == "metadata" }) // honoured
	}
	if a := g.affinityOf(group); a.Session || a.Key || a.Prompt {
		if c.pinKey = pinKey(group, a, r.Header, routing.session); routing.session != "" && a.Session {
			routing.ignored = slices.DeleteFunc(routing.ignored, func(k string) bool { return k == "litellm_session_id" }) // honoured
		}
		if c.pinKey == "" && a.Prompt && req != nil {
			c.pinKey = promptKey(group, req.Body)
		}
	}
	c.req, c.group, c.routing = req, group, routing
	if _, ok := g.groups[group]; !ok {
		if _, err := g.resolve(group); err != nil {
			if errors.Is(err, errNoPattern) {
				g.modelNotFound(w, c.api, group)
			} else {
				c.writeError(w, http.StatusNotFound, "invalid_request_error", "model_not_found",
					fmt.Sprintf("The model `%s` matches a wildcard deployment, but %v.", group, err))
			}
			return &outcome{code: http.StatusNotFound}
		}
	}
	return nil
}

// refusalFallbacks returns the fallbacks configured for a refusal kind.
func (g *Gateway) refusalFallbacks(kind string) map[string][]string {
	switch kind {
	case provider.ContextWindow:
		return g.cfg.Router.ContextWindowFallbacks
	case provider.ContentPolicy:
		return g.cfg.Router.ContentPolicyFallbacks
	}
	return nil
}

// refusalRoute returns the deployments of group's fallbacks for a refusal
// kind: each fallback group's own, in strategy order.
func (g *Gateway) refusalRoute(kind, group string) []*Deployment {
	var out []*Deployment
	for _, name := range g.refusalFallbacks(kind)[group] {
		if d := g.byID(name); d != nil && g.groups[name] == nil {
			if !slices.Contains(out, d) {
				out = append(out, d) // one deployment, by its model_info.id
			}
			continue
		}
		if _, ok := g.groups[name]; !ok {
			_, _ = g.resolve(name) // a model a wildcard serves
		}
		for _, d := range g.Route(name) {
			if d.Config.Group == name && !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out
}

// parseBody validates the client's JSON enough to route it, with
// LiteLLM's parameters read into routing (whose messages and
// serverFallback say how to read a Messages request's fallbacks). It
// decodes only the fields routing needs; the body itself travels
// untouched.
func parseBody(op provider.Operation, api provider.API, body []byte, routing *clientRouting) (*provider.Request, string, string) {
	switch api {
	case provider.APIResponses, provider.APICompact:
		r, err := dialect.ParseResponses(body, api == provider.APICompact)
		if err != nil {
			return nil, "", err.Message
		}
		if _, d, id, ok := provider.DecodeResponseID(r.PreviousResponseID); ok {
			// Continued where it is stored, under the upstream's own id.
			v, _ := json.Marshal(id)
			body, _ = provider.SetField(body, "previous_response_id", v)
			routing.storedAt, routing.previous, routing.upstream = d, r.PreviousResponseID, id
			routing.why = fmt.Sprintf("previous_response_id names a response that only deployment %s stores", d)
		}
		if conv := r.ConversationID(); conv != "" {
			if _, d, id, ok := provider.DecodeConversationID(conv); ok {
				// Joined where it is stored, under the upstream's own id.
				v, _ := json.Marshal(id)
				body, _ = provider.SetField(body, "conversation", v)
				routing.storedAt, routing.previous, routing.upstream = d, conv, id
				routing.why = fmt.Sprintf("conversation names a conversation that only deployment %s stores", d)
			}
		}
		var msg string
		if body, msg = fileRefs(body, routing); msg != "" {
			return nil, "", msg
		}
		if msg := routing.readAll(body); msg != "" {
			return nil, "", msg
		}
		if d := provider.EncryptedAt(body); d != "" {
			// Encrypted content only its deployment's account reads: the
			// body keeps its marks until a deployment is chosen
			// (readable), and the latest reasoning's deployment goes first.
			routing.reasoningAt = d
		}
		return &provider.Request{Op: op, API: api, Body: body, Model: r.Model, Stream: r.Stream && api == provider.APIResponses,
			Store: r.Store == nil || *r.Store}, r.Model, ""
	case provider.APIMessages:
		r, err := dialect.ParseMessages(body)
		if err != nil {
			return nil, "", err.Message
		}
		var msg string
		if body, msg = fileRefs(body, routing); msg != "" {
			return nil, "", msg
		}
		if msg := routing.readAll(body); msg != "" {
			return nil, "", msg
		}
		return &provider.Request{Op: op, API: api, Body: body, Model: r.Model, Stream: r.Stream}, r.Model, ""
	}
	if op == provider.Chat {
		var msg string
		if body, msg = fileRefs(body, routing); msg != "" {
			return nil, "", msg
		}
	}
	var model, stream, streamOptions, streamFormat, messages, input, prompt, query, documents, store, tools, toolChoice []byte
	var paramMsg string
	if !provider.EachField(body, func(k, v []byte) {
		if _, ok := liteLLMRequestParams[string(k)]; ok {
			if m := routing.read(string(k), v); m != "" && paramMsg == "" {
				paramMsg = m
			}
			return
		}
		switch string(k) {
		case "model":
			model = v
		case "stream":
			stream = v
		case "stream_options":
			streamOptions = v
		case "stream_format":
			streamFormat = v
		case "store":
			store = v
		case "messages":
			messages = v
		case "tools":
			tools = v
		case "tool_choice":
			toolChoice = v
		case "input":
			input = v
		case "prompt":
			prompt = v
		case "query":
			query = v
		case "documents":
			documents = v
		case "mock_response":
			paramMsg = "mock_response is LiteLLM's made-up answer; breakerd calls the provider for real: to test without one, point a deployment at `breakerd mockllm`"
		case "metadata":
			// LiteLLM's metadata, with its tags: LiteLLM's own, not
			// OpenAI's (whose values are strings, and which would refuse
			// it), so left out upstream, as LiteLLM leaves it out.
			if bytes.Contains(v, []byte(`"session_id"`)) && routing.session == "" {
				var md struct {
					Session string `json:"session_id"`
				}
				if json.Unmarshal(v, &md) == nil {
					routing.session = md.Session // for deployment affinity
				}
			}
			if bytes.Contains(v, []byte(`"tags"`)) {
				var md struct {
					Tags []string `json:"tags"`
				}
				if json.Unmarshal(v, &md) == nil && md.Tags != nil {
					routing.strip = append(routing.strip, "metadata")
					routing.ignored = append(routing.ignored, "metadata") // unless tags are honoured
					if routing.tags == nil {
						routing.tags = md.Tags // the body's own tags win
					}
				}
			}
		}
	}) {
		var v map[string]json.RawMessage
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, "", "We could not parse the JSON body of your request: " + err.Error()
		}
		return nil, "", "the request body must be a JSON object"
	}
	if paramMsg != "" {
		return nil, "", paramMsg
	}
	name, ok := "", model != nil
	if ok {
		name, ok = provider.JSONString(model)
	}
	if (!ok || name == "") && !(model == nil && optionalModel[api]) {
		return nil, "", "you must provide a model parameter"
	}
	req := &provider.Request{Op: op, API: api, Body: body, Model: name, Store: string(store) == "true"}
	if op == provider.Chat && (api == "" || api == provider.APIChat) {
		routing.customTools = bytes.Contains(tools, []byte(`"custom"`))
		routing.allowedTools = bytes.Contains(toolChoice, []byte(`"allowed_tools"`))
		routing.thoughtIDs = bytes.Contains(messages, []byte(dialect.ThoughtSeparator))
	}
	if stream != nil && (op == provider.Chat || op == provider.Images) {
		switch string(stream) { // as json.Unmarshal into a bool reads it
		case "true":
			req.Stream = true
		case "false", "null":
		default:
			return nil, "", "stream must be a boolean"
		}
	}
	if op == provider.Speech && string(streamFormat) == `"sse"` {
		req.Stream = true // its audio as events
	}
	if streamOptions != nil && req.Stream {
		var so struct {
			IncludeUsage bool `json:"include_usage"`
		}
		if err := json.Unmarshal(streamOptions, &so); err != nil {
			return nil, "", "stream_options must be an object"
		}
		req.IncludeUsage = so.IncludeUsage
	}
	switch {
	case api == provider.APICompletions:
		if prompt == nil {
			return nil, "", "you must provide a prompt parameter"
		}
	case op == provider.Chat:
		// A non-empty array: '[' and then anything but ']'.
		if m := bytes.TrimSpace(messages); len(m) < 2 || m[0] != '[' || bytes.TrimSpace(m[1:])[0] == ']' {
			return nil, "", "messages must be a non-empty array"
		}
	case (op == provider.Embeddings || op == provider.Speech || op == provider.Moderations) && input == nil:
		return nil, "", "you must provide an input parameter"
	case op == provider.Images && prompt == nil:
		return nil, "", "you must provide a prompt parameter"
	case op == provider.Rerank && (query == nil || documents == nil):
		return nil, "", "you must provide a query and documents parameter"
	}
	return req, name, ""
}

// fileRefs routes a request that names files breakerd gave its client
// (provider.ReferencedFiles) to the deployment that stores them, under
// the upstream's own ids, as previous_response_id is routed; msg says why
// it cannot be.
func fileRefs(body []byte, routing *clientRouting) (out []byte, msg string) {
	out, d, err := provider.ReferencedFiles(body)
	switch {
	case err != nil:
		return body, err.Error()
	case d == "":
		return body, ""
	case routing.storedAt != "" && routing.storedAt != d:
		return body, fmt.Sprintf("the request names a file or vector store that only deployment %s stores, and continues what only deployment %s stores; no one upstream has both",
			d, routing.storedAt)
	case routing.storedAt == "":
		routing.storedAt = d
		routing.why = fmt.Sprintf("the request names a file or vector store that only deployment %s stores", d)
	}
	return out, ""
}

// parseForm reads a multipart/form-data request (an audio file to
// transcribe, images to edit) enough to route it: its model, that it has
// its file (and an edit its prompt), and whether it asks for a stream.
func parseForm(op provider.Operation, api provider.API, contentType string, body []byte) (*provider.Request, string, string) {
	file := api.FormFile()
	fields, hasFile, err := provider.FormFields(body, contentType, file, "model", "prompt", "stream")
	_, prompt := fields["prompt"]
	switch {
	case err != nil:
		return nil, "", err.Error()
	case fields["model"] == "" && !optionalModel[api]:
		return nil, "", "you must provide a model parameter"
	case !hasFile:
		return nil, "", "you must provide a " + file + " parameter"
	case api == provider.APIImageEdits && !prompt:
		return nil, "", "you must provide a prompt parameter"
	}
	return &provider.Request{Op: op, API: api, Body: body, Model: fields["model"], ContentType: contentType,
		Stream: fields["stream"] == "true"}, fields["model"], ""
}

// optionalModel are the APIs whose model OpenAI chooses when a request
// names none; breakerd chooses the one model group that serves it
// (defaultGroup).
var optionalModel = map[provider.API]bool{provider.APIModerations: true, provider.APIImageEdits: true, provider.APIImageVariations: true}

// defaultGroup is the model group of a request that names none, in an
// API whose model is optional: the only configured group with a
// deployment for op. With none or several, msg says the model is needed.
func (g *Gateway) defaultGroup(op provider.Operation, api provider.API) (group, msg string) {
	var names []string
	for _, grp := range g.groupOrder {
		if slices.ContainsFunc(grp.Deployments, func(d *Deployment) bool { return d.Breakers[op] != nil }) {
			names = append(names, "`"+grp.Name+"`")
		}
	}
	switch len(names) {
	case 1:
		return strings.Trim(names[0], "`"), ""
	case 0:
		return "", fmt.Sprintf("you must provide a model parameter: no model in breakerd's config serves /v1/%s", api)
	}
	return "", fmt.Sprintf("you must provide a model parameter: %d models serve /v1/%s (%s), and breakerd does not choose among them",
		len(names), api, strings.Join(names, ", "))
}

// isJSON reports whether a Content-Type is JSON's.
func isJSON(contentType string) bool {
	media, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(media), "application/json")
}

// writeError writes an error in the client API's shape.
func (c *call) writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	if c.cont.midStream {
		// The client has the stream's headers: an error is its event.
		c.continueInstead(w, msg)
		return
	}
	writeAPIError(w, c.api, status, typ, code, msg)
}

// what names the operation in messages: chat, embeddings, responses, ...
func (c *call) what() string {
	if c.api != "" && c.api != provider.APIChat {
		return string(c.api)
	}
	return string(c.op)
}

// requestFor returns the request to send to d: the client's own when d
// serves the client's API natively, else the client's request translated
// to chat (once per call), with the translation's unfit (what only a
// native deployment can honour) and optional parameters. A translation
// error is the client's to see.
func (c *call) requestFor(d *Deployment) (req *provider.Request, tr *dialect.Translated, err *dialect.Error) {
	if c.cont.midStream {
		req := c.continuationRequest()
		if c.api == "" || c.api == provider.APIChat {
			return c.chatFor(d, req)
		}
		if d.native(c.api) {
			return req, nil, nil
		}
		// A Messages or Responses stream continued at a chat deployment:
		// the continuation's request translated.
		tr, terr := translate(c.api, req.Body)
		if terr != nil {
			return nil, nil, terr
		}
		chat := *req
		chat.API, chat.Body, chat.Header, chat.IncludeUsage = provider.APIChat, chatBody(d, tr), nil, true
		return &chat, tr, nil
	}
	if ov := c.routing.overrides[d.Config.Group]; len(ov) > 0 && d.Config.Group != c.group {
		return c.overridden(d, ov)
	}
	if c.api == "" || c.api == provider.APIChat {
		return c.chatFor(d, c.req)
	}
	if d.native(c.api) {
		return c.req, nil, nil
	}
	if c.translated == nil {
		tr, terr := translate(c.api, c.req.Body)
		if terr != nil {
			return nil, nil, terr
		}
		c.translated = tr
	}
	chat := *c.req
	chat.API, chat.Body, chat.Header = provider.APIChat, chatBody(d, c.translated), nil
	chat.IncludeUsage = c.req.Stream // the translated stream reports usage at its end
	return &chat, c.translated, nil
}

// overridden is requestFor's request for d, a deployment of a fallback
// the client gave as an object: the client's request with the object's
// fields (ov) in place of its own, translated for d when it needs that.
func (c *call) overridden(d *Deployment, ov map[string]json.RawMessage) (*provider.Request, *dialect.Translated, *dialect.Error) {
	req := *c.req
	for _, k := range slices.Sorted(maps.Keys(ov)) {
		if b, ok := provider.SetField(req.Body, k, ov[k]); ok {
			req.Body = b
		}
	}
	if c.api == "" || c.api == provider.APIChat {
		return c.chatFor(d, &req)
	}
	if d.native(c.api) {
		return &req, nil, nil
	}
	tr, terr := translate(c.api, req.Body)
	if terr != nil {
		return nil, nil, terr
	}
	chat := req
	chat.API, chat.Body, chat.Header = provider.APIChat, chatBody(d, tr), nil
	chat.IncludeUsage = req.Stream
	return &chat, tr, nil
}

// chatFor is req, a chat client's, as d is to get it: its tool call ids
// the model's (a thought signature a client got in one, for Gemini 3,
// cut off, and given back where d's model wants it: SignaturesFromIDs),
// and, where d's model does not take OpenAI's newer tool features (GPT-5
// and later do), an allowed_tools tool_choice as the allowed tools alone
// (AllowedToolsFitted) and its custom tools (free-form input) as
// functions, with the translation that names them, whose
// calls go back to the client as custom calls (chatAnswer, frames); req
// itself when neither applies.
func (c *call) chatFor(d *Deployment, req *provider.Request) (*provider.Request, *dialect.Translated, *dialect.Error) {
	if c.routing.thoughtIDs {
		out := *req
		out.Body = dialect.SignaturesFromIDs(req.Body, d.Config.Fit.ThoughtSignatures)
		req = &out
	}
	if c.routing.allowedTools && !d.Config.Fit.CustomTools {
		out := *req
		out.Body = dialect.AllowedToolsFitted(req.Body)
		req = &out
	}
	if !c.routing.customTools || d.Config.Fit.CustomTools || !dialect.HasCustomTools(req.Body) {
		return req, nil, nil
	}
	tr, err := dialect.CustomAsFunctions(req.Body)
	if err != nil {
		return nil, nil, err
	}
	out := *req
	out.Body = tr.Chat
	return &out, tr, nil
}

// chatAnswer is a whole chat answer as a chat client is to get it: its
// calls of custom tools (custom: the translation's, nil for none) as
// custom calls, a thought signature in its tool call's id too where d's
// model wants it back (Gemini 3's), its reasoning merged into its content
// where d says so.
func chatAnswer(body []byte, d *Deployment, custom []string) []byte {
	body = dialect.CustomCalls(body, custom)
	if d.Config.Fit.ThoughtSignatures {
		body = dialect.SignaturesIntoIDs(body)
	}
	if d.Config.MergeReasoning {
		body = dialect.MergeReasoning(body)
	}
	return body
}

// chatBody is tr's chat request as d is to get it: the assistant's
// reasoning only where d's model reads it back, its text
// (reasoning_content) at DeepSeek's and Kimi's thinking models, Claude's
// signed thinking blocks (thinking_blocks) at Claude, Gemini's thought
// signatures (tool calls' extra_content) at Gemini 3; others may refuse
// the fields.
func chatBody(d *Deployment, tr *dialect.Translated) []byte {
	if !tr.Reasoning {
		return tr.Chat
	}
	var unread []string
	if !d.Config.Fit.ReasoningContent {
		unread = append(unread, "reasoning_content")
	}
	if d.Config.Dialect != config.DialectAnthropic {
		unread = append(unread, "thinking_blocks")
	}
	body := tr.Chat
	if !d.Config.Fit.ThoughtSignatures {
		body = provider.WithoutToolCallExtras(body)
	}
	if len(unread) == 0 {
		return body
	}
	return provider.WithoutMessageFields(body, unread)
}

// translate turns a client request in api into a chat request. LiteLLM's
// request parameters are breakerd's to honour, and left out of every
// upstream request: none makes a deployment unfit.
func translate(api provider.API, body []byte) (*dialect.Translated, *dialect.Error) {
	toChat := dialect.ResponsesToChat
	if api == provider.APIMessages {
		toChat = dialect.MessagesToChat
	}
	out, err := toChat(body)
	if err != nil {
		return nil, err
	}
	litellm := func(p string) bool { _, ok := liteLLMRequestParams[p]; return ok }
	out.Unfit, out.Unknown = slices.DeleteFunc(out.Unfit, litellm), slices.DeleteFunc(out.Unknown, litellm)
	return out, nil
}

// tryDeployment attempts d, with retries. It returns the request's outcome
// once a response (success or a client error) has been written, or the
// reason to move on.
//
// Its steps are methods of their own, and so are the rare paths in them:
// a stream is relayed from below this frame, and every byte of the frames
// above the relay counts against the handler's stack, which doubles past
// 8 KB (8 KB more for each of thousands of streams held).
func (c *call) tryDeployment(ctx context.Context, w http.ResponseWriter, d *Deployment, index int) (*outcome, string) {
	if res, reason, ok := c.prepare(w, d); !ok {
		return res, reason
	}
	for retry := 0; ; retry++ {
		done, release, reason := c.enter(ctx, d, index)
		if reason != "" {
			return nil, reason
		}
		c.attempts++
		actx, span := c.g.startAttemptSpan(ctx, d, c.op, c.api, c.attempts, index, false)
		info := AttemptInfo{Deployment: d, Op: c.op, Attempt: c.attempts}
		// A fallback: not the route's first, or of another group (the
		// group's own passed over before any call).
		res, perr, o, dur := c.attempt(actx, w, d, index > 0 || d.Config.Group != c.group, &info)
		endAttemptSpan(span, info, o, d.Config.Model)
		release()
		c.settle(d, perr, o, dur, &info, done)
		if res != nil {
			if c.req.Stream && c.op == provider.Chat && o != breaker.Ignored {
				c.judgeStreams(d, d.Breakers[c.op], o == breaker.Failure)
			}
			return res, ""
		}
		if res, reason, again := c.failed(ctx, w, d, perr, o, retry); !again {
			return res, reason
		}
		if c.reprepare { // the request made again for d, not a retry
			c.reprepare = false
			if res, reason, ok := c.prepare(w, d); !ok {
				return res, reason
			}
			continue
		}
		c.retried++
	}
}

// prepare makes the request for d, or says why d cannot take it: ok is
// false with the outcome of a request the client got wrong, or with the
// reason d is passed over.
func (c *call) prepare(w http.ResponseWriter, d *Deployment) (res *outcome, reason string, ok bool) {
	g := c.g
	c.dropped, c.leftOut = nil, nil
	dreq, tr, terr := c.requestFor(d)
	if terr != nil {
		// The client's request cannot be translated: its own fault.
		c.writeError(w, terr.Status, "invalid_request_error", "", terr.Message)
		return &outcome{code: terr.Status}, "", false
	}
	if tr == nil && c.routing.reasoningAt != "" {
		var why string
		if dreq, why = c.readable(d, dreq); why != "" {
			c.failures = append(c.failures, d.Config.Name+": "+why)
			c.unfit++
			if c.unfitMsg == "" {
				c.unfitMsg = why
			}
			g.obs.Skipped(d, c.op, "unsupported_params")
			return nil, "unsupported_params", false
		}
	}
	var unfit, unknown, optional []string
	if tr != nil {
		unfit, unknown, optional, c.shown = tr.Unfit, tr.Unknown, tr.Optional, tr
	}
	if len(unfit) > 0 {
		// Only a deployment serving the client's API itself can honour
		// these; this one would ignore them silently. drop_params does
		// not apply: the answer would be a different one.
		c.failures = append(c.failures, fmt.Sprintf("%s: cannot honour %s (needs the %s API itself)", d.Config.Name, unfit[0], c.api))
		c.unfit++
		if c.unfitMsg == "" {
			c.unfitMsg = fmt.Sprintf("%s needs a deployment that serves the %s API itself; no deployment on the route of `%s` that can take it is available",
				unfit[0], c.api, c.group)
		}
		g.obs.Skipped(d, c.op, "unsupported_params")
		return nil, "unsupported_params", false
	}
	if len(unknown) > 0 && !d.Config.DropParams {
		// Newer than the translation, which leaves it out: the
		// deployment takes the request only where drop_params says to
		// go without what it does not support.
		c.failures = append(c.failures, fmt.Sprintf("%s: cannot take parameter %q (newer than breakerd's translation of the %s API; drop_params would drop it)",
			d.Config.Name, unknown[0], c.api))
		c.unfit++
		if c.unfitMsg == "" {
			c.unfitMsg = fmt.Sprintf("parameter %q is newer than breakerd's translation of the %s API, so only a deployment that serves that API itself takes it, "+
				"and none on the route of `%s` is available (drop_params on a deployment drops it there)", unknown[0], c.api, c.group)
		}
		g.obs.Skipped(d, c.op, "unsupported_params")
		return nil, "unsupported_params", false
	}
	c.sendReq, c.native = dreq, tr == nil
	if len(optional) > 0 && !takesEffort(&d.Config) {
		c.leftOut = optional // sent only where known to be taken
	}
	// The request is the call's own: each deployment sets its defaults
	// and drops on it (here only those it always drops, to find what else
	// it cannot take).
	dreq.Defaults, dreq.Drop = d.Config.Defaults, c.drops(d, c.leftOut)
	if why := d.prov.Unfit(dreq); why != "" {
		// The model refuses the request itself (a Claude that takes no
		// prefill): another deployment may take it as it is.
		c.failures = append(c.failures, d.Config.Name+": "+why)
		c.unfit++
		if c.unfitMsg == "" {
			c.unfitMsg = fmt.Sprintf("%s; no deployment on the route of `%s` that can take it is available", why, c.group)
		}
		g.obs.Skipped(d, c.op, "unsupported_params")
		return nil, "unsupported_params", false
	}
	params, why := d.prov.Unsupported(dreq)
	if isOptional := func(p string) bool { return slices.Contains(optional, p) }; slices.ContainsFunc(params, isOptional) {
		// What the translation made of the client's, and d refuses:
		// left out, and the rest looked at again. One refused even when
		// absent (reasoning_effort at a model that reasons by default)
		// is the provider's to fit.
		c.leftOut = append(c.leftOut, slices.DeleteFunc(slices.Clone(params), func(p string) bool { return !isOptional(p) })...)
		dreq.Drop = c.drops(d, c.leftOut)
		params, why = d.prov.Unsupported(dreq)
		if len(params) > 0 && isOptional(params[0]) {
			why = "its model refuses it"
		}
		params = slices.DeleteFunc(params, isOptional)
	}
	if len(params) > 0 {
		if !d.Config.DropParams {
			// Not a 400 for a request another deployment serves: pass
			// this one over, as one that lacks the operation.
			c.failures = append(c.failures, fmt.Sprintf("%s: cannot take parameter %q (%s; drop_params would drop it)", d.Config.Name, params[0], why))
			c.unfit++
			if c.unfitMsg == "" {
				c.unfitMsg = fmt.Sprintf("parameter %q is not supported by this model's %s deployment: %s", params[0], d.Config.Provider, why)
			}
			g.obs.Skipped(d, c.op, "unsupported_params")
			return nil, "unsupported_params", false
		}
		c.dropped = params
	}
	c.dropped = append(c.dropped, unknown...)
	return nil, "", true
}

// takesEffort reports whether d's model is known to take a
// reasoning_effort: one that reasons (config.Deployment.Fit.Reasons), or a
// Claude that thinks, whose translation makes it thinking.
func takesEffort(d *config.Deployment) bool {
	return d.Fit.Reasons || d.Dialect == config.DialectAnthropic && config.ClaudeOf(d.Model).Thinking >= config.ThinkingBudget
}

// enter lets one call to d through its cooldown, breaker, bulkhead and
// rate limits, or returns the reason it may not call now. done reports
// the call's outcome to the breaker; release frees the bulkhead slot.
func (c *call) enter(ctx context.Context, d *Deployment, index int) (done func(breaker.Outcome, time.Duration), release func(), reason string) {
	g := c.g
	if len(d.budgets) > 0 {
		if why, until := d.OverBudget(g.clock.Now()); why != "" {
			c.retryNoLaterThan(until)
			c.failures = append(c.failures, d.Config.Name+": "+why)
			c.limited, c.limitKind = c.limited+1, "budget"
			g.obs.Skipped(d, c.op, "budget")
			return nil, nil, "budget"
		}
	}
	if until, ok := d.Cooldowns[c.op].holding(g.clock); ok {
		c.retryNoLaterThan(until)
		c.failures = append(c.failures, fmt.Sprintf("%s: the provider is rate limiting it until %s",
			d.Config.Name, until.UTC().Format(time.RFC3339)))
		c.limited, c.limitKind = c.limited+1, "requests"
		g.obs.Skipped(d, c.op, "cooldown")
		return nil, nil, "rate_limited"
	}
	done, err := d.Breakers[c.op].Allow()
	if err != nil {
		var oe *breaker.OpenError
		if errors.As(err, &oe) {
			c.retryNoLaterThan(oe.RetryAt)
		}
		c.failures = append(c.failures, d.Config.Name+": circuit "+oe.State.String())
		_, span := g.startAttemptSpan(ctx, d, c.op, c.api, c.attempts, index, true)
		span.End()
		g.obs.Skipped(d, c.op, "open")
		return nil, nil, "open"
	}
	if d.Bulkhead.Settings().MaxQueue > 0 {
		// A call may wait in the bulkhead's queue: until the request's
		// deadline at most.
		wctx, cancel := context.WithDeadline(ctx, c.deadline)
		defer cancel()
		start := time.Now()
		if release, err = d.Bulkhead.Acquire(wctx); err != nil {
			err = queueError(ctx, err, time.Since(start), d.Bulkhead.Settings().MaxWait)
		}
	} else {
		release, err = d.Bulkhead.Acquire(ctx)
	}
	if err != nil {
		done(breaker.Ignored, 0)
		why := "bulkhead full"
		if !errors.Is(err, breaker.ErrBulkheadFull) {
			why = err.Error()
		}
		c.failures = append(c.failures, d.Config.Name+": "+why)
		g.obs.Skipped(d, c.op, "bulkhead_full")
		return nil, nil, "bulkhead_full"
	}
	if kind, wait := limited(d); kind != "" {
		release()
		done(breaker.Ignored, 0)
		c.retryNoLaterThan(g.clock.Now().Add(wait))
		c.failures = append(c.failures, fmt.Sprintf("%s: %s per minute limit reached", d.Config.Name, kind))
		c.limited, c.limitKind = c.limited+1, kind
		g.obs.Skipped(d, c.op, "rate_limited")
		return nil, nil, "rate_limited"
	}
	return done, release, ""
}

// queueError says why a call that could wait in a bulkhead's queue got
// no slot, for the request's error: the time it waited is breakerd's, and
// an on-call reader needs to see it was not the provider's.
func queueError(ctx context.Context, err error, waited, maxWait time.Duration) error {
	w := waited.Round(time.Millisecond)
	switch {
	case errors.Is(err, breaker.ErrBulkheadTimeout):
		return fmt.Errorf("no bulkhead slot within max_wait (%s)", maxWait)
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return fmt.Errorf("no bulkhead slot before the request's deadline (waited %s in the queue)", w)
	case ctx.Err() != nil:
		return fmt.Errorf("the client left while waiting %s for a bulkhead slot", w)
	}
	return err
}

// settle accounts for an attempt that has ended: its tokens and latency,
// and its outcome to the breaker (naming a failure's cause first, so that
// a trip's reason names it).
func (c *call) settle(d *Deployment, perr *provider.Error, o breaker.Outcome, dur time.Duration, info *AttemptInfo, done func(breaker.Outcome, time.Duration)) {
	g := c.g
	d.TPM.Add(float64(info.Usage.InputTokens + info.Usage.OutputTokens))
	// Known usage is spent whatever the outcome: a stream that broke
	// mid-way cost what its upstream had read and written by then.
	if u := info.Usage; (len(d.budgets) > 0 || len(g.tagBudgets) > 0 && len(c.routing.tags) > 0) && (u.InputTokens > 0 || u.OutputTokens > 0) {
		now, usd := g.clock.Now(), d.Config.Cost(u.Tokens())
		g.spend(d, now, usd)
		g.spendTags(c.routing.tags, now, usd)
	}
	if g.countsUsage {
		d.load.count(g.clock.Now(), info.Usage.InputTokens+info.Usage.OutputTokens)
	}
	if o == breaker.Success {
		d.load.observe(dur)
	}
	if info.ErrType != "" {
		c.errType = info.ErrType
	}
	if o == breaker.Failure {
		cause := failureCause(perr, info.ErrType)
		d.Breakers[c.op].NoteFailure(info.ErrType, cause)
		g.logFailure(d, string(c.op), c.attempts, info.Status, cause)
	}
	done(o, dur)
}

// failed handles an attempt on d that did not serve: again is true when
// d is to be tried once more (after the backoff, already waited);
// otherwise res is the request's outcome, if an answer was written, or
// reason is why the request moves on.
func (c *call) failed(ctx context.Context, w http.ResponseWriter, d *Deployment, perr *provider.Error, o breaker.Outcome, retry int) (res *outcome, reason string, again bool) {
	g := c.g
	br := d.Breakers[c.op]
	c.lastErr = perr
	if g.cut.Err() != nil && c.err(ctx) == nil {
		// Cut at the end of a shutdown's grace period: another
		// replica can serve it.
		g.log.Warn("request cut at shutdown", "model_group", c.group, "after", time.Since(c.start).Round(time.Millisecond).String())
		c.writeError(w, http.StatusServiceUnavailable, "service_unavailable", "shutting_down",
			"breakerd is shutting down and its grace period (server.shutdown_grace) ended before the upstream answered; retry the request")
		return &outcome{code: http.StatusServiceUnavailable}, "", false
	}
	if perr.Canceled || errors.Is(ctx.Err(), context.Canceled) {
		return &outcome{code: 499}, "", false // the client left; nobody to answer
	}
	if bit := lackBit(c.api); bit != 0 && d.lacks.Load()&bit == 0 && c.unservedAPI(perr) {
		// A chat-only server: the request again, translated to chat, as
		// for a provider without the API; and its next ones.
		d.lacks.Or(bit)
		g.log.Info("upstream has no path for the API: its requests go translated to chat", "deployment", d.Config.Name, "api", string(c.api))
		c.reprepare = true
		return nil, "", true
	}
	if c.unservedAPI(perr) || perr.AccountCannot() {
		// Not the deployment's fault for the rest of what it serves.
		if c.unservedAPI(perr) {
			c.failures = append(c.failures, fmt.Sprintf("%s: its server does not serve /v1/%s (%s)", d.Config.Name, c.api, perr.Error()))
			c.unserved++
		} else {
			c.failures = append(c.failures, fmt.Sprintf("%s: its account may not make this request (%s)", d.Config.Name, perr.Error()))
		}
		c.passedOver++
		c.passedOverErr = perr
		return nil, "passed_over", false
	}
	if kind := deploymentFault(d, perr); kind != "" {
		// Open its circuit now, and go on without a retry.
		c.failures = append(c.failures, d.Config.Name+": "+perr.Error())
		tripOnFault(br, kind, perr)
		return nil, "failure", false
	}
	if perr.Status > 0 && (!fallbackWorthy(perr.Status) || perr.Refusal() != "") {
		if kind := perr.Refusal(); kind != "" && c.refused == "" && len(g.refusalFallbacks(kind)[c.group]) > 0 && !c.routing.noFallbacks {
			c.refused = kind
			c.failures = append(c.failures, d.Config.Name+": "+perr.Error())
			return nil, kind, false
		}
		// The upstream says the request itself is wrong: every
		// deployment would say the same, so pass it on.
		w.Header().Set("X-Breakerd-Attempts", strconv.Itoa(c.attempts))
		msg := perr.Message
		if c.routing.upstream != "" { // in the id the client knows
			msg = strings.ReplaceAll(msg, c.routing.upstream, c.routing.previous)
		}
		c.writeError(w, perr.Status, cmp.Or(perr.Type, "invalid_request_error"), perr.Code, msg)
		return &outcome{code: perr.Status}, "", false
	}
	c.failures = append(c.failures, d.Config.Name+": "+perr.Error())
	if perr.Status == http.StatusTooManyRequests && o != breaker.Failure {
		// Busy, not broken: pass it over until the provider's time,
		// without a breaker failure.
		wait := cmp.Or(min(perr.RetryAfter, retryAfterCap(br.Settings())), DefaultCooldown)
		now := g.clock.Now()
		if d.Cooldowns[c.op].extend(now, now.Add(wait)) {
			g.obs.CooledDown(d, c.op, now.Add(wait), perr.Message)
		}
		c.retryNoLaterThan(now.Add(wait))
		c.limited, c.limitKind = c.limited+1, "requests"
		return nil, "rate_limited", false
	}
	if o == breaker.Failure && perr.RetryAfter > 0 && g.cfg.Router.Breaker.RespectRetryAfter {
		hold := min(perr.RetryAfter, retryAfterCap(br.Settings()))
		br.OpenUntil(g.clock.Now().Add(hold), fmt.Sprintf("upstream %d with Retry-After %s", perr.Status, hold))
	}
	rt := g.cfg.Router
	switch {
	case c.routing.setRetries: // the request's own
		rt.NumRetries = c.routing.retries
	case d.Config.NumRetries != nil: // the deployment's
		rt.NumRetries = *d.Config.NumRetries
	}
	if retry >= rt.NumRetries || perr.Status == http.StatusUnauthorized || perr.Status == http.StatusForbidden {
		// A key the upstream refuses is refused again: the next
		// deployment, as LiteLLM retries an authentication error only
		// on another.
		return nil, "failure", false
	}
	wait := backoff(rt.RetryBackoff, rt.MaxRetryBackoff, retry)
	if perr.RetryAfter > wait {
		// The upstream will refuse until then: the next deployment
		// may serve now, and a client may give up while we wait.
		return nil, "failure", false
	}
	if time.Until(c.deadline) < wait {
		return nil, "failure", false // no time to wait here; try the next one
	}
	g.obs.Retried(d, c.op)
	t := time.NewTimer(wait)
	c.adm.leave()
	defer c.adm.back()
	select {
	case <-t.C:
		c.waited += wait
		return nil, "", true
	case <-ctx.Done():
		t.Stop()
		return nil, "failure", false
	}
}

// DefaultRetryAfterCap is the longest a provider's Retry-After holds a
// breaker open when max_recovery_timeout is not set: one 503 with a
// Retry-After of a year must not keep a healed provider out for a year.
const DefaultRetryAfterCap = 5 * time.Minute

// retryAfterCap returns the longest a Retry-After may hold a breaker with
// settings s open: its max_recovery_timeout (or recovery_timeout, if
// longer), else DefaultRetryAfterCap.
func retryAfterCap(s breaker.Settings) time.Duration {
	if s.MaxOpenTimeout > 0 {
		return max(s.MaxOpenTimeout, s.OpenTimeout)
	}
	return DefaultRetryAfterCap
}

// judgeStreams records how a stream that reached the client ended, and
// trips the breaker when too many of the deployment's latest streams broke
// after their first chunk (circuit_breaker.stream_failure_rate_threshold).
func (c *call) judgeStreams(d *Deployment, br *breaker.Breaker, broke bool) {
	if d.streams == nil {
		return
	}
	bc := c.g.cfg.Router.Breaker
	broken, of := d.streams.record(broke)
	if of < bc.StreamMinimumCalls || float64(broken) < bc.StreamFailureRate*float64(of) || broken == 0 {
		return
	}
	reason := fmt.Sprintf("%d of the last %d streams broke after their first chunk", broken, of)
	if _, cause := br.LastFailureCause(); cause != "" {
		reason += "; last: " + cause
	}
	if br.Trip(reason) {
		d.streams.reset()
	}
}

// toContentPolicy reports whether an answer that declined the request
// (resp.Refusal: whole, or a stream before any content) goes to the
// group's content_policy_fallbacks, as a content policy error would.
func (c *call) toContentPolicy(resp *provider.Response) bool {
	return resp.Refusal != "" && c.refused == "" && !c.routing.noFallbacks && len(c.g.refusalFallbacks(provider.ContentPolicy)[c.group]) > 0
}

// frames returns a streamed answer as the client's API frames it: a
// native stream as it came, a chat stream as chat, Messages or Responses
// events; with LiteLLM's include_cost_in_streaming_usage, the event that
// carries the whole usage carries the cost too (costedFrames).
func (c *call) frames(resp *provider.Response, d *Deployment) provider.Stream {
	// What a stream must say before its usage (Messages' message_start)
	// and what it cost should it break before that.
	c.prompt = estimateTokens(c.sendReq.Body)
	var f provider.Stream
	switch {
	case resp.Frames != nil:
		f = resp.Frames
	case c.native || c.api == provider.APIChat || c.api == "":
		if !c.native { // a chat client's custom tools, as functions
			resp.Stream = dialect.CustomCallStream(resp.Stream, c.shown.Custom)
		}
		if d.Config.Fit.ThoughtSignatures && c.chatClient() {
			resp.Stream = dialect.SignatureIDStream(resp.Stream)
		}
		if d.Config.MergeReasoning && c.chatClient() {
			resp.Stream = dialect.MergedReasoning(resp.Stream)
		}
		f = dialect.ChatFrames(resp.Stream)
	case c.api == provider.APIMessages:
		f = dialect.MessagesFrames(resp.Stream, d.Config.Model, c.shown, c.prompt)
	default:
		f = dialect.ResponsesFrames(resp.Stream, d.Config.Model, c.shown)
	}
	if c.g.cfg.Router.StreamCost && d.Config.Priced && (provider.Translatable(c.api) || c.api == provider.APIChat || c.api == "") {
		return &costedFrames{Stream: f, d: d}
	}
	return f
}

// chatClient reports whether the client called chat completions.
func (c *call) chatClient() bool {
	return c.op == provider.Chat && (c.api == "" || c.api == provider.APIChat)
}

// answer writes a translated deployment's chat answer in the client's API
// (a chat client's, with its custom tools' calls as custom calls).
func (c *call) answer(body []byte, d *Deployment) ([]byte, error) {
	switch c.api {
	case "", provider.APIChat:
		return chatAnswer(body, d, c.shown.Custom), nil
	case provider.APIMessages:
		return dialect.ChatToMessage(body, d.Config.Model, c.shown)
	}
	return dialect.ChatToResponse(body, d.Config.Model, c.shown)
}

// failureCause says in a few words why a counted attempt failed: the
// upstream's status and message (secrets already scrubbed by the
// provider), a timeout, a connection failure, or a stream that broke or
// stalled after its first chunk (perr nil). It never holds a URL.
func failureCause(perr *provider.Error, errType string) string {
	switch {
	case perr == nil && errType == "timeout":
		return "stream stalled after its first chunk (no next chunk within its stream_timeout or stream_idle_timeout)"
	case perr == nil:
		return "stream broke after its first chunk"
	case errType == "stream_cut": // and another deployment went on with it
		return "stream broke after its first chunk: " + perr.Message
	case perr.Status > 0:
		msg := perr.Message
		if len(msg) > 160 {
			msg = msg[:160] + "..."
		}
		return fmt.Sprintf("%d %s: %s", perr.Status, http.StatusText(perr.Status), msg)
	case perr.Timeout:
		return "timeout: " + perr.Message
	}
	return "connection: " + perr.Message
}

// logFailure logs a counted failure, at most one line a second per
// deployment; the next line says how many were left out meanwhile.
func (g *Gateway) logFailure(d *Deployment, op string, attempt, status int, cause string) {
	ok, skipped := d.failLog.Allow(g.clock.Now(), time.Second)
	if !ok {
		return
	}
	g.log.Warn("upstream call failed", "deployment", d.Config.Name, "operation", op, "attempt", attempt,
		"status", status, "cause", cause, "not_logged_since_last", skipped)
}

// limited takes one request from d's rpm limit if its tpm limit has
// tokens left. If either refuses it returns which ("requests" or "tokens")
// and how long until it would not.
func limited(d *Deployment) (kind string, wait time.Duration) {
	if ok, wait := d.TPM.Take(0); !ok {
		return "tokens", wait
	}
	if ok, wait := d.RPM.Take(1); !ok {
		return "requests", wait
	}
	return "", 0
}

// retryNoLaterThan lowers c.retryAt to at, if at is set and earlier.
func (c *call) retryNoLaterThan(at time.Time) {
	if !at.IsZero() && (c.retryAt.IsZero() || at.Before(c.retryAt)) {
		c.retryAt = at
	}
}

// fallbackWorthy reports whether an upstream status means another
// deployment might succeed. 400, 404, 422 and other client errors mean the
// request is wrong, not the provider (but see deploymentFault).
func fallbackWorthy(status int) bool {
	return status >= 500 || status == 429 || status == 401 || status == 403 || status == 408
}

// deploymentFault returns which fault of d's own perr is, one that
// no retry mends and another deployment may not share (its failure's
// class, and faultWhy's key), or "" when it is not one: d's account is
// out of credit (provider.Error.OutOfCredit) or disabled
// (provider.Error.AccountDisabled), d's upstream does not serve
// d's model (provider.Error.ModelMissing: retired, misnamed, not the
// key's), or d's api_base has no such path (provider.Error.WrongPath). A
// model a client named through a wildcard deployment is the request's to
// get right.
func deploymentFault(d *Deployment, perr *provider.Error) string {
	switch {
	case perr.OutOfCredit():
		return "out_of_credit"
	case perr.AccountDisabled():
		return "account_disabled"
	case !d.Config.Resolved && perr.ModelMissing(d.Config.Model):
		return "model_missing"
	case perr.WrongPath():
		return "wrong_path"
	}
	return ""
}

// faultWhy says what each kind of deploymentFault means, in a breaker's
// reason.
var faultWhy = map[string]string{
	"out_of_credit":    "its upstream account is out of credit",
	"account_disabled": "its upstream account is disabled",
	"model_missing":    "its upstream does not serve its model",
	"wrong_path":       "its api_base does not serve this API",
}

// unservedAPI reports whether perr says the deployment's server has no
// such path for the request's API where that API shares the chat circuit
// (the Responses API, Messages, legacy completions at a server that
// speaks only chat completions: vLLM's or Ollama's at openai/): its
// server lacks the API, which is no fault of the deployment's for the
// chat it serves. Chat's own path missing is (deploymentFault).
func (c *call) unservedAPI(perr *provider.Error) bool {
	return c.op == provider.Chat && c.api != "" && c.api != provider.APIChat && perr.WrongPath()
}

// tripOnFault opens br, a circuit of a deployment whose call failed by a
// fault of its own (kind, deploymentFault's): no call to it can succeed
// until that changes, so the next requests go straight to the others
// (LiteLLM cools such a deployment down too).
func tripOnFault(br *breaker.Breaker, kind string, perr *provider.Error) {
	br.Trip(faultWhy[kind] + ": " + failureCause(perr, ""))
}

// backoff returns the delay before retry n (from 0): exponential with
// jitter, capped.
func backoff(base, maxWait time.Duration, n int) time.Duration {
	d := base * time.Duration(math.Pow(2, float64(n)))
	if d > maxWait || d <= 0 {
		d = maxWait
	}
	return d/2 + rand.N(d/2+1)
}

// classify maps an error of an upstream call d made to a breaker
// outcome.
func (g *Gateway) classify(d *Deployment, perr *provider.Error) breaker.Outcome {
	cond := g.cfg.Router.Breaker.Conditions
	switch {
	case perr.Canceled:
		return breaker.Ignored
	case deploymentFault(d, perr) != "":
		return breaker.Failure
	case perr.Refusal() != "":
		return breaker.Ignored // the prompt's: OpenRouter's moderation comes as a 403
	case perr.Timeout:
		if cond.Timeout {
			return breaker.Failure
		}
		return breaker.Ignored
	case perr.Status == 0:
		return breaker.Failure // connection refused, reset, broken stream
	case cond.Counts(perr.Status):
		return breaker.Failure
	}
	return breaker.Ignored
}

// attempt makes one upstream call. On success it writes the response and
// returns the request outcome; otherwise it returns the error. It also
// returns the breaker outcome and the duration the breaker judges (the
// time to first token for streams), and fills in info.
func (c *call) attempt(ctx context.Context, w http.ResponseWriter, d *Deployment, fallback bool, info *AttemptInfo) (*outcome, *provider.Error, breaker.Outcome, time.Duration) {
	g := c.g
	req := c.sendReq
	req.Defaults, req.Drop = d.Config.Defaults, c.drops(d, slices.Concat(c.dropped, c.leftOut))

	start := time.Now()
	actx, cancel, lim := c.limit(ctx, d, start)
	defer cancel()
	defer context.AfterFunc(g.cut, cancel)()
	defer lim.stop()
	c.adm.leave() // load shedding counts it as the upstream's until its answer or first chunk
	var hung func() bool
	if t := g.cfg.Alerting.SlowThreshold; t > 0 {
		hung = g.watchHang(d, info.Op, t)
	}
	resp, err := d.prov.Send(actx, req)
	var first []byte
	var events provider.Stream // the stream as the client's API frames it
	if err == nil && (resp.Stream != nil || resp.Frames != nil) && c.toContentPolicy(resp) {
		cmp.Or(resp.Stream, resp.Frames).Close() // declined before any content: as an answer, below
	} else if err == nil && (resp.Stream != nil || resp.Frames != nil) {
		events = c.frames(resp, d)
		first, err = events.Next()
		if err != nil {
			events.Close()
			if errors.Is(err, io.EOF) {
				err = &provider.Error{Err: io.ErrUnexpectedEOF, Message: "stream ended before its first chunk"}
			}
		}
	}
	c.adm.back()
	if hung != nil {
		hung()
	}
	end := time.Now()
	info.Duration = end.Sub(start)
	c.upstream += info.Duration
	if err != nil {
		perr, spared := c.attemptError(ctx, err, lim, info, start)
		if spared {
			return nil, perr, breaker.Ignored, info.Duration
		}
		if c.unservedAPI(perr) || perr.AccountCannot() {
			return nil, perr, breaker.Ignored, info.Duration
		}
		return nil, perr, g.classify(d, perr), info.Duration
	}
	c.overhead = max(end.Sub(c.start)-c.upstream-c.waited, 0)
	c.setHeaders(w, d, fallback, end)
	info.Remaining = resp.Remaining
	if resp.Slowed != "" {
		// Capacity to plan for, not a failure: the answer came at standard speed.
		g.log.Info("fast mode at its rate limit: answered at standard speed", "model_group", c.group, "deployment", d.Config.Name, "upstream", resp.Slowed)
	}
	if resp.Unthought != "" {
		g.log.Info("answered without thinking", "model_group", c.group, "deployment", d.Config.Name, "why", resp.Unthought)
	}
	if events == nil {
		if c.toContentPolicy(resp) {
			// Declined in an answer (Claude's classifiers): as a content
			// policy error, for the group's content_policy_fallbacks. The
			// upstream is well: no breaker failure.
			info.Status, info.Usage = http.StatusOK, resp.Usage
			g.obs.AttemptDone(*info)
			return nil, &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Code: "content_policy_violation",
				Message: d.Config.Model + " declined the request (stop_reason refusal): " + resp.Refusal}, breaker.Success, info.Duration
		}
		if perr := c.reply(w, d, resp, info); perr != nil {
			return nil, perr, breaker.Failure, info.Duration
		}
		c.answered = outcome{code: 200, served: d, fallback: fallback}
		return &c.answered, nil, breaker.Success, info.Duration
	}
	ttft := info.Duration
	o, errType := c.pipe(ctx, w, events, first, lim)
	if o == breaker.Success && c.streamed != nil && !c.cont.midStream { // a continued stream is two answers
		c.keep(d, c.streamed)
	}
	info.TTFT, info.Duration, info.Status, info.ErrType, info.Usage = ttft, time.Since(start), 200, errType, events.Usage()
	if errType != "" {
		// Broken, or left by its client, before its usage: the upstream
		// bills what it read and wrote all the same.
		info.Usage = info.Usage.Estimate(c.prompt)
	}
	g.obs.AttemptDone(*info)
	if c.cont.again {
		// The stream broke, and the route's next deployments may go on
		// with it: this attempt failed as any that gave no answer.
		c.cont.again = false
		c.judgeStreams(d, d.Breakers[c.op], true)
		return nil, &provider.Error{Timeout: errType == "timeout", Message: c.cont.broke}, o, ttft
	}
	c.answered = outcome{code: 200, served: d, fallback: fallback}
	return &c.answered, nil, o, ttft
}

// watchHang tells the observer of an attempt at d's op that has waited
// after for its answer, unless the returned stop is called first. It
// holds nothing of the call (pooled, and reused once the attempt ends).
func (g *Gateway) watchHang(d *Deployment, op provider.Operation, after time.Duration) (stop func() bool) {
	hanging := func() { g.obs.Hanging(d, op, after) }
	if c, ok := g.clock.(interface {
		AfterFunc(time.Duration, func()) func() bool
	}); ok {
		return c.AfterFunc(after, hanging)
	}
	return time.AfterFunc(after, hanging).Stop
}

// attemptError is the error of an attempt (begun at start) that got no
// answer (or no first chunk), reported to the observer: a timeout says
// which one ran out. spared is set when the request's deadline cut an
// attempt that had less than half of the request's time, the rest gone
// to waiting in breakerd's queues and to other deployments: that is not
// the deployment's failure, and its breaker does not count it.
func (c *call) attemptError(ctx context.Context, err error, lim *callLimit, info *AttemptInfo, start time.Time) (perr *provider.Error, spared bool) {
	perr = asProviderError(err)
	if lim.ranOut() {
		perr.Timeout, perr.Canceled = true, false
		perr.Message = fmt.Sprintf("no answer within the deployment's timeout of %s", lim.limit)
		if c.sendReq.Stream {
			perr.Message = fmt.Sprintf("no first chunk within the deployment's %s of %s", lim.firstKey, lim.first)
		}
	} else if errors.Is(c.err(ctx), context.DeadlineExceeded) {
		perr.Timeout, perr.Canceled = true, false
		perr.Message = "request deadline exceeded"
		if had, whole := c.deadline.Sub(start), c.deadline.Sub(c.start); had < whole/2 {
			spared = true
			perr.Message = fmt.Sprintf("request deadline exceeded: this attempt had %s of the request's %s, the rest gone to queues and other deployments, so its deployment is not blamed",
				had.Round(time.Millisecond), whole.Round(time.Millisecond))
		}
	}
	info.Status, info.ErrType, info.Remaining = perr.Status, cmp.Or(deploymentFault(info.Deployment, perr), errType(perr)), perr.Remaining
	c.g.obs.AttemptDone(*info)
	return perr, spared
}

// reply writes a whole (not streamed) answer, in the client's API, and
// reports the attempt to the observer. An answer that cannot be put in
// the client's API is the upstream's failure, returned unwritten.
func (c *call) reply(w http.ResponseWriter, d *Deployment, resp *provider.Response, info *AttemptInfo) *provider.Error {
	body := resp.Body
	if !c.native {
		// The chat answer, as the client's API writes it.
		var err error
		if body, err = c.answer(body, d); err != nil {
			perr := &provider.Error{Status: http.StatusBadGateway, Err: err, Message: err.Error()}
			info.Status, info.ErrType = perr.Status, errType(perr)
			c.g.obs.AttemptDone(*info)
			return perr
		}
	} else if c.chatClient() {
		body = chatAnswer(body, d, nil)
	}
	h := w.Header()
	h["Content-Type"] = c.g.headers.json
	if resp.ContentType != "" { // audio, or a transcription's text
		h["Content-Type"] = []string{resp.ContentType}
	}
	if len(body) > answerBuffered {
		// Known length: net/http would switch bodies over 2 KB to
		// chunked. It sets a shorter one's itself, without allocating.
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	if u := resp.Usage; (d.Config.Priced || u.Cost > 0) && u.InputTokens+u.OutputTokens > 0 {
		// LiteLLM's header, which applications read to track their cost.
		h["X-Litellm-Response-Cost"] = []string{strconv.FormatFloat(d.Config.Cost(u.Tokens()), 'g', 10, 64)} // as costText, in one allocation
	}
	w.WriteHeader(http.StatusOK)
	_ = c.send(w, body, false)
	if c.cacheKey != "" {
		c.keep(d, body)
	}
	info.Status, info.Usage = 200, resp.Usage
	c.g.obs.AttemptDone(*info)
	return nil
}

// callLimit bounds an attempt by the deployment's limit: the whole call
// (timeout), or a stream's wait for its first chunk (first: ttft_timeout,
// else stream_timeout) and then for each next one (limit:
// stream_idle_timeout, else stream_timeout; pipe re-arms it before each
// wait). A zero limit bounds nothing.
type callLimit struct {
	limit time.Duration
	first time.Duration
	// key and firstKey name the settings limit and first come from.
	key, firstKey string
	// t is a stream's timer, re-armed for each chunk. A whole call has
	// none: its limit is the deadline of its context (ctx), at, when
	// that comes before the request's.
	t        *time.Timer
	timedOut atomic.Bool
	ctx      context.Context
	at       time.Time
}

// limit returns the context of an attempt on d started at start: it ends
// when ctx does, at the request's deadline, and when the deployment's
// limit (lim) runs out.
func (c *call) limit(ctx context.Context, d *Deployment, start time.Time) (context.Context, context.CancelFunc, *callLimit) {
	at := c.deadline
	var l *callLimit
	if c.sendReq.Stream {
		// A stream's own: its timer may still run once the call is over.
		l = &callLimit{limit: d.Config.StreamTimeout, first: d.Config.StreamTimeout, key: "stream_timeout", firstKey: "stream_timeout"}
		if t := d.Config.FirstChunkTimeout; t > 0 {
			l.first, l.firstKey = t, "ttft_timeout"
		}
		if t := d.Config.ChunkIdleTimeout; t > 0 {
			l.limit, l.key = t, "stream_idle_timeout"
		}
	} else {
		// Nothing refers to a whole call's once it is over: the call's.
		c.lim = callLimit{limit: d.Config.Timeout}
		l = &c.lim
		if end := start.Add(l.limit); l.limit > 0 && end.Before(at) {
			at, l.at = end, end
		}
	}
	actx, cancel := context.WithDeadline(ctx, at)
	if c.sendReq.Stream && (l.first > 0 || l.limit > 0) {
		wait := l.first
		if wait <= 0 {
			wait = math.MaxInt64 // no limit on the first chunk; arm sets the next
		}
		l.t = time.AfterFunc(wait, func() { l.timedOut.Store(true); cancel() })
	}
	l.ctx = actx
	return actx, cancel, l
}

// arm gives the wait that follows the whole limit again.
func (l *callLimit) arm() {
	if l.t == nil {
		return
	}
	if l.limit <= 0 {
		l.t.Stop()
		return
	}
	l.t.Reset(l.limit)
}

// stop stops the timer; the attempt is over.
func (l *callLimit) stop() {
	if l.t != nil {
		l.t.Stop()
	}
}

// ranOut reports whether the limit ran out (and ended the attempt).
func (l *callLimit) ranOut() bool {
	return l.timedOut.Load() ||
		(!l.at.IsZero() && errors.Is(l.ctx.Err(), context.DeadlineExceeded) && !time.Now().Before(l.at))
}
