package gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
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

// A merged list is ordered by each item's time, whichever field and form
// it takes, newest first unless asked oldest first; ties keep their
// deployments' order.
func TestByTimeOrdersEveryKindOfItem(t *testing.T) {
	data := []json.RawMessage{
		json.RawMessage(`{"id":"file-2","created_at":200}`),
		json.RawMessage(`{"id":"chatcmpl-3","created":300}`),
		json.RawMessage(`{"id":"msgbatch_1","created_at":"1970-01-01T00:01:40Z"}`),
		json.RawMessage(`{"id":"chatcmpl-2b","created":200}`),
	}
	ids := func() string {
		var out []string
		for _, raw := range data {
			var v struct{ ID string }
			_ = json.Unmarshal(raw, &v)
			out = append(out, v.ID)
		}
		return strings.Join(out, " ")
	}
	byTime(data, false)
	if got, want := ids(), "chatcmpl-3 file-2 chatcmpl-2b msgbatch_1"; got != want {
		t.Fatalf("newest first: %s, want %s", got, want)
	}
	byTime(data, true)
	if got, want := ids(), "msgbatch_1 file-2 chatcmpl-2b chatcmpl-3"; got != want {
		t.Fatalf("oldest first: %s, want %s", got, want)
	}
}

// OpenAI's stored chat completions list oldest first unless asked
// otherwise, as OpenAI's does; the other lists newest first.
func TestListOrderDefaults(t *testing.T) {
	for _, tc := range []struct {
		obj   storedObject
		order string
		want  bool
	}{
		{storedChat, "", true},
		{storedChat, "desc", false},
		{storedChat, "asc", true},
		{storedFiles, "", false},
		{storedFiles, "asc", true},
		{storedMessageBatches, "", false},
	} {
		q := url.Values{}
		if tc.order != "" {
			q.Set("order", tc.order)
		}
		if got := oldestFirst(tc.obj, q); got != tc.want {
			t.Errorf("%s, order=%q: oldest first %v, want %v", tc.obj.collection, tc.order, got, tc.want)
		}
	}
}

// listAfter reads a deployment's list from its start, page after page,
// until it reaches the items that come after the cursor's in the merged
// order: those made later, and at the cursor's second those of a
// deployment later in scope.
func TestListAfterScansToTheCursorsPlace(t *testing.T) {
	const n = 250
	var items []json.RawMessage
	for i := range n { // oldest first, a second apart
		id := provider.EncodeChatCompletionID("openai", "y", fmt.Sprintf("chatcmpl-%d", i))
		items = append(items, json.RawMessage(fmt.Sprintf(`{"id":%q,"created":%d}`, id, 1000+i)))
	}
	var calls int
	call := func(_ *Deployment, after string, scan bool) (*provider.Response, error) {
		calls++
		start := 0
		if after != "" {
			start = slices.IndexFunc(items, func(raw json.RawMessage) bool {
				return strings.Contains(string(raw), provider.EncodeChatCompletionID("openai", "y", after))
			}) + 1
		}
		end := min(start+scanPage, n)
		page, _ := json.Marshal(listPage{Data: items[start:end], HasMore: end < n})
		return &provider.Response{Body: page}, nil
	}
	for _, tc := range []struct {
		name  string
		later bool
		first int // the first item after the cursor's
	}{
		{"a deployment after the cursor's: its items of the cursor's second too", true, 220},
		{"one before it: those made later only", false, 221},
	} {
		calls = 0
		cur := &listCursor{key: "after", t: 1220}
		out, err := (&Gateway{}).listAfter(storedChat, cur, tc.later, true, call, nil)
		if err != nil || len(out.Data) != n-tc.first || !strings.Contains(string(out.Data[0]), fmt.Sprintf(`"created":%d`, 1000+tc.first)) {
			t.Fatalf("%s: %d items from %.60s (%v), want %d from %d", tc.name, len(out.Data), out.Data, err, n-tc.first, tc.first)
		}
		if calls != 3 {
			t.Fatalf("%s: %d calls, want 3 pages of %d", tc.name, calls, scanPage)
		}
	}
}
