package database

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// poolGate bounds how long a statement or a transaction waits for one of the
// pool's connections (P5): database/sql waits as long as the context allows,
// so that a burst of slow work would make every other request queue behind
// it. It holds one token per connection of the pool: a token is taken before
// a statement or a transaction starts and given back when it is done (rows
// closed, transaction committed or rolled back). Waiting longer than wait is
// ErrPoolTimeout, which clients see as UNAVAILABLE.
type poolGate struct {
	*entsql.Driver
	tokens chan struct{}
	wait   time.Duration
}

func newPoolGate(d *entsql.Driver, size int, wait time.Duration) *poolGate {
	return &poolGate{Driver: d, tokens: make(chan struct{}, size), wait: wait}
}

func (p *poolGate) acquire(ctx context.Context) (func(), error) {
	select {
	case p.tokens <- struct{}{}:
	default:
		t := time.NewTimer(p.wait)
		defer t.Stop()
		select {
		case p.tokens <- struct{}{}:
		case <-t.C:
			return nil, ErrPoolTimeout
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var once sync.Once
	return func() { once.Do(func() { <-p.tokens }) }, nil
}

// Exec runs a statement on a pooled connection.
func (p *poolGate) Exec(ctx context.Context, query string, args, v any) error {
	release, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	return p.Driver.Exec(ctx, query, args, v)
}

// Query runs a query; the connection's token comes back when the rows close.
func (p *poolGate) Query(ctx context.Context, query string, args, v any) error {
	release, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	if err := p.Driver.Query(ctx, query, args, v); err != nil {
		release()
		return err
	}
	if rows, ok := v.(*entsql.Rows); ok && rows.ColumnScanner != nil {
		rows.ColumnScanner = releasingRows{ColumnScanner: rows.ColumnScanner, release: release}
	} else {
		release()
	}
	return nil
}

// Tx starts a transaction that holds its token until it ends.
func (p *poolGate) Tx(ctx context.Context) (dialect.Tx, error) {
	return p.BeginTx(ctx, nil)
}

// BeginTx starts a transaction with options.
func (p *poolGate) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	release, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := p.Driver.BeginTx(ctx, opts)
	if err != nil {
		release()
		return nil, err
	}
	return &releasingTx{Tx: tx, release: release}, nil
}

type releasingRows struct {
	entsql.ColumnScanner
	release func()
}

func (r releasingRows) Close() error {
	defer r.release()
	return r.ColumnScanner.Close()
}

type releasingTx struct {
	dialect.Tx
	release func()
}

func (t *releasingTx) Commit() error {
	defer t.release()
	return t.Tx.Commit()
}

func (t *releasingTx) Rollback() error {
	defer t.release()
	return t.Tx.Rollback()
}

// ExecContext and QueryContext are what raw statements in a transaction use
// (advisory locks, pg_notify).
func (t *releasingTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}).ExecContext(ctx, query, args...)
}

func (t *releasingTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.Tx.(interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}).QueryContext(ctx, query, args...)
}
