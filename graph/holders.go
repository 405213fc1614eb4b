package graph

import (
	"context"
	"errors"
	"sort"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/assignment"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/predicate"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/loaders"
)

// holders is Role.members: the role's holders through a loader shared by
// every role of the list the role is in (which prefetchRoles announced),
// paged in id order.
func (r *Resolver) holders(ctx context.Context, obj *ent.Role, after *entgql.Cursor[string], first *int, where *ent.MemberWhereInput) (*ent.MemberConnection, error) {
	var selection any = obj.ID // a role resolved alone
	if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Field.Field != nil {
		selection = fc.Field.Field
	}
	hl := loaders.For(ctx).Holders(selection, where.Filter)
	all, err := hl.Load(ctx, obj.ID)
	if err != nil {
		return nil, err
	}
	// Prefetch for every holder loaded with this role's list, not only this
	// page: the first role of the list loads for all, the others find it.
	if err := r.prefetchMembers(ctx, pageByID(hl.Loaded(), nil, len(hl.Loaded()))); err != nil {
		return nil, err
	}
	return pageByID(all, after, *r.page(first, nil)), nil
}

// pageByID is the page of members, sorted by id, after the cursor.
func pageByID(all []*ent.Member, after *entgql.Cursor[string], n int) *ent.MemberConnection {
	start := 0
	if after != nil {
		start = sort.Search(len(all), func(i int) bool { return all[i].ID > after.ID })
	}
	end := min(start+n, len(all))
	conn := &ent.MemberConnection{TotalCount: len(all), Edges: make([]*ent.MemberEdge, 0, end-start)}
	for _, m := range all[start:end] {
		conn.Edges = append(conn.Edges, m.ToEdge(nil))
	}
	conn.PageInfo.HasNextPage = end < len(all)
	conn.PageInfo.HasPreviousPage = start > 0
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
