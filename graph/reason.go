package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/gatehouse-iam/gatehouse/graph/iam"
)

// RecordReason is a field middleware: a mutation's `input.reason` goes into
// the context, where the audit record of its change finds it. Every mutation
// input has one (iam.Why), so no command passes it along by hand.
func RecordReason(ctx context.Context, next graphql.Resolver) (any, error) {
	if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Object == "Mutation" {
		if in, ok := fc.Args["input"].(iam.Reasoned); ok {
			var err error
			if ctx, err = iam.WithReason(ctx, in.AuditReason()); err != nil {
				return nil, err
			}
		}
	}
	return next(ctx)
}
