package provider

import (
	"bytes"
	"io"
	"mime/multipart"
	"strings"
	"testing"
)

// Whatever form a client sends, the model is the only part that changes
// (or is added, to a form without one): the file and the other fields
// reach the upstream as sent; a body that is not such a form is an error,
// never a panic.
func FuzzMultipartModel(f *testing.F) {
	f.Add("whisper", "RIFF audio bytes", "srt", "gpt-4o-transcribe", true)
	f.Add("", "", "", "m", true)
	f.Add("m\r\n--x", "--boundary\r\n", "json", "model with spaces", true)
	f.Add("", "PNG bytes", "b64_json", "dall-e-2", false)
	f.Fuzz(func(t *testing.T, model, file, format, replacement string, withModel bool) {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		if withModel {
			_ = w.WriteField("model", model)
		}
		fw, _ := w.CreateFormFile("file", "a.wav")
		_, _ = fw.Write([]byte(file))
		_ = w.WriteField("response_format", format)
		_ = w.Close()
		out, err := MultipartWithField(body.Bytes(), w.FormDataContentType(), "model", replacement)
		if err != nil {
			t.Fatalf("a form the standard library wrote: %v", err)
		}
		fields, hasFile, err := FormFields(out, w.FormDataContentType(), "file", "model", "response_format")
		if len(format) > 1<<10 {
			format = format[:1<<10] // FormFields reads a field's first KB: a model name, not a file
		}
		if len(replacement) > 1<<10 {
			replacement = replacement[:1<<10]
		}
		if err != nil || !hasFile || fields["model"] != replacement || fields["response_format"] != format {
			t.Fatalf("fields %q, file %v, err %v", fields, hasFile, err)
		}
		r := multipart.NewReader(bytes.NewReader(out), w.Boundary())
		for {
			p, err := r.NextPart()
			if err != nil {
				break
			}
			if p.FormName() == "file" {
				if got, _ := io.ReadAll(p); string(got) != file {
					t.Fatalf("the file became %q", got)
				}
			}
		}
		_, _ = MultipartWithField([]byte(file), format, "model", replacement) // any bytes: an error or a form, no panic
	})
}

// A batch file's request lines name the model as the deployment knows it:
// lines for a renamed model change their body's model and nothing else;
// any other line (another model, not JSON, too long to hold, the last
// one without a newline), the other parts and the form's framing arrive
// byte for byte.
func TestBatchModelsRenamesOnlyRequestModels(t *testing.T) {
	long := `{"custom_id":"big","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-batch","messages":[{"role":"user","content":"` +
		strings.Repeat("x", maxBatchLine+1<<20) + `"}]}}` + "\n"
	lines := []struct{ in, want string }{
		{`{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-batch","messages":[]}}` + "\n",
			`{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini-eu","messages":[]}}` + "\n"},
		{`{"custom_id":"b", "body": {"messages": [], "model": "gpt-4o-batch"}}` + "\r\n",
			`{"custom_id":"b", "body": {"messages": [], "model": "gpt-4o-mini-eu"}}` + "\r\n"},
		{`{"custom_id":"c","body":{"model":"other"}}` + "\n", `{"custom_id":"c","body":{"model":"other"}}` + "\n"},
		{"not json at all\n", "not json at all\n"},
		{long, long},
		{`{"custom_id":"z","body":{"model":"gpt-4o-batch"}}`, `{"custom_id":"z","body":{"model":"gpt-4o-mini-eu"}}`},
	}
	var in, want strings.Builder
	for _, l := range lines {
		in.WriteString(l.in)
		want.WriteString(l.want)
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("purpose", "batch")
	fw, _ := w.CreateFormFile("file", "requests.jsonl")
	_, _ = fw.Write([]byte(in.String()))
	_ = w.WriteField("expires_after[seconds]", "3600")
	_ = w.Close()

	rc, err := BatchModels(&body, w.FormDataContentType(), map[string]string{"gpt-4o-batch": "gpt-4o-mini-eu"})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	r := multipart.NewReader(rc, w.Boundary())
	got := map[string]string{}
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(part)
		got[part.FormName()] = string(b)
	}
	if got["file"] != want.String() {
		t.Errorf("file differs at byte %d", firstDiff(got["file"], want.String()))
	}
	if got["purpose"] != "batch" || got["expires_after[seconds]"] != "3600" {
		t.Errorf("fields = %q, %q", got["purpose"], got["expires_after[seconds]"])
	}
	if _, err := BatchModels(strings.NewReader("x"), "application/json", nil); err == nil {
		t.Error("a body that is not a form was taken")
	}
}

func firstDiff(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// Whatever a batch file's line holds, its rewrite never panics, changes
// nothing but a request's model, and keeps the line's end.
func FuzzBatchLineModel(f *testing.F) {
	f.Add(`{"custom_id":"a","body":{"model":"m","messages":[]}}` + "\n")
	f.Add(`{"body":{"model":"m"}}`)
	f.Add(`{"body":{"model":"other"}}` + "\r\n")
	f.Add(`{"body":"m"}`)
	f.Add(`{"body":{"model":1}}`)
	f.Add("{\"body\":{\"model\":\"m\\u0022\"}}\n")
	f.Add("not json\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, line string) {
		out := string(batchLineModel([]byte(line), map[string]string{"m": "deployment-m"}))
		if out == line {
			return
		}
		if !strings.HasSuffix(out, line[len(strings.TrimRight(line, "\r\n")):]) {
			t.Fatalf("%q became %q: its end changed", line, out)
		}
		if strings.Replace(out, `"deployment-m"`, `"m"`, 1) != line {
			t.Fatalf("%q became %q: more than the model changed", line, out)
		}
	})
}

// Whatever a client uploads, the rewrite of its form ends (the pipe gives
// its bytes or an error, never hangs), and a form the standard library
// wrote keeps every part.
func FuzzBatchModelsForm(f *testing.F) {
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jsonl\"\r\n\r\n{\"body\":{\"model\":\"m\"}}\n\r\n--b--\r\n"))
	f.Add([]byte("--b\r\n\r\n"))
	f.Add([]byte("garbage"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		rc, err := BatchModels(bytes.NewReader(body), "multipart/form-data; boundary=b", map[string]string{"m": "x"})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.ReadAll(rc) // must return
		rc.Close()
	})
}

// The fields before a form's first file are read, and the body is given
// again byte for byte, whether the fields come first, the file does, the
// limit cuts the fields short, or the body is no form at all; read past
// the files, those after the file too.
func TestLeadingFields(t *testing.T) {
	form := func(fileFirst bool) (string, string) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		if fileFirst {
			fw, _ := w.CreateFormFile("file", "a.jsonl")
			_, _ = fw.Write([]byte("{}\n"))
		}
		_ = w.WriteField("purpose", "batch")
		_ = w.WriteField("custom_llm_provider", "azure")
		if !fileFirst {
			fw, _ := w.CreateFormFile("file", "a.jsonl")
			_, _ = fw.Write([]byte(strings.Repeat("{}\n", 5000)))
		}
		_ = w.Close()
		return b.String(), w.FormDataContentType()
	}
	first, ct := form(false)
	last, ct2 := form(true)
	for _, tc := range []struct {
		name, body, ct string
		limit          int64
		want           string
	}{
		{"fields first", first, ct, 64 << 10, "azure"},
		{"file first", last, ct2, 64 << 10, ""},
		{"a limit inside the fields", first, ct, 40, ""},
		{"no form", "{\"model\":\"x\"}", "application/json", 64 << 10, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fields, replay := LeadingFields(strings.NewReader(tc.body), tc.ct, tc.limit, "custom_llm_provider")
			got, err := io.ReadAll(replay)
			if err != nil || string(got) != tc.body {
				t.Fatalf("replay differs (%v)", err)
			}
			if fields["custom_llm_provider"] != tc.want {
				t.Fatalf("fields %v, want custom_llm_provider %q", fields, tc.want)
			}
		})
	}
	// Past the files, the fields after the file are read too, within the
	// limit; the body is given again byte for byte.
	for _, tc := range []struct {
		name  string
		limit int64
		want  string
	}{{"the whole form", int64(len(last)), "azure"}, {"a limit inside the file", 150, ""}} {
		t.Run("past files: "+tc.name, func(t *testing.T) {
			fields, replay := FieldsPastFiles(strings.NewReader(last), ct2, tc.limit, "custom_llm_provider")
			if got, err := io.ReadAll(replay); err != nil || string(got) != last {
				t.Fatalf("replay differs (%v)", err)
			}
			if fields["custom_llm_provider"] != tc.want {
				t.Fatalf("fields %v, want custom_llm_provider %q", fields, tc.want)
			}
		})
	}
}

// Whatever a client sends, LeadingFields gives it again byte for byte.
func FuzzLeadingFields(f *testing.F) {
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"custom_llm_provider\"\r\n\r\nazure\r\n--b--\r\n"), int64(1000))
	f.Add([]byte("--b\r\n"), int64(3))
	f.Add([]byte{}, int64(0))
	f.Fuzz(func(t *testing.T, body []byte, limit int64) {
		_, replay := LeadingFields(bytes.NewReader(body), "multipart/form-data; boundary=b", limit, "custom_llm_provider")
		if got, err := io.ReadAll(replay); err != nil || !bytes.Equal(got, body) {
			t.Fatalf("replay %q, %v; want %q", got, err, body)
		}
	})
}
