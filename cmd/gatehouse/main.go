// Command gatehouse runs the Gatehouse access-management API.
//
//	gatehouse [serve]     serve GraphQL on :8080 (the default command)
//	gatehouse migrate     apply database migrations and exit
//	gatehouse bootstrap   create an operator key and print its secret once
//	gatehouse apply       make an account match a configuration document
//	gatehouse export      write an account's configuration document
//	gatehouse audit       keygen, export and verify (offline) the audit log
//	gatehouse version     print the version
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/caarlos0/env/v11"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := rootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse:", err)
		os.Exit(1)
	}
}

func rootCmd() *cobra.Command {
	var cfg server.Config
	root := &cobra.Command{
		Use:           "gatehouse",
		Short:         "Gatehouse: access management over GraphQL",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			// Flags set on the command line win over the environment.
			flags := cmd.Flags()
			var restore []func() error
			flags.Visit(func(f *pflagFlag) {
				if s, ok := f.Value.(pflag.SliceValue); ok { // Set would append to it
					v := s.GetSlice()
					restore = append(restore, func() error { return s.Replace(v) })
					return
				}
				v := f.Value.String()
				restore = append(restore, func() error { return flags.Set(f.Name, v) })
			})
			if err := env.Parse(&cfg); err != nil {
				return err
			}
			for _, r := range restore {
				if err := r(); err != nil {
					return err
				}
			}
			return nil
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&cfg.DatabaseURL, "database-url", "", "PostgreSQL URL (env DATABASE_URL); empty uses the SQLite file")
	pf.StringVar(&cfg.SQLitePath, "sqlite", "gatehouse.db", "SQLite file used when no database URL is set (env GATEHOUSE_SQLITE_PATH)")
	pf.StringVar(&cfg.LogLevel, "log-level", "info", "debug, info, warn or error (env GATEHOUSE_LOG_LEVEL)")
	pf.StringVar(&cfg.MigrationDatabaseURL, "migration-database-url", "", "the database owner's PostgreSQL URL, for migrations (env GATEHOUSE_MIGRATION_DATABASE_URL)")
	pf.StringVar(&cfg.ServingRole, "serving-role", "", "the role to grant the serving privileges after migrating (env GATEHOUSE_SERVING_ROLE; default: the database URL's user)")

	serve := serveCmd(&cfg)
	root.AddCommand(serve, migrateCmd(&cfg), bootstrapCmd(&cfg), versionCmd(), applyCmd(), exportCmd(), auditCmd())
	root.RunE = serve.RunE
	root.Flags().AddFlagSet(serve.Flags())
	return root
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Run:   func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), "gatehouse", version) },
	}
}
