package dialect

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// A chat stream's calls of custom tools (sent as functions) reach the
// client as custom calls: the call's start with no input, then the
// input's text as it comes out of the function's arguments (an escape cut
// short waits for its rest), what is left before its choice's finish or
// the end of a stream that ends without one, and the whole input there
// when the arguments are not the function's. Function calls, and chunks
// without custom calls, pass as they came.
func TestCustomCallStream(t *testing.T) {
	delta := func(i int, d string) string {
		return `{"id":"c","created":1,"model":"m","choices":[{"index":` + string(rune('0'+i)) + `,"delta":` + d + `,"finish_reason":null}]}`
	}
	finish := func(i int) string {
		return `{"id":"c","created":1,"model":"m","choices":[{"index":` + string(rune('0'+i)) + `,"delta":{},"finish_reason":"tool_calls"}]}`
	}
	start := delta(0, `{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"apply_patch","arguments":""}}]}`)
	args := func(a string) string {
		return delta(0, `{"tool_calls":[{"index":0,"function":{"arguments":"`+a+`"}}]}`)
	}
	for _, tc := range []struct {
		name   string
		chunks []string
		want   []string // each chunk out holds its string, in order
	}{
		{"a custom call's input as it comes", []string{start, args(`{\"input\": `), args(`\"*** Be`), args(`gin\"}`), finish(0)},
			[]string{`"tool_calls":[{"custom":{"input":"","name":"apply_patch"},"id":"call_1","index":0,"type":"custom"}]`, `"delta":{}`,
				`"tool_calls":[{"custom":{"input":"*** Be"},"index":0}]`, `"tool_calls":[{"custom":{"input":"gin"},"index":0}]`, `"finish_reason":"tool_calls"`}},
		{"an escape cut short waits for its rest", []string{start, args(`{\"input\":\"a\\`), args(`nb\\u00`), args(`e9\"}`), finish(0)},
			[]string{`"type":"custom"`, `"custom":{"input":"a"}`, `"custom":{"input":"\nb"}`, `"custom":{"input":"\u00e9"}`, `"finish_reason":"tool_calls"`}},
		{"a raw line break in the arguments is escaped", []string{start, args(`{\"input\":\"a\nb\"}`), finish(0)},
			[]string{`"type":"custom"`, `"custom":{"input":"a\nb"}`, `"finish_reason":"tool_calls"`}},
		{"a stream that ends without its finish", []string{start, args(`{\"input\":\"x`)},
			[]string{`"type":"custom"`, `"custom":{"input":"x"}`}},
		{"arguments of another shape go whole at the end", []string{start, args(`[1]`), finish(0)},
			[]string{`"type":"custom"`, `"delta":{}`, `"custom":{"input":"[1]"}`, `"finish_reason":"tool_calls"`}},
		{"a function call beside it passes", []string{start,
			delta(0, `{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"search","arguments":"{\"q\":1}"}}]}`), finish(0)},
			[]string{`"type":"custom"`, `"function":{"name":"search","arguments":"{\"q\":1}"}`, `"finish_reason":"tool_calls"`}},
		{"no custom call", []string{delta(0, `{"content":"hi"}`), finish(0)}, []string{`{"content":"hi"}`, `"finish_reason":"tool_calls"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := CustomCallStream(&chunks{append([]string(nil), tc.chunks...)}, []string{"apply_patch"})
			var got []string
			for {
				b, err := s.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, string(b))
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d chunks, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Fatalf("chunk %d %s, want it to hold %s", i, got[i], w)
				}
			}
		})
	}
}

// A chat request's custom tools become functions of one string, its
// custom tool_choice the function's, an earlier custom call the
// function's call with its input as arguments; function tools stay.
func TestCustomAsFunctions(t *testing.T) {
	body := `{"model":"gpt","tools":[{"type":"function","function":{"name":"search"}},` +
		`{"type":"custom","custom":{"name":"apply_patch","format":{"type":"grammar","grammar":{"syntax":"regex","definition":"^\\*\\*\\*"}}}}],` +
		`"tool_choice":{"type":"custom","custom":{"name":"apply_patch"}},"messages":[{"role":"user","content":"fix"},` +
		`{"role":"assistant","tool_calls":[{"id":"call_1","type":"custom","custom":{"name":"apply_patch","input":"*** Begin"}}]},` +
		`{"role":"tool","tool_call_id":"call_1","content":"done"}]}`
	tr, err := CustomAsFunctions([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	chat := string(tr.Chat)
	for _, want := range []string{`{"function":{"name":"search"},"type":"function"}`, `"required":["input"]`, `regex grammar exactly`,
		`"tool_choice":{"function":{"name":"apply_patch"},"type":"function"}`, `"arguments":"{\"input\":\"*** Begin\"}"`, `"tool_call_id":"call_1"`} {
		if !strings.Contains(chat, want) {
			t.Fatalf("chat %s lacks %s", chat, want)
		}
	}
	if strings.Contains(chat, `"custom"`) || len(tr.Custom) != 1 || tr.Custom[0] != "apply_patch" {
		t.Fatalf("chat %s, custom %v", chat, tr.Custom)
	}
	if !HasCustomTools([]byte(body)) || HasCustomTools([]byte(`{"tools":[{"type":"function","function":{"name":"custom"}}]}`)) {
		t.Fatal("HasCustomTools is wrong")
	}
}

// An allowed_tools tool_choice becomes, for a model that does not take
// it, the allowed tools alone (functions and custom tools by name) and
// its mode; another tool_choice, or none, leaves the request as it is.
func TestAllowedToolsFitted(t *testing.T) {
	tools := `"tools":[{"type":"function","function":{"name":"f"}},{"type":"custom","custom":{"name":"patch"}},{"type":"function","function":{"name":"g"}}]`
	for _, tc := range []struct {
		name, body, want string
	}{
		{"required", `{` + tools + `,"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"g"}},{"type":"custom","custom":{"name":"patch"}}]}}}`,
			`{"tool_choice":"required","tools":[{"type":"custom","custom":{"name":"patch"}},{"type":"function","function":{"name":"g"}}]}`},
		{"auto", `{` + tools + `,"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function","function":{"name":"f"}}]}}}`,
			`{"tool_choice":"auto","tools":[{"type":"function","function":{"name":"f"}}]}`},
		{"another tool_choice", `{` + tools + `,"tool_choice":"required","note":"allowed_tools"}`, `{` + tools + `,"tool_choice":"required","note":"allowed_tools"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(AllowedToolsFitted([]byte(tc.body))); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
