// Command gen writes a new versioned migration for each dialect: the SQL that
// takes a database at the latest migration to the current ent schema.
//
//	go run ./ent/migrate/gen <name>
//	go run ./ent/migrate/gen -rehash   # after adding or editing a migration by hand
//
// It replays the existing migrations on a scratch SQLite database in memory and
// on a scratch PostgreSQL database (GATEHOUSE_DEV_DATABASE_URL, default the
// local server), then diffs. Statements the schema cannot express (triggers)
// are written by hand as their own migrations.
package main

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"strings"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/sqltool"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/lib/pq"
	_ "modernc.org/sqlite"

	"github.com/gatehouse-iam/gatehouse/ent/migrate"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: go run ./ent/migrate/gen <name> | -rehash")
	}
	if os.Args[1] == "-rehash" {
		for _, dir := range []string{"ent/migrate/migrations/postgres", "ent/migrate/migrations/sqlite"} {
			if err := rehash(dir); err != nil {
				log.Fatal(err)
			}
		}
		return
	}
	ctx := context.Background()
	pg := os.Getenv("GATEHOUSE_DEV_DATABASE_URL")
	if pg == "" {
		pg = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	if err := scratchPostgres(ctx, pg, func(url string) error {
		return diff(ctx, dialect.Postgres, "postgres", url, "ent/migrate/migrations/postgres", os.Args[1])
	}); err != nil {
		log.Fatal(err)
	}
	if err := diff(ctx, dialect.SQLite, "sqlite", "file:dev?mode=memory&_pragma=foreign_keys(1)", "ent/migrate/migrations/sqlite", os.Args[1]); err != nil {
		log.Fatal(err)
	}
}

func diff(ctx context.Context, dia, driver, url, dir, name string) error {
	d, err := sqltool.NewGolangMigrateDir(dir)
	if err != nil {
		return err
	}
	db, err := sql.Open(driver, url)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := schema.NewMigrate(entsql.OpenDB(dia, db),
		schema.WithDir(d),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(dia),
		schema.WithFormatter(sqltool.GolangMigrateFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
	)
	if err != nil {
		return err
	}
	if err := m.NamedDiff(ctx, name, migrate.Tables...); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	return nil
}

// rehash rewrites a directory's atlas.sum, which guards the migrations'
// integrity when new ones are generated.
func rehash(path string) error {
	d, err := sqltool.NewGolangMigrateDir(path)
	if err != nil {
		return err
	}
	sum, err := d.Checksum()
	if err != nil {
		return err
	}
	return atlasmigrate.WriteSumFile(d, sum)
}

// scratchPostgres runs fn against a new, empty database dropped afterwards.
func scratchPostgres(ctx context.Context, url string, fn func(url string) error) error {
	admin, err := sql.Open("postgres", url)
	if err != nil {
		return err
	}
	defer admin.Close()
	const name = "gatehouse_migrate_dev"
	_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return err
	}
	defer admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name)
	i := strings.LastIndex(url, "/")
	q := ""
	if j := strings.Index(url[i:], "?"); j >= 0 {
		q = url[i+j:]
	}
	return fn(url[:i+1] + name + q)
}
