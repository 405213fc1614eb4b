package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"

	"entgo.io/ent/dialect"
)

// ErrBackupPostgres says how PostgreSQL is backed up: with its own tools,
// which copy a live database consistently and restore it.
var ErrBackupPostgres = errors.New(`database: back PostgreSQL up with pg_dump: pg_dump --format=custom --file=gatehouse.dump "$DATABASE_URL" (restore with pg_restore --clean --if-exists --no-owner --dbname="$DATABASE_URL" gatehouse.dump)`)

// Backup writes a consistent copy of the SQLite database to path while it
// serves (VACUUM INTO reads one snapshot), then checks the copy's integrity.
// It refuses to overwrite a file.
func (d *DB) Backup(ctx context.Context, path string) error {
	if d.Dialect == dialect.Postgres {
		return ErrBackupPostgres
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("database: backup: %s exists; choose a new file", path)
	}
	if _, err := d.SQL.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("database: backup: %w", err)
	}
	copyDB, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		return err
	}
	defer copyDB.Close()
	var result string
	if err := copyDB.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&result); err != nil {
		return fmt.Errorf("database: backup: the copy in %s cannot be read: %w", path, err)
	}
	if result != "ok" {
		return fmt.Errorf("database: backup: the copy in %s fails its integrity check: %s", path, result)
	}
	return nil
}
