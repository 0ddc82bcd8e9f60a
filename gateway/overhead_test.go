package gateway_test

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/breakerd/breakerd/mockllm"
)

// TestOverheadExcludesUpstreamTime checks X-Breakerd-Overhead-Ms and
// RequestInfo.Overhead: breakerd's own share of a served request. Every
// upstream answers after an injected latency L, so whatever the machine's
// speed, the overhead can be at most the client's total time minus L (and
// minus L once more for each failed attempt that also waited).
func TestOverheadExcludesUpstreamTime(t *testing.T) {
	const latency = 150 * time.Millisecond
	tests := []struct {
		name         string
		primaryFails bool
		stream       bool
		waits        int           // attempts that each took at least latency
		backoff      time.Duration // retry backoff, of which at least half is waited
	}{
		{name: "served by the primary", waits: 1},
		{name: "streamed by the primary", stream: true, waits: 1},
		{name: "primary fails after the latency, fallback serves", primaryFails: true, waits: 2},
		{name: "primary fails, backs off, fails again, fallback serves", primaryFails: true, waits: 3, backoff: 200 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := twoGroups
			if tc.backoff > 0 {
				cfg = strings.Replace(cfg, "retry_backoff: 1ms", "retry_backoff: "+tc.backoff.String()+"\n  num_retries: 1", 1)
			}
			e := newEnv(t, cfg, "primary", "backup")
			lat := mockllm.Faults{LatencyMS: int(latency / time.Millisecond)}
			e.mocks["backup"].SetFaults(lat)
			if tc.primaryFails {
				lat.ErrorRate, lat.Status = 1, 503
			}
			e.mocks["primary"].SetFaults(lat)

			var resp *http.Response
			start := time.Now()
			params := openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")}}
			if tc.stream {
				s := e.client.Chat.Completions.NewStreaming(context.Background(), params, option.WithResponseInto(&resp))
				for s.Next() {
				}
				if err := s.Err(); err != nil {
					t.Fatal(err)
				}
			} else if _, err := e.client.Chat.Completions.New(context.Background(), params, option.WithResponseInto(&resp)); err != nil {
				t.Fatal(err)
			}
			total := time.Since(start)

			header := resp.Header.Get("X-Breakerd-Overhead-Ms")
			ms, err := strconv.ParseFloat(header, 64)
			if err != nil || ms < 0 {
				t.Fatalf("X-Breakerd-Overhead-Ms = %q", header)
			}
			overhead := time.Duration(ms * float64(time.Millisecond))
			if limit := total - time.Duration(tc.waits)*latency - tc.backoff/2; overhead > limit {
				t.Fatalf("overhead %s > total %s minus %d upstream waits of %s and a backoff of at least %s",
					overhead, total, tc.waits, latency, tc.backoff/2)
			}
			if got := resp.Header.Get("X-Breakerd-Attempts"); got != strconv.Itoa(tc.waits) {
				t.Fatalf("X-Breakerd-Attempts = %s, want %d", got, tc.waits)
			}
			info := <-e.done
			if math.Abs(float64(info.Overhead-overhead)) > float64(time.Microsecond) {
				t.Fatalf("RequestInfo.Overhead %s, header says %s", info.Overhead, overhead)
			}
		})
	}
}

func TestNoOverheadWhenNothingServed(t *testing.T) {
	e := newEnv(t, twoGroups, "primary", "backup")
	for _, m := range e.mocks {
		m.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	}
	status, h, _ := e.post("/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`)
	if status != 503 || h.Get("X-Breakerd-Overhead-Ms") != "" {
		t.Fatalf("status %d, overhead header %q", status, h.Get("X-Breakerd-Overhead-Ms"))
	}
	if info := <-e.done; info.Overhead != 0 || info.Served != nil {
		t.Fatalf("RequestInfo %+v", info)
	}
}
