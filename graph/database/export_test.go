package database

import (
	"context"
	"database/sql"
	"encoding/json"
	"io/fs"
	"testing"

	"entgo.io/ent/dialect"
)

// MigratorFrom opens the migrations in fsys (its postgres/ and sqlite/
// folders), as a binary with another migration set would.
func (d *DB) MigratorFrom(fsys fs.FS) (*Migrator, error) { return d.migratorFrom(fsys) }

// SQLiteStatementsKept is how many statements a SQLite connection of the
// pool keeps prepared (0 without the statement cache).
func SQLiteStatementsKept(ctx context.Context, conn *sql.Conn) (n int, err error) {
	err = conn.Raw(func(dc any) error {
		if c, ok := dc.(*sqliteCachingConn); ok {
			n = c.stmts.Len()
		}
		return nil
	})
	return n, err
}

// FeedPollQuery is the change feed's poll query on a dialect.
func FeedPollQuery(dia string) string {
	if dia == dialect.Postgres {
		return pgPoll
	}
	return sqlitePoll
}

// PollRowsRead is how many audit events the feed's next poll reads, from
// PostgreSQL's EXPLAIN ANALYZE of the poll with the feed's cursor.
func PollRowsRead(ctx context.Context, t testing.TB, f *Feed) int64 {
	t.Helper()
	var plan []byte
	if err := f.db.QueryRowContext(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+pgPoll, f.pollArgs()...).Scan(&plan); err != nil {
		t.Fatal(err)
	}
	var nodes []struct{ Plan planNode }
	if err := json.Unmarshal(plan, &nodes); err != nil {
		t.Fatal(err)
	}
	var n int64
	var walk func(p planNode)
	walk = func(p planNode) {
		if p.Relation == "audit_events" {
			n += p.Rows
		}
		for _, c := range p.Plans {
			walk(c)
		}
	}
	for _, p := range nodes {
		walk(p.Plan)
	}
	return n
}

type planNode struct {
	Relation string     `json:"Relation Name"`
	Rows     int64      `json:"Actual Rows"`
	Plans    []planNode `json:"Plans"`
}
