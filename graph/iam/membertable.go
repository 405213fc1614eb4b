package iam

import (
	"cmp"
	"slices"
	"sort"
	"sync/atomic"

	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/graph/authz"
)

// memberTable is a model's members: their rows sorted by member id, and the
// rows' indexes sorted by user id, both searched by bisection; and the
// distinct sets of roles they hold, each compiled once into the subject
// every member holding it shares. Two maps took 8.4 KB of a warm model of
// 50 members; the slices take 3.8 KB, and the garbage collector scans a
// few objects instead of two tables.
type memberTable struct {
	rows   []memberRow // by ID
	byUser []int32     // indexes into rows, by the rows' UserID
	sets   *heldSets
}

// memberRow is a member, its status as an index into memberStatuses, and
// the roles it holds as an index into its table's sets: 40 bytes, where a
// MemberRef and a list of roles took 80.
type memberRow struct {
	ID, UserID string
	status     uint8
	set        int32
}

// memberStatuses are the statuses a memberRow can name.
var memberStatuses = [...]member.Status{member.StatusACTIVE, member.StatusINVITED, member.StatusSUSPENDED, member.StatusREMOVED}

// rowOf is a member's row, without its set.
func rowOf(ref MemberRef) memberRow {
	st := slices.Index(memberStatuses[:], ref.Status)
	if st < 0 {
		st = len(memberStatuses) // a status this build does not know: none of them (not ACTIVE)
	}
	return memberRow{ID: ref.ID, UserID: ref.UserID, status: uint8(st)}
}

// Status is the member's status.
func (r memberRow) Status() member.Status {
	if int(r.status) < len(memberStatuses) {
		return memberStatuses[r.status]
	}
	return ""
}

// ref is what a model tells of the member.
func (r memberRow) ref() MemberRef { return MemberRef{ID: r.ID, UserID: r.UserID, Status: r.Status()} }

// heldRow is a member with the indexes into Roles of the roles it holds,
// sorted: what a table is made of.
type heldRow struct {
	MemberRef
	held []uint16
}

// newMemberTable indexes rows, which it sorts.
func newMemberTable(in []heldRow) memberTable {
	slices.SortFunc(in, func(a, b heldRow) int { return cmp.Compare(a.ID, b.ID) })
	held := make([][]uint16, len(in))
	for i, r := range in {
		held[i] = r.held
	}
	sets := newHeldSets(held)
	rows := make([]memberRow, len(in))
	ids := make([]*string, 0, 2*len(in))
	for i, r := range in {
		rows[i] = rowOf(r.MemberRef)
		rows[i].set = sets.find(r.held)
		ids = append(ids, &rows[i].ID, &rows[i].UserID)
	}
	packStrings(ids)
	byUser := make([]int32, len(rows))
	for i := range byUser {
		byUser[i] = int32(i)
	}
	slices.SortFunc(byUser, func(a, b int32) int { return cmp.Compare(rows[a].UserID, rows[b].UserID) })
	return memberTable{rows: rows, byUser: byUser, sets: sets}
}

// remapped is the table with every set of roles given by remap (the same
// roles at their indexes into another model's Roles, sorted): the same
// members in the same order, so the index by user still holds.
func (t memberTable) remapped(remap func([]uint16) []uint16) memberTable {
	held := make([][]uint16, t.sets.len())
	for i := range held {
		held[i] = remap(t.sets.at(int32(i)))
	}
	sets := newHeldSets(held)
	rows := make([]memberRow, len(t.rows))
	for i, r := range t.rows {
		rows[i] = r
		rows[i].set = sets.find(held[r.set])
	}
	return memberTable{rows: rows, byUser: t.byUser, sets: sets}
}

// with is the table with changed in place of the rows of the same members,
// or added: a member write's next table, made without reading the other
// members again. Their rows are copied, their sets renumbered among the
// old and the new ones; a set no member holds any more stays until the
// account's model is next read whole. The roles' indexes must name the same
// roles as the table's (roles unchanged, or appended to).
func (t memberTable) with(changed []heldRow) memberTable {
	held := make([][]uint16, 0, t.sets.len()+len(changed))
	for i := range t.sets.len() {
		held = append(held, t.sets.at(int32(i)))
	}
	for _, r := range changed {
		held = append(held, r.held)
	}
	sets := newHeldSets(held)
	sets.adopt(t.sets)
	renumber := make([]int32, t.sets.len())
	for i := range renumber {
		renumber[i] = sets.find(t.sets.at(int32(i)))
	}
	rows := make([]memberRow, len(t.rows), len(t.rows)+len(changed))
	for i, r := range t.rows {
		r.set = renumber[r.set]
		rows[i] = r
	}
	byUser := t.byUser
	for _, c := range changed {
		row := rowOf(c.MemberRef)
		row.set = sets.find(c.held)
		i, found := slices.BinarySearchFunc(rows, row.ID, func(r memberRow, id string) int { return cmp.Compare(r.ID, id) })
		if found && rows[i].UserID == row.UserID { // a member's user never changes
			rows[i] = row
			continue
		}
		if found {
			rows[i] = row
		} else {
			rows = slices.Insert(rows, i, row)
		}
		byUser = reindexUser(rows, byUser, int32(i), found)
	}
	return memberTable{rows: rows, byUser: byUser, sets: sets}
}

// reindexUser is byUser after rows[i] was inserted (or, found, replaced by
// a row of another user): a new slice, the indexes past i shifted.
func reindexUser(rows []memberRow, byUser []int32, i int32, found bool) []int32 {
	out := make([]int32, 0, len(byUser)+1)
	for _, j := range byUser {
		switch {
		case found && j == i:
			continue // placed again below
		case !found && j >= i:
			j++
		}
		out = append(out, j)
	}
	at, _ := slices.BinarySearchFunc(out, rows[i].UserID, func(j int32, id string) int { return cmp.Compare(rows[j].UserID, id) })
	return slices.Insert(out, at, i)
}

// get returns the member with this id.
func (t memberTable) get(id string) (memberRow, bool) {
	i, ok := slices.BinarySearchFunc(t.rows, id, func(r memberRow, id string) int { return cmp.Compare(r.ID, id) })
	if !ok {
		return memberRow{}, false
	}
	return t.rows[i], true
}

// ofUser returns the user's member.
func (t memberTable) ofUser(userID string) (memberRow, bool) {
	i, ok := slices.BinarySearchFunc(t.byUser, userID, func(j int32, id string) int { return cmp.Compare(t.rows[j].UserID, id) })
	if !ok {
		return memberRow{}, false
	}
	return t.rows[t.byUser[i]], true
}

// heldSets are distinct sets of roles, as sorted indexes into a model's
// Roles, in lexical order: set 0 is the empty set. Each set's subject is
// compiled when first asked for and kept. Flat slices searched by
// bisection, not a map keyed by the sets: a map and its keys took 2.7 KB of
// a warm model whose 50 members hold 45 sets, these take under 1 KB, and a
// member's subject is found without making a key.
type heldSets struct {
	roles []uint16 // the sets' role indexes, one set after another
	ends  []uint32 // where each set ends in roles
	subs  []atomic.Pointer[authz.Subject]
}

// newHeldSets makes the distinct sets of held, and the empty set.
func newHeldSets(held [][]uint16) *heldSets {
	sorted := append(make([][]uint16, 0, len(held)+1), nil)
	sorted = append(sorted, held...)
	slices.SortFunc(sorted, slices.Compare[[]uint16])
	sorted = slices.CompactFunc(sorted, slices.Equal[[]uint16])
	hs := &heldSets{ends: make([]uint32, len(sorted)), subs: make([]atomic.Pointer[authz.Subject], len(sorted))}
	n := 0
	for _, s := range sorted {
		n += len(s)
	}
	hs.roles = make([]uint16, 0, n)
	for i, s := range sorted {
		hs.roles = append(hs.roles, s...)
		hs.ends[i] = uint32(len(hs.roles))
	}
	return hs
}

func (hs *heldSets) len() int { return len(hs.ends) }

// at returns set i.
func (hs *heldSets) at(i int32) []uint16 {
	start := uint32(0)
	if i > 0 {
		start = hs.ends[i-1]
	}
	return hs.roles[start:hs.ends[i]:hs.ends[i]]
}

// find returns the index of the set held (sorted), or -1.
func (hs *heldSets) find(held []uint16) int32 {
	i := sort.Search(hs.len(), func(i int) bool { return slices.Compare(hs.at(int32(i)), held) >= 0 })
	if i < hs.len() && slices.Equal(hs.at(int32(i)), held) {
		return int32(i)
	}
	return -1
}

// adopt takes the subjects old has compiled for the sets both hold: old's
// role indexes must name the same roles, compiled alike (a model whose
// roles are unchanged, or appended to).
func (hs *heldSets) adopt(old *heldSets) {
	for i := range hs.len() {
		if j := old.find(hs.at(int32(i))); j >= 0 {
			if s := old.subs[j].Load(); s != nil {
				hs.subs[i].Store(s)
			}
		}
	}
}
