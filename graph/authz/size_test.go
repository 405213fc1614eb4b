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
