package gateway

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/breakerd/breakerd/config"
)

// MaxWildcardModels bounds how many models wildcard deployments resolve to
// in one process. Each resolved model gets its own deployments, breakers
// and metric series; without a bound, clients naming models at random
// would grow them without end. Past it, a new model name gets a 404.
const MaxWildcardModels = 256

// pattern is a model_name with a "*" (LiteLLM's wildcard routing), or a
// group whose deployments are templates ("openai/*").
type pattern struct {
	name string
	// templates are the wildcard deployments, resolved per requested
	// model; static are the pattern group's ordinary deployments, shared
	// by every model it matches.
	templates []config.Deployment
	static    []*Deployment
}

// wildGroups are the groups resolved from patterns so far, by requested
// model, with their routes.
type wildGroups struct {
	mu     sync.RWMutex
	groups map[string]*Group
	order  []*Group
	routes map[string]route
}

func (g *Gateway) pattern(name string) *pattern {
	for _, p := range g.patterns {
		if p.name == name {
			return p
		}
	}
	p := &pattern{name: name}
	g.patterns = append(g.patterns, p)
	return p
}

func (g *Gateway) addToPattern(dc config.Deployment) {
	p := g.pattern(dc.Group)
	if dc.Wildcard {
		p.templates = append(p.templates, dc)
	}
}

// wildRoute returns the route of a resolved group, if there is one.
func (g *Gateway) wildRoute(group string) (route, bool) {
	g.wild.mu.RLock()
	defer g.wild.mu.RUnlock()
	r, ok := g.wild.routes[group]
	return r, ok
}

// resolve finds the first pattern, the most specific first (config order
// among equals), that matches a requested model with a deployment that can
// serve it, and makes (once)
// the group that serves that model: each template resolved to the model
// (breakers are per resolved model), the pattern's own deployments, then
// the model's fallbacks (else the pattern's). The error says why nothing
// matched.
func (g *Gateway) resolve(model string) (*Group, error) {
	if len(g.patterns) == 0 {
		return nil, errNoPattern
	}
	g.wild.mu.RLock()
	grp, ok := g.wild.groups[model]
	_, routed := g.wild.routes[model]
	g.wild.mu.RUnlock()
	if ok && routed {
		return grp, nil
	}
	g.wild.mu.Lock()
	defer g.wild.mu.Unlock()
	grp, err := g.wildGroupLocked(model)
	if err != nil {
		return nil, err
	}
	if _, ok := g.wild.routes[model]; !ok {
		// A fallback served through a wildcard is resolved with it.
		g.wild.routes[model] = g.routeOf(grp, func(name string) *Group {
			other, _ := g.wildGroupLocked(name)
			return other
		})
	}
	return grp, nil
}

// wildGroupLocked returns the group serving model through a pattern,
// making its deployments once; its route is resolve's. g.wild.mu is held
// for writing.
func (g *Gateway) wildGroupLocked(model string) (*Group, error) {
	if grp, ok := g.wild.groups[model]; ok {
		return grp, nil
	}
	if len(g.wild.groups) >= MaxWildcardModels {
		return nil, fmt.Errorf("wildcard deployments already serve %d models, the most one breakerd resolves", MaxWildcardModels)
	}
	var why error = errNoPattern
	for _, p := range g.patterns {
		star, ok := config.MatchGroup(p.name, model)
		if !ok && p.name != model {
			continue
		}
		if !ok {
			star = model
		}
		var ds []*Deployment
		for _, t := range p.templates {
			rc, err := t.Resolve(model, star, g.cfg.ProviderKeys)
			if err != nil {
				why = err
				continue
			}
			d, err := g.newDeployment(rc)
			if err != nil {
				why = err
				continue
			}
			ds = append(ds, d)
		}
		ds = append(ds, p.static...)
		if len(ds) == 0 {
			continue
		}
		fallbacks, own := g.cfg.Router.Fallbacks[model]
		if !own {
			fallbacks = g.cfg.Router.Fallbacks[p.name]
		}
		grp := &Group{Name: model, Deployments: ds, Fallbacks: fallbacks}
		if g.wild.groups == nil {
			g.wild.groups, g.wild.routes = map[string]*Group{}, map[string]route{}
		}
		g.wild.groups[model] = grp
		g.wild.order = append(g.wild.order, grp)
		return grp, nil
	}
	return nil, why
}

var errNoPattern = errors.New("no model_name matches it")

// wildGroupsList returns the resolved groups, in the order they were made.
func (g *Gateway) wildGroupsList() []*Group {
	g.wild.mu.RLock()
	defer g.wild.mu.RUnlock()
	return slices.Clone(g.wild.order)
}

// HasGroup reports whether name is a configured model group or one
// resolved from a wildcard deployment.
func (g *Gateway) HasGroup(name string) bool {
	if _, ok := g.groups[name]; ok {
		return true
	}
	g.wild.mu.RLock()
	defer g.wild.mu.RUnlock()
	_, ok := g.wild.groups[name]
	return ok
}
