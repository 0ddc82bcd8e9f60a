// Package admin is breakerd's manual-intervention API: list breakers, and
// open, close, reset, disable or enable one. It is off unless a token is
// configured, and every action is written to the audit log and emitted as
// a transition with the reason "manual: <action>", so metrics and alerts
// see it.
package admin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/internal/lograte"
)

// Actions are the operations POST /admin/breakers/{name}/{action} accepts.
var Actions = []string{"open", "close", "reset", "disable", "enable"}

// API serves the admin endpoints.
type API struct {
	// Reload, when set, serves POST /admin/reload: it reloads the config
	// and returns what changed.
	Reload func(ctx context.Context) (any, error)

	reg     *breaker.Registry
	token   []byte
	log     *slog.Logger
	refused lograte.Limiter // one refusal line a second: a scanner must not flood the log
}

// New returns the admin API. It panics on an empty token: the caller
// decides whether the API is on.
func New(reg *breaker.Registry, token string, log *slog.Logger) *API {
	if token == "" {
		panic("admin: empty token")
	}
	return &API{reg: reg, token: []byte(token), log: log}
}

// Handler serves GET /admin/breakers and POST /admin/breakers/{name}/{action}.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/breakers", a.list)
	mux.HandleFunc("POST /admin/reload", a.reload)
	// Breaker names contain slashes, so the action is the last segment.
	mux.HandleFunc("POST /admin/breakers/{rest...}", a.act)
	return a.auth(mux)
}

func (a *API) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), a.token) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="breakerd admin"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "a valid admin bearer token is required"})
			if ok, skipped := a.refused.Allow(time.Now(), time.Second); ok {
				a.log.Warn("admin request refused", "audit", true, "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path,
					"not_logged_since_last", skipped)
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}

// reload reloads the config: 200 with what changed, or 400 with why the
// new config was refused (the one in force stays).
func (a *API) reload(w http.ResponseWriter, r *http.Request) {
	if a.Reload == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "reload is not available here"})
		return
	}
	res, err := a.Reload(r.Context())
	a.log.Info("admin action", "audit", true, "remote", r.RemoteAddr, "action", "reload", "ok", err == nil)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "the config was not reloaded; the one in force stays: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"reloaded": true, "result": res})
}

func (a *API) list(w http.ResponseWriter, r *http.Request) {
	snaps := []breaker.Snapshot{}
	for _, b := range a.reg.All() {
		snaps = append(snaps, b.Snapshot())
	}
	writeJSON(w, http.StatusOK, map[string]any{"breakers": snaps})
}

func (a *API) act(w http.ResponseWriter, r *http.Request) {
	rest := r.PathValue("rest")
	i := strings.LastIndex(rest, "/")
	if i < 0 {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "use POST /admin/breakers/{name}/{action}", "actions": Actions})
		return
	}
	name, action := rest[:i], rest[i+1:]
	b, ok := a.reg.Lookup(name)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "no breaker named " + name, "breakers": a.reg.Names()})
		return
	}
	reason := "manual: " + action
	var changed bool
	switch action {
	case "open":
		changed = b.ForceOpen(reason)
	case "close":
		changed = b.ForceClose(reason)
	case "reset":
		changed = b.Reset(reason)
	case "disable":
		changed = b.Disable(reason)
	case "enable":
		changed = b.Enable(reason)
	default:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "unknown action " + action, "actions": Actions})
		return
	}
	a.log.Info("admin action", "audit", true, "remote", r.RemoteAddr, "breaker", name, "action", action,
		"changed", changed, "state", b.State().String())
	writeJSON(w, http.StatusOK, map[string]any{"breaker": name, "action": action, "changed": changed, "state": b.State()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
