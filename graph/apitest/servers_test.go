package apitest

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-iam/gatehouse/graph/database"
	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// secondServer starts another Gatehouse on e's PostgreSQL database.
func (e *env) secondServer(t *testing.T, cfg server.Config) *env {
	db, err := database.Open(e.DB.URL)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(context.Background(), defaults(cfg), db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close(); db.Close() })
	return &env{t: t, URL: hs.URL, Dialect: e.Dialect, Operator: e.Operator, Server: srv, DB: db}
}

// converges waits for a decision on other to become want, and says how long it took.
func converges(t *testing.T, other *env, in map[string]any, want bool, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		if other.decide(other.Operator, in).Get("data.authorize.allowed").Bool() == want {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("the other server still answers %v after %s", !want, within)
	return 0
}

// D6 across servers: a change committed through one server reaches the
// decisions of another — through NOTIFY, and without it through the cache TTL.
func TestD6_ChangesReachOtherServers(t *testing.T) {
	if postgresURL() == "" {
		t.Skip("needs PostgreSQL: set GATEHOUSE_TEST_POSTGRES_URL")
	}
	t.Parallel()
	a1 := newEnv(t, dialect.Postgres, server.Config{})
	notified := a1.secondServer(t, server.Config{})
	polling := a1.secondServer(t, server.Config{NoListen: true})
	a := a1.newAccount("d6x", nil)
	role := a1.createRole(a.Owner, a.ID, "Toggle", nil)
	m := a1.addMember(a.Owner, a.ID, "t@d6x.test", role)
	in := map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": m}, "permission": "AgentChat"}
	for v := 1; v <= 4; v++ {
		// Warm both caches, change through the first server, watch the others.
		notified.decide(notified.Operator, in)
		polling.decide(polling.Operator, in)
		want := v%2 == 1
		grants := []string{}
		if want {
			grants = []string{"AgentChat"}
		}
		a1.ok(a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": role, "expectedVersion": v, "grants": grants}})
		dn := converges(t, notified, in, want, 5*time.Second)
		dp := converges(t, polling, in, want, 5*time.Second)
		t.Logf("change %d reached the notified server in %s, the polling one in %s", v, dn.Round(time.Millisecond), dp.Round(time.Millisecond))
	}
}
