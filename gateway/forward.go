package gateway

import (
	"context"
	"net/http"
	"strings"

	"github.com/breakerd/breakerd/config"
)

// LiteLLM's forward_client_headers_to_llm_api: a request for a model
// named in Router.ForwardHeaders carries its client's x- headers and
// anthropic-beta to each upstream it is sent to, as LiteLLM's allowlist
// has it: not x-stainless-* (the OpenAI SDKs' own, which upstreams
// misread), not x-amz-* (AWS signs those), and never a key, breakerd's
// or a provider's. The deployment's own headers (its key, its
// extra_headers) win over a client's of the same name.

// forwardedKey is the context key of a request's forwarded headers.
type forwardedKey struct{}

// secretHeaders are the headers that carry keys: breakerd's master key as
// clients send it, or a provider's (LiteLLM strips these too).
var secretHeaders = map[string]bool{"authorization": true, "api-key": true, "x-api-key": true, "x-goog-api-key": true,
	"ocp-apim-subscription-key": true, "x-litellm-api-key": true, "proxy-authorization": true}

// forwards reports whether cfg forwards any client header.
func forwards(cfg *config.Config) bool {
	return len(cfg.Router.ForwardHeaders) > 0 || cfg.Router.ForwardOpenAIOrg
}

// clientHeadersKey is the context key of a stored call's client headers,
// to forward once its deployment is known (forwardingTo).
type clientHeadersKey struct{}

// forwarding returns r with the client headers its upstream calls carry
// in its context (upstream calls take them: propagating), or r as it is
// when its model (model, or the group it names) forwards none.
func (g *Gateway) forwarding(r *http.Request, model, group string) *http.Request {
	h := g.forwarded(r.Header, model, group)
	if h == nil {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), forwardedKey{}, h))
}

// forwardingTo returns ctx, a stored call's (whose client's headers it
// holds: clientHeaders), with the headers forwarded to d's upstream:
// those its group forwards. A stored call names no model; its
// deployment's group is its model.
func (g *Gateway) forwardingTo(ctx context.Context, d *Deployment) context.Context {
	client, _ := ctx.Value(clientHeadersKey{}).(http.Header)
	if h := g.forwarded(client, "", d.Config.Group); h != nil {
		return context.WithValue(ctx, forwardedKey{}, h)
	}
	return ctx
}

// clientHeaders returns ctx holding r's headers for forwardingTo, when
// the config forwards any.
func (g *Gateway) clientHeaders(ctx context.Context, r *http.Request) context.Context {
	if !forwards(g.cfg) {
		return ctx
	}
	return context.WithValue(ctx, clientHeadersKey{}, r.Header)
}

// forwarded returns the headers of client that go upstream for a request
// for model (or group); nil when none do.
func (g *Gateway) forwarded(client http.Header, model, group string) http.Header {
	names := g.cfg.Router.ForwardHeaders
	all := forwardsFor(names, model) || forwardsFor(names, group)
	var h http.Header
	for k, vs := range client {
		lk := strings.ToLower(k)
		forward := all && (strings.HasPrefix(lk, "x-") && !strings.HasPrefix(lk, "x-stainless") && !strings.HasPrefix(lk, "x-amz-") ||
			lk == "anthropic-beta") || g.cfg.Router.ForwardOpenAIOrg && lk == "openai-organization"
		if !forward || secretHeaders[lk] {
			continue
		}
		if h == nil {
			h = http.Header{}
		}
		h[k] = vs
	}
	return h
}

// forwardsFor reports whether names (Router.ForwardHeaders) forward the
// headers of requests for model: named, or matched by a name with a
// trailing *.
func forwardsFor(names []string, model string) bool {
	for _, n := range names {
		if n == model || strings.HasSuffix(n, "*") && strings.HasPrefix(model, strings.TrimSuffix(n, "*")) {
			return true
		}
	}
	return false
}

// withForwarded returns r with the headers forwarded to it from its
// client's request (forwarding) that it does not set itself; r itself
// when there are none.
func withForwarded(r *http.Request) *http.Request {
	h, _ := r.Context().Value(forwardedKey{}).(http.Header)
	if h == nil {
		return r
	}
	r = r.Clone(r.Context())
	for k, vs := range h {
		if _, set := r.Header[k]; !set {
			r.Header[k] = vs
		}
	}
	return r
}
