package apitest

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

const (
	updateRole = `mutation($in: UpdateRoleInput!) { updateRole(input: $in) { role { id version grants effectivePermissions } } }`
	deleteRole = `mutation($in: DeleteRoleInput!) { deleteRole(input: $in) { deletedRoleId reassignedMembers } }`
	createRole = `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id key grants version } } }`
	setRoles   = `mutation($in: SetMemberRolesInput!) { setMemberRoles(input: $in) { member { id roles { key } } } }`
)

func TestR2_SystemRolesLockedAndDefaultAccessExcludes(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("r2", nil)
		r := e.fails("FORBIDDEN", a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": a.FullAccessID, "expectedVersion": 1, "name": "Mine"}})
		if r.Get("errors.0.extensions.reason").String() != "SYSTEM_ROLE" {
			t.Fatalf("reason: %s", r)
		}
		e.fails("FORBIDDEN", e.Operator, deleteRole, map[string]any{"in": map[string]any{"roleId": a.DefaultAccessID}})
		r = e.ok(a.Owner, `query($id: ID!) { account(id: $id) { role(key: "default_access") { effectivePermissions } } }`, map[string]any{"id": a.ID})
		// The master list minus iam.*, no masks; the excludes remove what they
		// name, not what the keys default_access keeps imply: truora.roles
		// and truora.users are not excluded here, and imply iam.roles.* and
		// iam.members.*.
		eff := gjsonStrings(r.Get("data.account.role.effectivePermissions").Array())
		var iam []string
		for _, k := range eff {
			if strings.HasPrefix(k, "iam.") {
				iam = append(iam, k)
			}
			if strings.HasPrefix(k, "mask:") {
				t.Errorf("default_access holds the mask %s", k)
			}
		}
		sameStrings(t, "default_access's iam keys", iam, withImplied("iam.roles.read", "iam.roles.manage", "iam.permissions.read", "iam.members.read", "iam.members.manage"))
		if !contains(eff, "AgentChat") || !contains(eff, "truora.users") {
			t.Fatalf("default_access = master list minus iam.*: %s", r)
		}
	})
}

func TestR3_CreateCopyAndEmpty(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("r3", nil)
		empty := e.ok(a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Billing Admin"}})
		if empty.Get("data.createRole.role.key").String() != "billing_admin" || empty.Get("data.createRole.role.grants.#").Int() != 0 {
			t.Fatalf("empty role: %s", empty)
		}
		src := e.createRole(a.Owner, a.ID, "Source", []string{"AgentChat"})
		r := e.ok(a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Copy", "copyFromRoleId": src, "grants": []string{"view_duplicates"}}})
		if r.Get("data.createRole.role.grants").String() != `["AgentChat","view_duplicates"]` {
			t.Fatalf("copy: %s", r)
		}
		e.fails("CONFLICT", a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Copy"}})
		e.fails("BAD_USER_INPUT", a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "  "}})
		if e.auditCount(a.ID, "role.created") != 3 {
			t.Fatal("L1: each created role is audited, refusals are not")
		}
	})
}

func TestR4_ExpectedVersionAndDualList(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("r4", nil)
		id := e.createRole(a.Owner, a.ID, "Agents", []string{"AgentChat"})
		m := e.addMember(a.Owner, a.ID, "agent@r4.test", id)
		r := e.ok(a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": id, "expectedVersion": 1,
			"addGrants": []string{"view_duplicates"}, "removeGrants": []string{"AgentChat"}}})
		if r.Get("data.updateRole.role.version").Int() != 2 || r.Get("data.updateRole.role.grants").String() != `["view_duplicates"]` {
			t.Fatalf("dual list update: %s", r)
		}
		// Holders see the change at once.
		if p := e.permissionsOf(m); contains(p, "AgentChat") || !contains(p, "view_duplicates") {
			t.Fatalf("holder not updated: %v", p)
		}
		// A second admin working from version 1 loses, and changes nothing.
		r = e.fails("VERSION_CONFLICT", a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": id, "expectedVersion": 1, "grants": []string{}}})
		if r.Get("errors.0.extensions.currentVersion").Int() != 2 {
			t.Fatalf("current version: %s", r)
		}
		if !contains(e.permissionsOf(m), "view_duplicates") {
			t.Fatal("a stale update changed the role")
		}
		e.fails("BAD_USER_INPUT", a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": id, "expectedVersion": 2,
			"grants": []string{"AgentChat"}, "addGrants": []string{"x"}}})
	})
}

func TestR5_InvalidGrantsNamed(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("r5", nil)
		r := e.fails("BAD_USER_INPUT", a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Bad",
			"grants": []string{"AgentChat", "a.*.b", "nope.nope", "identity.*"}}})
		inv := r.Get("errors.0.extensions.invalidGrants").String()
		if !strings.Contains(inv, "a.*.b") || !strings.Contains(inv, "nope.nope") || strings.Contains(inv, "AgentChat") {
			t.Fatalf("offenders: %s", r)
		}
		e.fails("NOT_FOUND", a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "C", "copyFromRoleId": "role_nope"}})
	})
}

func TestR6_DeleteHeldRoleNeedsReassignment(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("r6", nil)
		old := e.createRole(a.Owner, a.ID, "Old", []string{"AgentChat"})
		target := e.createRole(a.Owner, a.ID, "New", []string{"view_duplicates"})
		m1 := e.addMember(a.Owner, a.ID, "m1@r6.test", old)
		e.addMember(a.Owner, a.ID, "m2@r6.test", old, target)
		r := e.fails("CONFLICT", a.Owner, deleteRole, map[string]any{"in": map[string]any{"roleId": old}})
		if r.Get("errors.0.extensions.holders").Int() != 2 {
			t.Fatalf("holder count: %s", r)
		}
		r = e.ok(a.Owner, deleteRole, map[string]any{"in": map[string]any{"roleId": old, "reassignToRoleId": target}})
		if r.Get("data.deleteRole.reassignedMembers").Int() != 2 {
			t.Fatalf("reassigned: %s", r)
		}
		if p := e.permissionsOf(m1); !contains(p, "view_duplicates") || contains(p, "AgentChat") {
			t.Fatalf("m1 not moved: %v", p)
		}
		e.fails("NOT_FOUND", a.Owner, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": old})
		empty := e.createRole(a.Owner, a.ID, "Unused", nil)
		e.ok(a.Owner, deleteRole, map[string]any{"in": map[string]any{"roleId": empty}})
	})
}

// R7: outside the operator, nobody gives what they do not hold.
func TestR7_NoEscalation(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("r7", nil)
		// An admin holding truora.roles (→ iam.roles.*) and truora.users (→ iam.members.*), plus identity.flows.create.
		admin := e.createRole(a.Owner, a.ID, "Admin", []string{"truora.roles", "truora.users", "identity.flows.create", "iam.roles.read"})
		e.addMember(a.Owner, a.ID, "admin@r7.test", admin)
		tok := userToken(t, "admin@r7.test")

		r := e.fails("FORBIDDEN", tok, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Up", "grants": []string{"products.all"}}})
		if !strings.Contains(r.Get("errors.0.extensions.missingPermissions").String(), "products.all") {
			t.Fatalf("missingPermissions: %s", r)
		}
		// A wildcard needs an equal or wider wildcard, even when every key it covers today is held.
		r = e.fails("FORBIDDEN", tok, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Wild", "grants": []string{"identity.*"}}})
		if !strings.Contains(r.Get("errors.0.extensions.missingPermissions").String(), "identity.*") {
			t.Fatalf("wildcard refusal: %s", r)
		}
		// What the admin holds it may give.
		mine := e.ok(tok, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Flows", "grants": []string{"identity.flows.create"}}}).
			Get("data.createRole.role.id").String()
		e.fails("FORBIDDEN", tok, updateRole, map[string]any{"in": map[string]any{"roleId": mine, "expectedVersion": 1, "addGrants": []string{"AgentChat"}}})
		// Assigning a role that gives more than the admin holds is escalation too.
		e.fails("FORBIDDEN", tok, `mutation($in: AddMemberInput!) { addMember(input: $in) { member { id } } }`,
			map[string]any{"in": map[string]any{"accountId": a.ID, "email": "x@r7.test", "roleIds": []string{a.FullAccessID}}})
		m := e.addMember(tok, a.ID, "flow@r7.test", mine)
		e.fails("FORBIDDEN", tok, setRoles, map[string]any{"in": map[string]any{"memberId": m, "roleIds": []string{a.DefaultAccessID}}})
		// …and a lesser admin cannot demote or lock out the owner.
		e.fails("FORBIDDEN", tok, `mutation($id: ID!) { suspendMember(input: {memberId: $id}) { member { id } } }`, map[string]any{"id": a.OwnerID})
		// The owner holds `*` and may grant wildcards.
		e.ok(a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Wild", "grants": []string{"identity.*"}}})
		if e.auditCount(a.ID, "role.updated") != 0 {
			t.Fatal("a refused update was audited")
		}
	})
}

// K6: deny masks are the operator's to put on roles; they hide Member.email.
func TestK6_DenyMasks(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("k6", nil)
		e.fails("FORBIDDEN", a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Masked", "grants": []string{"mask:member.email"}}})
		id := e.ok(e.Operator, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Masked",
			"grants": []string{"mask:member.email", "iam.members.read"}}}).Get("data.createRole.role.id").String()
		e.addMember(e.Operator, a.ID, "masked@k6.test", id)
		const q = `query($id: ID!) { account(id: $id) { members { edges { node { email name user { email } } } } } }`
		r := e.ok(userToken(t, "masked@k6.test"), q, map[string]any{"id": a.ID})
		edges := r.Get("data.account.members.edges").Array()
		if len(edges) != 2 {
			t.Fatalf("want 2 members: %s", r)
		}
		for _, edge := range edges {
			// The email is hidden on the member and on its user alike.
			if edge.Get("node.email").Type != gjson.Null || edge.Get("node.user").Type != gjson.Null {
				t.Fatalf("masked email visible: %s", r)
			}
		}
		if !r.Get(`data.account.members.edges.#(node.name=="Owner")`).Exists() {
			t.Fatalf("unmasked fields must stay: %s", r)
		}
		r = e.ok(a.Owner, q, map[string]any{"id": a.ID})
		if r.Get("data.account.members.edges.0.node.email").String() != a.OwnerEmail ||
			r.Get("data.account.members.edges.0.node.user.email").String() != a.OwnerEmail {
			t.Fatalf("unmasked caller sees emails: %s", r)
		}
		// A wildcard never reaches a mask: full_access lacks it.
		r = e.ok(a.Owner, `query($id: ID!) { account(id: $id) { role(key: "full_access") { effectivePermissions masks } } }`, map[string]any{"id": a.ID})
		if strings.Contains(r.Get("data.account.role.effectivePermissions").String(), "mask:") {
			t.Fatalf("wildcard matched a mask: %s", r)
		}
		// Only the operator takes a mask off.
		e.fails("FORBIDDEN", a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": id, "expectedVersion": 1, "removeGrants": []string{"mask:member.email"}}})
	})
}

// Mutations of one request run in order, and each payload reads the state
// its own mutation left (§11: the request's loaders are reset after every
// mutation): the second payload must not answer from what the first loaded.
// A role's holder count is read through a loader.
func TestMutationPayloadsReadTheirOwnWrites(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("ownwrites", nil)
		m := e.addMember(a.Owner, a.ID, "two@ownwrites.test", a.DefaultAccessID)
		r := e.ok(a.Owner, `mutation($m: ID!, $d: [ID!]!, $a: ID!) {
			first: setMemberRoles(input: {memberId: $m, roleIds: $d}) { member { roles { key holderCount } } }
			second: addMember(input: {accountId: $a, email: "three@ownwrites.test", roleIds: $d}) { member { roles { key holderCount } } }
		}`, map[string]any{"m": m, "d": []string{a.DefaultAccessID}, "a": a.ID})
		if got := r.Get("data.first.member.roles").Raw; got != `[{"key":"default_access","holderCount":1}]` {
			t.Errorf("first payload's roles: %s", got)
		}
		if got := r.Get("data.second.member.roles").Raw; got != `[{"key":"default_access","holderCount":2}]` {
			t.Errorf("second payload's roles: %s (the count the first payload loaded?)", got)
		}
	})
}
