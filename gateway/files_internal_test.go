package gateway

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/breakerd/breakerd/provider"
)

// The meter adds up the results' tokens however the bytes arrive (a byte
// at a time here), cache tokens counted as input, errored lines and a
// last line without a newline included, and reports once, at the end.
func TestResultsMeterCountsEveryLine(t *testing.T) {
	results := `{"custom_id":"a","result":{"type":"succeeded","message":{"usage":{"input_tokens":10,"output_tokens":5,"cache_read_input_tokens":100}}}}
{"custom_id":"b","result":{"type":"errored","error":{"type":"error"}}}

{"custom_id":"c","result":{"type":"succeeded","message":{"usage":{"input_tokens":1,"output_tokens":2,"cache_creation_input_tokens":7}}}}`
	var got []provider.Usage
	m := &resultsMeter{ReadCloser: io.NopCloser(iotest.OneByteReader(strings.NewReader(results))),
		ended: func(u provider.Usage) { got = append(got, u) }}
	relayed, err := io.ReadAll(m)
	if err != nil || string(relayed) != results {
		t.Fatalf("relayed %q, %v", relayed, err)
	}
	want := provider.Usage{InputTokens: 118, OutputTokens: 7, CacheReadTokens: 100, CacheWriteTokens: 7}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("reported %+v, want %+v once", got, want)
	}
}
