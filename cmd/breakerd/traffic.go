package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// cmdTraffic sends steady chat traffic to a gateway and, if given a mock's
// control URL, breaks that mock for a while every cycle, so that a demo
// stack's dashboards show outages and recoveries.
func cmdTraffic(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("traffic", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:4000", "gateway base URL")
	model := fs.String("model", "gpt-4o-mini", "model group to request")
	rps := fs.Int("rps", 5, "requests per second")
	breakURL := fs.String("break", "", "a mockllm base URL to break and heal in cycles")
	cycle := fs.Duration("cycle", 5*time.Minute, "length of one break/heal cycle")
	down := fs.Duration("down", time.Minute, "how long the mock is broken in each cycle")
	if err := fs.Parse(args); err != nil {
		return err
	}
	client := &http.Client{Timeout: 30 * time.Second}
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"Hello from the traffic generator"}]}`, *model)
	tick := time.NewTicker(time.Second / time.Duration(max(*rps, 1)))
	defer tick.Stop()
	start := time.Now()
	broken := false
	sent := 0
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintf(stdout, "traffic: sent %d requests\n", sent)
			return nil
		case <-tick.C:
		}
		if *breakURL != "" {
			want := time.Since(start)%*cycle >= *cycle-*down
			if want != broken {
				broken = want
				faults := `{}`
				if broken {
					faults = `{"error_rate":1,"status":503}`
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPut, *breakURL+"/_mock/faults", strings.NewReader(faults))
				if resp, err := client.Do(req); err == nil {
					resp.Body.Close()
				}
				fmt.Fprintf(stdout, "traffic: mock broken=%v\n", broken)
			}
		}
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, *url+"/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
		sent++
	}
}
