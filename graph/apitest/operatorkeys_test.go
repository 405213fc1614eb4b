package apitest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/server"
)

const revokeOperatorKey = `mutation($id: ID!) { revokeOperatorKey(input: {operatorKeyId: $id}) { operatorKeyId revokedAt } }`

// P1: an operator key is checked from memory once warm (no SQL), and its
// revocation is refused from the next request on the server that revoked it
// and, through the change feed, on every other (D6).
func TestP1_OperatorKeysAreCachedAndRevocable(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		var other *env
		if e.Dialect == dialect.Postgres {
			other = e.secondServer(t, server.Config{})
		}
		ctx := auth.WithMeta(t.Context(), auth.Meta{RequestID: "test"})
		k, secret, err := e.Server.Service.CreateOperatorKey(ctx, "second")
		if err != nil {
			t.Fatal(err)
		}
		e.ok(secret, whoAmI, nil)
		// The fewest of three: the feed reporting the platform changes just
		// made (this key, the second server's own) may clear the cache once.
		if _, n := e.fewestStatements(secret, whoAmI, nil); n != 0 {
			t.Errorf("a warm operator key sent %d statements", n)
		}
		if other != nil {
			other.ok(secret, whoAmI, nil)
		}
		r := e.ok(e.Operator, revokeOperatorKey, map[string]any{"id": k.ID})
		if r.Get("data.revokeOperatorKey.revokedAt").String() == "" {
			t.Fatalf("revoke: %s", r)
		}
		if r := e.gql(secret, whoAmI, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("revoked operator key on its server: %s", r)
		}
		e.fails("CONFLICT", e.Operator, revokeOperatorKey, map[string]any{"id": k.ID})
		if r := e.fails("NOT_FOUND", e.Operator, revokeOperatorKey, map[string]any{"id": "opk_01M8MW0000000000000000000"}); !strings.Contains(r.Get("errors.0.message").String(), "not found") {
			t.Fatal(r)
		}
		if other != nil {
			start := time.Now()
			for other.gql(secret, whoAmI, nil).Status != http.StatusUnauthorized {
				if time.Since(start) > 5*time.Second {
					t.Fatal("the other server still accepts a revoked operator key")
				}
				time.Sleep(5 * time.Millisecond)
			}
			t.Logf("the other server refused the revoked key after %s", time.Since(start).Round(time.Millisecond))
		}
	})
}

// P1, D6: a server's own platform change (here the catalog change of a new
// account) already emptied its operator-key cache at commit; the change
// feed reporting that same change later must not empty it again, or every
// operator request after each platform change would read its key twice.
func TestP1_TheFeedDoesNotReplayThisServersPlatformChanges(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.newAccount("p1feed", nil) // platform events: the catalog grows
		e.ok(e.Operator, whoAmI, nil)
		// Let the feed read the platform chain: it polls every 50 ms, and on
		// PostgreSQL the commit's notification wakes it at once.
		time.Sleep(200 * time.Millisecond)
		if _, n := e.statementsOf(e.Operator, whoAmI, nil); n != 0 {
			t.Errorf("a warm operator key sent %d statements after the feed reported this server's own change", n)
		}
	})
}
