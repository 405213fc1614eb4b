package database_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"github.com/gatehouse-iam/gatehouse/ent/migrate/migrations"
	"github.com/gatehouse-iam/gatehouse/graph/database"
)

// D6: every server polls the change feed 20 times a second, so a poll must
// read only the audit events after its cursor, not the whole log. On SQLite
// the planner preferred the (account_id, seq) index, which orders the GROUP
// BY but is scanned whole: 42 ms a poll on a log of a million events, most
// of a core at 20 polls a second. The plan of the poll, on a log of 20,000
// events of 200 accounts, must search by the cursor.
func TestFeed_D6_APollReadsOnlyTheEventsAfterItsCursor(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		migrateWith(t, db, migrations.FS)
		insert := `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 20000)
INSERT INTO audit_events (id, created_at, account_id, actor_type, actor_id, action, seq, hash, txid)
SELECT 'e' || i, CURRENT_TIMESTAMP, 'a' || (i % 200), 'USER', 'u', 'role.create', i, 'h', i FROM n`
		if _, err := db.SQL.ExecContext(ctx, insert); err != nil {
			t.Fatal(err)
		}
		explain, args := "EXPLAIN QUERY PLAN ", []any{20000}
		if db.Dialect == dialect.Postgres {
			explain, args = "EXPLAIN ", []any{20000, pq.Array([]int64{19990, 19995})}
			if _, err := db.SQL.ExecContext(ctx, "ANALYZE audit_events"); err != nil {
				t.Fatal(err)
			}
		}
		plan := explainPlan(t, db, explain+database.FeedPollQuery(db.Dialect), args...)
		searched := strings.Contains(plan, "USING INTEGER PRIMARY KEY (rowid>?)")
		if db.Dialect == dialect.Postgres {
			searched = strings.Contains(plan, "Index") && !strings.Contains(plan, "Seq Scan on audit_events")
		}
		if !searched {
			t.Errorf("the poll reads the whole audit log:\n%s", plan)
		}
	})
}

// explainPlan is the text of every row of an EXPLAIN, one line each.
func explainPlan(t *testing.T, db *database.DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.SQL.QueryContext(context.Background(), q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, vals...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
