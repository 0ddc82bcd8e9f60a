package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/daemon"
	"github.com/breakerd/breakerd/tracing"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "", "listen address (overrides server.listen)")
	host := fs.String("host", "", "listen on this host, keeping server.listen's port (LiteLLM's --host)")
	port := fs.String("port", "", "listen on this port, keeping server.listen's host (LiteLLM's --port)")
	logFormat := fs.String("log-format", "", "text or json (overrides logging.format)")
	pprofAddr := fs.String("pprof", "", "serve Go's CPU, heap and allocation profiles at /debug/pprof/ on this address, e.g. 127.0.0.1:6060 (unauthenticated: bind loopback; off by default)")
	path, err := configFile(fs, args, "config.yaml")
	if err != nil {
		return err
	}
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.Server.Listen = *listen
	}
	if *host != "" || *port != "" {
		h, p, err := net.SplitHostPort(cfg.Server.Listen)
		if err != nil {
			return fmt.Errorf("server.listen %q: %w", cfg.Server.Listen, err)
		}
		cfg.Server.Listen = net.JoinHostPort(cmp.Or(*host, h), cmp.Or(*port, p))
	}
	if *logFormat != "" {
		cfg.Logging.Format = *logFormat
	}
	level := new(slog.LevelVar) // a reload may change it
	_ = level.UnmarshalText([]byte(cfg.Logging.Level))
	log := newLogger(stderr, cfg.Logging.Format, level)
	redis.SetLogger(daemon.RedisLogger(log))
	gogc, limit, why := memoryDefaults(os.LookupEnv, os.ReadFile)
	if gogc > 0 {
		debug.SetGCPercent(gogc)
	}
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	log.Debug("memory", "gogc", gogc, "memory_limit", limit, "why", why)
	// Only --pprof reads heap profiles. Without it the runtime need not
	// sample allocations for them (a stack walk every 512 KB allocated:
	// 0.6% of breakerd's CPU at 1,000 req/s, BENCHMARKS.md).
	runtime.MemProfileRate = 0
	if *pprofAddr != "" {
		runtime.MemProfileRate = memProfileRate
		stopPprof, err := servePprof(*pprofAddr, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	tp, shutdownTracing, err := tracing.Setup(ctx, os.LookupEnv, daemon.Version)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer func() { _ = shutdownTracing(context.Background()) }()
	d, err := daemon.New(daemon.Options{Config: cfg, Logger: log, LogLevel: level, TracerProvider: tp})
	if err != nil {
		return err
	}
	defer d.Close()
	ln, err := daemon.Listen(ctx, cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// SIGHUP reloads the config, as operators expect of a daemon; a file
	// that does not load is logged and counted, and the config in force
	// stays.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-hup:
				_ = d.ReloadFile(ctx) // logged either way
			case <-stop:
				return
			}
		}
	}()
	log.Info("breakerd serving", "addr", ln.Addr().String(), "config", cfg.Path,
		"deployments", len(cfg.Deployments), "groups", len(cfg.Groups))
	return d.Serve(ctx, ln)
}

// memoryDefaults chooses the garbage collector's settings when the
// environment sets none. GOGC stays Go's default: collecting less often
// saved little at 1,000 req/s but multiplied the memory each of thousands
// of long streams holds (BENCHMARKS.md, "Long streams"). A soft memory
// limit is set only inside a
// container with a memory limit (cgroup v2 memory.max, or v1
// memory.limit_in_bytes): 90% of it, so the collector works harder before
// the container is killed. A small fixed limit would make the collector
// run without pause once thousands of requests are in flight (a 40 MiB
// one did: a collection spiral under overload). GOGC and GOMEMLIMIT, when
// set, win; so a limit of 0 or gogc of 0 means "leave it".
func memoryDefaults(lookup func(string) (string, bool), read func(string) ([]byte, error)) (gogc int, limit int64, why string) {
	why = "defaults"
	if _, set := lookup("GOMEMLIMIT"); set {
		return gogc, 0, "GOMEMLIMIT set"
	}
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		data, err := read(f)
		if err != nil {
			continue
		}
		v := strings.TrimSpace(string(data))
		n, err := strconv.ParseInt(v, 10, 64)
		// "max", or v1's page-rounded MaxInt64, is no limit.
		if err != nil || n <= 0 || n >= 1<<60 {
			return gogc, 0, "no container memory limit"
		}
		return gogc, n / 10 * 9, "90% of the container's memory limit (" + f + ")"
	}
	return gogc, 0, "no container memory limit"
}
