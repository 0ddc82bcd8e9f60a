package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/coder/websocket"

	"github.com/breakerd/breakerd/provider"
)

// The Responses API's WebSocket mode: a client keeps one connection to
// /v1/responses and sends response.create events, each answered with the
// events a streamed POST /v1/responses answers with. breakerd serves each
// response.create as that streamed POST, through the same breakers,
// retries and fallbacks, so a socket survives its provider's outage.
//
// A continuation of a response made on the socket with store: false
// (previous_response_id) is expanded here: OpenAI keeps such a
// response's context in the socket's memory, and breakerd does too,
// sending the whole context, so any deployment can continue it. Other
// previous_response_ids go upstream as they would over HTTP.
//
// Responses are served one at a time, in the order their
// response.create events came; each one's events carry its stream_id. At
// a shutdown (Options.Draining) a socket is closed with 1001 (going
// away) once its response in flight is done, and a shutdown waits for
// that (Options.Detached).

// socketChains bounds the store: false chains a socket remembers.
const socketChains = 16

// socketChain is the context of a store: false response made on a socket:
// its input and output items, in order.
type socketChain struct {
	id    string
	items []json.RawMessage
}

// responsesSocket serves GET /v1/responses: the WebSocket mode, or a 405
// for a plain GET.
func (g *Gateway) responsesSocket(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "",
			fmt.Sprintf("Method %s is not allowed for %s; allowed: POST, or GET to open a WebSocket (the Responses API's WebSocket mode)", r.Method, r.URL.Path))
		return
	}
	// Counted before the connection leaves net/http's (Accept takes it
	// over), so that a shutdown that finds none there finds this one.
	g.detached.Add(1)
	defer g.detached.Done()
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: g.socketOrigins()})
	if err != nil {
		return // Accept has answered
	}
	conn.SetReadLimit(max(g.cfg.Server.MaxBodyBytes, 1<<20))
	// The socket is read all along, not only between responses, so that
	// its pings are answered and a client that leaves mid-response ends
	// that response's upstream call.
	ctx, cancel := context.WithCancel(r.Context())
	msgs := make(chan []byte)
	read := make(chan struct{})
	go func() {
		defer close(read)
		defer close(msgs)
		for {
			_, msg, err := conn.Read(ctx)
			if err != nil {
				cancel() // closed, or the client left
				return
			}
			select {
			case msgs <- msg:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer func() {
		cancel()
		conn.CloseNow()
		<-read
	}()
	serve := g.serve(provider.Chat, provider.APIResponses)
	var chains []socketChain
	for {
		var msg []byte
		select {
		case m, ok := <-msgs:
			if !ok {
				return
			}
			msg = m
		case <-g.draining:
			_ = conn.Close(websocket.StatusGoingAway, "breakerd is shutting down: reconnect")
			return
		}
		var ev struct {
			Type     string `json:"type"`
			StreamID string `json:"stream_id"`
			Store    *bool  `json:"store"`
			Previous string `json:"previous_response_id"`
			Generate *bool  `json:"generate"`
		}
		if err := json.Unmarshal(msg, &ev); err != nil || ev.Type != "response.create" {
			what := fmt.Sprintf("the event type %q is not one breakerd serves (it serves response.create)", ev.Type)
			if err != nil {
				what = "the event is not a JSON object"
			}
			if socketError(ctx, conn, ev.StreamID, http.StatusBadRequest, "invalid_request_error", "", what) != nil {
				return
			}
			continue
		}
		if ev.Generate != nil && !*ev.Generate {
			if socketError(ctx, conn, ev.StreamID, http.StatusBadRequest, "invalid_request_error", "",
				"generate: false (a warm-up) is not served by breakerd: send the turn itself") != nil {
				return
			}
			continue
		}
		body, input := socketRequest(msg, ev.Previous, chains)
		sw := &socketWriter{ctx: ctx, conn: conn, streamID: ev.StreamID, header: http.Header{}}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.URL.Path, bytes.NewReader(body))
		req.Header = r.Header.Clone()
		for _, h := range []string{"Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions"} {
			req.Header.Del(h)
		}
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength, req.RemoteAddr = int64(len(body)), r.RemoteAddr
		serve(sw, req)
		if err := sw.finish(); err != nil {
			return
		}
		if ev.Store != nil && !*ev.Store && sw.completed != nil {
			chains = remember(chains, sw.completed, input)
		}
	}
}

// socketRequest turns a response.create event into a streamed Responses
// request, and returns the input it sends: the whole context when it
// continues a store: false response the socket remembers.
func socketRequest(msg []byte, previous string, chains []socketChain) ([]byte, []json.RawMessage) {
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(msg, &fields) // an object: read as one before
	delete(fields, "type")
	delete(fields, "stream_id")
	fields["stream"] = json.RawMessage("true")
	input := inputItems(fields["input"])
	if previous != "" {
		for _, c := range chains {
			if c.id == previous {
				input = append(append([]json.RawMessage{}, c.items...), input...)
				delete(fields, "previous_response_id")
				break
			}
		}
	}
	if input != nil {
		fields["input"], _ = json.Marshal(input)
	}
	body, _ := json.Marshal(fields)
	return body, input
}

// inputItems returns a Responses input as items: a text input is one user
// message. nil when there is no input to read.
func inputItems(raw json.RawMessage) []json.RawMessage {
	var text string
	if json.Unmarshal(raw, &text) == nil {
		item, _ := json.Marshal(map[string]any{"type": "message", "role": "user", "content": text})
		return []json.RawMessage{item}
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	return items
}

// remember keeps a completed store: false response's context (its input
// and output) for the socket's later continuations, the oldest forgotten
// past socketChains. Reasoning without its encrypted content is left out:
// with store: false nothing upstream can read it back.
func remember(chains []socketChain, completed json.RawMessage, input []json.RawMessage) []socketChain {
	var resp struct {
		ID     string            `json:"id"`
		Output []json.RawMessage `json:"output"`
	}
	if json.Unmarshal(completed, &resp) != nil || resp.ID == "" {
		return chains
	}
	items := append([]json.RawMessage{}, input...)
	for _, it := range resp.Output {
		var kind struct {
			Type             string `json:"type"`
			EncryptedContent string `json:"encrypted_content"`
		}
		if json.Unmarshal(it, &kind) == nil && kind.Type == "reasoning" && kind.EncryptedContent == "" {
			continue
		}
		items = append(items, it)
	}
	chains = append(chains, socketChain{id: resp.ID, items: items})
	if len(chains) > socketChains {
		chains = chains[1:]
	}
	return chains
}

// socketWriter is the ResponseWriter a response.create is served to: each
// event of the answer's stream goes to the socket as a message, with the
// event's stream_id; an error answer becomes an error event.
type socketWriter struct {
	ctx       context.Context
	conn      *websocket.Conn
	streamID  string
	header    http.Header
	status    int
	body      bytes.Buffer // an answer that is not a stream: an error
	pending   []byte       // a stream's frames not yet whole
	err       error
	completed json.RawMessage // the response of response.completed
}

func (s *socketWriter) Header() http.Header { return s.header }

func (s *socketWriter) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
}

// Flush is a no-op: each event goes to the socket as it is written.
func (s *socketWriter) Flush() {}

func (s *socketWriter) Write(b []byte) (int, error) {
	s.WriteHeader(http.StatusOK)
	if s.err != nil {
		return 0, s.err
	}
	if !strings.HasPrefix(s.header.Get("Content-Type"), "text/event-stream") {
		return s.body.Write(b)
	}
	s.pending = append(s.pending, b...)
	for {
		end := bytes.Index(s.pending, []byte("\n\n"))
		if end < 0 {
			return len(b), s.err
		}
		frame := s.pending[:end]
		if err := s.event(frame); err != nil {
			s.err = err
			return 0, err
		}
		s.pending = s.pending[end+2:]
	}
}

// event sends one SSE frame's data to the socket.
func (s *socketWriter) event(frame []byte) error {
	var data []byte
	for _, line := range bytes.Split(frame, []byte("\n")) {
		if d, ok := bytes.CutPrefix(line, []byte("data: ")); ok {
			data = append(data, d...)
		}
	}
	if len(data) == 0 {
		return nil
	}
	var ev struct {
		Type     string          `json:"type"`
		Response json.RawMessage `json:"response"`
	}
	if json.Unmarshal(data, &ev) == nil && ev.Type == "response.completed" {
		s.completed = ev.Response
	}
	if s.streamID != "" {
		id, _ := json.Marshal(s.streamID)
		if with, ok := provider.SetField(data, "stream_id", id); ok {
			data = with
		}
	}
	return s.conn.Write(s.ctx, websocket.MessageText, data)
}

// finish sends an answer that was not a stream (an error) as an error
// event; an error means the socket is gone.
func (s *socketWriter) finish() error {
	if s.err != nil || s.status == http.StatusOK || s.status == 0 {
		return s.err
	}
	var e struct {
		Error struct {
			Type    string `json:"type"`
			Code    any    `json:"code"`
			Message string `json:"message"`
			Param   any    `json:"param"`
		} `json:"error"`
	}
	_ = json.Unmarshal(s.body.Bytes(), &e)
	code, _ := e.Error.Code.(string)
	return socketError(s.ctx, s.conn, s.streamID, s.status, e.Error.Type, code, e.Error.Message)
}

// socketError sends an error event, as OpenAI's WebSocket mode does.
func socketError(ctx context.Context, conn *websocket.Conn, streamID string, status int, typ, code, msg string) error {
	ev := map[string]any{"type": "error", "status": status,
		"error": map[string]any{"type": typ, "code": code, "message": msg, "param": nil}}
	if streamID != "" {
		ev["stream_id"] = streamID
	}
	b, _ := json.Marshal(ev)
	return conn.Write(ctx, websocket.MessageText, b)
}

// socketOrigins are the web origins whose pages may open a socket, as
// server.cors_allowed_origins lets them call the API: a browser sends no CORS
// preflight for a WebSocket, so the handshake checks its Origin instead.
// A client that is not a browser sends none, and is let in.
func (g *Gateway) socketOrigins() []string {
	var hosts []string
	for _, o := range g.cfg.Server.CORSOrigins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			hosts = append(hosts, u.Host)
		} else {
			hosts = append(hosts, o) // "*"
		}
	}
	return hosts
}
