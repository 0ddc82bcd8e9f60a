package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
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
	// Not a flag default: -h prints defaults, and this is a secret.
	apiKey := fs.String("api-key", "", "the gateway's master key, if it has one (default $BREAKERD_API_KEY)")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if *apiKey == "" {
		*apiKey = os.Getenv("BREAKERD_API_KEY")
	}
	client := &http.Client{Timeout: 30 * time.Second}
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"Hello from the traffic generator"}]}`, *model)
	tick := time.NewTicker(time.Second / time.Duration(max(*rps, 1)))
	defer tick.Stop()
	var (
		wg                  sync.WaitGroup
		sent                int
		ok, failed, unreach atomic.Int64
	)
	start := time.Now()
	broken := false
	for {
		select {
		case <-ctx.Done():
			wg.Wait() // in-flight requests end with ctx
			fmt.Fprintf(stdout, "traffic: sent %d requests: %d ok, %d errors, %d not answered\n",
				sent, ok.Load(), failed.Load(), unreach.Load())
			return nil
		case <-tick.C:
		}
		if *breakURL != "" {
			if want := time.Since(start)%*cycle >= *cycle-*down; want != broken {
				broken = want
				setMockFaults(ctx, client, *breakURL, broken, stderr)
				fmt.Fprintf(stdout, "traffic: mock broken=%v\n", broken)
			}
		}
		sent++
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, *url+"/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if *apiKey != "" {
				req.Header.Set("Authorization", "Bearer "+*apiKey)
			}
			resp, err := client.Do(req)
			if err != nil {
				unreach.Add(1)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ok.Add(1)
			} else {
				failed.Add(1)
			}
		})
	}
}

// setMockFaults breaks a mockllm (every call a 503) or heals it.
func setMockFaults(ctx context.Context, client *http.Client, base string, broken bool, stderr io.Writer) {
	faults := `{}`
	if broken {
		faults = `{"error_rate":1,"status":503}`
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/_mock/faults", strings.NewReader(faults))
	if err != nil {
		fmt.Fprintf(stderr, "traffic: %v\n", err)
		return
	}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "traffic: set faults: %v\n", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		fmt.Fprintf(stderr, "traffic: set faults: %s\n", resp.Status)
	}
}
