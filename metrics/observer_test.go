package metrics_test

import (
	"testing"
	"time"

	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/gateway"
	"github.com/breakerd/breakerd/metrics"
	"github.com/breakerd/breakerd/provider"
)

// BenchmarkObserver measures the metrics a served request records: its
// request series and its upstream attempt's.
func BenchmarkObserver(b *testing.B) {
	cfg, err := config.Parse("b.yaml", []byte(`
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:9/v1", api_key: sk-bench}
`), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	gw, err := gateway.New(gateway.Options{Config: cfg})
	if err != nil {
		b.Fatal(err)
	}
	defer gw.Close()
	obs := metrics.New(source{gw}, metrics.Options{}).Observer()
	d := gw.Route("gpt-4o-mini")[0]
	b.ReportAllocs()
	for b.Loop() {
		obs.AttemptDone(gateway.AttemptInfo{Deployment: d, Op: provider.Chat, Attempt: 1, Duration: 20 * time.Millisecond,
			Status: 200, Usage: provider.Usage{InputTokens: 6, OutputTokens: 11}})
		obs.RequestDone(gateway.RequestInfo{Group: "gpt-4o-mini", Op: provider.Chat, Status: 200, Duration: 21 * time.Millisecond,
			Overhead: 50 * time.Microsecond, Attempts: 1, Served: d})
	}
}

// source is a gateway serving no listener.
type source struct{ *gateway.Gateway }

func (source) Connections() (open, idle, limit int64) { return 0, 0, 0 }
