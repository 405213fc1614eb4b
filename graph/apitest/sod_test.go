package apitest

import (
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

const createSod = `mutation($in: CreateSodRuleInput!) { createSodRule(input: $in) { sodRule { id name permissions level mode } } }`

func sodRule(accountID, level, mode string, perms ...string) map[string]any {
	return map[string]any{"in": map[string]any{"accountId": accountID, "name": "mint vs approve", "permissions": perms, "level": level, "mode": mode}}
}

// V1 at ROLE level (Truthlocks: never attestations:mint with governance:approve).
func TestV1_RoleLevelEnforced(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("v1r", nil)
		minter := e.createRole(a.Owner, a.ID, "Minter", []string{"attestations:mint"})
		e.ok(a.Owner, createSod, sodRule(a.ID, "ROLE", "ENFORCE", "attestations:mint", "governance:approve"))
		// Adding the second permission to the role is refused, naming the rule.
		r := e.fails("CONFLICT", a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": minter, "expectedVersion": 1, "addGrants": []string{"governance:approve"}}})
		if r.Get("errors.0.extensions.reason").String() != "SOD_VIOLATION" || !strings.Contains(r.Get("errors.0.message").String(), "mint vs approve") {
			t.Fatalf("refusal: %s", r)
		}
		// A wildcard that reaches both is refused too; nothing changed.
		e.fails("CONFLICT", a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Both", "grants": []string{"attestations:*", "governance:approve"}}})
		if e.ok(a.Owner, `query($id: ID!) { node(id: $id) { ... on Role { version } } }`, map[string]any{"id": minter}).Get("data.node.version").Int() != 1 {
			t.Fatal("a refused change was written")
		}
		// full_access (the owner) holds everything and is exempt.
		e.addMember(a.Owner, a.ID, "owner2@v1r.test", a.FullAccessID)
	})
}

// V1 at MEMBER level: no member, and no key, may hold both across roles.
func TestV1_MemberLevelEnforcedOnAssignmentsAndKeys(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("v1m", nil)
		minter := e.createRole(a.Owner, a.ID, "Minter", []string{"attestations:mint", "iam.keys.manage"})
		approver := e.createRole(a.Owner, a.ID, "Approver", []string{"governance:approve"})
		m := e.addMember(a.Owner, a.ID, "m@v1m.test", minter)
		e.ok(a.Owner, createSod, sodRule(a.ID, "MEMBER", "ENFORCE", "attestations:mint", "governance:approve"))
		r := e.fails("CONFLICT", a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": m, "roleIds": []string{minter, approver}}})
		if !strings.Contains(r.Get("errors.0.extensions.violators").String(), m) {
			t.Fatalf("violators: %s", r)
		}
		e.fails("CONFLICT", a.Owner, `mutation($in: AddMemberInput!) { addMember(input: $in) { member { id } } }`,
			map[string]any{"in": map[string]any{"accountId": a.ID, "email": "both@v1m.test", "roleIds": []string{minter, approver}, "invite": true}})
		// One role each is fine.
		e.addMember(a.Owner, a.ID, "a@v1m.test", approver)
		// A key holding both is refused too (here one the operator mints without a member).
		r = e.fails("CONFLICT", e.Operator, createKey, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "both",
			"permissions": []string{"attestations:mint", "governance:approve"}}})
		if r.Get("errors.0.extensions.reason").String() != "SOD_VIOLATION" || !strings.Contains(r.Get("errors.0.message").String(), "API key") {
			t.Fatalf("key: %s", r)
		}
	})
}

// V1: an ENFORCE rule the account already breaks is refused, listing the
// violators; a REPORT rule is accepted.
func TestV1_EnforceRuleRefusedWhenAlreadyBroken(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("v1b", nil)
		e.createRole(a.Owner, a.ID, "Both", []string{"attestations:mint", "governance:approve"})
		r := e.fails("CONFLICT", a.Owner, createSod, sodRule(a.ID, "ROLE", "ENFORCE", "attestations:mint", "governance:approve"))
		if !strings.Contains(r.Get("errors.0.extensions.violators").String(), "role both") {
			t.Fatalf("violators: %s", r)
		}
		e.ok(a.Owner, createSod, sodRule(a.ID, "ROLE", "REPORT", "attestations:mint", "governance:approve"))
		r = e.ok(a.Owner, `query($id: ID!) { account(id: $id) { sodRules { name level mode permissions } } }`, map[string]any{"id": a.ID})
		if r.Get("data.account.sodRules.#").Int() != 1 || r.Get("data.account.sodRules.0.mode").String() != "REPORT" {
			t.Fatalf("rules: %s", r)
		}
		e.fails("BAD_USER_INPUT", a.Owner, createSod, sodRule(a.ID, "ROLE", "REPORT", "attestations:mint"))
		e.fails("BAD_USER_INPUT", a.Owner, createSod, sodRule(a.ID, "ROLE", "REPORT", "attestations:mint", "nope.nope"))
		_, tok := e.keyAdmin(a, "r@v1b.test", "iam.roles.read")
		e.fails("FORBIDDEN", tok, createSod, sodRule(a.ID, "ROLE", "REPORT", "attestations:mint", "AgentChat"))
	})
}

// V1 and the write path: a change checks the account's ENFORCE rules without
// reading them once a change has (the model keeps them), and the kept list
// follows every change of the rules — a rule made here or on another server,
// and its deletion.
func TestV1_EnforcedRulesFollowEveryChangeOfThem(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("v1k", nil)
		other := e.secondServer(t, server.Config{})
		minter := e.createRole(a.Owner, a.ID, "Minter", []string{"attestations:mint"})
		create := func(name string, grants ...string) map[string]any {
			return map[string]any{"in": map[string]any{"accountId": a.ID, "name": name, "grants": grants}}
		}
		_, without := e.statementsOf(a.Owner, createRole, create("Plain", "AgentChat"))
		// A rule made on another server binds this server's next change.
		rule := other.ok(a.Owner, createSod, sodRule(a.ID, "ROLE", "ENFORCE", "attestations:mint", "governance:approve")).
			Get("data.createSodRule.sodRule.id").String()
		e.fails("CONFLICT", a.Owner, createRole, create("Both", "attestations:mint", "governance:approve"))
		// Once read, the rules are not read again: the change after the
		// next costs what it cost without rules.
		e.ok(a.Owner, createRole, create("Plain 2", "AgentChat"))
		if _, with := e.statementsOf(a.Owner, createRole, create("Plain 3", "AgentChat")); with != without {
			t.Errorf("createRole sent %d statements with a rule kept, %d without one", with, without)
		}
		e.fails("CONFLICT", a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": minter, "expectedVersion": 1, "addGrants": []string{"governance:approve"}}})
		// Deleted here, the rule binds nothing any more.
		e.ok(a.Owner, `mutation($in: DeleteSodRuleInput!) { deleteSodRule(input: $in) { deletedSodRuleId } }`,
			map[string]any{"in": map[string]any{"sodRuleId": rule}})
		e.createRole(a.Owner, a.ID, "Both", []string{"attestations:mint", "governance:approve"})
	})
}

// V1, R1: a role an ENFORCE rule refused leaves nothing behind in the cached
// model, though the model had already taken it in when the rule was checked
// (the check runs on the model the change leaves): the roles created next,
// at the same position, are found by key and by id, and the refused key is
// free.
func TestV1_RefusedRoleLeavesNoTraceInTheModel(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("v1t", nil)
		e.ok(a.Owner, createSod, sodRule(a.ID, "ROLE", "ENFORCE", "attestations:mint", "governance:approve"))
		refused := map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Zz", "grants": []string{"attestations:mint", "governance:approve"}}}
		e.fails("CONFLICT", a.Owner, createRole, refused)
		e.createRole(a.Owner, a.ID, "Aa", []string{"attestations:mint"})
		pp := e.createRole(a.Owner, a.ID, "Pp", []string{"governance:approve"})
		m := e.addMember(a.Owner, a.ID, "m@v1t.test", pp)
		d := e.decide(e.Operator, map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": m}, "permission": "governance:approve"})
		if !d.Get("data.authorize.allowed").Bool() || d.Get("data.authorize.grantedBy.roleKey").String() != "pp" {
			t.Fatalf("the member holding pp: %s", d)
		}
		for _, key := range []string{"aa", "pp"} {
			r := e.fails("CONFLICT", a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": key, "grants": []string{"attestations:mint"}}})
			if msg := r.Get("errors.0.message").String(); !strings.Contains(msg, `a role with key "`+key+`" exists`) {
				t.Fatalf("creating %s again: %s", key, r)
			}
		}
		refused["in"].(map[string]any)["grants"] = []string{"attestations:mint"}
		e.ok(a.Owner, createRole, refused)
	})
}
