package iam

import (
	"slices"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/oklog/ulid/v2"

	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
	"github.com/gatehouse-iam/gatehouse/graph/authz"
)

// memberTable is a model's members: their rows sorted by member id, and the
// rows' indexes sorted by user id, both searched by bisection (in idKey's
// order); and the distinct sets of roles they hold (heldSets). Two maps took
// 8.4 KB of a warm model of 50 members; the slices take 2.6 KB, and the
// garbage collector scans a few objects instead of two tables.
type memberTable struct {
	rows   []memberRow // by id
	byUser []int32     // indexes into rows, by the rows' user
	sets   *heldSets
}

// memberRow is a member: its id and its user's, packed (idKey), its status
// as an index into memberStatuses, and the roles it holds as an index into
// its table's sets. 48 bytes, where a MemberRef and a list of roles took 80
// and the ids' text 60 more.
type memberRow struct {
	id, user ulid.ULID
	odd      *memberText // the ids that do not pack (nil: both do)
	status   uint8
	set      int32
}

// memberText is the keys of a row's ids when one does not pack.
type memberText struct{ id, user idKey }

// memberStatuses are the statuses a memberRow can name.
var memberStatuses = [...]member.Status{member.StatusACTIVE, member.StatusINVITED, member.StatusSUSPENDED, member.StatusREMOVED}

// rowOf is a member's row, without its set.
func rowOf(ref MemberRef) memberRow {
	st := slices.Index(memberStatuses[:], ref.Status)
	if st < 0 {
		st = len(memberStatuses) // a status this build does not know: none of them (not ACTIVE)
	}
	r := memberRow{status: uint8(st)}
	id, user := keyOf(ids.Member, ref.ID), keyOf(ids.User, ref.UserID)
	r.id, r.user = id.u, user.u
	if id.odd || user.odd { // kept as copies: ref's strings may be slices of larger ones
		id.text, user.text = strings.Clone(id.text), strings.Clone(user.text)
		r.odd = &memberText{id: id, user: user}
	}
	return r
}

// idKey is the key of the member's id.
func (r memberRow) idKey() idKey {
	if r.odd != nil {
		return r.odd.id
	}
	return idKey{u: r.id}
}

// userKey is the key of the member's user id.
func (r memberRow) userKey() idKey {
	if r.odd != nil {
		return r.odd.user
	}
	return idKey{u: r.user}
}

// ID is the member's id.
func (r memberRow) ID() string { return r.idKey().string(ids.Member) }

// UserID is the member's user id.
func (r memberRow) UserID() string { return r.userKey().string(ids.User) }

// Status is the member's status.
func (r memberRow) Status() member.Status {
	if int(r.status) < len(memberStatuses) {
		return memberStatuses[r.status]
	}
	return ""
}

// ref is what a model tells of the member.
func (r memberRow) ref() MemberRef {
	return MemberRef{ID: r.ID(), UserID: r.UserID(), Status: r.Status()}
}

// heldRow is a member with the indexes into roles of the roles it holds,
// sorted: what a table is made of.
type heldRow struct {
	MemberRef
	held []uint16
}

// newMemberTable indexes rows.
func newMemberTable(in []heldRow) memberTable {
	held := make([][]uint16, len(in))
	for i, r := range in {
		held[i] = r.held
	}
	sets := newHeldSets(held)
	rows := make([]memberRow, len(in))
	for i, r := range in {
		rows[i] = rowOf(r.MemberRef)
		rows[i].set = sets.find(r.held)
	}
	slices.SortFunc(rows, func(a, b memberRow) int { return a.idKey().compare(b.idKey()) })
	sets.count(rows)
	byUser := make([]int32, len(rows))
	for i := range byUser {
		byUser[i] = int32(i)
	}
	slices.SortFunc(byUser, func(a, b int32) int { return rows[a].userKey().compare(rows[b].userKey()) })
	return memberTable{rows: rows, byUser: byUser, sets: sets}
}

// remapped is the table with every set of roles given by remap (the same
// roles at their indexes into another model's roles, sorted): the same
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
	sets.count(rows)
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
		i, found := slices.BinarySearchFunc(rows, row.idKey(), memberRow.compareID)
		if found && rows[i].userKey() == row.userKey() { // a member's user never changes
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
	sets.count(rows)
	sets.adopt(t.sets)
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
	at, _ := slices.BinarySearchFunc(out, rows[i].userKey(), func(j int32, k idKey) int { return rows[j].userKey().compare(k) })
	return slices.Insert(out, at, i)
}

func (r memberRow) compareID(k idKey) int { return r.idKey().compare(k) }

// get returns the member with this id.
func (t memberTable) get(id string) (memberRow, bool) {
	i, ok := slices.BinarySearchFunc(t.rows, keyOf(ids.Member, id), memberRow.compareID)
	if !ok {
		return memberRow{}, false
	}
	return t.rows[i], true
}

// ofUser returns the user's member.
func (t memberTable) ofUser(userID string) (memberRow, bool) {
	k := keyOf(ids.User, userID)
	i, ok := slices.BinarySearchFunc(t.byUser, k, func(j int32, k idKey) int { return t.rows[j].userKey().compare(k) })
	if !ok {
		return memberRow{}, false
	}
	return t.rows[t.byUser[i]], true
}

// heldSets are distinct sets of roles, as sorted indexes into a model's
// roles, in lexical order: set 0 is the empty set. Flat slices searched by
// bisection, not a map keyed by the sets: a map and its keys took 2.7 KB of
// a warm model whose 50 members hold 45 sets, these take under 1 KB, and a
// member's subject is found without making a key.
//
// The subject of a set several members hold (and of the empty set, every
// inactive member's) is compiled when first asked for and kept, shared by
// them. A set one member holds is compiled when asked and not kept: it is
// a few bitwise ORs of its roles' compilations, which the model keeps, and
// keeping it shared nothing. In an account whose members mostly hold
// combinations of their own (the benchmark's: 45 sets for 50 members),
// kept subjects took 5 KB of a 32 KB model.
type heldSets struct {
	roles   []uint16 // the sets' role indexes, one set after another
	ends    []uint32 // where each set ends in roles
	holders []uint8  // members holding each set, counted up to 2 (count)
	subs    []atomic.Pointer[authz.Subject]
}

// newHeldSets makes the distinct sets of held, and the empty set.
func newHeldSets(held [][]uint16) *heldSets {
	sorted := append(make([][]uint16, 0, len(held)+1), nil)
	sorted = append(sorted, held...)
	slices.SortFunc(sorted, slices.Compare[[]uint16])
	sorted = slices.CompactFunc(sorted, slices.Equal[[]uint16])
	hs := &heldSets{ends: make([]uint32, len(sorted)), holders: make([]uint8, len(sorted)),
		subs: make([]atomic.Pointer[authz.Subject], len(sorted))}
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

// count counts the members holding each set, in rows: a table's rows once
// their sets are found.
func (hs *heldSets) count(rows []memberRow) {
	for _, r := range rows {
		if hs.holders[r.set] < 2 {
			hs.holders[r.set]++
		}
	}
}

// shared reports whether set i's subject is kept: several members hold it,
// or it is the empty set.
func (hs *heldSets) shared(i int32) bool { return i == 0 || hs.holders[i] > 1 }

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

// adopt takes the subjects old has compiled for the sets both hold that
// hs keeps (after count): old's role indexes must name the same roles,
// compiled alike (a model whose roles are unchanged, or appended to).
func (hs *heldSets) adopt(old *heldSets) {
	for i := range hs.len() {
		if !hs.shared(int32(i)) {
			continue
		}
		if j := old.find(hs.at(int32(i))); j >= 0 {
			if s := old.subs[j].Load(); s != nil {
				hs.subs[i].Store(s)
			}
		}
	}
}
