package provider

import (
	"bytes"
	"encoding/json"
	"strings"
)

// EachField calls fn with each top-level member of the JSON object obj, in
// order: its key as written (escapes unresolved unless the key has any,
// when fn gets it decoded) and its raw value. It reports false, calling fn
// for nothing, when obj is not a valid JSON object. Keys match exactly, as
// the upstream APIs match them; a duplicate key comes once per occurrence.
//
// It reads what routing needs from a request body in one pass, without
// decoding the rest or copying any of it: a chat request's messages can be
// megabytes.
func EachField(obj []byte, fn func(key, value []byte)) bool {
	return members(obj, func(key []byte, start, end int) { fn(key, obj[start:end]) })
}

// members is EachField with each value's offsets in obj.
func members(obj []byte, fn func(key []byte, start, end int)) bool {
	if !json.Valid(obj) {
		return false
	}
	i := skipSpace(obj, 0)
	if obj[i] != '{' {
		return false
	}
	i = skipSpace(obj, i+1)
	for obj[i] != '}' {
		kEnd := skipValue(obj, i)
		key := obj[i+1 : kEnd-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var s string
			_ = json.Unmarshal(obj[i:kEnd], &s) // valid: checked above
			key = []byte(s)
		}
		i = skipSpace(obj, kEnd)
		i = skipSpace(obj, i+1) // the colon
		vEnd := skipValue(obj, i)
		fn(key, i, vEnd)
		i = skipSpace(obj, vEnd)
		if obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
	return true
}

// SetField returns the JSON object obj with the top-level member key's
// value replaced by value (valid JSON), or added at the end when obj has
// no such member; every other byte is kept. Of duplicate keys the last,
// the one a JSON decoder keeps, is replaced. It reports false when obj is
// not a valid JSON object.
func SetField(obj []byte, key string, value []byte) ([]byte, bool) {
	start, end := -1, -1
	if !members(obj, func(k []byte, s, e int) {
		if string(k) == key {
			start, end = s, e
		}
	}) {
		return nil, false
	}
	if start >= 0 {
		out := make([]byte, 0, len(obj)-(end-start)+len(value))
		return append(append(append(out, obj[:start]...), value...), obj[end:]...), true
	}
	// Append before the closing brace.
	closing := bytes.LastIndexByte(obj, '}')
	k, _ := json.Marshal(key)
	out := make([]byte, 0, len(obj)+len(k)+len(value)+2)
	out = append(out, bytes.TrimRight(obj[:closing], " \t\r\n")...)
	if out[len(out)-1] != '{' {
		out = append(out, ',')
	}
	out = append(append(append(out, k...), ':'), value...)
	return append(out, obj[closing:]...), true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the valid JSON value starting at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		for i++; b[i] != '"'; i++ {
			if b[i] == '\\' {
				i++
			}
		}
		return i + 1
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				i = skipValue(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
	}
	for i < len(b) && strings.IndexByte(" \t\r\n,}]", b[i]) < 0 {
		i++
	}
	return i
}
