package main

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// LiteLLM's proxy command line runs serve: the flags breakerd has an
// equivalent for map onto serve's, the others are ignored with a note,
// and an unknown one is an error.
func TestLiteLLMCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args, serve, notes []string
		err                string
	}{
		{args: []string{"--config", "/app/config.yaml"}, serve: []string{"--config", "/app/config.yaml"}},
		{args: []string{"-c", "c.yaml", "--port", "8000"}, serve: []string{"--config", "c.yaml", "--port", "8000"}},
		{args: []string{"--config=c.yaml", "--host", "127.0.0.1", "--port=4001"}, serve: []string{"--config", "c.yaml", "--host", "127.0.0.1", "--port", "4001"}},
		{args: []string{"--config", "c.yaml", "--detailed_debug", "--num_workers", "8"}, serve: []string{"--config", "c.yaml"},
			notes: []string{"LiteLLM's --detailed_debug is ignored: set logging.level: debug in the config",
				"LiteLLM's --num_workers is ignored: breakerd serves on every CPU from one process"}},
		{args: []string{"--config"}, err: "LiteLLM flag --config needs a value"},
		{args: []string{"--confg", "c.yaml"}, err: `unknown command or LiteLLM flag "--confg"`},
	} {
		serve, notes, err := liteLLMServeArgs(tc.args)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(serve, tc.serve) || !slices.Equal(notes, tc.notes) {
			t.Errorf("%q: serve %q, notes %q, error %v; want %q, %q", tc.args, serve, notes, err, tc.serve, tc.notes)
		}
	}
	// It runs serve: a missing config is serve's error, naming the file.
	var out, errOut bytes.Buffer
	missing := filepath.Join(t.TempDir(), "config.yaml")
	if code := run(context.Background(), []string{"--config", missing, "--port", "0"}, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), missing) {
		t.Fatalf("exit %d, stderr %s: want serve's error naming %s", code, errOut.String(), missing)
	}
}
