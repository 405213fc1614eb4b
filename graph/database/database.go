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
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/lib/pq"  // registers "postgres"
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
	// driverName and dsn open the migrations' own connection.
	driverName, dsn string
}

// Close closes the pool.
func (d *DB) Close() error { return d.Client.Close() }

// Open opens the database named by rawURL: `postgres://…` or `postgresql://…`
// for PostgreSQL; otherwise a SQLite file path (or `file:` URI).
func Open(rawURL string) (*DB, error) {
	dia, driverName, dsn, err := parse(rawURL)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, err
	}
	if dia == dialect.SQLite {
		// One writer at a time; WAL lets readers go on meanwhile.
		db.SetMaxOpenConns(8)
	} else {
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database: connect: %w", err)
	}
	drv := entsql.OpenDB(dia, db)
	return &DB{Client: ent.NewClient(ent.Driver(drv)), SQL: db, Dialect: dia, Driver: drv, URL: rawURL, driverName: driverName, dsn: dsn}, nil
}

// parse maps a URL to a dialect, a database/sql driver and its DSN. SQLite
// gets foreign keys, a busy timeout, WAL and IMMEDIATE transactions, so that
// concurrent writers wait for each other instead of failing.
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
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return dialect.SQLite, "sqlite", path + sep + q.Encode(), nil
}
