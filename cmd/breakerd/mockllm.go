package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/breakerd/breakerd/mockllm"
)

func cmdMockLLM(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mockllm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8081", "listen address")
	name := fs.String("name", "mockllm", "name shown in replies")
	apiKey := fs.String("api-key", "", "require this API key (default: accept any)")
	faults := fs.String("faults", "", `faults to start with, as PUT /_mock/faults takes them (e.g. '{"missing_models":["gpt-4"]}')`)
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	m := mockllm.New(mockllm.Options{Name: *name, APIKey: *apiKey})
	if *faults != "" {
		f, err := mockllm.ReadFaults(strings.NewReader(*faults))
		if err != nil {
			return fmt.Errorf("-faults: %w", err)
		}
		m.SetFaults(f)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fmt.Fprintf(stdout, "mockllm %q listening on http://%s\n  faults: curl -X PUT http://%[2]s/_mock/faults -d '{\"error_rate\":1,\"status\":503}'\n  stats:  curl http://%[2]s/_mock/stats\n", *name, ln.Addr())
	srv := m.HTTPServer()
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
