package mockllm

import (
	"crypto/sha256"
	"encoding/json"
	"strings"
	"sync"
)

// promptCache is Anthropic's prompt caching as the mock plays it: a
// request whose system prompt or messages mark a block with
// cache_control writes the prompt up to that block to the cache, and a
// later request of the same model with the same prefix reads it. As at
// Anthropic, a prefix shorter than minCachedTokens is not cached.
type promptCache struct {
	mu   sync.Mutex
	seen map[[32]byte]struct{}
}

const (
	// minCachedTokens is the shortest prefix Anthropic caches (Claude
	// Sonnet's and Opus', in tokens).
	minCachedTokens = 1024
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

// cachedPrefix is the text of a Messages request's prompt up to its last
// block marked cache_control (the system prompt's blocks, then each
// message's, in order), or "" when none is marked.
func (req *messagesRequest) cachedPrefix() string {
	var b strings.Builder
	prefix := ""
	add := func(raw json.RawMessage) {
		var blocks []struct {
			Text         string          `json:"text"`
			CacheControl json.RawMessage `json:"cache_control"`
		}
		if json.Unmarshal(raw, &blocks) != nil {
			b.WriteString(contentText(raw)) // a string: no block to mark
			return
		}
		for _, bl := range blocks {
			b.WriteString(bl.Text)
			if len(bl.CacheControl) > 0 && string(bl.CacheControl) != "null" {
				prefix = b.String()
			}
		}
	}
	if len(req.System) > 0 {
		add(req.System)
	}
	for _, m := range req.Messages {
		add(m.Content)
	}
	return prefix
}
