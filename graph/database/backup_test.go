package database_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/graph/database"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
)

// A backup taken while changes are being written is a consistent copy: it
// opens at the same schema version, and every audit chain in it verifies.
// It never overwrites a file, and PostgreSQL is pointed to pg_dump.
func TestBackup_ConsistentOnlineCopy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := open(t, filepath.Join(dir, "live.db"))
	if err := db.Migrate(); err != nil {
		t.Fatal(err)
	}
	srv, op, acc := serveAcme(t, db)

	// A writer adds roles (each with its audit event) until the backup is done.
	stop, wrote := make(chan struct{}), make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				wrote <- n
				return
			default:
			}
			if _, err := srv.Service.CreateRole(op, iam.CreateRoleInput{AccountID: acc, Name: fmt.Sprintf("Role %d", n), Grants: []string{"iam.members.read"}}); err != nil {
				t.Error(err)
			}
			n++
		}
	}()
	backup := filepath.Join(dir, "backup.db")
	err := db.Backup(ctx, backup)
	close(stop)
	n := <-wrote
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d roles written during the test", n)

	restored := open(t, backup)
	applied, st, err := restored.Upgrade(ctx)
	if err != nil || len(applied) != 0 || st.Version != st.Binary {
		t.Fatalf("the copy's schema: %v, %+v, %v", applied, st, err)
	}
	svc := iam.New(restored.Client, restored.Dialect, slog.New(slog.NewTextHandler(io.Discard, nil)))
	v, err := svc.VerifyAuditChain(op, acc)
	if err != nil || !v.Valid || v.Checked < 1 {
		t.Fatalf("the copy's audit chain: %+v, %v", v, err)
	}

	if err := db.Backup(ctx, backup); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("a second backup to the same file: %v", err)
	}
	if pg := os.Getenv("GATEHOUSE_TEST_POSTGRES_URL"); pg != "" {
		pdb := open(t, pg)
		if err := pdb.Backup(ctx, filepath.Join(dir, "pg.db")); !errors.Is(err, database.ErrBackupPostgres) || !strings.Contains(err.Error(), "pg_dump") {
			t.Fatalf("PostgreSQL backup: %v", err)
		}
	}
}
