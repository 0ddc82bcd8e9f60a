package gateway

import (
	"cmp"
	"net/http"
	"strings"
)

// LiteLLM's route controls: allowed_routes, the only API routes served
// (any other gets LiteLLM's 403, after the key is checked), and
// public_routes, served without the master key.

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
