package provider

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

func TestEncryptedReasoningIsMarkedAndUnmarked(t *testing.T) {
	mark := encMark + base64.StdEncoding.EncodeToString([]byte("model_id:b")) + ";"
	tests := []struct {
		name, in, marked string
	}{
		{"a reasoning item's content", `{"output":[{"type":"reasoning","encrypted_content":"gAAA1"}]}`,
			`{"output":[{"type":"reasoning","encrypted_content":"` + mark + `gAAA1"}]}`},
		{"each of them, spaces around the colon", `[{"encrypted_content" : "x"},{"encrypted_content":"y"}]`,
			`[{"encrypted_content" : "` + mark + `x"},{"encrypted_content":"` + mark + `y"}]`},
		{"not null", `{"encrypted_content":null}`, `{"encrypted_content":null}`},
		{"not the include value that asks for it", `{"include":["reasoning.encrypted_content"]}`, `{"include":["reasoning.encrypted_content"]}`},
		{"not the words inside a string", `{"text":"say \"encrypted_content\":\"x\""}`, `{"text":"say \"encrypted_content\":\"x\""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := markEncrypted([]byte(tt.in), "b")
			if string(got) != tt.marked {
				t.Fatalf("marked\n%s\nwant\n%s", got, tt.marked)
			}
			if string(markEncrypted(got, "other")) != tt.marked {
				t.Fatalf("marked twice: %s", markEncrypted(got, "other"))
			}
			if at := EncryptedAt(got); (at != "b") != (tt.marked == tt.in) {
				t.Fatalf("EncryptedAt = %q", at)
			}
			back, d := UnmarkEncrypted(got)
			if string(back) != tt.in || (d != "b") != (tt.marked == tt.in) {
				t.Fatalf("unmarked %s, deployment %q", back, d)
			}
		})
	}
}

// Content a LiteLLM proxy marked routes too, to the latest reasoning's
// deployment.
func TestUnmarkEncryptedReadsLiteLLMsMarks(t *testing.T) {
	in := `{"input":[{"type":"reasoning","encrypted_content":"litellm_enc:bW9kZWxfaWQ6ZXUtZ3B0LTVv;gAAA1"},` +
		`{"type":"reasoning","encrypted_content":"litellm_enc:bW9kZWxfaWQ6dXMtZ3B0LTVv;gAAA2"}]}`
	out, d := UnmarkEncrypted([]byte(in))
	if d != "us-gpt-5o" || string(out) != `{"input":[{"type":"reasoning","encrypted_content":"gAAA1"},{"type":"reasoning","encrypted_content":"gAAA2"}]}` {
		t.Fatalf("%s %q", out, d)
	}
	if out, d := UnmarkEncrypted([]byte(`{"encrypted_content":"litellm_enc:not base64!;x"}`)); d != "" || string(out) != `{"encrypted_content":"litellm_enc:not base64!;x"}` {
		t.Fatalf("a broken mark: %s %q", out, d)
	}
	long := strings.Repeat("a-deployment-with-a-long-model-info-id/", 8)
	if _, d := UnmarkEncrypted(markEncrypted([]byte(`{"encrypted_content":"x"}`), long)); d != long {
		t.Fatalf("a long name's mark read as %q", d)
	}
}

// A deployment gets the content its account made unmarked, and the
// reasoning items another made left out (it could not read them); a
// compaction another made, the conversation itself, makes the request
// one it cannot take.
func TestEncryptedFor(t *testing.T) {
	mark := func(d string) string {
		return encMark + base64.StdEncoding.EncodeToString([]byte(encDeployTag+d)) + ";"
	}
	reasoning := func(d, c string) string {
		return `{"type":"reasoning","id":"rs_` + c + `","summary":[],"encrypted_content":"` + mark(d) + c + `"}`
	}
	user := `{"role":"user","content":"go on"}`
	for _, tc := range []struct {
		name, body, want, foreign string
		dropped                   int
	}{
		{"its own, unmarked", `{"model":"m","input":[` + reasoning("a", "x") + `,` + user + `]}`,
			`{"model":"m","input":[{"type":"reasoning","id":"rs_x","summary":[],"encrypted_content":"x"},` + user + `]}`, "", 0},
		{"another's reasoning left out, its own kept", `{"model":"m","input":[` + reasoning("b", "y") + `,` + reasoning("a", "x") + `,` + user + `]}`,
			`{"model":"m","input":[{"type":"reasoning","id":"rs_x","summary":[],"encrypted_content":"x"},` + user + `]}`, "", 1},
		{"its account's, read", `{"model":"m","input":[` + reasoning("a2", "z") + `]}`,
			`{"model":"m","input":[{"type":"reasoning","id":"rs_z","summary":[],"encrypted_content":"z"}]}`, "", 0},
		{"another's compaction: not for it", `{"model":"m","input":[{"type":"compaction","encrypted_content":"` + mark("b") + `c"},` + user + `]}`, "", "compaction", 0},
		{"nothing marked", `{"model":"m","input":"hi"}`, `{"model":"m","input":"hi"}`, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, dropped, foreign := EncryptedFor([]byte(tc.body), func(d string) bool { return d == "a" || d == "a2" })
			if string(out) != tc.want || dropped != tc.dropped || foreign != tc.foreign {
				t.Fatalf("got %s, %d dropped, foreign %q; want %s, %d, %q", out, dropped, foreign, tc.want, tc.dropped, tc.foreign)
			}
		})
	}
}

// Whatever JSON an upstream answers, marking its encrypted reasoning and
// taking the marks off gives it back, still valid.
func FuzzEncryptedMarks(f *testing.F) {
	for _, s := range []string{`{"output":[{"type":"reasoning","encrypted_content":"gAAA1"}]}`,
		`{"encrypted_content" :"a\"b"}`, `{"a":"\\\"encrypted_content\":\"x"}`, `{"encrypted_content":"litellm_enc:x;y"}`, `[]`} {
		f.Add(s, "b")
	}
	f.Fuzz(func(t *testing.T, in, deployment string) {
		if !json.Valid([]byte(in)) || bytes.Contains([]byte(in), []byte(encMark)) {
			return
		}
		marked := markEncrypted([]byte(in), deployment)
		if !json.Valid(marked) {
			t.Fatalf("marking %s made invalid JSON: %s", in, marked)
		}
		back, d := UnmarkEncrypted(marked)
		if string(back) != in {
			t.Fatalf("%s came back as %s", in, back)
		}
		if string(marked) != in && d != deployment {
			t.Fatalf("the marks name %q, not %q", d, deployment)
		}
		// Its own deployment gets it back unmarked; another gets valid
		// JSON without marks (what it could not read left out), or
		// nothing.
		if own, _, _ := EncryptedFor(marked, func(x string) bool { return x == deployment }); string(own) != in {
			t.Fatalf("its own deployment got %s for %s", own, in)
		}
		other, _, _ := EncryptedFor(marked, func(x string) bool { return x != deployment })
		if other != nil && (!json.Valid(other) || bytes.Contains(other, []byte(encMark))) {
			t.Fatalf("another deployment got %s for %s", other, in)
		}
	})
}

// BenchmarkEncryptedFor is what a Codex turn's body costs to fit to a
// deployment: 40 turns of a session (about 210 KB), each with its
// reasoning encrypted at deployment a, for a (marks off) and for b (the
// reasoning left out).
func BenchmarkEncryptedFor(b *testing.B) {
	mark := encMark + base64.StdEncoding.EncodeToString([]byte(encDeployTag+"a")) + ";"
	var items []string
	for i := range 40 {
		items = append(items, `{"type":"reasoning","id":"rs_`+strconv.Itoa(i)+`","summary":[],"encrypted_content":"`+mark+strings.Repeat("gAAAAB", 500)+`"}`,
			`{"role":"user","content":"`+strings.Repeat("step ", 400)+`"}`)
	}
	body := []byte(`{"model":"gpt-5.1-codex","store":false,"include":["reasoning.encrypted_content"],"input":[` + strings.Join(items, ",") + `]}`)
	for _, bc := range []struct {
		name  string
		reads func(string) bool
	}{{"its_deployment", func(d string) bool { return d == "a" }}, {"another", func(d string) bool { return d == "b" }}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if out, _, _ := EncryptedFor(body, bc.reads); out == nil {
					b.Fatal("no body")
				}
			}
		})
	}
}
