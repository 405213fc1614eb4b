package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/graph/loaders"
)

// requested reports whether the current field's selection reaches path,
// e.g. requested(ctx, "edges", "node", "roles").
func requested(ctx context.Context, path ...string) bool {
	return len(collected(ctx, path...)) > 0
}

// collected returns the fields the current field's selection reaches at
// path, each alias of the last name once.
func collected(ctx context.Context, path ...string) []graphql.CollectedField {
	op := graphql.GetOperationContext(ctx)
	fields := graphql.CollectFieldsCtx(ctx, nil)
	for i, name := range path {
		var next []graphql.CollectedField
		for _, f := range fields {
			if f.Name == name {
				next = append(next, f)
			}
		}
		if len(next) == 0 || i == len(path)-1 {
			return next
		}
		fields = graphql.CollectFields(op, next[0].Selections, nil)
	}
	return nil
}

// prefetchMembers loads, in one batch each, what a page of members' fields
// will ask the loaders for. Batching by time alone can split under load;
// this keeps the statements of a request independent of its rows. The roles
// members hold come from their account's model (heldRoles): only members
// the model has not met yet are read.
func (r *Resolver) prefetchMembers(ctx context.Context, conn *ent.MemberConnection) error {
	if conn == nil || len(conn.Edges) == 0 {
		return nil
	}
	l := loaders.For(ctx)
	var userIDs []string
	for _, e := range conn.Edges {
		userIDs = append(userIDs, e.Node.UserID)
	}
	if requested(ctx, "edges", "node", "email") || requested(ctx, "edges", "node", "name") || requested(ctx, "edges", "node", "user") {
		if _, err := l.User.LoadAll(ctx, userIDs); err != nil {
			return err
		}
	}
	if !requested(ctx, "edges", "node", "roles") && !requested(ctx, "edges", "node", "effectivePermissions") {
		return nil
	}
	var held [][]*ent.Role
	var unknown []string
	for _, e := range conn.Edges {
		md, err := r.svc.Model(ctx, e.Node.AccountID)
		if err != nil {
			return err
		}
		if roles, ok := md.RolesOf(e.Node.ID); ok {
			held = append(held, roles)
		} else {
			unknown = append(unknown, e.Node.ID)
		}
	}
	if len(unknown) > 0 {
		loaded, err := l.RolesByMember.LoadAll(ctx, unknown)
		if err != nil {
			return err
		}
		held = append(held, loaded...)
	}
	if !requested(ctx, "edges", "node", "roles", "holderCount") {
		return nil
	}
	seen := map[string]bool{}
	var roleIDs []string
	for _, roles := range held {
		for _, r := range roles {
			if !seen[r.ID] {
				seen[r.ID] = true
				roleIDs = append(roleIDs, r.ID)
			}
		}
	}
	_, err := l.HolderCount.LoadAll(ctx, roleIDs)
	return err
}
