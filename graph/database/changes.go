package database

import (
	"context"
	"database/sql"
	"fmt"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"
)

// Feed reads the change sequence (D6): every committed change of an account
// appends to its audit chain, so the newest seq of each chain is the
// account's revision. A Feed answers which chains grew since its last read,
// in one indexed query, and never misses a commit:
//
//   - On PostgreSQL, a transaction can commit after another that started
//     later, so "newer than the last seq seen" would lose it. Every event
//     records its writing transaction's id (txid), and each read also takes
//     its snapshot's bounds: every transaction below xmax and not in
//     progress (xip) had ended, and the read saw its events. What commits
//     afterwards is a transaction that was in progress, or one at or above
//     xmax: the next read asks for exactly those. (Asking for every txid
//     from the oldest one in progress, xmin, read all that committed since
//     that one began: a pg_dump or an idle transaction of any client held
//     it back, and each poll read more.)
//   - SQLite has one writer at a time, so rowids grow in commit order.
//
// A Feed holds one connection of its own, outside the serving pool: a pool
// busy with slow requests must not keep the feed from confirming freshness.
type Feed struct {
	db      *sql.DB
	dialect string
	// cursor is, on SQLite, the newest rowid read; on PostgreSQL, the
	// previous read's xmax, with running its transactions in progress.
	cursor  int64
	running []int64
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
	// pgSnapshot is the statement's snapshot's xmax and transactions in
	// progress.
	pgSnapshot = `SELECT pg_snapshot_xmax(s)::text::bigint AS xmax,
	coalesce((SELECT array_agg(t::text::bigint) FROM pg_snapshot_xip(s) t), '{}') AS xip
FROM pg_current_snapshot() s`
	pgStart = pgSnapshot
	// One snapshot: the chains grown since the previous one, and its bounds.
	pgPoll = `SELECT x.xmax, x.xip, e.account_id, e.seq FROM (` + pgSnapshot + `) x
LEFT JOIN (SELECT account_id, max(seq) AS seq FROM audit_events WHERE ` + pgNew + ` GROUP BY account_id) e ON true`
	// pgNew is the events the previous snapshot could not see.
	pgNew       = `(txid >= $1 OR txid = ANY($2))`
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
		var err error
		if f.dialect == dialect.Postgres {
			err = f.db.QueryRowContext(ctx, pgStart).Scan(&f.cursor, pq.Array(&f.running))
		} else {
			err = f.db.QueryRowContext(ctx, sqliteStart).Scan(&f.cursor)
		}
		if err != nil {
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

// read runs the poll query, whose rows are a cursor (on PostgreSQL the new
// snapshot's bounds, on every row; on SQLite each chain's newest rowid), an
// account id and its chain's newest seq.
func (f *Feed) read(ctx context.Context) (map[string]int64, error) {
	rows, err := f.poll.QueryContext(ctx, f.pollArgs()...)
	if err != nil {
		return nil, fmt.Errorf("change feed: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	cursor, running := f.cursor, f.running
	for rows.Next() {
		var v int64
		var account sql.NullString
		var seq sql.NullInt64
		if f.dialect == dialect.Postgres {
			running = nil
			err = rows.Scan(&v, pq.Array(&running), &account, &seq)
			cursor = v
		} else {
			err = rows.Scan(&v, &account, &seq)
			cursor = max(cursor, v)
		}
		if err != nil {
			return nil, fmt.Errorf("change feed: %w", err)
		}
		if account.Valid {
			out[account.String] = seq.Int64
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("change feed: %w", err)
	}
	f.cursor, f.running = cursor, running
	return out, nil
}

// pollArgs are the poll query's arguments: the cursor, and on PostgreSQL
// the transactions in progress at the previous read.
func (f *Feed) pollArgs() []any {
	if f.dialect == dialect.Postgres {
		return []any{f.cursor, pq.Array(f.running)}
	}
	return []any{f.cursor}
}
