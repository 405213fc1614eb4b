// Package stmtcount wraps an ent driver to count the SQL statements sent
// through it. Tests use it to prove that a request's statements grow with the
// query's depth, never with its rows, and that a warm decision sends none.
//
// Statements are counted in total and, for contexts made by Track, per
// context, where they are also kept with their arguments (for a test to
// read their plans): a background job (the usage batcher, the cache's
// reload) that runs while a request is measured is then not mistaken for
// the request's work.
package stmtcount

import (
	"context"
	"database/sql"
	"sync"
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

// Statement is a statement sent, with its arguments.
type Statement struct {
	Query string
	Args  []any
}

// Tracked is what a context made by Track sent.
type Tracked struct {
	n     atomic.Int64
	mu    sync.Mutex
	stmts []Statement
}

// Count is the number of statements sent.
func (t *Tracked) Count() int64 { return t.n.Load() }

// Statements are the statements sent, in order.
func (t *Tracked) Statements() []Statement {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Statement(nil), t.stmts...)
}

// Track returns a context whose statements are also counted and kept in
// the returned Tracked (contexts derived from it included).
func Track(ctx context.Context) (context.Context, *Tracked) {
	t := new(Tracked)
	return context.WithValue(ctx, trackKey{}, t), t
}

func count(ctx context.Context, total *atomic.Int64, q string, args any) {
	total.Add(1)
	if t, ok := ctx.Value(trackKey{}).(*Tracked); ok {
		t.n.Add(1)
		a, _ := args.([]any)
		t.mu.Lock()
		t.stmts = append(t.stmts, Statement{Query: q, Args: a})
		t.mu.Unlock()
	}
}

// Exec counts and runs a statement.
func (d *Driver) Exec(ctx context.Context, q string, args, v any) error {
	count(ctx, &d.total, q, args)
	return d.Driver.Exec(ctx, q, args, v)
}

// Query counts and runs a query.
func (d *Driver) Query(ctx context.Context, q string, args, v any) error {
	count(ctx, &d.total, q, args)
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
	count(ctx, t.total, q, args)
	return t.Tx.Exec(ctx, q, args, v)
}

func (t *countingTx) Query(ctx context.Context, q string, args, v any) error {
	count(ctx, t.total, q, args)
	return t.Tx.Query(ctx, q, args, v)
}

// ExecContext is what iam's transactions use for advisory locks; the
// wrapped transaction must offer it.
func (t *countingTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	count(ctx, t.total, q, args)
	return t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}).ExecContext(ctx, q, args...)
}

// QueryContext is what iam uses for its few raw queries (the heads of the
// audit chains to sign); the wrapped driver must offer it.
func (d *Driver) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	count(ctx, &d.total, q, args)
	return d.Driver.(interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}).QueryContext(ctx, q, args...)
}

// QueryContext is what raw queries inside iam's transactions use (the
// audit chains' heads); the wrapped transaction must offer it.
func (t *countingTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	count(ctx, t.total, q, args)
	return t.Tx.(interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}).QueryContext(ctx, q, args...)
}

// ExecContext is what iam uses for its few raw statements outside
// transactions (the built-ins' master lists at start-up, members' last
// activity, change notifications); the wrapped driver must offer it.
func (d *Driver) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	count(ctx, &d.total, q, args)
	return d.Driver.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}).ExecContext(ctx, q, args...)
}
