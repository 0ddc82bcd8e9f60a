// Package tracing sets up OpenTelemetry from the standard OTEL_*
// environment variables and turns breaker transitions into spans.
package tracing

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/breakerd/breakerd/events"
)

// Enabled reports whether the environment asks for trace export: an OTLP
// endpoint is set (the standard variables', or LiteLLM's OTEL_EXPORTER
// and OTEL_ENDPOINT) and neither OTEL_SDK_DISABLED nor
// OTEL_TRACES_EXPORTER=none turns it off.
func Enabled(lookupEnv func(string) (string, bool)) bool {
	get := func(k string) string { v, _ := lookupEnv(k); return strings.TrimSpace(v) }
	if strings.EqualFold(get("OTEL_SDK_DISABLED"), "true") || get("OTEL_TRACES_EXPORTER") == "none" {
		return false
	}
	_, liteLLM := liteLLMExporter(lookupEnv)
	return get("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" || liteLLM
}

// liteLLMExporter reads LiteLLM's own variables for its "otel" callback,
// where the standard endpoint variables are not set: OTEL_EXPORTER
// (otlp_http, otlp_grpc) and OTEL_ENDPOINT (the collector's URL: for
// HTTP, the traces URL itself). It reports the protocol, and whether they
// name an OTLP export.
func liteLLMExporter(lookupEnv func(string) (string, bool)) (grpc, ok bool) {
	get := func(k string) string { v, _ := lookupEnv(k); return strings.TrimSpace(v) }
	if get("OTEL_ENDPOINT") == "" || get("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" {
		return false, false
	}
	switch get("OTEL_EXPORTER") {
	case "otlp_grpc", "grpc":
		return true, true
	case "otlp_http", "otlp", "http":
		return false, true
	}
	return false, false
}

// liteLLMHeaders parses LiteLLM's OTEL_HEADERS ("k1=v1,k2=v2").
func liteLLMHeaders(v string) map[string]string {
	out := map[string]string{}
	for kv := range strings.SplitSeq(v, ",") {
		if k, val, ok := strings.Cut(kv, "="); ok && strings.TrimSpace(k) != "" {
			out[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
	}
	return out
}

// Setup returns a TracerProvider configured by OTEL_* variables (endpoint,
// headers, protocol grpc or http/protobuf, sampler, service name and
// resource attributes; or LiteLLM's OTEL_EXPORTER, OTEL_ENDPOINT and
// OTEL_HEADERS), and its shutdown function. When Enabled is false it
// returns a no-op provider, which costs close to nothing.
func Setup(ctx context.Context, lookupEnv func(string) (string, bool), version string) (trace.TracerProvider, func(context.Context) error, error) {
	if !Enabled(lookupEnv) {
		return noop.NewTracerProvider(), func(context.Context) error { return nil }, nil
	}
	proto, _ := lookupEnv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if proto == "" {
		proto, _ = lookupEnv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	var exp sdktrace.SpanExporter
	var err error
	grpc, liteLLM := liteLLMExporter(lookupEnv)
	switch {
	case liteLLM && grpc:
		endpoint, _ := lookupEnv("OTEL_ENDPOINT")
		headers, _ := lookupEnv("OTEL_HEADERS")
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(strings.TrimSpace(endpoint)), otlptracegrpc.WithHeaders(liteLLMHeaders(headers)))
	case liteLLM:
		endpoint, _ := lookupEnv("OTEL_ENDPOINT")
		headers, _ := lookupEnv("OTEL_HEADERS")
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(strings.TrimSpace(endpoint)), otlptracehttp.WithHeaders(liteLLMHeaders(headers)))
	case proto == "grpc":
		exp, err = otlptracegrpc.New(ctx)
	default:
		exp, err = otlptracehttp.New(ctx)
	}
	if err != nil {
		return nil, nil, err
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "breakerd"), attribute.String("service.version", version)),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}

// TransitionSpans returns an event subscriber that records every breaker
// transition as a short span of its own, carrying from, to, reason and the
// counts at that moment.
func TransitionSpans(tp trace.TracerProvider) events.Subscriber {
	tracer := tp.Tracer("github.com/breakerd/breakerd/breaker")
	return events.SubscriberFunc(func(e events.Event) {
		if e.Kind != events.Transition {
			return
		}
		t := e.Transition
		attrs := []attribute.KeyValue{
			attribute.String("breakerd.breaker.name", t.Breaker),
			attribute.String("breakerd.breaker.from", t.From.String()),
			attribute.String("breakerd.breaker.to", t.To.String()),
			attribute.String("breakerd.breaker.reason", t.Reason),
			attribute.Int64("breakerd.breaker.calls", int64(t.Counts.Calls)),
			attribute.Int64("breakerd.breaker.failures", int64(t.Counts.Failures)),
			attribute.Int64("breakerd.breaker.rejected", int64(t.Counts.Rejected)),
			attribute.Float64("breakerd.breaker.window_failure_ratio", t.Window.FailureRate),
			attribute.Int64("breakerd.breaker.seq", int64(t.Seq)),
		}
		for _, k := range []string{"provider", "model", "operation", "model_group"} {
			if v := t.Labels[k]; v != "" {
				attrs = append(attrs, attribute.String("breakerd.breaker."+k, v))
			}
		}
		if !t.OpenUntil.IsZero() {
			attrs = append(attrs, attribute.String("breakerd.breaker.open_until", t.OpenUntil.UTC().Format("2006-01-02T15:04:05.000Z07:00")))
		}
		_, span := tracer.Start(context.Background(), "circuit_breaker "+t.From.String()+" -> "+t.To.String(),
			trace.WithTimestamp(t.At), trace.WithAttributes(attrs...), trace.WithSpanKind(trace.SpanKindInternal))
		span.End(trace.WithTimestamp(t.At))
	})
}
