package gateway

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestDateHeaderFormattedOncePerSecond(t *testing.T) {
	var hv headerValues
	hv.init()
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	first := hv.date(at)
	if want := "Thu, 03 Dec 2026 09:00:00 GMT"; len(first) != 1 || first[0] != want {
		t.Fatalf("date = %q, want [%q]", first, want)
	}
	if same := hv.date(at.Add(999 * time.Millisecond)); &same[0] != &first[0] {
		t.Fatal("formatted again within the same second")
	}
	if next := hv.date(at.Add(time.Second)); next[0] != "Thu, 03 Dec 2026 09:00:01 GMT" {
		t.Fatalf("a second later: %q", next)
	}
	if _, err := http.ParseTime(first[0]); err != nil {
		t.Fatal(err)
	}
}

// An overhead reads the same from the table as formatted anew, to the
// microsecond, in and past the table's range.
func TestOverheadMillisecondsMatchFormatting(t *testing.T) {
	var hv headerValues
	hv.init()
	for _, d := range []time.Duration{0, 400, 600, time.Microsecond, 5400, 56_000, 99_999, 255_000, 255_400, 255_600, 256_000, 1_234_567, 3 * time.Second} {
		got := hv.millisecond(d)
		want := strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64)
		if len(got) != 1 || got[0] != want || cap(got) != 1 {
			t.Errorf("%v: %q (cap %d), want [%q] (cap 1)", d, got, cap(got), want)
		}
	}
}

func TestHeaderValuesCountsAndBooleans(t *testing.T) {
	var hv headerValues
	hv.init()
	for _, tc := range []struct {
		got  []string
		want string
	}{
		{hv.count(0), "0"}, {hv.count(1), "1"}, {hv.count(15), "15"}, {hv.count(16), "16"}, {hv.count(250), "250"},
		{hv.boolean(true), "true"}, {hv.boolean(false), "false"}, {hv.json, "application/json"},
	} {
		if len(tc.got) != 1 || tc.got[0] != tc.want {
			t.Errorf("got %q, want [%q]", tc.got, tc.want)
		}
	}
}
