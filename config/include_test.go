package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeFiles writes name -> content into a new directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// LiteLLM's include merges other files into the config, as LiteLLM's docs
// show it: lists (model_list) are appended to the config's own, other
// keys replace the config's, and paths are relative to the config.
func TestIncludeMergesFiles(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"config.yaml": `include:
  - models.yaml
  - settings.yaml
model_list:
  - model_name: main
    litellm_params: {model: openai/gpt-4o-mini}
router_settings:
  routing_strategy: least-busy
`,
		"models.yaml": `model_list:
  - model_name: backup
    litellm_params: {model: anthropic/claude-haiku-4-5}
    model_info: {access_groups: [beta]}
`,
		"settings.yaml": `router_settings:
  routing_strategy: ordered
  fallbacks: [{main: [backup]}]
`,
	})
	cfg, err := Load(filepath.Join(dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, d := range cfg.Deployments {
		groups = append(groups, d.Group)
	}
	if !slices.Equal(groups, []string{"main", "backup"}) {
		t.Errorf("deployments of groups %q, want main's then the included backup", groups)
	}
	if cfg.Router.Strategy != "ordered" || !slices.Equal(cfg.Router.Fallbacks["main"], []string{"backup"}) {
		t.Errorf("strategy %q, fallbacks %v: want the included router_settings", cfg.Router.Strategy, cfg.Router.Fallbacks)
	}
	if want := []string{filepath.Join(dir, "models.yaml"), filepath.Join(dir, "settings.yaml")}; !slices.Equal(cfg.Included, want) {
		t.Errorf("included %q, want %q", cfg.Included, want)
	}
	// A warning about a key in an included file names that file and line.
	want := filepath.Join(dir, "models.yaml") + ":4:18: model_list[1].model_info.access_groups: a LiteLLM setting that breakerd does not use"
	if len(cfg.Warnings) != 1 || !strings.HasPrefix(cfg.Warnings[0], want) {
		t.Errorf("warnings %q, want one starting %q", cfg.Warnings, want)
	}
}

// A mistake in an included file, or in the include itself, is an error
// that names the file, line and key.
func TestIncludeErrorsNameTheirFile(t *testing.T) {
	const main = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string // with DIR for the directory
	}{
		{name: "a bad key in an included file",
			files: map[string]string{"config.yaml": "include: [more.yaml]\n" + main,
				"more.yaml": "model_list:\n  - model_name: b\n    litellm_params: {model: opnai/x}\n"},
			want: `DIR/more.yaml:3:22: model_list[1].litellm_params.model: unknown provider "opnai"`},
		{name: "a value of the wrong type in an included file",
			files: map[string]string{"config.yaml": "include: [more.yaml]\n" + main,
				"more.yaml": "router_settings:\n  num_retries: [3]\n"},
			want: `DIR/more.yaml:2:16: router_settings.num_retries: expected a whole number`},
		{name: "a missing file",
			files: map[string]string{"config.yaml": "include:\n  - gone.yaml\n" + main},
			want:  `DIR/config.yaml:2:5: include[0]: cannot read the included file: open DIR/gone.yaml: no such file or directory`},
		{name: "an include that is not a file name",
			files: map[string]string{"config.yaml": "include: {a: b}\n" + main},
			want:  `DIR/config.yaml:1:1: include: must be a file name or a list of file names`},
		{name: "an included file that is not YAML",
			files: map[string]string{"config.yaml": "include: [more.yaml]\n" + main, "more.yaml": "model_list: [\n"},
			want:  `DIR/more.yaml:`},
		{name: "an include in an included file",
			files: map[string]string{"config.yaml": "include: [more.yaml]\n" + main, "more.yaml": "include: [other.yaml]\n"},
			want:  `DIR/more.yaml:1:1: include: an included file's include is not read`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			_, err := Load(filepath.Join(dir, "config.yaml"))
			want := strings.ReplaceAll(tc.want, "DIR", dir)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("error %v, want one starting %q", err, want)
			}
		})
	}
}

// A single file name works as well as a list, as in LiteLLM's docs.
func TestIncludeOneFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"config.yaml": "include: models.yaml\n",
		"models.yaml": "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\n",
	})
	cfg, err := Load(filepath.Join(dir, "config.yaml"))
	if err != nil || len(cfg.Deployments) != 1 {
		t.Fatalf("config %+v, error %v: want the included deployment", cfg, err)
	}
}

// YAML anchors, aliases and merge keys work as PyYAML (LiteLLM's parser)
// reads them, and what they bring in is checked where it is used.
func TestYAMLAnchorsAndMergeKeys(t *testing.T) {
	const defs = `x-azure: &azure
  api_key: sk-azure-0123456789
  api_version: "2024-08-01-preview"
  timeout: os.environ/AZURE_TIMEOUT
`
	t.Run("merge keys bring an anchor's keys, and the mapping's own win", func(t *testing.T) {
		cfg, err := Parse("t.yaml", []byte(defs+`model_list:
  - model_name: gpt-4o
    litellm_params:
      <<: *azure
      model: azure/gpt-4o-eu
      api_base: https://eu.openai.azure.com
  - model_name: gpt-4o
    litellm_params: &us
      <<: [*azure]
      model: azure/gpt-4o-us
      api_base: https://us.openai.azure.com
      api_version: "2025-01-01-preview"
  - model_name: gpt-4o-us
    litellm_params: *us
`), env(map[string]string{"AZURE_TIMEOUT": "30"}))
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Warnings) != 0 {
			t.Errorf("warnings %q, want none", cfg.Warnings)
		}
		want := []struct{ base, version string }{
			{"https://eu.openai.azure.com", "2024-08-01-preview"},
			{"https://us.openai.azure.com", "2025-01-01-preview"},
			{"https://us.openai.azure.com", "2025-01-01-preview"},
		}
		if len(cfg.Deployments) != len(want) {
			t.Fatalf("%d deployments, want %d", len(cfg.Deployments), len(want))
		}
		for i, d := range cfg.Deployments {
			if d.APIBase != want[i].base || d.APIVersion != want[i].version || d.APIKey.Value() != "sk-azure-0123456789" || d.Timeout != 30*time.Second {
				t.Errorf("deployment %d: base %s, version %s, timeout %s; want %+v, the anchor's key and 30s", i, d.APIBase, d.APIVersion, d.Timeout, want[i])
			}
		}
	})
	t.Run("an anchor that merges itself, or one merging it, is an error, not a crash", func(t *testing.T) {
		// The fuzzer found these overflowing the stack: the merge was
		// flattened into a cycle.
		for _, yaml := range []string{"d: &d {<<: [*d, *d]}\n", "a: &a {<<: [*b]}\nb: &b {<<: [*a]}\n"} {
			_, err := Parse("t.yaml", []byte(yaml+"model_list: [{model_name: a, litellm_params: {model: openai/x}}]\n"), env(nil))
			if err == nil || !strings.Contains(err.Error(), "cannot find anchor by alias name") {
				t.Errorf("%q: error %v, want one saying the alias has no anchor yet", yaml, err)
			}
		}
	})
	t.Run("a typo in an anchor is an error where it is merged", func(t *testing.T) {
		_, err := Parse("t.yaml", []byte(`x-defaults: &d
  api_kye: sk-0123456789
model_list:
  - model_name: a
    litellm_params:
      <<: *d
      model: openai/x
`), env(nil))
		want := `t.yaml:2:3: model_list[0].litellm_params.api_kye: unknown key "api_kye" (did you mean "api_key"?)`
		if err == nil || err.Error() != want {
			t.Fatalf("error %v, want %q", err, want)
		}
	})
	t.Run("a top-level key that is neither the config's nor anchors is a warning, as LiteLLM ignores it", func(t *testing.T) {
		cfg, err := Parse("t.yaml", []byte("defaults:\n  api_key: x\nmodel_list: [{model_name: a, litellm_params: {model: openai/gpt-4o}}]\n"), env(nil))
		if err != nil {
			t.Fatal(err)
		}
		warningsStartWith(t, cfg.Warnings, []string{`t.yaml:1:1: defaults: a key breakerd does not know; ignored`})
	})
}
