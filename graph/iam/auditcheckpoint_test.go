package iam

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehouse-iam/gatehouse/ent/auditcheckpoint"
	"github.com/gatehouse-iam/gatehouse/graph/audit"
	"github.com/gatehouse-iam/gatehouse/graph/database"
	"github.com/gatehouse-iam/gatehouse/graph/database/pgtest"
)

// Two servers that read the same head sign the same checkpoint; the second
// store is a no-op, not an error, on both databases.
func TestL4_SigningTheSameHeadTwice(t *testing.T) {
	targets := map[string]string{"sqlite": filepath.Join(t.TempDir(), "g.db")}
	if base := os.Getenv("GATEHOUSE_TEST_POSTGRES_URL"); base != "" {
		targets["postgres"] = pgtest.Scratch(t, base, "gatehouse_iam_")
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
			s := New(db.Client, db.Dialect, nil)
			_, priv, _ := ed25519.GenerateKey(nil)
			signer := audit.NewSigner(priv)
			ctx := context.Background()
			for i := range 2 { // two platform events
				if _, _, err := s.CreateOperatorKey(ctx, fmt.Sprint("k", i)); err != nil {
					t.Fatal(err)
				}
			}
			for range 2 {
				if to, err := s.signCheckpoint(ctx, signer, "", 0, 2); err != nil || to != 2 {
					t.Fatalf("signing: %d %v", to, err)
				}
			}
			if n := db.Client.AuditCheckpoint.Query().Where(auditcheckpoint.AccountID("")).CountX(ctx); n != 1 {
				t.Fatalf("%d checkpoints of one head", n)
			}
		})
	}
}
