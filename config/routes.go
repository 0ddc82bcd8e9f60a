package config

import (
	"fmt"
	"math"
	"strings"
)

// liteLLMAPIRoutes are LiteLLM's groups of model API routes, which
// stand for breakerd's every route.
var liteLLMAPIRoutes = map[string]bool{"LiteLLMRoutes.openai_routes": true, "LiteLLMRoutes.llm_api_routes": true,
	"LiteLLMRoutes.anthropic_routes": true}

// routes reads LiteLLM's route controls into s: allowed_routes and
// public_routes (LiteLLM's own group of public routes,
// LiteLLMRoutes.public_routes, is breakerd's /health and /metrics, public
// anyway), and max_request_size_mb as server.max_body_bytes unless
// bodySet. admin_only_routes name LiteLLM's key management routes, which
// breakerd does not have.
func (c *converter) routes(g rawGeneral, s *Server, bodySet bool) {
	read := func(key string, routes []string) []string {
		var out []string
		for i, r := range routes {
			p := fmt.Sprintf("general_settings.%s[%d]", key, i)
			r = c.resolve(p, r)
			switch {
			case liteLLMAPIRoutes[r]:
				r = "/*" // every model API route, breakerd's all
			case strings.HasPrefix(r, "LiteLLMRoutes."):
				continue // LiteLLM's own (public, management, spend): breakerd has none to add
			case !strings.HasPrefix(r, "/"):
				c.errf(p, "%q is not a route: write a path (/chat/completions), or a prefix (/v1/files/*)", r)
				continue
			}
			out = append(out, r)
		}
		return out
	}
	s.AllowedRoutes = read("allowed_routes", g.AllowedRoutes)
	if len(g.AllowedRoutes) > 0 && s.AllowedRoutes == nil {
		s.AllowedRoutes = []string{} // naming none of breakerd's: no API route is served
		c.warnf("general_settings.allowed_routes", "names none of breakerd's routes: every API route gets a 403 (/health and /metrics are served)")
	}
	s.PublicRoutes = read("public_routes", g.PublicRoutes)
	if len(g.AdminOnlyRoutes) > 0 {
		c.warnf("general_settings.admin_only_routes", "breakerd has none of LiteLLM's admin routes (key management); "+
			"its own admin API asks for admin.token; ignored")
	}
	if mb := g.MaxRequestSizeMB; mb != nil && !bodySet {
		if *mb <= 0 || *mb > math.MaxInt64>>20 {
			c.errf("general_settings.max_request_size_mb", "must be a size in MB above 0, got %v", *mb)
			return
		}
		s.MaxBodyBytes = int64(*mb * (1 << 20))
	}
}
