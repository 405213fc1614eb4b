package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/gatehouse-iam/gatehouse/graph/iam"
	"github.com/gatehouse-iam/gatehouse/graph/loaders"
)

// AroundMutation runs a mutation field fc (next) with what every mutation
// needs and none passes along by hand:
//   - its `input.reason` goes into the context, where the audit record of
//     its change finds it (every mutation input has one, iam.Why);
//   - afterwards, the request's loaders are reset, so the payload reads what
//     was just written.
//
// The server calls it from its one field middleware, for mutation fields
// only (see server.fieldMiddleware).
func AroundMutation(ctx context.Context, fc *graphql.FieldContext, next graphql.Resolver) (any, error) {
	if in, ok := fc.Args["input"].(iam.Reasoned); ok {
		var err error
		if ctx, err = iam.WithReason(ctx, in.AuditReason()); err != nil {
			return nil, err
		}
	}
	res, err := next(ctx)
	loaders.Reset(ctx)
	return res, err
}
