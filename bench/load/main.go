// Command load measures the latency breakerd adds in front of an upstream
// and its maximum throughput, with vegeta, against breakerd's own mockllm.
// Both run as separate processes built from this repository:
//
//	cd bench/load && go run . [-rate 1000] [-duration 20s]
//
// The latency runs are interleaved: one slice at a time against each
// target in turn, so that drift in the host's load falls on every target
// alike instead of on whichever ran last. Besides mockllm directly and
// breakerd, a third target is a plain Go reverse proxy
// (net/http/httputil) in its own process: the cost of one more loopback
// HTTP hop with nothing else done, the floor for any proxy here.
//
// It prints a Markdown table for BENCHMARKS.md. Traffic goes to loopback
// only.
package main

import (
	"bufio"
	"cmp"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// options are the command's flags.
type options struct {
	rate                   int
	dur, maxDur, slice     time.Duration
	workers                uint64
	env, cpus, dump        string
	variantEnv, variantBin string
	nginx                  bool
	overload               bool
	breakerdBin, bin       string
	profile                string
	streams, streamWords   int
	streamPrompt           int
	streamInterval         time.Duration
	streamRamp             time.Duration
	upstreamH2C            bool
	cpuQuota               float64
	maxConns               int
	offered                int
	timeline               bool
}

func main() {
	var o options
	flag.IntVar(&o.rate, "rate", 1000, "requests per second for the latency runs")
	flag.DurationVar(&o.dur, "duration", 20*time.Second, "length of each latency run")
	flag.DurationVar(&o.maxDur, "max-duration", 10*time.Second, "length of each throughput run")
	flag.Uint64Var(&o.workers, "workers", 64, "concurrent connections for the throughput runs")
	flag.StringVar(&o.env, "env", "", "extra environment for the breakerd process only, e.g. GOGC=off,GOMEMLIMIT=40MiB")
	flag.StringVar(&o.cpus, "breakerd-cpus", "", "run breakerd with taskset on these CPUs (e.g. 1), to give it a core of its own (the plain proxy gets them too: the targets take turns)")
	flag.IntVar(&o.maxConns, "max-connections", 0, "breakerd's server.max_connections (0: its default)")
	flag.Float64Var(&o.cpuQuota, "breakerd-cpu-quota", 0, "run breakerd in a cgroup of its own with this many CPUs (e.g. 0.5), first call on them: the load generator and mockllm keep the rest (needs root and a writable cgroup cpu controller)")
	flag.DurationVar(&o.slice, "slice", time.Second, "length of one interleaved latency slice")
	flag.BoolVar(&o.nginx, "nginx", false, "also measure nginx as a reverse proxy (needs nginx on PATH)")
	flag.StringVar(&o.dump, "dump", "", "write every latency-run response as CSV (target, unix µs sent, latency µs) to this file")
	flag.StringVar(&o.variantEnv, "variant-env", "", "also measure a second breakerd with this extra environment, e.g. GOMAXPROCS=1, as an A/B within one run")
	flag.StringVar(&o.variantBin, "variant-bin", "", "also measure a second breakerd built elsewhere (a path to its binary), as an A/B within one run")
	flag.BoolVar(&o.overload, "overload", false, "overload mode: offer 3x breakerd's maximum throughput for -duration, open loop, upstream answering in 20 ms")
	flag.IntVar(&o.offered, "offered", 0, "overload mode: offer this many req/s instead of 3x the measured maximum")
	flag.IntVar(&o.streams, "streams", 0, "streaming mode: hold this many concurrent streams against each target (direct, plain proxy, breakerd)")
	flag.IntVar(&o.streamWords, "stream-words", 300, "streaming mode: chunks per stream")
	flag.IntVar(&o.streamPrompt, "stream-prompt-bytes", 0, "streaming mode: pad each request's prompt to about this many bytes (real prompts run to tens of KB)")
	flag.DurationVar(&o.streamInterval, "stream-interval", 50*time.Millisecond, "streaming mode: mockllm's pause between chunks (ms resolution)")
	flag.DurationVar(&o.streamRamp, "stream-ramp", 0, "streaming mode: start the streams evenly over this long instead of all at once")
	flag.BoolVar(&o.upstreamH2C, "upstream-h2c", false, "breakerd (http2_prior_knowledge) and the plain proxy call mockllm over cleartext HTTP/2 instead of HTTP/1.1")
	flag.StringVar(&o.profile, "profile", "", "write breakerd's CPU profile of the latency runs and its allocation profile to this directory (cpu.pprof, allocs.pprof), and its CPU profile at maximum throughput (cpu-max.pprof), or of the overload (-overload: cpu-overload.pprof), or its CPU, heap and goroutines halfway through the streams (-streams: cpu-streams.pprof, heap-streams.pprof, goroutine-streams.pprof), through serve --pprof")
	flag.BoolVar(&o.timeline, "timeline", false, "-overload: print breakerd's CPU use, load shedding state (from its /metrics on a listener of their own) and RSS every 500 ms of the overload")
	flag.StringVar(&o.breakerdBin, "breakerd-bin", "", "measure this breakerd binary instead of building the tree (for a before/after)")
	flag.StringVar(&o.bin, "bin", "", "run mockllm and breakerd from this binary instead of building the tree (a machine without Go: bench/device.sh)")
	proxy := flag.String("reverse-proxy", "", "internal: serve a plain reverse proxy on LISTEN=UPSTREAM and nothing else")
	flag.Parse()
	if *proxy != "" {
		// The plain proxy gets the same upstream transport as breakerd:
		// cleartext HTTP/2 with a 256 KB stream window, or HTTP/1.1.
		listen, upstream, _ := strings.Cut(*proxy, "=")
		u, err := url.Parse(upstream)
		if err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			os.Exit(1)
		}
		rp := httputil.NewSingleHostReverseProxy(u)
		t := &http.Transport{MaxIdleConnsPerHost: 256}
		if o.upstreamH2C {
			t.Protocols = new(http.Protocols)
			t.Protocols.SetUnencryptedHTTP2(true)
			t.HTTP2 = &http.HTTP2Config{MaxReceiveBufferPerStream: 256 << 10}
		}
		rp.Transport = t
		fmt.Fprintln(os.Stderr, "load:", http.ListenAndServe(listen, rp))
		os.Exit(1)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

const breakerdName = "via breakerd"

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

func run(o options) error {
	rate, dur, maxDur, slice, workers, env, cpus, dump := o.rate, o.dur, o.maxDur, o.slice, o.workers, o.env, o.cpus, o.dump
	tmp, err := os.MkdirTemp("", "breakerd-load")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := o.bin
	if bin == "" {
		bin = filepath.Join(tmp, "breakerd")
		build := exec.Command("go", "build", "-o", bin, "./cmd/breakerd")
		build.Dir = filepath.Join("..", "..")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build: %w", err)
		}
	}
	gwBin := cmp.Or(o.breakerdBin, bin)
	mockAddr, gwAddr := freePort(), freePort()
	mock := exec.Command(bin, "mockllm", "--listen", mockAddr, "--name", "load")
	if err := mock.Start(); err != nil {
		return err
	}
	defer mock.Process.Kill()
	cfg := filepath.Join(tmp, "config.yaml")
	h2cKey, serverKeys := "", ""
	if o.upstreamH2C {
		h2cKey = "\n      http2_prior_knowledge: true"
	}
	if o.streams > 0 {
		// Room for every stream's client connection: the default keeps
		// half the descriptors for HTTP/1.1 upstream connections.
		serverKeys = fmt.Sprintf("\n  max_connections: %d", o.streams+1000)
	}
	if o.maxConns > 0 {
		serverKeys = fmt.Sprintf("\n  max_connections: %d", o.maxConns)
	}
	metricsAddr := gwAddr
	if o.timeline {
		// A listener of their own: the API listener's new connections
		// may wait while breakerd sheds.
		metricsAddr = freePort()
		serverKeys += "\n  metrics_listen: " + metricsAddr
	}
	if err := os.WriteFile(cfg, []byte(`model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: http://`+mockAddr+`/v1
      api_key: sk-load`+h2cKey+`
router_settings:
  routing_strategy: ordered
logging:
  level: warn
server:
  shutdown_drain: 0s`+serverKeys+`
`), 0o644); err != nil {
		return err
	}
	cgroupProcs := ""
	if o.cpuQuota > 0 {
		procs, remove, err := cpuCgroup(o.cpuQuota)
		if err != nil {
			return fmt.Errorf("-breakerd-cpu-quota: %w", err)
		}
		defer remove()
		cgroupProcs = procs
	}
	serve := func(bin, addr, extraEnv string, extraArgs ...string) (*exec.Cmd, error) {
		args := append([]string{bin, "serve", "--config", cfg, "--listen", addr}, extraArgs...)
		if cpus != "" {
			args = append([]string{"taskset", "-c", cpus}, args...)
		}
		if cgroupProcs != "" { // join the cgroup before exec, so that Go sizes GOMAXPROCS by it
			args = append([]string{"sh", "-c", `echo $$ > "$0" && exec "$@"`, cgroupProcs}, args...)
		}
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stderr = os.Stderr
		cmd.Env = os.Environ()
		for _, e := range []string{env, extraEnv} {
			if e != "" {
				cmd.Env = append(cmd.Env, strings.Split(e, ",")...)
			}
		}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		return cmd, waitUp("http://" + addr + "/livez")
	}
	var gwArgs []string
	pprofAddr := ""
	if o.profile != "" {
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			return err
		}
		pprofAddr = freePort()
		gwArgs = []string{"--pprof", pprofAddr}
	}
	gw, err := serve(gwBin, gwAddr, "", gwArgs...)
	if gw != nil {
		defer gw.Process.Kill()
	}
	if err != nil {
		return err
	}
	if o.overload {
		if err := waitUp("http://" + mockAddr + "/v1/models"); err != nil {
			return err
		}
		return overload(o, mockAddr, gwAddr, metricsAddr, pprofAddr, gw.Process.Pid)
	}
	varAddr, varPid, variant := "", 0, strings.TrimSpace(o.variantEnv+" "+o.variantBin)
	if variant != "" {
		varAddr = freePort()
		v, err := serve(cmp.Or(o.variantBin, bin), varAddr, o.variantEnv)
		if v != nil {
			defer v.Process.Kill()
			varPid = v.Process.Pid
		}
		if err != nil {
			return err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	rpAddr := freePort()
	rpArgs := []string{self, "-reverse-proxy", rpAddr + "=http://" + mockAddr, fmt.Sprintf("-upstream-h2c=%t", o.upstreamH2C)}
	if cpus != "" { // the plain proxy gets breakerd's cores: the targets take turns
		rpArgs = append([]string{"taskset", "-c", cpus}, rpArgs...)
	}
	rp := exec.Command(rpArgs[0], rpArgs[1:]...)
	rp.Stderr = os.Stderr
	if err := rp.Start(); err != nil {
		return err
	}
	defer rp.Process.Kill()
	if err := waitUp("http://" + mockAddr + "/v1/models"); err != nil {
		return err
	}
	if err := waitUp("http://" + rpAddr + "/v1/models"); err != nil {
		return err
	}
	if o.streams > 0 {
		targets := []streamTarget{{"mockllm direct", mockAddr, mock.Process.Pid, false, ""}, {"via plain Go reverse proxy", rpAddr, rp.Process.Pid, false, ""},
			{"via breakerd", gwAddr, gw.Process.Pid, true, pprofAddr}}
		if variant != "" {
			targets = append(targets, streamTarget{"via breakerd " + variant, varAddr, varPid, true, ""})
		}
		return streams(o, targets, mockAddr)
	}
	nginxAddr, nginxPid := "", 0
	if o.nginx {
		nginxAddr = freePort()
		pid, stop, err := startNginx(tmp, nginxAddr, mockAddr)
		nginxPid = pid
		if err != nil {
			return err
		}
		defer stop()
		if err := waitUp("http://" + nginxAddr + "/v1/models"); err != nil {
			return err
		}
	}

	body := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello, how are you today?"}]}`)
	target := func(addr string) vegeta.Targeter {
		return vegeta.NewStaticTargeter(vegeta.Target{Method: "POST", URL: "http://" + addr + "/v1/chat/completions",
			Body: body, Header: http.Header{"Content-Type": {"application/json"}}})
	}
	// One client per target, shared by the attackers of all its slices, so
	// that connections stay warm across slices.
	clients := map[string]*http.Client{}
	var overheads []time.Duration // X-Breakerd-Overhead-Ms of the latency runs
	var csv []byte                // -dump
	attack := func(name, addr string, r vegeta.Rate, d time.Duration, w uint64, m *vegeta.Metrics) {
		c := clients[addr]
		if c == nil {
			c = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: int(max(w, 64))}}
			clients[addr] = c
		}
		opts := []func(*vegeta.Attacker){vegeta.Client(c), vegeta.Workers(w)}
		if r.Freq == 0 {
			opts = append(opts, vegeta.MaxWorkers(w))
		}
		for res := range vegeta.NewAttacker(opts...).Attack(target(addr), r, d, name) {
			m.Add(res)
			if dump != "" && r.Freq != 0 && name != "warm" {
				csv = fmt.Appendf(csv, "%q,%d,%d\n", name, res.Timestamp.UnixMicro(), res.Latency.Microseconds())
			}
			if ms, err := strconv.ParseFloat(res.Headers.Get("X-Breakerd-Overhead-Ms"), 64); err == nil && name == breakerdName {
				overheads = append(overheads, time.Duration(ms*float64(time.Millisecond)))
			}
		}
	}
	pace := vegeta.Rate{Freq: rate, Per: time.Second}
	type loadTarget struct {
		name, addr string
		m          vegeta.Metrics
	}
	targets := []loadTarget{{name: "mockllm direct", addr: mockAddr}, {name: "via plain Go reverse proxy", addr: rpAddr}, {name: breakerdName, addr: gwAddr}}
	extra := map[string]int{} // target name -> pid, beyond the first three
	if nginxAddr != "" {
		targets = append(targets, loadTarget{name: "via nginx", addr: nginxAddr})
		extra["via nginx"] = nginxPid
	}
	if varAddr != "" {
		name := "via breakerd with " + variant
		targets = append(targets, loadTarget{name: name, addr: varAddr})
		extra[name] = varPid
	}
	for i := range targets { // warm-up: connections, pools, caches
		var warm vegeta.Metrics
		attack("warm", targets[i].addr, pace, 3*time.Second, 32, &warm)
	}
	// CPU each process uses in the latency runs, per request it served.
	pids := []int{mock.Process.Pid, rp.Process.Pid, gw.Process.Pid}
	for _, t := range targets[3:] {
		pids = append(pids, extra[t.name])
	}
	cpuBefore := make([]time.Duration, len(pids))
	userBefore := make([]time.Duration, len(pids))
	for i, pid := range pids {
		u, s := procCPUSplit(pid)
		cpuBefore[i], userBefore[i] = u+s, u
	}
	profiled := make(chan error, 1)
	if pprofAddr != "" {
		// Allocations count from here: the warm-up's are in the profile's
		// base, which pprof -base subtracts.
		if err := fetch("http://"+pprofAddr+"/debug/pprof/allocs", filepath.Join(o.profile, "allocs-base.pprof")); err != nil {
			return err
		}
		go func() {
			profiled <- fetch(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, max(int(dur.Seconds())-1, 1)),
				filepath.Join(o.profile, "cpu.pprof"))
		}()
	} else {
		profiled <- nil
	}
	for n := range int(dur / slice) {
		for k := range targets {
			t := &targets[(n+k)%len(targets)] // rotate who goes first
			attack(t.name, t.addr, pace, slice, 32, &t.m)
		}
	}
	cpuUsed := make([]time.Duration, len(pids))
	userUsed := make([]time.Duration, len(pids))
	for i, pid := range pids {
		u, s := procCPUSplit(pid)
		cpuUsed[i], userUsed[i] = u+s-cpuBefore[i], u-userBefore[i]
	}
	if err := <-profiled; err != nil {
		return err
	}
	if pprofAddr != "" {
		if err := fetch("http://"+pprofAddr+"/debug/pprof/allocs", filepath.Join(o.profile, "allocs.pprof")); err != nil {
			return err
		}
	}
	if dump != "" {
		if err := os.WriteFile(dump, csv, 0o644); err != nil {
			return err
		}
	}
	// Maximum throughput, closed loop, one target at a time; the proxies'
	// CPU per request here is the second figure (at maximum).
	var maxDirect, maxPlain, maxVia vegeta.Metrics
	attack("max-direct", mockAddr, vegeta.Rate{}, maxDur, workers, &maxDirect)
	cpu0 := procCPU(pids[1])
	attack("max-plain", rpAddr, vegeta.Rate{}, maxDur, workers, &maxPlain)
	cpuMaxPlain := procCPU(pids[1]) - cpu0
	cpu0 = procCPU(pids[2])
	if pprofAddr != "" {
		go func() {
			profiled <- fetch(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, max(int(maxDur.Seconds())-1, 1)),
				filepath.Join(o.profile, "cpu-max.pprof"))
		}()
	}
	attack("max-breakerd", gwAddr, vegeta.Rate{}, maxDur, workers, &maxVia)
	cpuMaxVia := procCPU(pids[2]) - cpu0
	if pprofAddr != "" {
		if err := <-profiled; err != nil {
			return err
		}
	}
	// The other targets (nginx, a variant) at maximum too: a variant's
	// maximum is the before/after of a throughput change.
	maxExtra := make([]vegeta.Metrics, len(targets)-3)
	cpuMaxExtra := make([]time.Duration, len(maxExtra))
	for i, t := range targets[3:] {
		cpu0 = procCPU(pids[3+i])
		attack("max-"+t.name, t.addr, vegeta.Rate{}, maxDur, workers, &maxExtra[i])
		cpuMaxExtra[i] = procCPU(pids[3+i]) - cpu0
	}
	type row struct {
		name string
		m    *vegeta.Metrics
	}
	var rows []row
	for i := range targets {
		targets[i].m.Close()
		rows = append(rows, row{fmt.Sprintf("%s @ %d/s", targets[i].name, rate), &targets[i].m})
	}
	maxDirect.Close()
	maxPlain.Close()
	maxVia.Close()
	rows = append(rows, row{"mockllm direct, max", &maxDirect}, row{"via plain Go reverse proxy, max", &maxPlain}, row{"via breakerd, max", &maxVia})
	for i, t := range targets[3:] {
		maxExtra[i].Close()
		rows = append(rows, row{t.name + ", max", &maxExtra[i]})
	}
	rss, hwm := procMem(gw.Process.Pid)

	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }
	fmt.Printf("\nMachine: %s.\n\n", machine(o))
	fmt.Printf("| run | requests | success | throughput (req/s) | p50 ms | p90 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|---|\n")
	for i, r := range rows {
		tput := r.m.Throughput
		if i < len(targets) { // interleaved: the span includes the other targets' slices
			tput = float64(r.m.Requests) * float64(r.m.Success) / float64(int(dur/slice)) / slice.Seconds()
		}
		fmt.Printf("| %s | %d | %.2f%% | %.0f | %s | %s | %s | %s |\n", r.name, r.m.Requests, r.m.Success*100, tput,
			ms(r.m.Latencies.P50), ms(r.m.Latencies.P90), ms(r.m.Latencies.P99), ms(r.m.Latencies.Max))
	}
	direct, plain, via := &targets[0].m, &targets[1].m, &targets[2].m
	fmt.Printf("\nLatency runs: %s at %d/s against each target, in interleaved slices of %s.\n", dur, rate, slice)
	fmt.Printf("Added by breakerd at %d/s: p50 %s ms, p99 %s ms.\n", rate,
		ms(via.Latencies.P50-direct.Latencies.P50), ms(via.Latencies.P99-direct.Latencies.P99))
	if len(overheads) > 0 {
		slices.Sort(overheads)
		q := func(p float64) time.Duration { return overheads[int(float64(len(overheads)-1)*p)] }
		fmt.Printf("breakerd's own overhead (X-Breakerd-Overhead-Ms, %d responses): p50 %s ms, p99 %s ms, p99.9 %s ms.\n",
			len(overheads), ms(q(0.5)), ms(q(0.99)), ms(q(0.999)))
	}
	fmt.Printf("Added by a plain Go reverse proxy: p50 %s ms, p99 %s ms.\n",
		ms(plain.Latencies.P50-direct.Latencies.P50), ms(plain.Latencies.P99-direct.Latencies.P99))
	for _, t := range targets[3:] {
		fmt.Printf("Added %s: p50 %s ms, p99 %s ms.\n", t.name,
			ms(t.m.Latencies.P50-direct.Latencies.P50), ms(t.m.Latencies.P99-direct.Latencies.P99))
	}
	var all int64
	for i := range targets {
		all += int64(targets[i].m.Requests)
	}
	perReq := func(cpu time.Duration, n int64) string {
		return fmt.Sprintf("%.0f µs", float64(cpu)/float64(time.Microsecond)/float64(max(n, 1)))
	}
	fmt.Printf("CPU (user+system) per request in the latency runs: breakerd %s, plain Go proxy %s",
		perReq(cpuUsed[2], int64(via.Requests)), perReq(cpuUsed[1], int64(plain.Requests)))
	for i, t := range targets[3:] {
		fmt.Printf(", %s %s", strings.TrimPrefix(t.name, "via "), perReq(cpuUsed[3+i], int64(t.m.Requests)))
	}
	fmt.Printf("; mockllm %s (over the requests of every target).\n", perReq(cpuUsed[0], all))
	fmt.Printf("Of which user time: breakerd %s, plain Go proxy %s", perReq(userUsed[2], int64(via.Requests)), perReq(userUsed[1], int64(plain.Requests)))
	for i, t := range targets[3:] {
		fmt.Printf(", %s %s", strings.TrimPrefix(t.name, "via "), perReq(userUsed[3+i], int64(t.m.Requests)))
	}
	fmt.Println(".")
	fmt.Printf("CPU (user+system) per request at maximum throughput: breakerd %s, plain Go proxy %s",
		perReq(cpuMaxVia, int64(maxVia.Requests)), perReq(cpuMaxPlain, int64(maxPlain.Requests)))
	for i, t := range targets[3:] {
		fmt.Printf(", %s %s", strings.TrimPrefix(t.name, "via "), perReq(cpuMaxExtra[i], int64(maxExtra[i].Requests)))
	}
	fmt.Println(".")
	fmt.Printf("breakerd memory after the runs: RSS %.1f MB, peak RSS (VmHWM) %.1f MB.\n", rss, hwm)
	fmt.Printf("Targets of issue 3: peak RSS <= 60 MB: %s (%.1f MB)", verdict(hwm <= 60), hwm)
	if added := via.Latencies.P99 - direct.Latencies.P99; rate == 1000 {
		fmt.Printf("; added p99 <= 1 ms at 1000/s: %s (%s ms)", verdict(added <= time.Millisecond), ms(added))
	} else {
		fmt.Printf("; the p99 target is set at 1000/s, not judged at %d/s", rate)
	}
	fmt.Println(".")
	if direct.Latencies.P99 > time.Millisecond {
		fmt.Printf("The direct call's own p99 was %s ms: the machine was busy (something else ran, or a neighbour did), "+
			"and tail figures from such a window do not compare with a calm one's.\n", ms(direct.Latencies.P99))
	}
	for i := range targets {
		if m := &targets[i].m; m.Success < 1 {
			fmt.Printf("errors (%s): %v\n", targets[i].name, m.Errors)
		}
	}
	if o.profile != "" {
		fmt.Printf("\nProfiles of breakerd over the latency runs (%d requests through it) are in %s:\n"+
			"  go tool pprof -top %s/cpu.pprof\n"+
			"  go tool pprof -sample_index=alloc_objects -top -base %s/allocs-base.pprof %s/allocs.pprof\n",
			via.Requests, o.profile, o.profile, o.profile, o.profile)
	}
	return nil
}

// fetch saves the body of a GET of url to file.
func fetch(url, file string) error {
	resp, err := http.Get(url)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: GET %s: %s", url, resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	return os.WriteFile(file, data, 0o644)
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "missed"
}

// startNginx runs nginx in the foreground as a keep-alive reverse proxy from
// listen to upstream, one worker per CPU, with everything under dir.
func startNginx(dir, listen, upstream string) (pid int, stop func(), err error) {
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(`daemon off;
worker_processes auto;
pid `+dir+`/nginx.pid;
error_log stderr error;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path `+dir+`;
  upstream mock { server `+upstream+`; keepalive 128; }
  server {
    listen `+listen+`;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`), 0o644); err != nil {
		return 0, nil, err
	}
	cmd := exec.Command("nginx", "-c", conf, "-p", dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return 0, nil, fmt.Errorf("nginx: %w", err)
	}
	return cmd.Process.Pid, func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }, nil
}

// samplePeakRSS samples a process's resident memory every 200 ms until the
// returned function is called, which returns the highest sample in MB:
// the peak over one phase of a run, where VmHWM is the peak since start.
func samplePeakRSS(pid int) (stop func() float64) {
	var peak float64
	done := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if rss, _ := procMem(pid); rss > peak {
					peak = rss
				}
			}
		}
	})
	return func() float64 {
		close(done)
		sampler.Wait()
		return peak
	}
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

// procCPU returns the user and system CPU time that pid and its children
// (nginx's workers) have used so far; 0 for pid 0.
func procCPU(pid int) time.Duration {
	user, sys := procCPUSplit(pid)
	return user + sys
}

// procCPUSplit is procCPU's user and system time apart: the user time is
// the process's own code, the system time mostly the kernel's sockets and
// task switches.
func procCPUSplit(pid int) (user, sys time.Duration) {
	if pid == 0 {
		return 0, 0
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		self, ppid, u, s, ok := parseStat(data)
		if ok && (self == pid || ppid == pid) {
			user, sys = user+u, sys+s
		}
	}
	return user, sys
}

// ownCPU is pid's CPU time so far, without its children (one file to
// read, where procCPU reads every process's); 0 if it cannot be read.
func ownCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	_, _, user, sys, _ := parseStat(data)
	return user + sys
}

// parseStat reads a process's ID, its parent's, and its user and system
// CPU time from its /proc/PID/stat.
func parseStat(data []byte) (self, ppid int, user, sys time.Duration, ok bool) {
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	// Fields after the command name, which may contain spaces.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	if len(f) < 13 {
		return 0, 0, 0, 0, false
	}
	self, _ = strconv.Atoi(strings.Fields(string(data))[0])
	ppid, _ = strconv.Atoi(f[1])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return self, ppid, time.Duration(utime) * tick, time.Duration(stime) * tick, true
}

// cpuCgroup makes a cgroup that caps its processes at quota CPUs, in
// 10 ms periods so that a throttled process waits milliseconds, not tens
// of them, and with ten times the default weight, so that they get their
// quota first. It returns the file a process joins it by, and a function
// that removes it (once its processes have ended). cgroup v1's cpu
// controller or v2's.
func cpuCgroup(quota float64) (procs string, remove func(), err error) {
	const period = 10000 // µs
	name := fmt.Sprintf("breakerd-load-%d", os.Getpid())
	var dir string
	var files [][2]string
	if _, err := os.Stat("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"); err == nil { // v1
		dir = filepath.Join("/sys/fs/cgroup/cpu", name)
		files = [][2]string{{"cpu.cfs_period_us", fmt.Sprint(period)}, {"cpu.cfs_quota_us", fmt.Sprint(int(quota * period))}, {"cpu.shares", "10240"}}
	} else if data, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil && strings.Contains(string(data), "cpu") { // v2
		dir = filepath.Join("/sys/fs/cgroup", name)
		files = [][2]string{{"cpu.max", fmt.Sprintf("%d %d", int(quota*period), period)}, {"cpu.weight", "1000"}}
	} else {
		return "", nil, fmt.Errorf("no cgroup cpu controller found under /sys/fs/cgroup")
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", nil, err
	}
	remove = func() {
		for i := 0; i < 50 && os.Remove(dir) != nil; i++ {
			time.Sleep(100 * time.Millisecond) // the killed process leaves the cgroup
		}
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f[0]), []byte(f[1]), 0o644); err != nil {
			remove()
			return "", nil, err
		}
	}
	return filepath.Join(dir, "cgroup.procs"), remove, nil
}

// machine describes the machine and which CPUs the processes ran on, for
// the tables' headers.
func machine(o options) string {
	online, _ := os.ReadFile("/sys/devices/system/cpu/online")
	where := "the load generator, mockllm and the targets share it"
	switch {
	case o.cpuQuota > 0:
		where = fmt.Sprintf("breakerd in a cgroup of %.2g CPUs that it gets first, the load generator and mockllm on the rest", o.cpuQuota)
	case o.cpus != "":
		mine := "the others"
		status, _ := os.ReadFile("/proc/self/status")
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
				mine = strings.TrimSpace(v)
			}
		}
		where = fmt.Sprintf("breakerd and the plain proxy on CPUs %s, the load generator and mockllm on CPUs %s", o.cpus, mine)
	}
	return fmt.Sprintf("CPUs %s (%s), %s; %s", strings.TrimSpace(string(online)), cpuModel(), runtime.Version(), where)
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

// overload offers 3x breakerd's maximum throughput, open loop, with the
// upstream answering in 20 ms, and reports goodput, how fast the excess is
// refused, the admitted requests' latency, breaker opens, RSS, and how
// soon latency is back to its unloaded figure.
func overload(o options, mockAddr, gwAddr, metricsAddr, pprofAddr string, pid int) error {
	put, _ := http.NewRequest(http.MethodPut, "http://"+mockAddr+"/_mock/faults", strings.NewReader(`{"latency_ms":20}`))
	if resp, err := http.DefaultClient.Do(put); err != nil {
		return err
	} else {
		resp.Body.Close()
	}
	body := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello, how are you today?"}]}`)
	tgt := vegeta.NewStaticTargeter(vegeta.Target{Method: "POST", URL: "http://" + gwAddr + "/v1/chat/completions",
		Body: body, Header: http.Header{"Content-Type": {"application/json"}}})
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 20000}}
	type tally struct {
		ok, shed, other int
		// unsent counts the other errors that never reached breakerd: the
		// load generator out of descriptors.
		unsent         int
		okLat, shedLat []time.Duration
		kinds          map[string]int // other errors by status and error
	}
	run := func(r vegeta.Rate, d time.Duration, workers uint64) tally {
		t := tally{kinds: map[string]int{}}
		opts := []func(*vegeta.Attacker){vegeta.Client(client), vegeta.Workers(workers), vegeta.MaxWorkers(workers)}
		if r.Freq != 0 {
			opts = []func(*vegeta.Attacker){vegeta.Client(client), vegeta.Workers(64), vegeta.MaxWorkers(20000)}
		}
		for res := range vegeta.NewAttacker(opts...).Attack(tgt, r, d, "overload") {
			switch {
			case res.Code == 200:
				t.ok++
				t.okLat = append(t.okLat, res.Latency)
			case res.Code == 503 && strings.Contains(string(res.Body), "server_overloaded"):
				t.shed++
				t.shedLat = append(t.shedLat, res.Latency)
			default:
				t.other++
				if strings.Contains(res.Error, "too many open files") {
					t.unsent++
				}
				kind := res.Error
				if i := strings.LastIndex(kind, ": "); i >= 0 {
					kind = kind[i+2:] // the cause, without the URL
				}
				t.kinds[fmt.Sprintf("%d %s", res.Code, kind)]++
			}
		}
		return t
	}
	p99 := func(l []time.Duration) time.Duration {
		if len(l) == 0 {
			return 0
		}
		slices.Sort(l)
		return l[len(l)*99/100]
	}
	opens := func() string {
		resp, err := http.Get("http://" + gwAddr + "/metrics")
		if err != nil {
			return "?"
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		n := 0.0
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "circuit_breaker_state_changes_total{") && strings.Contains(l, `to_state="open"`) {
				var v float64
				fmt.Sscanf(l[strings.LastIndex(l, " ")+1:], "%g", &v)
				n += v
			}
		}
		return fmt.Sprint(n)
	}
	run(vegeta.Rate{Freq: 200, Per: time.Second}, 3*time.Second, 0) // warm up
	base := run(vegeta.Rate{Freq: 200, Per: time.Second}, 5*time.Second, 0)
	// The maximum is the best goodput of closed-loop runs with 64, 128,
	// ... workers, up to 2,048 or until more workers stop adding: enough
	// that the upstream's 20 ms does not bound it, while a flood of
	// workers far past the maximum is overload, which the shedder refuses
	// (so a single run with 2,048 measured the shedding, not the maximum,
	// on a small CPU quota).
	maxTput, cpuServed := 0.0, time.Duration(0) // and breakerd's CPU per request in that run
	for w := uint64(64); w <= max(o.workers, 2048); w *= 2 {
		cpu0 := procCPU(pid)
		r := run(vegeta.Rate{}, o.maxDur, w)
		tput := float64(r.ok) / o.maxDur.Seconds()
		fmt.Fprintf(os.Stderr, "load: maximum run with %d workers: %.0f req/s (%d shed, %d other)\n", w, tput, r.shed, r.other)
		if tput < maxTput*1.05 {
			maxTput = max(maxTput, tput)
			break
		}
		maxTput, cpuServed = tput, (procCPU(pid)-cpu0)/time.Duration(max(r.ok+r.shed+r.other, 1))
	}
	_, maxHWM := procMem(pid)
	offered := cmp.Or(o.offered, int(3*maxTput))
	opensBefore := opens()
	peak := samplePeakRSS(pid)
	profiled := make(chan error, 1)
	if pprofAddr != "" { // -profile: breakerd's CPU during the overload
		go func() {
			profiled <- fetch(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, max(int(o.dur.Seconds())-1, 1)),
				filepath.Join(o.profile, "cpu-overload.pprof"))
		}()
	} else {
		profiled <- nil
	}
	stopTimeline := func() {}
	if o.timeline {
		stopTimeline = sampleTimeline("http://"+metricsAddr+"/metrics", pid)
	}
	cpu0 := procCPU(pid)
	over := run(vegeta.Rate{Freq: offered, Per: time.Second}, o.dur, 0)
	stopTimeline()
	// The load generator may have run out of descriptors, and /proc needs
	// one: its idle connections go first.
	client.CloseIdleConnections()
	cpuOver := procCPU(pid) - cpu0
	hwm := peak()
	if err := <-profiled; err != nil {
		return err
	}
	opensAfter := opens()
	// Recovery: 1 s slices at the unloaded rate until p99 is back within
	// twice the unloaded figure.
	recovered := "not within 10 s"
	for i := 1; i <= 10; i++ {
		r := run(vegeta.Rate{Freq: 200, Per: time.Second}, time.Second, 0)
		if p99(r.okLat) <= 2*p99(base.okLat) && r.other == 0 && r.shed == 0 {
			recovered = fmt.Sprintf("%d s", i)
			break
		}
	}
	goodput := float64(over.ok) / o.dur.Seconds()
	fmt.Printf("\nOverload: %s; mockllm answers in 20 ms.\n\n", machine(o))
	fmt.Println("| maximum (req/s) | offered (req/s) | goodput (req/s) | goodput / maximum | shed | other errors and timeouts | admitted p99 | unloaded p99 | refusals p99 | breaker opens | peak RSS in the overload | peak RSS by then (incl. the maximum run) | back to unloaded p99 after |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	fmt.Printf("| %.0f | %d | %.0f | %.0f%% | %d | %d | %s | %s | %s | %s → %s | %.0f MB | %.0f MB | %s |\n", maxTput, offered, goodput,
		100*goodput/maxTput, over.shed, over.other, p99(over.okLat).Round(time.Millisecond), p99(base.okLat).Round(100*time.Microsecond),
		p99(over.shedLat).Round(100*time.Microsecond), opensBefore, opensAfter, hwm, maxHWM, recovered)
	if over.other > 0 {
		fmt.Print("\nOther errors in the overload, by status and cause:")
		for k, n := range over.kinds {
			fmt.Printf(" %s (%d);", k, n)
		}
		fmt.Println()
	}
	// What a refusal cost: breakerd's CPU in the overload less what the
	// requests it served took at the maximum, per request that reached it
	// and was not served.
	if rest := over.shed + over.other - over.unsent; rest > 0 {
		refusal := max(cpuOver-time.Duration(over.ok)*cpuServed, 0) / time.Duration(rest)
		fmt.Printf("\nbreakerd's CPU: %s per request served (in the maximum run), %s per request refused or failed in the overload (%.0f%% of a served one).\n",
			cpuServed.Round(time.Microsecond), refusal.Round(time.Microsecond), 100*float64(refusal)/float64(max(cpuServed, 1)))
	}
	fmt.Printf("\nTargets: goodput >= 90%% of maximum %s; admitted added p99 <= 50 ms %s; refusals p99 <= 5 ms %s; RSS <= 150 MB %s; no breaker opens %s.\n",
		verdict(goodput >= 0.9*maxTput), verdict(p99(over.okLat)-p99(base.okLat) <= 50*time.Millisecond),
		verdict(len(over.shedLat) == 0 || p99(over.shedLat) <= 5*time.Millisecond), verdict(hwm <= 150), verdict(opensBefore == opensAfter))
	return nil
}

// streamTarget is a process that streams are held open through.
type streamTarget struct {
	name, addr string
	pid        int
	breakerd   bool   // its /metrics are read mid-stream: goroutines, stack and heap per stream
	pprof      string // breakerd's --pprof address under -profile: its heap and goroutines are taken mid-stream
}

// streams holds o.streams concurrent streams, each o.streamWords chunks
// paced o.streamInterval apart by mockllm, through each target in turn, and reports
// the memory each stream costs the target (peak RSS above its idle RSS),
// its CPU per chunk relayed, how long each chunk took from mockllm's send
// to the client's read (relay latency, from the chunk's stamp), and
// streams that did not finish.
func streams(o options, targets []streamTarget, mockAddr string) error {
	put, _ := http.NewRequest(http.MethodPut, "http://"+mockAddr+"/_mock/faults",
		strings.NewReader(fmt.Sprintf(`{"reply_words":%d,"chunk_delay_ms":%d,"stamp_chunks":true}`, o.streamWords, o.streamInterval.Milliseconds())))
	if resp, err := http.DefaultClient.Do(put); err != nil {
		return err
	} else {
		resp.Body.Close()
	}
	body := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"stream` + strings.Repeat(" stream", o.streamPrompt/7) + `"}]}`
	upstream := "HTTP/1.1"
	if o.upstreamH2C {
		upstream = "cleartext HTTP/2 (h2c)"
	}
	ramp := "all started at once"
	if o.streamRamp > 0 {
		ramp = "started evenly over " + o.streamRamp.String()
	}
	fmt.Printf("\nStreams: %d concurrent, %s, %d chunks each %s apart, %d-byte requests; proxies call mockllm over %s; %s.\n\n",
		o.streams, ramp, o.streamWords, o.streamInterval, len(body), upstream, machine(o))
	fmt.Println("| target | streams done | refused (not 200) | broken | chunks | relay p50 | relay p99 | RSS per stream held, above idle | CPU per chunk |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	stampRe := regexp.MustCompile(`"content":"(\d+) "`)
	var notes []string
	for _, t := range targets {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.streams, MaxConnsPerHost: 0}}
		idle, _ := procMem(t.pid)
		cpu0 := procCPU(t.pid)
		var mu sync.Mutex
		var lat []time.Duration
		done, broken, refused, chunks := 0, 0, 0, 0
		var wg sync.WaitGroup
		peak := samplePeakRSS(t.pid) // while the streams run
		start := time.Now()
		for i := 0; i < o.streams; i++ {
			if o.streamRamp > 0 {
				time.Sleep(time.Until(start.Add(o.streamRamp * time.Duration(i) / time.Duration(o.streams))))
			}
			wg.Go(func() {
				resp, err := client.Post("http://"+t.addr+"/v1/chat/completions", "application/json", strings.NewReader(body))
				if err != nil {
					mu.Lock()
					broken++
					mu.Unlock()
					return
				}
				defer resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					mu.Lock()
					refused++
					mu.Unlock()
					return
				}
				sc := bufio.NewScanner(resp.Body)
				var mine []time.Duration
				ok := false
				for sc.Scan() {
					line := sc.Text()
					if m := stampRe.FindStringSubmatch(line); m != nil {
						sent, _ := strconv.ParseInt(m[1], 10, 64)
						mine = append(mine, time.Since(time.UnixMicro(sent)))
					}
					ok = ok || line == "data: [DONE]"
				}
				mu.Lock()
				defer mu.Unlock()
				lat = append(lat, mine...)
				chunks += len(mine)
				if ok {
					done++
				} else {
					broken++
				}
			})
		}
		var mid map[string]float64 // breakerd's Go metrics halfway through, every stream held
		if t.breakerd {
			time.Sleep(time.Until(start.Add(o.streamRamp + o.streamInterval*time.Duration(o.streamWords)/2)))
			mid = goMetrics("http://" + t.addr + "/metrics")
			if t.pprof != "" {
				// Its CPU over a fifth of the streams' length, then its memory.
				secs := max(int((o.streamInterval * time.Duration(o.streamWords) / 5).Seconds()), 1)
				for _, p := range []struct{ path, file string }{{fmt.Sprintf("profile?seconds=%d", secs), "cpu-streams.pprof"},
					{"heap", "heap-streams.pprof"}, {"heap?debug=1", "heap-streams.txt"}, {"goroutine", "goroutine-streams.pprof"}} {
					if err := fetch("http://"+t.pprof+"/debug/pprof/"+p.path, filepath.Join(o.profile, p.file)); err != nil {
						return err
					}
				}
			}
		}
		wg.Wait()
		cpu := procCPU(t.pid) - cpu0
		client.CloseIdleConnections()
		slices.Sort(lat)
		q := func(p float64) time.Duration {
			if len(lat) == 0 {
				return 0
			}
			return lat[int(float64(len(lat)-1)*p)]
		}
		// Per stream held: refused requests hold nothing for long.
		perStream := (peak() - idle) * 1024 / float64(max(done+broken, 1)) // MB to KB
		fmt.Printf("| %s | %d | %d | %d | %d | %.2f ms | %.2f ms | %.1f KB | %.1f µs |\n", t.name, done, refused, broken, chunks,
			float64(q(0.5))/1e6, float64(q(0.99))/1e6, perStream, float64(cpu)/float64(time.Microsecond)/float64(max(chunks, 1)))
		if mid != nil {
			n := float64(o.streams)
			notes = append(notes, fmt.Sprintf("%s, halfway: %.1f goroutines, %.1f KB of goroutine stack and %.1f KB of heap in use per stream (its /metrics: go_goroutines, go_memstats_stack_inuse_bytes, go_memstats_heap_inuse_bytes; next GC at %.0f MB)",
				t.name, mid["go_goroutines"]/n, mid["go_memstats_stack_inuse_bytes"]/1024/n, mid["go_memstats_heap_inuse_bytes"]/1024/n, mid["go_memstats_next_gc_bytes"]/1e6))
		}
	}
	for _, n := range notes {
		fmt.Println("\n" + n)
	}
	return nil
}

// timelineMetrics are the series sampleTimeline prints, in its columns'
// order.
var timelineMetrics = []string{"breakerd_concurrency_limit", "breakerd_requests_unanswered", "breakerd_requests_at_upstream",
	"breakerd_requests_in_flight", "breakerd_shed_total", "breakerd_connections_open", "breakerd_connections_idle"}

// sampleTimeline reads breakerd's CPU use, its load shedding state from url
// and its RSS every 500 ms until stopped, then prints them to stderr. A
// reading that failed (the load generator out of descriptors) shows as 0,
// or as "?" for the CPU.
func sampleTimeline(url string, pid int) (stop func()) {
	done := make(chan struct{})
	var sampler sync.WaitGroup
	var rows []string
	sampler.Go(func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		start, lastShed, lastCPU, last := time.Now(), 0.0, ownCPU(pid), time.Now()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				m := readMetrics(url, func(name string) bool { return slices.Contains(timelineMetrics, name) })
				rss, _ := procMem(pid)
				// The time of the reading, not of the tick: the load
				// generator's own goroutines wait for a CPU too.
				cpu, now := ownCPU(pid), time.Now()
				busy := "?"
				if cpu > 0 {
					busy = fmt.Sprintf("%.0f%%", 100*float64(cpu-lastCPU)/float64(now.Sub(last)))
					lastCPU, last = cpu, now
				}
				row := fmt.Sprintf("| %.1f | %s |", now.Sub(start).Seconds(), busy)
				for _, name := range timelineMetrics {
					v := m[name]
					if name == "breakerd_shed_total" {
						v, lastShed = v-lastShed, v
					}
					row += fmt.Sprintf(" %.0f |", v)
				}
				rows = append(rows, row+fmt.Sprintf(" %.0f |", rss))
			}
		}
	})
	return func() {
		close(done)
		sampler.Wait()
		fmt.Fprintln(os.Stderr, "\n| s | breakerd's CPU (of one) | limit | unanswered | at upstream | in flight | shed since the last row | connections open | idle | RSS (MB) |")
		fmt.Fprintln(os.Stderr, "|---|---|---|---|---|---|---|---|---|---|")
		for _, r := range rows {
			fmt.Fprintln(os.Stderr, r)
		}
	}
}

// goMetrics reads the go_ gauges of a Prometheus text exposition (nil if
// it cannot be read).
func goMetrics(url string) map[string]float64 {
	return readMetrics(url, func(name string) bool { return strings.HasPrefix(name, "go_") })
}

// readMetrics reads the unlabelled series that keep selects from a
// Prometheus text exposition (nil if it cannot be read).
func readMetrics(url string, keep func(name string) bool) map[string]float64 {
	resp, err := http.Get(url)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || !keep(name) {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			m[name] = v
		}
	}
	return m
}
