package provider

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"slices"
)

// MultipartWithField returns a multipart/form-data body (of media type
// contentType, which names its boundary) with its field name set to
// value (added at the end if it has none: a request's "model", a video
// edit's "video[id]"), every other part kept byte for byte.
func MultipartWithField(body []byte, contentType, name, value string) ([]byte, error) {
	boundary, err := formBoundary(contentType)
	if err != nil {
		return nil, err
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	var out bytes.Buffer
	out.Grow(len(body) + len(value))
	w := multipart.NewWriter(&out)
	if err := w.SetBoundary(boundary); err != nil {
		return nil, err
	}
	has := false
	for {
		part, err := r.NextRawPart() // raw: a file's bytes stay as sent
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		dst, err := w.CreatePart(textproto.MIMEHeader(part.Header))
		if err != nil {
			return nil, err
		}
		if part.FormName() == name {
			has = true
			_, err = io.WriteString(dst, value)
		} else {
			_, err = io.Copy(dst, part)
		}
		if err != nil {
			return nil, err
		}
	}
	if !has {
		if err := w.WriteField(name, value); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// FormFields reads the named text fields of a multipart/form-data body
// (of media type contentType), each to its first KB (a model's name, not
// a file), and reports whether it has a file part named file (or file[],
// as SDKs name each of several); an error means the body is not such a
// form.
func FormFields(body []byte, contentType, file string, names ...string) (map[string]string, bool, error) {
	boundary, err := formBoundary(contentType)
	if err != nil {
		return nil, false, err
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	fields := map[string]string{}
	hasFile := false
	for {
		part, err := r.NextRawPart()
		if errors.Is(err, io.EOF) {
			return fields, hasFile, nil
		}
		if err != nil {
			return nil, false, err
		}
		name := part.FormName()
		switch {
		case (name == file || name == file+"[]") && part.FileName() != "":
			hasFile = true
		case slices.Contains(names, name):
			v, err := io.ReadAll(io.LimitReader(part, 1<<10))
			if err != nil {
				return nil, false, err
			}
			fields[name] = string(v)
		}
	}
}

// formBoundary is the boundary of a multipart/form-data media type.
func formBoundary(contentType string) (string, error) {
	media, params, err := mime.ParseMediaType(contentType)
	if err != nil || media != "multipart/form-data" || params["boundary"] == "" {
		return "", errors.New("the request body must be multipart/form-data with a boundary")
	}
	return params["boundary"], nil
}

// LeadingFields reads the text fields named in names that a
// multipart/form-data body (src, of media type contentType) carries before
// its first file part, each to its first KB, reading at most limit bytes;
// and it returns a reader that gives the whole body again, as it came
// (those bytes, then the rest of src). Python's SDK writes a form's fields
// before its files (LiteLLM's custom_llm_provider and target_model_names
// among them), so a gateway can route an upload before relaying it. A
// body that is not such a form has no fields.
func LeadingFields(src io.Reader, contentType string, limit int64, names ...string) (map[string]string, io.Reader) {
	return formFields(src, contentType, limit, false, names)
}

// FieldsPastFiles is LeadingFields reading on past the files, for the
// fields the Go and Node SDKs write after them (an extra_body's): it
// holds up to limit bytes of the form in memory, so it is for a form
// known to be small (its Content-Length).
func FieldsPastFiles(src io.Reader, contentType string, limit int64, names ...string) (map[string]string, io.Reader) {
	return formFields(src, contentType, limit, true, names)
}

func formFields(src io.Reader, contentType string, limit int64, pastFiles bool, names []string) (map[string]string, io.Reader) {
	fields := map[string]string{}
	boundary, err := formBoundary(contentType)
	if err != nil {
		return fields, src
	}
	var seen bytes.Buffer
	r := multipart.NewReader(io.TeeReader(io.LimitReader(src, limit), &seen), boundary)
	for {
		part, err := r.NextPart()
		if err != nil || part.FileName() != "" && !pastFiles {
			break // the file, the limit, the end, or a broken form: what came before is all
		}
		if part.FileName() == "" && slices.Contains(names, part.FormName()) {
			v, err := io.ReadAll(io.LimitReader(part, 1<<10))
			if err != nil {
				break
			}
			fields[part.FormName()] = string(v)
		}
	}
	return fields, io.MultiReader(&seen, src)
}

// maxBatchLine is the longest line of a batch file whose model
// BatchModels rewrites: a longer one (a request with images inline) is
// sent as it is, so that an upload's memory stays bounded.
const maxBatchLine = 8 << 20

// BatchModels returns a multipart/form-data upload (src, of media type
// contentType) with each request line of its file part, a Batch API
// input file, naming the model upstream by its deployment's name: where
// a line's body.model is a key of models, it becomes that key's value,
// as LiteLLM rewrites a batch file for the deployment it uploads to
// (Azure OpenAI knows a model only by its deployment's name). The fields
// named in drop (LiteLLM's own, which the upstream would refuse) are left
// out. Every other byte, other parts and lines included, is sent as it
// came. The form is read and written as it arrives: the answer is a pipe
// fed by a goroutine, which ends when src does or when the pipe is
// closed; a failure reading src is the pipe's error.
func BatchModels(src io.Reader, contentType string, models map[string]string, drop ...string) (io.ReadCloser, error) {
	boundary, err := formBoundary(contentType)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		defer func() {
			// A client's bytes must never take the process down with them.
			if p := recover(); p != nil {
				pw.CloseWithError(fmt.Errorf("rewriting a batch file's models: %v", p))
			}
		}()
		pw.CloseWithError(rewriteBatchForm(pw, src, boundary, models, drop))
	}()
	return pr, nil
}

func rewriteBatchForm(dst io.Writer, src io.Reader, boundary string, models map[string]string, drop []string) error {
	r := multipart.NewReader(src, boundary)
	w := multipart.NewWriter(dst)
	if err := w.SetBoundary(boundary); err != nil {
		return err
	}
	for {
		part, err := r.NextRawPart() // raw: a file's bytes stay as sent
		if errors.Is(err, io.EOF) {
			return w.Close()
		}
		if err != nil {
			return err
		}
		if slices.Contains(drop, part.FormName()) && part.FileName() == "" {
			continue // the reader skips what is left of it
		}
		out, err := w.CreatePart(textproto.MIMEHeader(part.Header))
		if err != nil {
			return err
		}
		if part.FormName() == "file" {
			err = rewriteBatchLines(out, part, models)
		} else {
			_, err = io.Copy(out, part)
		}
		if err != nil {
			return err
		}
	}
}

// rewriteBatchLines copies src's lines to dst, each request line's model
// renamed by models.
func rewriteBatchLines(dst io.Writer, src io.Reader, models map[string]string) error {
	br := bufio.NewReaderSize(src, 64<<10)
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(line)+len(chunk) <= maxBatchLine {
				line = append(line, chunk...)
				continue
			}
			// Too long to hold: the line goes as it is.
			if _, werr := dst.Write(line); werr != nil {
				return werr
			}
			line = line[:0]
			for errors.Is(err, bufio.ErrBufferFull) {
				if _, werr := dst.Write(chunk); werr != nil {
					return werr
				}
				chunk, err = br.ReadSlice('\n')
			}
		} else {
			line = append(line, chunk...)
			chunk = batchLineModel(line, models)
			line = line[:0]
		}
		if _, werr := dst.Write(chunk); werr != nil {
			return werr
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// batchLineModel returns a batch file's line with its body's model
// renamed by models; any other line as it is.
func batchLineModel(line []byte, models map[string]string) []byte {
	trimmed := bytes.TrimRight(line, "\r\n")
	var body []byte
	if !EachField(trimmed, func(k, v []byte) {
		if string(k) == "body" {
			body = v
		}
	}) || len(body) == 0 || body[0] != '{' {
		return line
	}
	var model []byte
	EachField(body, func(k, v []byte) {
		if string(k) == "model" {
			model = v
		}
	})
	name, ok := JSONString(model)
	if !ok {
		return line
	}
	to, ok := models[name]
	if !ok {
		return line
	}
	v, _ := json.Marshal(to)
	body, ok = SetField(body, "model", v)
	if !ok {
		return line
	}
	out, ok := SetField(trimmed, "body", body)
	if !ok {
		return line
	}
	return append(out, line[len(trimmed):]...)
}
