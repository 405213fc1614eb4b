package iam

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/role"
	"github.com/gatehouse-iam/gatehouse/graph/authz"
)

// Warm models keep their roles' grants as the catalog's own strings, one
// copy for every account, in lists of their length, and the account's id
// and the kinds as shared strings; a change's row is copied first, so its
// caller's slice is left as it was.
func TestModel_RolesShareTheCatalogsStrings(t *testing.T) {
	key := "iam.roles.read"
	m := &Model{Account: &ent.Account{ID: "acc_1"}, Policy: authz.NewPolicy([]authz.Permission{{Key: key, Kind: authz.Grant}}, []string{key})}
	same := func(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }
	interned := m.Policy.Intern(strings.Clone(key))
	if interned != key || !same(m.Policy.Intern(strings.Clone(key)), interned) {
		t.Fatal("two copies of a key interned to different strings")
	}

	decoded := append(make([]string, 0, 8), strings.Clone(key), "iam.*")
	row := &ent.Role{Grants: decoded, AccountID: strings.Clone(m.Account.ID), Kind: role.Kind(strings.Clone("CUSTOM"))}
	read := compactRoles(m.Policy, []*ent.Role{row})[0]
	if !same(read.Grants[0], interned) || read.Grants[1] != "iam.*" {
		t.Fatalf("read row's grants %q not interned (or a pattern changed)", read.Grants)
	}
	if cap(read.Grants) != 2 || read.system || read.kind() != role.KindCUSTOM {
		t.Fatalf("read row not compacted: grants cap %d, kind %s", cap(read.Grants), read.kind())
	}

	mine := []string{strings.Clone(key)}
	kept := m.detached(&ent.Role{Grants: mine})
	if !same(kept.Grants[0], interned) {
		t.Fatal("a written row's grant is not the catalog's string")
	}
	if same(mine[0], interned) || &mine[0] == &kept.Grants[0] {
		t.Fatal("detached changed, or shares, the caller's grants")
	}
}
