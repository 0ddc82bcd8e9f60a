package dashboards_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/daemon"
	"github.com/breakerd/breakerd/dashboards"
	"github.com/breakerd/breakerd/gateway"
	"github.com/breakerd/breakerd/internal/external"
	"github.com/breakerd/breakerd/provider"
)

const regenerate = "go run ./cmd/breakerd dashboards --out deploy/grafana/dashboards && go run ./cmd/breakerd rules --out deploy/prometheus/alerts.yml --k8s-out deploy/kubernetes/prometheusrule.yaml"

var root = filepath.Join("..")

func TestGeneratedFilesAreFresh(t *testing.T) {
	all, err := dashboards.All()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for name, d := range all {
		b, err := dashboards.JSON(d)
		if err != nil {
			t.Fatal(err)
		}
		want[filepath.Join("deploy", "grafana", "dashboards", name)] = b
	}
	if want["deploy/prometheus/alerts.yml"], err = dashboards.RulesYAML(); err != nil {
		t.Fatal(err)
	}
	if want["deploy/kubernetes/prometheusrule.yaml"], err = dashboards.PrometheusRuleYAML(); err != nil {
		t.Fatal(err)
	}
	for path, b := range want {
		got, err := os.ReadFile(filepath.Join(root, path))
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("%s is stale or missing; regenerate with:\n  %s", path, regenerate)
		}
	}
}

func TestDashboardsRoundTripThroughTheSDK(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	all, err := dashboards.All()
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range all {
		b, err := dashboards.JSON(d)
		if err != nil {
			t.Fatal(err)
		}
		var back dashboard.Dashboard
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: the SDK cannot read it back: %v", name, err)
		}
		again, err := dashboards.JSON(back)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, again) {
			t.Fatalf("%s does not round-trip through dashboard.Dashboard", name)
		}
	}
	d, _ := dashboards.Overview()
	var types []string
	for _, p := range d.Panels {
		if p.Panel != nil {
			types = append(types, p.Panel.Type)
		}
	}
	for _, want := range []string{"state-timeline", "timeseries", "heatmap", "stat"} {
		if !slices.Contains(types, want) {
			t.Errorf("no %s panel in %v", want, types)
		}
	}
	if len(d.Annotations.List) == 0 || d.Templating.List == nil || len(d.Templating.List) != 3 {
		t.Fatalf("annotations %d, variables %d", len(d.Annotations.List), len(d.Templating.List))
	}
}

// exported gathers every metric name and its label names from a daemon
// with breakers and a notifier, as Prometheus would scrape it.
func exported(t *testing.T) map[string]map[string]bool {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte(`
model_list:
  - model_name: g
    litellm_params: {model: openai/m, api_base: http://upstream.invalid/v1, rpm: 60, tpm: 1000}
  - model_name: h
    litellm_params: {model: anthropic/c, api_base: http://upstream.invalid}
router_settings:
  fallbacks: [h]
  enable_pre_call_checks: true
  provider_budget_config: {openai: {budget_limit: 10, time_period: 1d}}
  alerting:
    webhook_url: http://alerts.invalid/hook
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.New(daemon.Options{Config: cfg, AlertTick: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// A counted failure, so that the series that exist only after one
	// (circuit_breaker_last_failure_info) are there.
	b := d.Gateway().Registry().Get("g/openai/m:chat")
	if done, err := b.Allow(); err == nil {
		b.NoteFailure("http_503", "503 Service Unavailable")
		done(breaker.Failure, 0)
	}
	// An answer that says what is left of the provider's rate limits, for
	// the series made only once a provider says.
	// And a health check and an answer from the response cache, whose
	// series are made by the first.
	for _, g := range d.Gateway().Groups() {
		for _, dep := range g.Deployments {
			d.Metrics().Observer().AttemptDone(gateway.AttemptInfo{Deployment: dep, Op: provider.Chat, Status: 200,
				Remaining: provider.Remaining{Requests: provider.RateLeft{Said: true, Left: 5}, Tokens: provider.RateLeft{Said: true, Left: 100}}})
			d.Metrics().Observer().Probed(gateway.ProbeInfo{Deployment: dep, Op: provider.Chat, Result: "success", Status: 200})
		}
		d.Metrics().Observer().RequestDone(gateway.RequestInfo{Group: g.Name, Op: provider.Chat, API: provider.APIChat, Status: 200, Cached: true})
	}
	mfs, err := d.Metrics().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]bool{}
	add := func(name string, labels map[string]bool) {
		if out[name] == nil {
			out[name] = map[string]bool{}
		}
		for l := range labels {
			out[name][l] = true
		}
	}
	for _, mf := range mfs {
		labels := map[string]bool{}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = true
			}
		}
		name := mf.GetName()
		if mf.GetType().String() == "HISTOGRAM" {
			add(name+"_sum", labels)
			add(name+"_count", labels)
			labels["le"] = true
			add(name+"_bucket", labels)
			continue
		}
		add(name, labels)
	}
	// Series Prometheus itself adds to every target.
	out["up"] = map[string]bool{}
	for name := range out {
		out[name]["job"], out[name]["instance"] = true, true
	}
	return out
}

var grafanaVars = regexp.MustCompile(`\$(__rate_interval|__range|__interval|provider|model_group|datasource)`)

// queries lists every PromQL expression breakerd generates, by where it is.
func queries(t *testing.T) map[string]string {
	t.Helper()
	q := map[string]string{}
	all, err := dashboards.All()
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range all {
		b, _ := json.Marshal(d)
		var raw any
		_ = json.Unmarshal(b, &raw)
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					if s, ok := e.(string); ok && k == "expr" {
						q[name+path+"."+k] = s
					}
					if s, ok := e.(string); ok && k == "query" && strings.HasPrefix(s, "label_values(") {
						q[name+path+".query"] = s
					}
					walk(path+"."+k, e)
				}
			case []any:
				for i, e := range x {
					walk(path+"["+strconv.Itoa(i)+"]", e)
				}
			}
		}
		walk("", raw)
	}
	for _, g := range dashboards.Rules().Groups {
		for _, r := range g.Rules {
			q["alerts.yml "+r.Alert] = r.Expr
		}
	}
	return q
}

var labelValues = regexp.MustCompile(`^label_values\((.*),\s*(\w+)\)$`)

// Every metric and label a dashboard or rule names is one the daemon
// actually exports.
func TestEveryQueryNamesARealMetric(t *testing.T) {
	have := exported(t)
	p := parser.NewParser(parser.Options{})
	qs := queries(t)
	if len(qs) < 25 {
		t.Fatalf("only %d queries found", len(qs))
	}
	for where, q := range qs {
		expr := grafanaVars.ReplaceAllStringFunc(q, func(v string) string {
			switch v {
			case "$__rate_interval", "$__range", "$__interval":
				return "5m"
			}
			return "x"
		})
		var extraLabel string
		if m := labelValues.FindStringSubmatch(expr); m != nil {
			expr, extraLabel = m[1], m[2]
		}
		node, err := p.ParseExpr(expr)
		if err != nil {
			t.Errorf("%s: %q does not parse: %v", where, q, err)
			continue
		}
		parser.Inspect(node, func(n parser.Node, path []parser.Node) error {
			switch n := n.(type) {
			case *parser.VectorSelector:
				labels, ok := have[n.Name]
				if !ok {
					t.Errorf("%s: metric %s is not exported", where, n.Name)
					return nil
				}
				for _, m := range n.LabelMatchers {
					if m.Name != "__name__" && !labels[m.Name] {
						t.Errorf("%s: %s has no label %q", where, n.Name, m.Name)
					}
				}
				if extraLabel != "" && !labels[extraLabel] {
					t.Errorf("%s: %s has no label %q", where, n.Name, extraLabel)
				}
			case *parser.AggregateExpr:
				for _, g := range n.Grouping {
					found := false
					parser.Inspect(n.Expr, func(c parser.Node, _ []parser.Node) error {
						if vs, ok := c.(*parser.VectorSelector); ok && have[vs.Name][g] {
							found = true
						}
						return nil
					})
					if !found {
						t.Errorf("%s: groups by %q, which its metrics lack", where, g)
					}
				}
			}
			return nil
		})
	}
}

func TestPromtoolChecksRulesAndConfig(t *testing.T) {
	promtool := external.Program(t, "promtool")
	for _, args := range [][]string{
		{"check", "rules", "deploy/prometheus/alerts.yml"},
		{"test", "rules", "deploy/prometheus/alerts_test.yml"},
		{"check", "config", "deploy/prometheus/prometheus.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func TestEveryDeployFileIsValid(t *testing.T) {
	var files []string
	_ = filepath.WalkDir(filepath.Join(root, "deploy"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(f) {
		case ".yml", ".yaml":
			// A file may hold several documents.
			for i, doc := range strings.Split(string(data), "\n---\n") {
				var v any
				if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
					t.Errorf("%s (document %d): %v", f, i, err)
				}
			}
		case ".json":
			if !json.Valid(data) {
				t.Errorf("%s is not valid JSON", f)
			}
		}
	}
	// The Kubernetes ConfigMap and the compose config are real breakerd
	// configs.
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	data, _ := os.ReadFile(filepath.Join(root, "deploy/kubernetes/configmap.yaml"))
	if err := yaml.Unmarshal(data, &cm); err != nil {
		t.Fatal(err)
	}
	// The deployment's keys are set, as in the Secret; nothing else is.
	env := func(k string) (string, bool) { return "set-" + k, strings.HasSuffix(k, "_API_KEY") }
	if _, err := config.Parse("configmap config.yaml", []byte(cm.Data["config.yaml"]), env); err != nil {
		t.Error(err)
	}
	data, _ = os.ReadFile(filepath.Join(root, "deploy/compose/config.yaml"))
	if _, err := config.Parse("deploy/compose/config.yaml", data, env); err != nil {
		t.Error(err)
	}
	// Probes: readiness on /readyz, liveness on /livez.
	dep, _ := os.ReadFile(filepath.Join(root, "deploy/kubernetes/deployment.yaml"))
	for _, want := range []string{"path: /livez", "path: /readyz", "requests:"} {
		if !strings.Contains(string(dep), want) {
			t.Errorf("deployment.yaml lacks %q", want)
		}
	}
}

func TestComposeReferencesExist(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "deploy/docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Build *struct {
				Context    string `yaml:"context"`
				Dockerfile string `yaml:"dockerfile"`
			} `yaml:"build"`
			Volumes []string `yaml:"volumes"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(root, "deploy")
	for name, s := range c.Services {
		if s.Build != nil {
			ctx := filepath.Join(base, s.Build.Context)
			if _, err := os.Stat(filepath.Join(ctx, s.Build.Dockerfile)); err != nil {
				t.Errorf("%s: build file: %v", name, err)
			}
		}
		for _, v := range s.Volumes {
			src := strings.SplitN(v, ":", 2)[0]
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(filepath.Join(base, src)); err != nil {
					t.Errorf("%s: volume %s: %v", name, v, err)
				}
			}
		}
	}
	for _, want := range []string{"breakerd", "mock-openai", "mock-anthropic", "prometheus", "alertmanager", "grafana", "traffic"} {
		if _, ok := c.Services[want]; !ok {
			t.Errorf("compose has no %s service", want)
		}
	}
}

func TestPushUsesGrafanaAPI(t *testing.T) {
	var got []map[string]any
	var auth string
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/dashboards/db" {
			w.WriteHeader(404)
			return
		}
		auth = r.Header.Get("Authorization")
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &body)
		got = append(got, body)
		_, _ = w.Write([]byte(`{"status":"success","uid":"x","version":1}`))
	}))
	defer fake.Close()
	d, _ := dashboards.Overview()
	if err := dashboards.Push(context.Background(), fake.Client(), fake.URL+"/", "glsa_token", d); err != nil {
		t.Fatal(err)
	}
	if auth != "Bearer glsa_token" || len(got) != 1 || got[0]["overwrite"] != true ||
		got[0]["dashboard"].(map[string]any)["uid"] != dashboards.OverviewUID {
		t.Fatalf("auth %q body %v", auth, got)
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(412)
		_, _ = w.Write([]byte(`{"message":"version-mismatch"}`))
	}))
	defer bad.Close()
	if err := dashboards.Push(context.Background(), bad.Client(), bad.URL, "t", d); err == nil || !strings.Contains(err.Error(), "version-mismatch") {
		t.Fatalf("error %v", err)
	}
}

// What Grafana accepts, from its published dashboard schema
// (@grafana/schema 13.2.3: the panel plugins of raw/composable, plus the
// built-in row, and the VariableType union of raw/dashboard/x). There is
// no Grafana server here to import into, so the dashboards are checked
// against these instead.
var (
	grafanaPanelTypes = []string{"row", "annolist", "barchart", "bargauge", "candlestick", "canvas", "dashlist", "gauge",
		"geomap", "heatmap", "histogram", "logs", "news", "nodeGraph", "piechart", "stat", "state-timeline",
		"status-history", "table", "text", "timeseries", "trend", "xychart"}
	grafanaVariableTypes = []string{"query", "adhoc", "groupby", "constant", "datasource", "interval", "textbox", "custom",
		"system", "snapshot", "switch"}
)

// Each generated dashboard is one Grafana imports: a schema version, known
// panel types, every panel's data source a Prometheus reference through
// the datasource variable, panels inside the 24-column grid, and template
// variables of known types with what each type needs.
func TestDashboardsAreWhatGrafanaImports(t *testing.T) {
	all, err := dashboards.All()
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range all {
		b, _ := json.Marshal(d)
		var dash struct {
			UID           string `json:"uid"`
			Title         string `json:"title"`
			SchemaVersion int    `json:"schemaVersion"`
			Panels        []struct {
				Type       string `json:"type"`
				Title      string `json:"title"`
				Datasource *struct {
					Type string `json:"type"`
					UID  string `json:"uid"`
				} `json:"datasource"`
				GridPos struct{ H, W, X, Y int } `json:"gridPos"`
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
			Templating struct {
				List []struct {
					Type       string          `json:"type"`
					Name       string          `json:"name"`
					Query      json.RawMessage `json:"query"`
					Datasource *struct {
						Type string `json:"type"`
						UID  string `json:"uid"`
					} `json:"datasource"`
				} `json:"list"`
			} `json:"templating"`
		}
		if err := json.Unmarshal(b, &dash); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if dash.UID == "" || dash.Title == "" || dash.SchemaVersion < 36 || len(dash.Panels) == 0 {
			t.Errorf("%s: uid %q title %q schemaVersion %d", name, dash.UID, dash.Title, dash.SchemaVersion)
		}
		vars := map[string]string{}
		for _, v := range dash.Templating.List {
			vars[v.Name] = v.Type
			if !slices.Contains(grafanaVariableTypes, v.Type) {
				t.Errorf("%s: variable %s has type %q", name, v.Name, v.Type)
			}
			switch v.Type {
			case "datasource":
				if string(v.Query) != `"prometheus"` {
					t.Errorf("%s: data source variable %s picks %s, not prometheus", name, v.Name, v.Query)
				}
			case "query":
				if v.Datasource == nil || v.Datasource.UID != "${datasource}" || len(v.Query) == 0 {
					t.Errorf("%s: query variable %s lacks its data source or query", name, v.Name)
				}
			}
		}
		if vars["datasource"] != "datasource" {
			t.Errorf("%s: no datasource variable for imports into any Grafana", name)
		}
		for _, p := range dash.Panels {
			if !slices.Contains(grafanaPanelTypes, p.Type) {
				t.Errorf("%s: panel %q has type %q", name, p.Title, p.Type)
			}
			if p.GridPos.W <= 0 || p.GridPos.X < 0 || p.GridPos.X+p.GridPos.W > 24 || (p.Type != "row" && p.GridPos.H <= 0) {
				t.Errorf("%s: panel %q at %+v is outside Grafana's 24-column grid", name, p.Title, p.GridPos)
			}
			if p.Type == "row" {
				continue
			}
			if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
				t.Errorf("%s: panel %q data source %+v, %d targets", name, p.Title, p.Datasource, len(p.Targets))
			}
		}
	}
}
