package eventstream_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"testing"
	"time"

	aws "github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/breakerd/breakerd/eventstream"
)

// The AWS SDK's own codec is the reference: what it writes, Reader reads,
// and what Append writes, it reads.

func TestReaderReadsWhatTheAWSSDKWrites(t *testing.T) {
	var stream bytes.Buffer
	enc := aws.NewEncoder()
	msgs := []aws.Message{
		{Headers: aws.Headers{
			{Name: ":event-type", Value: aws.StringValue("chunk")},
			{Name: ":content-type", Value: aws.StringValue("application/json")},
			{Name: ":message-type", Value: aws.StringValue("event")},
		}, Payload: []byte(`{"bytes":"eyJ0eXBlIjoicGluZyJ9"}`)},
		// Every other header type, which Reader skips over.
		{Headers: aws.Headers{
			{Name: "b", Value: aws.BoolValue(true)},
			{Name: "f", Value: aws.BoolValue(false)},
			{Name: "i8", Value: aws.Int8Value(-3)},
			{Name: "i16", Value: aws.Int16Value(300)},
			{Name: "i32", Value: aws.Int32Value(70000)},
			{Name: "i64", Value: aws.Int64Value(1 << 40)},
			{Name: "bytes", Value: aws.BytesValue([]byte{1, 2, 3})},
			{Name: "ts", Value: aws.TimestampValue(time.Unix(1700000000, 0))},
			{Name: "uuid", Value: aws.UUIDValue{1, 2, 3}},
			{Name: ":message-type", Value: aws.StringValue("exception")},
		}, Payload: []byte(`{"message":"slow down"}`)},
		{}, // no headers, no payload
	}
	for _, m := range msgs {
		if err := enc.Encode(&stream, m); err != nil {
			t.Fatal(err)
		}
	}
	r := eventstream.NewReader(&stream)
	want := []eventstream.Message{
		{Headers: map[string]string{":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"},
			Payload: []byte(`{"bytes":"eyJ0eXBlIjoicGluZyJ9"}`)},
		{Headers: map[string]string{":message-type": "exception"}, Payload: []byte(`{"message":"slow down"}`)},
		{Headers: map[string]string{}, Payload: []byte{}},
	}
	for i, w := range want {
		got, err := r.Read()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !equalHeaders(got.Headers, w.Headers) || !bytes.Equal(got.Payload, w.Payload) {
			t.Errorf("message %d = %v %q, want %v %q", i, got.Headers, got.Payload, w.Headers, w.Payload)
		}
	}
	if _, err := r.Read(); err != io.EOF {
		t.Errorf("after the last message: %v, want io.EOF", err)
	}
}

func TestTheAWSSDKReadsWhatAppendWrites(t *testing.T) {
	var stream []byte
	stream = eventstream.Append(stream, []eventstream.Header{{":event-type", "chunk"}, {":message-type", "event"}}, []byte(`{"bytes":"e30="}`))
	stream = eventstream.Append(stream, nil, nil)
	dec := aws.NewDecoder()
	r := bytes.NewReader(stream)
	m, err := dec.Decode(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Headers.Get(":event-type").String() != "chunk" || m.Headers.Get(":message-type").String() != "event" ||
		string(m.Payload) != `{"bytes":"e30="}` {
		t.Errorf("decoded %v %q", m.Headers, m.Payload)
	}
	if m, err = dec.Decode(r, nil); err != nil || len(m.Headers) != 0 || len(m.Payload) != 0 {
		t.Errorf("empty message decoded as %v %q, %v", m.Headers, m.Payload, err)
	}
}

func TestBrokenStreamsAreErrors(t *testing.T) {
	good := eventstream.Append(nil, []eventstream.Header{{":message-type", "event"}}, []byte("payload"))
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x40
		return b
	}
	tests := []struct {
		name   string
		stream []byte
		want   error
	}{
		{"a length that does not match its CRC", flip(2), eventstream.ErrCorrupt},
		{"a payload that does not match the message CRC", flip(len(good) - 6), eventstream.ErrCorrupt},
		{"a stream cut within the prelude", good[:5], io.ErrUnexpectedEOF},
		{"a stream cut within the message", good[:len(good)-3], io.ErrUnexpectedEOF},
		{"a header of an unknown type", frame([]byte{1, 'x', 12}, nil), eventstream.ErrCorrupt},
		{"a header longer than the headers", frame([]byte{1, 'x', 7, 0, 9, 'a'}, nil), eventstream.ErrCorrupt},
		{"an empty stream", nil, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := eventstream.NewReader(bytes.NewReader(tt.stream)).Read()
			if !errors.Is(err, tt.want) {
				t.Errorf("Read: %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMessagesLongerThanAWSAllowsAreRefused(t *testing.T) {
	// A prelude that claims 32 MB, with a valid CRC: refused before any
	// buffer of that size is made.
	prelude := binary.BigEndian.AppendUint32(nil, 32<<20)
	prelude = binary.BigEndian.AppendUint32(prelude, 0)
	prelude = binary.BigEndian.AppendUint32(prelude, crc32.ChecksumIEEE(prelude))
	if _, err := eventstream.NewReader(bytes.NewReader(prelude)).Read(); !errors.Is(err, eventstream.ErrCorrupt) {
		t.Errorf("Read of a 32 MB message: %v, want ErrCorrupt", err)
	}
}

// frame is a message with raw header bytes, its lengths and CRCs valid.
func frame(headers, payload []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(12+len(headers)+len(payload)+4))
	b = binary.BigEndian.AppendUint32(b, uint32(len(headers)))
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	b = append(append(b, headers...), payload...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

func equalHeaders(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
