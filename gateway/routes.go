package gateway

import (
	"cmp"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// LiteLLM's route controls: allowed_routes, the only API routes served
// (any other gets LiteLLM's 403, after the key is checked),
// public_routes, served without the master key, and allowed_ips, the
// only clients served (any other gets LiteLLM's 403, before the key is
// checked).

// onlyFrom serves the requests of clients whose address (clientAddr) is
// in one of the ranges allowed, and answers the rest with a 403 in the
// client API's shape, as LiteLLM does.
func onlyFrom(allowed []netip.Prefix, forwardedFor bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr, ok := clientAddr(r, forwardedFor)
		if ok && slices.ContainsFunc(allowed, func(p netip.Prefix) bool { return p.Contains(addr) }) {
			next.ServeHTTP(w, r)
			return
		}
		who := "IP address " + addr.String()
		if !ok {
			who = "a client whose IP address is not known"
			if forwardedFor {
				who += " (no X-Forwarded-For header; general_settings.use_x_forwarded_for is set)"
			}
		}
		writeAPIError(w, apiOf(r), http.StatusForbidden, "auth_error", "403", "Access forbidden: "+who+" not allowed.")
	})
}

// clientAddr is the address of r's client: its connection's, or with
// forwardedFor the last address in X-Forwarded-For, the one the proxy in
// front of breakerd added (a client may send the header itself, so those
// before it can be forged).
func clientAddr(r *http.Request, forwardedFor bool) (netip.Addr, bool) {
	if forwardedFor {
		vs := r.Header.Values("X-Forwarded-For")
		if len(vs) == 0 {
			return netip.Addr{}, false
		}
		last := vs[len(vs)-1]
		if i := strings.LastIndexByte(last, ','); i >= 0 {
			last = last[i+1:]
		}
		a, err := netip.ParseAddr(strings.TrimSpace(last))
		return a.Unmap(), err == nil
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return ap.Addr().Unmap(), err == nil
}

// onlyRoutes serves the requests for the routes allowed (matchRoute) and
// answers the rest with a 403 in the client API's shape, as LiteLLM does.
func onlyRoutes(allowed []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !matchRoute(allowed, r.URL.Path) {
			writeAPIError(w, apiOf(r), http.StatusForbidden, "auth_error", "403", "Route "+r.URL.Path+" not allowed")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// matchRoute reports whether path is one of routes: the same path, with
// or without the /v1 that OpenAI's SDKs add (a config lists
// /chat/completions, clients call /v1/chat/completions), or under a
// prefix written /path/*.
func matchRoute(routes []string, path string) bool {
	path = withoutV1(path)
	for _, r := range routes {
		if prefix, ok := strings.CutSuffix(r, "*"); ok {
			if strings.HasPrefix(path, withoutV1(prefix)) || strings.HasPrefix(path+"/", withoutV1(prefix)) {
				return true
			}
			continue
		}
		if withoutV1(r) == path {
			return true
		}
	}
	return false
}

// withoutV1 is path without a leading /v1 segment ("/v1" itself is "/").
func withoutV1(path string) string {
	if rest, ok := strings.CutPrefix(path, "/v1"); ok && (rest == "" || rest[0] == '/') {
		return cmp.Or(rest, "/")
	}
	return path
}
