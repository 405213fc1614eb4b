package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse/graph/audit"
)

// auditCmd groups the commands that keep the audit log verifiable (L4).
func auditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Make the audit log's signing key, export the log, verify an export offline",
	}
	cmd.AddCommand(auditKeygenCmd(), auditExportCmd(), auditVerifyCmd())
	return cmd
}

func auditKeygenCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen [--out gatehouse-audit]",
		Short: "Write a new Ed25519 checkpoint signing key (<out>.key) and its public key (<out>.pub)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			priv, pub, err := audit.GenerateKey()
			if err != nil {
				return err
			}
			// Never overwrite a key: checkpoints signed with it would no longer verify.
			if err := writeNew(out+".key", priv, 0o600); err != nil {
				return err
			}
			if err := writeNew(out+".pub", pub, 0o644); err != nil {
				return err
			}
			keys, _ := audit.ParsePublicKeys(pub)
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "wrote %s.key (keep it out of the database and its backups) and %s.pub\n", out, out)
			fmt.Fprintf(w, "key id %s\n\n", audit.KeyID(keys[0]))
			fmt.Fprintf(w, "Sign checkpoints:   GATEHOUSE_AUDIT_SIGNING_KEY=%s.key gatehouse serve\n", out)
			fmt.Fprintf(w, "Verify offline:     gatehouse audit verify --public-key %s.pub audit.jsonl\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "gatehouse-audit", "path prefix of the files to write")
	return cmd
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func auditExportCmd() *cobra.Command {
	var c client
	var account, file string
	cmd := &cobra.Command{
		Use:   "export --account acc_… [-f audit.jsonl]",
		Short: "Download an account's whole audit log with its signed checkpoints (GET /accounts/{id}/audit.jsonl)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			url := strings.TrimSuffix(c.url, "/graphql") + "/accounts/" + account + "/audit.jsonl"
			req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+c.key)
			c.http.Timeout = 0 // a log can be long: no deadline on the whole download
			res, err := c.http.Do(req)
			if err != nil {
				return err
			}
			defer res.Body.Close()
			if res.StatusCode != http.StatusOK {
				body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
				return fmt.Errorf("HTTP %d: %s", res.StatusCode, strings.TrimSpace(string(body)))
			}
			var w io.Writer = cmd.OutOrStdout()
			if file != "" && file != "-" {
				f, err := os.Create(file)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			_, err = io.Copy(w, res.Body)
			return err
		},
	}
	clientFlags(cmd, &c, &account)
	cmd.Flags().StringVarP(&file, "file", "f", "", "where to write (default stdout)")
	return cmd
}

func auditVerifyCmd() *cobra.Command {
	var pubs []string
	cmd := &cobra.Command{
		Use:   "verify --public-key audit.pub export.jsonl",
		Short: "Verify an audit log export offline: every hash, every link, every signed checkpoint",
		Long: `Verify an audit log export (gatehouse audit export, or GET
/accounts/{id}/audit.jsonl) without the server or its database: recompute
every event's hash, check every link of the chain, and check every signed
checkpoint's signature and the hashes it lists. A history rewritten with
recomputed hashes no longer matches the checkpoints: the altered event is
named and the command exits with status 1.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, err := audit.LoadKeys(pubs)
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			x, err := audit.ReadExport(f)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			chain := "the platform's chain"
			if x.AccountID != "" {
				chain = "account " + x.AccountID
			}
			r := x.Verify(keys)
			w := cmd.OutOrStdout()
			if !r.Valid {
				fmt.Fprintf(w, "TAMPERED: %s\n", chain)
				if e := r.FirstBroken; e != nil {
					fmt.Fprintf(w, "event %s (position %d, %s at %s): %s\n", e.ID, e.Seq, e.Action, e.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), r.Problem)
				} else {
					fmt.Fprintln(w, r.Problem)
				}
				fmt.Fprintf(w, "%d events intact before it, %d checkpoints verified\n", r.Checked, r.CheckpointsVerified)
				return errors.New("the audit log does not verify")
			}
			fmt.Fprintf(w, "OK: %s: %d events, %d checkpoints verified, signed through position %d\n",
				chain, r.Checked, r.CheckpointsVerified, r.SignedThrough)
			if unsigned := int64(r.Checked) - r.SignedThrough; unsigned > 0 {
				fmt.Fprintf(w, "the last %d events are not signed yet: only the hash chain vouches for them\n", unsigned)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&pubs, "public-key", nil, "a PEM file of a key checkpoints may be signed with (repeatable)")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error { return requireFlags(cmd, "public-key") }
	return cmd
}
