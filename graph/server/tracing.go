package server

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Option configures what New builds beyond Config.
type Option func(*options)

type options struct {
	tp              trace.TracerProvider
	version, commit string
}

// WithTracerProvider traces requests with tp (OpenTelemetry): an HTTP span
// per request, a span per GraphQL operation and per resolver, and the
// decisions' spans. Without it nothing is traced. SQL statements are
// traced by the database's own option (database.Options.TracerProvider).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tp = tp }
}

// WithBuild names the build's version and commit, for the
// gatehouse_build_info metric.
func WithBuild(version, commit string) Option {
	return func(o *options) { o.version, o.commit = version, commit }
}

const instrumentationName = "github.com/gatehouse-iam/gatehouse/graph/server"

func (o options) tracer() trace.Tracer {
	if o.tp == nil {
		return nil
	}
	return o.tp.Tracer(instrumentationName)
}

// traceHTTP gives each request its server span, continuing the caller's
// trace when it sends W3C trace context. Health checks are not traced.
func (o options) traceHTTP(next http.Handler) http.Handler {
	if o.tp == nil {
		return next
	}
	return otelhttp.NewHandler(next, "gatehouse",
		otelhttp.WithTracerProvider(o.tp),
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})),
		otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/healthz" && r.URL.Path != "/readyz" }),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + route(r.URL.Path) }),
	)
}

// route names a path by its route, so that span names stay few.
func route(path string) string {
	switch {
	case path == "/graphql", path == "/", path == "/platform/audit.jsonl":
		return path
	case strings.HasPrefix(path, "/graphiql/"):
		return "/graphiql/"
	case strings.HasPrefix(path, "/accounts/") && strings.HasSuffix(path, "/audit.csv"):
		return "/accounts/{id}/audit.csv"
	case strings.HasPrefix(path, "/accounts/") && strings.HasSuffix(path, "/audit.jsonl"):
		return "/accounts/{id}/audit.jsonl"
	}
	return "other"
}
