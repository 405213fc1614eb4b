package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// In-process benchmarks of the two hottest requests (issue 13), through the
// server's whole handler chain but without a network: their allocations
// and CPU per request are exact and repeatable, where the end-to-end
// benchmark (make bench) measures throughput on a shared machine.
//
//	go test -run '^$' -bench . -benchmem ./graph/apitest/

// shapedAccount is one account of the benchmark's shape, scaled down: 100
// permissions, 20 custom roles of 10 grants each, 50 members of 2 roles.
type shapedAccount struct {
	account
	key     string   // an API key of the owner's
	members []string // member ids
	perms   []string // the master list
}

func (e *env) shapedAccount() shapedAccount {
	e.t.Helper()
	perms := make([]string, 100)
	defs := make([]map[string]any, len(perms))
	for i := range perms {
		perms[i] = fmt.Sprintf("area%d.action%d", i/10, i%10)
		defs[i] = map[string]any{"key": perms[i], "group": fmt.Sprintf("Area %d", i/10)}
	}
	e.ok(e.Operator, defineCatalog, map[string]any{"p": defs})
	a, _, _ := e.createAccount("shaped", map[string]any{"permissions": perms})
	roles := make([]string, 20)
	for i := range roles {
		grants := make([]string, 10)
		for j := range grants {
			grants[j] = perms[(i*7+j*3)%len(perms)]
		}
		roles[i] = e.createRole(a.Owner, a.ID, fmt.Sprintf("Role %d", i), grants)
	}
	s := shapedAccount{account: a, key: e.ownerKey(a), perms: perms}
	for i := range 50 {
		s.members = append(s.members, e.addMember(a.Owner, a.ID, fmt.Sprintf("m%d@shaped.test", i), roles[i%20], roles[(i+7)%20]))
	}
	return s
}

// serveBench sends the requests made by next to the server's handler b.N
// times, each checked to answer 200.
func (e *env) serveBench(b *testing.B, next func(i int) *http.Request) {
	for i := range 50 { // warm: models, keys, caches
		e.serveOnce(b, next(i))
	}
	b.ReportAllocs()
	began := cpuTime()
	n := 0
	for ; b.Loop(); n++ {
		e.serveOnce(b, next(n))
	}
	// The process's CPU time, GC included, is steadier than the wall
	// time on a shared machine.
	b.ReportMetric(float64((cpuTime()-began).Microseconds())/float64(n), "cpu-µs/op")
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (e *env) serveOnce(b *testing.B, r *http.Request) {
	w := httptest.NewRecorder()
	e.Server.ServeHTTP(w, r)
	if w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"errors"`)) {
		b.Fatalf("HTTP %d %s", w.Code, w.Body)
	}
}

func newRequest(path, cred string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+cred)
	r.RemoteAddr = "127.0.0.1:40000"
	return r
}

// BenchmarkMembersPage is the dashboard query of issue 13: 50 members with
// their roles' grants and effective permissions, as the owner (JWT).
func BenchmarkMembersPage(b *testing.B) {
	e := newEnv(b, dialect.SQLite, server.Config{})
	s := e.shapedAccount()
	body, _ := json.Marshal(map[string]any{"query": `query($a: ID!) { account(id: $a) { members(first: 100) { edges { node { roles { key grants } effectivePermissions } } } } }`,
		"variables": map[string]any{"a": s.ID}})
	e.serveBench(b, func(int) *http.Request { return newRequest("/graphql", s.Owner, body) })
}

// BenchmarkDecisionAPI is one POST /v1/authorize with an account's API key,
// over its members and permissions in turn.
func BenchmarkDecisionAPI(b *testing.B) {
	e := newEnv(b, dialect.SQLite, server.Config{})
	s := e.shapedAccount()
	bodies := make([][]byte, 64)
	for i := range bodies {
		bodies[i], _ = json.Marshal(map[string]any{"accountId": s.ID,
			"subject": map[string]any{"memberId": s.members[(i*13)%len(s.members)]}, "permission": s.perms[(i*31)%len(s.perms)]})
	}
	e.serveBench(b, func(i int) *http.Request { return newRequest("/v1/authorize", s.key, bodies[i%len(bodies)]) })
}

// BenchmarkCreateRole is createRole with its audit event, as the owner, in
// an account of the benchmark's shape.
func BenchmarkCreateRole(b *testing.B) {
	e := newEnv(b, dialect.SQLite, server.Config{})
	s := e.shapedAccount()
	made := 0 // serveBench counts from 0 again after warming
	e.serveBench(b, func(int) *http.Request {
		i := made
		made++
		body, _ := json.Marshal(map[string]any{"query": `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id } } }`,
			"variables": map[string]any{"in": map[string]any{"accountId": s.ID, "name": fmt.Sprintf("Bench %d", i), "grants": s.perms[i%90 : i%90+10]}}})
		return newRequest("/graphql", s.Owner, body)
	})
}

// BenchmarkAuthorizeMany is authorizeMany with 20 checks over GraphQL, with
// an account's API key, as make bench sends it.
func BenchmarkAuthorizeMany(b *testing.B) {
	e := newEnv(b, dialect.SQLite, server.Config{})
	s := e.shapedAccount()
	bodies := make([][]byte, 16)
	for i := range bodies {
		in := make([]map[string]any, 20)
		for j := range in {
			k := i*20 + j
			in[j] = map[string]any{"accountId": s.ID, "subject": map[string]any{"memberId": s.members[(k*13)%len(s.members)]},
				"permission": s.perms[(k*31)%len(s.perms)]}
		}
		bodies[i], _ = json.Marshal(map[string]any{"query": `query($in: [AuthorizeInput!]!) { authorizeMany(inputs: $in) { allowed reason } }`,
			"variables": map[string]any{"in": in}})
	}
	e.serveBench(b, func(i int) *http.Request { return newRequest("/graphql", s.key, bodies[i%len(bodies)]) })
}

// BenchmarkAuthorize is one authorize over GraphQL with an account's API
// key, as make bench sends it: the GraphQL field beside POST /v1/authorize.
func BenchmarkAuthorize(b *testing.B) {
	e := newEnv(b, dialect.SQLite, server.Config{})
	s := e.shapedAccount()
	bodies := make([][]byte, 64)
	for i := range bodies {
		bodies[i], _ = json.Marshal(map[string]any{
			"query":     `query($a: ID!, $m: ID!, $p: String!) { authorize(input: {accountId: $a, subject: {memberId: $m}, permission: $p}) { allowed reason } }`,
			"variables": map[string]any{"a": s.ID, "m": s.members[(i*13)%len(s.members)], "p": s.perms[(i*31)%len(s.perms)]}})
	}
	e.serveBench(b, func(i int) *http.Request { return newRequest("/graphql", s.key, bodies[i%len(bodies)]) })
}
