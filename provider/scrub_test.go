package provider

import (
	"slices"
	"strings"
	"sync"
)

// learned is a Scrubber for tests: it scrubs the secrets it was given or
// told, as gateway.Redactor does, and keeps those it was told.
type learned struct {
	mu      sync.Mutex
	secrets []string
	told    []string
}

func (l *learned) Redact(s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, x := range slices.Concat(l.secrets, l.told) {
		if x != "" {
			s = strings.ReplaceAll(s, x, "[REDACTED]")
		}
	}
	return s
}

func (l *learned) Add(secrets ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.told = append(l.told, secrets...)
}

// toldOf returns the secrets l was told.
func (l *learned) toldOf() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.told)
}
