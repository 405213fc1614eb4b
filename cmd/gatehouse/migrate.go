package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse/graph/database"
	"github.com/gatehouse-iam/gatehouse/graph/server"
)

func migrateCmd(cfg *server.Config, loader *server.Loader) *cobra.Command {
	up := &cobra.Command{
		Use:   "up",
		Short: "Apply the pending migrations (what `gatehouse serve` does on start)",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withMigrator(cfg, loader, false, func(db *database.DB, g *database.Migrator) error {
				applied, st, err := g.Up(cmd.Context())
				out := cmd.OutOrStdout()
				for _, m := range applied {
					fmt.Fprintln(out, "applied", m)
				}
				if err != nil {
					return err
				}
				// The owner migrated: the serving role gets exactly what the
				// server needs, and cannot rewrite the audit log (L4).
				if role := database.ServingRole(cfg.DatabaseTarget(), cfg.MigrationDatabaseURL, cfg.ServingRole); role != "" {
					if err := db.GrantServing(role); err != nil {
						return err
					}
					fmt.Fprintf(out, "serving role %s granted its privileges\n", role)
				}
				switch {
				case st.Newer():
					fmt.Fprintf(out, "nothing to apply: the schema (%d) is newer than this binary's (%d) and still serves it\n", st.Version, st.Binary)
				case len(applied) == 0:
					fmt.Fprintf(out, "nothing to apply: the schema is at %s\n", name(st, st.Version))
				default:
					fmt.Fprintf(out, "the schema is at %s\n", name(st, st.Version))
				}
				return nil
			})
		},
	}
	var o output
	status := &cobra.Command{
		Use:   "status",
		Short: "Print the schema version, whether it is dirty, and the pending migrations",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				return err
			}
			return withMigrator(cfg, loader, true, func(_ *database.DB, g *database.Migrator) error {
				st, err := g.Status(cmd.Context())
				if err != nil {
					return err
				}
				if o.json() {
					return printJSON(cmd.OutOrStdout(), statusJSON(st))
				}
				printStatus(cmd.OutOrStdout(), st)
				return nil
			})
		},
	}
	outputFlag(status, &o)
	down := &cobra.Command{
		Use:   "down N",
		Short: "Revert the N newest migrations (with the binary that applied them)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[0])
			if err != nil || n < 1 {
				return fmt.Errorf("migrate down %q: N is the number of migrations to revert, a whole number above 0", args[0])
			}
			return withMigrator(cfg, loader, true, func(_ *database.DB, g *database.Migrator) error {
				reverted, err := g.Down(cmd.Context(), n)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				for _, m := range reverted {
					fmt.Fprintln(out, "reverted", m)
				}
				st, err := g.Status(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "the schema is at %s\n", name(st, st.Version))
				return nil
			})
		},
	}
	force := &cobra.Command{
		Use:   "force VERSION|none",
		Short: "Record VERSION as applied and clean, running nothing (after repairing a failed migration)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := strconv.Atoi(args[0])
			if args[0] == "none" {
				v, err = -1, nil
			}
			if err != nil || v < -1 {
				return fmt.Errorf("migrate force %q: VERSION is a migration's version (see `gatehouse migrate status`), or none", args[0])
			}
			return withMigrator(cfg, loader, true, func(_ *database.DB, g *database.Migrator) error {
				if err := g.Force(v); err != nil {
					return err
				}
				at := "at " + args[0]
				if v == -1 {
					at = "as empty"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "the schema is recorded %s, clean; no migration was run\n", at)
				return nil
			})
		},
	}
	cmd := &cobra.Command{
		Use:   "migrate [status | up | down N | force VERSION]",
		Short: "Show or change the database schema version (alone: up)",
		Args:  args(cobra.NoArgs),
		RunE:  up.RunE,
	}
	cmd.PersistentFlags().AddFlagSet(loader.Flags(databaseGroups...))
	cmd.AddCommand(status, up, down, force)
	markConfigured(cmd, status, up, down, force)
	return cmd
}

// withMigrator runs fn on the configured database without migrating it.
func withMigrator(cfg *server.Config, loader *server.Loader, mustExist bool, fn func(*database.DB, *database.Migrator) error) error {
	db, err := openDatabase(cfg, loader, mustExist)
	if err != nil {
		return err
	}
	defer db.Close()
	g, err := db.Migrator()
	if err != nil {
		return err
	}
	defer g.Close()
	return fn(db, g)
}

// openDatabase opens the configured database without migrating it, as its
// owner when GATEHOUSE_MIGRATION_DATABASE_URL is set (L4). With mustExist,
// a missing SQLite file is refused rather than created empty.
func openDatabase(cfg *server.Config, loader *server.Loader, mustExist bool) (*database.DB, error) {
	if mustExist && cfg.DatabaseURL == "" && !strings.HasPrefix(cfg.SQLitePath, "file:") {
		if _, err := os.Stat(strings.TrimPrefix(cfg.SQLitePath, "sqlite://")); err != nil {
			return nil, loader.Refuse("GATEHOUSE_SQLITE_PATH", "there is no such file", "use the path of an existing database")
		}
	}
	if cfg.MigrationDatabaseURL != "" {
		return database.Open(cfg.MigrationDatabaseURL)
	}
	return database.Open(cfg.DatabaseTarget())
}

// name is a version with its migration's name, when this binary knows it.
func name(st database.SchemaStatus, v uint) string {
	if v == 0 {
		return "none (empty database)"
	}
	for _, m := range st.Known {
		if m.Version == v {
			return m.String()
		}
	}
	return fmt.Sprintf("%d (newer than this binary)", v)
}

func printStatus(w io.Writer, st database.SchemaStatus) {
	yesNo := map[bool]string{true: "yes", false: "no"}
	fmt.Fprintf(w, "schema:          %s\n", name(st, st.Version))
	fmt.Fprintf(w, "dirty:           %s\n", yesNo[st.Dirty])
	fmt.Fprintf(w, "this binary:     %s\n", name(st, st.Binary))
	oldest := "any (the schema does not record it)"
	if st.MinBinary > 0 {
		oldest = strconv.FormatUint(uint64(st.MinBinary), 10) + " or newer"
	}
	fmt.Fprintf(w, "serves binaries: %s\n", oldest)
	serves := "yes"
	if err := st.Serves(); err != nil {
		serves = "no: " + strings.TrimPrefix(err.Error(), "database: ")
	}
	fmt.Fprintf(w, "this binary may serve it: %s\n", serves)
	fmt.Fprintf(w, "pending:         %d\n", len(st.Pending))
	for _, m := range st.Pending {
		fmt.Fprintf(w, "  %s\n", m)
	}
}

// statusJSON is what `migrate status -o json` prints: the same facts as the
// text, by name.
func statusJSON(st database.SchemaStatus) map[string]any {
	names := func(ms []database.Migration) []string {
		out := []string{}
		for _, m := range ms {
			out = append(out, m.String())
		}
		return out
	}
	serves, why := true, ""
	if err := st.Serves(); err != nil {
		serves, why = false, strings.TrimPrefix(err.Error(), "database: ")
	}
	return map[string]any{
		"version": st.Version, "dirty": st.Dirty, "binary": st.Binary, "minBinary": st.MinBinary,
		"serves": serves, "servesProblem": why, "pending": names(st.Pending),
	}
}
