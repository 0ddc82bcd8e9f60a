package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/daemon"
)

func TestStatusAndBreakerCommands(t *testing.T) {
	const token = "cli-admin-token-0123456789"
	cfg, err := config.Parse("t.yaml", []byte(`
model_list:
  - model_name: g
    litellm_params: {model: openai/m, api_base: http://upstream.invalid/v1}
admin:
  token: `+token+`
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.New(daemon.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	srv := httptest.NewServer(d.Handler())
	defer srv.Close()
	defer http.DefaultClient.CloseIdleConnections()

	cli := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	t.Setenv(adminEnv, "")
	if code, _, e := cli("status", "--addr", srv.URL); code != 1 || !strings.Contains(e, adminEnv) {
		t.Fatalf("without a token: %d %s", code, e)
	}
	t.Setenv(adminEnv, "wrong-token-0123456789")
	if code, _, e := cli("status", "--addr", srv.URL); code != 1 || !strings.Contains(e, "401") {
		t.Fatalf("wrong token: %d %s", code, e)
	}
	t.Setenv(adminEnv, token)
	code, out, e := cli("breaker", "--addr", srv.URL, "open", "g/openai/m:chat")
	if code != 0 || out != "g/openai/m:chat is now forced_open\n" {
		t.Fatalf("breaker open: %d %q %s", code, out, e)
	}
	if code, out, _ := cli("breaker", "--addr", srv.URL, "open", "g/openai/m:chat"); code != 0 || !strings.Contains(out, "was already forced_open") {
		t.Fatalf("again: %d %q", code, out)
	}
	emb := d.Gateway().Registry().Get("g/openai/m:embeddings")
	done, err := emb.Allow()
	if err != nil {
		t.Fatal(err)
	}
	emb.NoteFailure("http_401", "401 Unauthorized: Incorrect API key provided")
	done(breaker.Failure, 0)
	code, out, e = cli("status", "--addr", srv.URL)
	if code != 0 || !strings.Contains(out, "g/openai/m:chat") || !strings.Contains(out, "forced_open") || !strings.Contains(out, "manual: open") {
		t.Fatalf("status: %d %s %s", code, out, e)
	}
	if !strings.Contains(out, "LAST FAILURE") || !strings.Contains(out, "401 Unauthorized: Incorrect API key provided") {
		t.Fatalf("status does not show the last failure's cause:\n%s", out)
	}
	code, _, e = cli("breaker", "--addr", srv.URL, "close", "nope")
	if code != 1 || !strings.Contains(e, "g/openai/m:embeddings") {
		t.Fatalf("unknown breaker: %d %s", code, e)
	}
	if code, _, e := cli("breaker", "--addr", srv.URL, "open"); code != 1 || !strings.Contains(e, "usage") {
		t.Fatalf("missing name: %d %s", code, e)
	}
}
