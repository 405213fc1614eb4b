package apitest

import (
	"github.com/gatehouse-iam/gatehouse/graph/server"
	"strings"
	"testing"
)

// Tenant isolation (SPEC §11): objects of another account are NOT_FOUND,
// exactly like ids that never existed.
func TestIsolation_OtherAccountsAreNotFound(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("iso-a", nil)
		b := e.newAccount("iso-b", nil)
		bRole := e.createRole(b.Owner, b.ID, "Secret", []string{"AgentChat"})
		probes := []struct {
			q    string
			vars func(id string) map[string]any
			real string
			fake string
		}{
			{`query($id: ID!) { account(id: $id) { name } }`, func(id string) map[string]any { return map[string]any{"id": id} }, b.ID, "acc_01JD3V8Q7X9K2M4N6P8R0T2V4W"},
			{`query($id: ID!) { node(id: $id) { id } }`, func(id string) map[string]any { return map[string]any{"id": id} }, bRole, "role_01JD3V8Q7X9K2M4N6P8R0T2V4W"},
			{`query($id: ID!) { node(id: $id) { id } }`, func(id string) map[string]any { return map[string]any{"id": id} }, b.OwnerID, "mem_01JD3V8Q7X9K2M4N6P8R0T2V4W"},
			{updateRole, func(id string) map[string]any {
				return map[string]any{"in": map[string]any{"roleId": id, "expectedVersion": 1, "name": "pwned"}}
			}, bRole, "role_01JD3V8Q7X9K2M4N6P8R0T2V4W"},
			{suspend, func(id string) map[string]any { return map[string]any{"id": id} }, b.OwnerID, "mem_01JD3V8Q7X9K2M4N6P8R0T2V4W"},
			{addMember, func(id string) map[string]any {
				return map[string]any{"in": map[string]any{"accountId": id, "email": "x@y.test"}}
			}, b.ID, "acc_01JD3V8Q7X9K2M4N6P8R0T2V4W"},
		}
		for _, p := range probes {
			real := e.fails("NOT_FOUND", a.Owner, p.q, p.vars(p.real))
			fake := e.fails("NOT_FOUND", a.Owner, p.q, p.vars(p.fake))
			norm := func(r resp, id string) string { return strings.ReplaceAll(string(r.Body), id, "ID") }
			if norm(real, p.real) != norm(fake, p.fake) {
				t.Errorf("existence leaks:\n real %s\n fake %s", real.Body, fake.Body)
			}
		}
		r := e.ok(b.Owner, `query($id: ID!) { node(id: $id) { ... on Role { name } } }`, map[string]any{"id": bRole})
		if r.Get("data.node.name").String() != "Secret" {
			t.Fatalf("the refused update changed b's role: %s", r)
		}
	})
}

// Issue 9: updateScope, deleteScope, revokeApiKey, renameApiKey and
// deleteSodRule, given an object of another account, named the owning
// account ("account \"acc_…\" not found") where an unknown id got "API key
// \"key_…\" not found": any caller learned the object existed, and whose it
// was. Now both get the words of an unknown id, and nothing changes.
func TestIsolation_ForeignScopesKeysAndRulesAnswerLikeUnknownIDs(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newSweepAccount("iso-own")
		b := e.newSweepAccount("iso-other")
		before, core, audits := e.sweepState(b.ID), e.coreState(b.ID), e.coreAuditTotal(b.ID)
		probes := []struct{ q, kind, field string }{
			{`mutation($id: ID!) { updateScope(input: {scopeId: $id, description: "x"}) { scope { id } } }`, "scope", "scopeId"},
			{`mutation($id: ID!) { deleteScope(input: {scopeId: $id}) { deletedScopeId } }`, "scope", "scopeId"},
			{`mutation($id: ID!) { revokeApiKey(input: {apiKeyId: $id}) { apiKey { id } } }`, "apiKey", "apiKeyId"},
			{`mutation($id: ID!) { renameApiKey(input: {apiKeyId: $id, name: "x"}) { apiKey { id } } }`, "apiKey", "apiKeyId"},
			{`mutation($id: ID!) { deleteSodRule(input: {sodRuleId: $id}) { deletedSodRuleId } }`, "sodRule", "sodRuleId"},
		}
		for _, cred := range []string{a.Owner, userToken(t, "stranger@iso.test")} {
			for _, p := range probes {
				foreign, fake := b.ids[p.kind], fakeID(p.kind)
				other := e.fails("NOT_FOUND", cred, p.q, map[string]any{"id": foreign})
				never := e.fails("NOT_FOUND", cred, p.q, map[string]any{"id": fake})
				if strings.Contains(string(other.Body), b.ID) {
					t.Errorf("the answer names the owning account: %s", other)
				}
				if x, y := strings.ReplaceAll(string(other.Body), foreign, "ID"), strings.ReplaceAll(string(never.Body), fake, "ID"); x != y {
					t.Errorf("existence leaks:\n another account's %s\n never issued      %s", x, y)
				}
			}
		}
		e.coreUnchanged(t, b.ID, "the refused changes", core, audits)
		if after := e.sweepState(b.ID); after != before {
			t.Errorf("b changed:\n before %s\n after  %s", before, after)
		}
	})
}

// Issue 9: deleteRole ignored a reassignToRoleId of another account when
// nobody held the role, and deleted it. Every id of an input is checked,
// used or not (R6).
func TestIsolation_DeleteRoleChecksTheReassignTargetEvenWhenUnheld(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newSweepAccount("del-own")
		b := e.newSweepAccount("del-other")
		const del = `mutation($in: DeleteRoleInput!) { deleteRole(input: $in) { deletedRoleId reassignedMembers } }`
		for _, target := range []string{b.ids["role"], fakeID("role")} {
			for _, role := range []string{a.victim, a.ids["role"]} { // unheld, then held
				core, audits := e.coreState(a.ID), e.coreAuditTotal(a.ID)
				r := e.fails("NOT_FOUND", a.Owner, del, map[string]any{"in": map[string]any{"roleId": role, "reassignToRoleId": target}})
				if want := `role "` + target + `" not found`; r.Get("errors.0.message").String() != want {
					t.Errorf("want %q: %s", want, r)
				}
				e.coreUnchanged(t, a.ID, "a refused deleteRole", core, audits)
			}
		}
		// A valid target of the account is still optional for an unheld role.
		r := e.ok(a.Owner, del, map[string]any{"in": map[string]any{"roleId": a.victim, "reassignToRoleId": a.ids["role"]}})
		if r.Get("data.deleteRole.reassignedMembers").Int() != 0 {
			t.Fatalf("%s", r)
		}
	})
}

// Isolation at the cache: a principal that cannot see an account does not
// make a server load it. The model was loaded before the principal's access
// was checked, so a key or a user of one account could, with another's ids
// (account, node, nodes: 100 at a time), make every server read whole
// accounts and push the models of those who use them out of the cache. A
// fresh server on the same database has no model cached; an API key of A
// and A's owner ask for B (NOT_FOUND), and B is never loaded.
func TestIsolation_AnOutsiderDoesNotMakeTheServerLoadAnAccount(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, b := e.newAccount("insider", nil), e.newAccount("outside", nil)
		key := e.ownerKey(a)
		other := newEnvOn(t, e.Dialect, server.Config{}, e.DB.URL)
		met := adminOf(t, other)
		other.ok(key, `query($id: ID!) { account(id: $id) { name } }`, map[string]any{"id": a.ID})
		other.ok(a.Owner, `query($id: ID!) { account(id: $id) { name } }`, map[string]any{"id": a.ID})
		before := met.scrape()
		for _, cred := range []string{key, a.Owner} {
			other.fails("NOT_FOUND", cred, `query($id: ID!) { account(id: $id) { name } }`, map[string]any{"id": b.ID})
			other.fails("NOT_FOUND", cred, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": b.OwnerID})
		}
		delta(t, before, met.scrape(), 0, "gatehouse_model_load_duration_seconds")
	})
}
