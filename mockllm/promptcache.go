package mockllm

import (
	"crypto/sha256"
	"encoding/json"
	"strings"
	"sync"
)

// promptCache is prompt caching as the mock plays it.
//
// Anthropic's (use): a request whose system prompt or messages mark a
// block with cache_control writes the prompt up to that block to the
// cache, and a later request of the same model with the same prefix reads
// it.
//
// OpenAI's (auto): nothing is marked; a prompt is cached in steps of
// autoCacheStep tokens, and a later prompt of the same model that starts
// the same reads its longest cached prefix.
//
// As at both, a prefix shorter than minCachedTokens is not cached.
type promptCache struct {
	mu   sync.Mutex
	seen map[[32]byte]struct{}
}

const (
	// minCachedTokens is the shortest prefix Anthropic caches (Claude
	// Sonnet's and Opus', in tokens), and OpenAI.
	minCachedTokens = 1024
	// autoCacheStep is the step OpenAI caches prompts past
	// minCachedTokens in (its cached_tokens are 1024, 1152, 1280, ...).
	autoCacheStep = 128
	// maxCachedPrefixes bounds the cache: past it, it starts again empty.
	maxCachedPrefixes = 10_000
)

// use returns how many of the prompt's tokens were read from the cache
// and how many were written to it, for a prefix of the model's prompt
// (cachedPrefix's); it records the prefix as cached.
func (c *promptCache) use(model, prefix string) (read, written int) {
	n := tokens(prefix)
	if prefix == "" || n < minCachedTokens {
		return 0, 0
	}
	key := sha256.Sum256([]byte(model + "\x00" + prefix))
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[key]; ok {
		return n, 0
	}
	if c.seen == nil || len(c.seen) >= maxCachedPrefixes {
		c.seen = map[[32]byte]struct{}{}
	}
	c.seen[key] = struct{}{}
	return 0, n
}

// auto returns how many of prompt's tokens were read from the cache,
// OpenAI's way, and caches its prefixes. A prefix's tokens are its words;
// the key of each prefix at a step is the hash of the words so far, so a
// prompt's steps cost one pass over it.
func (c *promptCache) auto(model, prompt string) (read int) {
	words := strings.Fields(prompt)
	if len(words) < minCachedTokens {
		return 0
	}
	h := sha256.New()
	h.Write([]byte("openai\x00" + model + "\x00")) // apart from use's keys
	type step struct {
		key    [32]byte
		tokens int
	}
	var steps []step
	for i, w := range words {
		h.Write([]byte(w + " "))
		if n := i + 1; n >= minCachedTokens && (n-minCachedTokens)%autoCacheStep == 0 {
			st := step{tokens: n}
			h.Sum(st.key[:0])
			steps = append(steps, st)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(steps) - 1; i >= 0; i-- {
		if _, ok := c.seen[steps[i].key]; ok {
			read = steps[i].tokens
			break
		}
	}
	if c.seen == nil || len(c.seen)+len(steps) > maxCachedPrefixes {
		c.seen = map[[32]byte]struct{}{}
	}
	for _, st := range steps {
		c.seen[st.key] = struct{}{}
	}
	return read
}

// wholePrompt is the text of every message of a chat request, in order:
// what OpenAI caches.
func wholePrompt(msgs []chatMessage) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(contentText(m.Content))
		b.WriteByte('\n')
	}
	return b.String()
}

// cachedPrefix is the text of a Messages request's prompt up to its last
// block marked cache_control (the system prompt's blocks, then each
// message's, in order), or "" when none is marked; hour reports that the
// mark's ttl is "1h" (Anthropic's 1-hour cache).
func (req *messagesRequest) cachedPrefix() (prefix string, hour bool) {
	var b strings.Builder
	add := func(raw json.RawMessage) {
		var blocks []struct {
			Text         string `json:"text"`
			CacheControl *struct {
				TTL string `json:"ttl"`
			} `json:"cache_control"`
		}
		if json.Unmarshal(raw, &blocks) != nil {
			b.WriteString(contentText(raw)) // a string: no block to mark
			return
		}
		for _, bl := range blocks {
			b.WriteString(bl.Text)
			if bl.CacheControl != nil {
				prefix, hour = b.String(), bl.CacheControl.TTL == "1h"
			}
		}
	}
	if len(req.System) > 0 {
		add(req.System)
	}
	for _, m := range req.Messages {
		add(m.Content)
	}
	return prefix, hour
}
