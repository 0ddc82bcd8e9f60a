package provider

import "encoding/binary"

// A JSON validator that accepts exactly what json.Valid accepts, in one
// tight pass. json.Valid steps a state machine through a function call per
// byte; breakerd validates every request body, every whole answer and
// every streamed chunk, so the difference is paid on each byte relayed.
// FuzzValidJSON checks the two agree.

// maxDepth is encoding/json's limit on nesting: 10,000 arrays and objects
// inside each other are valid, one more is not.
const maxDepth = 10000

// validJSON reports whether b is one valid JSON value, with only
// whitespace around it: json.Valid, faster.
func validJSON(b []byte) bool {
	end := scanValue(b, skipSpace(b, 0), 0)
	return end >= 0 && skipSpace(b, end) == len(b)
}

// scanValue returns the end of the valid JSON value that starts at b[i],
// or -1 when there is none. depth is how many containers already enclose
// it, for the nesting limit.
//
// It loops instead of recursing, keeping which containers are open as
// bits (1 for an object), so that a deep value cannot grow the caller's
// stack: it runs on the goroutines that relay streams.
func scanValue(b []byte, i, depth int) int {
	var open uint64 // the innermost 64 open containers, innermost lowest
	var outer []uint64
	level := 0
	push := func(object bool) {
		if level > 0 && level%64 == 0 {
			outer = append(outer, open)
			open = 0
		}
		open <<= 1
		if object {
			open |= 1
		}
		level++
	}
	pop := func() {
		level--
		open >>= 1
		if level > 0 && level%64 == 0 {
			open, outer = outer[len(outer)-1], outer[:len(outer)-1]
		}
	}
	for {
		// A value starts at b[i].
		if i >= len(b) {
			return -1
		}
		switch c := b[i]; {
		case c == '{' || c == '[':
			if depth+level >= maxDepth {
				return -1
			}
			push(c == '{')
			i = skipSpace(b, i+1)
			if i < len(b) && b[i] == c+2 { // '}' and ']' are two past their openers
				i++
				pop()
				break
			}
			if c == '{' {
				if i = scanKey(b, i); i < 0 {
					return -1
				}
			}
			continue
		case c == '"':
			i = scanString(b, i)
		case c == '-' || c >= '0' && c <= '9':
			i = scanNumber(b, i)
		case c == 't':
			i = scanLiteral(b, i, "true")
		case c == 'f':
			i = scanLiteral(b, i, "false")
		case c == 'n':
			i = scanLiteral(b, i, "null")
		default:
			return -1
		}
		if i < 0 {
			return -1
		}
		// The value ended at b[i]: close the containers it ends, up to
		// one that goes on with another element.
		for {
			if level == 0 {
				return i
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return -1
			}
			object := open&1 == 1
			if b[i] == ',' {
				i = skipSpace(b, i+1)
				if object {
					if i = scanKey(b, i); i < 0 {
						return -1
					}
				}
				break
			}
			if (object && b[i] != '}') || (!object && b[i] != ']') {
				return -1
			}
			i++
			pop()
		}
	}
}

// scanKey reads an object member's key and its colon at b[i], returning
// where its value starts (whitespace skipped), or -1.
func scanKey(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	if i = scanString(b, i); i < 0 {
		return -1
	}
	if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
		return -1
	}
	return skipSpace(b, i+1)
}

// plain marks the bytes a JSON string holds as they are: not the quote,
// not the backslash, not a control character.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString returns the end of the string that starts with the quote at
// b[i], or -1. Bytes that are not UTF-8 are valid, as in json.Valid.
func scanString(b []byte, i int) int {
	for i++; ; i++ {
		// Eight bytes at a time while none is special: the text of a
		// prompt is most of what is scanned.
		for i+8 <= len(b) && !special(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case '"':
			return i + 1
		case '\\':
			i++
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
					return -1
				}
				i += 4
			default:
				return -1
			}
		default:
			return -1 // a control character
		}
	}
}

// special reports whether any of the eight bytes in w is not plain: a
// quote, a backslash or a control character (the bit tricks of "Bit
// Twiddling Hacks": a byte is zero, or less than n, when subtracting
// borrows into its top bit).
func special(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(v uint64) uint64 { return (v - ones) & ^v & highs }
	return (w-0x20*ones)&^w&highs|zero(w^('"'*ones))|zero(w^('\\'*ones)) != 0
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanNumber returns the end of the number that starts at b[i], or -1:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(b []byte, i int) int {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		if i = digits(b, i+1); i < 0 {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		return digits(b, i)
	}
	return i
}

// digits returns the end of the one or more digits at b[i], or -1.
func digits(b []byte, i int) int {
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == start {
		return -1
	}
	return i
}

// scanLiteral returns the end of lit at b[i], or -1.
func scanLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}
