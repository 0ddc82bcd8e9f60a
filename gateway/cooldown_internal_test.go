package gateway

import (
	"testing"
	"time"
)

// A cooldown's extend reports a beginning only when none was held: a
// later end while held, an earlier one, or the same, begins nothing; one
// after the last ended begins again.
func TestCooldownExtendReportsABeginning(t *testing.T) {
	t0 := time.Date(2026, 1, 26, 12, 0, 0, 0, time.UTC)
	var c Cooldown
	for _, tc := range []struct {
		name     string
		now, end time.Duration // after t0
		began    bool
	}{
		{"the first", 0, 10 * time.Second, true},
		{"longer, while held", 2 * time.Second, 20 * time.Second, false},
		{"shorter, while held", 3 * time.Second, 5 * time.Second, false},
		{"after it ended", 30 * time.Second, 40 * time.Second, true},
	} {
		if got := c.extend(t0.Add(tc.now), t0.Add(tc.end)); got != tc.began {
			t.Errorf("%s: began %v, want %v", tc.name, got, tc.began)
		}
	}
	if until, ok := c.Until(t0.Add(35 * time.Second)); !ok || !until.Equal(t0.Add(40*time.Second)) {
		t.Fatalf("until %v (%v)", until, ok)
	}
}
