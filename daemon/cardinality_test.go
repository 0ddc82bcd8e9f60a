package daemon_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/daemon"
)

// seriesCount scrapes /metrics and counts its series.
func seriesCount(t testing.TB, h http.Handler) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	n := 0
	for _, l := range strings.Split(rec.Body.String(), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			n++
		}
	}
	return n
}

// nDeployments is a config with n OpenAI deployments, each its own group.
func nDeployments(t testing.TB, n int) *config.Config {
	var b strings.Builder
	b.WriteString("model_list:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - model_name: g%d\n    litellm_params: {model: openai/m%d, api_base: http://upstream.invalid/v1, api_key: sk-some-key}\n", i, i)
	}
	cfg, err := config.Parse("n.yaml", []byte(b.String()), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Series are bounded by the config: each deployment adds a fixed number
// (README says how many), and requests naming models that do not exist
// add none, however many there are.
func TestSeriesAreBoundedByTheConfig(t *testing.T) {
	counts := map[int]int{}
	for _, n := range []int{1, 2, 10} {
		d, err := daemon.New(daemon.Options{Config: nDeployments(t, n), AlertTick: -1})
		if err != nil {
			t.Fatal(err)
		}
		counts[n] = seriesCount(t, d.Handler())
		if n == 10 {
			before := seriesCount(t, d.Handler())
			srv := httptest.NewServer(d.Handler())
			for i := 0; i < 50; i++ {
				resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json",
					strings.NewReader(fmt.Sprintf(`{"model":"no-such-model-%d","messages":[{"role":"user","content":"x"}]}`, i)))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			srv.Close()
			http.DefaultClient.CloseIdleConnections()
			// 50 requests for 50 unknown models: the request series gain
			// one "unknown" model group, once.
			if after := seriesCount(t, d.Handler()); after > before+20 {
				t.Fatalf("50 unknown models grew the series from %d to %d", before, after)
			}
		}
		d.Close()
	}
	per := counts[2] - counts[1]
	if per <= 0 || counts[10]-counts[1] != 9*per {
		t.Fatalf("series %v: not a fixed number per deployment", counts)
	}
	t.Logf("series: %d with one deployment, %d more per deployment", counts[1], per)
}

// Scraping /metrics with 500 breakers (250 deployments, chat and
// embeddings each): the figure in BENCHMARKS.md.
func BenchmarkMetricsScrape500Breakers(b *testing.B) {
	d, err := daemon.New(daemon.Options{Config: nDeployments(b, 250), AlertTick: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if n := len(d.Gateway().Registry().Names()); n != 500 {
		b.Fatalf("%d breakers", n)
	}
	h := d.Handler()
	b.ReportAllocs()
	var size int
	for b.Loop() {
		// The body goes where a server's goes, out, not into a growing
		// buffer (a recorder's copies were 10 MB of each scrape's 26).
		w := &countingWriter{header: http.Header{}}
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if w.code != 0 && w.code != 200 {
			b.Fatal(w.code)
		}
		size = w.n
	}
	b.ReportMetric(float64(size), "body-bytes")
}

// countingWriter is an http.ResponseWriter that keeps only the status and
// the body's length.
type countingWriter struct {
	header http.Header
	code   int
	n      int
}

func (w *countingWriter) Header() http.Header  { return w.header }
func (w *countingWriter) WriteHeader(code int) { w.code = code }
func (w *countingWriter) Write(b []byte) (int, error) {
	w.n += len(b)
	return len(b), nil
}
