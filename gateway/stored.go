package gateway

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/provider"
)

// storedResponse serves a call on a stored Responses API response by its
// id: GET and DELETE on it (sub ""), POST on its /cancel, GET on its
// /input_items. Only the deployment that stores the response has it, so
// the call goes to that one alone (the id names it:
// provider.EncodeResponseID), through its chat breaker and bulkhead, with
// no retry or fallback.
func (g *Gateway) storedResponse(sub string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		d, upstreamID, msg := g.storedAt(id)
		if d == nil {
			writeAPIError(w, provider.APIResponses, http.StatusNotFound, "invalid_request_error", "", msg)
			return
		}
		br := d.Breakers[provider.Chat]
		done, err := br.Allow()
		if err != nil {
			var oe *breaker.OpenError
			state := "open"
			if errors.As(err, &oe) {
				state = oe.State.String()
				if !oe.RetryAt.IsZero() {
					w.Header().Set("Retry-After", strconv.Itoa(max(int(oe.RetryAt.Sub(g.clock.Now()).Seconds()+0.999), 1)))
				}
			}
			writeAPIError(w, provider.APIResponses, http.StatusServiceUnavailable, "service_unavailable", "deployment_unavailable",
				fmt.Sprintf("Response '%s' is stored by deployment %s, whose circuit is %s; no other deployment has it", id, d.Config.Name, state))
			return
		}
		release, err := d.Bulkhead.Acquire(r.Context())
		if err != nil {
			done(breaker.Ignored, 0)
			writeAPIError(w, provider.APIResponses, http.StatusServiceUnavailable, "service_unavailable", "deployment_unavailable",
				fmt.Sprintf("Response '%s' is stored by deployment %s, which is busy (%v); no other deployment has it", id, d.Config.Name, err))
			return
		}
		defer release()
		ctx := r.Context()
		query := r.URL.Query()
		if r.Method == http.MethodGet && streamInBody(r) {
			// The Go SDK's GetStreaming sends stream in a body; the API
			// (and the other SDKs) take it in the query.
			query.Set("stream", "true")
		}
		stream := query.Get("stream") == "true"
		if t := d.Config.Timeout; t > 0 && !stream {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, t)
			defer cancel()
		}
		start := time.Now()
		resp, err := d.prov.(provider.StoredResponses).Stored(ctx, r.Method, "responses/"+url.PathEscape(upstreamID)+sub, query, nil)
		if err != nil {
			perr := asProviderError(err)
			o := g.classify(perr)
			if o == breaker.Failure {
				cause := failureCause(perr, errType(perr))
				br.NoteFailure(errType(perr), cause)
				g.logFailure(d, provider.Chat, 1, perr.Status, cause)
			}
			done(o, time.Since(start))
			status := perr.Status
			switch {
			case perr.Canceled:
				return // the client left
			case perr.Timeout && status == 0:
				status = http.StatusGatewayTimeout
			case status == 0:
				status = http.StatusBadGateway
			}
			writeAPIError(w, provider.APIResponses, status, cmp.Or(perr.Type, errorTypeOf(status)), perr.Code,
				strings.ReplaceAll(perr.Message, upstreamID, id)) // in the id the client knows
			return
		}
		done(breaker.Success, time.Since(start))
		h := w.Header()
		h["X-Breakerd-Provider"], h["X-Breakerd-Deployment"] = []string{d.Config.Provider}, []string{d.Config.Name}
		if resp.Frames == nil {
			writeJSONBytes(w, http.StatusOK, resp.Body)
			return
		}
		defer resp.Frames.Close()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		rc := http.NewResponseController(w)
		w.WriteHeader(http.StatusOK)
		for {
			frame, err := resp.Frames.Next()
			if err != nil {
				return // the upstream's end, or its break: the client sees the stream stop
			}
			if _, err := w.Write(frame); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

// streamInBody reports whether a GET's body, if any, is a JSON object
// with "stream": true.
func streamInBody(r *http.Request) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<10))
	if err != nil || len(body) == 0 {
		return false
	}
	var v struct {
		Stream bool `json:"stream"`
	}
	return json.Unmarshal(body, &v) == nil && v.Stream
}

// errorTypeOf is OpenAI's error type for an HTTP status breakerd answers
// without an upstream's own.
func errorTypeOf(status int) string {
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

// storedAt finds the deployment that stores response id, and the id its
// upstream knows it by; msg says why there is none. An id breakerd did not
// issue (an upstream's own, from before breakerd) can only be at the one
// deployment that stores responses, if there is just one.
func (g *Gateway) storedAt(id string) (d *Deployment, upstreamID, msg string) {
	var storing []*Deployment
	for _, grp := range g.Groups() {
		for _, d := range grp.Deployments {
			if _, ok := d.prov.(provider.StoredResponses); ok && d.prov.Native(provider.APIResponses) && d.Breakers[provider.Chat] != nil {
				storing = append(storing, d)
			}
		}
	}
	_, name, upstreamID, ok := provider.DecodeResponseID(id)
	if !ok {
		switch len(storing) {
		case 1:
			return storing[0], id, ""
		case 0:
			return nil, "", fmt.Sprintf("No response found with id '%s': no deployment in breakerd's config stores responses (only openai and azure ones do)", id)
		}
		return nil, "", fmt.Sprintf("No response found with id '%s': breakerd did not issue it, so it cannot tell which of its %d deployments that store responses has it", id, len(storing))
	}
	for _, d := range storing {
		if d.Config.Name == name {
			return d, upstreamID, ""
		}
	}
	return nil, "", fmt.Sprintf("No response found with id '%s': it is stored by deployment %s, which breakerd's config no longer has", id, name)
}
