package provider

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// jsonSamples are valid and invalid JSON at each branch of the scanner.
var jsonSamples = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e-3`, `-12.0E+7`, `true`, `false`, `null`, ` { "a" : [ 1 , {"b":null} ] } `,
	`{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}`,
	`"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"`, "\"not \xff UTF-8\"", `[[[[]]]]`, `{"a":{"b":{"c":{}}}}`,
	// invalid
	``, ` `, `{`, `}`, `[`, `]`, `{]`, `[}`, `{"a"}`, `{"a":}`, `{"a" 1}`, `{a:1}`, `{"a":1,}`, `[1,]`, `[,1]`, `{,}`,
	`01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `0x1`, `tru`, `truex`, `nul`, `True`, `"abc`, `"\x"`, `"\u12"`, `"\u12G4"`,
	"\"tab\tinside\"", "\"nul\x00\"", `1 2`, `{} {}`, `[1]]`, `{"a":1}}`, "\u00a0{}", `{"a":1}x`, `"\`,
}

func TestValidJSONAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range jsonSamples {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("validJSON(%q) = %v, json.Valid %v", s, got, want)
		}
	}
}

// The string scanner skips eight bytes at a time while none is special:
// a quote, a backslash or a control character at each place in a long
// string is found as the byte-wise scan finds it, beside bytes that are
// not ASCII (their top bit set, as the bit tricks' borrows are).
func TestValidJSONFindsEachSpecialByteInALongString(t *testing.T) {
	for _, special := range []string{`"`, `\\`, `\"`, `\n`, `\u00e9`, "\x00", "\x1f", "\t", "\x7f", "\x80", "\xff", " ", "!", "#", "[", "]", "\\"} {
		for at := range 20 {
			s := []byte(`"` + strings.Repeat("é", at/2) + strings.Repeat("a", at%2) + special + strings.Repeat("\xc3x ", 7) + `"`)
			if got, want := validJSON(s), json.Valid(s); got != want {
				t.Errorf("validJSON(%q) = %v, json.Valid %v", s, got, want)
			}
		}
	}
}

func TestValidJSONNestingLimit(t *testing.T) {
	for _, tc := range []struct {
		open, close string
		n           int // times open is repeated
		want        bool
	}{
		{"[", "]", maxDepth, true},
		{"[", "]", maxDepth + 1, false},
		{`{"a":`, "}", maxDepth, true},
		{`{"a":`, "}", maxDepth + 1, false},
		// Around the 64 levels the scanner keeps in one word.
		{"[", "]", 64, true},
		{"[", "]", 65, true},
		{`{"a":[`, "]}", 65, true}, // 130 levels, objects and arrays in turn
	} {
		s := []byte(strings.Repeat(tc.open, tc.n) + "1" + strings.Repeat(tc.close, tc.n))
		if got, std := validJSON(s), json.Valid(s); got != tc.want || std != tc.want {
			t.Errorf("%s repeated %d times: validJSON %v, json.Valid %v, want %v", tc.open, tc.n, got, std, tc.want)
		}
	}
	// Deep, then shallow again: the levels past 64 are restored.
	s := []byte(`[` + strings.Repeat(`[{"a":`, 40) + `1` + strings.Repeat(`}]`, 40) + `,{"b":2}]`)
	if !validJSON(s) {
		t.Errorf("validJSON rejected %s", s)
	}
	if bad := bytes.Replace(s, []byte(`}]`), []byte(`]}`), 1); validJSON(bad) {
		t.Errorf("validJSON accepted mismatched closers at depth 80")
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range jsonSamples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid %v", s, got, want)
		}
	})
}

// BenchmarkValidJSON compares the scanner with json.Valid on a chat
// request with a long prompt and on a whole chat answer.
func BenchmarkValidJSON(b *testing.B) {
	prompt, _ := json.Marshal(strings.Repeat("Summarise the following report in three bullet points. ", 200))
	for _, tc := range []struct{ name, doc string }{
		{"request_11KB", `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":` + string(prompt) + `}],"temperature":0.2,"stream":false}`},
		{"answer_342B", metaAnswers[0]},
	} {
		doc := []byte(tc.doc)
		b.Run(tc.name+"/json.Valid", func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				json.Valid(doc)
			}
		})
		b.Run(tc.name+"/validJSON", func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				validJSON(doc)
			}
		})
	}
}
