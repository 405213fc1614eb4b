package apitest

import (
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// Queries take turns (GATEHOUSE_ACTIVE_QUERIES): with one turn, 16 clients
// asking at once for members pages, decisions and their own accounts are
// all answered, none refused, none left waiting.
func TestAdmission_OneTurnStillAnswersEveryone(t *testing.T) {
	forEachDBWith(t, server.Config{ActiveQueries: 1, QueryQueueWait: time.Minute}, func(t *testing.T, e *env) {
		a := e.newAccount("turns", nil)
		key := e.ownerKey(a)
		queries := []struct {
			cred, query string
			vars        map[string]any
			want        string
		}{
			{a.Owner, `query($id: ID!) { account(id: $id) { members(first: 10) { edges { node { roles { key } effectivePermissions } } } } }`,
				map[string]any{"id": a.ID}, "data.account.members.edges.0.node.roles"},
			{key, `query($in: AuthorizeInput!) { authorize(input: $in) { allowed } }`,
				map[string]any{"in": map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": a.OwnerID}, "permission": "AgentChat"}},
				"data.authorize.allowed"},
			{a.Owner, `{ viewer { memberships { account { id } } } }`, nil, "data.viewer.memberships.0.account.id"},
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 16 {
			q := queries[i%len(queries)]
			wg.Go(func() {
				<-start
				r := e.gql(q.cred, q.query, q.vars)
				if r.Get("errors").Exists() || !r.Get(q.want).Exists() {
					t.Errorf("%s", r)
				}
			})
		}
		close(start)
		wg.Wait()
	})
}
