package mockllm

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rateWindow is a provider's requests-per-minute limit as the mock plays
// it (Faults.RPMLimit): a window of a minute from its first request.
type rateWindow struct {
	mu    sync.Mutex
	start time.Time
	used  int
}

// take counts a request against limit at now. It returns the requests
// left in the window after it and how long until the window resets; ok
// is false, and nothing counted, once none were left.
func (rw *rateWindow) take(limit int, now time.Time) (left int, reset time.Duration, ok bool) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.start.IsZero() || now.Sub(rw.start) >= time.Minute {
		rw.start, rw.used = now, 0
	}
	reset = rw.start.Add(time.Minute).Sub(now)
	if rw.used >= limit {
		return 0, reset, false
	}
	rw.used++
	return limit - rw.used, reset, true
}

// limitRequests applies f.RPMLimit to r: it sets the rate-limit headers
// the provider sends with every answer (OpenAI's and Azure's
// x-ratelimit-*-requests, Anthropic's anthropic-ratelimit-requests-*) and,
// with none left, answers the provider's 429 and reports false.
func (s *Server) limitRequests(w http.ResponseWriter, r *http.Request, f Faults) bool {
	if f.RPMLimit <= 0 {
		return true
	}
	now := time.Now()
	left, reset, ok := s.rpm.take(f.RPMLimit, now)
	h := w.Header()
	if strings.HasPrefix(strings.TrimPrefix(r.URL.Path, "/anthropic"), "/v1/messages") {
		h.Set("anthropic-ratelimit-requests-limit", strconv.Itoa(f.RPMLimit))
		h.Set("anthropic-ratelimit-requests-remaining", strconv.Itoa(left))
		h.Set("anthropic-ratelimit-requests-reset", now.Add(reset).UTC().Format(time.RFC3339))
	} else {
		h.Set("x-ratelimit-limit-requests", strconv.Itoa(f.RPMLimit))
		h.Set("x-ratelimit-remaining-requests", strconv.Itoa(left))
		h.Set("x-ratelimit-reset-requests", reset.Round(time.Millisecond).String())
	}
	if ok {
		return true
	}
	s.stats.failed.Add(1)
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(reset.Seconds()))))
	s.writeErrorCode(w, r, http.StatusTooManyRequests, errorType(http.StatusTooManyRequests), "rate_limit_exceeded",
		fmt.Sprintf("Rate limit reached for requests on mock %s: Limit %d, Used %d, Requested 1. Please try again in %s.",
			s.opts.Name, f.RPMLimit, f.RPMLimit, reset.Round(time.Millisecond)))
	return false
}
