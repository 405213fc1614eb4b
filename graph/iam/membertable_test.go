package iam

import (
	"slices"
	"testing"
	"unsafe"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/account"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/graph/authz"
)

func TestHeldSets_FindEverySetOnceAndTheEmptyOneFirst(t *testing.T) {
	hs := newHeldSets([][]uint16{{1, 2}, {0}, {1, 2}, nil, {0, 3}, {}})
	want := [][]uint16{{}, {0}, {0, 3}, {1, 2}}
	if hs.len() != len(want) {
		t.Fatalf("%d sets, want %d (distinct, with the empty one)", hs.len(), len(want))
	}
	for i, w := range want {
		if got := hs.at(int32(i)); !slices.Equal(got, w) {
			t.Errorf("set %d = %v, want %v", i, got, w)
		}
		if got := hs.find(w); got != int32(i) {
			t.Errorf("find(%v) = %d, want %d", w, got, i)
		}
	}
	for _, absent := range [][]uint16{{2}, {0, 1}, {1, 2, 3}, {4}} {
		if got := hs.find(absent); got != -1 {
			t.Errorf("find(%v) = %d, want -1", absent, got)
		}
	}
	if s := hs.at(0); cap(s) != 0 {
		t.Errorf("set 0 has capacity %d: an append to it would write into set 1", cap(s))
	}
}

// tableModel is a model of three roles (r0 grants a, r1 b, r2 c) and the
// members given as role indexes, each ACTIVE unless its index is in off.
func tableModel(t *testing.T, held [][]int, off ...int) *Model {
	t.Helper()
	keys := []string{"app.a", "app.b", "app.c"}
	perms := make([]authz.Permission, len(keys))
	for i, k := range keys {
		perms[i] = authz.Permission{Key: k, Kind: authz.Grant}
	}
	m := &Model{Account: &ent.Account{ID: "acc_1", Status: account.StatusACTIVE}, Policy: authz.NewPolicy(perms, keys)}
	roles := make([]*ent.Role, len(keys))
	for i, k := range keys {
		roles[i] = &ent.Role{ID: "role_" + string(rune('0'+i)), Key: "r" + string(rune('0'+i)), AccountID: "acc_1", Grants: []string{k}, Version: 1}
	}
	m.setRoles(compactRoles(m.Policy, roles))
	m.setMembers(tableMembers(roles, held, off...))
	return m
}

func tableMembers(roles []*ent.Role, held [][]int, off ...int) []*ent.Member {
	mems := make([]*ent.Member, len(held))
	for i, h := range held {
		mem := &ent.Member{ID: "mem_" + string(rune('a'+i)), UserID: "usr_" + string(rune('z'-i)), Status: member.StatusACTIVE}
		if slices.Contains(off, i) {
			mem.Status = member.StatusSUSPENDED
		}
		for _, j := range h {
			mem.Edges.Assignments = append(mem.Edges.Assignments, &ent.Assignment{RoleID: roles[j].ID})
		}
		mems[i] = mem
	}
	return mems
}

func subjectOfMember(t *testing.T, m *Model, id string) *authz.Subject {
	t.Helper()
	e, err := m.MemberByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return e.Subject
}

// Members holding the same roles, in whatever order their assignments come,
// share one compiled subject; so does Subject for those roles; a member who
// is not ACTIVE holds nothing (M1).
func TestMemberTable_MembersHoldingTheSameRolesShareOneSubject(t *testing.T) {
	m := tableModel(t, [][]int{{0, 1}, {1, 0}, {2}, {0, 1}}, 3)
	a, b := subjectOfMember(t, m, "mem_a"), subjectOfMember(t, m, "mem_b")
	if a != b {
		t.Fatal("two members holding r0 and r1 have a subject each")
	}
	if got := a.Permissions(); !slices.Equal(got, []string{"app.a", "app.b"}) {
		t.Fatalf("permissions %v, want app.a and app.b", got)
	}
	if s := m.Subject([]*ent.Role{m.Roles()[1], m.Roles()[0]}); s != a {
		t.Fatal("Subject of the same roles in another order is compiled again")
	}
	if got := subjectOfMember(t, m, "mem_c").Permissions(); !slices.Equal(got, []string{"app.c"}) {
		t.Fatalf("mem_c holds %v, want app.c", got)
	}
	// A set one member holds is compiled when asked, not kept: keeping it
	// would share nothing (heldSets).
	if set := m.members.rowSet("mem_c"); m.members.sets.shared(set) || m.members.sets.subs[set].Load() != nil {
		t.Fatalf("mem_c's own set: kept %v, compiled %v", m.members.sets.shared(set), m.members.sets.subs[set].Load() != nil)
	}
	if subjectOfMember(t, m, "mem_c") == subjectOfMember(t, m, "mem_c") {
		t.Fatal("mem_c's own set has a subject kept")
	}
	if set := m.members.rowSet("mem_a"); !m.members.sets.shared(set) || m.members.sets.subs[set].Load() != a {
		t.Fatal("the set mem_a and mem_b hold is not kept")
	}
	if got := subjectOfMember(t, m, "mem_d").Permissions(); len(got) != 0 {
		t.Fatalf("a SUSPENDED member holds %v", got)
	}
	if s := m.Subject([]*ent.Role{m.Roles()[2], m.Roles()[0]}); !slices.Equal(s.Permissions(), []string{"app.a", "app.c"}) {
		t.Fatalf("a set no member holds: %v", s.Permissions())
	}
	if roles, ok := m.RolesOf("mem_b"); !ok || len(roles) != 2 || roles[0] != m.Roles()[0] || roles[1] != m.Roles()[1] {
		t.Fatalf("RolesOf(mem_b) = %v, %v; want r0, r1", roles, ok)
	}
	if row, ok := m.members.ofUser("usr_x"); !ok || row.ID() != "mem_c" {
		t.Fatalf("ofUser(usr_x) = %v, %v; want mem_c", row, ok)
	}
}

// A model whose members changed, its roles not, keeps the subjects the model
// before it compiled for the sets both hold; one whose roles were read again
// compiles its own, as the members hold them by their new indexes.
func TestMemberTable_SubjectsOutliveAMemberChangeNotARoleChange(t *testing.T) {
	m := tableModel(t, [][]int{{0, 1}, {2}, {1, 0}})
	ab := subjectOfMember(t, m, "mem_a")

	n := &Model{Account: m.Account, Policy: m.Policy}
	n.roles, n.roleIdx, n.exps = m.roles, m.roleIdx, m.expansions()
	n.expOnce.Do(func() {})
	n.setMembers(tableMembers(m.Roles(), [][]int{{0, 1}, {2}, {0, 1}, {1}}))
	n.members.sets.adopt(m.members.sets)
	if subjectOfMember(t, n, "mem_a") != ab || subjectOfMember(t, n, "mem_c") != ab {
		t.Fatal("members still holding r0 and r1 lost the compiled subject")
	}
	if got := subjectOfMember(t, n, "mem_d").Permissions(); !slices.Equal(got, []string{"app.b"}) {
		t.Fatalf("a new set: %v, want app.b", got)
	}

	// The roles read again in another order (r2 first): indexes change.
	r := &Model{Account: m.Account, Policy: m.Policy}
	r.setRoles([]modelRole{m.roles[2], m.roles[0], m.roles[1]})
	r.reindexRows(m)
	got := subjectOfMember(t, r, "mem_a")
	if got == ab || !slices.Equal(got.Permissions(), []string{"app.a", "app.b"}) {
		t.Fatalf("after the roles moved: same subject %v, permissions %v", got == ab, got.Permissions())
	}
	if roles, _ := r.RolesOf("mem_b"); len(roles) != 1 || roles[0].ID != "role_2" {
		t.Fatalf("mem_b holds %v after the roles moved, want role_2", roles)
	}
	if row, ok := r.members.ofUser("usr_y"); !ok || row.ID() != "mem_b" {
		t.Fatalf("ofUser(usr_y) = %v, %v after the roles moved", row, ok)
	}
}

// A row keeps a member's status in a byte, and gives back the status's own
// string; a status it does not know reads as none (so not ACTIVE).
func TestMemberTable_RowsKeepTheStatusInAByte(t *testing.T) {
	for _, st := range memberStatuses {
		r := rowOf(MemberRef{ID: "mem_a", UserID: "usr_a", Status: member.Status(string([]byte(st)))})
		if r.Status() != st || r.ref() != (MemberRef{ID: "mem_a", UserID: "usr_a", Status: st}) {
			t.Errorf("%s: row says %q, %+v", st, r.Status(), r.ref())
		}
	}
	if r := rowOf(MemberRef{ID: "mem_b", Status: "ARCHIVED"}); r.Status() != "" {
		t.Errorf("an unknown status reads %q", r.Status())
	}
	if size := unsafe.Sizeof(memberRow{}); size != 48 {
		t.Errorf("a memberRow takes %d bytes, want 48", size)
	}
}

// A member write's table (with) is the table made from scratch of the same
// members: each member found by id and by user, holding the same roles,
// whatever it replaced or inserted, and the subjects compiled before stay.
func TestMemberTable_WithIsTheTableMadeAgain(t *testing.T) {
	row := func(id, user string, st member.Status, held ...uint16) heldRow {
		return heldRow{MemberRef{ID: id, UserID: user, Status: st}, held}
	}
	base := []heldRow{
		row("mem_b", "usr_m", member.StatusACTIVE, 0),
		row("mem_d", "usr_c", member.StatusACTIVE, 0, 2),
		row("mem_f", "usr_x", member.StatusSUSPENDED, 1),
		row("mem_h", "usr_h", member.StatusACTIVE, 0), // mem_b's set is shared: its subject is kept
	}
	changes := [][]heldRow{
		{row("mem_d", "usr_c", member.StatusACTIVE, 1)},                                                // new roles
		{row("mem_f", "usr_x", member.StatusACTIVE, 1)},                                                // new status
		{row("mem_a", "usr_z", member.StatusINVITED, 0, 1, 2)},                                         // inserted first, a new set
		{row("mem_g", "usr_a", member.StatusACTIVE)},                                                   // inserted last, no roles
		{row("mem_c", "usr_n", member.StatusACTIVE, 2), row("mem_e", "usr_b", member.StatusACTIVE, 0)}, // two
		{row("mem_b", "usr_m", member.StatusREMOVED)},                                                  // removed: no roles
	}
	for i, change := range changes {
		old := newMemberTable(slices.Clone(base))
		old.sets.subs[old.rowSet("mem_b")].Store(&authz.Subject{}) // compiled before the write
		got := old.with(change)
		var all []heldRow
		for _, r := range base {
			if j := slices.IndexFunc(change, func(c heldRow) bool { return c.ID == r.ID }); j >= 0 {
				r = change[j]
			}
			all = append(all, r)
		}
		for _, c := range change {
			if !slices.ContainsFunc(base, func(r heldRow) bool { return r.ID == c.ID }) {
				all = append(all, c)
			}
		}
		want := newMemberTable(slices.Clone(all))
		if len(got.rows) != len(want.rows) {
			t.Fatalf("change %d: %d rows, want %d", i, len(got.rows), len(want.rows))
		}
		for _, r := range all {
			g, ok := got.get(r.ID)
			u, okUser := got.ofUser(r.UserID)
			if !ok || !okUser || u.ID() != r.ID || g.UserID() != r.UserID || g.Status() != r.Status ||
				!slices.Equal(got.sets.at(g.set), r.held) || got.sets.shared(g.set) != want.sets.shared(want.rowSet(r.ID)) {
				t.Errorf("change %d: %s is %+v (by user %+v, %v), roles %v; want %+v", i, r.ID, g, u, okUser, got.sets.at(g.set), r)
			}
		}
		if held := got.sets.at(got.rowSet("mem_b")); slices.Equal(held, []uint16{0}) && got.sets.subs[got.rowSet("mem_b")].Load() == nil {
			t.Errorf("change %d: the subject compiled for mem_b's roles was dropped", i)
		}
	}
}

// rowSet is the index of a member's set.
func (t memberTable) rowSet(id string) int32 {
	r, _ := t.get(id)
	return r.set
}
