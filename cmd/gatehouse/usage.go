package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// groupedUsage is cobra's usage with the configuration flags listed by group
// (Server, Database, …), each naming its environment variable.
func groupedUsage(c *cobra.Command) error {
	var b strings.Builder
	b.WriteString("Usage:\n")
	if c.Runnable() {
		fmt.Fprintf(&b, "  %s\n", c.UseLine())
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "  %s [command]\n\nCommands:\n", c.CommandPath())
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				fmt.Fprintf(&b, "  %-*s %s\n", sub.NamePadding(), sub.Name(), sub.Short)
			}
		}
	}
	// Configuration flags (the command's and those it inherits) by group, in
	// Config's order; the rest after them.
	all := pflag.NewFlagSet("all", pflag.ContinueOnError)
	all.AddFlagSet(c.LocalFlags())
	all.AddFlagSet(c.InheritedFlags())
	var groups []string
	byGroup := map[string]*pflag.FlagSet{}
	for _, s := range server.Settings() {
		f := all.Lookup(s.Flag)
		if f == nil {
			continue
		}
		if byGroup[s.Group] == nil {
			groups = append(groups, s.Group)
			byGroup[s.Group] = pflag.NewFlagSet(s.Group, pflag.ContinueOnError)
			byGroup[s.Group].SortFlags = false
		}
		byGroup[s.Group].AddFlag(f)
	}
	ungrouped := func(fs *pflag.FlagSet) *pflag.FlagSet {
		out := pflag.NewFlagSet("", pflag.ContinueOnError)
		fs.VisitAll(func(f *pflag.Flag) {
			if len(f.Annotations[server.GroupAnnotation]) == 0 {
				out.AddFlag(f)
			}
		})
		return out
	}
	other, global := ungrouped(c.LocalFlags()), ungrouped(c.InheritedFlags())
	if len(groups) > 0 {
		b.WriteString("\nEvery setting is a flag or an environment variable; a flag wins over its variable.\n")
	}
	for _, g := range groups {
		fmt.Fprintf(&b, "\n%s:\n%s", g, byGroup[g].FlagUsages())
	}
	if other.HasFlags() {
		fmt.Fprintf(&b, "\nFlags:\n%s", other.FlagUsages())
	}
	if global.HasFlags() {
		fmt.Fprintf(&b, "\nGlobal Flags:\n%s", global.FlagUsages())
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "\nUse \"%s [command] --help\" for more information about a command.\n", c.CommandPath())
	}
	_, err := fmt.Fprint(c.OutOrStderr(), b.String())
	return err
}
