package apitest

import (
	"net/http"
	"strconv"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// §11 for dashboards: every response says what its operation cost and the
// most it may cost (extensions.cost), and every response its caller's
// rate-limit state (RateLimit-* headers), so a client can size its queries
// before it is refused.
func TestLimits_ResponsesCarryCostAndRateLimitState(t *testing.T) {
	e := newEnv(t, dialect.SQLite, server.Config{MaxComplexity: 777, RateLimit: 0.01, RateBurst: 3})
	r := e.ok(e.Operator, `{ viewer { kind } }`, nil)
	if r.Get("extensions.cost.requested").Int() != 2 || r.Get("extensions.cost.limit").Int() != 777 {
		t.Fatalf("extensions.cost of { viewer { kind } }: %s", r.Get("extensions"))
	}
	if r.Header.Get("RateLimit-Limit") != "3" || r.Header.Get("RateLimit-Remaining") != "2" ||
		r.Header.Get("RateLimit-Policy") != "3;w=300" {
		t.Fatalf("rate-limit headers of the first request: %v", r.Header)
	}
	// A connection costs its page size times its fields: asking for fewer
	// rows costs less.
	big := e.ok(e.Operator, `{ accounts(first: 50) { edges { node { id name } } } }`, nil).Get("extensions.cost.requested").Int()
	small := e.ok(e.Operator, `{ accounts(first: 5) { edges { node { id name } } } }`, nil).Get("extensions.cost.requested").Int()
	if small >= big || small <= 5 {
		t.Fatalf("cost of 5 rows %d, of 50 rows %d", small, big)
	}
	refused := e.gql(e.Operator, `{ viewer { kind } }`, nil)
	if refused.Status != http.StatusTooManyRequests || refused.Header.Get("RateLimit-Remaining") != "0" {
		t.Fatalf("the fourth request: %s %v", refused, refused.Header)
	}
	if reset, err := strconv.Atoi(refused.Header.Get("RateLimit-Reset")); err != nil || reset < 1 {
		t.Fatalf("RateLimit-Reset %q", refused.Header.Get("RateLimit-Reset"))
	}
}
