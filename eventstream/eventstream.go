// Package eventstream reads and writes AWS's binary event stream
// (application/vnd.amazon.eventstream), the framing Amazon Bedrock's
// streaming APIs answer in: each message is a prelude (total and header
// lengths, with a CRC), typed headers, a payload and a CRC of the whole.
package eventstream

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// ContentType is the media type of an event stream.
const ContentType = "application/vnd.amazon.eventstream"

// Limits AWS sets on one message; a longer one is an error, not an
// allocation the stream's sender chooses.
const (
	MaxMessageLen = 16 << 20
	MaxHeadersLen = 128 << 10
)

// preludeLen is the prelude's (lengths and their CRC) size; a message
// also ends with a 4-byte CRC.
const preludeLen = 12

// Message is one event stream message: its string headers (":event-type",
// ":message-type", ...) and its payload. Headers of other types are read
// and left out.
type Message struct {
	Headers map[string]string
	Payload []byte
}

// Reader reads messages from an event stream.
type Reader struct {
	r   *bufio.Reader
	buf []byte
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader) *Reader { return &Reader{r: bufio.NewReader(r)} }

// ErrCorrupt is wrapped by the errors of a message whose lengths or CRCs
// are not valid.
var ErrCorrupt = errors.New("eventstream: corrupt message")

// Read returns the next message. It returns io.EOF at the end of the
// stream, and io.ErrUnexpectedEOF for a stream cut within a message. The
// message's payload is valid until the next Read.
func (r *Reader) Read() (Message, error) {
	var prelude [preludeLen]byte
	if _, err := io.ReadFull(r.r, prelude[:]); err != nil {
		return Message{}, err
	}
	total := binary.BigEndian.Uint32(prelude[0:4])
	hlen := binary.BigEndian.Uint32(prelude[4:8])
	switch {
	case crc32.ChecksumIEEE(prelude[:8]) != binary.BigEndian.Uint32(prelude[8:12]):
		return Message{}, fmt.Errorf("%w: prelude CRC mismatch", ErrCorrupt)
	case total > MaxMessageLen || hlen > MaxHeadersLen || uint64(hlen)+preludeLen+4 > uint64(total):
		return Message{}, fmt.Errorf("%w: lengths %d (headers %d) out of range", ErrCorrupt, total, hlen)
	}
	rest := int(total) - preludeLen
	if cap(r.buf) < rest {
		r.buf = make([]byte, rest)
	}
	buf := r.buf[:rest]
	if _, err := io.ReadFull(r.r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Message{}, err
	}
	crc := crc32.Update(crc32.ChecksumIEEE(prelude[:]), crc32.IEEETable, buf[:rest-4])
	if crc != binary.BigEndian.Uint32(buf[rest-4:]) {
		return Message{}, fmt.Errorf("%w: message CRC mismatch", ErrCorrupt)
	}
	headers, err := readHeaders(buf[:hlen])
	if err != nil {
		return Message{}, err
	}
	return Message{Headers: headers, Payload: buf[hlen : rest-4]}, nil
}

// valueLen is the size of each fixed-size header value type, by type;
// -1 for the types a 2-byte length leads (6: bytes, 7: string).
var valueLen = [10]int{0, 0, 1, 2, 4, 8, -1, -1, 8, 16}

// stringType is the header value type of a string.
const stringType = 7

func readHeaders(b []byte) (map[string]string, error) {
	h := map[string]string{}
	for len(b) > 0 {
		n := int(b[0])
		if len(b) < 1+n+1 {
			return nil, fmt.Errorf("%w: header cut short", ErrCorrupt)
		}
		name, typ := string(b[1:1+n]), b[1+n]
		b = b[2+n:]
		if int(typ) >= len(valueLen) {
			return nil, fmt.Errorf("%w: header %q has unknown type %d", ErrCorrupt, name, typ)
		}
		size := valueLen[typ]
		start := 0
		if size < 0 {
			if len(b) < 2 {
				return nil, fmt.Errorf("%w: header %q cut short", ErrCorrupt, name)
			}
			size, start = int(binary.BigEndian.Uint16(b)), 2
		}
		if len(b) < start+size {
			return nil, fmt.Errorf("%w: header %q cut short", ErrCorrupt, name)
		}
		if typ == stringType {
			h[name] = string(b[start : start+size])
		}
		b = b[start+size:]
	}
	return h, nil
}

// Header is one string header of a message to write.
type Header struct{ Name, Value string }

// Append appends the message with the string headers and payload to dst,
// and returns it.
func Append(dst []byte, headers []Header, payload []byte) []byte {
	hlen := 0
	for _, h := range headers {
		hlen += 1 + len(h.Name) + 1 + 2 + len(h.Value)
	}
	start := len(dst)
	dst = binary.BigEndian.AppendUint32(dst, uint32(preludeLen+hlen+len(payload)+4))
	dst = binary.BigEndian.AppendUint32(dst, uint32(hlen))
	dst = binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:]))
	for _, h := range headers {
		dst = append(dst, byte(len(h.Name)))
		dst = append(dst, h.Name...)
		dst = append(dst, stringType)
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(h.Value)))
		dst = append(dst, h.Value...)
	}
	dst = append(dst, payload...)
	return binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:]))
}
