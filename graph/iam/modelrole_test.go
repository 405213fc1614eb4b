package iam

import (
	"testing"
	"time"
	"unsafe"

	"github.com/gatehouse-iam/gatehouse/ent"
)

// A model answers decisions from what it keeps of its roles (modelRole),
// without making ent rows of them: those are made once, when a caller
// shows the roles, and carry every column (TestWritePath compares them
// with the database's after each kind of write).
func TestModel_DecisionsMakeNoEntRowsOfTheRoles(t *testing.T) {
	m := tableModel(t, [][]int{{0, 1}, {2}, {1, 0}})
	a, err := m.MemberByID(t.Context(), "mem_a")
	if err != nil {
		t.Fatal(err)
	}
	allowed := m.decide(subject{member: a}, "app.b", nil)
	denied := m.decide(subject{member: a}, "app.c", nil)
	if !allowed.Allowed || denied.Allowed {
		t.Fatalf("allowed %+v, denied %+v", allowed, denied)
	}
	if p := allowed.GrantedBy(); p == nil || p.RoleKey != "r1" || !allowed.GrantedByRole() {
		t.Fatalf("path %+v", p)
	}
	if refs := denied.SuggestedRefs(); len(refs) != 1 || refs[0] != (RoleRef{"role_2", "r2"}) {
		t.Fatalf("suggested %+v", refs)
	}
	if m.ents.rows != nil {
		t.Fatal("deciding made ent rows of the roles")
	}

	roles := m.Roles()
	if len(roles) != 3 || &m.Roles()[0] != &roles[0] {
		t.Fatal("the rows are made again for each caller")
	}
	for i, r := range roles {
		if r.ID != m.roles[i].ID || r.Key != m.roles[i].Key || r.Version != 1 || unsafe.StringData(r.AccountID) != unsafe.StringData(m.Account.ID) {
			t.Errorf("row %d: %+v", i, r)
		}
	}
	if _, role := allowed.Explain(); role != roles[1] {
		t.Fatalf("the granting role is %v, want the model's row of r1", role)
	}
	if s := denied.Suggested(); len(s) != 1 || s[0] != roles[2] {
		t.Fatalf("suggested rows %v", s)
	}
}

// A role's times come back as read: the same instant in the same zone, and
// the zero time as zero.
func TestModelRole_KeepsTheTimesAsRead(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	at := time.Date(2026, 12, 1, 16, 0, 0, 123456000, berlin)
	m := &Model{Account: &ent.Account{ID: "acc_1"}}
	m.setRoles([]modelRole{newModelRole(&ent.Role{ID: "role_1", CreatedAt: at, UpdatedAt: at.Add(time.Hour)}), newModelRole(&ent.Role{ID: "role_2"})})
	r := m.Roles()
	if !r[0].CreatedAt.Equal(at) || !r[0].UpdatedAt.Equal(at.Add(time.Hour)) || r[0].CreatedAt.Format(time.RFC3339Nano) != at.Format(time.RFC3339Nano) {
		t.Fatalf("times %v, %v; want %v and an hour later", r[0].CreatedAt, r[0].UpdatedAt, at)
	}
	if !r[1].CreatedAt.IsZero() || !r[1].UpdatedAt.IsZero() {
		t.Fatalf("zero times came back as %v, %v", r[1].CreatedAt, r[1].UpdatedAt)
	}
}

// What a model keeps of a role is smaller than the ent row it kept before.
func TestModelRole_IsSmallerThanTheEntRow(t *testing.T) {
	if n := unsafe.Sizeof(modelRole{}); n > 144 {
		t.Fatalf("a modelRole takes %d bytes, want at most 144", n)
	}
}
