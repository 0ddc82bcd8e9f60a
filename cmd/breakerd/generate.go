package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/breakerd/breakerd/dashboards"
)

// grafanaTokenEnv names the variable that holds the Grafana token for
// dashboards --push.
const grafanaTokenEnv = "GRAFANA_TOKEN"

func cmdDashboards(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dashboards", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "write the dashboard JSON files to this directory")
	push := fs.String("push", "", "upload the dashboards to this Grafana URL (token in "+grafanaTokenEnv+")")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if *out == "" && *push == "" {
		return errors.New("usage: breakerd dashboards --out DIR | --push GRAFANA_URL")
	}
	all, err := dashboards.All()
	if err != nil {
		return err
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	slices.Sort(names)
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return err
		}
		for _, n := range names {
			b, err := dashboards.JSON(all[n])
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(*out, n), b, 0o644); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "wrote", filepath.Join(*out, n))
		}
	}
	if *push != "" {
		token := os.Getenv(grafanaTokenEnv)
		if token == "" {
			return fmt.Errorf("set %s to a Grafana service account token", grafanaTokenEnv)
		}
		client := &http.Client{Timeout: 30 * time.Second}
		for _, n := range names {
			if err := dashboards.Push(ctx, client, *push, token, all[n]); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "pushed", n)
		}
	}
	return nil
}

// Generated rule files, relative to the repository root.
const (
	RulesPath          = "deploy/prometheus/alerts.yml"
	PrometheusRulePath = "deploy/kubernetes/prometheusrule.yaml"
)

// cmdRules prints the Prometheus alert rules, or writes them (and the
// Kubernetes PrometheusRule) to files: it never writes where it was not
// asked to.
func cmdRules(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rules", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "-", "Prometheus rule file to write; - prints it (the repository's is "+RulesPath+")")
	k8s := fs.String("k8s-out", "", "also write the PrometheusRule manifest here; - prints it (the repository's is "+PrometheusRulePath+")")
	forDur := fs.String("for", "", "set every rule's for: to this duration (e.g. 2s), to see the alerts fire quickly in a test or demo")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	rules := dashboards.Rules()
	if *forDur != "" {
		if _, err := time.ParseDuration(*forDur); err != nil {
			return fmt.Errorf("--for: %w", err)
		}
		rules = rules.WithFor(*forDur)
	}
	b, err := rules.YAML()
	if err != nil {
		return err
	}
	if err := emit(stdout, *out, b); err != nil {
		return err
	}
	if *k8s != "" {
		m, err := dashboards.PrometheusRuleYAML()
		if err != nil {
			return err
		}
		if err := emit(stdout, *k8s, m); err != nil {
			return err
		}
	}
	return nil
}

// emit writes b to path, or to stdout when path is "-".
func emit(stdout io.Writer, path string, b []byte) error {
	if path == "-" {
		_, err := stdout.Write(b)
		return err
	}
	if err := writeFile(path, b); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "wrote", path)
	return nil
}

func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
