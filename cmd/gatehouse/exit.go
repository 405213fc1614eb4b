package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit statuses, for scripts: 0 done, 1 failed, 2 the command line is wrong,
// 3 changes are pending (apply --dry-run --exit-code, like terraform plan
// -detailed-exitcode).
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitPending = 3
)

// exitError ends the process with code; err (nil for a silent end) is
// printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usage marks err as a mistake in the command line (exit status 2).
func usage(err error) error { return &exitError{code: exitUsage, err: err} }

// usagef is usage with a formatted message.
func usagef(format string, args ...any) error { return usage(fmt.Errorf(format, args...)) }

// exitCode is the status err ends the process with, and whether to print it.
func exitCode(err error) (int, bool) {
	var e *exitError
	if errors.As(err, &e) {
		return e.code, e.err != nil
	}
	return exitFailed, true
}

// args wraps a cobra argument check so that its refusals are usage errors.
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return usagef("%v (see `%s --help`)", err, cmd.CommandPath())
		}
		return nil
	}
}

// requireFlags refuses a command line without flags names.
func requireFlags(cmd *cobra.Command, names ...string) error {
	for _, n := range names {
		if f := cmd.Flags().Lookup(n); f == nil || !f.Changed {
			return usagef("%s needs --%s (see `%s --help`)", cmd.CommandPath(), n, cmd.CommandPath())
		}
	}
	return nil
}

// output is the -o flag of commands that print for scripts too.
type output string

func outputFlag(cmd *cobra.Command, o *output) {
	cmd.Flags().StringVarP((*string)(o), "output", "o", "text", "text, or json for scripts")
}

// check refuses a format other than text or json.
func (o output) check() error {
	if o != "text" && o != "json" {
		return usagef("-o %q: use text or json", string(o))
	}
	return nil
}

func (o output) json() bool { return o == "json" }

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
