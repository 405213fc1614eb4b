package database_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gatehouse-iam/gatehouse/graph/database"
)

// sqliteConn opens a SQLite database of three rows (x = 1, 2, 3) with o and
// takes one of its pool's connections; both close when t ends.
func sqliteConn(t *testing.T, o database.Options) *sql.Conn {
	t.Helper()
	ctx := context.Background()
	db, err := database.OpenWith(filepath.Join(t.TempDir(), "stmt.db"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.SQL.ExecContext(ctx, `CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3)`); err != nil {
		t.Fatal(err)
	}
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// On SQLite a statement with arguments is parsed and planned once per
// connection, then only bound and stepped (issue 13: parsing was about a
// tenth of a createRole's CPU).
func TestStatementCache_SQLiteOnePreparationPerConnection(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		o    database.Options
		want int
	}{{"cache", database.Options{}, 1}, {"no cache", database.Options{NoStatementCache: true}, 0}} {
		t.Run(c.name, func(t *testing.T) {
			conn := sqliteConn(t, c.o)
			for i := range 3 {
				var got int
				if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM t WHERE x > ?`, i).Scan(&got); err != nil || got != 3-i {
					t.Fatalf("use %d: %d, %v; want %d", i, got, err, 3-i)
				}
			}
			if _, err := conn.ExecContext(ctx, `SELECT count(*) FROM t`); err != nil { // no arguments: not kept
				t.Fatal(err)
			}
			if n, err := database.SQLiteStatementsKept(ctx, conn); err != nil || n != c.want {
				t.Fatalf("statements kept: %d, %v; want %d", n, err, c.want)
			}
		})
	}
}

// A SQLite connection reads several result sets at once: a statement whose
// rows are still open is not run again over them (its second use goes
// unprepared), and one let go of by the cache while its rows are open is
// finalized only when they close.
func TestStatementCache_SQLiteOpenRowsKeepTheirStatement(t *testing.T) {
	ctx := context.Background()
	conn := sqliteConn(t, database.Options{})
	const q = `SELECT x FROM t WHERE x >= ? ORDER BY x`
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	outer, err := tx.QueryContext(ctx, q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	read := func(rows *sql.Rows, n int) {
		t.Helper()
		for range n {
			var x int
			if !rows.Next() {
				t.Fatalf("rows ended early: %v (read %v)", rows.Err(), got)
			}
			if err := rows.Scan(&x); err != nil {
				t.Fatal(err)
			}
			got = append(got, x)
		}
	}
	read(outer, 1)
	// The same statement, while outer is open, with other arguments.
	inner, err := tx.QueryContext(ctx, q, 2)
	if err != nil {
		t.Fatal(err)
	}
	read(inner, 2)
	if inner.Next() || inner.Close() != nil {
		t.Fatal("inner: a third row, or no clean close")
	}
	// More distinct statements than the cache keeps: outer's is let go of.
	for i := range 100 {
		var n int
		if err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) + %d FROM t WHERE x > ?`, i), 0).Scan(&n); err != nil || n != 3+i {
			t.Fatalf("statement %d: %d, %v", i, n, err)
		}
	}
	read(outer, 2)
	if outer.Next() || outer.Err() != nil || outer.Close() != nil {
		t.Fatalf("outer: a fourth row, or an error: %v", outer.Err())
	}
	if fmt.Sprint(got) != "[1 2 3 2 3]" {
		t.Fatalf("read %v; want [1 2 3 2 3] (outer's first row, inner's two, outer's last two)", got)
	}
	// Its statement is prepared again, and answers.
	var first int
	if err := tx.QueryRowContext(ctx, q, 3).Scan(&first); err != nil || first != 3 {
		t.Fatalf("after: %d, %v", first, err)
	}
}
