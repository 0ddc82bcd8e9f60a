package config

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
)

// liteLLMAPIRoutes are LiteLLM's groups of model API routes, which
// stand for breakerd's every route.
var liteLLMAPIRoutes = map[string]bool{"LiteLLMRoutes.openai_routes": true, "LiteLLMRoutes.llm_api_routes": true,
	"LiteLLMRoutes.anthropic_routes": true}

// ipRange reads an allowed_ips entry: an address (a range of one) or a
// CIDR range, IPv4 or IPv6.
func ipRange(v string) (netip.Prefix, bool) {
	v = strings.TrimSpace(v)
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		return p.Masked(), err == nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// routes reads LiteLLM's route controls into s: allowed_routes and
// public_routes (LiteLLM's own group of public routes,
// LiteLLMRoutes.public_routes, is breakerd's /health and /metrics, public
// anyway), and max_request_size_mb as server.max_body_bytes unless
// bodySet. admin_only_routes name LiteLLM's key management routes, which
// breakerd does not have. allowed_ips and use_x_forwarded_for say which
// clients may call.
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
	for i, ip := range g.AllowedIPs {
		p := fmt.Sprintf("general_settings.allowed_ips[%d]", i)
		if pr, ok := ipRange(c.resolve(p, ip)); ok {
			s.AllowedIPs = append(s.AllowedIPs, pr)
		} else {
			c.errf(p, "%q is not an IP address (10.0.0.7) or a CIDR range (10.0.0.0/8)", ip)
		}
	}
	s.ForwardedFor = g.UseXForwardedFor != nil && *g.UseXForwardedFor
	if s.ForwardedFor && s.AllowedIPs == nil {
		c.warnf("general_settings.use_x_forwarded_for", "only says where allowed_ips finds the client's address, and allowed_ips is not set; ignored")
	}
	if mb := g.MaxRequestSizeMB; mb != nil && !bodySet {
		if *mb <= 0 || *mb > math.MaxInt64>>20 {
			c.errf("general_settings.max_request_size_mb", "must be a size in MB above 0, got %v", *mb)
			return
		}
		s.MaxBodyBytes = int64(*mb * (1 << 20))
	}
}
