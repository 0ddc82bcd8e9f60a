package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/gateway"
	"github.com/breakerd/breakerd/health"
)

// live is the gateway of the config in force, with its handler.
type live struct {
	gw  *gateway.Gateway
	h   http.Handler
	cfg *config.Config
}

// liveSource lets metrics and health read whichever gateway is in force.
type liveSource struct{ d *Daemon }

func (s liveSource) gw() *gateway.Gateway                     { return s.d.live.Load().gw }
func (s liveSource) Registry() *breaker.Registry              { return s.gw().Registry() }
func (s liveSource) Groups() []*gateway.Group                 { return s.gw().Groups() }
func (s liveSource) Route(group string) []*gateway.Deployment { return s.gw().Route(group) }
func (s liveSource) AliasOf(name string) (string, bool)       { return s.gw().AliasOf(name) }
func (s liveSource) Clock() breaker.Clock                     { return s.gw().Clock() }
func (s liveSource) HasGroup(name string) bool                { return s.gw().HasGroup(name) }

// ReloadResult says what a reload changed.
type ReloadResult struct {
	// Added, Removed and Changed name deployments; Kept counts those
	// taken over with their breaker state.
	Added, Removed, Changed []string
	Kept                    int
	// NeedsRestart names the config sections that changed but apply only
	// at startup (listeners, admin, the log format, shared state).
	NeedsRestart []string `json:",omitempty"`
}

// Reload puts cfg in force: model_list and router_settings (routing,
// fallbacks, retries, timeouts, breaker settings) take effect for new
// requests at once, the health policy for the next probe, alerting for
// the next alert (outages under way kept) and the log level for the next
// line (with Options.LogLevel), while
// requests under way finish on the deployments they started on. A
// deployment whose settings did not change keeps its breaker state,
// bulkhead and cooldowns. On error the config in force stays. The caller
// validates cfg first (config.Load does).
func (d *Daemon) Reload(cfg *config.Config) (ReloadResult, error) {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	cur := d.live.Load()
	opts := d.gwOpts
	opts.Config, opts.Registry, opts.Previous = cfg, cur.gw.Registry(), cur.gw
	gw, err := gateway.New(opts)
	if err != nil {
		d.metrics.ReloadDone(false)
		return ReloadResult{}, fmt.Errorf("reload: %w", err)
	}
	res := diff(cur.cfg, cfg)
	for _, g := range gw.Groups() {
		for _, dep := range g.Deployments {
			for _, old := range cur.gw.Groups() {
				if slices.Contains(old.Deployments, dep) {
					res.Kept++
					break
				}
			}
		}
	}
	d.shareWithFleet(gw, cfg)
	d.live.Store(&live{gw: gw, h: gw.Handler(), cfg: cfg})
	d.probes.arm(0) // health checks the new config turns on start now
	if d.fleet != nil {
		d.fleet.Share(rateLimits(gw), budgets(gw)) // the new deployments' too
	}
	if cur.cfg.Logging.Level != cfg.Logging.Level {
		var lv slog.Level
		if d.logLevel != nil && lv.UnmarshalText([]byte(cfg.Logging.Level)) == nil {
			d.logLevel.Set(lv)
		} else {
			res.NeedsRestart = append(res.NeedsRestart, "logging.level")
		}
	}
	if !reflect.DeepEqual(cur.cfg.Alerting, cfg.Alerting) {
		d.alerts.Reconfigure(cfg.Alerting) // keeps the outages under way
	}
	if !reflect.DeepEqual(cur.cfg.Health, cfg.Health) {
		d.health.Store(health.New(liveSource{d}, cfg.Health))
	}
	for _, w := range slices.Concat(cfg.Warnings, cfg.KeyWarnings()) {
		d.log.Warn("config warning", "warning", w)
	}
	d.metrics.ReloadDone(true)
	d.log.Info("config reloaded", "config", cfg.Path, "added", res.Added, "removed", res.Removed, "changed", res.Changed,
		"kept", res.Kept, "needs_restart", res.NeedsRestart)
	return res, nil
}

// reloadFromFile loads the config file in force again and reloads it; a
// file that does not load leaves the config in force, and says why.
func (d *Daemon) reloadFromFile(ctx context.Context) (any, error) {
	path := d.live.Load().cfg.Path
	cfg, err := config.Load(path)
	if err != nil {
		d.metrics.ReloadDone(false)
		d.log.Error("config reload refused: the file does not load; the config in force stays", "config", path, "error", err.Error())
		return nil, err
	}
	return d.Reload(cfg)
}

// ReloadFile is reloadFromFile, for the serve command's SIGHUP.
func (d *Daemon) ReloadFile(ctx context.Context) error {
	_, err := d.reloadFromFile(ctx)
	return err
}

// diff names the deployments a new config adds, removes and changes, and
// the sections that need a restart.
func diff(a, b *config.Config) ReloadResult {
	var r ReloadResult
	old := map[string]config.Deployment{}
	for _, d := range a.Deployments {
		d.Index = 0
		old[d.Name] = d
	}
	seen := map[string]bool{}
	for _, d := range b.Deployments {
		d.Index = 0
		seen[d.Name] = true
		o, ok := old[d.Name]
		switch {
		case !ok:
			r.Added = append(r.Added, d.Name)
		case !reflect.DeepEqual(o, d):
			r.Changed = append(r.Changed, d.Name)
		}
	}
	for _, d := range a.Deployments {
		if !seen[d.Name] {
			r.Removed = append(r.Removed, d.Name)
		}
	}
	for _, s := range []struct {
		name string
		a, b any
	}{{"server", a.Server, b.Server}, {"admin", a.Admin, b.Admin}, {"logging.format", a.Logging.Format, b.Logging.Format}, // the level: Reload
		{"litellm_settings.callbacks (prometheus)", a.Metrics, b.Metrics},
		{"router_settings.state", []any{a.Router.State, a.Router.Redis}, []any{b.Router.State, b.Router.Redis}},
		{"litellm_settings.force_ipv4", a.Router.ForceIPv4, b.Router.ForceIPv4}} {
		if !reflect.DeepEqual(s.a, s.b) {
			r.NeedsRestart = append(r.NeedsRestart, s.name)
		}
	}
	return r
}

func (s liveSource) Shedding() gateway.ShedState { return s.gw().Shedding() }

func (s liveSource) Budgets() []*gateway.Budget { return s.gw().Budgets() }

func (s liveSource) Connections() (open, idle, limit int64) {
	if cl := s.d.conns.Load(); cl != nil {
		open, limit = cl.Open()
		return open, cl.idle.Load(), limit
	}
	return 0, 0, 0
}
