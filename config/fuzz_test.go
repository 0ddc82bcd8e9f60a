package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Whatever a config file holds, Parse returns a config or errors that
// name the file; it never panics (go-yaml has, on "model_list: !").
func FuzzParse(f *testing.F) {
	for _, name := range []string{"litellm_config.yaml", "litellm_proxy_config.yaml", "real_world_config.yaml"} {
		if data, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(string(data))
		}
	}
	if data, err := os.ReadFile(filepath.Join("..", "config.yaml")); err == nil {
		f.Add(string(data))
	}
	for _, s := range []string{"model_list: !\n", "model_list: !!str\n", "a: &x [*x]\n", "model_list:\n  - model_name: a\n    litellm_params: {model: \"*\"}\n",
		"model_list:\n  - model_name: ${X:-a}\n    litellm_params: {model: os.environ/M, rpm: os.environ/R}\n", "{", "- [\n",
		"x-d: &d {model: openai/x}\nmodel_list:\n  - model_name: a\n    litellm_params: {<<: [*d, *d]}\n", "include: [a.yaml]\nmodel_list: *m\n", "d: &d {<<: [*d, *d]}\n"} {
		f.Add(s)
	}
	env := func(k string) (string, bool) {
		switch k {
		case "M":
			return "openai/x", true
		case "R":
			return "notanumber", true
		}
		return "", false
	}
	f.Fuzz(func(t *testing.T, data string) {
		// No file is included: an include is an error naming f.yaml.
		cfg, err := parse("f.yaml", []byte(data), env, func(string) ([]byte, error) { return nil, fs.ErrNotExist })
		if err != nil {
			for _, e := range unjoin(err) {
				var ce *Error
				if !errors.As(e, &ce) || ce.File != "f.yaml" {
					t.Fatalf("error %q (%T) does not name the file", e, e)
				}
			}
			return
		}
		if len(cfg.Deployments) == 0 {
			t.Fatal("a config without deployments was accepted")
		}
	})
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// Environment references resolve or name the missing variable; they never
// panic, and a value without one comes back as it was. Resolution is one
// pass, as in a shell: "${${A}}" gives the literal "${alpha}".
func FuzzEnvReferences(f *testing.F) {
	for _, s := range []string{"os.environ/A", "${A}", "${A:-d}", "${B-d}", "x${A}y${B:-z}", "${", "${A:-}", "${:-x}", "os.environ/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := &converter{src: &sources{main: "f.yaml"}, pos: nil, env: func(k string) (string, bool) {
			if k == "A" {
				return "alpha", true
			}
			return "", false
		}}
		v := c.resolve("k", s)
		if !envRef.MatchString(s) && !strings.HasPrefix(s, "os.environ/") && v != s {
			t.Fatalf("resolve(%q) = %q: a value without a reference changed", s, v)
		}
	})
}
