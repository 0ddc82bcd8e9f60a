package gateway

import (
	"testing"
	"time"

	"github.com/breakerd/breakerd/config"
)

// latency-based-routing with LiteLLM's lowest_latency_buffer picks among
// the deployments within the buffer of the fastest; without it, always the
// fastest.
func TestLowestLatencyBuffer(t *testing.T) {
	for _, tc := range []struct {
		args   string
		firsts int
	}{{"", 1}, {"  routing_strategy_args: {lowest_latency_buffer: 0.1}\n", 2}} {
		cfg, err := config.Parse("t.yaml", []byte(`model_list:
  - model_name: g
    litellm_params: {model: openai/a, api_base: http://a.invalid/v1}
  - model_name: g
    litellm_params: {model: openai/b, api_base: http://b.invalid/v1}
  - model_name: g
    litellm_params: {model: openai/c, api_base: http://c.invalid/v1}
router_settings:
  routing_strategy: latency-based-routing
`+tc.args), func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatal(err)
		}
		g, err := New(Options{Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		for i, ms := range []int{100, 105, 300} { // b is within 10% of a; c is not
			g.deployments[i].load.observe(time.Duration(ms) * time.Millisecond)
		}
		firsts := map[string]bool{}
		for i := 0; i < 200; i++ {
			r := g.Route("g")
			firsts[r[0].Config.Model] = true
			if r[2].Config.Model != "c" {
				t.Fatalf("the slow deployment came before last: %v", r[2].Config.Model)
			}
		}
		if len(firsts) != tc.firsts {
			t.Fatalf("%q: first choices %v, want %d", tc.args, firsts, tc.firsts)
		}
		g.Close()
	}
}
