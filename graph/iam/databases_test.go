package iam

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehouse-iam/gatehouse/graph/database"
	"github.com/gatehouse-iam/gatehouse/graph/database/pgtest"
)

// forEachDatabase runs fn on a migrated SQLite database and, when
// GATEHOUSE_TEST_POSTGRES_URL is set, on a scratch PostgreSQL database
// named with prefix.
func forEachDatabase(t *testing.T, prefix string, fn func(t *testing.T, db *database.DB)) {
	targets := map[string]string{"sqlite": filepath.Join(t.TempDir(), "g.db")}
	if base := os.Getenv("GATEHOUSE_TEST_POSTGRES_URL"); base != "" {
		targets["postgres"] = pgtest.Scratch(t, base, prefix)
	}
	for name, target := range targets {
		t.Run(name, func(t *testing.T) {
			db, err := database.Open(target)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(); err != nil {
				t.Fatal(err)
			}
			fn(t, db)
		})
	}
}
