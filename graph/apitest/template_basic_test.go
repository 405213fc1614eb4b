package apitest

import "testing"

// The basic template (A5) has no product document; it follows the rule the
// four do (M2): least privilege — one owner role, editable Admin and
// Viewer, and nothing for a member added without roles.
func TestBasic_OwnerAdminViewerAndNothingByDefault(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("basic", "basic-lp")
		r := e.ok(a.Owner, `query($id: ID!) { account(id: $id) { settings { newMemberRoles minRolesPerMember }
			roles { edges { node { key name kind } } } } }`, map[string]any{"id": a.ID})
		if got := r.Get("data.account.roles.edges.#.node.key").String(); got != `["full_access","admin","viewer"]` {
			t.Fatalf("roles: %s", r)
		}
		if r.Get("data.account.settings").Raw != `{"newMemberRoles":[],"minRolesPerMember":0}` {
			t.Fatalf("settings: %s", r)
		}
		m := e.addMember(a.Owner, a.ID, "new@basic-lp.test")
		if p := e.permissionsOf(m); len(p) != 0 {
			t.Errorf("a member added without roles holds %v", p)
		}
		// The templates query says the same before any account exists.
		r = e.ok(e.Operator, `{ templates { name systemRoles { key name } newMemberRoles minRolesPerMember } }`, nil)
		for name, want := range map[string]string{
			"basic":      `{"name":"basic","systemRoles":[{"key":"full_access","name":"Owner"}],"newMemberRoles":[],"minRolesPerMember":0}`,
			"convrs":     `{"name":"convrs","systemRoles":[{"key":"full_access","name":"Owner"}],"newMemberRoles":[],"minRolesPerMember":1}`,
			"truerecord": `{"name":"truerecord","systemRoles":[{"key":"full_access","name":"Owner"}],"newMemberRoles":[],"minRolesPerMember":0}`,
			"truthlocks": `{"name":"truthlocks","systemRoles":[{"key":"full_access","name":"Tenant Admin"}],"newMemberRoles":[],"minRolesPerMember":0}`,
			"truora": `{"name":"truora","systemRoles":[{"key":"full_access","name":"Full access"},{"key":"default_access","name":"Default access"}],` +
				`"newMemberRoles":["default_access"],"minRolesPerMember":0}`,
		} {
			if got := r.Get(`data.templates.#(name=="` + name + `")`).Raw; got != want {
				t.Errorf("template %s: %s", name, got)
			}
		}
	})
}
