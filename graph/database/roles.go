package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strconv"
	"strings"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"github.com/gatehouse-iam/gatehouse/ent/migrate/migrations"
)

// Production runs with two PostgreSQL roles (L4): the owner, which owns the
// tables and runs the migrations, and the serving role the server connects
// as, granted only what it needs. The serving role cannot alter, disable the
// triggers of, truncate or drop any table — only an owner can — and on the
// audit tables it may only read and append.

// appendOnly are the tables the serving role may only read and append to.
var appendOnly = map[string]bool{"audit_events": true, "audit_checkpoints": true}

// Prepare returns the database the server runs on, with its schema current.
// When migrationURL (the owner's) is set, migrations run through it and the
// serving role — servingRole, or by default the user of target when it
// differs from migrationURL's — is granted its privileges. target itself is
// migrated only when its schema is behind, so a serving role that may not
// migrate starts fine on a current schema.
func Prepare(target, migrationURL, servingRole string, o Options) (*DB, error) {
	if migrationURL != "" {
		if err := MigrateAsOwner(migrationURL, ServingRole(target, migrationURL, servingRole)); err != nil {
			return nil, err
		}
	}
	db, err := OpenWith(target, o)
	if err != nil {
		return nil, err
	}
	if err := db.EnsureCurrent(); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// MigrateAsOwner migrates the database through the owner's URL, then grants
// role (when not empty) the serving privileges.
func MigrateAsOwner(ownerURL, role string) error {
	owner, err := Open(ownerURL)
	if err != nil {
		return err
	}
	defer owner.Close()
	if err := owner.Migrate(); err != nil {
		return err
	}
	if role == "" {
		return nil
	}
	return owner.GrantServing(role)
}

// ServingRole is the role to grant the serving privileges to: explicit when
// set, otherwise the user named in target when migrations run through
// another user (migrationURL).
func ServingRole(target, migrationURL, explicit string) string {
	if explicit != "" || migrationURL == "" {
		return explicit
	}
	if serving := urlUser(target); serving != urlUser(migrationURL) {
		return serving
	}
	return ""
}

func urlUser(raw string) string {
	if !strings.HasPrefix(raw, "postgres://") && !strings.HasPrefix(raw, "postgresql://") {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return ""
	}
	return u.User.Username()
}

// EnsureCurrent migrates the database only when its schema is not at this
// build's latest version. An error then says how to migrate as the owner.
func (d *DB) EnsureCurrent() error {
	latest, err := latestVersion(d.Dialect)
	if err != nil {
		return err
	}
	var current uint64
	var dirty bool
	// No table yet reads as version 0.
	if err := d.SQL.QueryRow(`SELECT version, dirty FROM schema_migrations LIMIT 1`).Scan(&current, &dirty); err == nil && !dirty && current == latest {
		return nil
	}
	if err := d.Migrate(); err != nil {
		return fmt.Errorf("%w (the schema is at version %d and this build needs %d: migrate as the database owner, "+
			"with `gatehouse migrate` and GATEHOUSE_MIGRATION_DATABASE_URL)", err, current, latest)
	}
	return nil
}

// latestVersion is the version of the last embedded migration.
func latestVersion(dia string) (uint64, error) {
	entries, err := fs.ReadDir(migrations.FS, migrationsFolder(dia))
	if err != nil {
		return 0, err
	}
	var latest uint64
	for _, e := range entries {
		v, _, ok := strings.Cut(e.Name(), "_")
		if n, err := strconv.ParseUint(v, 10, 64); ok && err == nil && strings.HasSuffix(e.Name(), ".up.sql") {
			latest = max(latest, n)
		}
	}
	return latest, nil
}

func migrationsFolder(dia string) string {
	if dia == dialect.Postgres {
		return "postgres"
	}
	return "sqlite"
}

// GrantServing gives role exactly what the server needs on every table of
// the current schema, revoking anything more: reading and writing the
// tables, only reading and appending to the audit tables, reading the
// migration version. It is idempotent, and runs in one transaction so that
// running servers never see fewer privileges. PostgreSQL only.
func (d *DB) GrantServing(role string) error {
	if d.Dialect != dialect.Postgres {
		return errors.New("database: serving roles are a PostgreSQL feature")
	}
	ctx := context.Background()
	var self, schema string
	var super sql.NullBool
	if err := d.SQL.QueryRowContext(ctx, `SELECT current_user, current_schema(), (SELECT rolsuper FROM pg_roles WHERE rolname = $1)`, role).
		Scan(&self, &schema, &super); err != nil {
		return fmt.Errorf("database: grant: %w", err)
	}
	switch {
	case !super.Valid:
		return fmt.Errorf("database: the serving role %q does not exist (see the README's \"Production database roles\")", role)
	case super.Bool:
		return fmt.Errorf("database: the serving role %q is a superuser, which could rewrite the audit log: serve as a role without SUPERUSER", role)
	case role == self:
		return fmt.Errorf("database: the serving role %q is the role that migrates (the owner): serve as another role", role)
	}
	tx, err := d.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename`, schema)
	if err != nil {
		return fmt.Errorf("database: grant: %w", err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	rows.Close()
	r, s := pq.QuoteIdentifier(role), pq.QuoteIdentifier(schema)
	stmts := []string{"GRANT USAGE ON SCHEMA " + s + " TO " + r}
	for _, t := range tables {
		privileges := "SELECT, INSERT, UPDATE, DELETE"
		switch {
		case appendOnly[t]:
			privileges = "SELECT, INSERT"
		case t == "schema_migrations":
			privileges = "SELECT"
		}
		q := s + "." + pq.QuoteIdentifier(t)
		stmts = append(stmts, "REVOKE ALL ON TABLE "+q+" FROM "+r, "GRANT "+privileges+" ON TABLE "+q+" TO "+r)
	}
	stmts = append(stmts, "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "+s+" TO "+r)
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("database: grant: %w", err)
		}
	}
	return tx.Commit()
}

// CanRewriteAudit reports whether this connection's role could rewrite the
// audit log: it owns (or is a member of the owner of) audit_events, or is a
// superuser. Production serving roles cannot (L4).
func (d *DB) CanRewriteAudit(ctx context.Context) (bool, error) {
	if d.Dialect != dialect.Postgres {
		return true, nil // a SQLite file is as writable as its file system allows
	}
	var can bool
	err := d.SQL.QueryRowContext(ctx, `SELECT COALESCE(bool_or(pg_has_role(current_user, t.tableowner, 'USAGE')), false)
       OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
FROM pg_tables t WHERE t.schemaname = current_schema() AND t.tablename = 'audit_events'`).Scan(&can)
	return can, err
}
