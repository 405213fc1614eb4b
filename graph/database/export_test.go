package database

import (
	"context"
	"database/sql"
	"io/fs"

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
