package main

import (
	"bytes"
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/daemon"
	"github.com/breakerd/breakerd/mockllm"
)

//go:embed demo.yaml
var demoConfig []byte

// demoOptions shape a demo run; the flags set them.
type demoOptions struct {
	Listen   string
	Duration time.Duration // 0: until interrupted
	RPS      int
	BreakAt  time.Duration
	HealAt   time.Duration
	Recovery time.Duration
	Tick     time.Duration
}

// demoSummary is what a demo run ends with.
type demoSummary struct {
	Requests      int64
	ClientErrors  int64
	ServedPrimary int64
	ServedBackup  int64
	DeadCalls     int64 // upstream calls to the primary while it was broken
	TimeToOpen    time.Duration
	TimeToRecover time.Duration
	Opened        bool
	Recovered     bool
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := demoOptions{Tick: time.Second}
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:4000", "gateway listen address (a free port is used if it is taken)")
	fs.DurationVar(&o.Duration, "duration", 60*time.Second, "how long to run; 0 runs until interrupted")
	fs.IntVar(&o.RPS, "rps", 10, "client requests per second")
	fs.DurationVar(&o.BreakAt, "break-at", 10*time.Second, "when the primary provider starts failing")
	fs.DurationVar(&o.HealAt, "heal-at", 30*time.Second, "when the primary provider recovers")
	fs.DurationVar(&o.Recovery, "recovery-timeout", 8*time.Second, "circuit breaker recovery_timeout")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.Duration > 0 && o.Duration != 60*time.Second && !set["break-at"] && !set["heal-at"] {
		// A shorter (or longer) run keeps the plan's shape: the break at a
		// sixth of it, the heal at half.
		o.BreakAt, o.HealAt = o.Duration/6, o.Duration/2
	}
	if o.Duration > 0 && o.HealAt >= o.Duration {
		fmt.Fprintf(stderr, "breakerd demo: the primary heals at %s, after the run ends at %s: no recovery will show\n", o.HealAt, o.Duration)
	}
	_, err := runDemo(ctx, o, stdout)
	return err
}

func runDemo(ctx context.Context, o demoOptions, out io.Writer) (demoSummary, error) {
	var sum demoSummary
	if o.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}
	primary := mockllm.New(mockllm.Options{Name: "openai-mock", APIKey: "demo-openai-key"})
	backup := mockllm.New(mockllm.Options{Name: "claude-mock", APIKey: "demo-claude-key"})
	pURL, stopP, err := serveLoopback(primary.Handler())
	if err != nil {
		return sum, err
	}
	defer stopP()
	bURL, stopB, err := serveLoopback(backup.Handler())
	if err != nil {
		return sum, err
	}
	defer stopB()

	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		fmt.Fprintf(out, "%s is taken (%v); using a free port\n", o.Listen, err)
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return sum, err
		}
	}
	env := map[string]string{
		"DEMO_PRIMARY_URL": pURL, "DEMO_FALLBACK_URL": bURL, "DEMO_LISTEN": ln.Addr().String(),
		"DEMO_PRIMARY_KEY": "demo-openai-key", "DEMO_FALLBACK_KEY": "demo-claude-key",
		"DEMO_RECOVERY_TIMEOUT": o.Recovery.String(),
	}
	cfg, err := config.Parse("demo.yaml (embedded)", demoConfig, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		ln.Close()
		return sum, err
	}
	d, err := daemon.New(daemon.Options{Config: cfg})
	if err != nil {
		ln.Close()
		return sum, err
	}
	defer d.Close()
	base := "http://" + ln.Addr().String()
	srvCtx, stopSrv := context.WithCancel(context.Background())
	srvDone := make(chan error, 1)
	go func() { srvDone <- d.Serve(srvCtx, ln) }()
	defer func() { stopSrv(); <-srvDone }()

	start := time.Now()
	var (
		mu                 sync.Mutex
		brokeAt, healedAt  time.Time
		openedAt, closedAt time.Time
		events             []string
	)
	const primaryBreaker = "gpt-4o-mini/openai/gpt-4o-mini:chat"
	d.Gateway().Registry().AddListener(func(t breaker.Transition) {
		mu.Lock()
		defer mu.Unlock()
		if t.Breaker == primaryBreaker {
			if t.To == breaker.Open && openedAt.IsZero() && !brokeAt.IsZero() {
				openedAt = time.Now()
			}
			if t.To == breaker.Closed && closedAt.IsZero() && !healedAt.IsZero() {
				closedAt = time.Now()
			}
		}
		events = append(events, fmt.Sprintf("         >> circuit %s: %s -> %s (%s)", t.Breaker, t.From, t.To, t.Reason))
	})

	fmt.Fprintf(out, "breakerd demo: gateway on %s\n", base)
	fmt.Fprintf(out, "  primary  gpt-4o-mini        -> OpenAI mock    %s\n  fallback claude-sonnet      -> Anthropic mock %s (answers in OpenAI format)\n", pURL, bURL)
	fmt.Fprintf(out, "  status page %s/   metrics %s/metrics   health %s/health   %s/health/circuit-breakers\n", base, base, base, base)
	fmt.Fprintf(out, "  try it:  curl %s/v1/chat/completions -H 'Content-Type: application/json' -d '{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}'\n", base)
	fmt.Fprintf(out, "  plan:    primary fails at %s, heals at %s; recovery_timeout %s\n\n", o.BreakAt, o.HealAt, o.Recovery)

	client := &http.Client{Timeout: 15 * time.Second}
	var requests, clientErrs, servedP, servedB, tickOK, tickErr, tickP, tickB atomic.Int64
	var wg sync.WaitGroup
	send := func() {
		defer wg.Done()
		body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}`
		req, _ := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, base+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		requests.Add(1)
		if err != nil {
			clientErrs.Add(1)
			tickErr.Add(1)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			clientErrs.Add(1)
			tickErr.Add(1)
			return
		}
		tickOK.Add(1)
		if resp.Header.Get("X-Breakerd-Fallback") == "true" {
			servedB.Add(1)
			tickB.Add(1)
		} else {
			servedP.Add(1)
			tickP.Add(1)
		}
	}
	setFaults := func(f mockllm.Faults) {
		b := fmt.Sprintf(`{"error_rate":%v,"status":%d}`, f.ErrorRate, f.Status)
		req, _ := http.NewRequest(http.MethodPut, pURL+"/_mock/faults", bytes.NewBufferString(b))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}

	interval := time.Second / time.Duration(max(o.RPS, 1))
	reqTick := time.NewTicker(interval)
	defer reqTick.Stop()
	report := time.NewTicker(o.Tick)
	defer report.Stop()
	var deadBefore int64
	broken, healed := false, false
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-reqTick.C:
			elapsed := time.Since(start)
			if !broken && elapsed >= o.BreakAt {
				broken = true
				deadBefore = primary.Stats().Chat
				mu.Lock()
				brokeAt = time.Now()
				mu.Unlock()
				setFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
				fmt.Fprintf(out, "         !! primary provider starts failing (every call returns 503)\n")
			}
			if broken && !healed && elapsed >= o.HealAt {
				healed = true
				sum.DeadCalls = primary.Stats().Chat - deadBefore
				mu.Lock()
				healedAt = time.Now()
				mu.Unlock()
				setFaults(mockllm.Faults{})
				fmt.Fprintf(out, "         !! primary provider is healthy again\n")
			}
			wg.Add(1)
			go send()
		case <-report.C:
			b, _ := d.Gateway().Registry().Lookup(primaryBreaker)
			mu.Lock()
			for _, e := range events {
				fmt.Fprintln(out, e)
			}
			events = nil
			mu.Unlock()
			fmt.Fprintf(out, "[%5.0fs] primary circuit %-9s | ok %3d  client errors %d | served by primary %3d  fallback %3d | primary upstream calls %d\n",
				time.Since(start).Seconds(), b.State(), tickOK.Swap(0), tickErr.Swap(0), tickP.Swap(0), tickB.Swap(0), primary.Stats().Chat)
		}
	}
	wg.Wait()
	if broken && !healed {
		sum.DeadCalls = primary.Stats().Chat - deadBefore
	}
	mu.Lock()
	for _, e := range events {
		fmt.Fprintln(out, e)
	}
	sum.Requests, sum.ClientErrors = requests.Load(), clientErrs.Load()
	sum.ServedPrimary, sum.ServedBackup = servedP.Load(), servedB.Load()
	if !openedAt.IsZero() {
		sum.Opened, sum.TimeToOpen = true, openedAt.Sub(brokeAt)
	}
	if !closedAt.IsZero() {
		sum.Recovered, sum.TimeToRecover = true, closedAt.Sub(healedAt)
	}
	mu.Unlock()

	fmt.Fprintln(out, "\nsummary")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  requests\t%d\n", sum.Requests)
	fmt.Fprintf(tw, "  client errors\t%d\n", sum.ClientErrors)
	fmt.Fprintf(tw, "  served by primary / fallback\t%d / %d\n", sum.ServedPrimary, sum.ServedBackup)
	fmt.Fprintf(tw, "  upstream calls to the dead primary\t%d (the rest fast-failed to the fallback)\n", sum.DeadCalls)
	fmt.Fprintf(tw, "  time to open\t%s\n", fmtDur(sum.Opened, sum.TimeToOpen))
	fmt.Fprintf(tw, "  time to recover\t%s\n", fmtDur(sum.Recovered, sum.TimeToRecover))
	_ = tw.Flush()
	return sum, nil
}

func fmtDur(ok bool, d time.Duration) string {
	if !ok {
		return "n/a"
	}
	return d.Round(10 * time.Millisecond).String()
}

// serveLoopback serves h on a free loopback port and returns its URL.
func serveLoopback(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h}
	done := make(chan struct{})
	go func() { _ = srv.Serve(ln); close(done) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close(); <-done }, nil
}
