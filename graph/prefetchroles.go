package graph

import (
	"context"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/graph/loaders"
)

// prefetchRoles prepares what a page of roles' fields will load, so that
// their statements do not depend on how the loads are timed: holder counts
// in one batch, and the roles each `members` selection will be asked about.
func prefetchRoles(ctx context.Context, conn *ent.RoleConnection) error {
	if conn == nil || len(conn.Edges) == 0 {
		return nil
	}
	ids := make([]string, len(conn.Edges))
	for i, e := range conn.Edges {
		ids[i] = e.Node.ID
	}
	l := loaders.For(ctx)
	for _, f := range collected(ctx, "edges", "node", "members") {
		l.AnnounceHolders(f.Field, ids)
	}
	if !requested(ctx, "edges", "node", "holderCount") {
		return nil
	}
	_, err := l.HolderCount.LoadAll(ctx, ids)
	return err
}
