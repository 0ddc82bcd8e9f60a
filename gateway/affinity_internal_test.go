package gateway

import (
	"fmt"
	"testing"
	"time"
)

// The pins kept are bounded: at maxPins the expired go first, then a
// tenth of the rest, and the new pin is kept.
func TestPinsAreBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var p pins
	for i := range maxPins {
		until := now.Add(time.Hour)
		if i%2 == 0 {
			until = now.Add(-time.Second) // expired
		}
		p.set(fmt.Sprint(i), "d", now, until)
	}
	p.set("new", "d", now, now.Add(time.Hour))
	if n := len(p.m); n != maxPins/2+1 {
		t.Fatalf("%d pins after the expired went, want %d", n, maxPins/2+1)
	}
	for i := range maxPins / 2 {
		p.set(fmt.Sprint("more", i), "d", now, now.Add(time.Hour))
	}
	if n := len(p.m); n > maxPins || n < maxPins*9/10 {
		t.Fatalf("%d pins, want at most %d", n, maxPins)
	}
	if _, ok := p.m["more"+fmt.Sprint(maxPins/2-1)]; !ok {
		t.Fatal("the newest pin was not kept")
	}
}
