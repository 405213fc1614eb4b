package iam

import (
	"slices"
	"strings"
	"testing"
)

func indexRoles(keys ...string) []modelRole {
	roles := make([]modelRole, len(keys))
	for i, k := range keys {
		roles[i] = modelRole{ID: "role_" + k, Key: k}
	}
	return roles
}

// checkIndex fails unless every role of roles is found at its index by id and
// by key, the lists are in order, and the names in absent are not found.
func checkIndex(t *testing.T, x *roleIndex, roles []modelRole, absent ...string) {
	t.Helper()
	for i, r := range roles {
		if j, ok := x.find(r.ID, false); !ok || j != i {
			t.Errorf("find(%s) = %d, %v; want %d", r.ID, j, ok, i)
		}
		if j, ok := x.find(r.Key, true); !ok || j != i {
			t.Errorf("find(key %s) = %d, %v; want %d", r.Key, j, ok, i)
		}
	}
	for _, name := range absent {
		if j, ok := x.find(name, true); ok && j < len(roles) && roles[j].Key == name {
			t.Errorf("key %s found at %d", name, j)
		}
	}
	for _, by := range []struct {
		sorted []int32
		of     func(*modelRole) string
	}{{x.byID, roleID}, {x.byKey, roleKey}} {
		if len(by.sorted) != len(roles) || !slices.IsSortedFunc(by.sorted, func(a, b int32) int { return strings.Compare(by.of(&x.roles[a]), by.of(&x.roles[b])) }) {
			t.Errorf("index %v is not the roles in order", by.sorted)
		}
	}
}

// Roles appended to a shared index are found by id and key; a successor
// whose change failed after appending (an ENFORCE rule refused the new role,
// see runTx) leaves nothing the next append could mistake for its role.
func TestRoleIndex_AppendsAndASuccessorNeverInstalled(t *testing.T) {
	roles := indexRoles("m", "d", "t")
	x := newRoleIndex(roles)
	checkIndex(t, x, roles)

	refused := append(roles, indexRoles("zz")...)
	x.add(refused, 3)
	checkIndex(t, x, refused)

	next := append(roles[:3:3], indexRoles("aa", "p")...)
	x.add(next, 3)
	x.add(next, 4)
	checkIndex(t, x, next, "zz")
}
