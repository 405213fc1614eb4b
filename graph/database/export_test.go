package database

import "io/fs"

// MigratorFrom opens the migrations in fsys (its postgres/ and sqlite/
// folders), as a binary with another migration set would.
func (d *DB) MigratorFrom(fsys fs.FS) (*Migrator, error) { return d.migratorFrom(fsys) }
