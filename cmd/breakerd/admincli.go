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
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/breakerd/breakerd/breaker"
)

// adminEnv names the environment variable that holds the admin token for
// the status and breaker commands.
const adminEnv = "BREAKERD_ADMIN_TOKEN"

// adminClient calls a running breakerd's admin API.
type adminClient struct {
	addr, token string
	http        *http.Client
}

func newAdminClient(fs *flag.FlagSet, args []string, stderr io.Writer) (*adminClient, []string, error) {
	fs.SetOutput(stderr)
	addr := fs.String("addr", "http://127.0.0.1:4000", "breakerd (or its admin listener) base URL")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	token := os.Getenv(adminEnv)
	if token == "" {
		return nil, nil, fmt.Errorf("set %s to the admin token (admin.token in the config)", adminEnv)
	}
	return &adminClient{addr: strings.TrimRight(*addr, "/"), token: token, http: &http.Client{Timeout: 10 * time.Second}}, fs.Args(), nil
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
	c, _, err := newAdminClient(flag.NewFlagSet("status", flag.ContinueOnError), args, stderr)
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
	c, rest, err := newAdminClient(flag.NewFlagSet("breaker", flag.ContinueOnError), args, stderr)
	if err != nil {
		return err
	}
	if len(rest) != 2 {
		return errors.New("usage: breakerd breaker [--addr URL] open|close|reset|disable|enable NAME")
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
