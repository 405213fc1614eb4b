package iam

import (
	"slices"
	"strings"
	"sync"
)

// roleIndex finds a role's index in a model's roles by its id or its key. Models
// evolved by appending roles, or without changing them, share one (see
// appendedRoles): an entry is written once, when its role is appended, and
// is read concurrently by the models before it, which ignore it — an index
// is a model's only if it is below the model's length and names the role
// there (indexOf, roleByKey). The roles below an index never change while
// it is shared, so neither do their compilations, nor the subjects of the
// members' sets of them (memberTable).
//
// Two lists of indexes, sorted by the roles' ids and by their keys and
// searched by bisection over roles, the longest roles of the models sharing
// the index (theirs are its prefixes), under a read-write lock: two maps
// took 2 KB of a warm model of 20 roles, the lists take 160 bytes (and
// sync.Maps took 8 KB).
type roleIndex struct {
	mu          sync.RWMutex
	roles       []modelRole
	byID, byKey []int32 // indexes into roles
}

func roleID(r *modelRole) string  { return r.ID }
func roleKey(r *modelRole) string { return r.Key }

// newRoleIndex indexes roles.
func newRoleIndex(roles []modelRole) *roleIndex {
	x := &roleIndex{roles: roles, byID: make([]int32, len(roles)), byKey: make([]int32, len(roles))}
	for i := range roles {
		x.byID[i], x.byKey[i] = int32(i), int32(i)
	}
	slices.SortFunc(x.byID, func(a, b int32) int { return strings.Compare(roles[a].ID, roles[b].ID) })
	slices.SortFunc(x.byKey, func(a, b int32) int { return strings.Compare(roles[a].Key, roles[b].Key) })
	return x
}

// add indexes roles[i], appended to roles[:i], the roles indexed so far.
// Entries from i on are a successor's that was never installed (its change
// failed after appending, see runTx): they are dropped, as the roles there
// now are others.
func (x *roleIndex) add(roles []modelRole, i int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	stale := func(j int32) bool { return int(j) >= i }
	x.roles = roles
	x.byID = x.inserted(slices.DeleteFunc(x.byID, stale), i, roleID)
	x.byKey = x.inserted(slices.DeleteFunc(x.byKey, stale), i, roleKey)
}

// inserted puts i into sorted in the order of.
func (x *roleIndex) inserted(sorted []int32, i int, of func(*modelRole) string) []int32 {
	at, _ := slices.BinarySearchFunc(sorted, of(&x.roles[i]), x.compare(of))
	return slices.Insert(sorted, at, int32(i))
}

func (x *roleIndex) compare(of func(*modelRole) string) func(int32, string) int {
	return func(j int32, name string) int { return strings.Compare(of(&x.roles[j]), name) }
}

// find returns the index of the role whose id (or key, by key) is name.
func (x *roleIndex) find(name string, key bool) (int, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	sorted, of := x.byID, roleID
	if key {
		sorted, of = x.byKey, roleKey
	}
	j, ok := slices.BinarySearchFunc(sorted, name, x.compare(of))
	if !ok {
		return 0, false
	}
	return int(sorted[j]), true
}

// indexOf returns the index of the role with this id in the model's roles.
func (m *Model) indexOf(id string) (int, bool) {
	i, ok := m.roleIdx.find(id, false)
	return i, ok && i < len(m.roles) && m.roles[i].ID == id
}

// hasRoleKey reports whether the model has a role with this key: one
// bisection, where a scan of the roles would hold the account's lock for
// time growing with them (CreateRole checks a new key under it).
func (m *Model) hasRoleKey(key string) bool {
	i, ok := m.roleIdx.find(key, true)
	return ok && i < len(m.roles) && m.roles[i].Key == key
}
