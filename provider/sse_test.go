package provider

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// events reads every event's data until the reader fails.
func events(r io.Reader) ([]string, error) {
	s := newSSEReader(r)
	var got []string
	for {
		data, err := s.next()
		if err != nil {
			return got, err
		}
		got = append(got, string(data))
	}
}

func TestSSEReaderFollowsTheEventStreamFormat(t *testing.T) {
	long := strings.Repeat("x", 200<<10) // longer than the read buffer
	tests := []struct {
		name   string
		stream string
		want   []string
	}{
		{"one event per blank line", "data: a\n\ndata: b\n\n", []string{"a", "b"}},
		{"CRLF line endings", "data: a\r\n\r\ndata: b\r\n\r\n", []string{"a", "b"}},
		{"data lines of one event joined with LF", "data: {\"a\":\ndata: 1}\n\n", []string{"{\"a\":\n1}"}},
		{"only one space after the colon is dropped", "data:a\n\ndata:  b\n\n", []string{"a", " b"}},
		{"comments and other fields ignored", ": ping\nevent: message_start\nid: 7\nretry: 10\ndata: a\n\n", []string{"a"}},
		{"an event without data is skipped", "event: ping\n\n\n\ndata: a\n\n", []string{"a"}},
		{"a complete last line without its blank line is dispatched", "data: a\n\ndata: [DONE]\n", []string{"a", "[DONE]"}},
		{"a last line without its line ending is dropped", "data: a\n\ndata: [DO", []string{"a"}},
		{"a line longer than the buffer is read whole", "data: " + long + "\n\n", []string{long}},
		{"an empty stream has no events", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One byte per read too, so that no case depends on how the
			// stream happens to be split.
			for _, r := range []io.Reader{strings.NewReader(tt.stream), iotest.OneByteReader(strings.NewReader(tt.stream))} {
				got, err := events(r)
				if !errors.Is(err, io.EOF) {
					t.Fatalf("err = %v, want io.EOF", err)
				}
				if len(got) != len(tt.want) {
					t.Fatalf("got %d events, want %d", len(got), len(tt.want))
				}
				for i := range got {
					if got[i] != tt.want[i] {
						t.Errorf("event %d = %.40q, want %.40q", i, got[i], tt.want[i])
					}
				}
			}
		})
	}
}

func TestSSEReaderBoundsAnEvent(t *testing.T) {
	tests := []struct {
		name   string
		stream string
	}{
		{"one endless line", "data: " + strings.Repeat("x", maxEventBytes) + "\n\n"},
		{"many lines of one event", strings.Repeat("data: "+strings.Repeat("x", 1<<20)+"\n", 9) + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := events(strings.NewReader(tt.stream)); !errors.Is(err, errEventTooLarge) {
				t.Fatalf("err = %v, want errEventTooLarge", err)
			}
		})
	}
}

func TestSSEReaderReturnsReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("data: a\n\ndata: b"), iotest.ErrReader(boom))
	got, err := events(r)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the read error", err)
	}
	if len(got) != 1 || got[0] != "a" {
		t.Fatalf("events before the error = %q, want [a]", got)
	}
}
