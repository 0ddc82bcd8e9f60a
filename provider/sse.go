package provider

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
)

// maxEventBytes bounds one server-sent event, so that an upstream that
// never ends a line cannot grow the gateway's memory without limit.
const maxEventBytes = 8 << 20

// errEventTooLarge reports an event over maxEventBytes.
var errEventTooLarge = fmt.Errorf("upstream stream event exceeds %d bytes", maxEventBytes)

// sseReader reads the data of server-sent events, as the WHATWG
// EventSource format defines them: lines end in LF or CRLF, an event ends
// at a blank line, its data lines are joined with LF, one space after
// "data:" is dropped, and comments, event:, id: and retry: lines carry
// nothing the gateway uses. OpenAI and Anthropic both stream this way.
type sseReader struct {
	r    *bufio.Reader
	data []byte
}

// sseBufferSize is a stream reader's buffer: a chat delta's line (a few
// hundred bytes) fits it, and a longer line is gathered past it (line),
// at the cost of a copy. It is small because a gateway holds thousands
// of streams at once, each with its buffer.
const sseBufferSize = 1 << 10

func newSSEReader(body io.Reader) sseReader {
	return sseReader{r: bufio.NewReaderSize(body, sseBufferSize)}
}

// next returns the data of the next event that has any. The slice is
// valid until the next call. At the stream's end it returns io.EOF, and
// the caller decides whether the stream was complete. Read errors are
// returned as they are. Unlike a browser, it dispatches complete data
// lines that the stream's end cuts off from their blank line: some
// servers end with "data: [DONE]\n" alone, and the caller validates the
// data anyway. A last line without its line ending is dropped.
func (s *sseReader) next() ([]byte, error) {
	s.data = s.data[:0]
	hasData := false
	for {
		line, err := s.line()
		if errors.Is(err, io.EOF) && hasData {
			return s.data, nil
		}
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			if hasData {
				return s.data, nil
			}
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		if string(field) != "data" { // also comments, whose field is empty
			continue
		}
		value, _ = bytes.CutPrefix(value, []byte(" "))
		if hasData {
			s.data = append(s.data, '\n')
		}
		if len(s.data)+len(value) > maxEventBytes {
			return nil, errEventTooLarge
		}
		s.data = append(s.data, value...)
		hasData = true
	}
}

// line returns the next line without its line ending.
func (s *sseReader) line() ([]byte, error) {
	line, err := s.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		// A line longer than the buffer: gather it, within the bound.
		long := bytes.Clone(line)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = s.r.ReadSlice('\n')
			if len(long)+len(line) > maxEventBytes {
				return nil, errEventTooLarge
			}
			long = append(long, line...)
		}
		line = long
	}
	if err != nil {
		return nil, err // a last line without its ending is an unfinished event
	}
	line = line[:len(line)-1]
	line, _ = bytes.CutSuffix(line, []byte("\r"))
	return line, nil
}

// streamReadError turns an error of sseReader.next into the provider's
// error: an end before the stream's last event is an unexpected EOF
// described by early, and a failed read is a transport error.
func streamReadError(ctx context.Context, err error, early string, redact func(string) string) error {
	switch {
	case errors.Is(err, io.EOF):
		return &Error{Err: io.ErrUnexpectedEOF, Message: early}
	case errors.Is(err, errEventTooLarge):
		return &Error{Err: err, Message: err.Error()}
	}
	return transportError(ctx, err, redact)
}
