package gateway

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/provider"
)

// LiteLLM's background health checks (config.Probes): breakerd's are
// calls through each deployment's breaker and bulkhead like any other,
// so a probe that fails counts toward opening a circuit no client traffic
// reaches, and a probe that succeeds, once the circuit lets trials
// through, can close it, so that recovery is found without a client's
// request as the trial. A circuit that is open (no trial due) skips its
// probe: the breaker, not the probe, decides when to try again.

// probeCall is the call a probe makes: as small as its API allows (one
// output token; the Responses API's least is 16), and the same each time.
type probeCall struct {
	op   provider.Operation
	api  provider.API
	body []byte
}

var chatProbe = probeCall{provider.Chat, provider.APIChat, []byte(`{"model":"probe","messages":[{"role":"user","content":"ping"}],"max_completion_tokens":1}`)}

// probeCalls are the probes by the deployment's model_info.mode; a mode
// not here (images, audio, rerank, ...) gets none.
var probeCalls = map[string]probeCall{
	"": chatProbe, "chat": chatProbe, "batch": chatProbe,
	"embedding":  {provider.Embeddings, provider.APIChat, []byte(`{"model":"probe","input":["ping"]}`)},
	"responses":  {provider.Chat, provider.APIResponses, []byte(`{"model":"probe","input":"ping","max_output_tokens":16,"store":false}`)},
	"completion": {provider.Chat, provider.APICompletions, []byte(`{"model":"probe","prompt":"ping","max_tokens":1}`)},
}

// probeTimeout bounds a probe (its deployment's timeout, when shorter).
const probeTimeout = time.Minute

// maxProbesAtOnce bounds the probes in flight: a config of a thousand
// deployments checks them a few dozen at a time.
const maxProbesAtOnce = 32

// ProbeInfo describes one health check call.
type ProbeInfo struct {
	Deployment *Deployment
	Op         provider.Operation
	// Result is "success", "failure" (counted toward the breaker, with
	// enable_health_check_routing), "ignored" (an answer the breaker does
	// not judge: a 4xx, or with health_check_ignore_transient_errors a 429
	// or 408) or "skipped" (its circuit was open, or its bulkhead full: no
	// call).
	Result   string
	Status   int
	ErrType  string
	Duration time.Duration
}

// Probe makes one health check call to each deployment (a wildcard's
// for each model clients have asked it for; not a files_settings
// account), up to maxProbesAtOnce at a time, and returns when every one has answered or ctx ends. Each is
// reported to the observer, and logged when it fails.
func (g *Gateway) Probe(ctx context.Context) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxProbesAtOnce)
	ds := slices.Clone(g.deployments)
	for _, grp := range g.wildGroupsList() { // the models a wildcard serves that clients asked for
		for _, d := range grp.Deployments {
			if !slices.Contains(ds, d) {
				ds = append(ds, d)
			}
		}
	}
	for _, d := range ds {
		mode := d.Config.Mode
		if mode == "" && strings.Contains(strings.ToLower(d.Config.Model), "embed") {
			mode = "embedding" // by its name: text-embedding-3-small
		}
		pc, ok := probeCalls[mode]
		if !ok || d.Breakers[pc.op] == nil || pc.api != provider.APIChat && !d.prov.Native(pc.api) {
			continue // a deployment of another API (images, audio): no probe
		}
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			g.obs.Probed(g.probe(ctx, d, pc))
		}()
	}
	wg.Wait()
}

// probe makes d's health check call pc.
func (g *Gateway) probe(ctx context.Context, d *Deployment, pc probeCall) ProbeInfo {
	op := pc.op
	info := ProbeInfo{Deployment: d, Op: op}
	p := g.cfg.Health.Probes
	var unjudged provider.API
	if !p.Routing {
		unjudged = provider.API(op) // counted and logged, not judged
	}
	timeout := probeTimeout
	if t := d.Config.Timeout; t > 0 && t < timeout {
		timeout = t
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	transient := false
	release, err := g.throughAs(ctx, d, op, unjudged, string(op)+" health check", func(ctx context.Context) error {
		// Without the deployment's request defaults: a default max_tokens
		// beside the probe's max_completion_tokens would be refused.
		resp, err := d.prov.Send(ctx, &provider.Request{Op: op, API: pc.api, Body: pc.body, Model: "probe",
			Drop: d.Config.AlwaysDrop})
		if err != nil {
			if perr := asProviderError(err); p.IgnoreTransient && (perr.Status == 429 || perr.Status == 408 || perr.Timeout) {
				transient = true
				return transientError{perr}
			}
			return err
		}
		if resp.Stream != nil {
			resp.Stream.Close()
		}
		if resp.Frames != nil {
			resp.Frames.Close()
		}
		return nil
	})
	info.Duration = time.Since(start)
	var u *unavailable
	switch {
	case err == nil:
		release()
		info.Result, info.Status = "success", http.StatusOK
	case errors.As(err, &u):
		info.Result, info.ErrType = "skipped", u.why
	default:
		perr := asProviderError(err)
		info.Status, info.ErrType = perr.Status, errType(perr)
		info.Result = "ignored"
		if g.classify(perr) == breaker.Failure && !transient {
			info.Result = "failure"
			if p.TripAtOnce {
				// LiteLLM excludes a deployment at its first failed check.
				d.Breakers[op].Trip("health check failed: " + failureCause(perr, info.ErrType))
			}
		}
	}
	return info
}

// transientError is a probe's 429 or 408 (or timeout) under
// health_check_ignore_transient_errors: no breaker failure.
type transientError struct{ err *provider.Error }

func (e transientError) Error() string { return e.err.Error() }
func (e transientError) Unwrap() error { return e.err }
