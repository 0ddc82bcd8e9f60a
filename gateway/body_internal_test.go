package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// deadlines records the read deadlines set through a ResponseController.
type deadlines struct {
	*httptest.ResponseRecorder
	at []time.Time
}

func (d *deadlines) SetReadDeadline(t time.Time) error { d.at = append(d.at, t); return nil }

// A request body's first pause is counted from the request's arrival
// (a time already read), each later one from the read before it: a body
// that keeps arriving is never cut for its total time.
func TestPacedBodyCountsEachPauseFromTheReadBefore(t *testing.T) {
	rec := &deadlines{ResponseRecorder: httptest.NewRecorder()}
	arrived := time.Now().Add(-time.Hour)
	p := &pacedBody{r: strings.NewReader("abc"), rc: http.NewResponseController(rec), timeout: time.Second, arrived: arrived}
	buf := make([]byte, 1)
	for range 3 {
		if _, err := p.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	if len(rec.at) != 3 || !rec.at[0].Equal(arrived.Add(time.Second)) {
		t.Fatalf("deadlines %v: want 3, the first %v", rec.at, arrived.Add(time.Second))
	}
	for i, at := range rec.at[1:] {
		if at.Before(arrived.Add(time.Hour)) {
			t.Errorf("read %d: deadline %v counted from the arrival, not from the read before", i+2, at)
		}
	}
}
