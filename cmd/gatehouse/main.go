// Command gatehouse runs the Gatehouse access-management API.
//
//	gatehouse [serve]                 serve GraphQL on :8080 (the default command)
//	gatehouse migrate [status|up|down N|force V]   show or change the schema version
//	gatehouse backup --to FILE        copy the SQLite database while it serves
//	gatehouse bootstrap               create an operator key and print its secret once
//	gatehouse apply                   make an account match a configuration document
//	gatehouse export                  write an account's configuration document
//	gatehouse audit keygen|export|verify   sign, download and check (offline) the audit log
//	gatehouse version                 print the version, commit and build date
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := rootCmd().ExecuteContext(ctx); err != nil {
		code, show := exitCode(err)
		if show {
			fmt.Fprintln(os.Stderr, "gatehouse:", err)
		}
		stop()
		os.Exit(code)
	}
}

// usesConfig marks the commands that read server.Config: their flags and
// GATEHOUSE_* variables are loaded and checked before they run.
const usesConfig = "gatehouse/config"

// Flag groups of the commands that only need the database.
var databaseGroups = []string{"Database", "Logging"}

func rootCmd() *cobra.Command {
	var cfg server.Config
	loader := server.NewLoader(&cfg)
	root := &cobra.Command{
		Use:           "gatehouse",
		Short:         "Gatehouse: access management over GraphQL",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildInfo().String(),
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Annotations[usesConfig] == "" {
				return nil
			}
			return loader.Load(os.Environ())
		},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	// Mistakes in the command line exit with status 2 (see exit.go).
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usagef("%v (see `%s --help`)", err, c.CommandPath())
	})
	root.Args = func(_ *cobra.Command, a []string) error {
		if len(a) > 0 {
			return usagef("unknown command %q (see `gatehouse --help`)", a[0])
		}
		return nil
	}
	// --sqlite was the flag's name before every variable had a flag.
	root.SetGlobalNormalizationFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "sqlite" {
			name = "sqlite-path"
		}
		return pflag.NormalizedName(name)
	})

	serve := serveCmd(&cfg, loader)
	root.AddCommand(serve, migrateCmd(&cfg, loader), backupCmd(&cfg, loader), bootstrapCmd(&cfg, loader), versionCmd(), applyCmd(), exportCmd(), auditCmd())
	root.RunE = serve.RunE
	root.Flags().AddFlagSet(serve.Flags())
	markConfigured(root)
	return root
}

// configured marks cmd as reading the configuration and adds the flags of
// groups (every group when none is named).
func configured(cmd *cobra.Command, loader *server.Loader, groups ...string) *cobra.Command {
	markConfigured(cmd)
	cmd.Flags().AddFlagSet(loader.Flags(groups...))
	return cmd
}

// markConfigured marks commands whose configuration flags are inherited.
func markConfigured(cmds ...*cobra.Command) {
	for _, cmd := range cmds {
		if cmd.Annotations == nil {
			cmd.Annotations = map[string]string{}
		}
		cmd.Annotations[usesConfig] = "yes"
		cmd.SetUsageFunc(groupedUsage)
	}
}

func versionCmd() *cobra.Command {
	var o output
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date and schema version (also --version)",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				return err
			}
			b := buildInfo()
			if o.json() {
				return printJSON(cmd.OutOrStdout(), map[string]any{
					"version": b.Version, "commit": b.Commit, "date": b.Date, "modified": b.Modified, "go": b.Go, "schema": b.Schema,
				})
			}
			fmt.Fprintln(cmd.OutOrStdout(), b)
			return nil
		},
	}
	outputFlag(cmd, &o)
	return cmd
}
