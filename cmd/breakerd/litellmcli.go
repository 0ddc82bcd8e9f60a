package main

import (
	"fmt"
	"strings"
)

// liteLLMFlags are the flags of LiteLLM's proxy CLI ("litellm --config
// FILE --port 4000") that breakerd reads when it is started with them in
// place of a command, so that a container or script written for a LiteLLM
// proxy runs breakerd unchanged. A flag maps to serve's, or is ignored
// with a note saying why.
var liteLLMFlags = []struct {
	name, alias string
	value       bool   // takes a value
	ignored     string // why it is ignored; "" when it maps to serve's
}{
	{name: "--config", alias: "-c", value: true},
	{name: "--port", value: true},
	{name: "--host", value: true},
	{name: "--num_workers", value: true, ignored: "breakerd serves on every CPU from one process"},
	{name: "--detailed_debug", ignored: "set logging.level: debug in the config"},
	{name: "--debug", ignored: "set logging.level: debug in the config"},
	{name: "--run_gunicorn", ignored: "breakerd is one Go process"},
	{name: "--telemetry", value: true, ignored: "breakerd sends no telemetry"},
}

// liteLLMServeArgs turns a LiteLLM proxy command line into serve's
// arguments, with a note for each flag it ignores. An unknown flag is an
// error naming the flags it knows.
func liteLLMServeArgs(args []string) (serve, notes []string, err error) {
	for i := 0; i < len(args); i++ {
		name, val, hasVal := strings.Cut(args[i], "=")
		j := -1
		for k, f := range liteLLMFlags {
			if name == f.name || (f.alias != "" && name == f.alias) {
				j = k
			}
		}
		if j < 0 {
			var known []string
			for _, f := range liteLLMFlags {
				known = append(known, f.name)
			}
			return nil, nil, fmt.Errorf("unknown command or LiteLLM flag %q (breakerd reads LiteLLM's %s; run breakerd help for its own commands)",
				args[i], strings.Join(known, ", "))
		}
		f := liteLLMFlags[j]
		if f.value && !hasVal {
			if i+1 >= len(args) {
				return nil, nil, fmt.Errorf("LiteLLM flag %s needs a value", f.name)
			}
			i++
			val = args[i]
		}
		switch {
		case f.ignored != "":
			notes = append(notes, fmt.Sprintf("LiteLLM's %s is ignored: %s", f.name, f.ignored))
		case f.name == "--config":
			serve = append(serve, "--config", val)
		default: // --port, --host: serve's own
			serve = append(serve, f.name, val)
		}
	}
	return serve, notes, nil
}
