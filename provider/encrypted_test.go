package provider

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
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
	})
}
