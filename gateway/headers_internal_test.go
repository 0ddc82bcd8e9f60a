package gateway

import (
	"net/http"
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
