package daemon

import (
	"context"
	"sync"
	"time"
)

// prober runs the gateway in force's background health checks
// (gateway.Probe) every health_check_interval while the config asks for
// them: at start, then a round each interval after the last ended, on
// the daemon's clock (a manual clock runs a round in its Advance); in a
// fleet (state: redis), at one replica an interval. A reload that turns
// them on starts them; one that turns them off stops them after the
// round under way.
type prober struct {
	d      *Daemon
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	stop    func() bool // the pending round's timer; nil while it is being set, or runs
	pending bool        // a round is scheduled and has not begun
	gen     int         // counts rounds scheduled
	closed  bool
}

// afterFuncClock is a clock that can run a function later.
type afterFuncClock interface {
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

func newProber(d *Daemon) *prober {
	ctx, cancel := context.WithCancel(context.Background())
	return &prober{d: d, ctx: ctx, cancel: cancel}
}

// arm schedules the next round after delay (the interval when < 0),
// unless one is pending, the prober is closed, or the config in force has
// no health checks.
func (p *prober) arm(delay time.Duration) {
	p.mu.Lock()
	interval := p.d.live.Load().cfg.Health.Probes.Interval
	if p.closed || p.pending || interval <= 0 {
		p.mu.Unlock()
		return
	}
	p.pending = true
	p.gen++
	gen := p.gen
	p.wg.Add(1)
	p.mu.Unlock()
	if delay < 0 {
		delay = interval
	}
	round := func() {
		defer p.wg.Done()
		p.mu.Lock()
		p.pending, p.stop = false, nil
		p.mu.Unlock()
		// In a fleet one replica checks for all, each interval: the
		// breakers' trips and recoveries are the fleet's.
		if f := p.d.fleet; f == nil || f.Claim("health-checks", interval*9/10) {
			p.d.Gateway().Probe(p.ctx)
		}
		p.arm(-1)
	}
	// Outside the lock: a manual clock runs a round due at once in
	// AfterFunc itself.
	var stop func() bool
	if c, ok := p.d.Gateway().Clock().(afterFuncClock); ok {
		stop = c.AfterFunc(delay, round)
	} else {
		stop = time.AfterFunc(delay, round).Stop
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closed && p.gen == gen && p.pending:
		if stop() {
			p.pending = false
			p.wg.Done() // it will not run
		}
	case p.gen == gen && p.pending:
		p.stop = stop
	}
}

// close stops the rounds: the pending one is cancelled, the one under way
// is ended (its calls cancelled) and waited for.
func (p *prober) close() {
	p.mu.Lock()
	p.closed = true
	stop := p.stop
	p.stop = nil
	p.mu.Unlock()
	if stop != nil && stop() {
		p.wg.Done() // the round will not run
	}
	p.cancel()
	p.wg.Wait()
}
