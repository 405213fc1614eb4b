package apitest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

func TestLimits_BodySizeAndContentType(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		big := `{"query":"{ viewer { kind } }","variables":{"pad":"` + strings.Repeat("x", 1<<20) + `"}}`
		if r := e.post(e.Operator, "application/json", []byte(big)); r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("1 MiB body: %s", r.String()[:80])
		}
		for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"} {
			r := e.post(e.Operator, ct, []byte(`{"query":"{ viewer { kind } }"}`))
			if r.Status != http.StatusUnsupportedMediaType || r.Code() != "BAD_USER_INPUT" {
				t.Errorf("%s: %s", ct, r)
			}
		}
		r := e.post(e.Operator, "application/json; charset=utf-8", []byte(`{"query":"{ viewer { kind } }"}`))
		if r.Get("data.viewer.kind").String() != "OPERATOR" {
			t.Errorf("JSON with charset: %s", r)
		}
	})
}

func TestLimits_MutationsOverGETRefused(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		q := url.QueryEscape(`mutation { definePermissions(input: {permissions: [{key: "via.get"}]}) { permissions { key } } }`)
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/graphql?query="+q, nil)
		req.Header.Set("Authorization", "Bearer "+e.Operator)
		r := e.send(req)
		if r.Status == http.StatusOK && !r.Get("errors").Exists() {
			t.Fatalf("mutation over GET ran: %s", r)
		}
		r = e.ok(e.Operator, `{ permissionCatalog(where: {key: "via.get"}) { totalCount } }`, nil)
		if r.Get("data.permissionCatalog.totalCount").Int() != 0 {
			t.Fatal("the GET mutation wrote")
		}
		// Queries over GET work.
		req, _ = http.NewRequest(http.MethodGet, e.URL+"/graphql?query="+url.QueryEscape(`{ viewer { kind } }`), nil)
		req.Header.Set("Authorization", "Bearer "+e.Operator)
		if r := e.send(req); r.Get("data.viewer.kind").String() != "OPERATOR" {
			t.Fatalf("GET query: %s", r)
		}
	})
}

func TestLimits_DepthAliasesComplexityPageSize(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("lim", nil)
		deep := `query($id: ID!) { account(id: $id) { members { edges { node { account { members { edges { node { account { members { edges { node { id } } } } } } } } } } } } }`
		r := e.fails("BAD_USER_INPUT", e.Operator, deep, map[string]any{"id": a.ID})
		if r.Get("errors.0.extensions.limit").String() != "depth" {
			t.Errorf("depth: %s", r)
		}
		var aliases strings.Builder
		for i := 0; i < 31; i++ {
			fmt.Fprintf(&aliases, "a%d: viewer { kind } ", i)
		}
		if r := e.gql(e.Operator, "{ "+aliases.String()+"}", nil); r.Get("errors.0.extensions.limit").String() != "aliases" {
			t.Errorf("aliases: %s", r)
		}
		r = e.gql(e.Operator, `query($id: ID!) { account(id: $id) { members(first: 101) { totalCount } } }`, map[string]any{"id": a.ID})
		if r.Get("errors.0.extensions.limit").String() != "pageSize" {
			t.Errorf("page size: %s", r)
		}
		costly := `{ accounts(first: 100) { edges { node { members(first: 100) { edges { node { id } } } } } } }`
		if r := e.gql(e.Operator, costly, nil); r.Get("errors.0.extensions.limit").String() != "complexity" {
			t.Errorf("complexity: %s", r)
		}
		long := "{ " + strings.Repeat("__typename ", 16000) + "}"
		if r := e.gql(e.Operator, long, nil); !r.Get("errors").Exists() {
			t.Errorf("token limit not enforced")
		}
	})
}

// Errors never show SQL or driver text; panics and storage failures are INTERNAL.
func TestErrors_NoInternalDetail(t *testing.T) {
	e := newEnv(t, dialect.SQLite, server.Config{})
	a := e.newAccount("errs", nil)
	if _, err := e.DB.SQL.Exec(`ALTER TABLE users RENAME COLUMN email TO gone`); err != nil { // break storage under the server
		t.Fatal(err)
	}
	r := e.gql(e.Operator, `query($id: ID!) { account(id: $id) { members { edges { node { email } } } } }`, map[string]any{"id": a.ID})
	body := strings.ToLower(string(r.Body))
	for _, leak := range []string{"sql", "no such column", "users", "gone", "sqlite", "select"} {
		if strings.Contains(body, leak) {
			t.Fatalf("error leaks %q: %s", leak, r.Body)
		}
	}
	if !strings.Contains(string(r.Body), "INTERNAL") {
		t.Fatalf("want INTERNAL: %s", r.Body)
	}
}

func TestLimits_RateLimited(t *testing.T) {
	e := newEnv(t, dialect.SQLite, server.Config{RateLimit: 1, RateBurst: 3})
	var last resp
	for i := 0; i < 5; i++ {
		last = e.gql(e.Operator, `{ viewer { kind } }`, nil)
	}
	if last.Status != http.StatusTooManyRequests || last.Code() != "RATE_LIMITED" || last.Header.Get("Retry-After") == "" {
		t.Fatalf("want 429 RATE_LIMITED with Retry-After, got %s %v", last, last.Header)
	}
}

// Health checks answer on the public port; metrics only on the admin
// listener (observability_test.go).
func TestMetricsAndHealth(t *testing.T) {
	e := newEnv(t, dialect.SQLite, server.Config{})
	e.ok(e.Operator, `{ viewer { kind } }`, nil)
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
		req, _ := http.NewRequest(http.MethodGet, e.URL+path, nil)
		if r := e.send(req); r.Status != http.StatusOK || !strings.Contains(string(r.Body), want) {
			t.Errorf("%s: %d %.200s", path, r.Status, r.Body)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/metrics", nil)
	if r := e.send(req); r.Status != http.StatusNotFound {
		t.Errorf("/metrics on the public port: %d %.200s", r.Status, r.Body)
	}
}

// §11: the checks per authorizeMany and the page size are configurable; the
// page size is also what a connection returns when given neither first nor
// last.
func TestLimits_ChecksAndPageSizeAreConfigurable(t *testing.T) {
	forEachDBWith(t, server.Config{MaxChecks: 5, MaxPageSize: 3}, func(t *testing.T, e *env) {
		a := e.newAccount("cfg", nil)
		for i := 0; i < 4; i++ {
			e.addMember(a.Owner, a.ID, fmt.Sprintf("m%d@cfg.test", i))
		}
		const many = `query($in: [AuthorizeInput!]!) { authorizeMany(inputs: $in) { allowed } }`
		checks := func(n int) map[string]any {
			in := make([]map[string]any, n)
			for i := range in {
				in[i] = map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": a.OwnerID}, "permission": "AgentChat"}
			}
			return map[string]any{"in": in}
		}
		if r := e.ok(e.Operator, many, checks(5)); r.Get("data.authorizeMany.#").Int() != 5 {
			t.Fatalf("5 checks: %s", r)
		}
		if r := e.fails("BAD_USER_INPUT", e.Operator, many, checks(6)); r.Get("errors.0.extensions.max").Int() != 5 {
			t.Fatalf("6 checks: %s", r)
		}
		const members = `query($id: ID!) { account(id: $id) { members { totalCount pageInfo { hasNextPage } edges { node { id } } } } }`
		r := e.ok(a.Owner, members, map[string]any{"id": a.ID})
		if r.Get("data.account.members.edges.#").Int() != 3 || r.Get("data.account.members.totalCount").Int() != 5 ||
			!r.Get("data.account.members.pageInfo.hasNextPage").Bool() {
			t.Fatalf("default page: %s", r)
		}
		e.fails("BAD_USER_INPUT", a.Owner, `query($id: ID!) { account(id: $id) { members(first: 4) { totalCount } } }`, map[string]any{"id": a.ID})
	})
}

// Limits at the size of the account: a field whose work grows with the
// whole account (its members, keys, usage or audit log) costs its @cost
// weight, not 1, so that aliases cannot multiply it: accessReview (1,000)
// reports its weight in extensions.cost, and five of them are refused
// before any runs. Each cost 2, and 30 aliases (the alias limit) ran 30
// reviews of the whole account in one request.
func TestLimits_FieldsThatReadTheWholeAccountCostTheirWeight(t *testing.T) {
	e := newEnv(t, dialect.SQLite, server.Config{})
	a := e.newAccount("weights", nil)
	review := func(alias string) string {
		return alias + `: accessReview(since: "2026-01-01T00:00:00Z") { since } `
	}
	vars := map[string]any{"id": a.ID}
	r := e.ok(a.Owner, `query($id: ID!) { account(id: $id) { `+review("r0")+`} }`, vars)
	if c := r.Get("extensions.cost.requested").Int(); c < 1000 || c > 1010 {
		t.Errorf("one review costs %d; want its weight, 1,000, and its fields: %s", c, r)
	}
	var five strings.Builder
	for i := range 5 {
		five.WriteString(review(fmt.Sprintf("r%d", i)))
	}
	r = e.fails("BAD_USER_INPUT", a.Owner, `query($id: ID!) { account(id: $id) { `+five.String()+`} }`, vars)
	if r.Get("errors.0.extensions.limit").String() != "complexity" || r.Get("data.account").Exists() {
		t.Errorf("five reviews: %s", r)
	}
}
