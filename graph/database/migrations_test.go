package database

import (
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/ent/migrate/migrations"
)

// Both dialects have the same migrations, so that a schema version means the
// same on either.
func TestMigrations_SameVersionsOnBothDialects(t *testing.T) {
	pg, err := listMigrations(migrations.FS, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	lite, err := listMigrations(migrations.FS, "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	if len(pg) < 4 || !slices.Equal(pg, lite) {
		t.Fatalf("postgres %v\nsqlite   %v", pg, lite)
	}
}

// A DATABASE_URL of another database is refused, not opened as a SQLite file
// named after it.
func TestOpen_RefusesOtherSchemes(t *testing.T) {
	for _, url := range []string{"mysql://u:p@db/gatehouse", "sqlserver://db"} {
		if _, _, _, err := parse(url); err == nil || !strings.Contains(err.Error(), "unsupported URL scheme") {
			t.Errorf("%s: %v", url, err)
		}
	}
	for _, path := range []string{"gatehouse.db", "sqlite:///tmp/g.db", "file:g.db?cache=shared", "postgres://h/db"} {
		if _, _, _, err := parse(path); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}
