package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
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
	_ = cmd.MarkFlagRequired("account")
}

func exportCmd() *cobra.Command {
	var c client
	var account, file string
	cmd := &cobra.Command{
		Use:   "export --account acc_… [-f config.json]",
		Short: "Write an account's access configuration as JSON (a GraphQL client of the server)",
		RunE: func(cmd *cobra.Command, _ []string) error {
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
	cmd.Flags().StringVarP(&file, "file", "f", "", "where to write (default stdout)")
	return cmd
}

func applyCmd() *cobra.Command {
	var c client
	var account, file string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "apply -f config.json --account acc_… [--dry-run]",
		Short: "Make an account match a configuration document; prints the plan (a GraphQL client of the server)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			var doc map[string]any
			if err := json.Unmarshal(raw, &doc); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			var out struct {
				ApplyAccessConfig struct {
					Applied bool `json:"applied"`
					Plan    []struct {
						Kind, Key, Action string
					} `json:"plan"`
				} `json:"applyAccessConfig"`
			}
			err = c.do(cmd.Context(), `mutation($in: ApplyAccessConfigInput!) { applyAccessConfig(input: $in) { applied plan { kind key action } } }`,
				map[string]any{"in": map[string]any{"accountId": account, "document": doc, "dryRun": dryRun}}, &out)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			p := out.ApplyAccessConfig
			if len(p.Plan) == 0 {
				fmt.Fprintln(w, "no changes: the account matches", file)
				return nil
			}
			for _, st := range p.Plan {
				fmt.Fprintf(w, "%-7s %-9s %s\n", st.Action, st.Kind, st.Key)
			}
			if p.Applied {
				fmt.Fprintf(w, "applied %d changes\n", len(p.Plan))
			} else {
				fmt.Fprintf(w, "dry run: %d changes planned, none applied\n", len(p.Plan))
			}
			return nil
		},
	}
	clientFlags(cmd, &c, &account)
	cmd.Flags().StringVarP(&file, "file", "f", "", "the configuration document (JSON)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan without applying it")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}
