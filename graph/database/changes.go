package database

import (
	"context"
	"database/sql"
	"fmt"

	"entgo.io/ent/dialect"
)

// Feed reads the change sequence (D6): every committed change of an account
// appends to its audit chain, so the newest seq of each chain is the
// account's revision. A Feed answers which chains grew since its last read,
// in one indexed query, and never misses a commit:
//
//   - On PostgreSQL, a transaction can commit after another that started
//     later, so "newer than the last seq seen" would lose it. Every event
//     records its writing transaction's id (txid), and each read also takes
//     the oldest transaction id still running (the snapshot's xmin). Any
//     transaction with a smaller id had ended before that read, so whatever
//     commits afterwards has txid >= that xmin: the next read asks for
//     exactly those.
//   - SQLite has one writer at a time, so rowids grow in commit order.
//
// A Feed holds one connection of its own, outside the serving pool: a pool
// busy with slow requests must not keep the feed from confirming freshness.
type Feed struct {
	db      *sql.DB
	dialect string
	cursor  int64
	started bool
	// poll is the poll query, prepared once: it runs 20 times a second on
	// every server, and parsing it each time was about a third of an idle
	// server's CPU. database/sql prepares it again on a new connection by
	// itself.
	poll *sql.Stmt
}

// Feed opens the change feed on its own connection (on PostgreSQL, one whose
// socket obeys each read's deadline: a stalled database ends a read, which
// says so, instead of holding it for as long as the stall lasts).
func (d *DB) Feed() (*Feed, error) {
	db, err := openPool(d.Dialect, d.driverName, d.served, Options{NoStatementCache: true})
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	return &Feed{db: db, dialect: d.Dialect}, nil
}

// Close closes the feed's statement and connection.
func (f *Feed) Close() error {
	if f.poll != nil {
		_ = f.poll.Close()
	}
	return f.db.Close()
}

const (
	pgStart = `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`
	// One snapshot: the chains grown since the cursor, and the new cursor.
	pgPoll = `SELECT x.xmin, e.account_id, e.seq
FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) x
LEFT JOIN (SELECT account_id, max(seq) AS seq FROM audit_events WHERE txid >= $1 GROUP BY account_id) e ON true`
	sqliteStart = `SELECT coalesce(max(rowid), 0) FROM audit_events`
	// NOT INDEXED: otherwise SQLite scans the whole (account_id, seq) index,
	// which orders the GROUP BY, instead of searching by rowid; the events
	// after the cursor are few, and sorting them is cheap. (NOT INDEXED
	// leaves the rowid search.)
	sqlitePoll = `SELECT max(rowid), account_id, max(seq) FROM audit_events NOT INDEXED WHERE rowid > ? GROUP BY account_id`
)

// Poll returns the newest seq of every chain that grew since the previous
// Poll ("" is the platform chain: catalog and operator keys). The first Poll
// only sets the starting point and returns nothing. Re-reading a change
// already returned is possible and harmless; missing one is not.
func (f *Feed) Poll(ctx context.Context) (map[string]int64, error) {
	if !f.started {
		q := sqliteStart
		if f.dialect == dialect.Postgres {
			q = pgStart
		}
		if err := f.db.QueryRowContext(ctx, q).Scan(&f.cursor); err != nil {
			return nil, fmt.Errorf("change feed: %w", err)
		}
		f.started = true
		return nil, nil
	}
	if f.poll == nil {
		q := sqlitePoll
		if f.dialect == dialect.Postgres {
			q = pgPoll
		}
		stmt, err := f.db.PrepareContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("change feed: %w", err)
		}
		f.poll = stmt
	}
	return f.read(ctx)
}

// read runs the poll query, whose rows are (cursor, account id, seq): on
// PostgreSQL the cursor is the new xmin, on every row; on SQLite each
// chain's newest rowid.
func (f *Feed) read(ctx context.Context) (map[string]int64, error) {
	rows, err := f.poll.QueryContext(ctx, f.cursor)
	if err != nil {
		return nil, fmt.Errorf("change feed: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	cursor := f.cursor
	for rows.Next() {
		var v int64
		var account sql.NullString
		var seq sql.NullInt64
		if err := rows.Scan(&v, &account, &seq); err != nil {
			return nil, fmt.Errorf("change feed: %w", err)
		}
		if f.dialect == dialect.Postgres {
			cursor = v
		} else {
			cursor = max(cursor, v)
		}
		if account.Valid {
			out[account.String] = seq.Int64
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("change feed: %w", err)
	}
	f.cursor = cursor
	return out, nil
}
