package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

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
// A warm-up (generate: false: request state prepared, no output) is
// answered here, with no upstream call: its context is remembered as a
// store: false response's is, under an id of breakerd's, so the turn that
// continues it carries it.
//
// Each stream_id is a lane: its responses are served in the order their
// response.create events came, the lanes at once, and each response's
// events carry its stream_id. At a shutdown (Options.Draining) a socket
// is closed with 1001 (going away) once the responses it holds are done,
// and a shutdown waits for that (Options.Detached).

// socketChains bounds the store: false chains a socket remembers.
const socketChains = 16

// socketChain is the context of a store: false response made on a socket
// (or a warm-up): its input and output items, in order, after the stored
// response it continued (previous, "" for none), which a continuation
// goes on naming.
type socketChain struct {
	id, previous string
	items        []json.RawMessage
}

// socketLanes bounds the stream_id lanes of a socket.
const socketLanes = 32

// socket is one client's WebSocket: its lanes (one per stream_id, each
// serving its responses in order, the lanes at once) and the store: false
// chains its responses made.
type socket struct {
	g      *Gateway
	conn   *websocket.Conn
	ctx    context.Context
	cancel context.CancelFunc
	up     *http.Request // the upgrade request: headers and address
	serve  http.HandlerFunc
	lanes  map[string]chan []byte
	wg     sync.WaitGroup // the lanes

	mu     sync.Mutex
	chains []socketChain
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
	ctx, cancel := context.WithCancel(r.Context())
	s := &socket{g: g, conn: conn, ctx: ctx, cancel: cancel, up: r, serve: g.serve(provider.Chat, provider.APIResponses),
		lanes: map[string]chan []byte{}}
	// The socket is read all along, not only between responses, so that
	// its pings are answered and a client that leaves mid-response ends
	// that response's upstream call.
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
		for _, lane := range s.lanes {
			close(lane) // each ends after what it holds (at once, if canceled)
		}
		s.wg.Wait()
		cancel()
		conn.CloseNow()
		<-read
	}()
	for {
		select {
		case msg, ok := <-msgs:
			if !ok {
				return
			}
			if !s.dispatch(msg) {
				return
			}
		case <-g.draining:
			for id, lane := range s.lanes { // the responses queued and in flight end first
				close(lane)
				delete(s.lanes, id)
			}
			s.wg.Wait()
			_ = conn.Close(websocket.StatusGoingAway, "breakerd is shutting down: reconnect")
			return
		}
	}
}

// dispatch queues a response.create on its stream_id's lane, or answers
// an event breakerd does not serve; false means the socket is gone.
func (s *socket) dispatch(msg []byte) bool {
	var ev struct {
		Type     string `json:"type"`
		StreamID string `json:"stream_id"`
	}
	what := ""
	switch err := json.Unmarshal(msg, &ev); {
	case err != nil:
		what = "the event is not a JSON object"
	case ev.Type != "response.create":
		what = fmt.Sprintf("the event type %q is not one breakerd serves (it serves response.create)", ev.Type)
	case s.lanes[ev.StreamID] == nil && len(s.lanes) >= socketLanes:
		what = fmt.Sprintf("a socket has at most %d stream_ids at once", socketLanes)
	}
	if what != "" {
		return socketError(s.ctx, s.conn, ev.StreamID, http.StatusBadRequest, "invalid_request_error", "", what) == nil
	}
	lane := s.lanes[ev.StreamID]
	if lane == nil {
		lane = make(chan []byte, 16)
		s.lanes[ev.StreamID] = lane
		s.wg.Go(func() {
			for msg := range lane {
				if s.ctx.Err() == nil && !s.respond(msg) {
					s.cancel() // the socket is gone: end the others too
				}
			}
		})
	}
	select {
	case lane <- msg:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// respond serves one response.create as a streamed Responses request,
// its events and any error going to the socket; false means the socket
// is gone.
func (s *socket) respond(msg []byte) bool {
	var ev struct {
		StreamID string `json:"stream_id"`
		Store    *bool  `json:"store"`
		Previous string `json:"previous_response_id"`
		Generate *bool  `json:"generate"`
		Model    string `json:"model"`
	}
	_ = json.Unmarshal(msg, &ev) // read once already
	s.mu.Lock()
	body, input, previous := socketRequest(msg, ev.Previous, s.chains)
	s.mu.Unlock()
	if ev.Generate != nil && !*ev.Generate {
		return s.warmUp(ev.StreamID, ev.Model, input, previous) == nil
	}
	sw := &socketWriter{ctx: s.ctx, conn: s.conn, streamID: ev.StreamID, header: http.Header{}}
	if ev.Store != nil && !*ev.Store {
		// Remembered before the client hears of it: its next turn, on
		// another lane, may come at once.
		sw.completed = func(resp json.RawMessage) {
			s.mu.Lock()
			s.chains = remember(s.chains, resp, input, previous)
			s.mu.Unlock()
		}
	}
	req, _ := http.NewRequestWithContext(s.ctx, http.MethodPost, s.up.URL.Path, bytes.NewReader(body))
	req.Header = s.up.Header.Clone()
	for _, h := range []string{"Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions"} {
		req.Header.Del(h)
	}
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength, req.RemoteAddr = int64(len(body)), s.up.RemoteAddr
	s.serve(sw, req)
	return sw.finish() == nil
}

// socketRequest turns a response.create event into a streamed Responses
// request, and returns the input it sends (the whole context when it
// continues a response the socket remembers) and the stored response it
// continues upstream ("" for none).
func socketRequest(msg []byte, previous string, chains []socketChain) ([]byte, []json.RawMessage, string) {
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(msg, &fields) // an object: read as one before
	delete(fields, "type")
	delete(fields, "stream_id")
	delete(fields, "generate")
	fields["stream"] = json.RawMessage("true")
	input := inputItems(fields["input"])
	if previous != "" {
		for _, c := range chains {
			if c.id == previous {
				input = append(append([]json.RawMessage{}, c.items...), input...)
				previous = c.previous
				if previous == "" {
					delete(fields, "previous_response_id")
				} else {
					fields["previous_response_id"], _ = json.Marshal(previous)
				}
				break
			}
		}
	}
	if input != nil {
		fields["input"], _ = json.Marshal(input)
	}
	body, _ := json.Marshal(fields)
	return body, input, previous
}

// warmUp answers a response.create with generate: false: a response with
// no output, made here, whose context (input, after the stored response
// previous) the socket remembers for the turn that continues it. An
// error means the socket is gone.
func (s *socket) warmUp(streamID, model string, input []json.RawMessage, previous string) error {
	switch {
	case model == "":
		return socketError(s.ctx, s.conn, streamID, http.StatusBadRequest, "invalid_request_error", "", "you must provide a model parameter")
	case !s.g.knows(model):
		return socketError(s.ctx, s.conn, streamID, http.StatusNotFound, "invalid_request_error", "model_not_found",
			fmt.Sprintf("The model `%s` does not exist", model))
	}
	id := "resp_warmup_" + rand.Text()
	resp := map[string]any{"id": id, "object": "response", "created_at": s.g.clock.Now().Unix(), "model": model,
		"status": "in_progress", "output": []any{}, "previous_response_id": nil}
	if previous != "" {
		resp["previous_response_id"] = previous
	}
	s.mu.Lock()
	s.chains = addChain(s.chains, socketChain{id: id, previous: previous, items: input})
	s.mu.Unlock()
	for i, typ := range []string{"response.created", "response.completed"} {
		if typ == "response.completed" {
			resp["status"] = "completed"
			resp["usage"] = map[string]int{"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
		}
		ev := map[string]any{"type": typ, "sequence_number": i, "response": resp}
		if streamID != "" {
			ev["stream_id"] = streamID
		}
		b, _ := json.Marshal(ev)
		if err := s.conn.Write(s.ctx, websocket.MessageText, b); err != nil {
			return err
		}
	}
	return nil
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
func remember(chains []socketChain, completed json.RawMessage, input []json.RawMessage, previous string) []socketChain {
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
	return addChain(chains, socketChain{id: resp.ID, previous: previous, items: items})
}

// addChain adds c to the socket's chains, the oldest forgotten past
// socketChains.
func addChain(chains []socketChain, c socketChain) []socketChain {
	chains = append(chains, c)
	if len(chains) > socketChains {
		chains = chains[1:]
	}
	return chains
}

// socketWriter is the ResponseWriter a response.create is served to: each
// event of the answer's stream goes to the socket as a message, with the
// event's stream_id; an error answer becomes an error event.
type socketWriter struct {
	ctx      context.Context
	conn     *websocket.Conn
	streamID string
	header   http.Header
	status   int
	body     bytes.Buffer // an answer that is not a stream: an error
	pending  []byte       // a stream's frames not yet whole
	err      error
	// completed, when set, is called with the response of
	// response.completed before the event goes to the socket.
	completed func(json.RawMessage)
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
	if s.completed != nil && json.Unmarshal(data, &ev) == nil && ev.Type == "response.completed" {
		s.completed(ev.Response)
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
