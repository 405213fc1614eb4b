package apitest

import (
	"slices"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// catalog is a Truora/Truthlocks/Convrs-style sample catalog (seeds/).
var catalog = []map[string]any{
	{"key": "identity.flows.create", "group": "Digital Identity — flows", "description": "Create flows"},
	{"key": "identity.flows.read", "group": "Digital Identity — flows"},
	{"key": "identity.whatsapp.send", "group": "Digital Identity — WhatsApp"},
	{"key": "validations.documents", "group": "Validations"},
	{"key": "checks.background", "group": "Background checks"},
	{"key": "products.all", "group": "Products", "implies": []string{"identity.*", "validations.*", "checks.*"}},
	{"key": "truora.roles", "group": "Administration", "implies": []string{"iam.roles.*", "iam.permissions.read"}},
	{"key": "truora.users", "group": "Administration", "implies": []string{"iam.members.*", "iam.roles.read"}},
	{"key": "attestations:mint", "group": "Attestations"},
	{"key": "attestations:revoke", "group": "Attestations"},
	{"key": "governance:approve", "group": "Governance"},
	{"key": "AgentChat", "group": "Inbox"},
	{"key": "view_duplicates", "group": "Contacts"},
	{"key": "mask:member.email", "group": "Masks", "kind": "DENY_MASK"},
	{"key": "unused.outside", "group": "Not in master lists"},
}

// masterKeys are the keys every test account gets (all but unused.outside).
var masterKeys = []string{
	"identity.*", "validations.documents", "checks.background", "products.all", "truora.roles", "truora.users",
	"attestations:*", "governance:approve", "AgentChat", "view_duplicates", "mask:member.email",
}

const defineCatalog = `mutation($p: [PermissionInput!]!) { definePermissions(input: {permissions: $p}) { permissions { id key } } }`

// account is a test account and its owner.
type account struct {
	ID, Slug        string
	OwnerID         string // member id
	Owner           string // owner's JWT
	OwnerEmail      string
	FullAccessID    string
	DefaultAccessID string
}

func (e *env) defineCatalog() {
	e.t.Helper()
	e.ok(e.Operator, defineCatalog, map[string]any{"p": catalog})
}

// newAccount creates an account with masterKeys (after defining the catalog).
func (e *env) newAccount(slug string, extra map[string]any) account {
	e.t.Helper()
	e.defineCatalog()
	in := map[string]any{"permissions": masterKeys}
	for k, v := range extra {
		in[k] = v
	}
	a, _, _ := e.createAccount(slug, in)
	return a
}

const createAccountMutation = `mutation($in: CreateAccountInput!) { createAccount(input: $in) {
	account { id slug template settings { roleAssignment defaultAccessExcludes } features { customRoles resourceConstraints }
		roles { edges { node { id key name kind position } } } }
	owner { id status roles { key } } } }`

// createAccount creates the account "Account <slug>" from in as the
// operator, owned by owner@<slug>.test, and returns it, its roles' ids by
// key and the createAccount answer.
func (e *env) createAccount(slug string, in map[string]any) (account, map[string]string, resp) {
	e.t.Helper()
	in["name"], in["slug"] = "Account "+slug, slug
	in["owner"] = map[string]any{"email": "owner@" + slug + ".test", "name": "Owner"}
	r := e.ok(e.Operator, createAccountMutation, map[string]any{"in": in})
	a := account{
		ID: r.Get("data.createAccount.account.id").String(), Slug: slug,
		OwnerID:    r.Get("data.createAccount.owner.id").String(),
		OwnerEmail: "owner@" + slug + ".test",
	}
	a.Owner = userToken(e.t, a.OwnerEmail)
	roles := map[string]string{}
	for _, n := range r.Get("data.createAccount.account.roles.edges.#.node").Array() {
		roles[n.Get("key").String()] = n.Get("id").String()
	}
	a.FullAccessID, a.DefaultAccessID = roles["full_access"], roles["default_access"]
	// Only an account of its own has default_access for sure: a template
	// has it only where its product does (Truora).
	if a.ID == "" || a.OwnerID == "" || a.FullAccessID == "" || (in["template"] == nil && a.DefaultAccessID == "") {
		e.t.Fatalf("account fixture incomplete: %s", r)
	}
	return a, roles, r
}

// templateAccount is an account created from a template (A5).
type templateAccount struct {
	account
	Roles   map[string]string // role key → id
	Created resp              // the createAccount answer
}

// newTemplateAccount creates an account from template as the operator, the
// way the issue describes it: createAccount(input: {name, slug, template, owner}).
func (e *env) newTemplateAccount(template, slug string) templateAccount {
	e.t.Helper()
	a, roles, r := e.createAccount(slug, map[string]any{"template": template})
	return templateAccount{account: a, Roles: roles, Created: r}
}

// builtinPermissions are Gatehouse's own permissions, in every master list (K7).
var builtinPermissions = []string{
	"iam.permissions.read", "iam.roles.read", "iam.roles.manage", "iam.members.read", "iam.members.manage",
	"iam.members.invite", "iam.members.roles.assign", "iam.members.suspend", "iam.members.remove",
	"iam.members.ownership.transfer",
	"iam.keys.read", "iam.keys.manage", "iam.keys.create", "iam.keys.revoke", "iam.scopes.manage", "iam.audit.read", "iam.reviews.read",
	"iam.sod.manage", "iam.account.manage", "iam.authorize",
}

// builtinImplies are the built-ins' implications (K4, K7): the coarse
// `manage` keys imply the single actions they were split into.
var builtinImplies = map[string][]string{
	"iam.members.manage": {"iam.members.invite", "iam.members.roles.assign", "iam.members.suspend", "iam.members.remove",
		"iam.members.ownership.transfer"},
	"iam.keys.manage": {"iam.keys.create", "iam.keys.revoke"},
}

// withImplied adds to keys what the built-ins among them imply.
func withImplied(keys ...string) []string {
	out := slices.Clone(keys)
	for _, k := range keys {
		for _, imp := range builtinImplies[k] {
			if !slices.Contains(out, imp) {
				out = append(out, imp)
			}
		}
	}
	return out
}

// roleEffective is the effective permissions of the account's role with key,
// read as cred; the role must be visible to cred.
func (e *env) roleEffective(cred, accountID, key string) []string {
	e.t.Helper()
	r := e.ok(cred, `query($id: ID!, $k: String!) { account(id: $id) { role(key: $k) { key effectivePermissions } } }`,
		map[string]any{"id": accountID, "k": key})
	if r.Get("data.account.role.key").String() != key {
		e.t.Fatalf("no role %s: %s", key, r)
	}
	return gjsonStrings(r.Get("data.account.role.effectivePermissions").Array())
}

// sameStrings fails unless got and want hold the same strings in any order,
// naming what is missing and what is extra.
func sameStrings(t testing.TB, what string, got, want []string) {
	t.Helper()
	g, w := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if slices.Equal(g, w) {
		return
	}
	var missing, extra []string
	for _, k := range w {
		if !slices.Contains(g, k) {
			missing = append(missing, k)
		}
	}
	for _, k := range g {
		if !slices.Contains(w, k) {
			extra = append(extra, k)
		}
	}
	t.Errorf("%s: missing %v, extra %v (got %d, want %d)\n got  %v\n want %v", what, missing, extra, len(g), len(w), g, w)
}

// ownerKey creates an API key named k with the owner's permissions and
// returns its secret.
func (e *env) ownerKey(a account) string {
	e.t.Helper()
	return e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "k"}).Get("data.createApiKey.secret").String()
}

// createRole creates a custom role as cred and returns its id.
func (e *env) createRole(cred, accountID, name string, grants []string) string {
	e.t.Helper()
	r := e.ok(cred, `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id } } }`,
		map[string]any{"in": map[string]any{"accountId": accountID, "name": name, "grants": grants}})
	return r.Get("data.createRole.role.id").String()
}

// addMember adds email with roles (by id) and returns the member id.
func (e *env) addMember(cred, accountID, email string, roleIDs ...string) string {
	e.t.Helper()
	in := map[string]any{"accountId": accountID, "email": email}
	if len(roleIDs) > 0 {
		in["roleIds"] = roleIDs
	}
	r := e.ok(cred, `mutation($in: AddMemberInput!) { addMember(input: $in) { member { id } } }`, map[string]any{"in": in})
	return r.Get("data.addMember.member.id").String()
}

// auditCount counts the account's audit events with action.
func (e *env) auditCount(accountID, action string) int64 {
	e.t.Helper()
	r := e.ok(e.Operator, `query($id: ID!, $a: String!) { account(id: $id) { auditEvents(where: {action: $a}) { totalCount } } }`,
		map[string]any{"id": accountID, "a": action})
	return r.Get("data.account.auditEvents.totalCount").Int()
}

// permissionsOf returns the effective permissions of a member.
func (e *env) permissionsOf(memberID string) []string {
	e.t.Helper()
	r := e.ok(e.Operator, `query($id: ID!) { node(id: $id) { ... on Member { effectivePermissions } } }`, map[string]any{"id": memberID})
	var out []string
	for _, v := range r.Get("data.node.effectivePermissions").Array() {
		out = append(out, v.String())
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

var _ = testing.Short

// timeIn is an RFC 3339 time ms milliseconds from now.
func timeIn(ms int) string {
	return time.Now().Add(time.Duration(ms) * time.Millisecond).Format(time.RFC3339Nano)
}

func sleepMillis(ms int) { time.Sleep(time.Duration(ms) * time.Millisecond) }

func gjsonStrings(rs []gjson.Result) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return out
}
