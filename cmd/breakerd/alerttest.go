package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/breakerd/breakerd/alerting"
	"github.com/breakerd/breakerd/config"
)

// cmdAlertTest sends one test notification through every configured
// notifier and reports each result: the seed checklist's "Alerting set
// up", checkable.
func cmdAlertTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("alert-test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path, err := configFile(fs, args, "config.yaml")
	if err != nil {
		return err
	}
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	if len(cfg.Alerting.Notifiers) == 0 {
		return errors.New("no notifiers configured (router_settings.alerting)")
	}
	m := alerting.New(cfg.Alerting, alerting.Options{})
	defer func() { _ = m.Close(context.Background()) }()
	now := time.Now()
	results := m.SendNow(ctx, &alerting.Alert{ID: "test-" + now.Format("20060102T150405"), Kind: alerting.KindTest, At: now,
		DashboardURL: cfg.Alerting.DashboardURL, RunbookURL: cfg.Alerting.RunbookURL,
		Items: []alerting.Item{{Key: "test", Breaker: "breakerd/test:alert", Reason: "breakerd alert-test", At: now,
			Labels: map[string]string{"provider": "test", "model_group": "test"}}}})
	failed := 0
	for _, n := range cfg.Alerting.Notifiers {
		if err := results[n.Name]; err != nil {
			failed++
			fmt.Fprintf(stdout, "FAIL  %-20s %s: %v\n", n.Name, n.Type, err)
		} else {
			fmt.Fprintf(stdout, "ok    %-20s %s\n", n.Name, n.Type)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d notifiers failed", failed, len(cfg.Alerting.Notifiers))
	}
	return nil
}
