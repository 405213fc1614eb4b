package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
)

// side is what a workload drives.
type side int

const (
	onGatehouse side = iota
	onBare           // the bare net/http handler
	onDatabase       // the database, directly (the bare locked-insert loop)
)

// workload is one measured load. To add one, append it to workloads() and,
// when it answers a goal of the issue, a line to comparisons().
type workload struct {
	id     string   // unique; comparisons name it
	label  string   // shown in the tables
	groups []string // --workloads names that select it
	on     side
	// clients is the concurrency; perRequest the decisions one request
	// asks for (authorizeMany), reported as checks/s.
	clients    int
	perRequest int
	// next chooses the request of client c's j-th call (HTTP workloads);
	// check accepts an answer.
	next  func(b *bench) func(c, j int) request
	check answer
	// dbOp is the operation of a database workload.
	dbOp func(b *bench) op
	// counted: also measured in the SQL counting pass (PostgreSQL).
	counted bool
	// available says why the workload cannot run against this server ("":
	// it can); asked once, the first time it would run.
	available func(b *bench) string
}

// GraphQL documents of the workloads; one string each, so that the server's
// query cache holds them after the first call.
const (
	authorizeQuery = `query($a: ID!, $m: ID!, $p: String!) { authorize(input: {accountId: $a, subject: {memberId: $m}, permission: $p}) { allowed reason } }`
	manyQuery      = `query($in: [AuthorizeInput!]!) { authorizeMany(inputs: $in) { allowed reason } }`
	membersQuery   = `query($a: ID!) { account(id: $a) { members(first: 100) { edges { node { roles { key grants } effectivePermissions } } } } }`
	viewerQuery    = `{ viewer { memberships { account { id } } } }`
	createRoleDoc  = `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id version } } }`
	typenameQuery  = `{ __typename }`
)

// manyChecks is the number of questions of an authorizeMany request.
const manyChecks = 20

func workloads() []workload {
	decisions := graphQLAnswer(`"allowed":`)
	rotate := func(reqs func(b *bench) []request) func(b *bench) func(c, j int) request {
		return func(b *bench) func(c, j int) request {
			rs := reqs(b)
			// Clients start far apart in the list and walk it.
			return func(c, j int) request { return rs[(c*7919+j)%len(rs)] }
		}
	}
	bare := func(clients int) workload {
		return workload{id: fmt.Sprintf("bare-%d", clients), label: "bare net/http handler", groups: []string{"authorize", "v1"},
			on: onBare, clients: clients, next: rotate(func(b *bench) []request { return b.calls.authorize }), check: decisions}
	}
	authorize := func(clients int) workload {
		return workload{id: fmt.Sprintf("authorize-%d", clients), label: "authorize, account key", groups: []string{"authorize"},
			clients: clients, next: rotate(func(b *bench) []request { return b.calls.authorize }), check: decisions, counted: clients == 16}
	}
	createRole := func(accounts int) workload {
		return workload{id: fmt.Sprintf("createRole-%d", accounts), label: fmt.Sprintf("createRole + audit, %s", plural(accounts, "account")),
			groups: []string{"writes"}, clients: 16, next: func(b *bench) func(c, j int) request { return b.createRole(accounts) },
			check: graphQLAnswer(`"createRole":`), counted: true}
	}
	locked := func(accounts int) workload {
		return workload{id: fmt.Sprintf("locked-%d", accounts), label: fmt.Sprintf("bare locked insert, %s", plural(accounts, "account")),
			groups: []string{"writes"}, on: onDatabase, clients: 16, dbOp: func(b *bench) op { return b.lockedInsert(accounts) }}
	}
	return []workload{
		bare(16), authorize(16), bare(64), authorize(64),
		{id: "authorize-100acc-16", label: "authorize, account key, first 100 accounts", groups: []string{"authorize"}, clients: 16,
			next: rotate(func(b *bench) []request { return b.calls.first100 }), check: decisions,
			available: func(b *bench) string {
				if len(b.m.Accounts) <= 100 {
					return "the dataset has 100 accounts or fewer"
				}
				return ""
			}},
		{id: "operator-16", label: "authorize, operator key", groups: []string{"operator"}, clients: 16,
			next: rotate(func(b *bench) []request { return b.calls.operator }), check: decisions, counted: true},
		{id: "many-16", label: fmt.Sprintf("authorizeMany, %d checks", manyChecks), groups: []string{"many"}, clients: 16,
			perRequest: manyChecks, next: rotate(func(b *bench) []request { return b.calls.many }), check: decisions, counted: true},
		{id: "members-16", label: "members page, owner's JWT", groups: []string{"members"}, clients: 16,
			next: rotate(func(b *bench) []request { return b.calls.members }), check: graphQLAnswer(`"effectivePermissions":`), counted: true},
		{id: "viewer-16", label: "viewer memberships, JWT", groups: []string{"viewer"}, clients: 16,
			next: rotate(func(b *bench) []request { return b.calls.viewer }), check: graphQLAnswer(`"memberships":`), counted: true},
		{id: "v1-16", label: "POST /v1/authorize, account key", groups: []string{"v1"}, clients: 16,
			next: rotate(func(b *bench) []request { return b.calls.v1 }), check: decisions, counted: true,
			available: (*bench).v1Available},
		{id: "v1-many-16", label: fmt.Sprintf("POST /v1/authorize, %d checks", manyChecks), groups: []string{"v1", "many"}, clients: 16,
			perRequest: manyChecks, next: rotate(func(b *bench) []request { return b.calls.v1many }), check: decisions, counted: true,
			available: (*bench).v1Available},
		createRole(1), locked(1), createRole(16), locked(16),
	}
}

// countOnly are requests measured only in the SQL counting pass: what
// authenticating each kind of credential costs before any field runs.
func countOnly() []workload {
	typename := func(id, label string, auth func(b *bench) string) workload {
		return workload{id: id, label: label, groups: []string{"sql"}, counted: true, check: graphQLAnswer(`"__typename"`),
			next: func(b *bench) func(c, j int) request {
				body := gqlBody(typenameQuery, nil)
				return func(c, j int) request {
					return request{path: "/graphql", body: body, auth: auth(b)}
				}
			}}
	}
	return []workload{
		typename("typename-key", "{ __typename }, account key", func(b *bench) string { return b.m.Accounts[0].Decider }),
		typename("typename-operator", "{ __typename }, operator key", func(b *bench) string { return b.m.Operator }),
		typename("typename-jwt", "{ __typename }, JWT", func(b *bench) string { return b.jwts[0] }),
	}
}

// comparison is a ratio of two workloads' throughput in the same round: what
// the goals are stated in.
type comparison struct {
	label string
	a, b  string // workload ids: a's req/s as a share of b's
	goal  string
}

func comparisons() []comparison {
	return []comparison{
		{"authorize vs bare handler, c=16", "authorize-16", "bare-16", "≥ 70%"},
		{"authorize vs bare handler, c=64", "authorize-64", "bare-64", ""},
		{"authorize over all accounts vs first 100, c=16", "authorize-16", "authorize-100acc-16", "≥ 80%"},
		{"authorize, operator key vs account key", "operator-16", "authorize-16", "≈ 100%"},
		{"POST /v1/authorize vs bare handler, c=16", "v1-16", "bare-16", ""},
		{"POST /v1/authorize, 20 checks vs authorizeMany (decisions/s)", "v1-many-16", "many-16", ""},
		{"createRole vs bare locked insert, 1 account", "createRole-1", "locked-1", "≥ 50%"},
		{"createRole vs bare locked insert, 16 accounts", "createRole-16", "locked-16", "≥ 50%"},
	}
}

// calls are the prepared requests the workloads rotate over, in a fixed
// random order.
type calls struct {
	authorize, first100, operator, many, members, viewer, v1, v1many []request
}

// prepareCalls builds every workload's requests from the manifest. Each
// account gets max(2, 6400/accounts) decisions (64 at 100 accounts), on
// random members and permissions.
func prepareCalls(m *Manifest, jwts []string) calls {
	rng := rand.New(rand.NewPCG(7, 13))
	per := max(2, 6400/len(m.Accounts))
	pick := func(a Account) (string, string) {
		return a.Members[rng.IntN(len(a.Members))], m.Permissions[rng.IntN(len(m.Permissions))]
	}
	var c calls
	for i, a := range m.Accounts {
		for range per {
			mem, perm := pick(a)
			body := gqlBody(authorizeQuery, map[string]any{"a": a.ID, "m": mem, "p": perm})
			c.authorize = append(c.authorize, request{path: "/graphql", body: body, auth: a.Decider})
			c.operator = append(c.operator, request{path: "/graphql", body: body, auth: m.Operator})
			v1, _ := json.Marshal(map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": mem}, "permission": perm})
			c.v1 = append(c.v1, request{path: "/v1/authorize", body: v1, auth: a.Decider})
		}
		if i < 100 && len(m.Accounts) > 100 {
			for range 64 {
				mem, perm := pick(a)
				body := gqlBody(authorizeQuery, map[string]any{"a": a.ID, "m": mem, "p": perm})
				c.first100 = append(c.first100, request{path: "/graphql", body: body, auth: a.Decider})
			}
		}
		for range max(1, per/8) {
			c.many = append(c.many, request{path: "/graphql", body: gqlBody(manyQuery, map[string]any{"in": manyChecksOf(m, a, rng, manyChecks)}), auth: a.Decider})
			v1, _ := json.Marshal(map[string]any{"checks": manyChecksOf(m, a, rng, manyChecks)})
			c.v1many = append(c.v1many, request{path: "/v1/authorize", body: v1, auth: a.Decider})
		}
		c.members = append(c.members, request{path: "/graphql", body: gqlBody(membersQuery, map[string]any{"a": a.ID}), auth: jwts[i]})
		c.viewer = append(c.viewer, request{path: "/graphql", body: gqlBody(viewerQuery, nil), auth: jwts[i]})
	}
	for _, rs := range [][]request{c.authorize, c.first100, c.operator, c.many, c.members, c.viewer, c.v1, c.v1many} {
		rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
	}
	return c
}

// manyChecksOf is n random checks in account a.
func manyChecksOf(m *Manifest, a Account, rng *rand.Rand, n int) []map[string]any {
	in := make([]map[string]any, n)
	for i := range in {
		in[i] = map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": a.Members[rng.IntN(len(a.Members))]},
			"permission": m.Permissions[rng.IntN(len(m.Permissions))]}
	}
	return in
}

// warmBodies are one authorizeMany per account asking about every member
// (in requests of at most 100 checks): after them every account's model and
// every member's permissions are loaded.
func warmBodies(m *Manifest) []request {
	var out []request
	for _, a := range m.Accounts {
		for from := 0; from < len(a.Members); from += 100 {
			var in []map[string]any
			for _, mem := range a.Members[from:min(from+100, len(a.Members))] {
				in = append(in, map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": mem}, "permission": m.Permissions[0]})
			}
			out = append(out, request{path: "/graphql", body: gqlBody(manyQuery, map[string]any{"in": in}), auth: a.Decider})
		}
	}
	return out
}

// roleNamePrefix starts the names of the roles createRole makes.
const roleNamePrefix = "Bench write "

// createRole returns the requests of the createRole workload: each a new
// role of three grants in one of the first `accounts` write accounts, made
// with the account's admin key.
func (b *bench) createRole(accounts int) func(c, j int) request {
	accs := b.writeAccounts(accounts)
	return func(c, j int) request {
		n := int(b.roleSeq.Add(1))
		a := accs[rand.IntN(len(accs))]
		perms := b.m.Permissions
		body := gqlBody(createRoleDoc, map[string]any{"in": map[string]any{
			"accountId": a.ID, "name": fmt.Sprintf("%s%s %d", roleNamePrefix, b.tag, n),
			"grants": []string{perms[n%len(perms)], perms[(n+1)%len(perms)], perms[(n+2)%len(perms)]},
		}})
		return request{path: "/graphql", body: body, auth: a.Admin}
	}
}

// writeAccounts are the accounts writes go to: the last ones of the
// dataset, so that reads of the first accounts (and of the first 100) see
// models of the seeded shape.
func (b *bench) writeAccounts(n int) []Account {
	accs := b.m.Accounts
	return accs[max(0, len(accs)-n):]
}

// v1Available asks the server whether it has the JSON decision endpoint.
func (b *bench) v1Available() string {
	r := b.calls.v1[0]
	status, body, err := b.once(r)
	switch {
	case err != nil:
		return "probe failed: " + err.Error()
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		return "the server has no POST /v1/authorize"
	case status != http.StatusOK:
		return fmt.Sprintf("probe answered HTTP %d: %s", status, cutBody(body))
	}
	return ""
}

func gqlBody(query string, vars map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		panic(err) // maps of strings always encode
	}
	return b
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
