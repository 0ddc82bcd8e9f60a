// Command load measures the latency breakerd adds in front of an upstream
// and its maximum throughput, with vegeta, against breakerd's own mockllm.
// Both run as separate processes built from this repository:
//
//	cd bench/load && go run . [-rate 1000] [-duration 20s]
//
// It prints a Markdown table for BENCHMARKS.md. Traffic goes to loopback
// only.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func main() {
	rate := flag.Int("rate", 1000, "requests per second for the latency runs")
	dur := flag.Duration("duration", 20*time.Second, "length of each latency run")
	maxDur := flag.Duration("max-duration", 10*time.Second, "length of each throughput run")
	workers := flag.Uint64("workers", 64, "concurrent connections for the throughput runs")
	env := flag.String("env", "", "extra environment for the breakerd process only, e.g. GOGC=off,GOMEMLIMIT=40MiB")
	cpus := flag.String("breakerd-cpus", "", "run breakerd with taskset on these CPUs (e.g. 1), to give it a core of its own")
	flag.Parse()
	if err := run(*rate, *dur, *maxDur, *workers, *env, *cpus); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func freePort() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitUp(url string) error {
	for i := 0; i < 200; i++ {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not come up", url)
}

func run(rate int, dur, maxDur time.Duration, workers uint64, env, cpus string) error {
	tmp, err := os.MkdirTemp("", "breakerd-load")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "breakerd")
	build := exec.Command("go", "build", "-o", bin, "./cmd/breakerd")
	build.Dir = filepath.Join("..", "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	mockAddr, gwAddr := freePort(), freePort()
	mock := exec.Command(bin, "mockllm", "--listen", mockAddr, "--name", "load")
	if err := mock.Start(); err != nil {
		return err
	}
	defer mock.Process.Kill()
	cfg := filepath.Join(tmp, "config.yaml")
	if err := os.WriteFile(cfg, []byte(`model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: http://`+mockAddr+`/v1
      api_key: sk-load
router_settings:
  routing_strategy: ordered
logging:
  level: warn
server:
  shutdown_drain: 0s
`), 0o644); err != nil {
		return err
	}
	gw := exec.Command(bin, "serve", "--config", cfg, "--listen", gwAddr)
	if cpus != "" {
		gw = exec.Command("taskset", "-c", cpus, bin, "serve", "--config", cfg, "--listen", gwAddr)
	}
	gw.Stderr = os.Stderr
	if env != "" {
		gw.Env = append(os.Environ(), strings.Split(env, ",")...)
	}
	if err := gw.Start(); err != nil {
		return err
	}
	defer gw.Process.Kill()
	if err := waitUp("http://" + mockAddr + "/v1/models"); err != nil {
		return err
	}
	if err := waitUp("http://" + gwAddr + "/livez"); err != nil {
		return err
	}

	body := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello, how are you today?"}]}`)
	target := func(addr string) vegeta.Targeter {
		return vegeta.NewStaticTargeter(vegeta.Target{Method: "POST", URL: "http://" + addr + "/v1/chat/completions",
			Body: body, Header: http.Header{"Content-Type": {"application/json"}}})
	}
	attack := func(name, addr string, r vegeta.Rate, d time.Duration, w uint64) *vegeta.Metrics {
		opts := []func(*vegeta.Attacker){vegeta.KeepAlive(true), vegeta.Workers(w), vegeta.Connections(int(max(w, 64)))}
		if r.Freq == 0 {
			opts = append(opts, vegeta.MaxWorkers(w))
		}
		a := vegeta.NewAttacker(opts...)
		var m vegeta.Metrics
		for res := range a.Attack(target(addr), r, d, name) {
			m.Add(res)
		}
		m.Close()
		return &m
	}
	// Warm up both paths (connections, JIT-free but caches and pools).
	attack("warm", mockAddr, vegeta.Rate{Freq: rate, Per: time.Second}, 3*time.Second, 32)
	attack("warm", gwAddr, vegeta.Rate{Freq: rate, Per: time.Second}, 3*time.Second, 32)

	direct := attack("direct", mockAddr, vegeta.Rate{Freq: rate, Per: time.Second}, dur, 32)
	via := attack("breakerd", gwAddr, vegeta.Rate{Freq: rate, Per: time.Second}, dur, 32)
	maxDirect := attack("max-direct", mockAddr, vegeta.Rate{}, maxDur, workers)
	maxVia := attack("max-breakerd", gwAddr, vegeta.Rate{}, maxDur, workers)
	rss, hwm := procMem(gw.Process.Pid)

	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }
	fmt.Printf("\nMachine: %d CPUs (%s), %s; load generator, breakerd and mockllm share it.\n\n", runtime.NumCPU(), cpuModel(), runtime.Version())
	fmt.Printf("| run | requests | success | throughput (req/s) | p50 ms | p90 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range []struct {
		name string
		m    *vegeta.Metrics
	}{{fmt.Sprintf("mockllm direct @ %d/s", rate), direct}, {fmt.Sprintf("via breakerd @ %d/s", rate), via},
		{"mockllm direct, max", maxDirect}, {"via breakerd, max", maxVia}} {
		fmt.Printf("| %s | %d | %.2f%% | %.0f | %s | %s | %s | %s |\n", r.name, r.m.Requests, r.m.Success*100, r.m.Throughput,
			ms(r.m.Latencies.P50), ms(r.m.Latencies.P90), ms(r.m.Latencies.P99), ms(r.m.Latencies.Max))
	}
	fmt.Printf("\nAdded by breakerd at %d/s: p50 %s ms, p99 %s ms.\n", rate,
		ms(via.Latencies.P50-direct.Latencies.P50), ms(via.Latencies.P99-direct.Latencies.P99))
	fmt.Printf("breakerd memory after the runs: RSS %.1f MB, peak RSS (VmHWM) %.1f MB.\n", rss, hwm)
	for _, m := range []*vegeta.Metrics{direct, via} {
		if m.Success < 1 {
			fmt.Printf("errors: %v\n", m.Errors)
		}
	}
	return nil
}

// procMem reads a process's current and peak resident memory in MB.
func procMem(pid int) (rss, hwm float64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(fields[1], 64)
		switch fields[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			hwm = kb / 1024
		}
	}
	return rss, hwm
}

func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
