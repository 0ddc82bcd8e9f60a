package gateway_test

import (
	"context"
	"strings"
	"testing"
)

// A call waiting in a deployment's bulkhead queue waits until the
// bulkhead's max_wait or the request's deadline, whichever comes first;
// then the request is answered with an error that says the time went to
// breakerd's queue, not to the provider, and the provider's breaker does
// not count it.
func TestBulkheadQueueWaitEnds(t *testing.T) {
	for _, tc := range []struct{ name, settings, want string }{
		{"at the request's deadline", "  timeout: 200ms\n  bulkhead: {max_queue: 4}\n",
			"gpt-4o-mini/openai/gpt-4o-mini: no bulkhead slot before the request's deadline (waited "},
		{"at max_wait", "  timeout: 1m\n  bulkhead: {max_queue: 4, max_wait: 50ms}\n",
			"gpt-4o-mini/openai/gpt-4o-mini: no bulkhead slot within max_wait (50ms)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := strings.Replace(twoGroups, "      api_key: sk-primary-secret-key", "      api_key: sk-primary-secret-key\n      max_parallel_requests: 1", 1)
			cfg = strings.Replace(cfg, "  fallbacks: [claude-3-5-sonnet]\n", tc.settings, 1)
			e := newEnv(t, cfg, "primary", "backup")
			d := e.gw.Route("gpt-4o-mini")[0]
			// The test holds the only slot until the request is answered.
			release, err := d.Bulkhead.Acquire(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			status, _, b := e.post("/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`)
			msg, _ := b["error"].(map[string]any)["message"].(string)
			if status != 503 || !strings.Contains(msg, tc.want) {
				t.Fatalf("status %d, message %q: want 503 saying %q", status, msg, tc.want)
			}
			<-e.done
			if c := e.breaker(primaryChat).Counts(); c.Failures != 0 || d.Bulkhead.Queued() != 0 || e.mocks["primary"].Stats().Requests != 0 {
				t.Fatalf("counts %+v, queued %d, upstream requests %d: want no failure, an empty queue and no upstream call",
					c, d.Bulkhead.Queued(), e.mocks["primary"].Stats().Requests)
			}
		})
	}
}
