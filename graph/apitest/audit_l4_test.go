package apitest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
	"github.com/gatehouse-iam/gatehouse/graph/audit"
	"github.com/gatehouse-iam/gatehouse/graph/database"
	"github.com/gatehouse-iam/gatehouse/graph/server"
)

const verifySigned = `query($id: ID!) { verifyAuditChain(accountId: $id) {
	valid checked checkpointsVerified signedThrough problem firstBrokenEvent { id action } } }`

// signingConfig writes a new checkpoint signing key and returns a server
// configuration that signs with it (the tests sign on demand: the interval
// never fires) and the key that verifies its checkpoints.
func signingConfig(t *testing.T) (server.Config, *audit.Keys) {
	t.Helper()
	priv, pub, err := audit.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "audit.key")
	if err := os.WriteFile(path, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := audit.ParsePublicKeys(pub)
	if err != nil {
		t.Fatal(err)
	}
	return server.Config{AuditSigningKey: path, AuditCheckpointInterval: time.Hour}, audit.NewKeys(keys...)
}

// signNow signs every chain's new events, as the servers do periodically.
func (e *env) signNow() int {
	e.t.Helper()
	n, err := e.Server.Service.SignAuditCheckpoints(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// events returns an account's events by position.
func (e *env) events(accountID string) []*ent.AuditEvent {
	e.t.Helper()
	ev, err := e.DB.Client.AuditEvent.Query().Where(auditevent.AccountID(accountID)).Order(ent.Asc(auditevent.FieldSeq)).All(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return ev
}

// rewrite is what someone who can write the database does to hide a
// change: turn the append-only trigger off, change the event at position
// seq, and recompute its hash and every later one (all = false recomputes
// the changed event's own hash only).
func (e *env) rewrite(accountID string, seq int64, all bool) *ent.AuditEvent {
	e.t.Helper()
	disable := map[string]string{
		dialect.Postgres: `ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`,
		dialect.SQLite:   `DROP TRIGGER IF EXISTS audit_events_no_update`,
	}[e.Dialect]
	if _, err := e.DB.SQL.Exec(disable); err != nil {
		e.t.Fatal(err)
	}
	ev := e.events(accountID)
	altered := ev[seq-1]
	altered.ActorLabel = "someone-else@elsewhere.test"
	for i := seq - 1; i < int64(len(ev)); i++ {
		if i > seq-1 && !all {
			break
		}
		if i > 0 {
			ev[i].PrevHash = ev[i-1].Hash
		}
		ev[i].Hash = audit.EventHash(ev[i])
		// Test-made values: hex hashes, a fixed label, an evt_ id.
		if _, err := e.DB.SQL.Exec(fmt.Sprintf(`UPDATE audit_events SET actor_label = '%s', prev_hash = '%s', hash = '%s' WHERE id = '%s'`,
			ev[i].ActorLabel, ev[i].PrevHash, ev[i].Hash, ev[i].ID)); err != nil {
			e.t.Fatal(err)
		}
	}
	return altered
}

// getExport downloads path (audit.jsonl) with cred.
func (e *env) getExport(cred, path string) (int, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.URL+path, nil)
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// A history rewritten in the database with every hash recomputed passes the
// hash chain, but not the signed checkpoints: verifyAuditChain and an
// offline check of the export name the altered event itself.
func TestL4_RewrittenHistoryIsDetected(t *testing.T) {
	cfg, keys := signingConfig(t)
	forEachDBWith(t, cfg, func(t *testing.T, e *env) {
		a := e.newAccount("l4r", nil)
		for i := range 3 {
			e.createRole(a.Owner, a.ID, fmt.Sprintf("R%d", i), []string{"AgentChat"})
		}
		if n := e.signNow(); n < 1 {
			t.Fatalf("signed %d checkpoints", n)
		}
		if n := e.signNow(); n != 0 {
			t.Fatalf("signed %d checkpoints again with no new events", n)
		}
		e.createRole(a.Owner, a.ID, "Unsigned yet", nil)
		v := e.ok(a.Owner, verifySigned, map[string]any{"id": a.ID}).Get("data.verifyAuditChain")
		if !v.Get("valid").Bool() || v.Get("checked").Int() != 5 || v.Get("checkpointsVerified").Int() != 1 || v.Get("signedThrough").Int() != 4 {
			t.Fatalf("untouched chain: %s", v)
		}
		status, before := e.getExport(a.Owner, "/accounts/"+a.ID+"/audit.jsonl")
		if status != http.StatusOK {
			t.Fatalf("export: %d %s", status, before)
		}

		altered := e.rewrite(a.ID, 2, true)
		v = e.ok(a.Owner, verifySigned, map[string]any{"id": a.ID}).Get("data.verifyAuditChain")
		if v.Get("valid").Bool() || v.Get("firstBrokenEvent.id").String() != altered.ID || v.Get("checked").Int() != 1 ||
			!strings.Contains(v.Get("problem").String(), "checkpoint") {
			t.Fatalf("rewritten history: %s", v)
		}

		// The export carries what an offline check needs: it agrees.
		for _, c := range []struct {
			export []byte
			broken string
		}{{before, ""}, {e.mustExport(a.Owner, a.ID), altered.ID}} {
			x, err := audit.ReadExport(bytes.NewReader(c.export))
			if err != nil {
				t.Fatal(err)
			}
			r := x.Verify(keys)
			broken := ""
			if r.FirstBroken != nil {
				broken = r.FirstBroken.ID
			}
			if r.Valid != (c.broken == "") || broken != c.broken || len(x.Checkpoints) != 1 || len(x.Events) != 5 {
				t.Fatalf("offline: %+v (%d checkpoints, %d events)", r, len(x.Checkpoints), len(x.Events))
			}
		}
		// A server without the public key checks only the hash chain, which
		// the rewrite fooled: the key is what makes the difference.
		e.Server.Service.SetAuditKeys(nil, nil)
		v = e.ok(a.Owner, verifySigned, map[string]any{"id": a.ID}).Get("data.verifyAuditChain")
		if !v.Get("valid").Bool() || v.Get("checkpointsVerified").Int() != 0 {
			t.Fatalf("hash chain only: %s", v)
		}
	})
}

func (e *env) mustExport(cred, accountID string) []byte {
	e.t.Helper()
	status, b := e.getExport(cred, "/accounts/"+accountID+"/audit.jsonl")
	if status != http.StatusOK {
		e.t.Fatalf("export: %d %s", status, b)
	}
	return b
}

// An event whose content and own hash were rewritten, the next event left
// alone, is the one named — not the next, whose link no longer matches.
func TestL2_AlteredEventIsNamedNotTheNext(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("l2n", nil)
		for i := range 3 {
			e.createRole(a.Owner, a.ID, fmt.Sprintf("R%d", i), nil)
		}
		altered := e.rewrite(a.ID, 3, false)
		v := e.ok(a.Owner, verify, map[string]any{"id": a.ID}).Get("data.verifyAuditChain")
		if v.Get("valid").Bool() || v.Get("firstBrokenEvent.id").String() != altered.ID || v.Get("checked").Int() != 2 {
			t.Fatalf("altered event: %s", v)
		}
	})
}

// The serving role may append checkpoints; one it forges — here claiming the
// server's key id, signed with another key — is reported.
func TestL4_ForgedCheckpointIsReported(t *testing.T) {
	cfg, _ := signingConfig(t)
	forEachDBWith(t, cfg, func(t *testing.T, e *env) {
		a := e.newAccount("l4f", nil)
		e.createRole(a.Owner, a.ID, "R", nil)
		e.signNow()
		e.createRole(a.Owner, a.ID, "S", nil)
		ev := e.events(a.ID)
		real, err := e.DB.Client.AuditCheckpoint.Query().First(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		_, intruderPriv, _ := ed25519.GenerateKey(nil)
		forged := &audit.Checkpoint{ID: "ckp_forged", AccountID: a.ID, FromSeq: 2, ToSeq: 3, Hashes: []string{ev[2].Hash}, SignedAt: time.Now().UTC().Truncate(time.Microsecond)}
		audit.NewSigner(intruderPriv).Sign(forged)
		forged.KeyID = real.KeyID
		if err := e.DB.Client.AuditCheckpoint.Create().SetID(forged.ID).SetAccountID(a.ID).SetFromSeq(2).SetToSeq(3).
			SetHashes(forged.Hashes).SetSignedAt(forged.SignedAt).SetKeyID(forged.KeyID).SetSignature(forged.Signature).
			Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		v := e.ok(a.Owner, verifySigned, map[string]any{"id": a.ID}).Get("data.verifyAuditChain")
		if v.Get("valid").Bool() || v.Get("firstBrokenEvent").Type.String() != "Null" || v.Get("checked").Int() != 2 ||
			!strings.Contains(v.Get("problem").String(), "ckp_forged") || !strings.Contains(v.Get("problem").String(), "signature") {
			t.Fatalf("forged checkpoint: %s", v)
		}
	})
}

// The export is readable only with iam.audit.read in the account, the
// platform's only by operators; it is checked like the CSV export.
func TestL4_ExportNeedsAuditRead(t *testing.T) {
	cfg, keys := signingConfig(t)
	forEachDBWith(t, cfg, func(t *testing.T, e *env) {
		a := e.newAccount("l4x", nil)
		e.signNow()
		path := "/accounts/" + a.ID + "/audit.jsonl"
		_, reader := e.keyAdmin(a, "reader@l4x.test", "iam.members.read")
		for _, c := range []struct {
			cred, path string
			status     int
		}{
			{"", path, http.StatusUnauthorized},
			{reader, path, http.StatusForbidden},
			{userToken(t, "stranger@l4x.test"), path, http.StatusNotFound},
			{a.Owner, "/platform/audit.jsonl", http.StatusForbidden},
			{e.Operator, path, http.StatusOK},
		} {
			if status, body := e.getExport(c.cred, c.path); status != c.status {
				t.Fatalf("%s: %d %s", c.path, status, body)
			}
		}
		status, body := e.getExport(e.Operator, "/platform/audit.jsonl")
		x, err := audit.ReadExport(bytes.NewReader(body))
		if status != http.StatusOK || err != nil {
			t.Fatalf("platform export: %d %v", status, err)
		}
		if r := x.Verify(keys); !r.Valid || r.CheckpointsVerified != 1 || x.AccountID != "" || r.Checked == 0 {
			t.Fatalf("platform chain: %+v", r)
		}
	})
}

// L4 in production: migrations run as the owner, the server as a serving
// role that may read and append to the audit log, and never change it —
// neither through the API nor with SQL of its own.
func TestL4_ServingRoleCannotRewriteAudit(t *testing.T) {
	if postgresURL() == "" {
		t.Skip("PostgreSQL suite off: set GATEHOUSE_TEST_POSTGRES_URL")
	}
	t.Parallel()
	admin, err := sql.Open("postgres", postgresURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	suffix := randHex(6)
	ownerRole, servingRole, dbName := "gh_owner_"+suffix, "gh_serve_"+suffix, "gh_l4_"+suffix
	for _, q := range []string{
		"CREATE ROLE " + ownerRole + " LOGIN PASSWORD 'owner-pw'",
		"CREATE ROLE " + servingRole + " LOGIN PASSWORD 'serve-pw'",
		"CREATE DATABASE " + dbName + " OWNER " + ownerRole,
	} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		a, err := sql.Open("postgres", postgresURL())
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec("DROP DATABASE IF EXISTS " + dbName + " WITH (FORCE)")
		_, _ = a.Exec("DROP ROLE IF EXISTS " + servingRole)
		_, _ = a.Exec("DROP ROLE IF EXISTS " + ownerRole)
	})
	as := func(user, password string) string {
		u, err := url.Parse(postgresURL())
		if err != nil {
			t.Fatal(err)
		}
		u.User, u.Path = url.UserPassword(user, password), "/"+dbName
		return u.String()
	}
	ownerURL, servingURL := as(ownerRole, "owner-pw"), as(servingRole, "serve-pw")

	// The serving role cannot create the schema…
	if db, err := database.Prepare(servingURL, "", "", database.Options{}); err == nil {
		db.Close()
		t.Fatal("the serving role migrated an empty database")
	} else if !strings.Contains(err.Error(), "gatehouse migrate") {
		t.Fatalf("the error should say how to migrate: %v", err)
	}
	// …nor be a superuser or the owner.
	for _, role := range []string{"postgres", ownerRole} {
		if err := database.MigrateAsOwner(ownerURL, role); err == nil {
			t.Fatalf("serving as %s was accepted", role)
		}
	}
	// The server migrates through the owner and serves as the serving role.
	db, err := database.Prepare(servingURL, ownerURL, "", database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if can, err := db.CanRewriteAudit(context.Background()); err != nil || can {
		t.Fatalf("the serving role can rewrite the audit log: %v %v", can, err)
	}
	cfg, _ := signingConfig(t)
	e := serveEnv(t, db, cfg)
	a := e.newAccount("l4s", nil)
	e.createRole(a.Owner, a.ID, "Served", []string{"AgentChat"})
	e.addMember(a.Owner, a.ID, "bo@l4s.test")
	if n := e.signNow(); n < 2 { // the account's chain and the platform's
		t.Fatalf("the serving role signed %d checkpoints", n)
	}
	v := e.ok(a.Owner, verifySigned, map[string]any{"id": a.ID}).Get("data.verifyAuditChain")
	if !v.Get("valid").Bool() || v.Get("checked").Int() != 3 || v.Get("checkpointsVerified").Int() != 1 {
		t.Fatalf("chain served by the serving role: %s", v)
	}
	// Granting again changes nothing, and a restart on the current schema
	// does not need to migrate.
	if err := database.MigrateAsOwner(ownerURL, servingRole); err != nil {
		t.Fatal(err)
	}
	again, err := database.Prepare(servingURL, "", "", database.Options{})
	if err != nil {
		t.Fatalf("the serving role restarting on a current schema: %v", err)
	}
	again.Close()

	for _, table := range []string{"audit_events", "audit_checkpoints"} {
		for _, q := range []string{
			"ALTER TABLE " + table + " DISABLE TRIGGER ALL",
			"UPDATE " + table + " SET account_id = account_id",
			"DELETE FROM " + table,
			"TRUNCATE " + table,
			"DROP TABLE " + table,
			"ALTER TABLE " + table + " OWNER TO " + servingRole,
		} {
			_, err := db.SQL.Exec(q)
			var pqErr *pq.Error
			if !errors.As(err, &pqErr) || pqErr.Code != "42501" {
				t.Errorf("%s as the serving role: %v (want SQLSTATE 42501, insufficient privilege)", q, err)
			}
		}
	}
	if n, err := e.DB.Client.AuditEvent.Query().Count(context.Background()); err != nil || n == 0 {
		t.Fatalf("events after the attempts: %d %v", n, err)
	}
}
