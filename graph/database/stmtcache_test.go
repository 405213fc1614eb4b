package database_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/gatehouse-iam/gatehouse/graph/database"
	"github.com/gatehouse-iam/gatehouse/graph/database/pgtest"
)

// pgConn opens a scratch PostgreSQL database with o and takes one of its
// pool's connections; both close when t ends.
func pgConn(t *testing.T, o database.Options) (*database.DB, *sql.Conn) {
	t.Helper()
	base := os.Getenv("GATEHOUSE_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("PostgreSQL suite off: set GATEHOUSE_TEST_POSTGRES_URL")
	}
	db, err := database.OpenWith(pgtest.Scratch(t, base, "gatehouse_stmt_"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.SQL.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return db, conn
}

// On PostgreSQL a statement with arguments is prepared once per connection
// and then sent as Bind and Execute alone: one round trip instead of the
// two of Parse-and-Describe then Bind-and-Execute (issue 13: the account's
// lock is held for each round trip of a change). The server's own view,
// pg_prepared_statements, shows what a connection keeps.
func TestStatementCache_OnePreparationPerConnection(t *testing.T) {
	ctx := context.Background()
	const q = `SELECT $1::int + 41`
	prepared := func(t *testing.T, o database.Options) (int, int) {
		_, conn := pgConn(t, o)
		for i := range 3 {
			var got int
			if err := conn.QueryRowContext(ctx, q, 1).Scan(&got); err != nil || got != 42 {
				t.Fatalf("use %d: %d, %v", i, got, err)
			}
		}
		var same, all int
		// No arguments: the simple protocol, never prepared.
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE statement = '`+q+`'), count(*) FROM pg_prepared_statements`).Scan(&same, &all); err != nil {
			t.Fatal(err)
		}
		return same, all
	}
	if same, _ := prepared(t, database.Options{}); same != 1 {
		t.Errorf("3 uses of one statement on one connection left %d prepared statements of it, want 1", same)
	}
	if _, all := prepared(t, database.Options{NoStatementCache: true}); all != 0 {
		t.Errorf("with the cache off, the connection keeps %d prepared statements, want 0", all)
	}
}

// The cache is bounded without a round trip per eviction: statements past
// the 256 a connection keeps are let go of unclosed, and once it has let go
// of 256 the connection retires, which frees them all on the server. A
// connection never holds more than 512, and the pool carries on.
func TestStatementCache_Bounded(t *testing.T) {
	ctx := context.Background()
	db, _ := pgConn(t, database.Options{MaxConns: 2}) // the pool: one connection free, the other held
	pids := map[int]bool{}
	most := 0
	for i := range 800 {
		var pid, prepared int
		q := fmt.Sprintf(`SELECT pg_backend_pid(), (SELECT count(*) FROM pg_prepared_statements) + $1::int + %d`, i)
		if err := db.SQL.QueryRowContext(ctx, q, -i).Scan(&pid, &prepared); err != nil {
			t.Fatalf("statement %d: %v", i, err)
		}
		pids[pid] = true
		most = max(most, prepared)
	}
	if most > 512 {
		t.Errorf("a connection held %d prepared statements, want at most 512", most)
	}
	if len(pids) < 2 {
		t.Errorf("800 distinct statements ran on %d connection: none retired", len(pids))
	}
	t.Logf("800 distinct statements: %d connections, at most %d prepared on one", len(pids), most)
}

// A connection whose statements the server has dropped (DEALLOCATE, or a
// pooler that switched sessions) is given up as a bad connection — not
// answered with PostgreSQL's "prepared statement does not exist" — and the
// pool's next use of the statement runs on a sound connection.
func TestStatementCache_LostStatementsGiveUpTheConnection(t *testing.T) {
	ctx := context.Background()
	db, conn := pgConn(t, database.Options{MaxConns: 2})
	const q = `SELECT $1::int * 2`
	var got int
	if err := conn.QueryRowContext(ctx, q, 21).Scan(&got); err != nil || got != 42 {
		t.Fatalf("first use: %d, %v", got, err)
	}
	if _, err := conn.ExecContext(ctx, `DEALLOCATE ALL`); err != nil {
		t.Fatal(err)
	}
	err := conn.QueryRowContext(ctx, q, 21).Scan(&got)
	if !errors.Is(err, driver.ErrBadConn) {
		t.Errorf("the statement the server dropped: %v, want driver.ErrBadConn", err)
	}
	conn.Close()
	for i := range 3 { // through the pool: never the given-up connection
		if err := db.SQL.QueryRowContext(ctx, q, 21).Scan(&got); err != nil || got != 42 {
			t.Fatalf("use %d through the pool: %d, %v", i, got, err)
		}
	}
}
