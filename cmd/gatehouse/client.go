package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse/graph/iam"
)

// client is a small GraphQL client of a Gatehouse server, for the apply and
// export commands.
type client struct {
	url, key string
	http     *http.Client
}

// gqlError is a GraphQL error as the server reports it.
type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

func (c *client) do(ctx context.Context, query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 32<<20))
	if err != nil {
		return err
	}
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		return fmt.Errorf("HTTP %d: %s", res.StatusCode, strings.TrimSpace(string(raw)))
	}
	if len(resp.Errors) > 0 {
		var msgs []string
		for _, e := range resp.Errors {
			msgs = append(msgs, fmt.Sprintf("%s (%v)", e.Message, e.Extensions["code"]))
		}
		return fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	return json.Unmarshal(resp.Data, out)
}

// clientFlags adds --url, --key and --account to cmd.
func clientFlags(cmd *cobra.Command, c *client, account *string) {
	c.http = &http.Client{Timeout: 60 * time.Second}
	url := os.Getenv("GATEHOUSE_URL")
	if url == "" {
		url = "http://localhost:8080/graphql"
	}
	cmd.Flags().StringVar(&c.url, "url", url, "the server's GraphQL endpoint (env GATEHOUSE_URL)")
	cmd.Flags().StringVar(&c.key, "key", os.Getenv("GATEHOUSE_KEY"), "an operator key or API key (env GATEHOUSE_KEY)")
	cmd.Flags().StringVar(account, "account", "", "the account id (acc_…)")
}

func exportCmd() *cobra.Command {
	var c client
	var account, file string
	var o output
	cmd := &cobra.Command{
		Use:   "export --account acc_… [-f config.json]",
		Short: "Write an account's access configuration as JSON (a GraphQL client of the server)",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				return err
			}
			if err := requireFlags(cmd, "account"); err != nil {
				return err
			}
			var out struct {
				Account *struct {
					ExportAccessConfig json.RawMessage `json:"exportAccessConfig"`
				} `json:"account"`
			}
			if err := c.do(cmd.Context(), `query($id: ID!) { account(id: $id) { exportAccessConfig } }`, map[string]any{"id": account}, &out); err != nil {
				return err
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, out.Account.ExportAccessConfig, "", "  "); err != nil {
				return err
			}
			pretty.WriteByte('\n')
			if file == "" || file == "-" {
				_, err := cmd.OutOrStdout().Write(pretty.Bytes())
				return err
			}
			return os.WriteFile(file, pretty.Bytes(), 0o644)
		},
	}
	clientFlags(cmd, &c, &account)
	cmd.Flags().StringVarP(&file, "file", "f", "", "where to write (default, or -: stdout)")
	cmd.Flags().StringVarP((*string)(&o), "output", "o", "json", "json (the document is JSON either way; text is accepted too)")
	return cmd
}

// planStep is one step of applyAccessConfig's answer.
type planStep struct {
	Kind    string         `json:"kind"`
	Key     string         `json:"key"`
	Action  string         `json:"action"`
	Changes map[string]any `json:"changes,omitempty"`
}

func applyCmd() *cobra.Command {
	var c client
	var account, file string
	var dryRun, prune, exitCodes, schema bool
	var o output
	cmd := &cobra.Command{
		Use:   "apply -f config.json|- --account acc_… [--dry-run [--exit-code]] [--prune]",
		Short: "Make an account match a configuration document; prints the plan (a GraphQL client of the server)",
		Long: `Make an account match a configuration document (JSON; -f - reads stdin) and print the plan.

A section (settings, roles, scopes, members, sodRules) the document leaves out is
left alone, and so is a setting; {} changes nothing. An object a given section
leaves out is deleted only with --prune: otherwise it is listed as KEEP.

Exit status: 0 done (or nothing to do), 1 failed, 2 wrong command line, and
with --exit-code 3 when the plan is not empty (with --dry-run: changes are
pending). --schema prints the document's JSON Schema, for editors.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				return err
			}
			if schema {
				return printJSON(cmd.OutOrStdout(), iam.AccessConfigSchema())
			}
			if err := requireFlags(cmd, "file", "account"); err != nil {
				return err
			}
			raw, err := readInput(cmd, file)
			if err != nil {
				return err
			}
			var doc map[string]any
			if err := json.Unmarshal(raw, &doc); err != nil {
				return fmt.Errorf("%s: not a JSON object: %w", inputName(file), err)
			}
			var out struct {
				ApplyAccessConfig struct {
					Applied bool       `json:"applied"`
					Plan    []planStep `json:"plan"`
					Kept    []planStep `json:"kept"`
				} `json:"applyAccessConfig"`
			}
			err = c.do(cmd.Context(), `mutation($in: ApplyAccessConfigInput!) {
				applyAccessConfig(input: $in) { applied plan { kind key action changes } kept { kind key action } } }`,
				map[string]any{"in": map[string]any{"accountId": account, "document": doc, "dryRun": dryRun, "prune": prune}}, &out)
			if err != nil {
				return err
			}
			p := out.ApplyAccessConfig
			if o.json() {
				err = printJSON(cmd.OutOrStdout(), map[string]any{"applied": p.Applied, "changes": len(p.Plan), "plan": nonNil(p.Plan), "kept": nonNil(p.Kept)})
			} else {
				printPlan(cmd.OutOrStdout(), inputName(file), p.Applied, p.Plan, p.Kept)
			}
			if err == nil && exitCodes && len(p.Plan) > 0 {
				return &exitError{code: exitPending}
			}
			return err
		},
	}
	clientFlags(cmd, &c, &account)
	cmd.Flags().StringVarP(&file, "file", "f", "", "the configuration document (JSON); - reads stdin")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan without applying it (it is checked as a real apply would be)")
	cmd.Flags().BoolVar(&prune, "prune", false, "delete what a section of the document leaves out (kept otherwise)")
	cmd.Flags().BoolVar(&exitCodes, "exit-code", false, "exit with status 3 when the plan is not empty")
	cmd.Flags().BoolVar(&schema, "schema", false, "print the document's JSON Schema and exit")
	outputFlag(cmd, &o)
	return cmd
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// readInput reads file, or stdin for "-".
func readInput(cmd *cobra.Command, file string) ([]byte, error) {
	if file == "-" {
		return io.ReadAll(cmd.InOrStdin())
	}
	return os.ReadFile(file)
}

func inputName(file string) string {
	if file == "-" {
		return "the document"
	}
	return file
}

// printPlan prints a plan a line a step, with the fields an UPDATE changes
// under it, then what is kept, then what happened.
func printPlan(w io.Writer, file string, applied bool, plan, kept []planStep) {
	for _, st := range plan {
		fmt.Fprintf(w, "%-7s %-9s %s\n", st.Action, st.Kind, st.Key)
		if st.Action == "UPDATE" {
			for _, line := range fieldChanges(st.Changes) {
				fmt.Fprintf(w, "          %s\n", line)
			}
		}
	}
	for _, st := range kept {
		fmt.Fprintf(w, "%-7s %-9s %s (kept; --prune to delete)\n", st.Action, st.Kind, st.Key)
	}
	switch {
	case len(plan) == 0:
		fmt.Fprintln(w, "no changes: the account matches", file)
	case applied:
		fmt.Fprintf(w, "applied %d changes\n", len(plan))
	default:
		fmt.Fprintf(w, "dry run: %d changes planned, none applied\n", len(plan))
	}
}

// fieldChanges lists the fields whose values differ between changes'
// before and after, as "field: before → after".
func fieldChanges(changes map[string]any) []string {
	before, _ := changes["before"].(map[string]any)
	after, _ := changes["after"].(map[string]any)
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		b, _ := json.Marshal(before[k])
		a, _ := json.Marshal(after[k])
		if !bytes.Equal(a, b) {
			lines = append(lines, fmt.Sprintf("%s: %s → %s", k, b, a))
		}
	}
	return lines
}
