package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"entgo.io/ent/dialect"
	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse-iam/gatehouse/ent/operatorkey"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/database"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
	"github.com/gatehouse-iam/gatehouse/graph/server"
	"github.com/gatehouse-iam/gatehouse/graph/telemetry"
)

func newLogger(cfg *server.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(cfg.LogFormat, "json") {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// openDB opens the configured database as a server starts, with its schema
// current: migrated through the owner's URL when one is configured (L4),
// otherwise migrated when behind; a newer schema that still serves this
// binary is left alone (a rolling upgrade, or a rollback). tp, when not
// nil, traces the pool's statements.
func openDB(ctx context.Context, cfg *server.Config, log *slog.Logger, tp trace.TracerProvider) (*database.DB, error) {
	opts := cfg.DatabaseOptions()
	opts.TracerProvider = tp
	return database.Prepare(cfg.DatabaseTarget(), cfg.MigrationDatabaseURL, cfg.ServingRole, opts)
}

func serveCmd(cfg *server.Config, loader *server.Loader) *cobra.Command {
	var demo bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the GraphQL API (the default command)",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			log := newLogger(cfg)
			// Bind before anything else, so that an address in use is
			// refused like any other configuration mistake.
			ln, err := net.Listen("tcp", cfg.Addr)
			if err != nil {
				return loader.Refuse("GATEHOUSE_ADDR", listenProblem(err), "use a free host:port, e.g. :8080 or 127.0.0.1:8080")
			}
			defer ln.Close()
			adminLn, err := listenAdmin(cfg, loader)
			if err != nil {
				return err
			}
			tlsConf, err := cfg.TLS(log)
			if err != nil {
				return err
			}
			bi := buildInfo()
			tp, stopTracing, err := telemetry.FromEnv(ctx, bi.Version)
			if err != nil {
				return err
			}
			defer flushTraces(stopTracing, log)
			db, err := openDB(ctx, cfg, log, tp)
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
			srv, err := server.New(ctx, *cfg, db, log, server.WithTracerProvider(tp), server.WithBuild(bi.Version, bi.Commit))
			if err != nil {
				return err
			}
			defer srv.Close()
			admin := startAdmin(adminLn, cfg, srv, log)
			scheme := "http"
			if tlsConf != nil {
				scheme = "https"
			}
			graphiql := scheme + "://localhost" + portOf(ln.Addr().String()) + "/"
			if demo {
				if err := seedDemo(ctx, srv.Service, cmd.OutOrStdout(), graphiql); err != nil {
					return err
				}
			}
			if err := hintFirstOperatorKey(ctx, db, log); err != nil {
				return err
			}
			hs := &http.Server{Handler: srv, TLSConfig: tlsConf, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
			errc := make(chan error, 1)
			if tlsConf != nil {
				go func() { errc <- hs.ServeTLS(ln, "", "") }()
			} else {
				go func() { errc <- hs.Serve(ln) }()
			}
			log.Info("gatehouse listening", "addr", ln.Addr().String(), "database", db.Dialect, "graphiql", graphiql, "tracing", tp != nil)
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
			if admin != nil {
				_ = admin.Shutdown(sctx)
			}
			return nil
		},
	}
	configured(cmd, loader)
	cmd.Flags().BoolVar(&demo, "demo", false, "create one demo account per template and print keys to try them")
	return cmd
}

// listenProblem says in a few words why the listen address cannot be used.
func listenProblem(err error) string {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return "the address is already in use"
	case errors.Is(err, syscall.EACCES):
		return "permission denied (ports below 1024 need privileges)"
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// hintFirstOperatorKey tells whoever starts Gatehouse on an empty database
// how to get in: nothing answers without an operator key.
func hintFirstOperatorKey(ctx context.Context, db *database.DB, log *slog.Logger) error {
	n, err := db.Client.OperatorKey.Query().Where(operatorkey.RevokedAtIsNil()).Count(ctx)
	if err != nil || n > 0 {
		return err
	}
	log.Warn("no operator key yet: create the first with `gatehouse bootstrap --name <you>` (same database settings) and send it as `Authorization: Bearer gko_…`")
	return nil
}

func portOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[i:]
	}
	return ""
}

func bootstrapCmd(cfg *server.Config, loader *server.Loader) *cobra.Command {
	var name string
	var o output
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Create an operator key and print its secret (shown once)",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				return err
			}
			ctx := cmd.Context()
			log := newLogger(cfg)
			db, err := openDB(ctx, cfg, log, nil)
			if err != nil {
				return err
			}
			defer db.Close()
			svc := iam.New(db.Client, db.Dialect, log)
			if err := svc.EnsureBuiltins(ctx); err != nil {
				return err
			}
			ctx = auth.WithMeta(ctx, auth.Meta{RequestID: "bootstrap", ClientAddr: "cli"})
			k, secret, err := svc.CreateOperatorKey(ctx, name)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if o.json() {
				return printJSON(out, map[string]any{"id": k.ID, "name": k.Name, "secret": secret})
			}
			fmt.Fprintf(out, "operator key %s created. Its secret is shown only this once:\n\n%s\n\n", k.ID, secret)
			fmt.Fprintf(out, "Use it as: Authorization: Bearer %s\n", secret)
			return nil
		},
	}
	configured(cmd, loader, databaseGroups...)
	cmd.Flags().StringVar(&name, "name", "operator", "a name for the key")
	outputFlag(cmd, &o)
	return cmd
}
