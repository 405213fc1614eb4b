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
			r, n := e.statementsOf(a.Owner, dashboard, map[string]any{"id": a.ID})
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
