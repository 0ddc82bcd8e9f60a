package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/provider"
)

// pipe copies a stream to the client, one flushed event per chunk, and
// returns the breaker outcome: a stream that breaks after its first byte is
// a failure (and the client gets a terminating error event); a client that
// leaves is neither success nor failure.
func (c *call) pipe(ctx context.Context, w http.ResponseWriter, s provider.Stream, first []byte) (breaker.Outcome, string) {
	defer s.Close()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	out := c.client(w)
	defer out.done()
	write := func(data []byte) error {
		return out.send(func() error {
			_, err := fmt.Fprintf(w, "data: %s\n\n", data)
			return err
		}, true)
	}
	chunk := first
	for {
		if err := write(chunk); err != nil {
			return breaker.Ignored, "canceled" // the client is gone
		}
		next, err := s.Next()
		if errors.Is(err, io.EOF) {
			_ = write([]byte("[DONE]"))
			return breaker.Success, ""
		}
		if err != nil {
			if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
				return breaker.Ignored, "canceled"
			}
			perr := asProviderError(err)
			body, _ := json.Marshal(apiError{Error: apiErrorBody{
				Message: "the upstream stream broke: " + perr.Message, Type: "server_error"}})
			_ = write(body)
			return breaker.Failure, "stream_cut"
		}
		chunk = next
	}
}

// clientConn writes to the client with a deadline on every write, so that
// a client that stops reading is dropped after send_timeout, as nginx's
// send_timeout does, instead of holding the handler and its upstream
// call forever.
type clientConn struct {
	rc      *http.ResponseController
	timeout time.Duration
}

func (c *call) client(w http.ResponseWriter) clientConn {
	return clientConn{rc: http.NewResponseController(w), timeout: c.g.cfg.Server.SendTimeout}
}

// send runs write under the deadline and, if flush, flushes; it returns
// the first error, which means the client is gone or stalled.
func (cc clientConn) send(write func() error, flush bool) error {
	if cc.timeout > 0 {
		_ = cc.rc.SetWriteDeadline(time.Now().Add(cc.timeout))
	}
	if err := write(); err != nil {
		return err
	}
	if !flush {
		return nil
	}
	if err := cc.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// done clears the deadline: the connection may serve another request.
func (cc clientConn) done() {
	if cc.timeout > 0 {
		_ = cc.rc.SetWriteDeadline(time.Time{})
	}
}

func (c *call) setHeaders(w http.ResponseWriter, d *Deployment, fallback bool) {
	h := w.Header()
	h.Set("X-Breakerd-Provider", d.Config.Provider)
	h.Set("X-Breakerd-Deployment", d.Config.Name)
	h.Set("X-Breakerd-Attempts", strconv.Itoa(c.attempts))
	h.Set("X-Breakerd-Fallback", strconv.FormatBool(fallback))
	h.Set("X-Breakerd-Overhead-Ms", strconv.FormatFloat(float64(c.overhead)/float64(time.Millisecond), 'f', 3, 64))
}

// fail answers a request that no deployment served: 503, with Retry-After
// set to when the earliest open breaker lets a trial through.
func (c *call) fail(w http.ResponseWriter, r *http.Request) outcome {
	if errors.Is(r.Context().Err(), context.Canceled) {
		return outcome{code: 499}
	}
	w.Header().Set("X-Breakerd-Attempts", strconv.Itoa(c.attempts))
	if !c.retryAt.IsZero() {
		secs := int(c.retryAt.Sub(c.g.clock.Now()).Seconds() + 0.999)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	} else if c.lastErr != nil && c.lastErr.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(max(int(c.lastErr.RetryAfter.Seconds()+0.999), 1)))
	}
	msg := fmt.Sprintf("No deployment of model `%s` could serve the request (%s)", c.group, strings.Join(c.failures, "; "))
	writeError(w, http.StatusServiceUnavailable, "service_unavailable", "all_deployments_unavailable", msg)
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
