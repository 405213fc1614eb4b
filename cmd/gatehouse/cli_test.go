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

// cliServer is a Gatehouse on a SQLite file in dir, configured by cfg, with
// an operator key and the account Acme, for the commands that are its
// clients. op is an operator's context for direct calls to the service.
type cliServer struct {
	srv     *server.Server
	db      *database.DB
	url     string // the GraphQL endpoint
	key     string // an operator key's secret
	account string
	op      context.Context
}

func startCLIServer(t *testing.T, dir string, cfg server.Config) *cliServer {
	t.Helper()
	db, err := database.Open(filepath.Join(dir, "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(); err != nil {
		t.Fatal(err)
	}
	cfg.ParserTokens, cfg.MaxBodyBytes = 15000, 1<<20
	srv, err := server.New(context.Background(), cfg, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	_, key, err := srv.Service.CreateOperatorKey(context.Background(), "cli")
	if err != nil {
		t.Fatal(err)
	}
	op := auth.WithPrincipal(context.Background(), &auth.Principal{Kind: auth.Operator, ID: "opk_cli"})
	acc, _, err := srv.Service.CreateAccount(op, iam.CreateAccountInput{Name: "Acme", Slug: "acme", Owner: &iam.OwnerInput{Email: "ana@acme.test"}})
	if err != nil {
		t.Fatal(err)
	}
	return &cliServer{srv: srv, db: db, url: hs.URL + "/graphql", key: key, account: acc.ID, op: op}
}

// C1 through the CLI: export, apply (dry run, real, again), a bad document.
func TestC1_ApplyAndExportCommands(t *testing.T) {
	dir := t.TempDir()
	s := startCLIServer(t, dir, server.Config{})
	common := []string{"--url", s.url, "--key", s.key, "--account", s.account}
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
