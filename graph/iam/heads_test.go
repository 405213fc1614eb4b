package iam

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
	"github.com/gatehouse-iam/gatehouse/graph/database"
)

// Every write reads its account's chain heads under the account's lock, and
// every model load reads them too: that read must cost the same however
// long the audit log grows — the newest entry of each chain's (account_id,
// seq) index, not a walk over the account's events. Before, a chain of n
// events cost n index probes, and one busy account's writes slowed down
// with every event it wrote.
func TestHeads_DoNotGrowWithTheChain(t *testing.T) {
	forEachDatabase(t, "gatehouse_heads_", func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		const n = 3000
		for _, acc := range []string{"acc_long", "", "acc_other"} {
			events := make([]*ent.AuditEventCreate, n)
			for i := range events {
				events[i] = db.Client.AuditEvent.Create().SetAccountID(acc).SetActorType(auditevent.ActorTypeSYSTEM).
					SetActorID("test").SetAction("test.event").SetSeq(int64(i + 1)).SetHash(fmt.Sprintf("h%d", i+1))
			}
			for from := 0; from < n; from += 500 {
				db.Client.AuditEvent.CreateBulk(events[from : from+500]...).ExecX(ctx)
			}
		}
		s := New(db.Client, db.Dialect, nil)
		h, err := s.readHeads(ctx, db.Client, "acc_long")
		if err != nil || h.account.seq != n || h.platform.seq != n || h.account.hash != fmt.Sprint("h", n) {
			t.Fatalf("heads: %+v %v", h, err)
		}
		if db.Dialect == dialect.Postgres {
			if _, err := db.SQL.Exec(`ANALYZE audit_events`); err != nil {
				t.Fatal(err)
			}
			if read := pgRowsRead(t, db, "audit_events", s.headsQuery(), "acc_long"); read > 10 {
				t.Errorf("reading the heads read %.0f audit_events rows of a %d-event chain", read, n)
			}
			return
		}
		plan := sqlitePlan(t, db, headsQuery, "acc_long")
		if strings.Contains(plan, "CORRELATED") || strings.Count(plan, "USING INDEX auditevent_account_id_seq") != 2 {
			t.Errorf("reading the heads is not two lookups of the (account_id, seq) index:\n%s", plan)
		}
	})
}

// pgRowsRead runs EXPLAIN ANALYZE and sums the rows each scan of relation
// produced or filtered out, over all its loops.
func pgRowsRead(t *testing.T, db *database.DB, relation, query string, args ...any) float64 {
	t.Helper()
	var out string
	if err := db.SQL.QueryRow("EXPLAIN (ANALYZE, FORMAT JSON) "+query, args...).Scan(&out); err != nil {
		t.Fatal(err)
	}
	var plans []struct{ Plan map[string]any }
	if err := json.Unmarshal([]byte(out), &plans); err != nil {
		t.Fatal(err)
	}
	var walk func(node map[string]any) float64
	walk = func(node map[string]any) float64 {
		sum := 0.0
		if node["Relation Name"] == relation {
			rows, _ := node["Actual Rows"].(float64)
			removed, _ := node["Rows Removed by Filter"].(float64)
			loops, _ := node["Actual Loops"].(float64)
			sum += (rows + removed) * loops
		}
		children, _ := node["Plans"].([]any)
		for _, c := range children {
			sum += walk(c.(map[string]any))
		}
		return sum
	}
	return walk(plans[0].Plan)
}

// sqlitePlan is EXPLAIN QUERY PLAN's detail lines.
func sqlitePlan(t *testing.T, db *database.DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.SQL.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	return strings.Join(lines, "\n")
}
