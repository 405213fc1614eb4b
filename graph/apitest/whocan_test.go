package apitest

import (
	"fmt"
	"testing"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// D5 and SPEC §11: whoCan's statements do not grow with the account's API
// keys. Each key the server had not met yet was read by a statement of its
// own (the model's key lookup), so an account whose CI made 1,000 keys sent
// 1,000 statements for one whoCan. Now its keys are read in one.
func TestD5_WhoCanReadsTheAccountsKeysInOneStatement(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		const who = `query($id: ID!) { account(id: $id) { whoCan(permission: "AgentChat", first: 100) { totalCount } } }`
		count := func(keys int) int64 {
			a := e.newAccount(fmt.Sprintf("whocan%d", keys), nil)
			for i := range keys {
				e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": fmt.Sprintf("ci-%d", i), "permissions": []string{"AgentChat"}})
			}
			// A server that has not met the keys (the one that made them has).
			s := newEnvOn(t, e.Dialect, server.Config{}, e.DB.URL)
			r, tr := s.trackRequest(s.request(a.Owner, who, map[string]any{"id": a.ID}))
			if n := r.Get("data.account.whoCan.totalCount").Int(); n != int64(keys+1) {
				t.Fatalf("whoCan with %d keys: %s", keys, r)
			}
			t.Logf("%s: %d keys → %d SQL statements", e.Dialect, keys, tr.Count())
			return tr.Count()
		}
		if few, many := count(2), count(12); few != many {
			t.Fatalf("statements grow with keys: %d for 2 keys, %d for 12", few, many)
		}
	})
}
