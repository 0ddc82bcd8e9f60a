package provider

import (
	"bytes"
	"io"
	"mime/multipart"
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
		out, err := multipartWithModel(body.Bytes(), w.FormDataContentType(), replacement)
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
		_, _ = multipartWithModel([]byte(file), format, replacement) // any bytes: an error or a form, no panic
	})
}
