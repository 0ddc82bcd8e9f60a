package provider

import (
	"bytes"
	"encoding/base64"
	"strings"
)

// Reasoning a Responses upstream returns encrypted (include:
// ["reasoning.encrypted_content"], as Codex and other clients that keep
// no state at OpenAI ask) can be read only by the organization whose
// deployment made it: sent back to another, the request fails. So the
// encrypted_content clients get is marked with the deployment that made
// it, and a request that carries it back goes to that deployment, with
// the mark taken off.
//
// The mark is LiteLLM's: "litellm_enc:" and the standard base64 of
// "model_id:D", then ";" and the upstream's content, so that content a
// LiteLLM proxy marked keeps routing after a move to breakerd.
const (
	encMark      = "litellm_enc:"
	encDeployTag = "model_id:"
)

var encKey = []byte(`"encrypted_content"`)

// markEncrypted returns data, JSON, with each encrypted_content string
// value marked as deployment's (one already marked is left as it is), or
// data itself when it has none.
func markEncrypted(data []byte, deployment string) []byte {
	if !bytes.Contains(data, encKey) {
		return data
	}
	mark := encMark + base64.StdEncoding.EncodeToString([]byte(encDeployTag+deployment)) + ";"
	var out []byte
	last := 0
	eachEncrypted(data, func(start int) {
		if bytes.HasPrefix(data[start:], []byte(encMark)) {
			return
		}
		out = append(append(out, data[last:start]...), mark...)
		last = start
	})
	if out == nil {
		return data
	}
	return append(out, data[last:]...)
}

// UnmarkEncrypted returns body, a JSON request, with the marks taken off
// its encrypted_content values, and the deployment the last of them
// names: the latest reasoning's ("" when none is marked, and body
// itself).
func UnmarkEncrypted(body []byte) ([]byte, string) {
	if !bytes.Contains(body, encKey) {
		return body, ""
	}
	var out []byte
	last := 0
	deployment := ""
	eachEncrypted(body, func(start int) {
		rest, ok := bytes.CutPrefix(body[start:], []byte(encMark))
		if !ok {
			return
		}
		tag, _, ok := bytes.Cut(rest, []byte(";"))
		if !ok || bytes.IndexByte(tag, '"') >= 0 {
			return
		}
		name, err := base64.StdEncoding.DecodeString(string(tag))
		d, found := strings.CutPrefix(string(name), encDeployTag)
		if err != nil || !found {
			return
		}
		deployment = d
		out = append(out, body[last:start]...)
		last = start + len(encMark) + len(tag) + 1
	})
	if out == nil {
		return body, deployment
	}
	return append(out, body[last:]...), deployment
}

// eachEncrypted calls fn with the offset of the first byte inside each
// string value of an "encrypted_content" member of data. A match inside a
// string (its opening quote escaped) is not a member.
func eachEncrypted(data []byte, fn func(start int)) {
	for i := 0; ; {
		j := bytes.Index(data[i:], encKey)
		if j < 0 {
			return
		}
		at := i + j
		i = at + len(encKey)
		if escaped(data, at) {
			continue
		}
		k := skipSpace(data, i)
		if k >= len(data) || data[k] != ':' {
			continue
		}
		k = skipSpace(data, k+1)
		if k >= len(data) || data[k] != '"' {
			continue // null, or not a string
		}
		fn(k + 1)
		i = k + 1
	}
}

// escaped reports whether the quote at data[at] is escaped: preceded by
// an odd run of backslashes.
func escaped(data []byte, at int) bool {
	n := 0
	for at-n-1 >= 0 && data[at-n-1] == '\\' {
		n++
	}
	return n%2 == 1
}
