package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/breakerd/breakerd/mockllm"
)

func TestTrafficSendsRequestsAndBreaksTheMock(t *testing.T) {
	tests := []struct {
		name       string
		breakMock  bool
		wantBroken bool
		key        string // the key the upstream requires and -api-key sends
		keyFromEnv bool   // send key through $BREAKERD_API_KEY instead
	}{
		{name: "healthy upstream: every answered request succeeds"},
		{name: "with -api-key: a server that needs a key answers", key: "sk-traffic-key-1"},
		{name: "the key from $BREAKERD_API_KEY", key: "sk-traffic-key-2", keyFromEnv: true},
		// -down equal to -cycle keeps the mock broken from the first tick.
		{name: "with -break: the mock is broken and requests fail", breakMock: true, wantBroken: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mock := mockllm.New(mockllm.Options{APIKey: tc.key})
			srv := httptest.NewServer(mock.Handler())
			defer srv.Close()
			args := []string{"-url", srv.URL, "-rps", "200"}
			if tc.keyFromEnv {
				t.Setenv("BREAKERD_API_KEY", tc.key)
			} else {
				args = append(args, "-api-key", tc.key)
			}
			if tc.breakMock {
				args = append(args, "-break", srv.URL, "-cycle", "1h", "-down", "1h")
			}
			ctx, cancel := context.WithCancel(context.Background())
			var out, errs bytes.Buffer
			done := make(chan error, 1)
			go func() { done <- cmdTraffic(ctx, args, &out, &errs) }()
			if err := mock.WaitRequests(t.Context(), 20); err != nil {
				t.Fatal(err)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}

			var sent, ok, failed, unanswered int
			last := out.String()[strings.LastIndex(out.String(), "traffic: sent"):]
			if _, err := fmt.Sscanf(last, "traffic: sent %d requests: %d ok, %d errors, %d not answered", &sent, &ok, &failed, &unanswered); err != nil {
				t.Fatalf("summary %q: %v", last, err)
			}
			if sent < 20 || ok+failed+unanswered != sent {
				t.Fatalf("summary does not add up: %q", last)
			}
			if broken := mock.Faults().ErrorRate == 1; broken != tc.wantBroken {
				t.Fatalf("mock broken = %v, want %v", broken, tc.wantBroken)
			}
			if tc.wantBroken {
				if ok != 0 || failed == 0 || !strings.Contains(out.String(), "traffic: mock broken=true") {
					t.Fatalf("want only failures and a break notice:\n%s", out.String())
				}
			} else if failed != 0 || ok == 0 {
				t.Fatalf("want only successes:\n%s", out.String())
			}
			if errs.Len() != 0 {
				t.Fatalf("stderr: %s", errs.String())
			}
		})
	}
}

// -h lists the flags and their defaults; the key from the environment is
// not a default, so it is never printed.
func TestTrafficHelpDoesNotPrintTheKey(t *testing.T) {
	t.Setenv("BREAKERD_API_KEY", "sk-secret-master-77")
	var out, errs bytes.Buffer
	_ = cmdTraffic(t.Context(), []string{"-h"}, &out, &errs)
	if !strings.Contains(errs.String(), "-api-key") || strings.Contains(out.String()+errs.String(), "sk-secret-master-77") {
		t.Fatalf("help output:\n%s", errs.String())
	}
}
