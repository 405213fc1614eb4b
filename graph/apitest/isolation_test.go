package apitest

import (
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
