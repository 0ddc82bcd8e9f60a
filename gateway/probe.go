package gateway

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
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
	// tokens is the body's token limit's field; "" for none.
	tokens string
}

var chatProbe = probeCall{provider.Chat, provider.APIChat, []byte(`{"model":"probe","messages":[{"role":"user","content":"ping"}],"max_completion_tokens":1}`), "max_completion_tokens"}

// probeCalls are the probes by the deployment's model_info.mode; a mode
// not here (images, audio, rerank, ...) gets none.
var probeCalls = map[string]probeCall{
	"": chatProbe, "chat": chatProbe, "batch": chatProbe,
	"embedding":  {provider.Embeddings, provider.APIChat, []byte(`{"model":"probe","input":["ping"]}`), ""},
	"responses":  {provider.Chat, provider.APIResponses, []byte(`{"model":"probe","input":"ping","max_output_tokens":16,"store":false}`), "max_output_tokens"},
	"completion": {provider.Chat, provider.APICompletions, []byte(`{"model":"probe","prompt":"ping","max_tokens":1}`), "max_tokens"},
}

// bodyFor is pc's body with a deployment's own check settings applied:
// its token limit (or none), then its health_check_params.
func (pc probeCall) bodyFor(ck config.Check) []byte {
	if ck.MaxTokens == nil && !ck.NoMaxTokens && len(ck.Params) == 0 {
		return pc.body
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(pc.body, &fields); err != nil {
		panic("gateway: a probe's body is not JSON: " + err.Error()) // the bodies above are
	}
	switch {
	case pc.tokens == "":
	case ck.NoMaxTokens:
		delete(fields, pc.tokens)
	case ck.MaxTokens != nil:
		fields[pc.tokens] = json.RawMessage(strconv.Itoa(*ck.MaxTokens))
	}
	maps.Copy(fields, ck.Params)
	b, err := json.Marshal(fields)
	if err != nil {
		panic("gateway: a probe's body: " + err.Error()) // raw JSON values, checked by config
	}
	return b
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
	p := g.cfg.Health.Probes
	checked := func(dc config.Deployment) bool {
		return !dc.Check.Off && (p.Groups == nil || slices.Contains(p.Groups, dc.Group))
	}
	for _, pat := range g.patterns {
		for _, t := range pat.templates {
			if t.Check.Model == "" || !checked(t) {
				continue
			}
			// A wildcard's health_check_model, made as a client's request
			// for it would make it: the check shares the clients' breakers.
			if _, err := g.resolve(t.Check.Model); err != nil {
				g.log.Warn("health check: the wildcard deployment's health_check_model has no deployment",
					"model_name", t.Group, "model", t.ModelRef, "health_check_model", t.Check.Model, "error", err.Error())
			}
		}
	}
	ds := slices.Clone(g.deployments)
	for _, grp := range g.wildGroupsList() { // the models a wildcard serves that clients asked for
		for _, d := range grp.Deployments {
			if !slices.Contains(ds, d) {
				ds = append(ds, d)
			}
		}
	}
	for _, d := range ds {
		if !checked(d.Config) {
			continue
		}
		pc, ok := probeCalls[d.Config.Mode] // an embedding model's by its name too (config's modelModes)
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
	if t := d.Config.Check.Timeout; t > 0 {
		timeout = t // health_check_timeout: the deployment's own
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	transient := false
	release, err := g.throughAs(ctx, d, op, unjudged, string(op)+" health check", func(ctx context.Context) error {
		// Without the deployment's request defaults: a default max_tokens
		// beside the probe's max_completion_tokens would be refused.
		resp, err := d.prov.Send(ctx, &provider.Request{Op: op, API: pc.api, Body: pc.bodyFor(d.Config.Check), Model: "probe",
			Drop: d.Config.AlwaysDrop})
		if err != nil {
			if perr := asProviderError(err); p.IgnoreTransient && (perr.Status == 429 || perr.Status == 408 || perr.Timeout) {
				transient = true
				return uncountedError{perr}
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
		info.Status, info.ErrType = perr.Status, cmp.Or(deploymentFault(d, perr), errType(perr))
		info.Result = "ignored"
		if g.classify(d, perr) == breaker.Failure && !transient {
			info.Result = "failure"
			if p.TripAtOnce {
				// LiteLLM excludes a deployment at its first failed check.
				d.Breakers[op].Trip("health check failed: " + failureCause(perr, info.ErrType))
			}
		}
	}
	return info
}

// uncountedError is an error that is no breaker failure: a probe's 429
// or 408 (or timeout) under health_check_ignore_transient_errors, or a
// stored object's API that the deployment's server does not have
// (storedCallAt).
type uncountedError struct{ err *provider.Error }

func (e uncountedError) Error() string { return e.err.Error() }
func (e uncountedError) Unwrap() error { return e.err }
