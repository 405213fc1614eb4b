package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
)

// watchAccount is accountChanged: iam streams the events; a stream that
// ends for a reason ends the subscription with that error, presented as
// every other error is. A credential found revoked or expired also closes
// the connection, once the error has been sent.
func (r *Resolver) watchAccount(ctx context.Context, accountID string, after *int) (<-chan *ent.AuditEvent, error) {
	var from *int64
	if after != nil {
		v := int64(*after)
		from = &v
	}
	return r.svc.WatchAccount(ctx, accountID, from, func(err error) {
		presented := graphql.WithFreshResponseContext(ctx)
		graphql.AddError(presented, err)
		for _, e := range graphql.GetErrors(presented) {
			transport.AddSubscriptionError(ctx, e)
		}
		endSessionOn(ctx, err)
	})
}

// endSessionOn closes the connection of an operation whose credential was
// found revoked or expired (err UNAUTHENTICATED), once the error is sent: the
// transport sends it, then ends ctx.
func endSessionOn(ctx context.Context, err error) {
	if sess := auth.SessionFrom(ctx); sess != nil && sess.End != nil && apperr.CodeOf(err) == apperr.Unauthenticated {
		go func() { <-ctx.Done(); sess.End() }()
	}
}
