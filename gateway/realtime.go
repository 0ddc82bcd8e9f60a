package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
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
	group := r.URL.Query().Get("model")
	if a, ok := g.cfg.Router.Aliases[group]; ok {
		group = a.Group
	}
	switch {
	case group == "":
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "you must provide a model parameter (/v1/realtime?model=...)")
		return nil, http.StatusBadRequest
	case !g.knows(group):
		g.modelNotFound(w, provider.APIChat, group)
		return nil, http.StatusNotFound
	}
	all := g.Route(group)
	if g.cfg.Router.TagFiltering {
		tags := headerTags(r.Header)
		if all = tagged(all, tags, g.cfg.Router.TagsMatchAll); len(all) == 0 {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "", noneTagged(group, tags))
			return nil, http.StatusBadRequest
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
		return nil, http.StatusBadRequest
	}
	header := http.Header{}
	if v := r.Header.Values("Openai-Beta"); len(v) > 0 {
		header["Openai-Beta"] = v // the beta interface, which some clients still ask for
	}
	var failures []string
	var retryAt time.Time
	var last *Deployment
	for _, d := range route {
		var up *websocket.Conn
		release, err := g.through(ctx, d, provider.Realtime, func(ctx context.Context) (err error) {
			// The handshake is bounded as a stream's first chunk is; the
			// session, by nothing but its sides.
			if limit := cmp.Or(d.Config.StreamTimeout, d.Config.Timeout, g.cfg.Router.Timeout); limit > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, limit)
				defer cancel()
			}
			up, err = d.prov.(provider.RealtimeDialer).DialRealtime(ctx, r.URL.Query(), header)
			return err
		})
		var u *unavailable
		var perr *provider.Error
		switch {
		case err == nil:
			return d, g.relayRealtime(w, r, up, release)
		case errors.As(err, &u):
			if !u.retryAt.IsZero() && (retryAt.IsZero() || u.retryAt.Before(retryAt)) {
				retryAt = u.retryAt
			}
			failures = append(failures, d.Config.Name+": "+u.why)
			continue
		case errors.As(err, &perr) && perr.Canceled:
			return d, 499 // the client left
		case perr.Status > 0 && !fallbackWorthy(perr.Status):
			// The session's own fault (a bad parameter): the upstream's
			// answer, as another deployment would give it too.
			writeError(w, perr.Status, errorTypeOf(perr.Status), perr.Code, perr.Message)
			return d, perr.Status
		}
		last = d
		failures = append(failures, d.Config.Name+": "+perr.Error())
	}
	if !retryAt.IsZero() {
		w.Header().Set("Retry-After", strconv.Itoa(max(int(retryAt.Sub(g.clock.Now()).Seconds()+0.999), 1)))
	}
	w.Header().Set("X-Should-Retry", "false")
	writeError(w, http.StatusServiceUnavailable, "service_unavailable", "all_deployments_unavailable",
		fmt.Sprintf("No deployment of model `%s` could open a Realtime session (%s)", group, strings.Join(failures, "; ")))
	return last, http.StatusServiceUnavailable
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
