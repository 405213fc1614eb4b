package loaders

import (
	"context"
	"sync"

	"github.com/vikstrous/dataloadgen"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/assignment"
	"github.com/gatehouse-iam/gatehouse/ent/member"
)

// holderLoaders are the Holders loaders of one request, one per selection.
type holderLoaders struct {
	mu sync.Mutex
	m  map[any]*dataloadgen.Loader[string, []*ent.Member]
}

// Holders maps a role id to the members holding it that filter keeps, in id
// order. Every `Role.members` field of one selection (selection: the query
// document's field, the same for each role of a list) shares the loader, so
// a page of roles loads its holders in one statement.
func (l *Loaders) Holders(selection any, filter func(*ent.MemberQuery) (*ent.MemberQuery, error)) *dataloadgen.Loader[string, []*ent.Member] {
	h := l.holders
	h.mu.Lock()
	defer h.mu.Unlock()
	if ld, ok := h.m[selection]; ok {
		return ld
	}
	client := l.client
	ld := dataloadgen.NewMappedLoader(func(ctx context.Context, roleIDs []string) (map[string][]*ent.Member, error) {
		q, err := filter(client.Member.Query().Where(member.HasAssignmentsWith(assignment.RoleIDIn(roleIDs...))))
		if err != nil {
			return nil, err
		}
		rows, err := q.WithAssignments(func(aq *ent.AssignmentQuery) { aq.Where(assignment.RoleIDIn(roleIDs...)) }).
			Order(ent.Asc(member.FieldID)).All(ctx)
		if err != nil {
			return nil, err
		}
		out := make(map[string][]*ent.Member, len(roleIDs))
		for _, id := range roleIDs {
			out[id] = []*ent.Member{}
		}
		for _, m := range rows {
			for _, a := range m.Edges.Assignments {
				out[a.RoleID] = append(out[a.RoleID], m)
			}
		}
		return out, nil
	}, dataloadgen.WithWait(wait), dataloadgen.WithBatchCapacity(1000))
	h.m[selection] = ld
	return ld
}
