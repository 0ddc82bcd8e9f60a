package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/breakerd/breakerd/provider"
)

// realtimeReadLimit bounds one message from a Realtime client: audio is
// appended in small chunks, but a session.update can carry long
// instructions and tools.
const realtimeReadLimit = 16 << 20

// realtime serves GET /v1/realtime: OpenAI's Realtime API, a WebSocket
// session with one model (the query's model). The session's upstream is
// chosen as a request's deployment is: the model group's route in
// routing order, each deployment through its realtime breaker and its
// bulkhead; one whose handshake fails counts a failure and the next takes
// the session. Once an upstream has accepted, the client's socket is
// accepted and every message goes across as it is, both ways, until
// either side closes, and the other is closed the same way. The session
// holds its bulkhead slot until then. At a shutdown both sides are
// closed with 1001 (going away): the SDKs reconnect, to another replica.
//
// A session that broke cannot move to another deployment: its state
// (the conversation, the audio buffer) is at the upstream.
func (g *Gateway) realtime(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		w.Header().Set("Upgrade", "websocket")
		writeError(w, http.StatusUpgradeRequired, "invalid_request_error", "",
			"the Realtime API is a WebSocket: open one on /v1/realtime?model=...")
		return
	}
	start := time.Now()
	ctx, span := g.startRequestSpan(r, provider.Realtime, provider.APIRealtime)
	d, status := g.openRealtime(ctx, w, r)
	g.soleDone(span, provider.Realtime, provider.APIRealtime, d, status, start)
}

// openRealtime is realtime's work: the deployment that served the session
// or failed last (nil when none was called), and the status answered
// (101 for a session).
func (g *Gateway) openRealtime(ctx context.Context, w http.ResponseWriter, r *http.Request) (*Deployment, int) {
	group, route, status := g.realtimeRoute(w, r, r.URL.Query().Get("model"), "(/v1/realtime?model=...)")
	if route == nil {
		return nil, status
	}
	header := http.Header{}
	if v := r.Header.Values("Openai-Beta"); len(v) > 0 {
		header["Openai-Beta"] = v // the beta interface, which some clients still ask for
	}
	var up *websocket.Conn
	d, release, status := g.tryRealtime(ctx, w, group, route, "open a Realtime session", func(ctx context.Context, d *Deployment) (err error) {
		up, err = d.prov.(provider.RealtimeDialer).DialRealtime(ctx, r.URL.Query(), header)
		return err
	})
	if release == nil {
		return d, status
	}
	return d, g.relayRealtime(w, r, up, release)
}

// realtimeRoute is the deployments of model (an alias resolved, the
// request's tags applied) that serve the Realtime API, in routing order,
// and the group; with none, it answers the error and returns a nil route
// and the status. ask says how to give a model.
func (g *Gateway) realtimeRoute(w http.ResponseWriter, r *http.Request, group, ask string) (string, []*Deployment, int) {
	if a, ok := g.cfg.Router.Aliases[group]; ok {
		group = a.Group
	}
	switch {
	case group == "":
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "you must provide a model parameter "+ask)
		return group, nil, http.StatusBadRequest
	case !g.knows(group):
		g.modelNotFound(w, provider.APIChat, group)
		return group, nil, http.StatusNotFound
	}
	all := g.Route(group)
	if g.cfg.Router.TagFiltering {
		tags := headerTags(r.Header)
		if all = tagged(all, tags, g.cfg.Router.TagsMatchAll); len(all) == 0 {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "", noneTagged(group, tags))
			return group, nil, http.StatusBadRequest
		}
	}
	var route []*Deployment
	for _, d := range all {
		if _, ok := d.prov.(provider.RealtimeDialer); ok && d.Breakers[provider.Realtime] != nil {
			route = append(route, d)
		}
	}
	if len(route) == 0 {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "model_not_supported", fmt.Sprintf(
			"The model `%s` does not serve the Realtime API: none of its deployments, or its fallbacks', is a model for it (model_info.mode realtime, or a model known by its name)", group))
		return group, nil, http.StatusBadRequest
	}
	return group, route, 0
}

// tryRealtime makes call at route's deployments in order, each through its
// realtime breaker and bulkhead, bounded as a stream's first chunk is,
// until one succeeds: it returns that deployment and its bulkhead slot's
// release. Otherwise it answers the error (the upstream's own for a 4xx
// of the request, else a 503 that says what each deployment did, to what
// failed) and returns the deployment that failed last and the status.
func (g *Gateway) tryRealtime(ctx context.Context, w http.ResponseWriter, group string, route []*Deployment, what string,
	call func(context.Context, *Deployment) error) (*Deployment, func(), int) {
	var failures []string
	var retryAt time.Time
	var last *Deployment
	for _, d := range route {
		release, err := g.through(ctx, d, provider.Realtime, "", func(ctx context.Context) error {
			if limit := cmp.Or(d.Config.StreamTimeout, d.Config.Timeout, g.cfg.Router.Timeout); limit > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, limit)
				defer cancel()
			}
			return call(ctx, d)
		})
		var u *unavailable
		var perr *provider.Error
		switch {
		case err == nil:
			return d, release, 0
		case errors.As(err, &u):
			if !u.retryAt.IsZero() && (retryAt.IsZero() || u.retryAt.Before(retryAt)) {
				retryAt = u.retryAt
			}
			failures = append(failures, d.Config.Name+": "+u.why)
			continue
		case errors.As(err, &perr) && perr.Canceled:
			return d, nil, 499 // the client left
		case perr.Status > 0 && !fallbackWorthy(perr.Status) && deploymentFault(d, perr) == "":
			// The request's own fault (a bad parameter): the upstream's
			// answer, as another deployment would give it too.
			writeError(w, perr.Status, errorTypeOf(perr.Status), perr.Code, perr.Message)
			return d, nil, perr.Status
		}
		last = d
		failures = append(failures, d.Config.Name+": "+perr.Error())
	}
	if !retryAt.IsZero() {
		w.Header().Set("Retry-After", strconv.Itoa(max(int(retryAt.Sub(g.clock.Now()).Seconds()+0.999), 1)))
	}
	w.Header().Set("X-Should-Retry", "false")
	writeError(w, http.StatusServiceUnavailable, "service_unavailable", "all_deployments_unavailable",
		fmt.Sprintf("No deployment of model `%s` could %s (%s)", group, what, strings.Join(failures, "; ")))
	return last, nil, http.StatusServiceUnavailable
}

// relayRealtime accepts the client's socket and relays the session
// between it and up until either side closes, then releases the
// session's bulkhead slot. It returns the status of the handshake.
func (g *Gateway) relayRealtime(w http.ResponseWriter, r *http.Request, up *websocket.Conn, release func()) int {
	defer release()
	// Counted before the connection leaves net/http's (Accept takes it
	// over), so that a shutdown that finds none there finds this one.
	g.detached.Add(1)
	defer g.detached.Done()
	// A browser's client offers the subprotocol realtime (with its key,
	// browserSocketKey), and expects it chosen, as OpenAI's server does.
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: g.socketOrigins(), Subprotocols: []string{"realtime"}})
	if err != nil {
		_ = up.Close(websocket.StatusGoingAway, "the client's handshake failed")
		return http.StatusBadRequest // Accept has answered
	}
	conn.SetReadLimit(realtimeReadLimit)
	// Not the request's context: a canceled context closes a socket at
	// once, and the sides are closed below, each with its close code.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ended := make(chan error, 2)
	go func() { ended <- relayMessages(ctx, conn, up) }()
	go func() { ended <- relayMessages(ctx, up, conn) }()
	var first error
	running := 2
	select {
	case first = <-ended:
		running--
	case <-g.draining:
		first = websocket.CloseError{Code: websocket.StatusGoingAway, Reason: "breakerd is shutting down: reconnect"}
	}
	// Each side is told how the session ended: the code and reason the
	// other closed with, or 1011 when it broke.
	code, reason := websocket.StatusInternalError, "the other side of the session broke"
	var ce websocket.CloseError
	if errors.As(first, &ce) {
		code, reason = ce.Code, ce.Reason
	}
	_ = conn.Close(code, reason)
	_ = up.Close(code, reason)
	cancel()
	for range running {
		<-ended
	}
	return http.StatusSwitchingProtocols
}

// relayMessages sends each message from to to, as it came, until either
// fails: the error is how from ended (a CloseError when it closed).
func relayMessages(ctx context.Context, from, to *websocket.Conn) error {
	for {
		typ, msg, err := from.Read(ctx)
		if err != nil {
			return err
		}
		if err := to.Write(ctx, typ, msg); err != nil {
			return err
		}
	}
}

// realtimeCall serves the Realtime API's HTTP calls, POST
// /v1/realtime/{path}: client_secrets (a browser's short-lived key, with
// its session) and calls (a WebRTC call: the SDP offer and the session as
// a form, which an app's server sends with its key; the media then flow
// between the browser and the provider). The session's model picks the
// route, as a session's query does (the one model serving Realtime when
// it names none), and each deployment is tried through its realtime
// breaker until one answers; the answer (the secret, the SDP answer and
// where the call is) is the upstream's. A call on a secret or a call
// already made (its SDP with an ephemeral key; accept, hangup) belongs to
// the provider that made it, and is not served here.
func (g *Gateway) realtimeCall(path string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, span := g.startRequestSpan(r, provider.Realtime, provider.APIRealtime)
		d, status := g.postRealtime(ctx, w, r, path)
		g.soleDone(span, provider.Realtime, provider.APIRealtime, d, status, start)
	}
}

// postRealtime is realtimeCall's work: the deployment that answered or
// failed last, and the status answered.
func (g *Gateway) postRealtime(ctx context.Context, w http.ResponseWriter, r *http.Request, path string) (*Deployment, int) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.cfg.Server.MaxBodyBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "", "could not read the request body: "+err.Error())
		return nil, http.StatusRequestEntityTooLarge
	}
	ctype := r.Header.Get("Content-Type")
	if media, _, _ := strings.Cut(ctype, ";"); strings.TrimSpace(media) == "application/sdp" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "",
			"breakerd takes a WebRTC call as a form (sdp and session), sent with breakerd's key; a browser with a client secret calls the provider that made the secret")
		return nil, http.StatusBadRequest
	}
	model, err := provider.RealtimeModel(body, ctype)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", err.Error())
		return nil, http.StatusBadRequest
	}
	if model == "" {
		var msg string
		if model, msg = g.defaultGroup(provider.Realtime, provider.APIRealtime); model == "" {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "", msg+" (its session's model)")
			return nil, http.StatusBadRequest
		}
	}
	group, route, status := g.realtimeRoute(w, r, model, "(its session's model)")
	if route == nil {
		return nil, status
	}
	var resp *provider.Response
	d, release, status := g.tryRealtime(ctx, w, group, route, "answer a Realtime "+strings.TrimSuffix(path, "s"), func(ctx context.Context, d *Deployment) (err error) {
		poster, ok := d.prov.(provider.RealtimePoster)
		if !ok {
			return &provider.Error{Status: http.StatusNotImplemented, Message: "the provider serves no Realtime calls"}
		}
		resp, err = poster.PostRealtime(ctx, path, body, ctype)
		return err
	})
	if release == nil {
		return d, status
	}
	release()
	status = cmp.Or(resp.Status, http.StatusOK)
	w.Header().Set("Content-Type", cmp.Or(resp.ContentType, "application/json"))
	if resp.Location != "" {
		w.Header().Set("Location", resp.Location)
	}
	w.WriteHeader(status)
	_, _ = w.Write(resp.Body)
	return d, status
}
