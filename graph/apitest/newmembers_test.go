package apitest

import "testing"

const roleSettings = `mutation($in: UpdateAccountInput!) { updateAccount(input: $in) { account { settings { newMemberRoles minRolesPerMember } } } }`

// M2: what a member added without roles receives is the account's
// newMemberRoles setting — default_access in an account of its own, as
// before — which its administrators change; a role named there cannot be
// deleted, and an unknown one cannot be named. Access config documents
// carry the setting, and documents written before it leave it alone (C1).
func TestM2_NewMemberRolesAreASetting(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("m2set", nil)
		agents := e.createRole(a.Owner, a.ID, "Agents", []string{"AgentChat"})
		set := func(settings map[string]any) map[string]any {
			return map[string]any{"in": map[string]any{"accountId": a.ID, "settings": settings}}
		}
		r := e.ok(a.Owner, roleSettings, set(map[string]any{"newMemberRoles": []string{"agents"}}))
		if r.Get("data.updateAccount.account.settings").Raw != `{"newMemberRoles":["agents"],"minRolesPerMember":0}` {
			t.Fatalf("settings: %s", r)
		}
		m := e.addMember(a.Owner, a.ID, "new@m2set.test")
		sameStrings(t, "a new member", e.permissionsOf(m), []string{"AgentChat"})
		r = e.fails("CONFLICT", a.Owner, deleteRole, map[string]any{"in": map[string]any{"roleId": agents, "reassignToRoleId": a.DefaultAccessID}})
		if r.Get("errors.0.extensions.reason").String() != "NEW_MEMBER_ROLE" {
			t.Errorf("deleting a new-member role: %s", r)
		}
		e.fails("BAD_USER_INPUT", a.Owner, roleSettings, set(map[string]any{"newMemberRoles": []string{"ghost"}}))
		for _, bad := range []int{-1, 101} {
			e.fails("BAD_USER_INPUT", a.Owner, roleSettings, set(map[string]any{"minRolesPerMember": bad}))
			e.fails("BAD_USER_INPUT", e.Operator, createAccountMutation, map[string]any{"in": map[string]any{"name": "Bad", "slug": "m2bad",
				"owner": map[string]any{"email": "o@m2bad.test"}, "settings": map[string]any{"minRolesPerMember": bad}}})
		}
		// Naming a role a member must hold is no escalation: adding still
		// needs everything the role gives (R7).
		e.ok(a.Owner, roleSettings, set(map[string]any{"newMemberRoles": []string{"full_access"}}))
		e.addMember(a.Owner, a.ID, "adder@m2set.test", e.createRole(a.Owner, a.ID, "Adders", []string{"truora.users", "AgentChat"}))
		r = e.fails("FORBIDDEN", userToken(t, "adder@m2set.test"), addMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "x@m2set.test"}})
		if !contains(gjsonStrings(r.Get("errors.0.extensions.missingPermissions").Array()), "iam.account.manage") {
			t.Errorf("adding an owner by default: %s", r)
		}
		e.ok(a.Owner, roleSettings, set(map[string]any{"newMemberRoles": []string{}}))
		if p := e.permissionsOf(e.addMember(a.Owner, a.ID, "bare@m2set.test")); len(p) != 0 {
			t.Errorf("with no new-member roles: %v", p)
		}

		// The access config carries the setting; a document without it
		// changes nothing of it.
		doc := e.export(a.Owner, a.ID)
		st := doc["settings"].(map[string]any)
		if st["minRolesPerMember"] != float64(0) || len(st["newMemberRoles"].([]any)) != 0 {
			t.Fatalf("exported settings: %v", st)
		}
		if r := e.apply(a.Owner, a.ID, doc, false); r.Get("data.applyAccessConfig.plan.#").Int() != 0 {
			t.Fatalf("re-applying the export: %s", r)
		}
		delete(st, "newMemberRoles")
		delete(st, "minRolesPerMember")
		if r := e.apply(a.Owner, a.ID, doc, false); r.Get("data.applyAccessConfig.plan.#").Int() != 0 {
			t.Fatalf("a document from before the setting: %s", r)
		}
		// Raising the floor while a member holds fewer roles is refused,
		// unless the same document gives them roles.
		st["newMemberRoles"], st["minRolesPerMember"] = []string{"agents"}, 1
		r = e.apply(a.Owner, a.ID, doc, false)
		if r.Get("errors.0.extensions.code").String() != "CONFLICT" || r.Get("errors.0.extensions.reason").String() != "TOO_FEW_ROLES" {
			t.Fatalf("a member left with no role: %s", r)
		}
		for _, m := range doc["members"].([]any) {
			if m := m.(map[string]any); m["email"] == "bare@m2set.test" {
				m["roles"] = []string{"agents"}
			}
		}
		r = e.apply(a.Owner, a.ID, doc, false)
		if r.Get("data.applyAccessConfig.plan.0.kind").String() != "SETTINGS" || r.Get("data.applyAccessConfig.plan.#").Int() != 2 {
			t.Fatalf("settings and the member's role: %s", r)
		}
		if got := e.export(a.Owner, a.ID)["settings"].(map[string]any); got["minRolesPerMember"] != float64(1) {
			t.Errorf("settings after the apply: %v", got)
		}
	})
}
