package apitest

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// coreNodeQuery reads any node with one field proper to its type, so a test
// sees that the right object came back, not only its id.
const coreNodeQuery = `query($id: ID!) { node(id: $id) { __typename id
	... on Account { slug }
	... on Role { key }
	... on Member { email }
	... on User { userEmail: email }
	... on Permission { key }
	... on Scope { key }
	... on ApiKey { name }
	... on AuditEvent { action }
	... on SodRule { name permissions }
} }`

const coreNodesQuery = `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`

// coreFakeID is an id of the given type that never existed.
func coreFakeID(prefix string) string { return prefix + "_01JD3V8Q7X9K2M4N6P8R0T2V4W" }

// coreNode is one object of each Node type in an account.
type coreNode struct {
	typename string
	id       string
	field    string // gjson path under data.node
	want     string // its value
}

// coreNodeObjects creates one object of every account-scoped Node type in a
// (plus the owner's user and a catalog permission) and returns them.
func (e *env) coreNodeObjects(a account) []coreNode {
	e.t.Helper()
	role := e.createRole(a.Owner, a.ID, "Node Role", []string{"AgentChat"})
	mem := e.addMember(a.Owner, a.ID, "member@"+a.Slug+".test")
	scp := e.ok(a.Owner, `mutation($in: CreateScopeInput!) { createScope(input: $in) { scope { id } } }`,
		map[string]any{"in": map[string]any{"accountId": a.ID, "key": "read", "grants": []string{"AgentChat"}}}).
		Get("data.createScope.scope.id").String()
	key := e.ok(a.Owner, `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { apiKey { id } } }`,
		map[string]any{"in": map[string]any{"accountId": a.ID, "name": "ci", "permissions": []string{"AgentChat"}}}).
		Get("data.createApiKey.apiKey.id").String()
	sod := e.ok(a.Owner, `mutation($in: CreateSodRuleInput!) { createSodRule(input: $in) { sodRule { id } } }`,
		map[string]any{"in": map[string]any{"accountId": a.ID, "name": "mint vs approve " + a.Slug,
			"permissions": []string{"attestations:mint", "governance:approve"}, "level": "ROLE", "mode": "REPORT"}}).
		Get("data.createSodRule.sodRule.id").String()
	evt := e.ok(a.Owner, `query($id: ID!) { account(id: $id) { auditEvents(first: 1, where: {action: "account.created"}) { edges { node { id } } } } }`,
		map[string]any{"id": a.ID}).Get("data.account.auditEvents.edges.0.node.id").String()
	usr := e.ok(a.Owner, `{ viewer { user { id } } }`, nil).Get("data.viewer.user.id").String()
	perm := e.ok(e.Operator, `{ permissionCatalog(where: {key: "AgentChat"}) { edges { node { id } } } }`, nil).
		Get("data.permissionCatalog.edges.0.node.id").String()
	nodes := []coreNode{
		{"Account", a.ID, "slug", a.Slug},
		{"Role", role, "key", "node_role"},
		{"Member", mem, "email", "member@" + a.Slug + ".test"},
		{"User", usr, "userEmail", a.OwnerEmail},
		{"Permission", perm, "key", "AgentChat"},
		{"Scope", scp, "key", "read"},
		{"ApiKey", key, "name", "ci"},
		{"AuditEvent", evt, "action", "account.created"},
		{"SodRule", sod, "name", "mint vs approve " + a.Slug},
	}
	for _, n := range nodes {
		if n.id == "" {
			e.t.Fatalf("fixture: no %s id", n.typename)
		}
	}
	return nodes
}

// §11: node(id:) and nodes(ids:) resolve every Node type for a principal
// allowed to read it; user nodes are the user's own, permissions the
// operator's.
func TestNode_EveryTypeResolvesForItsReader(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("node-all", nil)
		objs := e.coreNodeObjects(a)
		var all []string
		for _, n := range objs {
			all = append(all, n.id)
			cred := a.Owner
			if n.typename == "Permission" {
				cred = e.Operator // the catalog is platform-level (K1)
			}
			for who, c := range map[string]string{"reader": cred, "operator": e.Operator} {
				r := e.ok(c, coreNodeQuery, map[string]any{"id": n.id})
				if r.Get("data.node.__typename").String() != n.typename || r.Get("data.node.id").String() != n.id ||
					r.Get("data.node."+n.field).String() != n.want {
					t.Errorf("%s as %s: %s", n.typename, who, r)
				}
			}
		}
		// A selection of only the id projects no account column: the guard
		// must still find the object's account.
		for _, n := range objs {
			r := e.ok(e.Operator, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": n.id})
			if r.Get("data.node.id").String() != n.id {
				t.Errorf("%s by id only: %s", n.typename, r)
			}
		}
		r := e.ok(e.Operator, coreNodesQuery, map[string]any{"ids": all})
		got := r.Get("data.nodes.#.__typename").String()
		want := `["Account","Role","Member","User","Permission","Scope","ApiKey","AuditEvent","SodRule"]`
		if got != want {
			t.Fatalf("nodes: want %s in order, got %s", want, r)
		}
		for i, id := range gjsonStrings(r.Get("data.nodes.#.id").Array()) {
			if id != all[i] {
				t.Fatalf("nodes[%d] = %s, want %s", i, id, all[i])
			}
		}
	})
}

// §11 with V1: a SoD rule is read like Account.sodRules, with iam.roles.read.
func TestNode_SodRuleNeedsRolesRead(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("node-sod", nil)
		sod := e.ok(a.Owner, `mutation($in: CreateSodRuleInput!) { createSodRule(input: $in) { sodRule { id } } }`,
			map[string]any{"in": map[string]any{"accountId": a.ID, "name": "mint vs approve",
				"permissions": []string{"attestations:mint", "governance:approve"}, "level": "MEMBER", "mode": "ENFORCE"}}).
			Get("data.createSodRule.sodRule.id").String()
		reader := e.createRole(a.Owner, a.ID, "Role Reader", []string{"iam.roles.read"})
		chat := e.createRole(a.Owner, a.ID, "Chat", []string{"AgentChat"})
		e.addMember(a.Owner, a.ID, "reader@node-sod.test", reader)
		e.addMember(a.Owner, a.ID, "chat@node-sod.test", chat)

		r := e.ok(userToken(t, "reader@node-sod.test"), coreNodeQuery, map[string]any{"id": sod})
		if r.Get("data.node.__typename").String() != "SodRule" || r.Get("data.node.permissions").String() != `["attestations:mint","governance:approve"]` {
			t.Fatalf("reader: %s", r)
		}
		// The same member reads the rule through the account field alike.
		r = e.ok(userToken(t, "reader@node-sod.test"), `query($id: ID!) { account(id: $id) { sodRules { id } } }`, map[string]any{"id": a.ID})
		if r.Get("data.account.sodRules.0.id").String() != sod {
			t.Fatalf("sodRules: %s", r)
		}
		// Without iam.roles.read the rule is refused exactly like a role is.
		chatTok := userToken(t, "chat@node-sod.test")
		r = e.fails("FORBIDDEN", chatTok, coreNodeQuery, map[string]any{"id": sod})
		if r.Get("data.node").Type != gjson.Null {
			t.Fatalf("refused rule leaked: %s", r)
		}
		if r.Get("errors.0.extensions.missingPermissions").String() != `["iam.roles.read"]` {
			t.Fatalf("missingPermissions: %s", r)
		}
		asRole := e.fails("FORBIDDEN", chatTok, coreNodeQuery, map[string]any{"id": reader})
		if asRole.Get("errors.0.extensions").String() != r.Get("errors.0.extensions").String() {
			t.Fatalf("sod rule and role guarded differently:\n %s\n %s", r, asRole)
		}
	})
}

// §11 tenant isolation: node and nodes with an id of another account answer
// byte for byte like an id that never existed, whoever asks from account a.
func TestNode_OtherAccountsAnswerLikeMissingIDs(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("node-a", nil)
		b := e.newAccount("node-b", nil)
		theirs := e.coreNodeObjects(b)
		keyA := e.ok(a.Owner, `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }`,
			map[string]any{"in": map[string]any{"accountId": a.ID, "name": "all of a"}}).Get("data.createApiKey.secret").String()
		opk := e.ok(e.Operator, `{ viewer { id } }`, nil).Get("data.viewer.id").String()

		type probe struct {
			what, cred, id string
		}
		var probes []probe
		for _, n := range theirs {
			probes = append(probes, probe{n.typename + " as user", a.Owner, n.id}, probe{n.typename + " as API key", keyA, n.id})
		}
		// Operator keys are not Nodes: even the operator's own id is unknown.
		probes = append(probes, probe{"operator key", e.Operator, opk})

		norm := func(r resp, id string) string { return strings.ReplaceAll(string(r.Body), id, "ID") }
		for _, p := range probes {
			fake := coreFakeID(p.id[:strings.Index(p.id, "_")])
			real := e.fails("NOT_FOUND", p.cred, coreNodeQuery, map[string]any{"id": p.id})
			never := e.fails("NOT_FOUND", p.cred, coreNodeQuery, map[string]any{"id": fake})
			if real.Status != never.Status || norm(real, p.id) != norm(never, fake) {
				t.Errorf("node: %s leaks existence:\n real  %s\n never %s", p.what, real, never)
			}
			if real.Get("data.node").Type != gjson.Null {
				t.Errorf("node: %s not null: %s", p.what, real)
			}
			real = e.fails("NOT_FOUND", p.cred, coreNodesQuery, map[string]any{"ids": []string{p.id}})
			never = e.fails("NOT_FOUND", p.cred, coreNodesQuery, map[string]any{"ids": []string{fake}})
			if real.Status != never.Status || norm(real, p.id) != norm(never, fake) {
				t.Errorf("nodes: %s leaks existence:\n real  %s\n never %s", p.what, real, never)
			}
			if real.Get("data.nodes").Raw != "[null]" {
				t.Errorf("nodes: %s not [null]: %s", p.what, real)
			}
		}

		// Mixed lists: a's own object resolves, b's and a missing one are
		// null with the same error.
		own := e.createRole(a.Owner, a.ID, "Own", nil)
		bRole := theirs[1].id
		fake := coreFakeID("role")
		r := e.fails("NOT_FOUND", a.Owner, coreNodesQuery, map[string]any{"ids": []string{own, bRole, fake}})
		if r.Get("data.nodes.0.id").String() != own || r.Get("data.nodes.1").Type != gjson.Null ||
			r.Get("data.nodes.2").Type != gjson.Null || r.Get("errors.#").Int() != 2 {
			t.Fatalf("mixed nodes: %s", r)
		}
		e1 := strings.ReplaceAll(r.Get("errors.#(path.1==1)").Raw, bRole, "ID")
		e2 := strings.ReplaceAll(r.Get("errors.#(path.1==2)").Raw, fake, "ID")
		if e1 == "" || strings.Replace(e1, `"path":["nodes",1]`, `"path":["nodes",2]`, 1) != e2 {
			t.Fatalf("mixed nodes leak existence:\n %s\n %s", e1, e2)
		}
		// Nothing of b was touched by the probes.
		r = e.ok(b.Owner, coreNodeQuery, map[string]any{"id": bRole})
		if r.Get("data.node.key").String() != "node_role" {
			t.Fatalf("b's role: %s", r)
		}
	})
}
