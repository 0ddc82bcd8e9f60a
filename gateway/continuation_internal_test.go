package gateway

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/provider"
)

// notePartial keeps the text a client got as JSON string content, as it
// came (escapes and all), and stops at what a continuation cannot carry
// on from: a tool call, another choice, a finish, a chunk it cannot read.
func TestNotePartial(t *testing.T) {
	chunk := func(s string) []byte { return provider.Frame("", []byte(s)) }
	for _, tc := range []struct {
		name   string
		frames [][]byte
		text   string
		ok     bool
	}{
		{"text, escapes kept", [][]byte{chunk(`{"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`),
			chunk(`{"id":"c1","choices":[{"index":0,"delta":{"content":"say \"hi\"\n"}}]}`), chunk(`{"id":"c1","choices":[{"index":0,"delta":{"content":"é"}}]}`)},
			`say \"hi\"\né`, true},
		{"reasoning is not text", [][]byte{chunk(`{"choices":[{"index":0,"delta":{"reasoning_content":"hmm"}}]}`)}, ``, true},
		{"a tool call", [][]byte{chunk(`{"choices":[{"index":0,"delta":{"content":"a"}}]}`), chunk(`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0}]}}]}`)}, `a`, false},
		{"another choice", [][]byte{chunk(`{"choices":[{"index":1,"delta":{"content":"b"}}]}`)}, ``, false},
		{"a finish", [][]byte{chunk(`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`)}, ``, false},
		{"not JSON", [][]byte{chunk(`{"choices":`)}, ``, false},
		{"[DONE]", [][]byte{chunk(`[DONE]`)}, ``, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &call{}
			c.cont.ok = true
			for _, f := range tc.frames {
				if c.cont.ok {
					c.notePartial(f)
				}
			}
			if string(c.cont.text) != tc.text || c.cont.ok != tc.ok {
				t.Fatalf("text %q ok %v, want %q %v", c.cont.text, c.cont.ok, tc.text, tc.ok)
			}
			// The text, as kept, is a JSON string's content.
			var s string
			if err := json.Unmarshal([]byte(`"`+string(c.cont.text)+`"`), &s); err != nil {
				t.Fatalf("%q is no JSON string content: %v", c.cont.text, err)
			}
		})
	}
}

// A continuation's Responses events reach the client spliced into its
// response: its message into the client's open one, its created events
// and reasoning left out, anything else after the client's items (the
// client's message ended first), all numbered after the client's.
func TestResponsesSplice(t *testing.T) {
	ev := func(typ, rest string) []byte {
		return provider.Frame(typ, []byte(`{"type":"`+typ+`"`+rest+`}`))
	}
	created := func(id string, seq int) []byte {
		return ev("response.created", `,"sequence_number":`+strconv.Itoa(seq)+`,"response":{"id":"`+id+`","output":[]}`)
	}
	client := [][]byte{created("resp_client", 0),
		ev("response.output_item.added", `,"sequence_number":1,"output_index":0,"item":{"type":"message","id":"msg_client"}`),
		ev("response.content_part.added", `,"sequence_number":2,"output_index":0,"content_index":0,"item_id":"msg_client","part":{"type":"output_text","text":""}`),
		ev("response.output_text.delta", `,"sequence_number":3,"output_index":0,"content_index":0,"item_id":"msg_client","delta":"Hel"`)}
	for _, tc := range []struct {
		name   string
		client [][]byte
		cont   [][]byte
		want   []string // each event the client gets after the break: type seq output_index item_id [text]
		final  string   // the last event's response
	}{
		{"the continuation's message goes on in the client's", client, [][]byte{created("resp_other", 0),
			ev("response.output_item.added", `,"sequence_number":1,"output_index":0,"item":{"type":"reasoning","id":"rs_other"}`),
			ev("response.output_item.done", `,"sequence_number":2,"output_index":0,"item":{"type":"reasoning","id":"rs_other"}`),
			ev("response.output_item.added", `,"sequence_number":3,"output_index":1,"item":{"type":"message","id":"msg_other"}`),
			ev("response.content_part.added", `,"sequence_number":4,"output_index":1,"content_index":0,"item_id":"msg_other","part":{"type":"output_text"}`),
			ev("response.output_text.delta", `,"sequence_number":5,"output_index":1,"content_index":0,"item_id":"msg_other","delta":"lo"`),
			ev("response.output_text.done", `,"sequence_number":6,"output_index":1,"content_index":0,"item_id":"msg_other","text":"lo"`),
			ev("response.output_item.done", `,"sequence_number":7,"output_index":1,"item":{"type":"message","id":"msg_other","content":[{"type":"output_text","text":"lo"}]}`),
			ev("response.completed", `,"sequence_number":8,"response":{"id":"resp_other","output":[{"type":"reasoning","id":"rs_other"},{"type":"message","id":"msg_other","content":[{"type":"output_text","text":"lo"}]}]}`)},
			[]string{"response.output_text.delta 4 0 msg_client lo", "response.output_text.done 5 0 msg_client Hello",
				"response.output_item.done 6 0  Hello", "response.completed 7 -1 "},
			`{"id":"resp_client","output":[{"content":[{"text":"Hello","type":"output_text"}],"id":"msg_client","type":"message"}]}`},
		{"a call after the client's message, which ends first", client, [][]byte{created("resp_other", 0),
			ev("response.output_item.added", `,"sequence_number":1,"output_index":0,"item":{"type":"function_call","id":"fc_other"}`),
			ev("response.function_call_arguments.delta", `,"sequence_number":2,"output_index":0,"item_id":"fc_other","delta":"{}"`),
			ev("response.output_item.done", `,"sequence_number":3,"output_index":0,"item":{"type":"function_call","id":"fc_other"}`),
			ev("response.completed", `,"sequence_number":4,"response":{"id":"resp_other","output":[{"type":"function_call","id":"fc_other"}]}`)},
			[]string{"response.output_text.done 4 0 msg_client Hel", "response.content_part.done 5 0 msg_client", "response.output_item.done 6 0 ",
				"response.output_item.added 7 1 ", "response.function_call_arguments.delta 8 1 fc_other {}", "response.output_item.done 9 1 ", "response.completed 10 -1 "},
			`{"id":"resp_client","output":[{"content":[{"annotations":[],"logprobs":[],"text":"Hel","type":"output_text"}],"id":"msg_client","role":"assistant","status":"completed","type":"message"},{"id":"fc_other","type":"function_call"}]}`},
		{"a break before any item: the continuation's items are the client's", client[:1], [][]byte{created("resp_other", 0),
			ev("response.output_item.added", `,"sequence_number":1,"output_index":0,"item":{"type":"message","id":"msg_other"}`),
			ev("response.completed", `,"sequence_number":2,"response":{"id":"resp_other","output":[{"type":"message","id":"msg_other"}]}`)},
			[]string{"response.output_item.added 1 0 ", "response.completed 2 -1 "},
			`{"id":"resp_client","output":[{"id":"msg_other","type":"message"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &call{g: &Gateway{cfg: &config.Config{}}, api: provider.APIResponses}
			c.cont.ok = true
			for _, f := range tc.client {
				c.notePartial(f)
			}
			c.cont.midStream = true
			w := httptest.NewRecorder()
			for _, f := range tc.cont {
				if out := c.continued(w, f); out != nil {
					w.Write(out)
				}
			}
			var got []string
			var final json.RawMessage
			for _, frame := range strings.SplitAfter(w.Body.String(), "\n\n") {
				_, data, ok := splitFrame([]byte(frame))
				if !ok {
					continue
				}
				var e struct {
					Type     string          `json:"type"`
					Seq      int             `json:"sequence_number"`
					Output   *int            `json:"output_index"`
					ItemID   string          `json:"item_id"`
					Text     string          `json:"text"`
					Delta    string          `json:"delta"`
					Item     json.RawMessage `json:"item"`
					Response json.RawMessage `json:"response"`
				}
				if err := json.Unmarshal(data, &e); err != nil {
					t.Fatalf("%s: %v", data, err)
				}
				at := -1
				if e.Output != nil {
					at = *e.Output
				}
				var item struct {
					Content []struct{ Text string }
				}
				_ = json.Unmarshal(e.Item, &item)
				s := fmt.Sprintf("%s %d %d %s", e.Type, e.Seq, at, e.ItemID)
				switch {
				case e.Text != "" || e.Delta != "":
					s += " " + e.Text + e.Delta
				case len(item.Content) > 0 && item.Content[0].Text == "Hello":
					s += " Hello"
				}
				got = append(got, s)
				final = e.Response
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			var a, b any
			_ = json.Unmarshal(final, &a)
			_ = json.Unmarshal([]byte(tc.final), &b)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("last response %s, want %s", final, tc.final)
			}
		})
	}
}

// BenchmarkNotePartial is what reading a relayed event costs a stream
// that may be continued: a text delta of each API, read in place.
func BenchmarkNotePartial(b *testing.B) {
	for _, bc := range []struct {
		name  string
		api   provider.API
		start []byte
		delta []byte
	}{
		{"chat", provider.APIChat, nil,
			provider.Frame("", []byte(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"word "},"finish_reason":null}]}`))},
		{"messages", provider.APIMessages,
			provider.Frame("content_block_start", []byte(`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)),
			provider.Frame("content_block_delta", []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"word "}}`))},
		{"responses", provider.APIResponses,
			provider.Frame("response.output_item.added", []byte(`{"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"type":"message","id":"msg_1","status":"in_progress","role":"assistant","content":[]}}`)),
			provider.Frame("response.output_text.delta", []byte(`{"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"word ","logprobs":[]}`))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := &call{api: bc.api}
			c.cont.ok = true
			if bc.start != nil {
				c.notePartial(bc.start)
			}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if i%1024 == 0 {
					c.cont.text = c.cont.text[:0] // a long answer's text, kept from growing without bound here
				}
				c.notePartial(bc.delta)
			}
			if !c.cont.ok {
				b.Fatal("the delta ended continuing")
			}
		})
	}
}
