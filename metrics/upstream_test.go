package metrics_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/gateway"
	"github.com/breakerd/breakerd/metrics"
	"github.com/breakerd/breakerd/provider"
)

// What an upstream said is left of its rate limits holds until the
// limit's reset, or for a minute when it gave none; then the series shows
// the limit's whole size when the upstream gave that, and is gone when it
// did not. An idle deployment's last "none left" does not stay (and keep
// an alert firing) until its next call.
func TestUpstreamRateLimitRemainingLapses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		said   provider.RateLeft
		after  time.Duration
		want   float64
		absent bool
	}{
		{"before its reset", provider.RateLeft{Said: true, Left: 0, Limit: 60, Reset: 20 * time.Second}, 19 * time.Second, 0, false},
		{"at its reset, whole", provider.RateLeft{Said: true, Left: 0, Limit: 60, Reset: 20 * time.Second}, 20 * time.Second, 60, false},
		{"no reset said: held a minute", provider.RateLeft{Said: true, Left: 3, Limit: 60}, 59 * time.Second, 3, false},
		{"no reset said: whole after a minute", provider.RateLeft{Said: true, Left: 3, Limit: 60}, time.Minute, 60, false},
		{"no size said: gone after its reset", provider.RateLeft{Said: true, Left: 0, Reset: time.Second}, time.Second, 0, true},
		{"nothing said but what is left: gone after a minute", provider.RateLeft{Said: true, Left: 7}, time.Minute, 0, true},
		{"nothing said", provider.RateLeft{}, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := breaker.NewManualClock(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC))
			cfg, err := config.Parse("t.yaml", []byte(`
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:9/v1", api_key: sk-test}
`), func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatal(err)
			}
			gw, err := gateway.New(gateway.Options{Config: cfg, Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			defer gw.Close()
			m := metrics.New(source{gw}, metrics.Options{LiteLLMNames: true})
			d := gw.Route("gpt-4o-mini")[0]
			m.Observer().AttemptDone(gateway.AttemptInfo{Deployment: d, Op: provider.Chat, Attempt: 1, Status: 429,
				ErrType: "http_429", Remaining: provider.Remaining{Tokens: tc.said}})
			clock.Advance(tc.after)
			for _, name := range []string{"breakerd_upstream_rate_limit_remaining", "litellm_remaining_tokens_metric"} {
				n, err := testutil.GatherAndCount(m.Registry(), name)
				if err != nil {
					t.Fatal(err)
				}
				if tc.absent {
					if n != 0 {
						t.Errorf("%s: %d series, want none", name, n)
					}
					continue
				}
				if n != 1 {
					t.Fatalf("%s: %d series, want 1", name, n)
				}
				mfs, err := m.Registry().Gather()
				if err != nil {
					t.Fatal(err)
				}
				for _, mf := range mfs {
					if mf.GetName() == name {
						if got := mf.GetMetric()[0].GetGauge().GetValue(); got != tc.want {
							t.Errorf("%s = %v, want %v", name, got, tc.want)
						}
					}
				}
			}
		})
	}
}
