// Command gatehouse-bench measures Gatehouse from outside: a developer tool,
// not part of the product (`make bench` runs it; see the README's
// "Benchmarks").
//
//	gatehouse-bench run [flags]     seed a dataset, start `gatehouse serve` on it as its own process,
//	                                drive it from this process, print the tables
//	gatehouse-bench seed [flags]    seed a dataset and write its manifest, for `run --manifest`
//	gatehouse-bench serve-bare      a bare net/http handler answering constant JSON (run starts it)
//
// The dataset is N accounts of 20 roles, 50 members and 100 catalog
// permissions each (the shape), written in bulk straight into the
// database; each account gets an API key holding iam.authorize, one holding
// its owner's permissions, and its owner is signed in with an HS256 JWT.
//
// Each round starts a fresh server (its cold start: process start to first
// decision), warms every account (its resident memory per account), then
// measures each workload for a window: the bare handler and Gatehouse at 16
// and 64 clients, an operator key, authorizeMany, the members page, a JWT
// dashboard request, POST /v1/authorize when the server has it, createRole
// against a bare locked-insert loop run straight on the database. On
// PostgreSQL an untimed pass then counts each workload's SQL statements on
// the wire. Everything listens on 127.0.0.1, is bounded by --timeout, and
// stops its processes on the way out.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := command(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse-bench:", err)
		stop()
		os.Exit(1)
	}
}

const usage = `usage: gatehouse-bench run|seed|serve-bare [flags]  (-h for each command's flags)`

func command(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	switch args[0] {
	case "serve-bare":
		addr := fs.String("addr", "127.0.0.1:0", "listen address")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return serveBare(ctx, *addr)
	case "seed":
		var o runOpts
		dataFlags(fs, &o)
		sqlite := fs.String("sqlite", "bench.db", "the SQLite file to create (with --db sqlite)")
		manifest := fs.String("manifest", "bench-manifest.json", "where to write the manifest")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		target := *sqlite
		if o.dialect == "postgres" {
			var err error
			if target, _, err = newTarget("postgres", "", o.postgres); err != nil {
				return err
			}
		} else if _, err := os.Stat(target); err == nil {
			return fmt.Errorf("%s exists: seed into a new file", target)
		}
		m, err := seed(ctx, target, o.shape, func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) })
		if err != nil {
			return err
		}
		if err := m.save(*manifest); err != nil {
			return err
		}
		fmt.Printf("seeded %s on %s in %s: %s\nmanifest: %s\n", o.shape, m.Dialect, m.SeededIn.Round(time.Millisecond), m.Database, *manifest)
		if o.dialect == "postgres" {
			fmt.Printf("drop it when done: DROP DATABASE %s WITH (FORCE)\n", databaseName(m.Database))
		}
		return nil
	case "run":
		var o runOpts
		dataFlags(fs, &o)
		fs.StringVar(&o.manifest, "manifest", "", "measure a dataset made by `seed` instead of seeding one (kept afterwards)")
		fs.StringVar(&o.gatehouse, "gatehouse", "gatehouse", "the gatehouse binary to measure")
		fs.IntVar(&o.rounds, "rounds", 3, "rounds; each starts a fresh server and measures every workload once")
		fs.DurationVar(&o.window, "window", 3*time.Second, "measured time per workload and round")
		fs.DurationVar(&o.slice, "slice", 500*time.Millisecond, "the window is measured in slices this long, interleaved with the other workloads'")
		fs.DurationVar(&o.warm, "warm", 500*time.Millisecond, "unrecorded load before each workload's first slice in a round (100ms before the others)")
		fs.IntVar(&o.countN, "count-requests", 50, "requests per workload in the SQL counting pass (PostgreSQL)")
		workloads := fs.String("workloads", "all",
			"comma-separated: all, or authorize, operator, many, members, viewer, v1, writes, sql, or a workload's id (bare-16, v1-16, ...);\n"+
				"scale = authorize with the start and memory figures only (those are measured every round)")
		fs.BoolVar(&o.keep, "keep", false, "keep the seeded database, its manifest and the logs")
		fs.Func("server-env", "KEY=VALUE for the server (repeatable), e.g. GATEHOUSE_MODEL_CACHE_MB=2048", func(s string) error {
			if !strings.Contains(s, "=") {
				return errors.New("want KEY=VALUE")
			}
			o.serverEnv = append(o.serverEnv, s)
			return nil
		})
		short := fs.Bool("short", false, "one short round on a tiny dataset: checks that everything runs (CI)")
		timeout := fs.Duration("timeout", time.Hour, "stop everything after this long")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		o.groups = strings.Split(*workloads, ",")
		if *short {
			o.shape = Shape{Accounts: 3, Roles: 5, Members: 5, Permissions: 20}
			o.rounds, o.window, o.slice, o.warm, o.countN = 1, 300*time.Millisecond, 150*time.Millisecond, 100*time.Millisecond, 5
		}
		if o.rounds < 1 || o.window <= 0 || o.slice <= 0 || o.countN < 1 {
			return errors.New("--rounds, --window, --slice and --count-requests must be positive")
		}
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		return runBench(ctx, o, os.Stdout)
	}
	return errors.New(usage)
}

// dataFlags are the flags that say where and what to seed.
func dataFlags(fs *flag.FlagSet, o *runOpts) {
	fs.StringVar(&o.dialect, "db", "sqlite", "sqlite or postgres")
	pg := os.Getenv("GATEHOUSE_TEST_POSTGRES_URL")
	if pg == "" {
		pg = "postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	fs.StringVar(&o.postgres, "postgres", pg, "the PostgreSQL server a fresh database is created on (with --db postgres)")
	fs.IntVar(&o.shape.Accounts, "accounts", 100, "accounts")
	fs.IntVar(&o.shape.Roles, "roles", 20, "roles per account (two are the system roles)")
	fs.IntVar(&o.shape.Members, "members", 50, "members per account (the first owns it)")
	fs.IntVar(&o.shape.Permissions, "permissions", 100, "catalog permissions, all in every master list")
}
