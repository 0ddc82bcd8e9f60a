package provider

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/breakerd/breakerd/config"
)

// RealtimeDialer is implemented by a provider whose upstream serves OpenAI's
// Realtime API: a WebSocket session with one model (OpenAI, Azure OpenAI,
// OpenAI-compatible servers).
type RealtimeDialer interface {
	// DialRealtime opens the upstream's Realtime WebSocket for the
	// deployment's model. query is the client's (its model replaced by
	// the deployment's), header the client's headers to forward
	// (OpenAI-Beta). A refused handshake is an *Error with the upstream's
	// status and message, as a refused HTTP call's is.
	DialRealtime(ctx context.Context, query url.Values, header http.Header) (*websocket.Conn, error)
}

// realtimeReadLimit bounds one message from the upstream: a session's
// audio comes in deltas, but a session.updated or a response.done can
// carry a long transcript.
const realtimeReadLimit = 16 << 20

func (p *openAI) DialRealtime(ctx context.Context, query url.Values, header http.Header) (*websocket.Conn, error) {
	base, own, _ := strings.Cut(p.url[urlResponses], "?")
	q, _ := url.ParseQuery(own)
	for k, v := range query {
		if _, set := q[k]; !set { // the deployment's api-version wins
			q[k] = v
		}
	}
	q.Set("model", p.d.Model)
	if p.d.Dialect == config.DialectAzure && !config.AzureV1(p.d.APIVersion) {
		q.Set("deployment", p.d.Model) // Azure's dated API names the deployment so
	}
	u := strings.TrimSuffix(base, "/responses") + "/realtime?" + q.Encode()
	h := header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if err := p.setHeaders(ctx, h); err != nil {
		return nil, err
	}
	h.Del("Content-Type") // a GET
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: &http.Client{Transport: p.rt}, HTTPHeader: h})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			// The upstream answered the handshake: its error, as any
			// call's (coder/websocket keeps the body's first KB).
			e, typ, code := upstreamError(resp, time.Now(), p.redact)
			e.Type, e.Code = typ, code
			return nil, e
		}
		return nil, transportError(ctx, err, p.redact)
	}
	conn.SetReadLimit(realtimeReadLimit)
	return conn, nil
}
