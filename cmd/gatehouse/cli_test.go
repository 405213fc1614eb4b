package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/database"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// run executes the CLI with args and returns what it printed.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := rootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// C1 through the CLI: export, apply (dry run, real, again), a bad document.
func TestC1_ApplyAndExportCommands(t *testing.T) {
	dir := t.TempDir()
	db, err := database.Open(filepath.Join(dir, "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(context.Background(), server.Config{ParserTokens: 15000, MaxBodyBytes: 1 << 20}, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	_, key, err := srv.Service.CreateOperatorKey(context.Background(), "cli")
	if err != nil {
		t.Fatal(err)
	}
	op := auth.WithPrincipal(context.Background(), &auth.Principal{Kind: auth.Operator, ID: "opk_cli"})
	acc, _, err := srv.Service.CreateAccount(op, iam.CreateAccountInput{Name: "Acme", Slug: "acme", Owner: &iam.OwnerInput{Email: "ana@acme.test"}})
	if err != nil {
		t.Fatal(err)
	}
	common := []string{"--url", hs.URL + "/graphql", "--key", key, "--account", acc.ID}
	file := filepath.Join(dir, "acme.json")
	if _, err := run(t, append([]string{"export", "-f", file}, common...)...); err != nil {
		t.Fatal(err)
	}
	doc, _ := os.ReadFile(file)
	doc = bytes.Replace(doc, []byte(`"roles": []`), []byte(`"roles": [{"key": "support", "name": "Support", "grants": ["iam.members.read"]}]`), 1)
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"apply", "-f", file, "--dry-run"}, "dry run: 1 changes planned"},
		{[]string{"apply", "-f", file}, "applied 1 changes"},
		{[]string{"apply", "-f", file}, "no changes"},
	} {
		out, err := run(t, append(c.args, common...)...)
		if err != nil || !strings.Contains(out, c.want) {
			t.Fatalf("%v: %q, %v", c.args, out, err)
		}
	}
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"rolez": []}`), 0o644)
	if _, err := run(t, append([]string{"apply", "-f", bad}, common...)...); err == nil || !strings.Contains(err.Error(), "BAD_USER_INPUT") {
		t.Fatalf("bad document: %v", err)
	}
}
