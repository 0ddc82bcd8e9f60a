// Command chaos runs breakerd's fault matrix: a real breakerd in front of
// two mockllm upstreams (a primary with a healthy fallback), under steady
// load (half of it streaming), with one fault injected into the primary
// per row, then healed. It prints one Markdown row per fault: requests
// sent, answered, failed, streams cut after their first byte, calls that
// reached the faulty primary, p99 latency, and when the primary's breaker
// opened after the fault and closed after the heal.
//
//	go run ./bench/chaos [-rate 200] [-fault 30s] [-heal 15s] [-only hang]
//
// Every process and all traffic stay on loopback; each row's load is
// bounded in time.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// row is one fault of the matrix.
type row struct {
	name   string
	faults string // mockllm faults JSON for the primary
	flap   bool   // alternate the fault with health every 2 s
}

var matrix = []row{
	{"none (baseline)", `{}`, false},
	{"503 storm", `{"error_rate":1,"status":503}`, false},
	{"hang (accepts, never answers)", `{"hang":true}`, false},
	{"slow answers (1.5 s)", `{"latency_ms":1500}`, false},
	{"connection resets", `{"reset":true}`, false},
	{"mid-stream cuts (after 3 chunks)", `{"cut_after":3}`, false},
	{"429 with Retry-After: 5", `{"error_rate":1,"status":429,"retry_after":5}`, false},
	{"flapping 503 (2 s on, 2 s off)", `{"error_rate":1,"status":503}`, true},
}

const adminToken = "chaos-admin-token-0123456789"

func main() {
	rate := flag.Int("rate", 200, "client requests per second, half of them streaming")
	faultFor := flag.Duration("fault", 30*time.Second, "how long each fault lasts")
	healFor := flag.Duration("heal", 15*time.Second, "how long the load goes on after each heal")
	only := flag.String("only", "", "run only the rows whose name contains this")
	flag.Parse()
	if err := run(*rate, *faultFor, *healFor, *only); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
}

func run(rate int, faultFor, healFor time.Duration, only string) error {
	dir, err := os.MkdirTemp("", "breakerd-chaos")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "breakerd")
	build := exec.Command("go", "build", "-o", bin, "./cmd/breakerd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w (run from the repository root)", err)
	}
	primary, fallback, gw := freeAddr(), freeAddr(), freeAddr()
	for _, m := range []struct{ addr, name string }{{primary, "primary"}, {fallback, "fallback"}} {
		stop, err := start(bin, "mockllm", "--listen", m.addr, "--name", m.name)
		if err != nil {
			return err
		}
		defer stop()
	}
	cfg := filepath.Join(dir, "chaos.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`model_list:
  - model_name: chat
    litellm_params: {model: openai/primary, api_base: "http://%s/v1", api_key: chaos-key-1, timeout: 5, stream_timeout: 2}
  - model_name: backup
    litellm_params: {model: openai/fallback, api_base: "http://%s/v1", api_key: chaos-key-2}
router_settings:
  routing_strategy: ordered
  fallbacks: [{chat: [backup]}]
  num_retries: 1
  retry_backoff: 50ms
  circuit_breaker: {failure_threshold: 5, recovery_timeout: 2, success_threshold: 2, max_recovery_timeout: 10}
admin: {token: %s}
server: {listen: "%s", shutdown_drain: 0s}
logging: {level: error}
`, primary, fallback, adminToken, gw)), 0o600); err != nil {
		return err
	}
	stop, err := start(bin, "serve", cfg)
	if err != nil {
		return err
	}
	defer stop()
	for _, a := range []string{primary, fallback, gw} {
		if err := waitUp(a); err != nil {
			return err
		}
	}
	fmt.Printf("breakerd fault matrix: %d req/s (half streaming), each fault %s then healed for %s; %d CPUs, %s/%s\n\n",
		rate, faultFor, healFor, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	fmt.Println("| fault | sent | ok | failed | cut mid-stream | calls to the faulty primary | p99 | breaker opened after | closed after heal |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, r := range matrix {
		if only != "" && !strings.Contains(r.name, only) {
			continue
		}
		res := runRow(r, rate, faultFor, healFor, primary, gw)
		fmt.Printf("| %s | %d | %d | %d | %d | %d | %s | %s | %s |\n", r.name, res.sent, res.ok, res.failed, res.cut,
			res.faultyCalls, res.p99.Round(time.Millisecond), res.opened, res.closed)
	}
	return nil
}

type result struct {
	sent, ok, failed, cut, faultyCalls int64
	p99                                time.Duration
	opened, closed                     string
}

func runRow(r row, rate int, faultFor, healFor time.Duration, primary, gw string) result {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512}}
	defer client.CloseIdleConnections()
	setFaults(client, primary, `{}`)
	post(client, "http://"+gw+"/admin/breakers/chat/openai/primary:chat/reset", "")
	var res result
	var mu sync.Mutex
	var lat []time.Duration
	ctx, cancel := context.WithTimeout(context.Background(), faultFor+healFor)
	defer cancel()
	var wg sync.WaitGroup
	var n atomic.Int64
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	before := stats(client, primary)
	start := time.Now()
	setFaults(client, primary, r.faults)
	faultOn, healed := true, false
	var openedAt, closedAt time.Duration
	watch := time.NewTicker(100 * time.Millisecond)
	defer watch.Stop()
	var faultyCalls int64
	for loop := true; loop; {
		select {
		case <-ctx.Done():
			loop = false
		case <-watch.C:
			el := time.Since(start)
			if r.flap && !healed && int(el/(2*time.Second))%2 == 1 == faultOn {
				faultOn = !faultOn
				if faultOn {
					setFaults(client, primary, r.faults)
				} else {
					setFaults(client, primary, `{}`)
				}
			}
			if !healed && el >= faultFor {
				healed = true
				faultyCalls = stats(client, primary) - before
				setFaults(client, primary, `{}`)
			}
			st := breakerState(client, gw)
			if openedAt == 0 && !healed && st == "open" {
				openedAt = el
			}
			if healed && openedAt != 0 && closedAt == 0 && st == "closed" {
				closedAt = el - faultFor
			}
		case <-tick.C:
			stream := n.Add(1)%2 == 0
			wg.Go(func() {
				t0 := time.Now()
				outcome := request(client, gw, stream)
				d := time.Since(t0)
				mu.Lock()
				defer mu.Unlock()
				res.sent++
				switch outcome {
				case "ok":
					res.ok++
					lat = append(lat, d)
				case "cut":
					res.cut++
				default:
					res.failed++
				}
			})
		}
	}
	wg.Wait()
	if !healed {
		faultyCalls = stats(client, primary) - before
	}
	res.faultyCalls = faultyCalls
	slices.Sort(lat)
	if len(lat) > 0 {
		res.p99 = lat[len(lat)*99/100]
	}
	res.opened, res.closed = "never", "-"
	if openedAt > 0 {
		res.opened = openedAt.Round(100 * time.Millisecond).String()
		res.closed = "not within the heal window"
		if closedAt > 0 {
			res.closed = closedAt.Round(100 * time.Millisecond).String()
		}
	}
	return res
}

// request sends one chat request and classifies it: ok, cut (a stream
// that broke after its first byte), or failed.
func request(client *http.Client, gw string, stream bool) string {
	body := `{"model":"chat","messages":[{"role":"user","content":"chaos"}]` + map[bool]string{true: `,"stream":true}`, false: `}`}[stream]
	resp, err := client.Post("http://"+gw+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		return "failed"
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		_, _ = io.Copy(io.Discard, resp.Body)
		return "failed"
	}
	if !stream {
		_, _ = io.Copy(io.Discard, resp.Body)
		return "ok"
	}
	sc := bufio.NewScanner(resp.Body)
	last := ""
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			last = l
		}
	}
	if last == "data: [DONE]" {
		return "ok"
	}
	return "cut"
}

func breakerState(client *http.Client, gw string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://"+gw+"/admin/breakers", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := client.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var out struct {
		Breakers []struct {
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"breakers"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	for _, b := range out.Breakers {
		if b.Name == "chat/openai/primary:chat" {
			return b.State
		}
	}
	return ""
}

func stats(client *http.Client, mock string) int64 {
	resp, err := client.Get("http://" + mock + "/_mock/stats")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var s struct {
		Requests int64 `json:"requests"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&s)
	return s.Requests
}

func setFaults(client *http.Client, mock, faults string) {
	req, _ := http.NewRequest(http.MethodPut, "http://"+mock+"/_mock/faults", strings.NewReader(faults))
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
	}
}

func post(client *http.Client, url, body string) {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
	}
}

func start(bin string, args ...string) (func(), error) {
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }, nil
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitUp(addr string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not come up", addr)
}
