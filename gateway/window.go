package gateway

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/breakerd/breakerd/provider"
)

// estimateTokens estimates the input tokens of a request body (any API's),
// as LiteLLM's counter does without the model's own tokenizer: four
// characters a token, over the text a model reads (the strings of
// messages, input, system, instructions, prompt and tools), leaving out
// media sent as data (data: URLs, base64 sources), which models count
// their own way, and the JSON around the text.
//
// It reads the body byte by byte, without decoding it (a prompt can be
// megabytes, and a stream's usage may be estimated from it), and stops at
// what is not JSON.
func estimateTokens(body []byte) int {
	// inObject[i] is whether depth i+1 is an object, and expectKey
	// whether the next string in it is a key.
	var inObject []bool
	expectKey := false
	var top, key []byte
	chars := 0
	for i := 0; i < len(body); {
		switch c := body[i]; c {
		case ' ', '\t', '\n', '\r', ',', ':':
			i++
			continue
		case '{', '[':
			inObject = append(inObject, c == '{')
			expectKey = c == '{'
			i++
			continue
		case '}', ']':
			if len(inObject) == 0 {
				return (chars + 3) / 4
			}
			inObject = inObject[:len(inObject)-1]
			i++
		case '"':
			end, runes, ok := provider.StringEnd(body, i+1)
			if !ok {
				return (chars + 3) / 4
			}
			v := body[i+1 : end]
			i = end + 1
			if expectKey {
				key = v
				if len(inObject) == 1 {
					top = v
				}
				expectKey = false
				continue
			}
			if counted(top, key, v) {
				chars += runes
			}
		default: // a number, true, false or null
			for i < len(body) && !bytes.ContainsRune([]byte(" \t\n\r,:]}"), rune(body[i])) {
				i++
			}
		}
		// A value ended: in an object, a key comes next.
		expectKey = len(inObject) > 0 && inObject[len(inObject)-1]
	}
	return (chars + 3) / 4
}

// counted reports whether the string v, the value of key under the
// request's top-level key top, is text a model reads.
func counted(top, key, v []byte) bool {
	switch string(top) {
	case "messages", "input", "system", "instructions", "prompt", "tools", "functions":
	default:
		return false
	}
	switch string(key) {
	case "data", "file_data", "bytes", "type", "role", "id", "call_id", "tool_call_id", "tool_use_id", "media_type", "detail", "url", "image_url", "file_id":
		return false // media, ids and kinds
	}
	return !bytes.HasPrefix(v, []byte("data:"))
}

// fitting returns the route without the deployments whose context
// window (max_input_tokens) the request's prompt is over, as LiteLLM's
// pre-call check passes them over; each is said in c.failures. With none
// of the group's own left and context_window_fallbacks for it, the route
// is those fallbacks', as when its model refuses a prompt as too long.
// tokens is the prompt's estimate, 0 when no deployment on the route has
// a known window.
func (c *call) fitting(route []*Deployment) (fit []*Deployment, tokens int) {
	if !slices.ContainsFunc(route, func(d *Deployment) bool { return d.Config.MaxInputTokens > 0 }) {
		return route, 0
	}
	tokens = estimateTokens(c.req.Body)
	over := func(d *Deployment) bool {
		if d.Config.MaxInputTokens > 0 && tokens > d.Config.MaxInputTokens {
			c.failures = append(c.failures, fmt.Sprintf("%s: the prompt (about %d tokens) is over its context window (max_input_tokens %d)",
				d.Config.Name, tokens, d.Config.MaxInputTokens))
			c.g.obs.Skipped(d, c.op, "context_window")
			return true
		}
		return false
	}
	fit = slices.DeleteFunc(slices.Clone(route), over)
	own := slices.ContainsFunc(fit, func(d *Deployment) bool { return d.Config.Group == c.group })
	if !own {
		c.cause = provider.ContextWindow // given up on before a call
	}
	if !own && len(c.g.cfg.Router.ContextWindowFallbacks[c.group]) > 0 && !c.routing.noFallbacks {
		c.refused = provider.ContextWindow
		fit = slices.DeleteFunc(c.g.refusalRoute(provider.ContextWindow, c.group), over)
	}
	return fit, tokens
}

// tooLong answers a request whose prompt is over the context window of
// every deployment on its route, as OpenAI answers one over its model's.
func (c *call) tooLong(w http.ResponseWriter, tokens int) outcome {
	c.writeError(w, http.StatusBadRequest, "invalid_request_error", "context_length_exceeded",
		fmt.Sprintf("The prompt of about %d tokens is longer than the context window of every deployment that could serve `%s` "+
			"(breakerd's estimate, four characters a token; router_settings.enable_pre_call_checks): %s",
			tokens, c.group, strings.Join(c.failures, "; ")))
	return outcome{code: http.StatusBadRequest}
}

// cheapestForPrompt returns route with the group's own deployments at
// its head (least-cost's order: each order tier by price) put in order
// again by what this prompt costs at each, when it is long enough for a
// long-context tier (GPT-5.4 past 272K tokens, Gemini's Pro models past
// 200K, ...), whose prices the static order, by base prices, does not
// weigh: a model with one price across its window may then be the
// cheaper. A shorter prompt, the common case, costs a length check.
func (c *call) cheapestForPrompt(route []*Deployment) []*Deployment {
	own, least := 0, 0
	for own < len(route) && route[own].Config.Group == c.group {
		if t := route[own].Config.LongContext; len(t) > 0 && (least == 0 || t[0].Above < least) {
			least = t[0].Above
		}
		own++
	}
	if least == 0 || c.req == nil || len(c.req.Body)/4 <= least {
		return route // no tier this prompt could reach (estimateTokens counts at most a character in four)
	}
	tokens := estimateTokens(c.req.Body)
	if tokens <= least {
		return route
	}
	price := func(d *Deployment) float64 {
		if !d.Config.Priced {
			return math.Inf(1) // an unknown price is not a free one
		}
		in, out := d.Config.InputCostPerToken, d.Config.OutputCostPerToken
		for _, t := range d.Config.LongContext {
			if tokens > t.Above {
				in, out = t.Input, t.Output
			}
		}
		return in + out
	}
	out := slices.Clone(route)
	slices.SortStableFunc(out[:own], func(a, b *Deployment) int {
		return cmp.Or(cmp.Compare(tier(a), tier(b)), cmp.Compare(price(a), price(b)))
	})
	return out
}
