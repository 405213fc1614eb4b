package database_test

import (
	"context"
	"testing"

	"github.com/gatehouse-iam/gatehouse/ent/migrate/migrations"
	"github.com/gatehouse-iam/gatehouse/graph/database"
)

// D6 on PostgreSQL, with a client's transaction left open (a pg_dump, a
// forgotten BEGIN): a poll reads the events committed since the previous
// poll, not every event committed since that transaction began. The poll
// asked for every txid from the snapshot's xmin, which such a transaction
// holds back: each of the 20 polls a second of every server read more
// (138 ms a poll at 100,000 events behind). And a transaction in progress
// at one poll, committed after it, is still reported by the next.
func TestFeed_D6_AnOpenTransactionDoesNotGrowThePoll(t *testing.T) {
	ctx := context.Background()
	db := scratchPostgres(t, "gatehouse_feed_")
	migrateWith(t, db, migrations.FS)
	feed, err := db.Feed()
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	if _, err := feed.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	held, err := db.SQL.BeginTx(ctx, nil) // a client's transaction, left open
	if err != nil {
		t.Fatal(err)
	}
	defer held.Rollback()
	if _, err := held.ExecContext(ctx, "SELECT pg_current_xact_id()"); err != nil {
		t.Fatal(err)
	}
	events := func(from, to int) {
		t.Helper()
		_, err := db.SQL.ExecContext(ctx, `INSERT INTO audit_events (id, created_at, account_id, actor_type, actor_id, action, seq, hash)
SELECT 'e' || i, now(), 'a' || (i % 100), 'USER', 'u', 'role.create', i, 'h' FROM generate_series($1::int, $2::int) i`, from, to)
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		events(i*1000+1, (i+1)*1000)
	}
	got, err := feed.Poll(ctx)
	if err != nil || len(got) != 100 {
		t.Fatalf("the poll after 5,000 events reports %d chains (%v); want 100", len(got), err)
	}
	// Nothing new: the next poll reads no event.
	if n := database.PollRowsRead(ctx, t, feed); n != 0 {
		t.Errorf("with nothing new, a poll reads %d events; want 0", n)
	}
	// A transaction in progress at a poll, committed after it.
	late, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := late.ExecContext(ctx, `INSERT INTO audit_events (id, created_at, account_id, actor_type, actor_id, action, seq, hash)
VALUES ('late', now(), 'late', 'USER', 'u', 'role.create', 1, 'h')`); err != nil {
		t.Fatal(err)
	}
	events(5001, 5001) // another transaction, begun later, commits first
	if got, err := feed.Poll(ctx); err != nil || got["late"] != 0 || len(got) != 1 {
		t.Fatalf("before the late commit: %v, %v", got, err)
	}
	if err := late.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, err := feed.Poll(ctx); err != nil || got["late"] != 1 {
		t.Fatalf("the late commit is not reported: %v, %v", got, err)
	}
}
