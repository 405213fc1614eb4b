package apitest

import (
	"fmt"
	"strings"
)

// sweepWorld is what the sweeps run against: two accounts, A (the callers')
// and B (another), each holding an object of every kind, and the six kinds
// of principal, all in A.
type sweepWorld struct {
	A, B       sweepAccount
	principals []principal
	catalogID  string // a catalog permission's id (platform-level)
}

// sweepAccount is an account with an object of every kind, by kind.
type sweepAccount struct {
	account
	ids    map[string]string // kind → id
	member string            // an ACTIVE member holding a custom role
	victim string            // a custom role nobody holds
}

type principal struct {
	name, cred string
	operator   bool
}

// The kinds of object an id names, with their id prefixes.
var idPrefixes = map[string]string{
	"account": "acc", "role": "role", "member": "mem", "scope": "scp", "apiKey": "key",
	"sodRule": "sod", "auditEvent": "evt", "user": "usr", "permission": "perm",
}

// fakeID is a well-formed id of kind that was never issued.
func fakeID(kind string) string { return idPrefixes[kind] + "_01JD3V8Q7X9K2M4N6P8R0T2V4W" }

const (
	sweepCreateScope = `mutation($in: CreateScopeInput!) { createScope(input: $in) { scope { id } } }`
	sweepCreateKey   = `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { apiKey { id } secret } }`
)

// newSweepWorld builds the world on e.
func (e *env) newSweepWorld(prefix string) *sweepWorld {
	e.t.Helper()
	w := &sweepWorld{A: e.newSweepAccount(prefix + "-a"), B: e.newSweepAccount(prefix + "-b")}
	w.catalogID = e.ok(e.Operator, `{ permissionCatalog(first: 1, where: {key: "AgentChat"}) { edges { node { id } } } }`, nil).
		Get("data.permissionCatalog.edges.0.node.id").String()

	a := w.A
	noRoles := e.addMember(a.Owner, a.ID, "noroles@"+a.Slug+".test")
	e.ok(a.Owner, `mutation($id: ID!) { setMemberRoles(input: {memberId: $id, roleIds: []}) { member { id } } }`, map[string]any{"id": noRoles})
	allKey := e.ok(a.Owner, sweepCreateKey, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "every permission"}}).
		Get("data.createApiKey.secret").String()
	readKey := e.ok(a.Owner, sweepCreateKey, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "read only",
		"permissions": []string{"iam.roles.read", "iam.members.read", "iam.keys.read", "iam.permissions.read", "iam.audit.read", "iam.reviews.read"}}}).
		Get("data.createApiKey.secret").String()
	w.principals = []principal{
		{name: "operator", cred: e.Operator, operator: true},
		{name: "owner", cred: a.Owner},
		{name: "member without roles", cred: userToken(e.t, "noroles@"+a.Slug+".test")},
		{name: "user of no account", cred: userToken(e.t, "nobody@"+prefix+".test")},
		{name: "key with every permission", cred: allKey},
		{name: "read-only key", cred: readKey},
	}
	return w
}

func (e *env) newSweepAccount(slug string) sweepAccount {
	e.t.Helper()
	a := sweepAccount{account: e.newAccount(slug, map[string]any{"features": map[string]any{"resourceConstraints": true}}), ids: map[string]string{}}
	held := e.createRole(a.Owner, a.ID, "Held", []string{"AgentChat"})
	a.victim = e.createRole(a.Owner, a.ID, "Victim", []string{"view_duplicates"})
	a.member = e.addMember(a.Owner, a.ID, "member@"+slug+".test", held)
	a.ids["account"], a.ids["role"], a.ids["member"] = a.ID, held, a.member
	a.ids["scope"] = e.ok(a.Owner, sweepCreateScope, map[string]any{"in": map[string]any{"accountId": a.ID, "key": "read", "grants": []string{"AgentChat"}}}).
		Get("data.createScope.scope.id").String()
	a.ids["apiKey"] = e.ok(a.Owner, sweepCreateKey, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "spare"}}).
		Get("data.createApiKey.apiKey.id").String()
	a.ids["sodRule"] = e.ok(a.Owner, createSod, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "mint or approve",
		"permissions": []string{"attestations:mint", "governance:approve"}, "level": "ROLE", "mode": "REPORT"}}).
		Get("data.createSodRule.sodRule.id").String()
	a.ids["auditEvent"] = e.ok(e.Operator, `query($id: ID!) { account(id: $id) { auditEvents(first: 1) { edges { node { id } } } } }`,
		map[string]any{"id": a.ID}).Get("data.account.auditEvents.edges.0.node.id").String()
	a.ids["user"] = e.ok(a.Owner, `{ viewer { user { id } } }`, nil).Get("data.viewer.user.id").String()
	for kind, id := range a.ids {
		if !strings.HasPrefix(id, idPrefixes[kind]+"_") {
			e.t.Fatalf("fixture: %s id %q", kind, id)
		}
	}
	return a
}

// state is both accounts' sweepState.
func (w *sweepWorld) state(e *env) string {
	return fmt.Sprintf("A %s\nB %s", e.sweepState(w.A.ID), e.sweepState(w.B.ID))
}
