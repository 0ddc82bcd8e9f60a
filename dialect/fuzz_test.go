package dialect

import (
	"encoding/json"
	"io"
	"testing"

	"github.com/breakerd/breakerd/provider"
)

// Any Messages or Responses request either translates to a chat request
// that is valid JSON, or is refused with a 400 naming what is wrong; it
// never panics.
func FuzzRequestTranslation(f *testing.F) {
	f.Add(`{"model":"c","max_tokens":5,"system":[{"type":"text","text":"s"}],"messages":[{"role":"user","content":[{"type":"text","text":"x"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA=="}}]},{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"r"}]}],"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"any"},"stream":true}`)
	f.Add(`{"model":"g","instructions":"i","input":[{"role":"user","content":[{"type":"input_text","text":"x"},{"type":"input_image","image_url":"https://x"}]},{"type":"function_call","call_id":"c","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c","output":"o"}],"tools":[{"type":"function","name":"f"},{"type":"web_search"}],"text":{"format":{"type":"json_schema","name":"n","schema":{}}},"previous_response_id":"r","stream":true}`)
	f.Add(`{"model":"g","input":"hi"}`)
	f.Add(`{"model":"c","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","title":"t","source":{"type":"base64","media_type":"application/pdf","data":"JVBE"}},{"type":"document","source":{"type":"text","media_type":"text/plain","data":"x"}},{"type":"document","source":{"type":"url","url":"https://x/a.pdf"}}]}]}`)
	f.Add(`{"model":"g","input":[{"role":"user","content":[{"type":"input_file","filename":"a.pdf","file_data":"data:application/pdf;base64,JVBE"},{"type":"input_file","file_id":"file-1"},{"type":"input_file","file_url":"https://x/a.pdf"}]}]}`)
	f.Add(`{"messages":[{"role":"user","content":[{"type":"hologram"}]}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		for name, translate := range map[string]func([]byte) (*Translated, *Error){"messages": MessagesToChat, "responses": ResponsesToChat} {
			tr, err := translate([]byte(body))
			if err != nil {
				if err.Status != 400 || err.Message == "" {
					t.Fatalf("%s: refused with %d %q", name, err.Status, err.Message)
				}
				continue
			}
			if !json.Valid(tr.Chat) {
				t.Fatalf("%s: translated to invalid JSON %s", name, tr.Chat)
			}
		}
		_, _ = ParseMessages([]byte(body))
		_, _ = ParseResponses([]byte(body), false)
	})
}

// chunks is a Stream of fixed chat chunks.
type chunks struct{ data []string }

func (c *chunks) Next() ([]byte, error) {
	if len(c.data) == 0 {
		return nil, io.EOF
	}
	d := c.data[0]
	c.data = c.data[1:]
	return []byte(d), nil
}
func (c *chunks) Usage() provider.Usage { return provider.Usage{} }
func (c *chunks) Close() error          { return nil }

// Any chat answer or chunk stream becomes Messages and Responses answers
// and events without a panic, and every event is JSON.
func FuzzAnswerTranslation(f *testing.F) {
	f.Add(`{"id":"c","choices":[{"message":{"content":"hi","tool_calls":[{"id":"t","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1}}`,
		`{"id":"c","choices":[{"delta":{"content":"a","tool_calls":[{"index":0,"id":"t","function":{"name":"f","arguments":"{"}}]},"finish_reason":"length"}],"usage":{"completion_tokens":3}}`)
	f.Add(`{"choices":[{"message":{"reasoning_content":"r","content":"a"}}]}`, `{"choices":[{"delta":{"reasoning":"r","content":"a"}}]}`)
	f.Add(`{}`, `{"choices":[]}`)
	f.Fuzz(func(t *testing.T, answer, chunk string) {
		tr := &Translated{Custom: []string{"f"}, Thinking: true, Encrypted: true}
		_, _ = ChatToMessage([]byte(answer), "m", tr)
		_, _ = ChatToResponse([]byte(answer), "m", tr)
		_ = CustomCalls([]byte(answer), tr.Custom)
		_ = SignaturesIntoIDs([]byte(answer))
		_ = SignaturesFromIDs([]byte(answer), true)
		_, _ = CustomAsFunctions([]byte(answer))
		_ = AllowedToolsFitted([]byte(answer))
		for _, s := range []provider.Stream{MessagesFrames(&chunks{[]string{chunk, chunk}}, "m", tr, 10), ResponsesFrames(&chunks{[]string{chunk, chunk}}, "m", tr),
			ChatFrames(&chunks{[]string{chunk}}), CustomCallStream(&chunks{[]string{chunk, chunk}}, []string{"f"}),
			SignatureIDStream(&chunks{[]string{chunk}})} {
			for n := 0; n < 1000; n++ {
				if _, err := s.Next(); err != nil {
					break
				}
			}
		}
	})
}
