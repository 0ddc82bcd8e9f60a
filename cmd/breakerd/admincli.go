package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/breakerd/breakerd/admin"
	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/config"
)

// adminEnv names the environment variable that holds the admin token for
// the status and breaker commands.
const adminEnv = "BREAKERD_ADMIN_TOKEN"

// adminClient calls a running breakerd's admin API.
type adminClient struct {
	addr, token string
	http        *http.Client
}

// newAdminClient parses an admin command's flags, which may come anywhere
// among its positional arguments: --addr (a URL, or host:port), or
// --config FILE to take the address (admin.listen, else server.listen)
// and the token (admin.token) from the config. BREAKERD_ADMIN_TOKEN wins
// over the config's token.
func newAdminClient(fs *flag.FlagSet, args []string, positional int, stderr io.Writer) (*adminClient, []string, error) {
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "breakerd (or its admin listener): a URL or host:port (default http://127.0.0.1:4000)")
	cfgPath := fs.String("config", "", "read the admin address and token from this config")
	if err := parseFlags(fs, args, positional); err != nil {
		return nil, nil, err
	}
	token := os.Getenv(adminEnv)
	target := *addr
	if *cfgPath != "" {
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			return nil, nil, err
		}
		if target == "" {
			target = cmp.Or(cfg.Admin.Listen, cfg.Server.Listen)
		}
		if token == "" {
			token = cfg.Admin.Token.Value()
		}
	}
	target = cmp.Or(target, "http://127.0.0.1:4000")
	if !strings.Contains(target, "://") {
		if strings.HasPrefix(target, ":") {
			target = "127.0.0.1" + target // a listen address: this host
		}
		target = "http://" + target
	}
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, nil, fmt.Errorf("--addr %q is not a URL or host:port", *addr)
	}
	if token == "" {
		return nil, nil, fmt.Errorf("set %s to the admin token (admin.token in the config), or give --config", adminEnv)
	}
	return &adminClient{addr: strings.TrimRight(target, "/"), token: token, http: &http.Client{Timeout: 10 * time.Second}}, fs.Args(), nil
}

func (c *adminClient) do(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.addr+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error    string   `json:"error"`
			Breakers []string `json:"breakers"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			if len(e.Breakers) > 0 {
				return fmt.Errorf("%s (%d); known breakers:\n  %s", e.Error, resp.StatusCode, strings.Join(e.Breakers, "\n  "))
			}
			return fmt.Errorf("%s (%d)", e.Error, resp.StatusCode)
		}
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	return json.Unmarshal(data, out)
}

// cmdStatus prints a table of every breaker.
func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, _, err := newAdminClient(flag.NewFlagSet("status", flag.ContinueOnError), args, 0, stderr)
	if err != nil {
		return err
	}
	var out struct {
		Breakers []breaker.Snapshot `json:"breakers"`
	}
	if err := c.do(ctx, http.MethodGet, "/admin/breakers", &out); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BREAKER\tSTATE\tSINCE\tFAILURE RATE\tCALLS\tFAILURES\tREJECTED\tREASON\tLAST FAILURE")
	for _, s := range out.Breakers {
		last := "-"
		if !s.LastFailure.IsZero() {
			last = s.LastFailure.Local().Format("15:04:05") + " " + cmp.Or(s.LastFailureCause, "(no cause recorded)")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f%%\t%d\t%d\t%d\t%s\t%s\n", s.Name, s.State, s.Since.Local().Format("15:04:05"),
			s.Window.FailureRate*100, s.Counts.Calls, s.Counts.Failures, s.Counts.Rejected, s.Reason, last)
	}
	return tw.Flush()
}

// cmdBreaker runs one admin action on one breaker.
func cmdBreaker(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("breaker", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: breakerd breaker ACTION NAME [--addr URL | --config FILE]\n\n"+
			"ACTION is one of:\n  open     force the breaker open: no calls until close or reset\n"+
			"  close    close it: calls flow, its window starts afresh\n  reset    close it and forget its backoff\n"+
			"  disable  let every call through and record nothing\n  enable   undo disable\n\nflags:\n")
		fs.PrintDefaults()
	}
	c, rest, err := newAdminClient(fs, args, -1, stderr)
	if err != nil {
		return err
	}
	if len(rest) != 2 || !slices.Contains(admin.Actions, rest[0]) {
		fs.Usage()
		return errors.New("usage: breakerd breaker open|close|reset|disable|enable NAME")
	}
	action, name := rest[0], rest[1]
	var out struct {
		Changed bool   `json:"changed"`
		State   string `json:"state"`
	}
	if err := c.do(ctx, http.MethodPost, "/admin/breakers/"+name+"/"+action, &out); err != nil {
		return err
	}
	verb := "is now"
	if !out.Changed {
		verb = "was already"
	}
	fmt.Fprintf(stdout, "%s %s %s\n", name, verb, out.State)
	return nil
}
