package database

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"

	"entgo.io/ent/dialect"
	"github.com/golang-migrate/migrate/v4"
	mdatabase "github.com/golang-migrate/migrate/v4/database"
	mpostgres "github.com/golang-migrate/migrate/v4/database/postgres"
	msqlite "github.com/golang-migrate/migrate/v4/database/sqlite"
	"github.com/golang-migrate/migrate/v4/source"
	"github.com/golang-migrate/migrate/v4/source/iofs"

	"github.com/gatehouse-iam/gatehouse/ent/migrate/migrations"
)

// Migration is one versioned migration.
type Migration struct {
	Version uint
	Name    string
}

func (m Migration) String() string { return fmt.Sprintf("%d_%s", m.Version, m.Name) }

// SchemaStatus is where a database's schema stands, seen by this binary.
type SchemaStatus struct {
	// Version is the newest migration applied; 0 when none is.
	Version uint
	// Dirty reports a migration that failed part-way at Version.
	Dirty bool
	// Binary is the newest migration this binary embeds: its schema version.
	Binary uint
	// MinBinary is the oldest binary schema version the database still
	// serves (gatehouse_schema_info); 0 when the schema does not record it.
	MinBinary uint
	// Pending lists the embedded migrations not applied yet, oldest first.
	Pending []Migration
	// Known lists every embedded migration, oldest first.
	Known []Migration
}

// Newer reports a schema migrated by a newer binary than this one.
func (s SchemaStatus) Newer() bool { return s.Version > s.Binary }

// Serves reports whether this binary may run against the schema; the error
// says why not.
func (s SchemaStatus) Serves() error {
	if s.Dirty {
		return &DirtyError{Version: s.Version, Before: s.before(s.Version)}
	}
	if s.Binary < s.MinBinary {
		return &TooOldError{Binary: s.Binary, MinBinary: s.MinBinary, Schema: s.Version}
	}
	return nil
}

// before is the newest known migration older than v (0 when none).
func (s SchemaStatus) before(v uint) uint {
	var prev uint
	for _, m := range s.Known {
		if m.Version < v {
			prev = m.Version
		}
	}
	return prev
}

// TooOldError refuses a binary older than the oldest the schema serves.
type TooOldError struct{ Binary, MinBinary, Schema uint }

func (e *TooOldError) Error() string {
	return fmt.Sprintf("database: this binary is too old for the database: it has schema version %d, and the database (at schema version %d) serves binaries of schema version %d or newer; run a newer gatehouse",
		e.Binary, e.Schema, e.MinBinary)
}

// DirtyError is a schema whose last migration failed part-way.
type DirtyError struct{ Version, Before uint }

func (e *DirtyError) Error() string {
	return fmt.Sprintf("database: migration %d failed part-way (the schema is marked dirty); repair the database by hand, then run `gatehouse migrate force %d` (the last migration that completed) and `gatehouse migrate up`",
		e.Version, e.Before)
}

// Migrator applies and reverts the embedded migrations.
type Migrator struct {
	db    *DB
	m     *migrate.Migrate
	known []Migration
}

// Migrator opens the embedded migrations of the database's dialect. Close it.
func (d *DB) Migrator() (*Migrator, error) { return d.migratorFrom(migrations.FS) }

func (d *DB) migratorFrom(fsys fs.FS) (*Migrator, error) {
	folder := "sqlite"
	if d.Dialect == dialect.Postgres {
		folder = "postgres"
	}
	known, err := listMigrations(fsys, folder)
	if err != nil {
		return nil, err
	}
	src, err := iofs.New(fsys, folder)
	if err != nil {
		return nil, err
	}
	// golang-migrate holds a connection until it is closed, and closing it
	// closes its pool: give it a pool of its own.
	dsn := d.dsn
	if d.Dialect == dialect.SQLite {
		dsn = sqliteDSN(dsn, 10*time.Second, true) // the migrations' connection turns the write-ahead log on
	}
	mdb, err := sql.Open(d.driverName, dsn)
	if err != nil {
		return nil, err
	}
	var drv mdatabase.Driver
	if d.Dialect == dialect.Postgres {
		drv, err = mpostgres.WithInstance(mdb, &mpostgres.Config{})
	} else {
		drv, err = msqlite.WithInstance(mdb, &msqlite.Config{})
	}
	if err != nil {
		mdb.Close()
		return nil, fmt.Errorf("database: migrate: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, d.driverName, drv)
	if err != nil {
		drv.Close()
		return nil, err
	}
	return &Migrator{db: d, m: m, known: known}, nil
}

// listMigrations reads the versions and names of a folder's migrations.
func listMigrations(fsys fs.FS, folder string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, folder)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		m, err := source.Parse(e.Name())
		if err != nil || m.Direction != source.Up {
			continue
		}
		out = append(out, Migration{Version: m.Version, Name: m.Identifier})
	}
	slices.SortFunc(out, func(a, b Migration) int { return cmp.Compare(a.Version, b.Version) })
	return out, nil
}

// Close releases the migrations' connection.
func (g *Migrator) Close() error {
	srcErr, dbErr := g.m.Close()
	return errors.Join(srcErr, dbErr)
}

// Status reads the schema's version and what this binary would apply.
func (g *Migrator) Status(ctx context.Context) (SchemaStatus, error) {
	st := SchemaStatus{Known: g.known}
	if n := len(g.known); n > 0 {
		st.Binary = g.known[n-1].Version
	}
	v, dirty, err := g.m.Version()
	switch {
	case errors.Is(err, migrate.ErrNilVersion):
	case err != nil:
		return st, fmt.Errorf("database: schema version: %w", err)
	default:
		st.Version, st.Dirty = v, dirty
	}
	for _, m := range g.known {
		if m.Version > st.Version {
			st.Pending = append(st.Pending, m)
		}
	}
	if st.Version > 0 {
		if st.MinBinary, err = g.db.minBinarySchema(ctx); err != nil {
			return st, err
		}
	}
	return st, nil
}

// Up applies the pending migrations and returns them. A schema newer than
// the binary is left alone when it still serves the binary: a newer server
// migrated it during a rolling upgrade, or the binary was rolled back.
func (g *Migrator) Up(ctx context.Context) ([]Migration, SchemaStatus, error) {
	st, err := g.Status(ctx)
	if err != nil {
		return nil, st, err
	}
	if err := st.Serves(); err != nil || st.Newer() || len(st.Pending) == 0 {
		return nil, st, err
	}
	upErr := g.m.Up()
	after, err := g.Status(ctx)
	if err != nil {
		return nil, st, err
	}
	var applied []Migration
	for _, m := range st.Pending {
		if m.Version <= after.Version {
			applied = append(applied, m)
		}
	}
	// Another server may have applied a newer binary's migrations meanwhile:
	// golang-migrate then fails to find the version it reads.
	if upErr != nil && !errors.Is(upErr, migrate.ErrNoChange) && !(after.Newer() && after.Serves() == nil) {
		return applied, after, fmt.Errorf("database: migrate: %w", upErr)
	}
	return applied, after, after.Serves()
}

// Down reverts the n newest migrations and returns them, newest first.
func (g *Migrator) Down(ctx context.Context, n int) ([]Migration, error) {
	st, err := g.Status(ctx)
	if err != nil {
		return nil, err
	}
	if st.Dirty {
		return nil, st.Serves()
	}
	if st.Newer() {
		return nil, fmt.Errorf("database: the schema (version %d) is newer than this binary (schema version %d), which lacks its down migrations; migrate down with the binary that applied them", st.Version, st.Binary)
	}
	var applied []Migration
	for _, m := range g.known {
		if m.Version <= st.Version {
			applied = append(applied, m)
		}
	}
	if n < 1 || n > len(applied) {
		return nil, fmt.Errorf("database: cannot revert %d migrations: %d are applied", n, len(applied))
	}
	reverted := slices.Clone(applied[len(applied)-n:])
	slices.Reverse(reverted)
	if err := g.m.Steps(-n); err != nil {
		return nil, fmt.Errorf("database: migrate down: %w", err)
	}
	return reverted, nil
}

// Force records version as applied and clean without running anything: the
// way out of a dirty schema once it has been repaired by hand. -1 records
// that no migration is applied.
func (g *Migrator) Force(version int) error {
	if version != -1 && !slices.ContainsFunc(g.known, func(m Migration) bool { return int(m.Version) == version }) {
		return fmt.Errorf("database: %d is not a migration this binary knows (%d to %d, or -1 for none)", version, g.known[0].Version, g.known[len(g.known)-1].Version)
	}
	if err := g.m.Force(version); err != nil {
		return fmt.Errorf("database: migrate force: %w", err)
	}
	return nil
}

// Migrate applies the pending migrations, leaving alone a newer schema that
// still serves this binary, and refuses a schema that does not. On PostgreSQL
// golang-migrate holds an advisory lock, so many servers may start at once.
func (d *DB) Migrate() error {
	_, _, err := d.Upgrade(context.Background())
	return err
}

// Upgrade is Migrate, returning what it applied and where the schema stands.
func (d *DB) Upgrade(ctx context.Context) ([]Migration, SchemaStatus, error) {
	g, err := d.Migrator()
	if err != nil {
		return nil, SchemaStatus{}, err
	}
	defer g.Close()
	return g.Up(ctx)
}

// minBinarySchema reads gatehouse_schema_info; 0 when the schema predates it.
func (d *DB) minBinarySchema(ctx context.Context) (uint, error) {
	exists := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'gatehouse_schema_info'`
	if d.Dialect == dialect.Postgres {
		exists = `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'gatehouse_schema_info'`
	}
	var n int
	if err := d.SQL.QueryRowContext(ctx, exists).Scan(&n); err != nil {
		return 0, fmt.Errorf("database: schema info: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	var v int64
	if err := d.SQL.QueryRowContext(ctx, `SELECT min_binary_schema FROM gatehouse_schema_info WHERE id = 1`).Scan(&v); err != nil {
		return 0, fmt.Errorf("database: schema info: %w", err)
	}
	return uint(v), nil
}

// Embedded lists this binary's migrations, oldest first (the same versions
// on both dialects).
func Embedded() []Migration {
	known, err := listMigrations(migrations.FS, "sqlite")
	if err != nil {
		panic(err) // embedded at build time
	}
	return known
}

// SchemaVersion is this binary's schema version: its newest migration.
func SchemaVersion() uint {
	known := Embedded()
	return known[len(known)-1].Version
}
