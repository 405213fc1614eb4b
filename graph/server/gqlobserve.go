package server

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse-iam/gatehouse/graph"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
)

// observe is the GraphQL layer's metrics, access-log fields and, when
// tracing is on, spans: one per operation, and one per field that runs a
// resolver or a method (where reads happen), under the HTTP span.
type observe struct {
	met    *metrics
	tracer trace.Tracer // nil: no spans
}

var (
	_ graphql.HandlerExtension    = observe{}
	_ graphql.ResponseInterceptor = observe{}
)

func (observe) ExtensionName() string                   { return "Observe" }
func (observe) Validate(graphql.ExecutableSchema) error { return nil }

// traced reports whether the field gets a span: the request is traced, and
// the field runs a resolver or a method (where reads happen), not a plain
// struct field.
func (o observe) traced(ctx context.Context, fc *graphql.FieldContext) bool {
	return o.tracer != nil && fc != nil && (fc.IsResolver || fc.IsMethod) && trace.SpanFromContext(ctx).IsRecording()
}

// operationOf names a response's operation: its name, or its first root
// field when it has none; and its type ("invalid" when the document did
// not parse or validate).
func operationOf(ctx context.Context) (name, typ string) {
	if !graphql.HasOperationContext(ctx) {
		return "", "invalid"
	}
	oc := graphql.GetOperationContext(ctx)
	name = oc.OperationName
	if oc.Operation == nil {
		return name, "invalid"
	}
	if name == "" {
		name = oc.Operation.Name
	}
	if name == "" && len(oc.Operation.SelectionSet) > 0 {
		if f, ok := oc.Operation.SelectionSet[0].(*ast.Field); ok {
			name = f.Name
		}
	}
	if len(name) > 64 {
		name = name[:64]
	}
	return name, string(oc.Operation.Operation)
}

// InterceptResponse runs around each response (and around the refusal of
// a document that did not parse or validate).
func (o observe) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	began := time.Now()
	name, typ := operationOf(ctx)
	entryFrom(ctx).setOperation(name, typ)
	var span trace.Span
	if o.tracer != nil {
		ctx, span = o.tracer.Start(ctx, "graphql "+typ+" "+name, trace.WithAttributes(
			attribute.String("graphql.operation.name", name),
			attribute.String("graphql.operation.type", typ),
		))
	}
	resp := next(ctx)
	code := "OK"
	if resp != nil && len(resp.Errors) > 0 {
		if code, _ = resp.Errors[0].Extensions["code"].(string); code == "" {
			code = "UNKNOWN"
		}
	}
	o.met.operationDone(name, typ, code, time.Since(began))
	if span != nil {
		if code != "OK" {
			span.SetStatus(codes.Error, code)
		}
		span.End()
	}
	return resp
}

// fieldMiddleware is the server's one field middleware. gqlgen runs every
// field of every object through each middleware registered, with a closure
// per middleware and field (a members page has thousands of fields), so the
// concerns share one: a mutation field gets graph.AroundMutation, and a
// traced request's resolvers get their spans.
func (o observe) fieldMiddleware(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return next(ctx)
	}
	if fc.Object == "Mutation" {
		resolve := next
		next = func(ctx context.Context) (any, error) { return graph.AroundMutation(ctx, fc, resolve) }
	}
	if !o.traced(ctx, fc) {
		return next(ctx)
	}
	ctx, span := o.tracer.Start(ctx, fc.Object+"."+fc.Field.Name, trace.WithAttributes(
		attribute.String("graphql.field.path", fc.Path().String()),
	))
	defer span.End()
	res, err := next(ctx)
	if err != nil {
		span.SetStatus(codes.Error, string(apperr.CodeOf(err)))
	}
	return res, err
}
