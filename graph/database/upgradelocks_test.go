package database_test

import (
	"context"
	"database/sql"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/graph/database"
)

// upTo is the embedded migration set without the migrations after version.
func upTo(t *testing.T, version uint) fs.FS {
	t.Helper()
	return migrationSet(t, func(path string) bool {
		base := path[strings.LastIndex(path, "/")+1:]
		v, err := strconv.ParseUint(strings.SplitN(base, "_", 2)[0], 10, 64)
		return err != nil || uint(v) <= version
	})
}

// An upgrade on PostgreSQL builds its indexes without blocking the writes of
// the servers still running: CREATE INDEX takes a lock that waits for every
// write in progress and holds every new one behind it for the whole build
// (minutes, on an audit log of hundreds of millions of events), where
// CREATE INDEX CONCURRENTLY lets writes go on. A write in progress holds the
// migration of the audit log's index; another write must still commit
// within its lock_timeout.
func TestUpgrade_PostgreSQLBuildsIndexesWithoutBlockingWrites(t *testing.T) {
	ctx := context.Background()
	db := scratchPostgres(t, "gatehouse_upgrade_")
	migrateWith(t, db, upTo(t, 20261130160000)) // the release before these indexes
	event := func(q interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}, account string) error {
		_, err := q.ExecContext(ctx, `INSERT INTO audit_events (id, created_at, account_id, actor_type, actor_id, action, seq, hash)
VALUES ($1, now(), $1, 'USER', 'u', 'role.create', 1, 'h')`, account)
		return err
	}
	busy, err := db.SQL.BeginTx(ctx, nil) // a write in progress
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Rollback()
	if err := event(busy, "busy"); err != nil {
		t.Fatal(err)
	}
	g, err := db.Migrator()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	done := make(chan error, 1)
	go func() {
		_, _, err := g.Up(ctx)
		done <- err
	}()
	waitFor(t, db, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%INDEX%audit_events%'`)
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET lock_timeout = '2s'`); err != nil {
		t.Fatal(err)
	}
	if err := event(conn, "another"); err != nil {
		t.Errorf("a write during the upgrade: %v", err)
	}
	if err := busy.Commit(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the upgrade: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the upgrade did not end after the write in progress committed")
	}
}

// waitFor waits, for at most 10 s, until q counts a row.
func waitFor(t *testing.T, db *database.DB, q string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var n int
		if err := db.SQL.QueryRowContext(context.Background(), q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
	}
	t.Fatalf("still none after 10 s: %s", q)
}
