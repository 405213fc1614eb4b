// Package migrations embeds Gatehouse's versioned SQL migrations, one folder
// per dialect, in golang-migrate's format. They are written by
// `go run ./ent/migrate/gen <name>` from the ent schema, and applied on start.
package migrations

import "embed"

// FS holds postgres/*.sql and sqlite/*.sql.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS
