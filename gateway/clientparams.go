package gateway

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/breakerd/breakerd/provider"
)

// liteLLMRequestParams are LiteLLM's own request parameters: LiteLLM's
// SDK and proxy take them from the body and never send them to a
// provider, which would refuse the request for them ("Unrecognized
// request argument"). breakerd honours the routing ones (clientRouting's
// read says which) and leaves the others out, naming them in
// X-Breakerd-Ignored-Params.
var liteLLMRequestParams = map[string]struct{}{
	"fallbacks": {}, "num_retries": {}, "timeout": {},
	"context_window_fallback_dict": {}, "tags": {}, "caching": {}, "cache": {}, "guardrails": {},
	"litellm_session_id": {}, "litellm_trace_id": {}, "no-log": {}, "litellm_metadata": {}, "mock_timeout": {},
	"disable_fallbacks": {}, "allowed_model_region": {}, "mock_testing_fallbacks": {}, "mock_testing_context_fallbacks": {}, "mock_testing_content_policy_fallbacks": {},
}

// clientRouting is what a request's body asks of breakerd's routing in
// LiteLLM's request parameters. Its zero value asks nothing.
type clientRouting struct {
	// strip are LiteLLM's parameters found in the body: left out of
	// every upstream request. ignored are those breakerd does not honour.
	strip, ignored []string
	// fallbacks are model groups to try after the request's own route;
	// overrides, by group, the fields a fallback given as an object
	// ({model, messages, temperature, ...}) replaces for its attempts.
	fallbacks []string
	overrides map[string]map[string]json.RawMessage
	// noFallbacks is LiteLLM's disable_fallbacks: the request's model
	// group alone, no fallback of any kind.
	noFallbacks bool
	// region, when set, is LiteLLM's allowed_model_region: only the
	// deployments in that region (config.Deployment.Region) may serve.
	region string
	// retries, when set, replaces router_settings.num_retries.
	retries    int
	setRetries bool
	// timeout, when > 0, shortens the request's deadline.
	timeout time.Duration
	// tags are the request's tags, for tag routing (tagged).
	tags []string
	// storedAt names the deployment that alone can take a Responses
	// request: it stores the response or conversation the request
	// continues (previous_response_id, conversation), or the files it
	// names; why says which. previous is that id as the client sent
	// it, upstream its upstream's own, which the upstream's errors name.
	storedAt, why, previous, upstream string
	// reasoningAt names the deployment that made the latest encrypted
	// content a Responses request carries, marked (Codex's reasoning):
	// it goes first; another gets the request without what it cannot
	// read (call.readable).
	reasoningAt string
	// customTools, allowedTools and thoughtIDs say what a chat request
	// holds that a deployment may take only fitted (chatFor): custom
	// tools, an allowed_tools tool_choice, a thought signature in a tool
	// call's id. Read once, as the body is parsed, not at each attempt.
	customTools, allowedTools, thoughtIDs bool
	// session is the body's session id (litellm_session_id,
	// metadata.session_id), for deployment affinity.
	session string
	// cache is LiteLLM's cache parameter, for the response cache.
	cache cacheControl
	// messages is set for a request in Anthropic's Messages API, whose
	// fallbacks may be Anthropic's own (its server-side fallback, when
	// the request's anthropic-beta names it: serverFallback).
	messages, serverFallback bool
}

// read reads LiteLLM's parameter k, of value v, into r: an error message
// for the client when its value is not one breakerd can use.
func (r *clientRouting) read(k string, v []byte) string {
	if k == "fallbacks" && r.messages && (r.serverFallback || len(v) > 0 && v[0] == '"') {
		// Anthropic's server-side fallback ([{model}] under its beta, or
		// "default"): its models retry a request Claude's classifiers
		// decline, at Anthropic. Sent on, not routed by.
		return ""
	}
	r.strip = append(r.strip, k)
	switch k {
	case "fallbacks":
		// LiteLLM takes model names, or {model: ...} objects.
		var items []json.RawMessage
		if err := json.Unmarshal(v, &items); err != nil {
			return "fallbacks must be a list of model names"
		}
		for _, it := range items {
			var name string
			if json.Unmarshal(it, &name) != nil {
				var obj map[string]json.RawMessage
				if json.Unmarshal(it, &obj) != nil || json.Unmarshal(obj["model"], &name) != nil || name == "" {
					return "fallbacks must be a list of model names, or of {model, ...} objects"
				}
				// LiteLLM's: the object's other fields replace the
				// request's for that model's attempts (not its stream).
				delete(obj, "model")
				delete(obj, "stream")
				if len(obj) > 0 {
					if r.overrides == nil {
						r.overrides = map[string]map[string]json.RawMessage{}
					}
					r.overrides[name] = obj
				}
			}
			r.fallbacks = append(r.fallbacks, name)
		}
	case "disable_fallbacks":
		var off bool // not &r.noFallbacks: r would escape, an allocation per request
		if json.Unmarshal(v, &off) != nil {
			return "disable_fallbacks must be true or false"
		}
		r.noFallbacks = off
	case "allowed_model_region":
		var region string // not &r.region: r would escape, an allocation per request
		if json.Unmarshal(v, &region) != nil || region == "" {
			return `allowed_model_region must be a region, such as "eu"`
		}
		r.region = strings.ToLower(region)
	case "num_retries":
		var n float64
		if json.Unmarshal(v, &n) != nil || n < 0 || n != math.Trunc(n) || n > 100 {
			return "num_retries must be a whole number from 0 to 100"
		}
		r.retries, r.setRetries = int(n), true
	case "timeout":
		var s float64
		if json.Unmarshal(v, &s) != nil || s <= 0 || s > 24*3600 {
			return "timeout must be a number of seconds above 0"
		}
		r.timeout = time.Duration(s * float64(time.Second))
	case "cache":
		r.readCacheControl(v)
		r.ignored = append(r.ignored, k) // unless the response cache is on (read)
	case "litellm_session_id":
		var session string // not &r.session: r would escape, an allocation per request
		if json.Unmarshal(v, &session) == nil {
			r.session = session
		}
		r.ignored = append(r.ignored, k) // unless affinity is on (read)
	case "tags":
		var tags []string // not &r.tags: r would escape, an allocation per request
		if json.Unmarshal(v, &tags) != nil {
			return "tags must be a list of strings"
		}
		r.tags = tags
		r.ignored = append(r.ignored, k) // unless tag routing is on (read)
	default:
		r.ignored = append(r.ignored, k)
	}
	return ""
}

// readAll reads LiteLLM's parameters among body's top-level fields
// (read): a Responses or Messages request's, whose other fields the
// dialect parsers read. It returns the first value's message.
func (r *clientRouting) readAll(body []byte) string {
	var msg string
	provider.EachField(body, func(k, v []byte) {
		if _, ok := liteLLMRequestParams[string(k)]; ok {
			if m := r.read(string(k), v); m != "" && msg == "" {
				msg = m
			}
		}
	})
	return msg
}

// headerTags are the tags of LiteLLM's x-litellm-tags header, which
// lists them separated by commas.
func headerTags(h http.Header) []string {
	var tags []string
	for t := range strings.SplitSeq(h.Get("X-Litellm-Tags"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

// noneTagged says that no deployment on group's route has the tags.
func noneTagged(group string, tags []string) string {
	return fmt.Sprintf("No deployment of model `%s` or its fallbacks has the tags %q, nor the tag \"default\" (router_settings.enable_tag_filtering)", group, tags)
}

// tagged returns route with each model group's deployments cut to those
// the request's tags pick, as LiteLLM's tag routing does: with tags, the
// deployments that have them (any, or all with matchAll), else those
// tagged "default"; without, those tagged "default" when there are some,
// else all. A group none of whose deployments is picked drops out.
func tagged(route []*Deployment, tags []string, matchAll bool) []*Deployment {
	var out []*Deployment
	for i, d := range route {
		if slices.ContainsFunc(route[:i], func(o *Deployment) bool { return o.Config.Group == d.Config.Group }) {
			continue // the group is done
		}
		var picked, defaults []*Deployment
		for _, m := range route[i:] {
			if m.Config.Group != d.Config.Group {
				continue
			}
			has := func(t string) bool { return slices.Contains(m.Config.Tags, t) }
			if len(tags) > 0 && ((matchAll && !slices.ContainsFunc(tags, func(t string) bool { return !has(t) })) ||
				(!matchAll && slices.ContainsFunc(tags, has))) {
				picked = append(picked, m)
			}
			if has("default") {
				defaults = append(defaults, m)
			}
		}
		switch {
		case len(picked) > 0:
			out = append(out, picked...)
		case len(defaults) > 0:
			out = append(out, defaults...)
		case len(tags) == 0:
			for _, m := range route[i:] {
				if m.Config.Group == d.Config.Group {
					out = append(out, m)
				}
			}
		}
	}
	return out
}

// withFallbacks returns route followed by the deployments of the
// request's own fallback groups that are not on it yet, or a message for
// the client naming a fallback that is no model.
func (g *Gateway) withFallbacks(route []*Deployment, fallbacks []string) ([]*Deployment, string) {
	out := slices.Clip(route)
	var names []string // an alias's group, an auto router's groups in turn
	for _, f := range fallbacks {
		names = append(names, g.aliasGroups(f)...)
	}
	for _, name := range names {
		if _, ok := g.groups[name]; !ok {
			if _, err := g.resolve(name); err != nil { // a model a wildcard serves, else none
				return nil, fmt.Sprintf("fallbacks: the model `%s` does not exist", name)
			}
		}
		for _, d := range g.Route(name) {
			if d.Config.Group == name && !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out, ""
}

// drops returns the parameters to leave out of a request to d: those it
// always drops, LiteLLM's found in the body, and more (those d cannot
// take, under drop_params). It allocates only when there are some of the
// first two.
func (c *call) drops(d *Deployment, more []string) []string {
	if len(d.Config.AlwaysDrop) == 0 && len(c.routing.strip) == 0 {
		return more
	}
	return slices.Concat(d.Config.AlwaysDrop, c.routing.strip, more)
}
