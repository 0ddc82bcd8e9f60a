package provider

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func fieldsOf(obj string) (map[string]string, bool) {
	got := map[string]string{}
	ok := EachField([]byte(obj), func(k, v []byte) { got[string(k)] = string(v) })
	return got, ok
}

func TestEachField(t *testing.T) {
	for _, tc := range []struct {
		name, obj string
		want      map[string]string // nil: not a JSON object
	}{
		{"members in order, raw", `{"model":"m","stream":true,"n":1}`, map[string]string{"model": `"m"`, "stream": "true", "n": "1"}},
		{"nested values whole", ` { "messages" : [ {"a":"]}"} ] , "x" : {"y":[1,{"z":"\""}]} } `,
			map[string]string{"messages": `[ {"a":"]}"} ]`, "x": `{"y":[1,{"z":"\""}]}`}},
		{"escaped key decoded", `{"mod\u0065l":"m"}`, map[string]string{"model": `"m"`}},
		{"keys exact, not folded", `{"Model":"m"}`, map[string]string{"Model": `"m"`}},
		{"last duplicate wins", `{"model":"a","model":"b"}`, map[string]string{"model": `"b"`}},
		{"empty object", `{}`, map[string]string{}},
		{"literals", `{"a":null,"b":false,"c":-1.5e3}`, map[string]string{"a": "null", "b": "false", "c": "-1.5e3"}},
		{"array is not an object", `[]`, nil},
		{"null is not an object", `null`, nil},
		{"invalid JSON", `{"model":"m"`, nil},
		{"trailing garbage", `{"model":"m"} x`, nil},
		{"empty", ``, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := fieldsOf(tc.obj)
			if ok != (tc.want != nil) || (ok && !maps.Equal(got, tc.want)) {
				t.Fatalf("EachField(%s) = %v, %v; want %v", tc.obj, got, ok, tc.want)
			}
		})
	}
}

func TestEachElement(t *testing.T) {
	for _, tc := range []struct {
		name, arr string
		want      []string // nil: not a JSON array
	}{
		{"elements in order, raw", ` [ {"a":"]"} , 1,"x", [2,3] ] `, []string{`{"a":"]"}`, "1", `"x"`, "[2,3]"}},
		{"empty array", `[ ]`, []string{}},
		{"an object is not an array", `{}`, nil},
		{"unclosed", `[1,2`, nil},
		{"a missing element", `[1,,2]`, nil},
		{"trailing garbage", `[1] x`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := []string{}
			ok := EachElement([]byte(tc.arr), func(v []byte) { got = append(got, string(v)) })
			if ok != (tc.want != nil) || (ok && !slices.Equal(got, tc.want)) {
				t.Fatalf("EachElement(%s) = %q, %v; want %q", tc.arr, got, ok, tc.want)
			}
		})
	}
}

func TestSetField(t *testing.T) {
	for _, tc := range []struct {
		name, obj, key, value, want string
	}{
		{"replaces in place, keeping the rest byte for byte", `{ "messages": [1, 2],  "model" : "a", "n":1 }`, "model", `"b"`,
			`{ "messages": [1, 2],  "model" : "b", "n":1 }`},
		{"replaces the last duplicate", `{"model":"a","model":"b"}`, "model", `"c"`, `{"model":"a","model":"c"}`},
		{"adds a missing key", `{"n":1 }`, "model", `"b"`, `{"n":1,"model":"b"}`},
		{"adds to an empty object", `{ }`, "model", `"b"`, `{"model":"b"}`},
		{"escaped key replaced", `{"mod\u0065l":"a"}`, "model", `"b"`, `{"mod\u0065l":"b"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := SetField([]byte(tc.obj), tc.key, []byte(tc.value))
			if !ok || string(got) != tc.want {
				t.Fatalf("SetField = %s, %v; want %s", got, ok, tc.want)
			}
		})
	}
	if _, ok := SetField([]byte(`[1]`), "model", []byte(`"b"`)); ok {
		t.Fatal("SetField on an array reported success")
	}
}

// EachField agrees with encoding/json on every input: the same objects
// accepted, the same value for each key; SetField's result decodes to the
// same object with the key set.
func FuzzFields(f *testing.F) {
	for _, s := range []string{`{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}`,
		`{"a":{"b":[1,"]"]},"c":"\"\\"}`, `{"k\u0041":1,"kA":2}`, `{}`, `[]`, `null`, `{"a":1,}`, `{"a" 1}`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, obj string) {
		got, ok := fieldsOf(obj)
		var want map[string]json.RawMessage
		isObj := json.Unmarshal([]byte(obj), &want) == nil && strings.HasPrefix(strings.TrimLeft(obj, " \t\r\n"), "{")
		if ok != isObj {
			t.Fatalf("EachField(%q) ok = %v, encoding/json says object = %v", obj, ok, isObj)
		}
		if !ok {
			return
		}
		for k, v := range want {
			if utf8.ValidString(k) && !strings.Contains(k, "\uFFFD") && got[k] != string(v) {
				t.Fatalf("EachField(%q)[%q] = %q, encoding/json %q", obj, k, got[k], v)
			}
		}
		out, ok := SetField([]byte(obj), "model", []byte(`"set"`))
		var after map[string]json.RawMessage
		if !ok || json.Unmarshal(out, &after) != nil || !bytes.Equal(after["model"], []byte(`"set"`)) {
			t.Fatalf("SetField(%q) = %q, %v: not the object with model set", obj, out, ok)
		}
		for k, v := range want {
			if k != "model" && utf8.ValidString(k) && !strings.Contains(k, "\uFFFD") && !bytes.Equal(after[k], v) {
				t.Fatalf("SetField(%q) changed %q: %q -> %q", obj, k, v, after[k])
			}
		}
	})
}

// An answer's model and usage are read as json.Unmarshal into a struct
// of them reads them, and the answer is rejected where it is rejected.
var metaAnswers = []string{
	`{"choices":[{"message":{"content":"hi \"there\" {[","role":"assistant"}}],"model":"gpt-4o-mini","usage":{"completion_tokens":11,"prompt_tokens":6,"total_tokens":17}}`,
	`{"model":"m\u00e9 \"x\"","usage":{"input_tokens":3,"output_tokens":4}}`,
	"{\"model\":\"not \xff UTF-8\"}",
	`{"output":[{"type":"message"}],"usage":{"input_tokens":3,"output_tokens":4,"input_tokens_details":{"cached_tokens":1}}}`,
	`{"model":null,"usage":null}`,
	`{"model":"gpt-4o","usage":{"prompt_tokens":2000,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":1536,"audio_tokens":0}}}`,
	`{"type":"message","usage":{"input_tokens":12,"output_tokens":5,"cache_read_input_tokens":1000,"cache_creation_input_tokens":300}}`,
	`{"usage":{"prompt_tokens_details":null,"input_tokens_details":{"cached_tokens":null}}}`,
	`{"usage":{"prompt_tokens_details":{"cached_tokens":"1"}}}`,
	`{"usage":{"input_tokens_details":[]}}`,
	`{"usage":{"prompt_tokens":null,"completion_tokens":-2}}`,
	`{"model":"a","model":"b","usage":{"prompt_tokens":1},"usage":{"prompt_tokens":2}}`,
	`{}`,
	` { "model" : "spaced" , "usage" : { "prompt_tokens" : 7 } } `,
	`{"model":5}`,
	`{"usage":[]}`,
	`{"usage":{"prompt_tokens":6.5}}`,
	`{"usage":{"prompt_tokens":"6"}}`,
	`{"model":"m"`,
	`[]`,
	`null`,
	``,
}

func TestReadMetaReadsAsUnmarshal(t *testing.T) {
	for _, answer := range metaAnswers {
		readsAsUnmarshal(t, answer)
	}
}

func FuzzReadMeta(f *testing.F) {
	for _, answer := range metaAnswers {
		f.Add(answer)
	}
	f.Fuzz(readsAsUnmarshal)
}

// readsAsUnmarshal fails t unless readMeta reads answer as json.Unmarshal
// into a struct of the same fields does. An answer with a key that only
// case-folds to a field's name is not compared: json.Unmarshal matches it,
// readMeta (as the upstream APIs) does not.
func readsAsUnmarshal(t *testing.T, answer string) {
	got, ok := readMeta([]byte(answer))
	if strings.TrimSpace(answer) == "null" {
		if ok {
			t.Fatalf("%s: read as an answer", answer)
		}
		return // json.Unmarshal takes null as no change
	}
	var want struct {
		Model string `json:"model"`
		Usage struct {
			InputTokens         int `json:"input_tokens"`
			OutputTokens        int `json:"output_tokens"`
			PromptTokens        int `json:"prompt_tokens"`
			CompletionTokens    int `json:"completion_tokens"`
			CacheRead           int `json:"cache_read_input_tokens"`
			CacheWrite          int `json:"cache_creation_input_tokens"`
			PromptTokensDetails struct {
				CachedTokens int `json:"cached_tokens"`
			} `json:"prompt_tokens_details"`
			InputTokensDetails struct {
				CachedTokens int `json:"cached_tokens"`
			} `json:"input_tokens_details"`
		} `json:"usage"`
	}
	err := json.Unmarshal([]byte(answer), &want)
	folded := false
	names := []string{"model", "usage", "input_tokens", "output_tokens", "prompt_tokens", "completion_tokens",
		"cache_read_input_tokens", "cache_creation_input_tokens", "prompt_tokens_details", "input_tokens_details", "cached_tokens"}
	var keys func(obj []byte)
	keys = func(obj []byte) {
		EachField(obj, func(k, v []byte) {
			for _, n := range names {
				folded = folded || (string(k) != n && strings.EqualFold(string(k), n))
			}
			if strings.EqualFold(string(k), "usage") || strings.HasSuffix(strings.ToLower(string(k)), "_tokens_details") {
				keys(v)
			}
		})
	}
	keys([]byte(answer))
	if folded {
		return
	}
	if ok != (err == nil) {
		t.Fatalf("%s: read %t, json.Unmarshal error %v", answer, ok, err)
	}
	u := want.Usage
	if ok && got != (answerMeta{model: want.Model, input: u.InputTokens, output: u.OutputTokens, prompt: u.PromptTokens, completion: u.CompletionTokens,
		promptCached: u.PromptTokensDetails.CachedTokens, inputCached: u.InputTokensDetails.CachedTokens, cacheRead: u.CacheRead, cacheWrite: u.CacheWrite}) {
		t.Fatalf("%s: read %+v, json.Unmarshal %+v", answer, got, want)
	}
}

// An answer's rate-limit headers are read under OpenAI's or Anthropic's
// names, with the limit's size and when it is whole again: OpenAI's reset
// a duration, Anthropic's a time taken from the answer's Date. A count
// that is not a count, or repeated, is not taken.
func TestRemainingOf(t *testing.T) {
	const date = "Fri, 04 Dec 2026 00:30:00 GMT"
	for _, tc := range []struct {
		name string
		h    http.Header
		want Remaining
	}{
		{"OpenAI's", http.Header{"X-Ratelimit-Remaining-Requests": {"59"}, "X-Ratelimit-Remaining-Tokens": {"149984"},
			"X-Ratelimit-Limit-Requests": {"60"}, "X-Ratelimit-Limit-Tokens": {"150000"},
			"X-Ratelimit-Reset-Requests": {"1s"}, "X-Ratelimit-Reset-Tokens": {"6m0s"}},
			Remaining{Requests: RateLeft{Said: true, Left: 59, Limit: 60, Reset: time.Second},
				Tokens: RateLeft{Said: true, Left: 149984, Limit: 150000, Reset: 6 * time.Minute}}},
		{"OpenAI's, remaining only", http.Header{"X-Ratelimit-Remaining-Requests": {"59"}},
			Remaining{Requests: RateLeft{Said: true, Left: 59}}},
		{"reset in seconds", http.Header{"X-Ratelimit-Remaining-Tokens": {"7"}, "X-Ratelimit-Reset-Tokens": {"2.5"}},
			Remaining{Tokens: RateLeft{Said: true, Left: 7, Reset: 2500 * time.Millisecond}}},
		{"Anthropic's", http.Header{"Anthropic-Ratelimit-Requests-Remaining": {"0"}, "Anthropic-Ratelimit-Requests-Limit": {"50"},
			"Anthropic-Ratelimit-Requests-Reset": {"2026-12-04T00:30:42Z"}, "Date": {date}},
			Remaining{Requests: RateLeft{Said: true, Limit: 50, Reset: 42 * time.Second}}},
		{"a reset already past", http.Header{"Anthropic-Ratelimit-Tokens-Remaining": {"10"},
			"Anthropic-Ratelimit-Tokens-Reset": {"2026-12-04T00:29:00Z"}, "Date": {date}},
			Remaining{Tokens: RateLeft{Said: true, Left: 10}}},
		{"a reset that is not one", http.Header{"X-Ratelimit-Remaining-Requests": {"3"}, "X-Ratelimit-Reset-Requests": {"soon"}},
			Remaining{Requests: RateLeft{Said: true, Left: 3}}},
		{"a limit without what is left", http.Header{"X-Ratelimit-Limit-Requests": {"60"}}, Remaining{}},
		{"none", http.Header{"Content-Type": {"application/json"}}, Remaining{}},
		{"not a count", http.Header{"X-Ratelimit-Remaining-Requests": {"many"}, "X-Ratelimit-Remaining-Tokens": {"-1"}}, Remaining{}},
		{"repeated", http.Header{"X-Ratelimit-Remaining-Requests": {"1", "2"}}, Remaining{}},
	} {
		if got := remainingOf(tc.h); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// A parameter a provider knows by another name is sent under it; one set
// under both names keeps the provider's.
func TestRenamed(t *testing.T) {
	renames := map[string]string{"max_completion_tokens": "max_tokens"}
	for _, tc := range []struct{ name, body, want string }{
		{"renamed", `{"model":"m","max_completion_tokens":64}`, `{"max_tokens":64,"model":"m"}`},
		{"both: the provider's kept", `{"max_completion_tokens":64,"max_tokens":32}`, `{"max_tokens":32}`},
		{"nothing to rename: byte for byte", `{ "model" : "m", "max_tokens":8 }`, `{ "model" : "m", "max_tokens":8 }`},
	} {
		if got := string(renamed([]byte(tc.body), renames)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// A provider that takes some roles' content only as a string gets their
// text parts joined; other roles, and string content, are left as sent.
func TestFlattened(t *testing.T) {
	roles := []string{"tool", "assistant"}
	for _, tc := range []struct{ name, body, want string }{
		{"a tool result's parts joined",
			`{"messages":[{"role":"user","content":[{"type":"text","text":"q"}]},{"role":"tool","tool_call_id":"c","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],"model":"m"}`,
			`{"messages":[{"content":[{"type":"text","text":"q"}],"role":"user"},{"content":"a\nb","role":"tool","tool_call_id":"c"}],"model":"m"}`},
		{"strings: byte for byte", `{"messages":[{"role":"tool","content":"a"}]}`, `{"messages":[{"role":"tool","content":"a"}]}`},
	} {
		if got := string(flattened([]byte(tc.body), roles)); got != tc.want {
			t.Errorf("%s:\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}

// A provider that refuses fields of a message (Mistral's reasoning_content)
// gets the messages without them; a body without any is sent byte for
// byte, and a parameter of that name outside the messages is kept.
func TestWithoutMessageFields(t *testing.T) {
	fields := []string{"reasoning_content", "thinking_blocks"}
	for _, tc := range []struct{ name, body, want string }{
		{"an answer's reasoning sent back",
			`{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a","reasoning_content":"r","thinking_blocks":[{"type":"thinking"}]}],"model":"m"}`,
			`{"messages":[{"content":"q","role":"user"},{"content":"a","role":"assistant"}],"model":"m"}`},
		{"none: byte for byte", `{ "messages":[{"role":"user","content":"q"}] }`, `{ "messages":[{"role":"user","content":"q"}] }`},
		{"the name in text only: byte for byte", `{"messages":[{"role":"user","content":"what is \"reasoning_content\"?"}]}`, `{"messages":[{"role":"user","content":"what is \"reasoning_content\"?"}]}`},
	} {
		if got := string(WithoutMessageFields([]byte(tc.body), fields)); got != tc.want {
			t.Errorf("%s:\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}

// Gemini's thought signatures (a tool call's extra_content) are left out
// for an API that does not read them; a body without any is sent byte for
// byte.
func TestWithoutToolCallExtras(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"a signed call", `{"messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"},` +
			`"extra_content":{"google":{"thought_signature":"sig"}}}]}]}`,
			`{"messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":"{}"},"id":"c1","type":"function"}]}]}`},
		{"none: byte for byte", `{ "messages":[{"role":"assistant","tool_calls":[{"id":"c1"}]}] }`, `{ "messages":[{"role":"assistant","tool_calls":[{"id":"c1"}]}] }`},
		{"the name in text only: byte for byte", `{"messages":[{"role":"user","content":""extra_content""}]}`, `{"messages":[{"role":"user","content":""extra_content""}]}`},
	} {
		if got := string(WithoutToolCallExtras([]byte(tc.body))); got != tc.want {
			t.Errorf("%s:\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}

// A request's fields are its body's top-level members, read in place:
// the last of a duplicate key wins, as encoding/json has it, an escaped
// key is decoded, defaults fill what the body lacks, drops are left out,
// appending to a value copies it rather than writing into the body, and
// a body that is not a JSON object is an error.
func TestRequestFieldsReadInPlace(t *testing.T) {
	body := []byte(`{"model":"m","temperature":0.2,"temperature":0.5,"\u0074op_p":1,"seed":7,"messages":[]}`)
	r := &Request{Body: body, Defaults: map[string]json.RawMessage{"n": json.RawMessage(`2`), "seed": json.RawMessage(`9`)}, Drop: []string{"model"}}
	f, err := r.Fields()
	if err != nil {
		t.Fatal(err)
	}
	if string(f["temperature"]) != "0.5" || string(f["top_p"]) != "1" || string(f["n"]) != "2" || string(f["seed"]) != "7" || f["model"] != nil {
		t.Fatalf("fields %v", f)
	}
	was := string(body)
	_ = append(f["temperature"], "99"...)
	if string(body) != was {
		t.Fatalf("appending to a field wrote into the body: %s", body)
	}
	for _, bad := range []string{`[1]`, `{"a":}`, `null`, ``} {
		if _, err := (&Request{Body: []byte(bad)}).Fields(); err == nil {
			t.Errorf("Fields(%q): no error", bad)
		}
	}
}

// A chat request's tools name some unless absent, null or an empty list.
func TestHasTools(t *testing.T) {
	for raw, want := range map[string]bool{``: false, `null`: false, `[]`: false, ` [ ] `: false, `[{"type":"function"}]`: true, " [\n{}]": true} {
		if got := hasTools([]byte(raw)); got != want {
			t.Errorf("hasTools(%q) = %v, want %v", raw, got, want)
		}
	}
}
