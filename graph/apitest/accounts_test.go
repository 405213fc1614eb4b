package apitest

import (
	"strings"
	"testing"
)

const createAccount = `mutation($in: CreateAccountInput!) { createAccount(input: $in) { account { id } } }`

func TestA1_CreateAccountProvisionsRolesAndOwner(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("a1", map[string]any{"settings": map[string]any{"roleAssignment": "SINGLE"}})
		r := e.ok(e.Operator, `query($id: ID!) { account(id: $id) { slug status settings { roleAssignment defaultAccessExcludes }
			features { customRoles resourceConstraints }
			roles { totalCount edges { node { key kind grants version } } }
			members { totalCount edges { node { email status roles { key } } } } } }`, map[string]any{"id": a.ID})
		acc := r.Get("data.account")
		if acc.Get("roles.totalCount").Int() != 2 || acc.Get("roles.edges.0.node.key").String() != "full_access" ||
			acc.Get("roles.edges.0.node.kind").String() != "SYSTEM" || acc.Get("roles.edges.1.node.key").String() != "default_access" {
			t.Fatalf("system roles: %s", r)
		}
		m := acc.Get("members.edges.0.node")
		if acc.Get("members.totalCount").Int() != 1 || m.Get("email").String() != a.OwnerEmail ||
			m.Get("status").String() != "ACTIVE" || m.Get("roles.0.key").String() != "full_access" {
			t.Fatalf("owner: %s", r)
		}
		if acc.Get("settings.roleAssignment").String() != "SINGLE" || acc.Get("settings.defaultAccessExcludes.0").String() != "iam.*" {
			t.Fatalf("settings: %s", r)
		}
		if e.auditCount(a.ID, "account.created") != 1 {
			t.Fatal("L1: account.created not audited")
		}
	})
}

func TestA1_BadInputChangesNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.newAccount("taken", nil)
		owner := map[string]any{"email": "o@x.test"}
		cases := map[string]struct {
			code string
			in   map[string]any
		}{
			"duplicate slug":     {"CONFLICT", map[string]any{"name": "X", "slug": "taken", "owner": owner}},
			"bad slug":           {"BAD_USER_INPUT", map[string]any{"name": "X", "slug": "Bad Slug", "owner": owner}},
			"unknown permission": {"BAD_USER_INPUT", map[string]any{"name": "X", "slug": "x1", "owner": owner, "permissions": []string{"nope.nope"}}},
			"bad email":          {"BAD_USER_INPUT", map[string]any{"name": "X", "slug": "x2", "owner": map[string]any{"email": "not an email"}}},
			"bad excludes":       {"BAD_USER_INPUT", map[string]any{"name": "X", "slug": "x3", "owner": owner, "settings": map[string]any{"defaultAccessExcludes": []string{"a.*.b"}}}},
		}
		for name, c := range cases {
			if r := e.gql(e.Operator, createAccount, map[string]any{"in": c.in}); r.Code() != c.code {
				t.Errorf("%s: want %s, got %s", name, c.code, r)
			}
		}
		r := e.ok(e.Operator, `{ accounts { totalCount } }`, nil)
		if r.Get("data.accounts.totalCount").Int() != 1 {
			t.Fatalf("refused creations left accounts behind: %s", r)
		}
		// Only operators create accounts.
		e.fails("FORBIDDEN", userToken(t, "owner@taken.test"), createAccount, map[string]any{"in": cases["bad slug"].in})
	})
}

func TestA2_SingleRefusedWhileMembersHoldSeveralRoles(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("a2", nil)
		role := e.createRole(a.Owner, a.ID, "Chat", []string{"AgentChat"})
		e.addMember(a.Owner, a.ID, "two@a2.test", role, a.DefaultAccessID)
		const upd = `mutation($id: ID!, $m: RoleAssignmentMode!) { updateAccount(input: {accountId: $id, settings: {roleAssignment: $m}}) { account { settings { roleAssignment } } } }`
		r := e.fails("CONFLICT", a.Owner, upd, map[string]any{"id": a.ID, "m": "SINGLE"})
		if r.Get("errors.0.extensions.members.#").Int() != 1 {
			t.Fatalf("offenders not listed: %s", r)
		}
		// In a SINGLE account a member holds exactly one role.
		b := e.newAccount("a2single", map[string]any{"settings": map[string]any{"roleAssignment": "SINGLE"}})
		e.fails("BAD_USER_INPUT", b.Owner, `mutation($in: AddMemberInput!) { addMember(input: $in) { member { id } } }`,
			map[string]any{"in": map[string]any{"accountId": b.ID, "email": "x@b.test", "roleIds": []string{b.DefaultAccessID, b.FullAccessID}}})
	})
}

func TestA3_FeatureNotAvailable(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("a3", map[string]any{"features": map[string]any{"customRoles": false}})
		e.fails("FEATURE_NOT_AVAILABLE", a.Owner, `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id } } }`,
			map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Nope"}})
		b := e.newAccount("a3b", nil)
		e.fails("FEATURE_NOT_AVAILABLE", b.Owner, `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id } } }`,
			map[string]any{"in": map[string]any{"accountId": b.ID, "name": "Scoped", "grants": []string{"attestations:mint"},
				"constraints": []map[string]any{{"attribute": "issuer_ids", "values": []string{"iss_1"}}}}})
		// Features are the operator's.
		e.fails("FORBIDDEN", b.Owner, `mutation($id: ID!) { updateAccount(input: {accountId: $id, features: {resourceConstraints: true}}) { account { id } } }`,
			map[string]any{"id": b.ID})
		e.ok(e.Operator, `mutation($id: ID!) { updateAccount(input: {accountId: $id, features: {resourceConstraints: true}}) { account { id } } }`,
			map[string]any{"id": b.ID})
		e.ok(b.Owner, `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id constraints { attribute values } } } }`,
			map[string]any{"in": map[string]any{"accountId": b.ID, "name": "Scoped", "grants": []string{"attestations:mint"},
				"constraints": []map[string]any{{"attribute": "issuer_ids", "values": []string{"iss_1"}}}}})
	})
}

func TestA4_RemovingMasterKeysStripsRolesInOneTransaction(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("a4", nil)
		roleID := e.createRole(a.Owner, a.ID, "Chat", []string{"AgentChat", "view_duplicates", "identity.*"})
		member := e.addMember(a.Owner, a.ID, "agent@a4.test", roleID)
		if !contains(e.permissionsOf(member), "AgentChat") {
			t.Fatal("setup: member lacks AgentChat")
		}
		e.ok(e.Operator, `mutation($id: ID!) { removeAccountPermissions(input: {accountId: $id, permissions: ["AgentChat", "identity.flows.create"]}) { account { id } } }`,
			map[string]any{"id": a.ID})
		r := e.ok(a.Owner, `query($id: ID!) { node(id: $id) { ... on Role { grants version effectivePermissions } } }`, map[string]any{"id": roleID})
		grants := r.Get("data.node.grants").String()
		if strings.Contains(grants, "AgentChat") || !strings.Contains(grants, "view_duplicates") || !strings.Contains(grants, "identity.*") {
			t.Fatalf("grants not stripped as expected: %s", r)
		}
		if r.Get("data.node.version").Int() != 2 {
			t.Fatalf("stripping must bump the version: %s", r)
		}
		eff := r.Get("data.node.effectivePermissions").String()
		if strings.Contains(eff, "identity.flows.create") || !strings.Contains(eff, "identity.flows.read") {
			t.Fatalf("the wildcard must lose the removed key only: %s", eff)
		}
		if contains(e.permissionsOf(member), "AgentChat") {
			t.Fatal("member keeps a removed permission")
		}
		if e.auditCount(a.ID, "account.permissions.removed") != 1 {
			t.Fatal("removal not audited")
		}
		// Keys not in the master list are refused, and nothing changes.
		e.fails("BAD_USER_INPUT", e.Operator, `mutation($id: ID!) { removeAccountPermissions(input: {accountId: $id, permissions: ["view_duplicates", "unused.outside"]}) { account { id } } }`,
			map[string]any{"id": a.ID})
		if !contains(e.permissionsOf(member), "view_duplicates") {
			t.Fatal("a refused removal removed something")
		}
		// Adding makes a key available; full_access follows at once (R2).
		e.ok(e.Operator, `mutation($id: ID!) { addAccountPermissions(input: {accountId: $id, permissions: ["unused.outside"]}) { account { id } } }`,
			map[string]any{"id": a.ID})
		if !contains(e.permissionsOf(a.OwnerID), "unused.outside") {
			t.Fatal("full_access does not follow the master list")
		}
		// Only operators change master lists.
		e.fails("FORBIDDEN", a.Owner, `mutation($id: ID!) { addAccountPermissions(input: {accountId: $id, permissions: ["AgentChat"]}) { account { id } } }`,
			map[string]any{"id": a.ID})
	})
}

func TestA6_SuspendedAccount(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("a6", nil)
		e.ok(e.Operator, `mutation($id: ID!) { updateAccount(input: {accountId: $id, status: SUSPENDED}) { account { status } } }`, map[string]any{"id": a.ID})
		e.fails("FORBIDDEN", a.Owner, `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id } } }`,
			map[string]any{"in": map[string]any{"accountId": a.ID, "name": "X"}})
		e.fails("FORBIDDEN", a.Owner, `query($id: ID!) { account(id: $id) { members { totalCount } } }`, map[string]any{"id": a.ID})
		e.fails("FORBIDDEN", e.Operator, `mutation($in: AddMemberInput!) { addMember(input: $in) { member { id } } }`,
			map[string]any{"in": map[string]any{"accountId": a.ID, "email": "x@a6.test"}})
		r := e.ok(e.Operator, `query($id: ID!) { account(id: $id) { status members { totalCount } } }`, map[string]any{"id": a.ID})
		if r.Get("data.account.members.totalCount").Int() != 1 {
			t.Fatalf("operator reads a suspended account: %s", r)
		}
	})
}
