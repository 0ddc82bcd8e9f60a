package tracing

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/events"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestEnabled(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{nil, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, false},
		{map[string]string{"OTEL_EXPORTER": "otlp_http", "OTEL_ENDPOINT": "http://c:4318/v1/traces"}, true}, // LiteLLM's
		{map[string]string{"OTEL_EXPORTER": "console", "OTEL_ENDPOINT": "http://c:4318/v1/traces"}, false},
		{map[string]string{"OTEL_ENDPOINT": "http://c:4318/v1/traces"}, false},
	} {
		if got := Enabled(env(tc.env)); got != tc.want {
			t.Errorf("%v: %v", tc.env, got)
		}
	}
}

func TestSetupWithoutEnvironmentIsNoop(t *testing.T) {
	tp, shutdown, err := Setup(context.Background(), env(nil), "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tp.(noop.TracerProvider); !ok {
		t.Fatalf("provider %T, want noop", tp)
	}
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// With OTEL_EXPORTER_OTLP_ENDPOINT set, spans reach an OTLP/HTTP collector
// (a loopback fake that counts POST /v1/traces).
func TestSetupExportsOverOTLPHTTP(t *testing.T) {
	var posts atomic.Int64
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/traces" {
			_, _ = io.Copy(io.Discard, r.Body)
			posts.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	tp, shutdown, err := Setup(context.Background(), env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL}), "test")
	if err != nil {
		t.Fatal(err)
	}
	_, span := tp.Tracer("t").Start(context.Background(), "x")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil { // flushes the batch
		t.Fatal(err)
	}
	if posts.Load() == 0 {
		t.Fatal("no span reached the collector")
	}
}

func TestTransitionSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := trace.NewTracerProvider(trace.WithSyncer(exp))
	at := time.Date(2026, 1, 26, 12, 0, 0, 0, time.UTC)
	sub := TransitionSpans(tp)
	sub.Handle(events.Event{Kind: events.Retry})
	sub.Handle(events.TransitionEvent(breaker.Transition{Breaker: "b", From: breaker.Closed, To: breaker.Open, At: at,
		Reason: "5 consecutive failures", Counts: breaker.Counts{Failures: 5}, Labels: map[string]string{"provider": "openai"}}))
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Name != "circuit_breaker closed -> open" || !spans[0].StartTime.Equal(at) {
		t.Fatalf("spans %+v", spans)
	}
	got := map[string]string{}
	for _, kv := range spans[0].Attributes {
		got[string(kv.Key)] = kv.Value.String()
	}
	if got["breakerd.breaker.reason"] != "5 consecutive failures" || got["breakerd.breaker.failures"] != "5" || got["breakerd.breaker.provider"] != "openai" {
		t.Fatalf("attributes %v", got)
	}
}

// LiteLLM's own variables for its "otel" callback work too: spans reach
// OTEL_ENDPOINT (for OTLP/HTTP, the traces URL itself) with OTEL_HEADERS.
func TestSetupExportsToLiteLLMsEndpoint(t *testing.T) {
	var posts atomic.Int64
	var auth atomic.Value
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/otlp/v1/traces" {
			_, _ = io.Copy(io.Discard, r.Body)
			auth.Store(r.Header.Get("Api-Key"))
			posts.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	tp, shutdown, err := Setup(context.Background(), env(map[string]string{"OTEL_EXPORTER": "otlp_http",
		"OTEL_ENDPOINT": collector.URL + "/otlp/v1/traces", "OTEL_HEADERS": "api-key=secret-key"}), "test")
	if err != nil {
		t.Fatal(err)
	}
	_, span := tp.Tracer("t").Start(context.Background(), "x")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if posts.Load() == 0 || auth.Load() != "secret-key" {
		t.Fatalf("%d posts to OTEL_ENDPOINT, api-key %v", posts.Load(), auth.Load())
	}
}
