package provider

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/breakerd/breakerd/eventstream"
)

// A SageMaker endpoint whose container serves OpenAI's chat API (TGI's
// and LMI's Messages API) takes chat requests as they are at its
// invocations, signed with an AWS key; a stream goes to
// invocations-response-stream, whose answer is AWS's event stream, each
// PayloadPart event holding the next bytes of the container's own SSE
// stream, cut anywhere.

// payloadStream reads a SageMaker event stream as the bytes its
// PayloadPart events carry (each its message's payload, raw); an exception (ModelStreamError,
// InternalStreamFailure) is an error of the stream.
type payloadStream struct {
	body io.ReadCloser
	msgs *eventstream.Reader
	rest []byte
	err  error
}

func newPayloadStream(body io.ReadCloser) *payloadStream {
	return &payloadStream{body: body, msgs: eventstream.NewReader(body)}
}

func (s *payloadStream) Close() error { return s.body.Close() }

func (s *payloadStream) Read(p []byte) (int, error) {
	for len(s.rest) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		msg, err := s.msgs.Read()
		if err != nil {
			s.err = err
			continue
		}
		switch msg.Headers[":message-type"] {
		case "event":
			if msg.Headers[":event-type"] != "PayloadPart" {
				continue
			}
			// The part's bytes are the payload, as they are, valid until
			// the next message is read: once they are all read.
			s.rest = msg.Payload
		case "exception", "error":
			var e struct {
				Message  string `json:"Message"`
				MessageL string `json:"message"`
			}
			_ = json.Unmarshal(msg.Payload, &e)
			s.err = fmt.Errorf("sagemaker stream: %s: %s", msg.Headers[":exception-type"]+msg.Headers[":error-code"], e.Message+e.MessageL)
		}
	}
	n := copy(p, s.rest)
	s.rest = s.rest[n:]
	return n, nil
}

// containerMessage is what a SageMaker container's error answer says: an
// OpenAI-style {"error": {"message"}}, TGI's {"error": "..."}, or the
// answer as it is.
func containerMessage(answer string) string {
	var openai struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	var tgi struct {
		Error string `json:"error"`
	}
	switch {
	case json.Unmarshal([]byte(answer), &openai) == nil && openai.Error.Message != "":
		return openai.Error.Message
	case json.Unmarshal([]byte(answer), &tgi) == nil && tgi.Error != "":
		return tgi.Error
	}
	return strings.TrimSpace(answer)
}
