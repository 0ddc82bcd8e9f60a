package health_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/gateway"
	"github.com/breakerd/breakerd/health"
)

var t0 = time.Date(2026, 1, 26, 12, 0, 0, 0, time.UTC)

// Two groups: chat (primary, with a fallback deployment in group backup)
// and backup. The primary's model is named for no family, so it serves
// chat and embeddings: three circuits.
const cfgText = `
model_list:
  - model_name: chat
    litellm_params: {model: openai/my-model, api_base: http://primary.invalid/v1}
  - model_name: backup
    litellm_params: {model: anthropic/claude-3-5-sonnet, api_base: http://backup.invalid}
router_settings:
  routing_strategy: ordered
  fallbacks: [{chat: [backup]}]
`

func setup(t *testing.T, policy config.Health) (*gateway.Gateway, *breaker.ManualClock, *health.Checker) {
	t.Helper()
	gw, clk := newGateway(t, cfgText)
	return gw, clk, health.New(gw, policy)
}

// newGateway is a gateway of the config text, on a manual clock at t0.
func newGateway(t *testing.T, text string) (*gateway.Gateway, *breaker.ManualClock) {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte(text), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	clk := breaker.NewManualClock(t0)
	gw, err := gateway.New(gateway.Options{Config: cfg, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.Close)
	return gw, clk
}

func br(t *testing.T, gw *gateway.Gateway, name string) *breaker.Breaker {
	b, ok := gw.Registry().Lookup(name)
	if !ok {
		t.Fatalf("no breaker %s", name)
	}
	return b
}

const (
	primaryChat = "chat/openai/my-model:chat"
	primaryEmb  = "chat/openai/my-model:embeddings"
	backupChat  = "backup/anthropic/claude-3-5-sonnet:chat"
)

func TestPolicies(t *testing.T) {
	tests := []struct {
		name   string
		policy config.Health
		open   []string
		// advance moves the clock after opening (30s: trials are due).
		advance time.Duration
		want    health.Status
	}{
		{name: "all closed is healthy", want: health.Healthy},
		{name: "routable: a dead primary with a live fallback is degraded", open: []string{primaryChat}, want: health.Degraded},
		{name: "routable: a group with nothing to route to is not enough by default", open: []string{backupChat},
			want: health.Degraded},
		{name: "routable: every group unroutable is unhealthy", open: []string{primaryChat, backupChat}, want: health.Unhealthy},
		{name: "routable: an open breaker whose trial is due can take calls", open: []string{primaryChat, backupChat},
			advance: 30 * time.Second, want: health.Degraded},
		{name: "routable: a critical group without a route is unhealthy",
			policy: config.Health{CriticalGroups: []string{"backup"}}, open: []string{backupChat}, want: health.Unhealthy},
		{name: "routable: a non-critical group without a route is only degraded",
			policy: config.Health{CriticalGroups: []string{"chat"}}, open: []string{backupChat}, want: health.Degraded},
		{name: "routable: unroutable_fraction sets the share",
			policy: config.Health{UnroutableFraction: 0.5}, open: []string{backupChat}, want: health.Unhealthy},
		{name: "open_fraction: below the threshold is degraded", policy: config.Health{Policy: "open_fraction"},
			open: []string{primaryChat}, want: health.Degraded},
		{name: "open_fraction: half the circuits open is unhealthy (the seed's rule)",
			policy: config.Health{Policy: "open_fraction"}, open: []string{primaryChat, primaryEmb}, want: health.Unhealthy},
		{name: "open_fraction: the threshold is configurable",
			policy: config.Health{Policy: "open_fraction", OpenFraction: 0.75}, open: []string{primaryChat, primaryEmb},
			want: health.Degraded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gw, clk, c := setup(t, tc.policy)
			for _, n := range tc.open {
				br(t, gw, n).OpenUntil(t0.Add(30*time.Second), "test")
			}
			clk.Advance(tc.advance)
			r := c.Check(true)
			if r.Status != tc.want || r.Healthy != (tc.want != health.Unhealthy) {
				t.Fatalf("status %s healthy %v (%s), want %s", r.Status, r.Healthy, r.Reason, tc.want)
			}
		})
	}
}

func TestReportShape(t *testing.T) {
	gw, _, c := setup(t, config.Health{})
	br(t, gw, primaryChat).OpenUntil(t0.Add(time.Minute), "test")
	r := c.Check(true)
	if r.Summary != "2/3 circuits healthy" || r.Circuits[primaryChat].State != "open" || r.Circuits[primaryChat].Healthy {
		t.Fatalf("report %+v", r)
	}
	var chat health.Group
	for _, g := range r.Groups {
		if g.Name == "chat" {
			chat = g
		}
	}
	if !chat.Routable || !chat.Fallback || chat.ServedBy != "backup/anthropic/claude-3-5-sonnet" || len(chat.Deployments) != 2 {
		t.Fatalf("chat group %+v", chat)
	}
	if !strings.Contains(r.Policy, "routable") {
		t.Fatalf("policy %q", r.Policy)
	}
	if c.Check(false).Groups != nil {
		t.Fatal("groups without ?verbose")
	}
}

func TestCircuitBreakersEndpointShape(t *testing.T) {
	gw, _, c := setup(t, config.Health{})
	if got := c.Breakers().OverallHealth; got != "healthy" {
		t.Fatalf("overall %s", got)
	}
	br(t, gw, primaryChat).ForceOpen("")
	b := c.Breakers()
	if b.OverallHealth != "degraded" || b.Providers[primaryChat] != "forced_open" || b.Providers[backupChat] != "closed" {
		t.Fatalf("%+v", b)
	}
	for _, n := range gw.Registry().Names() {
		br(t, gw, n).ForceOpen("")
	}
	if got := c.Breakers().OverallHealth; got != "critical" {
		t.Fatalf("overall %s", got)
	}
}

func TestHandlers(t *testing.T) {
	gw, _, c := setup(t, config.Health{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
			c.Handler().ServeHTTP(w, r)
		case "/status.json":
			c.StatusHandler().ServeHTTP(w, r)
		default:
			health.PageHandler().ServeHTTP(w, r)
		}
	}))
	defer srv.Close()
	defer http.DefaultClient.CloseIdleConnections()
	get := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, b.String()
	}
	if code, body := get("GET", "/health"); code != 200 || !strings.Contains(body, `"status": "healthy"`) {
		t.Fatalf("%d %s", code, body)
	}
	for _, n := range []string{primaryChat, backupChat} {
		br(t, gw, n).ForceOpen("")
	}
	if code, body := get("GET", "/health"); code != 503 || !strings.Contains(body, `"healthy": false`) {
		t.Fatalf("%d %s", code, body)
	}
	if code, body := get("HEAD", "/health"); code != 503 || body != "" {
		t.Fatalf("HEAD: %d %q", code, body)
	}
	if code, body := get("GET", "/health?verbose"); code != 503 || !strings.Contains(body, `"groups"`) {
		t.Fatalf("verbose: %d %s", code, body)
	}
	code, body := get("GET", "/status.json")
	var v health.StatusView
	if err := json.Unmarshal([]byte(body), &v); err != nil || code != 200 {
		t.Fatalf("%d %v", code, err)
	}
	if len(v.Groups) != 2 || len(v.Groups[0].Deployments) != 2 || v.Groups[0].Deployments[0].Breakers[0].State != "forced_open" ||
		len(v.Transitions) != 2 || v.Transitions[0].Reason != "manual: open" || v.Overall.Status != health.Unhealthy {
		t.Fatalf("status view %+v", v)
	}
	if strings.Contains(body, "invalid") {
		t.Fatal("the status page reveals upstream URLs")
	}
	if code, body := get("GET", "/"); code != 200 || !strings.Contains(body, "<title>breakerd status</title>") {
		t.Fatalf("page: %d", code)
	}
}

// /health/circuit-breakers and /health never disagree about whether the
// gateway can serve, in every mix of open breakers, under each policy.
// The first case is the one that used to disagree: every chat breaker
// open, the embeddings breaker closed for want of calls.
func TestCircuitBreakersAgreesWithHealth(t *testing.T) {
	sets := [][]string{
		{primaryChat, backupChat}, {}, {primaryChat}, {backupChat}, {primaryEmb},
		{primaryChat, primaryEmb}, {backupChat, primaryEmb}, {primaryChat, backupChat, primaryEmb},
	}
	for _, policy := range []config.Health{{}, {Policy: "open_fraction"}, {CriticalGroups: []string{"chat"}}} {
		for _, open := range sets {
			t.Run(fmt.Sprintf("%s/%v/%v", policy.Policy, policy.CriticalGroups, open), func(t *testing.T) {
				gw, _, c := setup(t, policy)
				for _, n := range open {
					br(t, gw, n).ForceOpen("")
				}
				want := map[health.Status]string{health.Healthy: "healthy", health.Degraded: "degraded", health.Unhealthy: "critical"}[c.Check(false).Status]
				if got := c.Breakers().OverallHealth; got != want {
					t.Fatalf("/health/circuit-breakers says %s, /health says %s", got, want)
				}
			})
		}
	}
}

// The cause of a breaker's last failure shows in /health/circuit-breakers
// and on the status page, beside why it opened and when it tries again.
func TestLastFailureCauseIsShown(t *testing.T) {
	gw, clk, c := setup(t, config.Health{})
	b := br(t, gw, primaryChat)
	for i := 0; i < 5; i++ {
		done, err := b.Allow()
		if err != nil {
			t.Fatal(err)
		}
		b.NoteFailure("http_401", "401 Unauthorized: Incorrect API key provided")
		done(breaker.Failure, 0)
	}
	lf, ok := c.Breakers().LastFailures[primaryChat]
	if !ok || lf.Cause != "401 Unauthorized: Incorrect API key provided" || !lf.At.Equal(t0) {
		t.Fatalf("last failure %+v (%v)", lf, ok)
	}
	if _, ok := c.Breakers().LastFailures[backupChat]; ok {
		t.Fatal("a breaker that never failed has a last failure")
	}
	clk.Advance(5 * time.Minute) // the window has moved on: 0% beside "open"
	var got health.StatusBreaker
	for _, g := range c.Status().Groups {
		for _, d := range g.Deployments {
			for _, sb := range d.Breakers {
				if sb.Name == primaryChat {
					got = sb
				}
			}
		}
	}
	if got.State != "open" || got.Reason != "5 consecutive failures; last: 401 Unauthorized: Incorrect API key provided" ||
		got.RetryAt == "" || got.LastFailureCause == "" || got.LastFailure == "" {
		t.Fatalf("status page breaker %+v", got)
	}
}

// An audio model's group is routable by its own breaker: it has no chat
// breaker, and its circuit opening makes it unroutable.
func TestAudioGroupIsJudgedByItsOwnBreaker(t *testing.T) {
	withAudio := strings.Replace(cfgText, "router_settings:", "  - model_name: whisper\n    litellm_params: {model: openai/whisper-1, api_base: http://stt.invalid/v1}\nrouter_settings:", 1)
	gw, _ := newGateway(t, withAudio)
	c := health.New(gw, config.Health{Policy: "routable"})
	routable := func() bool {
		for _, g := range c.Check(true).Groups {
			if g.Name == "whisper" {
				return g.Routable
			}
		}
		t.Fatal("no group whisper")
		return false
	}
	if !routable() {
		t.Fatal("whisper is unroutable with its circuit closed")
	}
	br(t, gw, "whisper/openai/whisper-1:transcriptions").ForceOpen("test")
	if routable() {
		t.Fatal("whisper is routable with its circuit open")
	}
}

// /health also carries LiteLLM's lists, for the tools that read them:
// each deployment once (not again as another group's fallback), healthy
// while its circuit takes calls, with its litellm_params.model and
// model_name; in the JSON under LiteLLM's names.
func TestLiteLLMsEndpointLists(t *testing.T) {
	gw, _, c := setup(t, config.Health{})
	br(t, gw, primaryChat).OpenUntil(t0.Add(time.Minute), "test")
	rec := httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
	var body struct {
		Healthy        []health.Endpoint `json:"healthy_endpoints"`
		Unhealthy      []health.Endpoint `json:"unhealthy_endpoints"`
		HealthyCount   int               `json:"healthy_count"`
		UnhealthyCount int               `json:"unhealthy_count"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	want := health.Endpoint{Model: "openai/my-model", ModelName: "chat", ModelID: "chat/openai/my-model", State: "open"}
	if body.UnhealthyCount != 1 || len(body.Unhealthy) != 1 || body.Unhealthy[0] != want {
		t.Fatalf("unhealthy %+v (%d), want %+v", body.Unhealthy, body.UnhealthyCount, want)
	}
	if body.HealthyCount != 1 || len(body.Healthy) != 1 || body.Healthy[0].ModelName != "backup" || body.Healthy[0].Model != "anthropic/claude-3-5-sonnet" {
		t.Fatalf("healthy %+v (%d)", body.Healthy, body.HealthyCount)
	}
}

// A pass-through endpoint's breaker is on the status page, as a route of
// its own, with its state and why.
func TestStatusShowsPassThroughEndpoints(t *testing.T) {
	gw, _ := newGateway(t, cfgText+"general_settings:\n  pass_through_endpoints: [{path: /cohere, target: \"https://api.cohere.com\"}]\n")
	br(t, gw, "passthrough:/cohere").OpenUntil(t0.Add(time.Minute), "the target is down")
	v := health.New(gw, config.Health{}).Status()
	last := v.Groups[len(v.Groups)-1]
	if last.Name != "pass-through /cohere" || len(last.Deployments) != 1 || last.Deployments[0].Provider != "api.cohere.com" ||
		len(last.Deployments[0].Breakers) != 1 || last.Deployments[0].Breakers[0].State != "open" ||
		!strings.Contains(last.Deployments[0].Breakers[0].Reason, "the target is down") {
		t.Fatalf("status groups' last: %+v", last)
	}
}

// The status page's overall report leaves the circuits out (its groups
// show each), instead of saying null; /health's lists them.
func TestStatusLeavesOverallCircuitsOut(t *testing.T) {
	gw, _ := newGateway(t, cfgText)
	c := health.New(gw, config.Health{})
	status, _ := json.Marshal(c.Status())
	report, _ := json.Marshal(c.Check(false))
	if strings.Contains(string(status), `"circuits"`) || !strings.Contains(string(report), `"circuits":{`) {
		t.Fatalf("status %s\nreport %s", status, report)
	}
}

// An embedding model (by model_info.mode or by its name) is judged by its
// embeddings circuit, its only one: open, its group cannot be served and
// its endpoint is unhealthy, not hidden behind a chat circuit no call
// reaches.
func TestAnEmbeddingModelIsJudgedByItsEmbeddings(t *testing.T) {
	for _, model := range []string{"openai/text-embedding-3-small", "openai/bge-m3\n    model_info: {mode: embedding}"} {
		t.Run(model, func(t *testing.T) {
			gw, _ := newGateway(t, "model_list:\n  - model_name: embed\n    litellm_params:\n      model: "+model+
				"\n  - model_name: chat\n    litellm_params: {model: openai/my-model, api_base: http://primary.invalid/v1}\n")
			d := gw.Route("embed")[0]
			if ops := d.Operations(); len(ops) != 1 || ops[0] != "embeddings" {
				t.Fatalf("the embedding model serves %v, want embeddings alone", ops)
			}
			d.MainBreaker().OpenUntil(t0.Add(time.Minute), "test")
			r := health.New(gw, config.Health{CriticalGroups: []string{"embed"}}).Check(true)
			if r.Status != health.Unhealthy || r.UnhealthyCount != 1 || r.UnhealthyEndpoints[0].ModelName != "embed" {
				t.Fatalf("with the embeddings circuit open: %s (%s), unhealthy endpoints %+v", r.Status, r.Reason, r.UnhealthyEndpoints)
			}
		})
	}
}

// A hosted chat model (gpt-*, claude, gemini-*) has a chat circuit alone,
// so the seed's rule weighs the seed's two providers: with OpenAI's
// circuit open, half the circuits are, and /health says unhealthy, as the
// seed's health check does.
func TestSeedRuleWeighsOneCircuitAProvider(t *testing.T) {
	gw, _ := newGateway(t, `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: http://openai.invalid/v1}
  - model_name: claude-3-5-sonnet
    litellm_params: {model: anthropic/claude-3-5-sonnet-20241022, api_base: http://anthropic.invalid}
`)
	if names := gw.Registry().Names(); len(names) != 2 {
		t.Fatalf("circuits %v, want one a provider", names)
	}
	br(t, gw, "gpt-4o-mini/openai/gpt-4o-mini:chat").OpenUntil(t0.Add(time.Minute), "test")
	if r := health.New(gw, config.Health{Policy: "open_fraction"}).Check(false); r.Status != health.Unhealthy {
		t.Fatalf("with OpenAI's circuit open: %s (%s), want unhealthy", r.Status, r.Reason)
	}
}

// status.json says, beside a deployment of a model its vendor retired,
// when and what the vendor names instead; of others, nothing.
func TestStatusSaysAModelIsRetired(t *testing.T) {
	gw, _ := newGateway(t, "model_list:\n  - model_name: claude\n    litellm_params: {model: anthropic/claude-3-5-sonnet-20241022, api_key: sk-ant-test-key}\n"+
		"  - model_name: gpt\n    litellm_params: {model: openai/gpt-4.1, api_key: sk-test-key-123}\n")
	v := health.New(gw, config.Health{}).Status()
	if len(v.Groups) != 2 || v.Groups[0].Deployments[0].Retired != "retired by Anthropic on 2025-10-22; Anthropic names claude-sonnet-4-6 instead" ||
		v.Groups[1].Deployments[0].Retired != "" {
		t.Fatalf("status groups %+v", v.Groups)
	}
}

// A group whose name a model_group_alias takes (the alias wins, as in
// LiteLLM) is judged by the route requests for that name take: its own
// deployments, which serve none, do not make breakerd unhealthy.
func TestAGroupAnAliasTakesIsJudgedByTheAliasRoute(t *testing.T) {
	gw, _ := newGateway(t, `
model_list:
  - model_name: gpt-4
    litellm_params: {model: openai/gpt-4, api_base: http://old.invalid/v1}
  - model_name: gpt-4.1
    litellm_params: {model: openai/gpt-4.1, api_base: http://new.invalid/v1}
router_settings:
  model_group_alias: {gpt-4: gpt-4.1}
`)
	br(t, gw, "gpt-4/openai/gpt-4:chat").OpenUntil(t0.Add(time.Minute), "retired")
	r := health.New(gw, config.Health{}).Check(true)
	if r.Status == health.Unhealthy || strings.Contains(r.Reason, "1 cannot be served") {
		t.Fatalf("status %s (%s): the retired group's deployment serves no request", r.Status, r.Reason)
	}
	for _, g := range r.Groups {
		if g.Name == "gpt-4" && (!g.Routable || g.ServedBy != "gpt-4.1/openai/gpt-4.1") {
			t.Fatalf("group gpt-4 %+v, want it served by the alias's group", g)
		}
	}
	v := health.New(gw, config.Health{}).Status()
	if d := v.Groups[0].Deployments; v.Groups[0].Name != "gpt-4" || len(d) != 1 || d[0].Name != "gpt-4.1/openai/gpt-4.1" {
		t.Fatalf("the status page's gpt-4 route %+v, want the alias's", d)
	}
}
