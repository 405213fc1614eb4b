package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
	"github.com/gatehouse-iam/gatehouse/graph/audit"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// L4 offline: keygen, a server signing with the key, an export through the
// CLI, and `audit verify` with the public key alone — which passes on the
// real history and names the altered event once it is rewritten in the
// database with every hash recomputed.
func TestL4_OfflineVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "audit")
	if out, err := run(t, "audit", "keygen", "--out", prefix); err != nil || !strings.Contains(out, "key id") {
		t.Fatalf("keygen: %q %v", out, err)
	}
	if fi, err := os.Stat(prefix + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", fi, err)
	}
	if _, err := run(t, "audit", "keygen", "--out", prefix); err == nil {
		t.Fatal("keygen overwrote a key")
	}

	s := startCLIServer(t, dir, server.Config{AuditSigningKey: prefix + ".key"})
	for _, name := range []string{"Support", "Billing"} {
		if _, err := s.srv.Service.CreateRole(s.op, iam.CreateRoleInput{AccountID: s.account, Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.srv.Service.SignAuditCheckpoints(context.Background()); err != nil {
		t.Fatal(err)
	}
	export := func(name string) string {
		t.Helper()
		file := filepath.Join(dir, name)
		if _, err := run(t, "audit", "export", "--url", s.url, "--key", s.key, "--account", s.account, "-f", file); err != nil {
			t.Fatal(err)
		}
		return file
	}
	verify := func(file string) (string, error) {
		return run(t, "audit", "verify", "--public-key", prefix+".pub", file)
	}
	if out, err := verify(export("before.jsonl")); err != nil || !strings.HasPrefix(out, "OK: account "+s.account) || !strings.Contains(out, "1 checkpoints verified") {
		t.Fatalf("untouched log: %q %v", out, err)
	}

	// Someone with the database rewrites the first role's creation, hashes and all.
	ctx := context.Background()
	if _, err := s.db.SQL.Exec(`DROP TRIGGER audit_events_no_update`); err != nil {
		t.Fatal(err)
	}
	events := s.db.Client.AuditEvent.Query().Where(auditevent.AccountID(s.account)).Order(ent.Asc(auditevent.FieldSeq)).AllX(ctx)
	var altered string
	for i, e := range events {
		if e.Action == "role.created" && altered == "" {
			altered, e.ActorLabel = e.ID, "someone-else"
		}
		if altered == "" {
			continue
		}
		if i > 0 {
			e.PrevHash = events[i-1].Hash
		}
		e.Hash = audit.EventHash(e)
		if _, err := s.db.SQL.Exec(`UPDATE audit_events SET actor_label = ?, prev_hash = ?, hash = ? WHERE id = ?`, e.ActorLabel, e.PrevHash, e.Hash, e.ID); err != nil {
			t.Fatal(err)
		}
	}
	out, err := verify(export("after.jsonl"))
	if err == nil || !strings.HasPrefix(out, "TAMPERED") || !strings.Contains(out, fmt.Sprintf("event %s (", altered)) {
		t.Fatalf("rewritten log: %q %v", out, err)
	}
	// With a key that did not sign them, no checkpoint verifies.
	_, otherPub, _ := audit.GenerateKey()
	other := filepath.Join(dir, "other.pub")
	_ = os.WriteFile(other, otherPub, 0o644)
	if out, err := run(t, "audit", "verify", "--public-key", other, filepath.Join(dir, "before.jsonl")); err == nil || !strings.Contains(out, "unknown key") {
		t.Fatalf("another key: %q %v", out, err)
	}
}
