package main

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"strings"

	_ "modernc.org/sqlite"
)

// lockedPayload is about the size of an audit event's row.
var lockedPayload = strings.Repeat(`{"changes":{"after":{"name":"Bench role","grants":["a.b","c.d"]}}}`, 6)

// openLocked opens the seeded database for the bare locked-insert loop and
// makes its scratch table. On SQLite one connection, IMMEDIATE transactions:
// writers are serialized in the pool rather than in SQLite's busy handler,
// the fastest a single process writes there.
func openLocked(m *Manifest, clients int) (*sql.DB, error) {
	driver, dsn, conns := "postgres", m.Database, clients
	ddl := `CREATE TABLE IF NOT EXISTS bench_locked_insert (id bigserial PRIMARY KEY, account_id text NOT NULL, body text NOT NULL)`
	if m.Dialect != "postgres" {
		driver, dsn, conns = "sqlite", "file:"+m.Database+"?_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)&_txlock=immediate", 1
		ddl = `CREATE TABLE IF NOT EXISTS bench_locked_insert (id integer PRIMARY KEY AUTOINCREMENT, account_id text NOT NULL, body text NOT NULL)`
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if _, err := db.Exec(ddl); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// lockedInsert is the write path's floor: BEGIN; lock one account's row
// (SELECT … FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transaction locks
// the file); INSERT two rows (the change and its audit event); COMMIT —
// on one of the same accounts createRole writes to.
func (b *bench) lockedInsert(accounts int) op {
	accs := b.writeAccounts(accounts)
	lock, insert := `SELECT id FROM accounts WHERE id = $1 FOR UPDATE`, `INSERT INTO bench_locked_insert (account_id, body) VALUES ($1, $2)`
	if b.m.Dialect != "postgres" {
		lock, insert = `SELECT id FROM accounts WHERE id = ?`, `INSERT INTO bench_locked_insert (account_id, body) VALUES (?, ?)`
	}
	return func(ctx context.Context, c, j int) error {
		acc := accs[rand.IntN(len(accs))].ID
		tx, err := b.locked.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var id string
		if err := tx.QueryRowContext(ctx, lock, acc).Scan(&id); err != nil {
			_ = tx.Rollback()
			return err
		}
		for range 2 {
			if _, err := tx.ExecContext(ctx, insert, acc, lockedPayload); err != nil {
				_ = tx.Rollback()
				return err
			}
		}
		return tx.Commit()
	}
}

// resetWrites deletes the roles this run's createRole made, once the round's
// server has stopped, so that every round's writes meet accounts of the
// same size (a model load reads every role of the account). Their audit
// events stay: the log is append-only.
func (b *bench) resetWrites(ctx context.Context) error {
	q := `DELETE FROM roles WHERE name LIKE $1`
	if b.m.Dialect != "postgres" {
		q = `DELETE FROM roles WHERE name LIKE ?`
	}
	_, err := b.locked.ExecContext(ctx, q, roleNamePrefix+b.tag+" %")
	return err
}
