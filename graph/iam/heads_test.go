package iam

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
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

// On PostgreSQL a change's lock reads the chain heads in the same round trip
// (gatehouse_lock_account). They must be read once the lock is held: a
// change that waited for another must link its event after the other's, or
// the account's chain forks (L2) and the model the change checks is stale
// (D6). The function is VOLATILE, so its heads query takes a snapshot of
// its own, after the lock; with the heads read first (or in the lock's
// statement, whose snapshot predates the wait), the second change sees no
// event and this test fails.
func TestLock_ReadsTheHeadsOnceTheLockIsHeld(t *testing.T) {
	forEachDatabase(t, "gatehouse_lockheads_", func(t *testing.T, db *database.DB) {
		if db.Dialect != dialect.Postgres {
			t.Skip("a SQLite transaction takes the database's write lock as it begins")
		}
		ctx := context.Background()
		db.Client.Account.Create().SetID("acc_lock").SetName("lock").SetSlug("lock").SetDefaultAccessExcludes([]string{}).ExecX(ctx)
		s := New(db.Client, db.Dialect, nil)
		tx1, err := db.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer txHeads.Delete(tx1)
		if err := s.lock(ctx, tx1, "acc_lock"); err != nil {
			t.Fatal(err)
		}
		tx1.AuditEvent.Create().SetAccountID("acc_lock").SetActorType(auditevent.ActorTypeSYSTEM).
			SetActorID("test").SetAction("test.event").SetSeq(1).SetHash("h1").ExecX(ctx)

		tx2, err := db.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx2.Rollback()
		defer txHeads.Delete(tx2)
		locked := make(chan error, 1)
		go func() { locked <- s.lock(ctx, tx2, "acc_lock") }()
		for waiting := 0; waiting == 0; {
			if err := db.SQL.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := tx1.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-locked; err != nil {
			t.Fatal(err)
		}
		if h, ok := heldHeads(tx2, "acc_lock"); !ok || h.account != (link{seq: 1, hash: "h1"}) {
			t.Fatalf("the second change's heads: %+v (held %v); want the first change's event, seq 1", h, ok)
		}

		tx3, err := db.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx3.Rollback()
		if err := s.lock(ctx, tx3, "acc_missing"); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("locking a missing account: %v; want NOT_FOUND", err)
		}
	})
}
