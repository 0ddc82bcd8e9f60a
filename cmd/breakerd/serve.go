package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
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
	logFormat := fs.String("log-format", "", "text or json (overrides logging.format)")
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
	if *logFormat != "" {
		cfg.Logging.Format = *logFormat
	}
	log := newLogger(stderr, cfg.Logging.Format, cfg.Logging.Level)
	redis.SetLogger(daemon.RedisLogger(log))
	if _, set := os.LookupEnv("GOGC"); !set {
		// breakerd's live heap is a few MB: collecting less often costs
		// little memory and takes GC work off the request path's tail.
		debug.SetGCPercent(400)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		// ...but not past this: the GC works harder before RSS grows.
		debug.SetMemoryLimit(40 << 20)
	}
	tp, shutdownTracing, err := tracing.Setup(ctx, os.LookupEnv, daemon.Version)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer func() { _ = shutdownTracing(context.Background()) }()
	d, err := daemon.New(daemon.Options{Config: cfg, Logger: log, TracerProvider: tp})
	if err != nil {
		return err
	}
	defer d.Close()
	ln, err := net.Listen("tcp", cfg.Server.Listen)
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
