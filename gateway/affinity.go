package gateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/breakerd/breakerd/config"
)

// LiteLLM's deployment affinity (optional_pre_call_checks
// session_affinity and deployment_affinity): the requests of a session
// (or of a client key) go first to the deployment of their model group
// that served them last, so that its prompt cache, warm with the
// conversation so far, serves the next turn too. breakerd's pins give way
// to its breakers: a pinned deployment whose circuit is open is passed
// over as any is, and the session moves to the deployment that serves it
// instead, for as long as that one does.

// sessionHeaders are where clients name their session, as LiteLLM reads
// them: its own header, Claude Code's, and the generic ones.
var sessionHeaders = []string{"X-Litellm-Session-Id", "X-Claude-Code-Session-Id", "Session-Id", "Session_id", "X-Session-Id", "Thread-Id", "Conversation_id"}

// keyHeaders are where clients send their API key.
var keyHeaders = []string{"Authorization", "X-Api-Key", "Api-Key"}

// maxPins bounds the pins kept: past it, the expired go, then a tenth.
const maxPins = 100_000

// PinStore keeps deployment affinity's pins where every replica of a
// fleet reads them (its Redis), so that a session stays on one deployment
// whichever replica its requests reach. Pin returns the deployment key is
// pinned to ("" for none), and ok false when the store cannot be reached
// (the replica then goes by its own pins); SetPin pins key to deployment
// for ttl.
type PinStore interface {
	Pin(key string) (deployment string, ok bool)
	SetPin(key, deployment string, ttl time.Duration)
}

// SharePins has the gateway keep its affinity pins in store too, and
// read them there first. Without it, each replica pins on its own.
func (g *Gateway) SharePins(store PinStore) {
	g.pins.mu.Lock()
	defer g.pins.mu.Unlock()
	g.pins.store = store
}

// pins are the affinity's pins, by pinKey. The zero value is empty.
type pins struct {
	mu    sync.Mutex
	m     map[string]pinned
	store PinStore // the fleet's, when shared
}

type pinned struct {
	deployment string // its name
	until      time.Time
}

// affinityOf returns the affinity checks group's requests get.
func (g *Gateway) affinityOf(group string) config.Affinity {
	if a, ok := g.cfg.Router.GroupAffinity[group]; ok {
		return a
	}
	return g.cfg.Router.Affinity
}

// pinKey returns the key a request for group pins its deployment by
// (its session id's, else its API key's, as the checks a allow), or ""
// when it has none. session is the body's (litellm_session_id,
// metadata.session_id); a header's wins.
func pinKey(group string, a config.Affinity, h http.Header, session string) string {
	if a.Session {
		for _, name := range sessionHeaders {
			if v := h.Get(name); v != "" {
				session = v
				break
			}
		}
		if session != "" {
			sum := sha256.Sum256([]byte(session)) // bounded, whatever a client sends
			return group + "\x00session\x00" + hex.EncodeToString(sum[:16])
		}
	}
	if a.Key {
		for _, name := range keyHeaders {
			if v := h.Get(name); v != "" {
				sum := sha256.Sum256([]byte(strings.TrimPrefix(v, "Bearer "))) // never the key itself
				return group + "\x00key\x00" + hex.EncodeToString(sum[:16])
			}
		}
	}
	return ""
}

// minCachedPrompt is the least prompt prefix (in bytes: about 1,024
// tokens, the least a provider caches) that prompt_caching pins by.
const minCachedPrompt = 4096

// promptKey returns the key prompt_caching pins a request for group by:
// a hash of the part of its prompt it marks for caching (system, tools
// and the messages up to the last cache_control marker), when that part
// is long enough to be cached; "" otherwise.
func promptKey(group string, body []byte) string {
	marker := []byte(`"cache_control"`)
	if !bytes.Contains(body, marker) {
		return ""
	}
	var p struct {
		System   json.RawMessage   `json:"system"`
		Tools    json.RawMessage   `json:"tools"`
		Messages []json.RawMessage `json:"messages"`
	}
	if json.Unmarshal(body, &p) != nil {
		return ""
	}
	last := -1
	for i, m := range p.Messages {
		if bytes.Contains(m, marker) {
			last = i
		}
	}
	if last < 0 && !bytes.Contains(p.System, marker) && !bytes.Contains(p.Tools, marker) {
		return ""
	}
	h := sha256.New()
	n, _ := h.Write(p.System)
	m, _ := h.Write(p.Tools)
	n += m
	for _, msg := range p.Messages[:last+1] {
		m, _ = h.Write(msg)
		n += m
	}
	if n < minCachedPrompt {
		return ""
	}
	return group + "\x00prompt\x00" + hex.EncodeToString(h.Sum(nil)[:16])
}

// first returns route with the deployment key is pinned to first, when
// the pin is live at now and names one of group's own deployments on the
// route; else route as it is.
func (p *pins) first(route []*Deployment, key, group string, now time.Time) []*Deployment {
	p.mu.Lock()
	pin, ok := p.m[key]
	store := p.store
	p.mu.Unlock()
	if store != nil {
		if d, up := store.Pin(key); up {
			pin, ok = pinned{deployment: d, until: now.Add(time.Second)}, d != "" // the fleet's: live while the store has it
		}
	}
	if !ok || !now.Before(pin.until) {
		return route
	}
	i := slices.IndexFunc(route, func(d *Deployment) bool { return d.Config.Name == pin.deployment && d.Config.Group == group })
	if i <= 0 {
		return route
	}
	out := make([]*Deployment, 0, len(route))
	return append(append(append(out, route[i]), route[:i]...), route[i+1:]...)
}

// set pins key to deployment until until.
func (p *pins) set(key, deployment string, now, until time.Time) {
	p.mu.Lock()
	store := p.store
	defer func() {
		if store != nil {
			store.SetPin(key, deployment, until.Sub(now))
		}
	}()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]pinned{}
	}
	if _, ok := p.m[key]; !ok && len(p.m) >= maxPins {
		for k, v := range p.m {
			if !now.Before(v.until) {
				delete(p.m, k)
			}
		}
		for k := range p.m {
			if len(p.m) < maxPins*9/10 {
				break
			}
			delete(p.m, k)
		}
	}
	p.m[key] = pinned{deployment: deployment, until: until}
}
