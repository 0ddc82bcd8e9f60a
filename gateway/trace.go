package gateway

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/breakerd/breakerd/breaker"
	"github.com/breakerd/breakerd/provider"
)

// traceContext is the W3C trace-context propagator: a client's
// traceparent flows through breakerd to the upstream.
var traceContext = propagation.TraceContext{}

// propagating injects the current span's traceparent into upstream calls,
// and, with forward (a config that forwards client headers), the
// client's headers forwarded to them (withForwarded).
type propagating struct {
	base    http.RoundTripper
	forward bool
}

func (p propagating) RoundTrip(r *http.Request) (*http.Response, error) {
	if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() {
		r = r.Clone(r.Context())
		traceContext.Inject(r.Context(), propagation.HeaderCarrier(r.Header))
	}
	if p.forward {
		r = withForwarded(r)
	}
	return p.base.RoundTrip(r)
}

func transportOf(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

// noSpan returns the no-op span (shared, made without an allocation). Not
// the span in a request's context: that may be a caller's, not ours to end.
func noSpan() trace.Span { return trace.SpanFromContext(context.Background()) }

// startRequestSpan starts the server span of a client request, continuing
// the client's trace if it sent a traceparent.
func (g *Gateway) startRequestSpan(r *http.Request, op provider.Operation, api provider.API) (context.Context, trace.Span) {
	ctx := r.Context()
	if !g.traced {
		// No spans of our own, but the client's trace still reaches the
		// upstream (propagating).
		if r.Header.Get("Traceparent") != "" {
			ctx = traceContext.Extract(ctx, propagation.HeaderCarrier(r.Header))
		}
		return ctx, noSpan()
	}
	ctx = traceContext.Extract(ctx, propagation.HeaderCarrier(r.Header))
	// Named by the route ("GET /v1/responses/{id}"), as HTTP's
	// conventions ask, where the path holds an id.
	name := r.Pattern
	if name == "" {
		name = r.Method + " " + r.URL.Path
	}
	ctx, span := g.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer))
	// Attributes cost allocations; build them only for a recording span.
	if span.IsRecording() {
		span.SetAttributes(semconv.HTTPRequestMethodKey.String(r.Method), semconv.URLPath(r.URL.Path))
		if op := genAIOperation(op, api); op != "" {
			span.SetAttributes(semconv.GenAIOperationNameKey.String(op))
		}
	}
	return ctx, span
}

// genAIOperation is the GenAI semantic conventions' operation name:
// embeddings, text_completion for legacy completions, generate_content
// for audio and images, moderations (which they do not name), and chat
// for chat completions, Responses and Messages (each is a chat exchange);
// none for calls on what an upstream stores, which are not.
func genAIOperation(op provider.Operation, api provider.API) string {
	switch {
	case api.Stored():
		return ""
	case op == provider.Embeddings:
		return semconv.GenAIOperationNameEmbeddings.Value.AsString()
	case op == provider.Transcriptions || op == provider.Speech || op == provider.Images:
		return semconv.GenAIOperationNameGenerateContent.Value.AsString()
	case op == provider.Realtime || op == provider.Rerank:
		return string(op) // as for moderations
	case op == provider.Moderations:
		return "moderations" // the conventions name none; a system's own name is their advice
	case api == provider.APICompletions:
		return semconv.GenAIOperationNameTextCompletion.Value.AsString()
	}
	return semconv.GenAIOperationNameChat.Value.AsString()
}

// genAIProvider maps our provider kinds to gen_ai.provider.name values.
func genAIProvider(kind string) string {
	switch kind {
	case "anthropic":
		return semconv.GenAIProviderNameAnthropic.Value.AsString()
	case "azure":
		return semconv.GenAIProviderNameAzureAIOpenAI.Value.AsString()
	}
	return semconv.GenAIProviderNameOpenAI.Value.AsString()
}

// startAttemptSpan starts the client span of one upstream attempt, named
// "{operation} {model}" as the GenAI conventions ask.
func (g *Gateway) startAttemptSpan(ctx context.Context, d *Deployment, op provider.Operation, api provider.API, attempt, fallbackIndex int, rejected bool) (context.Context, trace.Span) {
	if !g.traced {
		return ctx, noSpan()
	}
	b := d.Breakers[op]
	ctx, span := g.tracer.Start(ctx, genAIOperation(op, api)+" "+d.Config.Model, trace.WithSpanKind(trace.SpanKindClient))
	if span.IsRecording() {
		span.SetAttributes(
			semconv.GenAIOperationNameKey.String(genAIOperation(op, api)),
			semconv.GenAIProviderNameKey.String(genAIProvider(d.Config.Provider)),
			semconv.GenAIRequestModelKey.String(d.Config.Model),
			attribute.String("breakerd.deployment", d.Config.Name),
			attribute.String("breakerd.breaker.name", b.Name()),
			attribute.String("breakerd.breaker.state", b.State().String()),
			attribute.Bool("breakerd.breaker.rejected", rejected),
			attribute.Int("breakerd.attempt", attempt),
			attribute.Int("breakerd.fallback_index", fallbackIndex),
		)
	}
	return ctx, span
}

// endAttemptSpan records an attempt's result on its span.
func endAttemptSpan(span trace.Span, info AttemptInfo, o breaker.Outcome, model string) {
	if !span.IsRecording() {
		span.End()
		return
	}
	if model != "" {
		span.SetAttributes(semconv.GenAIResponseModelKey.String(model))
	}
	if info.Usage.InputTokens > 0 || info.Usage.OutputTokens > 0 {
		span.SetAttributes(semconv.GenAIUsageInputTokensKey.Int(info.Usage.InputTokens),
			semconv.GenAIUsageOutputTokensKey.Int(info.Usage.OutputTokens))
		if u := info.Usage; u.CacheReadTokens > 0 || u.CacheWriteTokens > 0 {
			span.SetAttributes(semconv.GenAIUsageCacheReadInputTokensKey.Int(u.CacheReadTokens),
				semconv.GenAIUsageCacheCreationInputTokensKey.Int(u.CacheWriteTokens))
		}
		if info.Usage.Estimated {
			// A stream that ended before its usage: the counts, and what
			// they were charged, are breakerd's estimate.
			span.SetAttributes(attribute.Bool("breakerd.usage.estimated", true))
		}
	}
	if info.Status > 0 {
		span.SetAttributes(semconv.HTTPResponseStatusCodeKey.Int(info.Status))
	}
	span.SetAttributes(attribute.String("breakerd.breaker.outcome", o.String()))
	if info.ErrType != "" {
		span.SetAttributes(semconv.ErrorTypeKey.String(info.ErrType))
		span.SetStatus(codes.Error, info.ErrType)
	}
	span.End()
}
