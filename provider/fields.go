package provider

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// EachField calls fn with each top-level member of the JSON object obj, in
// order: its key as written (escapes unresolved unless the key has any,
// when fn gets it decoded) and its raw value. It reports false when obj is
// not a valid JSON object (json.Valid's judgement), having called fn for
// the members before the fault, if any. Keys match exactly, as the
// upstream APIs match them; a duplicate key comes once per occurrence.
//
// It reads what routing needs from a request body in one pass that also
// validates it, without decoding the rest or copying any of it: a chat
// request's messages can be megabytes.
func EachField(obj []byte, fn func(key, value []byte)) bool {
	return members(obj, func(key []byte, start, end int) { fn(key, obj[start:end]) })
}

// EachElement calls fn with each element of the JSON array arr, raw, in
// order. It reports false when arr is not a valid JSON array, having
// called fn for the elements before the fault, if any. Like EachField, it
// reads without decoding or copying.
func EachElement(arr []byte, fn func(value []byte)) bool {
	i := skipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return false
	}
	if i = skipSpace(arr, i+1); i < len(arr) && arr[i] == ']' {
		return skipSpace(arr, i+1) == len(arr)
	}
	for {
		end := scanValue(arr, i, 1)
		if end < 0 {
			return false
		}
		fn(arr[i:end])
		if i = skipSpace(arr, end); i >= len(arr) {
			return false
		}
		switch arr[i] {
		case ',':
			i = skipSpace(arr, i+1)
		case ']':
			return skipSpace(arr, i+1) == len(arr)
		default:
			return false
		}
	}
}

// members is EachField with each value's offsets in obj.
func members(obj []byte, fn func(key []byte, start, end int)) bool {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return false
	}
	if i = skipSpace(obj, i+1); i < len(obj) && obj[i] == '}' {
		return skipSpace(obj, i+1) == len(obj)
	}
	for {
		if i >= len(obj) || obj[i] != '"' {
			return false
		}
		kEnd := scanString(obj, i)
		if kEnd < 0 {
			return false
		}
		key := obj[i+1 : kEnd-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var s string
			_ = json.Unmarshal(obj[i:kEnd], &s) // a valid string: scanned
			key = []byte(s)
		}
		if i = skipSpace(obj, kEnd); i >= len(obj) || obj[i] != ':' {
			return false
		}
		vStart := skipSpace(obj, i+1)
		vEnd := scanValue(obj, vStart, 1)
		if vEnd < 0 {
			return false
		}
		fn(key, vStart, vEnd)
		if i = skipSpace(obj, vEnd); i >= len(obj) {
			return false
		}
		switch obj[i] {
		case ',':
			i = skipSpace(obj, i+1)
		case '}':
			return skipSpace(obj, i+1) == len(obj)
		default:
			return false
		}
	}
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

// JSONString returns the string that v, a valid JSON value (as EachField
// gives it), holds, as json.Unmarshal into a string reads it: "" for
// null; false when v holds anything else, or nothing (a field that is
// not there).
func JSONString(v []byte) (string, bool) {
	switch {
	case string(v) == "null":
		return "", true
	case len(v) == 0 || v[0] != '"':
		return "", false
	case bytes.IndexByte(v, '\\') < 0 && utf8.Valid(v):
		return string(v[1 : len(v)-1]), true
	}
	// Escapes, or bytes that are not UTF-8 (which json.Unmarshal turns
	// into U+FFFD).
	var s string
	err := json.Unmarshal(v, &s)
	return s, err == nil
}
