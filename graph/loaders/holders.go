package loaders

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"entgo.io/ent/dialect/sql"
	"github.com/vikstrous/dataloadgen"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/assignment"
	"github.com/gatehouse-iam/gatehouse/ent/predicate"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
)

// HolderPage is what one `Role.members` selection asks of every role of its
// list: the arguments are the document's, the same for each role.
type HolderPage struct {
	Where predicate.Member // nil: every holder
	After string           // a member id: the page starts after it; "" at the first
	First int
	Count bool // totalCount is asked
}

// Holders is one role's page: at most First+1 holders in id order (the one
// beyond First says that a next page exists), and, when counted, how many
// holders match.
type Holders struct {
	Members []*ent.Member
	Total   int
}

// holderLoaders are the Holders loaders of one request, one per selection.
type holderLoaders struct {
	mu sync.Mutex
	m  map[any]*HolderLoader
}

// HolderLoader loads the pages of one `Role.members` selection (the query
// document's field: the same for every role of a list).
type HolderLoader struct {
	loader *dataloadgen.Loader[string, Holders]
	// loading is held by a load: a batch formed while another reads the
	// announced roles waits for it and finds its roles read, instead of
	// reading them again (the statements would depend on the timing).
	loading sync.Mutex
	mu      sync.Mutex
	// announced are the roles the selection will be asked about: the page
	// of roles its list holds. The first load loads them all, so that the
	// statements do not depend on how the loads are timed.
	announced []string
	done      map[string]Holders
}

func (l *Loaders) holderLoader(selection any) *HolderLoader {
	h := l.holders
	h.mu.Lock()
	defer h.mu.Unlock()
	hl, ok := h.m[selection]
	if !ok {
		hl = &HolderLoader{done: map[string]Holders{}}
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

// Holders returns the loader of a selection, which reads page of each role
// (the page its first call gives).
func (l *Loaders) Holders(selection any, page HolderPage) *HolderLoader {
	hl := l.holderLoader(selection)
	hl.mu.Lock()
	defer hl.mu.Unlock()
	if hl.loader == nil {
		client := l.client
		hl.loader = dataloadgen.NewMappedLoader(func(ctx context.Context, roleIDs []string) (map[string]Holders, error) {
			return hl.load(ctx, client, page, roleIDs)
		}, dataloadgen.WithWait(wait), dataloadgen.WithBatchCapacity(1000))
	}
	return hl
}

// Load returns a role's page.
func (hl *HolderLoader) Load(ctx context.Context, roleID string) (Holders, error) {
	return hl.loader.Load(ctx, roleID)
}

// Loaded returns every member loaded so far, once each, in id order: what
// the fields of the selection's members will ask the other loaders about.
func (hl *HolderLoader) Loaded() []*ent.Member {
	hl.mu.Lock()
	defer hl.mu.Unlock()
	seen := map[string]bool{}
	var out []*ent.Member
	for _, h := range hl.done {
		for _, m := range h.Members {
			if !seen[m.ID] {
				seen[m.ID] = true
				out = append(out, m)
			}
		}
	}
	slices.SortFunc(out, func(a, b *ent.Member) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// pageRows bounds the holders one statement reads (roles × (First+1)), and
// so the member ids the eager load of their members binds: well under
// SQLite's 32,766 parameters. With the default page size, a page of 99
// roles is one statement.
const pageRows = 10_000

// load reads the pages of roleIDs and of the announced roles not read yet,
// and answers roleIDs: one statement for the pages' assignments, one for
// their members, and one for the counts when they are asked.
func (hl *HolderLoader) load(ctx context.Context, client *ent.Client, page HolderPage, roleIDs []string) (map[string]Holders, error) {
	hl.loading.Lock()
	defer hl.loading.Unlock()
	hl.mu.Lock()
	var need []string
	for _, id := range append(slices.Clone(roleIDs), hl.announced...) {
		if _, ok := hl.done[id]; !ok && !slices.Contains(need, id) {
			need = append(need, id)
		}
	}
	hl.mu.Unlock()
	got := make(map[string]Holders, len(need))
	for chunk := range slices.Chunk(need, max(1, pageRows/(page.First+1))) {
		rows, err := client.Assignment.Query().Where(pagesOf(chunk, page)).WithMember().All(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range rows {
			h := got[a.RoleID]
			h.Members = append(h.Members, a.Edges.Member)
			got[a.RoleID] = h
		}
	}
	var total map[string]int
	if page.Count && len(need) > 0 {
		var err error
		if total, err = countHolders(ctx, client, need, page.Where); err != nil {
			return nil, err
		}
	}
	hl.mu.Lock()
	defer hl.mu.Unlock()
	for _, id := range need {
		h := got[id]
		slices.SortFunc(h.Members, func(a, b *ent.Member) int { return strings.Compare(a.ID, b.ID) })
		h.Total = total[id]
		hl.done[id] = h
	}
	out := make(map[string]Holders, len(roleIDs))
	for _, id := range roleIDs {
		out[id] = hl.done[id]
	}
	return out, nil
}

// pagesOf is the assignments of each role's page: `id IN (SELECT * FROM
// (SELECT id FROM assignments WHERE role_id = ? AND member_id > ? … ORDER BY
// member_id LIMIT First+1) UNION ALL …)`. Each branch reads its role's
// (role_id, member_id) index from the cursor and stops after its page,
// whatever the number of holders; a window function over the roles would
// number every one of them.
func pagesOf(roleIDs []string, page HolderPage) predicate.Assignment {
	return func(s *sql.Selector) {
		var union *sql.Selector
		for i, id := range roleIDs {
			t := sql.Table(assignment.Table)
			branch := sql.Select(t.C(assignment.FieldID)).From(t).Where(sql.EQ(t.C(assignment.FieldRoleID), id))
			if page.After != "" {
				branch.Where(sql.GT(t.C(assignment.FieldMemberID), page.After))
			}
			if page.Where != nil {
				iam.AssignedToMember(page.Where)(branch)
			}
			branch.OrderBy(t.C(assignment.FieldMemberID)).Limit(page.First + 1)
			// SQLite and PostgreSQL take an ORDER BY or LIMIT in a
			// compound select only in a subquery of its own.
			part := sql.Select("*").From(branch.As(fmt.Sprintf("p%d", i)))
			if union == nil {
				union = part
			} else {
				union.UnionAll(part)
			}
		}
		if union == nil {
			s.Where(sql.False())
			return
		}
		s.Where(sql.In(s.C(assignment.FieldID), union))
	}
}

// countHolders counts the holders of each role matching where (nil: all),
// from the (role_id, member_id) index alone when there is no filter.
func countHolders(ctx context.Context, client *ent.Client, roleIDs []string, where predicate.Member) (map[string]int, error) {
	q := client.Assignment.Query().Where(assignment.RoleIDIn(roleIDs...))
	if where != nil {
		q.Where(iam.AssignedToMember(where))
	}
	var rows []struct {
		RoleID string `json:"role_id"`
		Count  int    `json:"count"`
	}
	if err := q.GroupBy(assignment.FieldRoleID).Aggregate(ent.Count()).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	out := make(map[string]int, len(roleIDs))
	for _, id := range roleIDs {
		out[id] = 0
	}
	for _, r := range rows {
		out[r.RoleID] = r.Count
	}
	return out, nil
}
