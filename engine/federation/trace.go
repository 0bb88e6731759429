package federation

import (
	"context"
	"fmt"
	"io"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Tracer returns the tracer of the round lifecycle spans
// (federation → lease.claim, round, artifact.store) for an exporter:
// "" or "off" (the default: no spans), "stdout" (JSON to w), or "otlp"
// (OTLP over HTTP to endpoint, e.g. 127.0.0.1:4318). shutdown flushes.
func Tracer(ctx context.Context, exporter, endpoint string, w io.Writer) (tr trace.Tracer, shutdown func(context.Context) error, err error) {
	var exp sdktrace.SpanExporter
	switch exporter {
	case "", "off":
		return noop.NewTracerProvider().Tracer("thunderline/federation"), func(context.Context) error { return nil }, nil
	case "stdout":
		exp, err = stdouttrace.New(stdouttrace.WithWriter(w))
	case "otlp":
		if endpoint == "" {
			return nil, nil, fmt.Errorf("trace exporter otlp: an endpoint is required")
		}
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(endpoint), otlptracehttp.WithInsecure())
	default:
		return nil, nil, fmt.Errorf("trace exporter %q: want off, stdout or otlp", exporter)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("trace exporter %s: %w", exporter, err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	return tp.Tracer("thunderline/federation"), tp.Shutdown, nil
}
