package gateway

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/breakerd/breakerd/provider"
)

// LiteLLM's response cache (config.Cache): the answer to a request that
// is the same as one answered within the TTL, value for value in every
// field but LiteLLM's own parameters (canonicalRequest), to the same
// model group and API,
// is given again from memory, with no upstream call, no breaker and no
// budget touched. A stream that ended well is kept as the events it was
// (a stream's request, which says "stream": true, has a key of its own)
// and given again as a stream.

// cacheControl is LiteLLM's per-request cache parameter: {"cache":
// {"no-cache": true, "no-store": true, "ttl": 60, "s-maxage": 30,
// "use-cache": true}}.
type cacheControl struct {
	NoCache  bool     `json:"no-cache"`
	NoStore  bool     `json:"no-store"`
	TTL      *float64 `json:"ttl"`
	SMaxAge  *float64 `json:"s-maxage"`
	UseCache bool     `json:"use-cache"`
}

// AnswerStore keeps the response cache's answers where every replica of
// a fleet reads them (its Redis): Answer returns what key holds (ok false
// when nothing, or the store cannot be reached); SetAnswer keeps value
// under key for ttl.
type AnswerStore interface {
	Answer(key string) (value []byte, ok bool)
	SetAnswer(key string, value []byte, ttl time.Duration)
}

// ShareAnswers has the response cache keep its answers in store too, and
// look there for those it lacks (with cache_params.type: redis).
func (g *Gateway) ShareAnswers(store AnswerStore) {
	g.answers.mu.Lock()
	defer g.answers.mu.Unlock()
	g.answers.store = store
}

// answers is the response cache: the answers kept, least recently used
// first out once they pass maxBytes. The zero value is empty.
type answers struct {
	mu    sync.Mutex
	byKey map[string]*list.Element
	lru   list.List // of *answer, most recently used at the front
	bytes int64
	store AnswerStore // the fleet's, when shared
}

// encode writes an answer for an AnswerStore: its deployment, provider,
// and times on a line each, then its body.
func (an *answer) encode() []byte {
	head := fmt.Sprintf("%s\n%s\n%d\n%d\n", an.deployment, an.provider, an.stored.UnixNano(), an.expires.UnixNano())
	return append([]byte(head), an.body...)
}

// decodeAnswer reads what encode wrote.
func decodeAnswer(key string, b []byte) (*answer, bool) {
	parts := bytes.SplitN(b, []byte("\n"), 5)
	if len(parts) != 5 {
		return nil, false
	}
	stored, err1 := strconv.ParseInt(string(parts[2]), 10, 64)
	expires, err2 := strconv.ParseInt(string(parts[3]), 10, 64)
	if err1 != nil || err2 != nil {
		return nil, false
	}
	return &answer{key: key, deployment: string(parts[0]), provider: string(parts[1]), stored: time.Unix(0, stored),
		expires: time.Unix(0, expires), body: parts[4]}, true
}

type answer struct {
	key                  string
	body                 []byte
	deployment, provider string
	stored, expires      time.Time
}

// get returns the answer kept for key at now, no older than maxAge (0:
// any age).
func (a *answers) get(key string, now time.Time, maxAge time.Duration) (*answer, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.byKey[key]
	if !ok {
		return nil, false
	}
	an := e.Value.(*answer)
	if !now.Before(an.expires) {
		a.drop(e)
		return nil, false
	}
	if maxAge > 0 && now.Sub(an.stored) > maxAge {
		return nil, false
	}
	a.lru.MoveToFront(e)
	return an, true
}

// put keeps an answer, and drops the least recently used past maxBytes.
func (a *answers) put(an *answer, maxBytes int64) {
	if int64(len(an.body)) > maxBytes/8 {
		return // one answer may not crowd out the rest
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byKey == nil {
		a.byKey = map[string]*list.Element{}
	}
	if e, ok := a.byKey[an.key]; ok {
		a.drop(e)
	}
	a.byKey[an.key] = a.lru.PushFront(an)
	a.bytes += int64(len(an.body))
	for a.bytes > maxBytes {
		a.drop(a.lru.Back())
	}
}

func (a *answers) drop(e *list.Element) {
	an := a.lru.Remove(e).(*answer)
	delete(a.byKey, an.key)
	a.bytes -= int64(len(an.body))
}

// keepChunk adds a stream's chunk to the events kept for the response
// cache, and stops keeping them once they are more than one answer may
// take.
func (c *call) keepChunk(chunk []byte) {
	if c.streamed == nil {
		return // not kept, or no longer
	}
	if int64(len(c.streamed)+len(chunk)) > c.g.cfg.Cache.MaxBytes/8 {
		c.streamed = nil
		return
	}
	c.streamed = append(c.streamed, chunk...)
}

// isStream reports whether a kept answer is a stream's events (an
// answer's JSON starts with "{").
func (an *answer) isStream() bool {
	return bytes.HasPrefix(an.body, []byte("data:")) || bytes.HasPrefix(an.body, []byte("event:"))
}

// cacheable returns the request's cache key, or "" when the response
// cache does not apply to it: off, an API it does not keep, a
// request that says no-cache and no-store, or (mode default_off) one that
// does not ask.
func (c *call) cacheable() string {
	cc := c.g.cfg.Cache
	if cc == nil || c.req == nil || !slices.Contains(cc.APIs, cacheAPI(c.op, c.api)) {
		return ""
	}
	ctl := c.routing.cache
	if cc.DefaultOff && !ctl.UseCache || ctl.NoCache && ctl.NoStore {
		return ""
	}
	group := c.group
	if shared, ok := cc.Groups[group]; ok {
		group = shared // caching_groups: one cache for these groups
	}
	h := sha256.New()
	h.Write([]byte(string(c.api) + "\x00" + string(c.op) + "\x00" + group + "\x00"))
	h.Write(canonicalRequest(c.req.Body))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// canonicalRequest is a request body as the response cache's key reads
// it: without LiteLLM's own parameters and the model (the key has the
// model group, which an alias resolves), its objects' keys sorted at every
// depth, with no space between tokens and strings and numbers written
// one way, so that the same request from another client (another field
// order, Python's spaces after commas, \u escapes) is the same. A body
// that is not a JSON object is itself.
func canonicalRequest(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // numbers as written: 1e3 and 1000 differ, but no digit is lost
	var fields map[string]any
	if dec.Decode(&fields) != nil {
		return body
	}
	for k := range fields {
		if _, litellm := liteLLMRequestParams[k]; litellm || k == "model" { // the key names the model group
			delete(fields, k)
		}
	}
	b, err := json.Marshal(fields) // sorts every object's keys
	if err != nil {
		return body
	}
	return b
}

// cacheAPI names a request's API as cache_params' supported_call_types
// do: chat, embeddings or completions ("" for another).
func cacheAPI(op provider.Operation, api provider.API) string {
	switch {
	case api == provider.APIChat && op == provider.Chat:
		return "chat"
	case api == provider.APIChat && op == provider.Embeddings:
		return "embeddings"
	case api == provider.APICompletions:
		return "completions"
	}
	return ""
}

// fromCache answers the request from the response cache when it holds
// its answer, and reports whether it did.
func (c *call) fromCache(w http.ResponseWriter) (*outcome, bool) {
	if c.cacheKey == "" || c.routing.cache.NoCache {
		return nil, false
	}
	var maxAge time.Duration
	if s := c.routing.cache.SMaxAge; s != nil {
		maxAge = time.Duration(*s * float64(time.Second))
	}
	now := c.g.clock.Now()
	an, ok := c.g.answers.get(c.cacheKey, now, maxAge)
	if !ok && c.g.cfg.Cache.Shared {
		an, ok = c.g.answers.shared(c.cacheKey, now, maxAge, c.g.cfg.Cache.MaxBytes)
	}
	if !ok {
		return nil, false
	}
	h := w.Header()
	h["Content-Type"] = c.g.headers.json
	stream := an.isStream()
	if stream {
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("X-Breakerd-Cache", "hit")
	h.Set("X-Litellm-Cache-Key", c.cacheKey)
	h.Set("X-Breakerd-Deployment", an.deployment)
	h.Set("X-Breakerd-Provider", an.provider)
	w.WriteHeader(http.StatusOK)
	_ = c.send(w, an.body, stream)
	return &outcome{code: http.StatusOK, cached: true}, true
}

// keep puts an answer d gave in the response cache, unless the request
// said no-store.
func (c *call) keep(d *Deployment, body []byte) {
	cc := c.g.cfg.Cache
	if c.cacheKey == "" || c.routing.cache.NoStore || cc == nil {
		return
	}
	if len(c.routing.overrides[d.Config.Group]) > 0 && d.Config.Group != c.group {
		return // the answer to a fallback object's fields, not to the request's
	}
	ttl := cc.TTL
	if t := c.routing.cache.TTL; t != nil {
		ttl = time.Duration(*t * float64(time.Second))
	}
	if ttl <= 0 {
		return
	}
	now := c.g.clock.Now()
	an := &answer{key: c.cacheKey, body: slices.Clone(body), deployment: d.Config.Name, provider: d.Config.Provider,
		stored: now, expires: now.Add(ttl)}
	c.g.answers.put(an, cc.MaxBytes)
	if cc.Shared {
		if store := c.g.answers.shareWith(); store != nil {
			store.SetAnswer(an.key, an.encode(), ttl)
		}
	}
}

// shareWith returns the store answers are shared in, nil when none.
func (a *answers) shareWith() AnswerStore {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.store
}

// shared looks for key's answer in the fleet's store, and keeps it here
// when there is one (live at now, no older than maxAge).
func (a *answers) shared(key string, now time.Time, maxAge time.Duration, maxBytes int64) (*answer, bool) {
	store := a.shareWith()
	if store == nil {
		return nil, false
	}
	b, ok := store.Answer(key)
	if !ok {
		return nil, false
	}
	an, ok := decodeAnswer(key, b)
	if !ok || !now.Before(an.expires) || maxAge > 0 && now.Sub(an.stored) > maxAge {
		return nil, false
	}
	a.put(an, maxBytes)
	return an, true
}

// readCacheControl reads LiteLLM's cache parameter into r; one that is
// not an object is left out (ignored), as LiteLLM leaves it.
func (r *clientRouting) readCacheControl(v []byte) {
	var cc cacheControl
	if json.Unmarshal(v, &cc) == nil {
		r.cache = cc
	}
}
