package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/database"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
	"github.com/gatehouse-iam/gatehouse/graph/server"
)

type pflagFlag = pflag.Flag

func newLogger(cfg *server.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(cfg.LogFormat, "json") {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// openDB opens the configured database with its schema current: migrated
// through the owner's URL when one is configured (L4), otherwise only when
// behind.
func openDB(cfg *server.Config) (*database.DB, error) {
	return database.Prepare(cfg.DatabaseTarget(), cfg.MigrationDatabaseURL, cfg.ServingRole, cfg.DatabaseOptions())
}

func serveCmd(cfg *server.Config) *cobra.Command {
	var demo bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the GraphQL API (the default command)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			log := newLogger(cfg)
			db, err := openDB(cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			if db.Dialect == dialect.Postgres {
				if can, err := db.CanRewriteAudit(ctx); err == nil && can {
					log.Warn("the serving database role owns the audit log (or is a superuser) and could rewrite it; " +
						"serve as a separate role: see \"Production database roles\" in the README")
				}
			}
			srv, err := server.New(ctx, *cfg, db, log)
			if err != nil {
				return err
			}
			defer srv.Close()
			if demo {
				if err := seedDemo(ctx, srv.Service, cmd.OutOrStdout(), "http://localhost"+portOf(cfg.Addr)+"/"); err != nil {
					return err
				}
			}
			hs := &http.Server{Addr: cfg.Addr, Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
			errc := make(chan error, 1)
			go func() { errc <- hs.ListenAndServe() }()
			log.Info("gatehouse listening", "addr", cfg.Addr, "database", db.Dialect, "graphiql", "http://localhost"+portOf(cfg.Addr)+"/")
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			// Readiness fails first, so that load balancers stop sending;
			// then the listener closes and requests in flight finish.
			log.Info("shutting down: draining", "delay", cfg.DrainDelay)
			srv.Drain()
			time.Sleep(cfg.DrainDelay)
			sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
			defer cancel()
			if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&cfg.Addr, "addr", ":8080", "listen address (env GATEHOUSE_ADDR)")
	cmd.Flags().BoolVar(&demo, "demo", false, "create one demo account per template and print keys to try them")
	return cmd
}

func portOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[i:]
	}
	return ""
}

func migrateCmd(cfg *server.Config) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply database migrations as the owner, grant the serving role its privileges, and exit",
		Long: `Apply database migrations and exit. They run through the owner's URL
(GATEHOUSE_MIGRATION_DATABASE_URL, or DATABASE_URL when that is unset). On
PostgreSQL the serving role — GATEHOUSE_SERVING_ROLE, or DATABASE_URL's user
when it differs from the owner's — is then granted exactly what the server
needs: it may read and append to the audit log but never change it (L4).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			owner := cfg.MigrationDatabaseURL
			if owner == "" {
				owner = cfg.DatabaseTarget()
			}
			role := database.ServingRole(cfg.DatabaseTarget(), cfg.MigrationDatabaseURL, cfg.ServingRole)
			if err := database.MigrateAsOwner(owner, role); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "migrations applied")
			if role != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "serving role %s granted its privileges\n", role)
			}
			return nil
		},
	}
}

func bootstrapCmd(cfg *server.Config) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Create an operator key and print its secret (shown once)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			db, err := openDB(cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			svc := iam.New(db.Client, db.Dialect, newLogger(cfg))
			if err := svc.EnsureBuiltins(ctx); err != nil {
				return err
			}
			ctx = auth.WithMeta(ctx, auth.Meta{RequestID: "bootstrap", ClientAddr: "cli"})
			k, secret, err := svc.CreateOperatorKey(ctx, name)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "operator key %s created. Its secret is shown only this once:\n\n%s\n\n", k.ID, secret)
			fmt.Fprintf(out, "Use it as: Authorization: Bearer %s\n", secret)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "operator", "a name for the key")
	return cmd
}
