// Package stmtcount wraps an ent driver to count the SQL statements sent
// through it. Tests use it to prove that a request's statements grow with the
// query's depth, never with its rows, and that a warm decision sends none.
//
// Statements are counted in total and, for contexts made by Track, per
// context: a background job (the usage batcher, the cache's reload) that runs
// while a request is measured is then not mistaken for the request's work.
package stmtcount

import (
	"context"
	"database/sql"
	"sync/atomic"

	"entgo.io/ent/dialect"
)

// Driver counts the statements sent through the wrapped driver.
type Driver struct {
	dialect.Driver
	total atomic.Int64
}

// Wrap returns a counting driver around d.
func Wrap(d dialect.Driver) *Driver { return &Driver{Driver: d} }

// Total is the number of statements sent so far, from any context.
func (d *Driver) Total() int64 { return d.total.Load() }

type trackKey struct{}

// Track returns a context whose statements are also counted into the
// returned counter (contexts derived from it included).
func Track(ctx context.Context) (context.Context, *atomic.Int64) {
	n := new(atomic.Int64)
	return context.WithValue(ctx, trackKey{}, n), n
}

func count(ctx context.Context, total *atomic.Int64) {
	total.Add(1)
	if n, ok := ctx.Value(trackKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
}

// Exec counts and runs a statement.
func (d *Driver) Exec(ctx context.Context, q string, args, v any) error {
	count(ctx, &d.total)
	return d.Driver.Exec(ctx, q, args, v)
}

// Query counts and runs a query.
func (d *Driver) Query(ctx context.Context, q string, args, v any) error {
	count(ctx, &d.total)
	return d.Driver.Query(ctx, q, args, v)
}

// Tx starts a transaction whose statements are counted too.
func (d *Driver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, total: &d.total}, nil
}

type countingTx struct {
	dialect.Tx
	total *atomic.Int64
}

func (t *countingTx) Exec(ctx context.Context, q string, args, v any) error {
	count(ctx, t.total)
	return t.Tx.Exec(ctx, q, args, v)
}

func (t *countingTx) Query(ctx context.Context, q string, args, v any) error {
	count(ctx, t.total)
	return t.Tx.Query(ctx, q, args, v)
}

// ExecContext is what iam's transactions use for advisory locks; the
// wrapped transaction must offer it.
func (t *countingTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	count(ctx, t.total)
	return t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}).ExecContext(ctx, q, args...)
}

// QueryContext is what iam uses for its few raw queries (the heads of the
// audit chains to sign); the wrapped driver must offer it.
func (d *Driver) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	count(ctx, &d.total)
	return d.Driver.(interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}).QueryContext(ctx, q, args...)
}

// QueryContext is what raw queries inside iam's transactions use (the
// audit chains' heads); the wrapped transaction must offer it.
func (t *countingTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	count(ctx, t.total)
	return t.Tx.(interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}).QueryContext(ctx, q, args...)
}

// ExecContext is what iam uses for its few raw statements outside
// transactions (the built-ins' master lists at start-up, members' last
// activity, change notifications); the wrapped driver must offer it.
func (d *Driver) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	count(ctx, &d.total)
	return d.Driver.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}).ExecContext(ctx, q, args...)
}
