package daemon_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/breakerd/breakerd/internal/external"
)

// The status page, in a real headless Chromium: a breaker tripped through
// mockllm's control endpoint shows as open without a reload.
func TestStatusPageShowsTripLive(t *testing.T) {
	chromium := external.Program(t, "chromium", "chromium-browser", "google-chrome")
	s := serve(t, "", "0s")
	name := "gpt-4o-mini/openai/gpt-4o-mini:chat"

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("window-size", "1280,900"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()

	sel := chromedp.CSS(`span.state[data-breaker="` + name + `"]`)
	// The marker is wiped by a reload, so finding it later proves the page
	// updated in place.
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"/"), chromedp.WaitVisible(sel)); err != nil {
		t.Fatal(err)
	}
	before, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.__noReload = "still here"`)); err != nil {
		t.Fatal(err)
	}
	if before != "closed" {
		t.Fatalf("before the trip the page shows %q", before)
	}

	// Trip the breaker: the mock fails every call, five requests fail.
	req, _ := http.NewRequest(http.MethodPut, s.mockURL+"/_mock/faults", strings.NewReader(`{"error_rate":1,"status":500}`))
	if resp, err := s.client.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("faults: %v", err)
	} else {
		resp.Body.Close()
	}
	for i := 0; i < 5; i++ {
		resp, err := s.client.Post(s.url+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`span.state.open[data-breaker="`+name+`"]`))); err != nil {
		t.Fatal(err)
	}
	after, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatal(err)
	}
	marker, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.__noReload`))
	if err != nil {
		t.Fatal(err)
	}
	if after != "open" || marker != "still here" {
		t.Fatalf("page shows %q, marker %q", after, marker)
	}
	banner, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#banner"), "data-status"))
	if err != nil || banner.Value != "unhealthy" {
		t.Fatalf("banner %+v %v: the only group has no route, so /health says unhealthy", banner, err)
	}
	// Why it opened, with the upstream's own words, and when it tries again.
	why, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`td[data-why="`+name+`"]`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(why, "5 consecutive failures; last: 500 Internal Server Error") || !strings.Contains(why, "trial at") {
		t.Fatalf("the open breaker's explanation reads %q", why)
	}
	// A closed breaker of a deployment whose budget is spent says so, as
	// status.json's budget_spent has it.
	spent, err := chromedp.Run(ctx, chromedp.Evaluate[string](`why({state: "closed"}, new Date().toISOString(), `+
		`{budget_spent: "its provider budget of $1 per 1d is spent ($1.02) until 2026-12-05T00:00:00Z"})`))
	if err != nil || spent != "passed over: its provider budget of $1 per 1d is spent ($1.02) until 2026-12-05T00:00:00Z" {
		t.Fatalf("a spent budget's explanation reads %q (%v)", spent, err)
	}
	// A deployment of a model its vendor retired says so, closed or open.
	for _, tc := range []struct{ breaker, want string }{
		{`{state: "closed"}`, "its model was retired by Anthropic on 2025-10-22; Anthropic names claude-sonnet-4-6 instead"},
		{`{state: "open", reason: "its upstream does not serve its model: 404 Not Found: model: claude-3-5-sonnet-20241022"}`,
			"its model was retired by Anthropic on 2025-10-22; Anthropic names claude-sonnet-4-6 instead · its upstream does not serve its model: 404 Not Found: model: claude-3-5-sonnet-20241022"},
	} {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`why(`+tc.breaker+`, new Date().toISOString(), `+
			`{retired: "retired by Anthropic on 2025-10-22; Anthropic names claude-sonnet-4-6 instead"})`))
		if err != nil || got != tc.want {
			t.Fatalf("a retired model's explanation reads %q (%v), want %q", got, err, tc.want)
		}
	}
	// Nothing is cut off behind a horizontal scrollbar, on a laptop or a
	// phone.
	for _, size := range []struct {
		name          string
		width, height int64
	}{{"1280", 1280, 900}, {"phone", 390, 844}} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.width, size.height)); err != nil {
			t.Fatal(err)
		}
		overflow, err := chromedp.Run(ctx, chromedp.Evaluate[float64](
			`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
		if err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.ArtifactDir(), "status-page-"+size.name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
		if overflow > 0 {
			t.Fatalf("at %d px the page is %v px wider than the window", size.width, overflow)
		}
	}
	html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"sk-upstream-secret-1", "127.0.0.1:"} {
		if strings.Contains(html, secret) && !strings.Contains(s.url, secret) {
			t.Fatalf("the page reveals %q", secret)
		}
	}
}
