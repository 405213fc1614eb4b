package graph

import (
	"context"
	"errors"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/assignment"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/predicate"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/loaders"
)

// holders is Role.members: the role's page of holders, through a loader
// shared by every role of the list the role is in (which prefetchRoles
// announced), in id order. The loader reads each role's page and no more,
// and counts only when totalCount is asked.
func (r *Resolver) holders(ctx context.Context, obj *ent.Role, after *entgql.Cursor[string], first *int, where *ent.MemberWhereInput) (*ent.MemberConnection, error) {
	var selection any = obj.ID // a role resolved alone
	if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Field.Field != nil {
		selection = fc.Field.Field
	}
	page := loaders.HolderPage{First: *r.page(first, nil), Count: requested(ctx, "totalCount")}
	if after != nil {
		page.After = after.ID
	}
	if where != nil {
		p, err := where.P()
		switch {
		case err == nil:
			page.Where = p
		case !errors.Is(err, ent.ErrEmptyMemberWhereInput):
			return nil, err
		}
	}
	hl := loaders.For(ctx).Holders(selection, page)
	got, err := hl.Load(ctx, obj.ID)
	if err != nil {
		return nil, err
	}
	// Prefetch for every holder loaded with this role's list, not only this
	// page: the first role of the list loads for all, the others find it.
	loaded := hl.Loaded()
	if err := r.prefetchMembers(ctx, holderPage(loaded, nil, len(loaded), len(loaded))); err != nil {
		return nil, err
	}
	return holderPage(got.Members, after, page.First, got.Total), nil
}

// holderPage is the connection of a page of holders read with one more than
// first (which says that a next page exists), as entgql's pages: a previous
// page exists when the page starts after a cursor.
func holderPage(ms []*ent.Member, after *entgql.Cursor[string], first, total int) *ent.MemberConnection {
	conn := &ent.MemberConnection{TotalCount: total, Edges: make([]*ent.MemberEdge, 0, min(first, len(ms)))}
	for _, m := range ms[:min(first, len(ms))] {
		conn.Edges = append(conn.Edges, m.ToEdge(nil))
	}
	conn.PageInfo.HasNextPage = len(ms) > first
	conn.PageInfo.HasPreviousPage = after != nil
	if len(conn.Edges) > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[len(conn.Edges)-1].Cursor
	}
	return conn
}

// holdingRoleWith is MemberWhereInput.hasRoleWith: members holding a role
// that matches every predicate of every input, as entgql's has…With do.
// hasRoleWith: null filters nothing.
func holdingRoleWith(w *ent.MemberWhereInput, roles []*ent.RoleWhereInput) error {
	if roles == nil {
		return nil
	}
	preds := make([]predicate.Role, 0, len(roles))
	for _, rw := range roles {
		p, err := rw.P()
		if errors.Is(err, ent.ErrEmptyRoleWhereInput) {
			continue // {} matches every role
		}
		if err != nil {
			return apperr.New(apperr.BadUserInput, "hasRoleWith: %v", err).With("field", "hasRoleWith")
		}
		preds = append(preds, p)
	}
	var held predicate.Assignment = assignment.HasRole()
	if len(preds) > 0 {
		held = assignment.HasRoleWith(preds...)
	}
	w.AddPredicates(member.HasAssignmentsWith(held))
	return nil
}
