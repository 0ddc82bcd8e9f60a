// Package daemon assembles breakerd: the gateway and the endpoints around
// it, with one event fan-out feeding metrics, tracing, alerting and logs.
// The serve and demo commands and the end-to-end tests all build it the
// same way.
package daemon

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/events"
	"github.com/breakerd/breakerd/gateway"
	"github.com/breakerd/breakerd/metrics"
	"github.com/breakerd/breakerd/provider"
	"github.com/breakerd/breakerd/tracing"
)

// Version is breakerd's version, reported in metrics and traces.
const Version = "0.1.0"

// Options configure a Daemon. Only Config is required.
type Options struct {
	Config *config.Config
	Logger *slog.Logger
	// Clock drives breakers; nil means a real coarse clock.
	Clock breaker.Clock
	// Client makes upstream calls; nil means a pooled client.
	Client *http.Client
	// TracerProvider makes spans; nil means no tracing.
	TracerProvider trace.TracerProvider
}

// Daemon is a configured breakerd.
type Daemon struct {
	cfg     *config.Config
	log     *slog.Logger
	gw      *gateway.Gateway
	bus     *events.Bus
	metrics *metrics.Metrics
	handler http.Handler
}

// New builds a daemon from a loaded config.
func New(opts Options) (*Daemon, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tp := opts.TracerProvider
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	d := &Daemon{cfg: opts.Config, log: log, bus: events.NewBus()}
	gw, err := gateway.New(gateway.Options{Config: opts.Config, Clock: opts.Clock, Client: opts.Client, Logger: log,
		TracerProvider: tp, Observer: gateway.Observers(publisher{d.bus}, lazyObserver{d})})
	if err != nil {
		return nil, err
	}
	d.gw = gw
	d.metrics = metrics.New(gw, metrics.Options{Version: Version, Bus: d.bus})
	for _, w := range opts.Config.Warnings {
		log.Warn("config warning", "warning", w)
	}
	d.bus.Subscribe("metrics", 8192, d.metrics)
	d.bus.Subscribe("tracing", 1024, tracing.TransitionSpans(tp))
	d.bus.Subscribe("logs", 1024, logSubscriber(log))
	gw.Registry().AddListener(func(t breaker.Transition) { d.bus.Publish(events.TransitionEvent(t)) })

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.metrics.Handler())
	mux.Handle("/", gw.Handler())
	d.handler = mux
	return d, nil
}

// lazyObserver forwards to the metrics observer, which is built after the
// gateway it observes.
type lazyObserver struct{ d *Daemon }

func (l lazyObserver) o() gateway.Observer               { return l.d.metrics.Observer() }
func (l lazyObserver) RequestDone(r gateway.RequestInfo) { l.o().RequestDone(r) }
func (l lazyObserver) AttemptDone(a gateway.AttemptInfo) { l.o().AttemptDone(a) }
func (l lazyObserver) Skipped(d *gateway.Deployment, op provider.Operation, r string) {
	l.o().Skipped(d, op, r)
}
func (l lazyObserver) Retried(d *gateway.Deployment, op provider.Operation) { l.o().Retried(d, op) }
func (l lazyObserver) FellBack(g string, from, to *gateway.Deployment, r string) {
	l.o().FellBack(g, from, to, r)
}

// publisher turns gateway events into bus events.
type publisher struct{ bus *events.Bus }

func (publisher) RequestDone(gateway.RequestInfo) {}
func (publisher) AttemptDone(gateway.AttemptInfo) {}
func (p publisher) Skipped(d *gateway.Deployment, op provider.Operation, reason string) {
	p.bus.Publish(events.Event{Kind: events.Rejection, At: time.Now(), Deployment: d.Config.Name,
		Operation: string(op), Reason: reason, Labels: d.Breakers[op].Labels()})
}
func (p publisher) Retried(d *gateway.Deployment, op provider.Operation) {
	p.bus.Publish(events.Event{Kind: events.Retry, At: time.Now(), Deployment: d.Config.Name,
		Operation: string(op), Labels: d.Breakers[op].Labels()})
}
func (p publisher) FellBack(group string, from, to *gateway.Deployment, reason string) {
	p.bus.Publish(events.Event{Kind: events.Fallback, At: time.Now(), Group: group, Deployment: from.Config.Name,
		To: to.Config.Name, Reason: reason, Labels: from.Config.Labels()})
}

// logSubscriber logs each transition on one line with its reason; other
// gateway events go to debug.
func logSubscriber(log *slog.Logger) events.Subscriber {
	return events.SubscriberFunc(func(e events.Event) {
		switch e.Kind {
		case events.Transition:
			t := e.Transition
			level := slog.LevelInfo
			if t.To == breaker.Open || t.To == breaker.ForcedOpen {
				level = slog.LevelWarn
			}
			log.Log(context.Background(), level, "circuit breaker "+t.From.String()+" -> "+t.To.String(),
				"breaker", t.Breaker, "reason", t.Reason, "failures", t.Counts.Failures, "rejected", t.Counts.Rejected)
		case events.Fallback:
			log.Debug("fallback", "model_group", e.Group, "from", e.Deployment, "to", e.To, "reason", e.Reason)
		case events.Retry:
			log.Debug("retry", "deployment", e.Deployment, "operation", e.Operation)
		case events.Rejection:
			log.Debug("deployment skipped", "deployment", e.Deployment, "operation", e.Operation, "reason", e.Reason)
		}
	})
}

// Gateway returns the daemon's gateway.
func (d *Daemon) Gateway() *gateway.Gateway { return d.gw }

// Metrics returns the daemon's metrics.
func (d *Daemon) Metrics() *metrics.Metrics { return d.metrics }

// Bus returns the daemon's event fan-out.
func (d *Daemon) Bus() *events.Bus { return d.bus }

// Handler returns the daemon's HTTP handler.
func (d *Daemon) Handler() http.Handler { return d.handler }

// Serve serves on ln (and on server.metrics_listen, if set) until ctx
// ends, then shuts down gracefully.
func (d *Daemon) Serve(ctx context.Context, ln net.Listener) error {
	servers := []*http.Server{{Handler: d.handler, ReadHeaderTimeout: d.cfg.Server.ReadHeaderTimeout}}
	listeners := []net.Listener{ln}
	if addr := d.cfg.Server.MetricsListen; addr != "" {
		mln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", d.metrics.Handler())
		servers = append(servers, &http.Server{Handler: mux, ReadHeaderTimeout: d.cfg.Server.ReadHeaderTimeout})
		listeners = append(listeners, mln)
		d.log.Info("metrics listening", "addr", mln.Addr().String())
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	var first error
	received := 0
	select {
	case first = <-errc: // a listener failed: shut the others down too
		received = 1
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), d.cfg.Server.ShutdownDrain+5*time.Second)
	defer cancel()
	for _, srv := range servers {
		_ = srv.Shutdown(sctx)
	}
	for ; received < len(servers); received++ {
		<-errc
	}
	if errors.Is(first, http.ErrServerClosed) {
		first = nil
	}
	return first
}

// Close drains the event subscribers (up to the shutdown drain period) and
// releases the daemon's resources.
func (d *Daemon) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.Server.ShutdownDrain+time.Second)
	defer cancel()
	d.gw.Registry().WaitListeners()
	_ = d.bus.Close(ctx)
	d.gw.Close()
}
