package breaker

import (
	"slices"
	"sync"
)

// Registry holds named breakers. Health, metrics and admin code find
// breakers through it. The zero value is not usable; call NewRegistry.
type Registry struct {
	defaults  Settings
	mu        sync.RWMutex
	byName    map[string]*Breaker
	sorted    []*Breaker
	listeners []Listener
}

// NewRegistry returns an empty registry whose breakers start from defaults.
// Settings.Name is ignored in defaults.
func NewRegistry(defaults Settings) *Registry {
	return &Registry{defaults: defaults, byName: map[string]*Breaker{}}
}

// Get returns the breaker called name, creating it from the registry's
// defaults if it does not exist yet.
func (r *Registry) Get(name string) *Breaker {
	return r.GetOrCreate(name, func(s *Settings) {})
}

// GetOrCreate returns the breaker called name. If it does not exist, it is
// created from the registry's defaults after configure has adjusted them
// (a nil configure takes the defaults as they are); configure is not
// called for an existing breaker. It panics if the
// resulting settings are invalid (see New).
func (r *Registry) GetOrCreate(name string, configure func(*Settings)) *Breaker {
	r.mu.RLock()
	b, ok := r.byName[name]
	r.mu.RUnlock()
	if ok {
		return b
	}
	s := r.defaults
	if configure != nil {
		configure(&s)
	}
	s.Name = name
	nb := New(s)

	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.byName[name]; ok {
		return b
	}
	for _, l := range r.listeners {
		nb.AddListener(l)
	}
	r.byName[name] = nb
	i, _ := slices.BinarySearchFunc(r.sorted, name, func(b *Breaker, n string) int {
		switch {
		case b.Name() < n:
			return -1
		case b.Name() > n:
			return 1
		}
		return 0
	})
	r.sorted = slices.Insert(r.sorted, i, nb)
	return nb
}

// Remove takes the breaker called name out of the registry, reporting
// whether it was there. Callers that still hold it may go on using it; it
// just no longer shows in All, Names or Lookup, and a later GetOrCreate
// of the name makes a new one (a config reload that changed it).
func (r *Registry) Remove(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.byName[name]
	if !ok {
		return false
	}
	delete(r.byName, name)
	r.sorted = slices.DeleteFunc(r.sorted, func(x *Breaker) bool { return x == b })
	return true
}

// Lookup returns the breaker called name, if it exists.
func (r *Registry) Lookup(name string) (*Breaker, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	b, ok := r.byName[name]
	return b, ok
}

// All returns every breaker, sorted by name. The slice is a copy.
func (r *Registry) All() []*Breaker {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.sorted)
}

// Names returns every breaker's name, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, len(r.sorted))
	for i, b := range r.sorted {
		names[i] = b.Name()
	}
	return names
}

// AddListener registers l on every breaker, present and future.
func (r *Registry) AddListener(l Listener) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.listeners = append(r.listeners, l)
	for _, b := range r.sorted {
		b.AddListener(l)
	}
}

// WaitListeners waits until every breaker's listeners have seen every
// transition so far.
func (r *Registry) WaitListeners() {
	for _, b := range r.All() {
		b.WaitListeners()
	}
}
