package gateway

import (
	"fmt"
	"testing"
)

// A Redactor scrubs configured secrets and those added at run time; it
// forgets the oldest added past its bound, never a configured one, and
// ignores values too short to scrub safely.
func TestRedactorLearnsFetchedSecretsWithinABound(t *testing.T) {
	r := NewRedactor("sk-configured-key-1", "ab")
	r.Add("eyJ-first-token", "xy", "sk-configured-key-1")
	for _, tc := range []struct{ in, want string }{
		{"key sk-configured-key-1", "key [REDACTED]"},
		{"token eyJ-first-token", "token [REDACTED]"},
		{"ab xy", "ab xy"}, // too short: would mangle ordinary text
	} {
		if got := r.Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for i := range maxFetchedSecrets {
		r.Add(fmt.Sprintf("eyJ-later-token-%04d", i))
	}
	if got := r.Redact("eyJ-first-token eyJ-later-token-0000 eyJ-later-token-0511 sk-configured-key-1"); got != "eyJ-first-token [REDACTED] [REDACTED] [REDACTED]" {
		t.Errorf("after %d more: %q, want only the first token forgotten", maxFetchedSecrets, got)
	}
}
