package loaders

import (
	"context"
	"slices"
	"strings"
	"sync"

	"entgo.io/ent/dialect/sql"
	"github.com/vikstrous/dataloadgen"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/assignment"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/predicate"
)

// holderLoaders are the Holders loaders of one request, one per selection.
type holderLoaders struct {
	mu sync.Mutex
	m  map[any]*HolderLoader
}

// HolderLoader loads the members holding roles for one `Role.members`
// selection (the query document's field: the same for every role of a
// list), filtered by its `where`, in id order.
type HolderLoader struct {
	loader *dataloadgen.Loader[string, []*ent.Member]
	mu     sync.Mutex
	// announced are the roles the selection will be asked about: the page
	// of roles its list holds. The first load loads them all, so that the
	// statements do not depend on how the loads are timed.
	announced []string
	done      map[string][]*ent.Member
}

func (l *Loaders) holderLoader(selection any) *HolderLoader {
	h := l.holders
	h.mu.Lock()
	defer h.mu.Unlock()
	hl, ok := h.m[selection]
	if !ok {
		hl = &HolderLoader{done: map[string][]*ent.Member{}}
		h.m[selection] = hl
	}
	return hl
}

// AnnounceHolders tells a selection's loader which roles its list holds,
// before any is asked about.
func (l *Loaders) AnnounceHolders(selection any, roleIDs []string) {
	hl := l.holderLoader(selection)
	hl.mu.Lock()
	hl.announced = append(hl.announced, roleIDs...)
	hl.mu.Unlock()
}

// Holders returns the loader of a selection; filter is its `where`.
func (l *Loaders) Holders(selection any, filter func(*ent.MemberQuery) (*ent.MemberQuery, error)) *HolderLoader {
	hl := l.holderLoader(selection)
	hl.mu.Lock()
	defer hl.mu.Unlock()
	if hl.loader == nil {
		client := l.client
		hl.loader = dataloadgen.NewMappedLoader(func(ctx context.Context, roleIDs []string) (map[string][]*ent.Member, error) {
			return hl.load(ctx, client, filter, roleIDs)
		}, dataloadgen.WithWait(wait), dataloadgen.WithBatchCapacity(1000))
	}
	return hl
}

// Load returns the members holding a role.
func (hl *HolderLoader) Load(ctx context.Context, roleID string) ([]*ent.Member, error) {
	return hl.loader.Load(ctx, roleID)
}

// Loaded returns every member loaded so far, once each: what the fields of
// the selection's members will ask the other loaders about.
func (hl *HolderLoader) Loaded() []*ent.Member {
	hl.mu.Lock()
	defer hl.mu.Unlock()
	seen := map[string]bool{}
	var out []*ent.Member
	for _, ms := range hl.done {
		for _, m := range ms {
			if !seen[m.ID] {
				seen[m.ID] = true
				out = append(out, m)
			}
		}
	}
	slices.SortFunc(out, func(a, b *ent.Member) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// load reads the holders of roleIDs and of the announced roles not read yet,
// in one statement, and answers roleIDs.
func (hl *HolderLoader) load(ctx context.Context, client *ent.Client, filter func(*ent.MemberQuery) (*ent.MemberQuery, error), roleIDs []string) (map[string][]*ent.Member, error) {
	hl.mu.Lock()
	var need []string
	for _, id := range append(slices.Clone(roleIDs), hl.announced...) {
		if _, ok := hl.done[id]; !ok && !slices.Contains(need, id) {
			need = append(need, id)
		}
	}
	hl.mu.Unlock()
	if len(need) > 0 {
		q, err := filter(client.Member.Query().Where(holdingAny(need)))
		if err != nil {
			return nil, err
		}
		rows, err := q.Order(ent.Asc(member.FieldID)).All(ctx)
		if err != nil {
			return nil, err
		}
		// The rows' roles among need, by role (not WithAssignments: it
		// would ask by member id, a bind parameter a holder).
		held, err := client.Assignment.Query().Where(assignment.RoleIDIn(need...)).
			Select(assignment.FieldMemberID, assignment.FieldRoleID).All(ctx)
		if err != nil {
			return nil, err
		}
		rolesOf := make(map[string][]string, len(rows))
		for _, a := range held {
			rolesOf[a.MemberID] = append(rolesOf[a.MemberID], a.RoleID)
		}
		got := make(map[string][]*ent.Member, len(need))
		for _, id := range need {
			got[id] = []*ent.Member{}
		}
		for _, m := range rows {
			for _, id := range rolesOf[m.ID] {
				got[id] = append(got[id], m)
			}
		}
		hl.mu.Lock()
		for id, ms := range got {
			hl.done[id] = ms
		}
		hl.mu.Unlock()
	}
	hl.mu.Lock()
	defer hl.mu.Unlock()
	out := make(map[string][]*ent.Member, len(roleIDs))
	for _, id := range roleIDs {
		out[id] = hl.done[id]
	}
	return out, nil
}

// holdingAny is members holding one of roleIDs, as `id IN (SELECT member_id
// FROM assignments WHERE role_id IN …)`: ent's HasAssignmentsWith is a
// correlated EXISTS, which SQLite answers by scanning every member of every
// account (160 ms at 135,000 members), where this reads the roles' index.
func holdingAny(roleIDs []string) predicate.Member {
	return func(s *sql.Selector) {
		t := sql.Table(assignment.Table)
		ids := make([]any, len(roleIDs))
		for i, id := range roleIDs {
			ids[i] = id
		}
		s.Where(sql.In(s.C(member.FieldID),
			sql.Select(t.C(assignment.FieldMemberID)).From(t).Where(sql.In(t.C(assignment.FieldRoleID), ids...))))
	}
}
