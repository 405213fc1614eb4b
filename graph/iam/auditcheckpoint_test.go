package iam

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"testing"

	"github.com/gatehouse-iam/gatehouse/ent/auditcheckpoint"
	"github.com/gatehouse-iam/gatehouse/graph/audit"
	"github.com/gatehouse-iam/gatehouse/graph/database"
)

// Two servers that read the same head sign the same checkpoint; the second
// store is a no-op, not an error, on both databases.
func TestL4_SigningTheSameHeadTwice(t *testing.T) {
	forEachDatabase(t, "gatehouse_iam_", func(t *testing.T, db *database.DB) {
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
