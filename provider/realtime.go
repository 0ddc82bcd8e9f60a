package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
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

// RealtimePoster is implemented by a provider whose upstream serves the
// Realtime API's HTTP calls (OpenAI, Azure OpenAI's v1 API): a client
// secret (POST /realtime/client_secrets, a JSON body) and a WebRTC call
// (POST /realtime/calls, its SDP offer and session as a form).
type RealtimePoster interface {
	// PostRealtime sends body (of contentType) to the upstream's
	// /realtime/{path}, with the session's model the deployment's, and
	// returns its answer as it is. A refusal is an *Error.
	PostRealtime(ctx context.Context, path string, body []byte, contentType string) (*Response, error)
}

func (p *openAI) PostRealtime(ctx context.Context, path string, body []byte, contentType string) (*Response, error) {
	buf, _, err := realtimeSession(body, contentType, p.d.Model)
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: err.Error()}
	}
	base, own, _ := strings.Cut(p.url[urlResponses], "?")
	u := strings.TrimSuffix(base, "/responses") + "/realtime/" + path
	if own != "" {
		u += "?" + own
	}
	hreq, err := p.urls.post(ctx, u, buf, false)
	if err != nil {
		return nil, &Error{Err: err, Message: "build request: " + p.redact(err.Error())}
	}
	if err := p.setHeaders(ctx, hreq.Header); err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", contentType)
	resp, err := exchange(ctx, p.rt, hreq, p.redact, p.httpError)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := readBody(resp, maxResponseBytes)
	if err != nil {
		return nil, transportError(ctx, err, p.redact)
	}
	return &Response{Body: data, Model: p.d.Model, ContentType: resp.Header.Get("Content-Type"), Status: resp.StatusCode,
		Location: resp.Header.Get("Location")}, nil
}

// RealtimeModel is the model a Realtime call's session names: the
// session's in a client secret's JSON body, or in a WebRTC call's form (its
// session part's JSON); "" for none. A body that is neither is an error.
func RealtimeModel(body []byte, contentType string) (string, error) {
	_, named, err := realtimeSession(body, contentType, "")
	return named, err
}

// realtimeSession reads a Realtime call's body (RealtimeModel) and, with
// model set, returns it with its session's model set to model (a session
// made when there is none), and the model it named.
func realtimeSession(body []byte, contentType, model string) (out []byte, named string, err error) {
	session := func(raw json.RawMessage) (json.RawMessage, string, error) {
		var m map[string]json.RawMessage
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &m); err != nil {
				return nil, "", errors.New("session must be a JSON object")
			}
		}
		var named string
		_ = json.Unmarshal(m["model"], &named)
		if model == "" {
			return raw, named, nil
		}
		if m == nil {
			m = map[string]json.RawMessage{"type": json.RawMessage(`"realtime"`)}
		}
		m["model"], _ = json.Marshal(model)
		out, err := json.Marshal(m)
		return out, named, err
	}
	media, params, _ := mime.ParseMediaType(contentType)
	if media != "multipart/form-data" {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, "", errors.New("the body must be a JSON object, or a WebRTC call's form (sdp and session)")
		}
		s, named, err := session(m["session"])
		if err != nil || model == "" {
			return nil, named, err
		}
		m["session"] = s
		out, err = json.Marshal(m)
		return out, named, err
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var form bytes.Buffer
	w := multipart.NewWriter(&form)
	if err := w.SetBoundary(params["boundary"]); err != nil {
		return nil, "", errors.New("the form has no valid boundary")
	}
	found := false
	for {
		part, err := r.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, "", fmt.Errorf("the form cannot be read: %w", err)
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return nil, "", fmt.Errorf("the form cannot be read: %w", err)
		}
		if part.FormName() == "session" {
			found = true
			if data, named, err = session(data); err != nil || model == "" {
				return nil, named, err
			}
		}
		dst, err := w.CreatePart(textproto.MIMEHeader(part.Header))
		if err != nil {
			return nil, "", err
		}
		if _, err := dst.Write(data); err != nil {
			return nil, "", err
		}
	}
	if model == "" {
		return nil, "", nil // no session part: no model named
	}
	if !found {
		s, _, _ := session(nil)
		h := textproto.MIMEHeader{"Content-Disposition": {`form-data; name="session"`}, "Content-Type": {"application/json"}}
		dst, err := w.CreatePart(h)
		if err != nil {
			return nil, "", err
		}
		if _, err := dst.Write(s); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return form.Bytes(), named, nil
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
