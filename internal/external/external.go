// Package external finds the external programs some tests drive
// (promtool, chromium, redis-server). A missing program skips the test
// with a clear message, or fails it when BREAKERD_REQUIRE_EXTERNAL=1, as
// in CI.
package external

import (
	"os"
	"os/exec"
	"testing"
)

// Program returns the path of the first of names found on PATH. When none
// is found it skips t, or fails it if BREAKERD_REQUIRE_EXTERNAL=1.
func Program(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := "this test needs " + names[0] + " on PATH; run `make test` (it installs it from Debian packages) or install it yourself"
	if os.Getenv("BREAKERD_REQUIRE_EXTERNAL") == "1" {
		t.Fatal(msg + " (BREAKERD_REQUIRE_EXTERNAL=1 makes this a failure)")
	}
	t.Skip(msg)
	return ""
}
