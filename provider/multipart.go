package provider

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"slices"
)

// multipartWithModel returns a multipart/form-data body (of media type
// contentType, which names its boundary) with its "model" field set to
// model (added at the end if it has none), every other part kept byte for
// byte.
func multipartWithModel(body []byte, contentType, model string) ([]byte, error) {
	boundary, err := formBoundary(contentType)
	if err != nil {
		return nil, err
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	var out bytes.Buffer
	out.Grow(len(body) + len(model))
	w := multipart.NewWriter(&out)
	if err := w.SetBoundary(boundary); err != nil {
		return nil, err
	}
	hasModel := false
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
		if part.FormName() == "model" {
			hasModel = true
			_, err = io.WriteString(dst, model)
		} else {
			_, err = io.Copy(dst, part)
		}
		if err != nil {
			return nil, err
		}
	}
	if !hasModel {
		if err := w.WriteField("model", model); err != nil {
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
