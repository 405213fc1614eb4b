package authz

import (
	"testing"
	"unsafe"
)

// A model keeps one Subject per set of roles its members hold: tens per
// account, thousands of accounts (issue 13's memory per warm account). What
// few subjects have (constrained roles, masks, the keys of all roles when
// they differ from the unconstrained ones) lives in subjectExtra.
func TestSubject_FitsSixtyFourBytes(t *testing.T) {
	if n := unsafe.Sizeof(Subject{}); n > 64 {
		t.Fatalf("a Subject takes %d bytes, more than the 64 of its size class", n)
	}
}

// allKeys is open itself unless a role is constrained: a constrained role's
// keys count among all the subject's keys, not among the open ones.
func TestSubject_AllKeysIncludeConstrainedRoles(t *testing.T) {
	p := NewPolicy([]Permission{{Key: "a.read"}, {Key: "b.read"}}, []string{"a.read", "b.read"})
	open := p.Subject([]Role{{ID: "r1", Key: "r1", Grants: []string{"a.read"}}})
	if open.x.all != nil || len(open.allKeys().keys(p.grants)) != 1 {
		t.Fatalf("unconstrained subject: all %v, keys %v", open.x.all, open.allKeys().keys(p.grants))
	}
	mixed := p.Subject([]Role{
		{ID: "r1", Key: "r1", Grants: []string{"a.read"}},
		{ID: "r2", Key: "r2", Grants: []string{"b.read"}, Constraints: map[string][]string{"region": {"eu"}}},
	})
	if got := mixed.allKeys().keys(p.grants); len(got) != 2 {
		t.Fatalf("all keys with a constrained role: %v, want both", got)
	}
	if got := mixed.open.keys(p.grants); len(got) != 1 || got[0] != "a.read" {
		t.Fatalf("open keys with a constrained role: %v, want a.read only", got)
	}
}

// A decision works out how it was granted only when asked (D1's grantedBy):
// answering whether follows no role's walk and keeps no trail; asking then
// gives the path, through the constrained role when only it applies.
func TestD1_APathIsWorkedOutWhenAsked(t *testing.T) {
	p := seedPolicy()
	products := p.Compile(Role{ID: "r1", Key: "all", Grants: []string{"products.all"}})
	scoped := p.Compile(Role{ID: "r2", Key: "eu", Grants: []string{"governance:approve"}, Constraints: map[string][]string{"region": {"eu"}}})
	sub := p.SubjectOf([]*Expansion{products, scoped})
	d := sub.Decide("identity.flows.read", nil)
	c := sub.Decide("attestations:revoke", Resource{"region": "eu"})
	if !d.Allowed || !c.Allowed {
		t.Fatalf("denied: %+v, %+v", d, c)
	}
	if products.trails.Load() != nil || scoped.trails.Load() != nil {
		t.Fatal("a decision walked its roles before its path was asked")
	}
	eq(t, "path", *d.GrantedBy(), Path{RoleID: "r1", RoleKey: "all", Grant: "products.all", Chain: []string{"products.all", "identity.flows.read"}})
	eq(t, "constrained path", *c.GrantedBy(), Path{RoleID: "r2", RoleKey: "eu", Grant: "governance:approve", Chain: []string{"governance:approve", "attestations:revoke"}})
	if no := sub.Decide("attestations:revoke", Resource{"region": "us"}); no.Allowed || no.Reason != ConstraintMismatch || no.GrantedBy() != nil {
		t.Fatalf("another region: %+v, path %+v", no, no.GrantedBy())
	}
}

// A model keeps one Expansion per role (issue 13's memory per warm
// account): what few roles have (excludes, exactness, masks) lives in
// expansionExtra, and most roles share none.
func TestExpansion_FitsItsSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(Expansion{}); n > 112 {
		t.Fatalf("an Expansion takes %d bytes, more than the 112 of its size class", n)
	}
	p := seedPolicy()
	if ex := p.Compile(Role{ID: "r", Key: "r", Grants: []string{"checks.run", "identity.*"}}); ex.x != nil {
		t.Fatalf("a role of grants only keeps %+v", ex.x)
	}
	if ex := p.Compile(Role{ID: "r", Key: "r", Grants: []string{"mask:member.email"}}); ex.x == nil || len(ex.Masks()) != 1 {
		t.Fatalf("a role of a mask: %+v", ex.x)
	}
}
