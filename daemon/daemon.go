// Package daemon assembles breakerd: the gateway and the endpoints around
// it, on one listener. The serve and demo commands and the end-to-end
// tests all build it the same way.
package daemon

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/gateway"
)

// Options configure a Daemon. Only Config is required.
type Options struct {
	Config *config.Config
	Logger *slog.Logger
	// Clock drives breakers; nil means a real coarse clock.
	Clock breaker.Clock
	// Client makes upstream calls; nil means a pooled client.
	Client *http.Client
}

// Daemon is a configured breakerd.
type Daemon struct {
	cfg     *config.Config
	log     *slog.Logger
	gw      *gateway.Gateway
	handler http.Handler
}

// New builds a daemon from a loaded config.
func New(opts Options) (*Daemon, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	gw, err := gateway.New(gateway.Options{Config: opts.Config, Clock: opts.Clock, Client: opts.Client, Logger: log})
	if err != nil {
		return nil, err
	}
	d := &Daemon{cfg: opts.Config, log: log, gw: gw}
	for _, w := range opts.Config.Warnings {
		log.Warn("config", "warning", w)
	}
	gw.Registry().AddListener(func(t breaker.Transition) {
		log.Info("circuit breaker state change", "breaker", t.Breaker, "from", t.From.String(), "to", t.To.String(), "reason", t.Reason)
	})
	mux := http.NewServeMux()
	mux.Handle("/", gw.Handler())
	d.handler = mux
	return d, nil
}

// Gateway returns the daemon's gateway.
func (d *Daemon) Gateway() *gateway.Gateway { return d.gw }

// Handler returns the daemon's HTTP handler.
func (d *Daemon) Handler() http.Handler { return d.handler }

// Serve serves on ln until ctx ends, then shuts down gracefully, letting
// in-flight requests finish for up to the configured drain period.
func (d *Daemon) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: d.handler, ReadHeaderTimeout: d.cfg.Server.ReadHeaderTimeout}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), d.cfg.Server.ShutdownDrain+5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// Close releases the daemon's resources.
func (d *Daemon) Close() { d.gw.Close() }
