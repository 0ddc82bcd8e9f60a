package gateway

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/provider"
)

// pipe copies a stream to the client, one flushed event per chunk, and
// returns the breaker outcome: a stream that breaks after its first byte is
// a failure (and the client gets a terminating error event); a client that
// leaves is neither success nor failure. lim, the stream_timeout (or
// stream_idle_timeout), is re-armed before each wait for a chunk.
func (c *call) pipe(ctx context.Context, w http.ResponseWriter, s provider.Stream, first []byte, lim *callLimit) (breaker.Outcome, string) {
	defer s.Close()
	if !c.cont.midStream { // a continuation's client has them
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		c.cont.ok = true
	}
	// The stream is under way: it no longer counts against the adaptive
	// limit (before the first write, so that a client that reads the
	// chunk finds it so), and unless another deployment may continue it
	// (continuable), nothing will send the request again, so its bodies,
	// megabytes with a long prompt, need not be held while it streams.
	c.adm.answer()
	if c.cont.on = c.continuable(); !c.cont.on {
		c.req.Body, c.sendReq.Body, c.translated = nil, nil, nil
	}
	if c.cacheKey != "" && !c.routing.cache.NoStore {
		c.streamed = []byte{}
	}
	chunk := first
	for {
		if c.cont.midStream {
			chunk = c.continued(w, chunk)
		}
		if chunk != nil {
			if err := c.send(w, chunk, true); err != nil {
				return breaker.Ignored, "canceled" // the client is gone
			}
			if c.streamed != nil {
				c.keepChunk(chunk)
			}
			if c.cont.on && c.cont.ok {
				c.notePartial(chunk)
			}
		}
		lim.arm()
		next, err := s.Next()
		if errors.Is(err, io.EOF) {
			return breaker.Success, ""
		}
		if err != nil {
			return c.broke(ctx, w, err, lim)
		}
		chunk = next
	}
}

// broke ends a stream that failed with err after its first chunk: the
// client gets an error event, and the outcome says whose fault it was.
func (c *call) broke(ctx context.Context, w http.ResponseWriter, err error, lim *callLimit) (breaker.Outcome, string) {
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
		return breaker.Ignored, "canceled"
	}
	msg := asProviderError(err).Message
	kind := "stream_cut"
	if lim.ranOut() {
		msg, kind = fmt.Sprintf("no chunk for %s (%s)", lim.limit, lim.key), "timeout"
	}
	if c.g.cut.Err() != nil {
		// Not the provider's fault: breakerd is shutting down.
		_ = c.send(w, c.errorEvent("breakerd is shutting down and its grace period (server.shutdown_grace) "+
			"ended before the stream did; retry the request"), true)
		c.g.log.Warn("stream cut at shutdown", "model_group", c.group, "after", time.Since(c.start).Round(time.Millisecond).String())
		return breaker.Ignored, "canceled"
	}
	if c.cont.on && c.cont.ok && c.oneChoice() {
		// The route's next deployments may go on with it (continuation).
		c.cont.midStream, c.cont.again, c.cont.hop, c.cont.broke, c.cont.req, c.cont.mapped, c.cont.into = true, true, true, msg, nil, nil, 0
		return breaker.Failure, kind
	}
	_ = c.send(w, c.errorEvent("the upstream stream broke: "+msg), true)
	return breaker.Failure, kind
}

// errorEvent is the event that ends a broken stream, in the client API's
// shape: an error chunk for chat and completions, Anthropic's error event
// on /v1/messages, the Responses API's error event on /v1/responses.
func (c *call) errorEvent(msg string) []byte {
	switch c.api {
	case provider.APIMessages:
		b, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]string{"type": "api_error", "message": msg}})
		return provider.Frame("error", b)
	case provider.APIResponses:
		b, _ := json.Marshal(map[string]any{"type": "error", "code": "server_error", "message": msg, "param": nil})
		return provider.Frame("error", b)
	}
	b, _ := json.Marshal(apiError{Error: apiErrorBody{Message: msg, Type: "server_error"}})
	return provider.Frame("", b)
}

// send writes b to the client, flushing if flush, under a deadline of
// send_timeout, as nginx's send_timeout: a client that stops reading is
// dropped instead of holding the handler and its upstream call forever.
// An error means the client is gone or stalled.
//
// A whole answer that net/http buffers (up to answerBuffered) reaches the
// connection only once the handler returns, after run has cleared the
// deadline: setting one for it would only cost two timer updates.
func (c *call) send(w http.ResponseWriter, b []byte, flush bool) error {
	if t := c.g.cfg.Server.SendTimeout; t > 0 && (flush || len(b) > answerBuffered) {
		_ = c.rc.SetWriteDeadline(time.Now().Add(t))
		c.writeDeadline = true
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	if !flush {
		return nil
	}
	if err := c.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// answerBuffered is how much of an answer net/http's HTTP/1 response
// writer buffers before it writes to the connection (its
// bufferBeforeChunkingSize).
const answerBuffered = 2048

// clearWriteDeadline clears the deadline send set, if it did: the
// connection may serve another request.
func (c *call) clearWriteDeadline() {
	if c.writeDeadline {
		_ = c.rc.SetWriteDeadline(time.Time{})
		c.writeDeadline = false
	}
}

// setHeaders sets the headers of an answer from d, at now. Keys are
// written in their canonical form, and recurring values shared.
func (c *call) setHeaders(w http.ResponseWriter, d *Deployment, fallback bool, now time.Time) {
	h := w.Header()
	for k, v := range d.header {
		h[k] = v
	}
	hv := &c.g.headers
	h["Date"] = hv.date(now)
	h["X-Breakerd-Attempts"] = hv.count(c.attempts)
	h["X-Breakerd-Fallback"] = hv.boolean(fallback)
	h["X-Breakerd-Overhead-Ms"] = hv.millisecond(c.overhead)
	// LiteLLM's, for clients that read them: the calls made again, and
	// the other model groups the request fell back to.
	h["X-Litellm-Attempted-Retries"] = hv.count(c.retried)
	h["X-Litellm-Attempted-Fallbacks"] = hv.count(len(c.fallbackGroups))
	if len(c.dropped) > 0 {
		h.Set("X-Breakerd-Dropped-Params", strings.Join(c.dropped, ", "))
	}
	if len(c.routing.ignored) > 0 {
		h.Set("X-Breakerd-Ignored-Params", strings.Join(c.routing.ignored, ", "))
	}
}

// fail answers a request that no deployment served: 503, with Retry-After
// set to when the earliest open breaker lets a trial through, and
// x-should-retry: false. A 429 (every deployment at its rate limit) has
// no x-should-retry: the client is going too fast, and waiting is right.
//
// tried counts the deployments on the route that could take the request:
// when none could, or none could honour its parameters, it is the
// client's error (400).
func (c *call) fail(ctx context.Context, w http.ResponseWriter, tried int) outcome {
	if c.cont.midStream {
		// The client has a stream that broke: it ends with an event.
		if ctx.Err() != nil {
			return outcome{code: 499}
		}
		c.continueInstead(w, strings.Join(c.failures, "; "))
		return outcome{code: http.StatusOK}
	}
	if c.unfit > 0 && c.unfit == tried && c.attempts == 0 {
		// No deployment on the route can honour the request as sent.
		c.writeError(w, http.StatusBadRequest, "invalid_request_error", "unsupported_parameter", c.unfitMsg)
		return outcome{code: http.StatusBadRequest}
	}
	if c.unserved > 0 && c.unserved == len(c.failures) {
		// Every server tried answered that it has no such API.
		msg := fmt.Sprintf("The model `%s` is not served for /v1/%s: its deployments' servers do not have that API (%s)", c.group, c.api, strings.Join(c.failures, "; "))
		c.writeError(w, http.StatusNotFound, "invalid_request_error", "unsupported_api", msg)
		return outcome{code: http.StatusNotFound}
	}
	if e := c.passedOverErr; c.passedOver > 0 && c.passedOver == len(c.failures) {
		// Every deployment tried refused the request as its account may
		// not make it: the upstream's answer, with each one's.
		msg := fmt.Sprintf("No deployment of model `%s` may serve this request (%s)", c.group, strings.Join(c.failures, "; "))
		c.writeError(w, e.Status, cmp.Or(e.Type, errorTypeOf(e.Status)), e.Code, msg)
		return outcome{code: e.Status}
	}
	if tried == 0 {
		why := "no deployment of it or of its fallbacks has a provider with that API"
		if mode := provider.ModeOf(c.op); mode != "" {
			why = fmt.Sprintf("none of its deployments, or its fallbacks', is a model for it (model_info.mode %s, or a model known by its name)", mode)
		} else if c.op == provider.Chat && len(c.g.Route(c.group)) > 0 && c.g.Route(c.group)[0].Breakers[provider.Chat] == nil {
			why = fmt.Sprintf("its deployments are models for %s only", c.g.Route(c.group)[0].Operations()[0])
		}
		c.writeError(w, http.StatusBadRequest, "invalid_request_error", "model_not_supported",
			fmt.Sprintf("The model `%s` does not serve %s: %s.", c.group, c.what(), why))
		return outcome{code: http.StatusBadRequest}
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return outcome{code: 499}
	}
	w.Header().Set("X-Breakerd-Attempts", strconv.Itoa(c.attempts))
	if !c.retryAt.IsZero() {
		secs := int(c.retryAt.Sub(c.g.clock.Now()).Seconds() + 0.999)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	} else if c.lastErr != nil && c.lastErr.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(max(int(c.lastErr.RetryAfter.Seconds()+0.999), 1)))
	}
	if c.limited > 0 && c.limited == len(c.failures) && c.limitKind == "budget" {
		// Every deployment's budget is spent: LiteLLM's budget error. The
		// SDKs would retry a 429 at once, to no avail until Retry-After.
		w.Header().Set("X-Should-Retry", "false")
		msg := fmt.Sprintf("Budget exceeded for model `%s`: no deployment has budget left (%s)", c.group, strings.Join(c.failures, "; "))
		c.writeError(w, http.StatusTooManyRequests, "budget_exceeded", "budget_exceeded", msg)
		return outcome{code: http.StatusTooManyRequests}
	}
	if c.limited > 0 && c.limited == len(c.failures) {
		// Every deployment is healthy but has used its minute's share:
		// the client is going too fast, as with OpenAI's own limits.
		msg := fmt.Sprintf("Rate limit reached for model `%s`: every deployment has used its %s per minute (%s)", c.group, c.limitKind, strings.Join(c.failures, "; "))
		c.writeError(w, http.StatusTooManyRequests, c.limitKind, "rate_limit_exceeded", msg)
		return outcome{code: http.StatusTooManyRequests}
	}
	// The gateway has already done the retries and fallbacks a client
	// would: the official SDKs would otherwise wait out Retry-After (20 s
	// and more) on each of their own retries before the application hears
	// of the outage. They honour x-should-retry; Retry-After stays for
	// people, load balancers and other clients.
	w.Header().Set("X-Should-Retry", "false")
	msg := fmt.Sprintf("No deployment of model `%s` could serve the request (%s)", c.group, strings.Join(c.failures, "; "))
	if c.pinned {
		msg += "; " + c.routing.why + ", so no other was tried"
	}
	c.writeError(w, http.StatusServiceUnavailable, "service_unavailable", "all_deployments_unavailable", msg)
	return outcome{code: http.StatusServiceUnavailable}
}

func asProviderError(err error) *provider.Error {
	var perr *provider.Error
	if errors.As(err, &perr) {
		cp := *perr
		return &cp
	}
	return &provider.Error{Err: err, Message: err.Error()}
}

func errType(e *provider.Error) string {
	switch {
	case e.Canceled:
		return "canceled"
	case e.Timeout:
		return "timeout"
	case e.Status > 0:
		return "http_" + strconv.Itoa(e.Status)
	}
	return "connection"
}

// headerValues are response header values that recur, each made once and
// shared: a header set from a new string allocates the string and its
// slice for every response. The slices are never written to.
type headerValues struct {
	json   []string    // application/json
	bools  [2][]string // false, true
	counts [16][]string
	// millis are the overheads under 256 µs in milliseconds, nearly all
	// of them: millis[i:i+1:i+1] is i µs.
	millis []string
	// today is the Date header's value, formatted at most once a second:
	// net/http formats one for every answer that has none (a proxy that
	// copies the upstream's does not).
	today atomic.Pointer[httpDate]
}

type httpDate struct {
	unix  int64
	value []string
}

func (hv *headerValues) init() {
	hv.json, hv.bools = []string{"application/json"}, [2][]string{{"false"}, {"true"}}
	for i := range hv.counts {
		hv.counts[i] = []string{strconv.Itoa(i)}
	}
	hv.millis = make([]string, 256)
	for i := range hv.millis {
		hv.millis[i] = strconv.FormatFloat(float64(i)/1000, 'f', 3, 64)
	}
}

// date returns the Date header's value at now.
func (hv *headerValues) date(now time.Time) []string {
	sec := now.Unix()
	if d := hv.today.Load(); d != nil && d.unix == sec {
		return d.value
	}
	d := &httpDate{unix: sec, value: []string{now.UTC().Format(http.TimeFormat)}}
	hv.today.Store(d)
	return d.value
}

// count returns n as a header value.
func (hv *headerValues) count(n int) []string {
	if n >= 0 && n < len(hv.counts) {
		return hv.counts[n]
	}
	return []string{strconv.Itoa(n)}
}

// millisecond returns d as a header value in milliseconds, to the
// microsecond.
func (hv *headerValues) millisecond(d time.Duration) []string {
	if us := (d + time.Microsecond/2) / time.Microsecond; us >= 0 && us < time.Duration(len(hv.millis)) {
		return hv.millis[us : us+1 : us+1]
	}
	return []string{strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64)}
}

// boolean returns b as a header value.
func (hv *headerValues) boolean(b bool) []string {
	if b {
		return hv.bools[1]
	}
	return hv.bools[0]
}

// costText appends d's cost for usage u to buf, in US dollars, as LiteLLM
// writes it: ten significant figures, no float noise.
func costText(buf []byte, d *Deployment, u provider.Usage) []byte {
	return strconv.AppendFloat(buf, d.Config.Cost(u.Tokens()), 'g', 10, 64)
}

// costedFrames is a stream of a client's API's events in which the one
// that carries the call's whole usage carries its cost too, in US
// dollars, as LiteLLM's include_cost_in_streaming_usage has it: usage.cost
// of a chat stream's usage chunk and of Anthropic's message_delta, and
// response.usage.cost of the Responses API's response.completed (or
// incomplete, or failed). Every other event passes as it came.
type costedFrames struct {
	provider.Stream
	d   *Deployment
	buf []byte
}

func (s *costedFrames) Next() ([]byte, error) {
	frame, err := s.Stream.Next()
	if err != nil || !bytes.Contains(frame, []byte(`"usage"`)) {
		return frame, err
	}
	name, data, ok := splitFrame(frame)
	if !ok {
		return frame, nil
	}
	var typ, response []byte
	provider.EachField(data, func(k, v []byte) {
		switch string(k) {
		case "type":
			typ = v
		case "response":
			response = v
		}
	})
	cost := costText(nil, s.d, s.Stream.Usage())
	var out []byte
	ok = false
	switch string(typ) {
	case `"response.completed"`, `"response.incomplete"`, `"response.failed"`: // the Responses API's last
		if response, ok = withCost(response, cost); ok {
			out, ok = provider.SetField(data, "response", response)
		}
	case "", `"message_delta"`: // a chat chunk, Anthropic's last
		out, ok = withCost(data, cost)
	}
	if !ok {
		return frame, nil // usage: null, as on the chunks before the last
	}
	s.buf = provider.AppendFrame(s.buf[:0], name, out)
	return s.buf, nil
}

// withCost returns obj, a JSON object, with cost added to its usage
// object; false when it has none.
func withCost(obj, cost []byte) ([]byte, bool) {
	var usage []byte
	if len(obj) == 0 || !provider.EachField(obj, func(k, v []byte) {
		if string(k) == "usage" {
			usage = v
		}
	}) || len(usage) == 0 || usage[0] != '{' {
		return nil, false
	}
	usage, ok := provider.SetField(usage, "cost", cost)
	if !ok {
		return nil, false
	}
	return provider.SetField(obj, "usage", usage)
}

// splitFrame reads one SSE event as AppendFrame writes it (and upstreams
// send it): its event name, if any, and its data.
func splitFrame(frame []byte) (name, data []byte, ok bool) {
	rest := frame
	if after, found := bytes.CutPrefix(rest, []byte("event: ")); found {
		name, rest, found = bytes.Cut(after, []byte("\n"))
		if !found {
			return nil, nil, false
		}
	}
	data, found := bytes.CutPrefix(rest, []byte("data: "))
	if !found {
		return nil, nil, false
	}
	data = bytes.TrimRight(data, "\n")
	if bytes.IndexByte(data, '\n') >= 0 {
		return nil, nil, false // more lines than one data line: left alone
	}
	return name, data, true
}
