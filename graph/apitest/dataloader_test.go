package apitest

import (
	"fmt"
	"testing"
)

// SPEC §11: the SQL statements of a request grow with the query's depth,
// never with the number of rows.
func TestDataloaders_StatementsDoNotGrowWithRows(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		const dashboard = `query($id: ID!) { account(id: $id) { members(first: 100) { totalCount edges { node {
			id email name status account { slug } roles { key name grants holderCount effectivePermissions } } } } } }`
		count := func(members int) int64 {
			a := e.newAccount(fmt.Sprintf("dl%d", members), nil)
			role := e.createRole(a.Owner, a.ID, "Chat", []string{"AgentChat", "identity.*"})
			for i := 1; i < members; i++ {
				e.addMember(a.Owner, a.ID, fmt.Sprintf("m%d@dl.test", i), role, a.DefaultAccessID)
			}
			e.ok(a.Owner, dashboard, map[string]any{"id": a.ID}) // warm-up
			r, n := e.fewestStatements(a.Owner, dashboard, map[string]any{"id": a.ID})
			if got := r.Get("data.account.members.edges.#").Int(); got != int64(members) {
				t.Fatalf("got %d members, want %d", got, members)
			}
			t.Logf("%s: %d members → %d SQL statements", e.Dialect, members, n)
			return n
		}
		small, large := count(5), count(100)
		if small != large {
			t.Fatalf("statements grow with rows: %d for 5 members, %d for 100", small, large)
		}
	})
}

// SPEC §11 for Role.members: a page of roles with their holders (and the
// holders' fields) takes as many statements for 3 roles of 2 holders as for
// 30 roles of 20.
func TestDataloaders_RoleHoldersDoNotGrowWithRolesOrHolders(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		const holders = `query($id: ID!) { account(id: $id) { roles(first: 35) { edges { node { key holderCount
			members(first: 5, where: {status: ACTIVE}) { totalCount pageInfo { hasNextPage } edges { node { id email roles { key } } } } } } } } }`
		count := func(roles, each int) int64 {
			a := e.newAccount(fmt.Sprintf("rh%d", roles), nil)
			for r := range roles {
				id := e.createRole(a.Owner, a.ID, fmt.Sprintf("Role %d", r), []string{"AgentChat"})
				for m := range each {
					e.addMember(a.Owner, a.ID, fmt.Sprintf("m%d-%d@rh.test", r, m), id)
				}
			}
			e.ok(a.Owner, holders, map[string]any{"id": a.ID}) // warm-up
			r, n := e.fewestStatements(a.Owner, holders, map[string]any{"id": a.ID})
			if got := r.Get(`data.account.roles.edges.#(node.key=="role_0").node.members.totalCount`).Int(); got != int64(each) {
				t.Fatalf("holders of role_0: %s", r)
			}
			t.Logf("%s: %d roles × %d holders → %d SQL statements", e.Dialect, roles, each, n)
			return n
		}
		small, large := count(3, 2), count(30, 20)
		if small != large {
			t.Fatalf("statements grow with rows: %d for 3 roles × 2, %d for 30 × 20", small, large)
		}
	})
}
