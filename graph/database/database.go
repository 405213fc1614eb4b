// Package database opens Gatehouse's database — an embedded SQLite file by
// default, PostgreSQL (through lib/pq) when given a postgres:// URL — and
// applies the embedded versioned migrations.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/lib/pq" // registers "postgres"
	"go.opentelemetry.io/otel/trace"
	_ "modernc.org/sqlite" // registers "sqlite"

	"github.com/gatehouse-iam/gatehouse/ent"
)

// DB is an open database.
type DB struct {
	// Client is the ent client over SQL.
	Client *ent.Client
	// SQL is the underlying pool.
	SQL *sql.DB
	// Dialect is dialect.Postgres or dialect.SQLite.
	Dialect string
	// Driver is the ent driver the client uses (tests wrap it to count statements).
	Driver dialect.Driver
	// URL is what Open was given.
	URL string
	// driverName and dsn open the migrations' own connection; served is
	// dsn with the serving timeouts.
	driverName, dsn, served string
}

// Close closes the pool.
func (d *DB) Close() error { return d.Client.Close() }

// Options size the pool and bound how long storage may make a request wait
// (P5). Zero values take the defaults.
type Options struct {
	// MaxConns is the pool's size (default 20 on PostgreSQL, 8 on SQLite).
	MaxConns int
	// PoolTimeout bounds the wait for a pooled connection (default 2s).
	PoolTimeout time.Duration
	// StatementTimeout is PostgreSQL's statement_timeout (default 5s).
	StatementTimeout time.Duration
	// LockTimeout is PostgreSQL's lock_timeout (default 2s): how long a
	// statement waits for a lock. SQLite waits SQLiteLockAttempt at a time.
	LockTimeout time.Duration
	// IdleInTransactionTimeout ends sessions left idle inside a transaction
	// (PostgreSQL's idle_in_transaction_session_timeout, default 30s).
	IdleInTransactionTimeout time.Duration
	// NoStatementCache sends every statement unprepared (see stmtcache.go
	// and stmtcache_sqlite.go).
	NoStatementCache bool
	// TracerProvider, when set, traces the serving pool's statements
	// (OpenTelemetry); nil leaves them untraced, at no cost.
	TracerProvider trace.TracerProvider
}

func (o Options) withDefaults(dia string) Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 20
		if dia == dialect.SQLite {
			o.MaxConns = 8
		}
	}
	def(&o.PoolTimeout, 2*time.Second)
	def(&o.StatementTimeout, 5*time.Second)
	def(&o.LockTimeout, 2*time.Second)
	def(&o.IdleInTransactionTimeout, 30*time.Second)
	return o
}

// SQLiteLockAttempt is how long one attempt at SQLite's write lock waits.
const SQLiteLockAttempt = 100 * time.Millisecond

// Open opens the database named by rawURL with the default Options.
func Open(rawURL string) (*DB, error) { return OpenWith(rawURL, Options{}) }

// OpenWith opens the database named by rawURL: `postgres://…` or
// `postgresql://…` for PostgreSQL; otherwise a SQLite file path (or `file:`
// URI).
func OpenWith(rawURL string, o Options) (*DB, error) {
	dia, driverName, dsn, err := parse(rawURL)
	if err != nil {
		return nil, err
	}
	o = o.withDefaults(dia)
	served := withTimeouts(dia, dsn, o)
	db, err := openPool(dia, driverName, served, o)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(o.MaxConns)
	// Idle connections stay (database/sql keeps two by default): reopening
	// one costs a connection, or on SQLite a file opened and its schema
	// read, and its prepared statements.
	db.SetMaxIdleConns(o.MaxConns)
	if dia == dialect.Postgres {
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database: connect: %w", err)
	}
	drv := newPoolGate(entsql.OpenDB(dia, db), o.MaxConns, o.PoolTimeout)
	return &DB{Client: ent.NewClient(ent.Driver(drv)), SQL: db, Dialect: dia, Driver: drv, URL: rawURL,
		driverName: driverName, dsn: dsn, served: served}, nil
}

// withTimeouts adds the statement, lock and idle-transaction timeouts to a
// DSN: lib/pq sends unknown URL parameters as run-time settings, so every
// connection of the pool starts with them.
func withTimeouts(dia, dsn string, o Options) string {
	if dia != dialect.Postgres {
		// SQLite's busy handler ignores contexts: writers ask for the write
		// lock in short attempts, repeated until their own wait ends (iam).
		return sqliteDSN(dsn, min(o.LockTimeout, SQLiteLockAttempt), false)
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	q := url.Values{}
	q.Set("statement_timeout", ms(o.StatementTimeout))
	q.Set("lock_timeout", ms(o.LockTimeout))
	q.Set("idle_in_transaction_session_timeout", ms(o.IdleInTransactionTimeout))
	q.Set("connect_timeout", strconv.Itoa(max(1, int(o.PoolTimeout.Seconds()))))
	return dsn + sep(dsn) + q.Encode()
}

func sep(dsn string) string {
	if strings.Contains(dsn, "?") {
		return "&"
	}
	return "?"
}

// parse maps a URL to a dialect, a database/sql driver and its DSN (for
// SQLite, the file's URI; see sqliteDSN).
func parse(rawURL string) (dia, driverName, dsn string, err error) {
	if strings.HasPrefix(rawURL, "postgres://") || strings.HasPrefix(rawURL, "postgresql://") {
		return dialect.Postgres, "postgres", rawURL, nil
	}
	if scheme, _, ok := strings.Cut(rawURL, "://"); ok && scheme != "sqlite" && !strings.HasPrefix(rawURL, "file:") {
		// Not a file name: mysql://… would otherwise become a SQLite file.
		return "", "", "", fmt.Errorf("database: unsupported URL scheme %q: use postgres://… or a SQLite file", scheme)
	}
	path := strings.TrimPrefix(rawURL, "sqlite://")
	if path == "" {
		return "", "", "", errors.New("database: empty SQLite path")
	}
	if !strings.HasPrefix(path, "file:") {
		path = "file:" + path
	}
	return dialect.SQLite, "sqlite", path, nil
}

// sqliteDSN gives a SQLite file's connections foreign keys, a busy timeout
// (set first: the pragmas after it may wait for a lock) and IMMEDIATE
// transactions, so that concurrent writers wait for each other instead of
// failing. The write-ahead log, which lets readers go on while one writes,
// is switched on by the migrations' connection (wal) and stays on in the file.
func sqliteDSN(path string, busy time.Duration, wal bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(busy.Milliseconds(), 10)+")")
	q.Add("_pragma", "foreign_keys(1)")
	if wal {
		q.Add("_pragma", "journal_mode(WAL)")
	}
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return path + sep(path) + q.Encode()
}
