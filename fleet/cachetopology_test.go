package fleet_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/daemon"
	"github.com/breakerd/breakerd/internal/external"
	"github.com/breakerd/breakerd/mockllm"
)

// freePort is a loopback port no one listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// runUntil starts bin with args and waits for a line of its output that
// holds ready; the process is killed when the test ends.
func runUntil(t *testing.T, ready, bin string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.Contains(sc.Text(), ready) {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return
		}
	}
	t.Fatalf("%s %v ended before %q", bin, args, ready)
}

// startSentinel runs a Redis master and a Redis Sentinel that watches it
// as mymaster; it returns the sentinel's port.
func startSentinel(t *testing.T) int {
	t.Helper()
	server := external.Program(t, "redis-server")
	master := freePort(t)
	runUntil(t, "Ready to accept connections", server, "--port", fmt.Sprint(master), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	sentinel := freePort(t)
	conf := filepath.Join(t.TempDir(), "sentinel.conf") // the sentinel writes its state there
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("port %d\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 %d 1\n", sentinel, master)), 0o600); err != nil {
		t.Fatal(err)
	}
	runUntil(t, "+monitor master mymaster", server, conf, "--sentinel")
	return sentinel
}

// startCluster runs a Redis Cluster of three masters and returns their
// addresses once every node says the cluster is up.
func startCluster(t *testing.T) []string {
	t.Helper()
	server := external.Program(t, "redis-server")
	cli := external.Program(t, "redis-cli")
	dir := t.TempDir()
	var nodes []string
	for i := range 3 {
		p := freePort(t)
		runUntil(t, "Ready to accept connections", server, "--port", fmt.Sprint(p), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", i)))
		nodes = append(nodes, fmt.Sprintf("127.0.0.1:%d", p))
	}
	if out, err := exec.Command(cli, append(append([]string{"--cluster", "create"}, nodes...), "--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	// Every slot is assigned by then, but each node says the cluster is
	// up only once the others' news has reached it: wait for that (a
	// round trip a try), or a first write may meet CLUSTERDOWN.
	for _, n := range nodes {
		rdb := redis.NewClient(&redis.Options{Addr: n})
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(rdb.ClusterInfo(context.Background()).Val(), "cluster_state:ok") {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the cluster is not up after 30s", n)
			}
		}
		rdb.Close()
	}
	return nodes
}

// redisTopologies runs check against a real Redis Sentinel and a real
// Redis Cluster, with each one's keys in LiteLLM's form: service_name and
// sentinel_nodes, or the cluster's nodes under startupKey (cache_params
// and cache_kwargs name it differently).
func redisTopologies(t *testing.T, startupKey string, check func(t *testing.T, keys string)) {
	t.Run("sentinel", func(t *testing.T) {
		check(t, fmt.Sprintf("service_name: mymaster, sentinel_nodes: [[127.0.0.1, %d]]", startSentinel(t)))
	})
	t.Run("cluster", func(t *testing.T) {
		nodes := startCluster(t)
		check(t, fmt.Sprintf("%s: [%q, %q, %q]", startupKey, nodes[0], nodes[1], nodes[2]))
	})
}

// LiteLLM's cache_params for Redis Sentinel (service_name,
// sentinel_nodes) and Redis Cluster (redis_startup_nodes), against real
// ones: replicas share their answers there.
func TestResponseCacheInSentinelsAndClustersRedis(t *testing.T) {
	redisTopologies(t, "redis_startup_nodes", func(t *testing.T, keys string) { sharesAnswers(t, "{type: redis, "+keys+"}") })
}

// Shared breaker state in a Redis Sentinel's master and in a Redis
// Cluster (router_settings.cache_kwargs, as LiteLLM's Router takes them),
// against real ones: a trip at one replica reaches the other.
func TestSharedStateInSentinelsAndClustersRedis(t *testing.T) {
	redisTopologies(t, "startup_nodes", func(t *testing.T, keys string) { tripsAcrossReplicas(t, "cache_kwargs: {"+keys+"}") })
}

// tripsAcrossReplicas runs two replicas whose shared state's Redis is
// redis (router_settings' keys) and checks that a trip at the first
// reaches the second, which then sends the dead provider nothing.
func tripsAcrossReplicas(t *testing.T, redis string) {
	t.Helper()
	text := strings.NewReplacer("  redis_host: 127.0.0.1\n  redis_port: ${REDIS_PORT}\n", "  "+redis+"\n",
		"${THRESHOLD}", "5", "${MIN_CALLS}", "1000").Replace(fleetConfig)
	s := &stack{t: t, primary: mockllm.New(mockllm.Options{Name: "primary"}), backup: mockllm.New(mockllm.Options{Name: "backup"}),
		slow: mockllm.New(mockllm.Options{Name: "slow"})}
	vars := map[string]string{"NS": "topology"}
	for name, m := range map[string]*mockllm.Server{"PRIMARY": s.primary, "BACKUP": s.backup, "SLOW": s.slow} {
		srv := httptest.NewServer(m.Handler())
		t.Cleanup(srv.Close)
		vars[name] = srv.URL
	}
	cfg, err := config.Parse("fleet.yaml", []byte(text), func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	s.cfg = cfg
	a, b := s.add(), s.add()
	a.waitBackend(t, 30*time.Second, true)
	b.waitBackend(t, 30*time.Second, true)
	s.primary.SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	for range 5 {
		if code, _ := a.chat(t, "gpt-4o-mini"); code != 200 {
			t.Fatalf("status %d: the fallback should serve it", code)
		}
	}
	<-a.opened
	b.waitState(t, 10*time.Second, breaker.Open)
	calls := s.primary.Stats().Chat
	if code, h := b.chat(t, "gpt-4o-mini"); code != 200 || h.Get("X-Breakerd-Fallback") != "true" || s.primary.Stats().Chat != calls {
		t.Fatalf("status %d, fallback %q, %d calls to the dead provider: the other replica did not take the trip", code, h.Get("X-Breakerd-Fallback"), s.primary.Stats().Chat-calls)
	}
}

// cacheReplicas runs two replicas, with no shared breaker state, whose
// response cache has params (cache_params), in front of one upstream; it
// returns their URLs and the upstream.
func cacheReplicas(t *testing.T, params string) ([]string, *mockllm.Server) {
	t.Helper()
	up := mockllm.New(mockllm.Options{Name: "up"})
	srv := httptest.NewServer(up.Handler())
	t.Cleanup(srv.Close)
	cfg, err := config.Parse("cache.yaml", []byte(`
model_list:
  - model_name: chat
    litellm_params: {model: openai/m, api_base: "`+srv.URL+`/v1", api_key: sk-up-key}
litellm_settings:
  cache: true
  cache_params: `+params+`
server:
  shutdown_drain: 0s
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for range 2 {
		d, err := daemon.New(daemon.Options{Config: cfg, Clock: breaker.NewManualClock(t0), AlertTick: -1})
		if err != nil {
			t.Fatal(err)
		}
		if d.Fleet() != nil {
			t.Fatal("a fleet without router_settings' Redis")
		}
		s := httptest.NewServer(d.Handler())
		t.Cleanup(func() { s.Close(); d.Close() })
		urls = append(urls, s.URL)
	}
	return urls, up
}

// sharesAnswers checks that two replicas whose response cache has params
// share their answers: one kept is the other's hit, with one upstream
// call between them.
func sharesAnswers(t *testing.T, params string) {
	t.Helper()
	urls, up := cacheReplicas(t, params)
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	var got []string
	for _, url := range urls {
		resp, err := hc.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"chat","messages":[{"role":"user","content":"hi"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body) // to its end: the answer is kept by then
		resp.Body.Close()
		got = append(got, resp.Header.Get("X-Breakerd-Cache"))
	}
	if got[0] != "" || got[1] != "hit" || up.Stats().Chat != 1 {
		t.Fatalf("cache %q, %d upstream calls; want a miss, then the other replica's hit, and one call", got, up.Stats().Chat)
	}
}

// LiteLLM's redis_db: the fleet's state lives in that database of the
// Redis, none of it in database 0.
func TestSharedStateInItsRedisDatabase(t *testing.T) {
	s := newFleet(t, 0)
	s.cfg.Router.Redis.DB = 3
	a, b := s.add(), s.add()
	a.breaker(t).ForceOpen("manual: open")
	b.waitState(t, 10*time.Second, breaker.ForcedOpen)
	ctx := context.Background()
	for db, want := range map[int]bool{3: true, 0: false} {
		rdb := redis.NewClient(&redis.Options{Addr: s.redis.addr(), DB: db})
		keys, err := rdb.Keys(ctx, s.cfg.Router.Redis.Namespace+"*").Result()
		rdb.Close()
		if err != nil || (len(keys) > 0) != want {
			t.Fatalf("database %d holds %q (%v); want keys %v", db, keys, err, want)
		}
	}
}
