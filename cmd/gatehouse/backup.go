package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse/graph/database"
	"github.com/gatehouse-iam/gatehouse/graph/server"
)

func backupCmd(cfg *server.Config, loader *server.Loader) *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "backup --to FILE",
		Short: "Copy the SQLite database to a new FILE, consistently, while it serves (PostgreSQL: pg_dump)",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.DatabaseURL != "" {
				return database.ErrBackupPostgres
			}
			return withMigrator(cfg, loader, true, func(db *database.DB, g *database.Migrator) error {
				st, err := g.Status(cmd.Context())
				if err != nil {
					return err
				}
				if err := db.Backup(cmd.Context(), to); err != nil {
					return err
				}
				fi, err := os.Stat(to)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "backed up %s to %s (%d bytes, schema %d, integrity ok)\n", cfg.SQLitePath, to, fi.Size(), st.Version)
				return nil
			})
		},
	}
	configured(cmd, loader, databaseGroups...)
	cmd.Flags().StringVar(&to, "to", "", "the new file to write (never overwritten)")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error { return requireFlags(cmd, "to") }
	return cmd
}
