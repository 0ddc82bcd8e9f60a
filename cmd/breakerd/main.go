// Command breakerd is an OpenAI-compatible gateway that keeps LLM calls
// flowing when a provider fails. Run "breakerd help" for its commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `breakerd keeps applications that call LLM APIs up when a provider fails.

Usage:
  breakerd serve [--config FILE] [--listen ADDR]   run the gateway
  breakerd demo [--duration 60s]                   watch an outage and a recovery, no API keys needed
  breakerd mockllm [--listen ADDR] [--name NAME]   run the fake LLM upstream
  breakerd check-config FILE                       validate a config and print its routing table
  breakerd alert-test [--config FILE]              send a test alert through every notifier
  breakerd dashboards --out DIR | --push URL       write or upload the Grafana dashboards
  breakerd rules [--out FILE]                      write the Prometheus alert rules
  breakerd traffic [--url URL] [--break MOCK_URL]  steady demo traffic, with periodic outages
  breakerd status [--addr URL]                     list breakers (needs BREAKERD_ADMIN_TOKEN)
  breakerd breaker [--addr URL] ACTION NAME        open|close|reset|disable|enable a breaker
  breakerd probe URL                               exit 0 if URL answers 200 (container health checks)
  breakerd help                                    show this help

LiteLLM's proxy command line (breakerd --config FILE [--port 4000] [--host H])
runs serve, so that containers and scripts written for LiteLLM run breakerd.
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a subcommand and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(ctx, rest, stdout, stderr)
	case "demo":
		err = cmdDemo(ctx, rest, stdout, stderr)
	case "mockllm":
		err = cmdMockLLM(ctx, rest, stdout, stderr)
	case "check-config":
		err = cmdCheckConfig(rest, stdout, stderr)
	case "alert-test":
		err = cmdAlertTest(ctx, rest, stdout, stderr)
	case "dashboards":
		err = cmdDashboards(ctx, rest, stdout, stderr)
	case "rules":
		err = cmdRules(rest, stdout, stderr)
	case "traffic":
		err = cmdTraffic(ctx, rest, stdout, stderr)
	case "probe":
		err = cmdProbe(ctx, rest, stdout)
	case "status":
		err = cmdStatus(ctx, rest, stdout, stderr)
	case "breaker":
		err = cmdBreaker(ctx, rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		if !strings.HasPrefix(cmd, "-") {
			fmt.Fprintf(stderr, "breakerd: unknown command %q\n\n%s", cmd, usage)
			return 2
		}
		// LiteLLM's proxy command line (--config FILE --port 4000): serve.
		serve, notes, lerr := liteLLMServeArgs(args)
		if lerr != nil {
			fmt.Fprintf(stderr, "breakerd: %v\n\n%s", lerr, usage)
			return 2
		}
		for _, n := range notes {
			fmt.Fprintf(stderr, "breakerd: %s\n", n)
		}
		err = cmdServe(ctx, serve, stdout, stderr)
	}
	if errors.Is(err, errHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "breakerd %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// newLogger returns a slog logger in the given format ("text" or "json").
func newLogger(w io.Writer, format string, level slog.Leveler) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// parseFlags parses args with flags anywhere among the arguments (flag
// stops at the first argument otherwise, so "breaker open NAME --addr X"
// would fail), and requires exactly positional arguments, or any number
// when positional is negative. "-h" and "--help" print the flags and the
// usage line and are not an error.
func parseFlags(fs *flag.FlagSet, args []string, positional int) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return errHelp
			}
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if positional >= 0 && len(pos) != positional {
		return fmt.Errorf("usage: breakerd %s (see breakerd %s --help)", fs.Name(), fs.Name())
	}
	// Leave the positional arguments where fs.Args finds them.
	_ = fs.Parse(append([]string{"--"}, pos...))
	return nil
}

// errHelp is returned after -h printed the usage: exit 0.
var errHelp = errors.New("help requested")

// configFile reads a subcommand's config path: --config FILE, or FILE as
// its one argument, the same on every subcommand; def when neither.
func configFile(fs *flag.FlagSet, args []string, def string) (string, error) {
	path := fs.String("config", "", "config file (or give it as the argument)")
	if err := parseFlags(fs, args, -1); err != nil {
		return "", err
	}
	switch {
	case fs.NArg() > 1:
		return "", fmt.Errorf("usage: breakerd %s [--config] FILE", fs.Name())
	case fs.NArg() == 1 && *path != "":
		return "", fmt.Errorf("give the config as --config FILE or as FILE, not both")
	case fs.NArg() == 1:
		return fs.Arg(0), nil
	case *path != "":
		return *path, nil
	}
	return def, nil
}
