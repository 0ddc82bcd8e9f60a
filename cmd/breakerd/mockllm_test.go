package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// mockllm -faults starts the mock with faults, as PUT /_mock/faults
// would set them: a model it does not serve gets the provider's 404 from
// the first request; faults it cannot read are an error that says why.
func TestMockLLMStartsWithFaults(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"mockllm", "-faults", `{"missing_modles":["gpt-4"]}`}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), `-faults: bad faults: json: unknown field "missing_modles"`) {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"mockllm", "-listen", addr, "-faults", `{"missing_models":["gpt-4"]}`}, pw, io.Discard)
		pw.Close()
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("mockllm exited %d", code)
		}
	}()
	// It says where it listens once it does.
	if line, err := bufio.NewReader(pr).ReadString('\n'); err != nil || !strings.Contains(line, "listening on http://"+addr) {
		t.Fatalf("first line %q: %v", line, err)
	}
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	status := func(model string) int {
		resp, err := client.Post("http://"+addr+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status("gpt-4"); got != http.StatusNotFound {
		t.Fatalf("gpt-4: %d, want 404", got)
	}
	if got := status("gpt-4.1"); got != http.StatusOK {
		t.Fatalf("gpt-4.1: %d, want 200", got)
	}
}
