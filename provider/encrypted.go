package provider

import (
	"bytes"
	"cmp"
	"encoding/base64"
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
		d, n, ok := markAt(body, start)
		if !ok {
			return
		}
		deployment = d
		if out == nil {
			out = make([]byte, 0, len(body))
		}
		out = append(out, body[last:start]...)
		last = start + n
	})
	if out == nil {
		return body, deployment
	}
	return append(out, body[last:]...), deployment
}

// EncryptedAt returns the deployment the last mark in body names, the
// latest reasoning's ("" when none is marked), as UnmarkEncrypted does,
// without a copy.
func EncryptedAt(body []byte) string {
	if !bytes.Contains(body, encKey) {
		return ""
	}
	deployment := ""
	eachEncrypted(body, func(start int) {
		if d, _, ok := markAt(body, start); ok {
			deployment = d
		}
	})
	return deployment
}

// markAt reads the mark at data[start:], the start of an
// encrypted_content string: the deployment it names and its length.
func markAt(data []byte, start int) (deployment string, n int, ok bool) {
	rest, ok := bytes.CutPrefix(data[start:], []byte(encMark))
	if !ok {
		return "", 0, false
	}
	tag, _, ok := bytes.Cut(rest, []byte(";"))
	if !ok || bytes.IndexByte(tag, '"') >= 0 {
		return "", 0, false
	}
	var buf [96]byte // most deployments' names, decoded without an allocation
	dst := buf[:]
	if m := base64.StdEncoding.DecodedLen(len(tag)); m > len(buf) {
		dst = make([]byte, m)
	}
	n, err := base64.StdEncoding.Decode(dst, tag)
	d, found := bytes.CutPrefix(dst[:n], []byte(encDeployTag))
	if err != nil || !found {
		return "", 0, false
	}
	return string(d), len(encMark) + len(tag) + 1, true
}

// EncryptedFor returns body, a Responses request with marked encrypted
// content, as a deployment is to get it (reads says which deployments'
// content it reads: its own, and those on its account): the marks taken
// off, and the reasoning items other deployments made left out, which
// it could not read and which the model can do without (it reasons
// anew); dropped counts them. An item of another kind that another made
// (a compaction, which holds the conversation itself) cannot be left
// out: foreign is its type, and out is nil.
func EncryptedFor(body []byte, reads func(deployment string) bool) (out []byte, dropped int, foreign string) {
	if !foreignMarks(body, reads) {
		out, _ = UnmarkEncrypted(body)
		return out, 0, ""
	}
	// The input's items, read in place: those to keep are copied as
	// they are.
	list := make([]byte, 0, len(body))
	list = append(list, '[')
	EachField(body, func(k, v []byte) {
		if string(k) != "input" {
			return
		}
		EachElement(v, func(item []byte) {
			if foreign != "" {
				return
			}
			if !foreignMarks(item, reads) {
				if len(list) > 1 {
					list = append(list, ',')
				}
				list = append(list, item...)
				return
			}
			typ := ""
			EachField(item, func(k, v []byte) {
				if string(k) == "type" {
					typ, _ = JSONString(v)
				}
			})
			if typ != "reasoning" {
				foreign = cmp.Or(typ, "item")
				return
			}
			dropped++
		})
	})
	if foreign != "" {
		return nil, 0, foreign
	}
	b, ok := SetField(body, "input", append(list, ']'))
	if !ok || foreignMarks(b, reads) {
		return nil, 0, "item" // marked content outside input's items
	}
	out, _ = UnmarkEncrypted(b)
	return out, dropped, ""
}

// foreignMarks reports whether data has content marked by a deployment
// reads does not read.
func foreignMarks(data []byte, reads func(deployment string) bool) bool {
	if !bytes.Contains(data, encKey) {
		return false
	}
	foreign := false
	eachEncrypted(data, func(start int) {
		if d, _, ok := markAt(data, start); ok && !reads(d) {
			foreign = true
		}
	})
	return foreign
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
