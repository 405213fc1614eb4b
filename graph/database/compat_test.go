package database_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gatehouse-iam/gatehouse/ent/migrate/migrations"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/database"
	"github.com/gatehouse-iam/gatehouse/graph/database/pgtest"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// migrationSet is the embedded migrations whose paths keep keeps.
func migrationSet(t *testing.T, keep func(path string) bool) fstest.MapFS {
	t.Helper()
	set := fstest.MapFS{}
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !keep(path) {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		set[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// scratchPostgres is a fresh, empty PostgreSQL database, or skips t when
// the PostgreSQL suite is off.
func scratchPostgres(t *testing.T, prefix string) *database.DB {
	t.Helper()
	base := os.Getenv("GATEHOUSE_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("PostgreSQL suite off: set GATEHOUSE_TEST_POSTGRES_URL")
	}
	return open(t, pgtest.Scratch(t, base, prefix))
}

// forEachDB runs fn on a fresh SQLite file and, when GATEHOUSE_TEST_POSTGRES_URL
// is set, on a fresh PostgreSQL database.
func forEachDB(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, open(t, filepath.Join(t.TempDir(), "g.db")))
	})
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv("GATEHOUSE_TEST_POSTGRES_URL")
		if base == "" {
			t.Skip("PostgreSQL suite off: set GATEHOUSE_TEST_POSTGRES_URL")
		}
		t.Parallel()
		fn(t, open(t, pgtest.Scratch(t, base, "gatehouse_db_")))
	})
}

func open(t *testing.T, target string) *database.DB {
	t.Helper()
	db, err := database.Open(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// serveAcme builds the server over db, as `gatehouse serve` does, and creates
// an account as the operator; it returns the operator's context and the
// account's id.
func serveAcme(t *testing.T, db *database.DB) (*server.Server, context.Context, string) {
	t.Helper()
	ctx := context.Background()
	srv, err := server.New(ctx, server.Config{ParserTokens: 15000, MaxBodyBytes: 1 << 20}, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	op := auth.WithPrincipal(ctx, &auth.Principal{Kind: auth.Operator, ID: "opk_test"})
	acc, _, err := srv.Service.CreateAccount(op, iam.CreateAccountInput{Name: "Acme", Slug: "acme", Owner: &iam.OwnerInput{Email: "ana@acme.test"}})
	if err != nil {
		t.Fatal(err)
	}
	return srv, op, acc.ID
}

// binarySchema is this binary's schema version: its newest migration.
func binarySchema(t *testing.T, db *database.DB) uint {
	t.Helper()
	g, err := db.Migrator()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	st, err := g.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Binary
}

// newerSet is the migration set of a newer binary: this binary's migrations
// and, after them, extra (version → SQL, the same on both dialects).
func newerSet(t *testing.T, extra map[uint]string) fs.FS {
	t.Helper()
	set := migrationSet(t, func(string) bool { return true })
	for v, stmt := range extra {
		for _, folder := range []string{"postgres", "sqlite"} {
			set[fmt.Sprintf("%s/%d_newer.up.sql", folder, v)] = &fstest.MapFile{Data: []byte(stmt)}
			set[fmt.Sprintf("%s/%d_newer.down.sql", folder, v)] = &fstest.MapFile{Data: []byte("SELECT 1;")}
		}
	}
	return set
}

// migrateWith applies a migration set as the binary that embeds it would.
func migrateWith(t *testing.T, db *database.DB, set fs.FS) []database.Migration {
	t.Helper()
	g, err := db.MigratorFrom(set)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	applied, _, err := g.Up(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return applied
}

// expand is a migration a newer release could ship without breaking older
// binaries: a column with a default, which their inserts leave out.
const expand = `ALTER TABLE roles ADD COLUMN newer_note text NOT NULL DEFAULT '';`

// Rolling upgrades and rollbacks: a binary serves — reads and writes —
// against a schema one release newer than its own, without trying to migrate
// it (golang-migrate alone would fail on the unknown version).
func TestUpgrade_BinaryServesNewerSchema(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if err := db.Migrate(); err != nil {
			t.Fatal(err)
		}
		mine := binarySchema(t, db)
		if applied := migrateWith(t, db, newerSet(t, map[uint]string{mine + 1: expand})); len(applied) != 1 || applied[0].Version != mine+1 {
			t.Fatalf("the newer binary applied %v", applied)
		}

		// This binary starts as `gatehouse serve` does.
		applied, st, err := db.Upgrade(ctx)
		if err != nil || len(applied) != 0 || !st.Newer() || st.Version != mine+1 || st.Binary != mine || len(st.Pending) != 0 {
			t.Fatalf("start against a newer schema: applied %v, %+v, %v", applied, st, err)
		}
		srv, op, acc := serveAcme(t, db)
		if _, err := srv.Service.CreateRole(op, iam.CreateRoleInput{AccountID: acc, Name: "Support", Grants: []string{"iam.members.read"}}); err != nil {
			t.Fatal(err)
		}
		if n, err := db.Client.Role.Query().Count(ctx); err != nil || n < 3 {
			t.Fatalf("roles: %d, %v", n, err)
		}
		// The newer binary's column took its default in the rows this one wrote.
		var notes int
		if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM roles WHERE newer_note = ''`).Scan(&notes); err != nil || notes < 3 {
			t.Fatalf("newer_note: %d, %v", notes, err)
		}
		// Down migrations of a newer binary are not this binary's to run.
		g, err := db.Migrator()
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		if _, err := g.Down(ctx, 1); err == nil || !strings.Contains(err.Error(), "newer than this binary") {
			t.Fatalf("down against a newer schema: %v", err)
		}
	})
}

// A schema whose contract step raised min_binary_schema above this binary's
// version refuses it, naming both versions.
func TestUpgrade_RefusesBinaryOlderThanSchemaServes(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *database.DB) {
		if err := db.Migrate(); err != nil {
			t.Fatal(err)
		}
		mine := binarySchema(t, db)
		migrateWith(t, db, newerSet(t, map[uint]string{
			mine + 1: expand,
			mine + 2: fmt.Sprintf(`UPDATE gatehouse_schema_info SET min_binary_schema = %d;`, mine+1),
		}))
		err := db.Migrate()
		var old *database.TooOldError
		if !errors.As(err, &old) || old.Binary != mine || old.MinBinary != mine+1 || old.Schema != mine+2 {
			t.Fatalf("start against a schema that no longer serves this binary: %v", err)
		}
		for _, v := range []uint{mine, mine + 1} {
			if !strings.Contains(err.Error(), strconv.FormatUint(uint64(v), 10)) {
				t.Fatalf("the refusal does not name %d: %v", v, err)
			}
		}
	})
}

// migrate status, up, down N and force VERSION, and a migration that fails
// part-way: the schema is dirty, the server refuses to start and says how to
// recover, and force then up recover.
func TestMigrate_StatusUpDownForce(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		g, err := db.Migrator()
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		st, err := g.Status(ctx)
		if err != nil || st.Version != 0 || len(st.Pending) != len(st.Known) || st.MinBinary != 0 {
			t.Fatalf("empty database: %+v, %v", st, err)
		}
		applied, st, err := g.Up(ctx)
		if err != nil || len(applied) != len(st.Known) || st.Version != st.Binary || len(st.Pending) != 0 || st.MinBinary == 0 || st.MinBinary > st.Binary {
			t.Fatalf("up: %v, %+v, %v", applied, st, err)
		}
		mine := st.Binary
		reverted, err := g.Down(ctx, 2)
		if err != nil || len(reverted) != 2 || reverted[0].Version != mine || reverted[1].Version >= mine {
			t.Fatalf("down 2: %v, %v", reverted, err)
		}
		st, _ = g.Status(ctx)
		// The schema records the oldest binary it serves from the
		// schema_info migration on.
		infoKept := slices.ContainsFunc(st.Known[:len(st.Known)-2], func(m database.Migration) bool {
			return strings.HasSuffix(m.String(), "_schema_info")
		})
		if st.Version != st.Known[len(st.Known)-3].Version || len(st.Pending) != 2 || (st.MinBinary != 0) != infoKept {
			t.Fatalf("after down 2: %+v", st)
		}
		if _, err := g.Down(ctx, 99); err == nil {
			t.Fatal("down beyond the first migration was accepted")
		}
		if applied, _, err := g.Up(ctx); err != nil || len(applied) != 2 {
			t.Fatalf("up again: %v, %v", applied, err)
		}

		// A newer binary's migration fails part-way.
		bad, err := db.MigratorFrom(newerSet(t, map[uint]string{mine + 1: `UPDATE no_such_table SET x = 1;`}))
		if err != nil {
			t.Fatal(err)
		}
		defer bad.Close()
		if _, _, err := bad.Up(ctx); err == nil {
			t.Fatal("a failing migration succeeded")
		}
		err = db.Migrate()
		var dirty *database.DirtyError
		if !errors.As(err, &dirty) || dirty.Version != mine+1 || dirty.Before != mine || !strings.Contains(err.Error(), fmt.Sprintf("gatehouse migrate force %d", mine)) {
			t.Fatalf("start on a dirty schema: %v", err)
		}
		if err := g.Force(12345); err == nil {
			t.Fatal("forcing an unknown version was accepted")
		}
		if err := g.Force(int(mine)); err != nil {
			t.Fatal(err)
		}
		if st, err := g.Status(ctx); err != nil || st.Dirty || st.Version != mine {
			t.Fatalf("after force: %+v, %v", st, err)
		}
		if err := db.Migrate(); err != nil {
			t.Fatal(err)
		}
	})
}
