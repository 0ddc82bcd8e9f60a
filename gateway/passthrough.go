package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
)

// LiteLLM's pass_through_endpoints (config.PassThrough): a provider's
// own API (Cohere's rerank, a vendor's search) served at a path of
// breakerd's, relayed as it comes, with the configured headers (its
// key), through a breaker of its own, so that an outage there is known,
// alerted on and refused fast like any deployment's.

// passEndpoint is a pass-through endpoint, ready.
type passEndpoint struct {
	config.PassThrough
	target *url.URL
	br     *breaker.Breaker
}

// passThroughs makes the pass-through endpoints of the config.
func (g *Gateway) passThroughs() []*passEndpoint {
	var out []*passEndpoint
	bc := g.cfg.Router.Breaker
	for _, pt := range g.cfg.PassThrough {
		target, err := url.Parse(pt.Target)
		if err != nil {
			continue // config checked it
		}
		br := g.breaker("passthrough:"+pt.Path, bc.SettingsFor("chat"), map[string]string{"provider": target.Host, "model": "",
			"operation": "passthrough", "model_group": pt.Path, "deployment": "passthrough:" + pt.Path})
		out = append(out, &passEndpoint{PassThrough: pt, target: target, br: br})
	}
	return out
}

// servePassThrough wraps next: a request to a pass-through endpoint's path
// is relayed there (asking for the master key, key, only where the
// endpoint says auth); any other goes to next.
func (g *Gateway) servePassThrough(key string, next http.Handler) http.Handler {
	eps := g.passEndpoints
	if len(eps) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, ep := range eps {
			if r.URL.Path == ep.Path || ep.IncludeSubpath && strings.HasPrefix(r.URL.Path, strings.TrimSuffix(ep.Path, "/")+"/") {
				relay := http.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { g.relayPassThrough(w, r, ep) }))
				if ep.Auth && key != "" {
					relay = requireKey(key, nil, relay)
				}
				relay.ServeHTTP(w, r)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// hopHeaders are the headers of one connection, never relayed.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer",
	"Transfer-Encoding", "Upgrade", "Host", "Content-Length"}

// relayPassThrough relays r to ep's target through ep's breaker: a 5xx
// or no answer is a failure; an open circuit is a 503 at once.
func (g *Gateway) relayPassThrough(w http.ResponseWriter, r *http.Request, ep *passEndpoint) {
	done, err := ep.br.Allow()
	if err != nil {
		if at, ok := ep.br.RetryAt(); ok {
			w.Header().Set("Retry-After", strconv.Itoa(max(int(time.Until(at).Seconds()+0.999), 1)))
		}
		writeError(w, http.StatusServiceUnavailable, "service_unavailable", "",
			fmt.Sprintf("The pass-through endpoint %s is unavailable: the circuit to %s is open after failures; retry later", ep.Path, ep.target.Host))
		return
	}
	u := *ep.target
	if sub := strings.TrimPrefix(r.URL.Path, strings.TrimSuffix(ep.Path, "/")); ep.IncludeSubpath && sub != "" && sub != "/" {
		u.Path = strings.TrimSuffix(u.Path, "/") + sub
		u.RawPath = ""
	}
	switch {
	case u.RawQuery == "":
		u.RawQuery = r.URL.RawQuery
	case r.URL.RawQuery != "":
		u.RawQuery += "&" + r.URL.RawQuery
	}
	ctx := r.Context()
	if t := g.cfg.Router.Timeout; t > 0 {
		var cancel func()
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	out, err := http.NewRequestWithContext(ctx, r.Method, u.String(), r.Body)
	if err != nil {
		done(breaker.Ignored, 0)
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "the request cannot be relayed: "+err.Error())
		return
	}
	out.ContentLength = r.ContentLength
	if ep.ForwardHeaders {
		for k, v := range r.Header {
			out.Header[k] = v
		}
		if ep.Auth {
			out.Header.Del("Authorization") // breakerd's master key, not the target's
		}
	} else {
		for _, k := range []string{"Content-Type", "Accept"} {
			if v := r.Header.Get(k); v != "" {
				out.Header.Set(k, v)
			}
		}
	}
	for _, k := range hopHeaders {
		out.Header.Del(k)
	}
	for k, v := range ep.Headers {
		out.Header.Set(k, v.Value())
	}
	start := time.Now()
	resp, err := g.upstream.RoundTrip(out)
	if err != nil {
		if r.Context().Err() != nil {
			done(breaker.Ignored, time.Since(start)) // the client left
			return
		}
		done(breaker.Failure, time.Since(start))
		msg := g.redactor.Redact(err.Error())
		ep.br.NoteFailure("error", msg)
		writeError(w, http.StatusBadGateway, "api_error", "", fmt.Sprintf("The pass-through endpoint %s got no answer from %s: %s", ep.Path, ep.target.Host, msg))
		return
	}
	defer resp.Body.Close()
	outcome := breaker.Success
	if resp.StatusCode >= 500 {
		outcome = breaker.Failure
		ep.br.NoteFailure("status", resp.Status)
	}
	done(outcome, time.Since(start))
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	for _, k := range hopHeaders {
		w.Header().Del(k)
	}
	w.WriteHeader(resp.StatusCode)
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			_ = rc.Flush() // streams (SSE) reach the client as they come
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				g.log.Warn("pass-through relay broke", "path", ep.Path, "error", g.redactor.Redact(err.Error()))
			}
			return
		}
	}
}
