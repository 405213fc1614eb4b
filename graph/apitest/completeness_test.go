package apitest

import (
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
)

// L1: every successful mutation writes exactly one audit event and a refused
// one writes none; previewRoleUpdate, which changes nothing, writes none. The
// mutations come from the schema by introspection, so a new mutation without
// a step here fails the test by itself.
func TestL1_EveryMutationAuditedExactlyOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("audit-all", nil)
		role := e.createRole(a.Owner, a.ID, "Spare", []string{"AgentChat"})
		other := e.createRole(a.Owner, a.ID, "Other", nil)
		m := e.addMember(a.Owner, a.ID, "m@audit-all.test", role)
		heir := e.addMember(a.Owner, a.ID, "heir@audit-all.test", a.FullAccessID)
		scope := e.ok(a.Owner, `mutation($in: CreateScopeInput!) { createScope(input: $in) { scope { id } } }`,
			map[string]any{"in": map[string]any{"accountId": a.ID, "key": "base", "grants": []string{"AgentChat"}}}).Get("data.createScope.scope.id").String()
		key := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "k"}).Get("data.createApiKey.apiKey.id").String()
		rule := e.ok(a.Owner, createSod, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "r", "permissions": []string{"AgentChat", "view_duplicates"},
			"level": "MEMBER", "mode": "REPORT"}}).Get("data.createSodRule.sodRule.id").String()
		spare, _, err := e.Server.Service.CreateOperatorKey(auth.WithMeta(t.Context(), auth.Meta{RequestID: "test"}), "spare")
		if err != nil {
			t.Fatal(err)
		}
		with := func(kv ...any) map[string]any {
			in := map[string]any{}
			for i := 0; i < len(kv); i += 2 {
				in[kv[i].(string)] = kv[i+1]
			}
			return map[string]any{"in": in}
		}
		type step struct {
			mutation, query string
			ok, refused     map[string]any
			refusedBy       string // credential of the refused call ("" = the owner)
		}
		steps := []step{
			{"definePermissions", `mutation($in: DefinePermissionsInput!) { definePermissions(input: $in) { permissions { id } } }`,
				with("permissions", []map[string]any{{"key": "new.thing"}}), with("permissions", []map[string]any{{"key": "a..b"}}), e.Operator},
			{"createAccount", createAccount,
				with("name", "Second", "slug", "audit-second", "owner", map[string]any{"email": "o@second.test"}), with("name", "Dup", "slug", "audit-all", "owner", map[string]any{"email": "o@x.test"}), e.Operator},
			{"addAccountPermissions", `mutation($in: AccountPermissionsInput!) { addAccountPermissions(input: $in) { account { id } } }`,
				with("accountId", a.ID, "permissions", []string{"new.thing"}), with("accountId", a.ID, "permissions", []string{"no.such"}), e.Operator},
			{"removeAccountPermissions", `mutation($in: AccountPermissionsInput!) { removeAccountPermissions(input: $in) { account { id } } }`,
				with("accountId", a.ID, "permissions", []string{"new.thing"}), with("accountId", a.ID, "permissions", []string{"iam.roles.read"}), e.Operator},
			{"updateAccount", `mutation($in: UpdateAccountInput!) { updateAccount(input: $in) { account { id } } }`,
				with("accountId", a.ID, "name", "Renamed"), with("accountId", a.ID, "status", "SUSPENDED"), ""},
			{"createRole", `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id } } }`,
				with("accountId", a.ID, "name", "Fresh"), with("accountId", a.ID, "name", "Fresh"), ""},
			{"updateRole", updateRole,
				with("roleId", role, "expectedVersion", 1, "name", "Renamed"), with("roleId", role, "expectedVersion", 1, "name", "Stale"), ""},
			{"deleteRole", deleteRole,
				with("roleId", other), with("roleId", role), ""},
			{"addMember", addMember,
				with("accountId", a.ID, "email", "new@audit-all.test"), with("accountId", a.ID, "email", "new@audit-all.test"), ""},
			{"setMemberRoles", setRoles,
				with("memberId", m, "roleKeys", []string{"default_access"}), with("memberId", m, "roleKeys", []string{"ghost"}), ""},
			{"suspendMember", `mutation($in: MemberInput!) { suspendMember(input: $in) { member { id } } }`,
				with("memberId", m), with("memberId", m), ""},
			{"reactivateMember", `mutation($in: MemberInput!) { reactivateMember(input: $in) { member { id } } }`,
				with("memberId", m), with("memberId", m), ""},
			{"removeMember", `mutation($in: MemberInput!) { removeMember(input: $in) { member { id } } }`,
				with("memberId", m), with("memberId", m), ""},
			{"transferOwnership", transfer,
				with("accountId", a.ID, "toMemberId", heir, "fromMemberId", a.OwnerID), with("accountId", a.ID, "toMemberId", "mem_01JD3V8Q7X9K2M4N6P8R0T2V4W", "fromMemberId", a.OwnerID), e.Operator},
			{"createScope", `mutation($in: CreateScopeInput!) { createScope(input: $in) { scope { id } } }`,
				with("accountId", a.ID, "key", "more", "grants", []string{}), with("accountId", a.ID, "key", "base", "grants", []string{}), e.Operator},
			{"updateScope", `mutation($in: UpdateScopeInput!) { updateScope(input: $in) { scope { id } } }`,
				with("scopeId", scope, "description", "d"), with("scopeId", scope, "grants", []string{"nope.nope"}), e.Operator},
			{"deleteScope", `mutation($in: DeleteScopeInput!) { deleteScope(input: $in) { deletedScopeId } }`,
				with("scopeId", scope), with("scopeId", scope), e.Operator},
			{"createApiKey", createKey,
				with("accountId", a.ID, "name", "n", "memberId", heir), with("accountId", a.ID, "name", "n", "expiresAt", time.Now().Add(-time.Hour).Format(time.RFC3339)), e.Operator},
			{"renameApiKey", `mutation($in: RenameApiKeyInput!) { renameApiKey(input: $in) { apiKey { id } } }`,
				with("apiKeyId", key, "name", "renamed"), with("apiKeyId", key, "name", " "), e.Operator},
			{"createSodRule", createSod,
				with("accountId", a.ID, "name", "two", "permissions", []string{"AgentChat", "checks.background"}, "level", "ROLE", "mode", "REPORT"),
				with("accountId", a.ID, "name", "one", "permissions", []string{"AgentChat"}, "level", "ROLE", "mode", "REPORT"), e.Operator},
			{"deleteSodRule", `mutation($in: DeleteSodRuleInput!) { deleteSodRule(input: $in) { deletedSodRuleId } }`,
				with("sodRuleId", rule), with("sodRuleId", rule), e.Operator},
			{"previewRoleUpdate", `mutation($in: UpdateRoleInput!) { previewRoleUpdate(input: $in) { role { id } } }`,
				with("roleId", role, "expectedVersion", 2, "name", "Maybe"), with("roleId", role, "expectedVersion", 1, "name", "Stale"), ""},
			{"applyAccessConfig", applyConfig,
				with("accountId", a.ID, "document", map[string]any{"roles": []any{}, "scopes": []any{}, "sodRules": []any{},
					"members": []map[string]any{{"email": "heir@audit-all.test", "roles": []string{"full_access"}}, {"email": a.OwnerEmail, "roles": []string{"full_access"}}}}),
				with("accountId", a.ID, "document", map[string]any{"bogus": true}), e.Operator},
			{"revokeApiKey", `mutation($in: RevokeApiKeyInput!) { revokeApiKey(input: $in) { apiKey { id } } }`,
				with("apiKeyId", key), with("apiKeyId", key), e.Operator},
			{"revokeOperatorKey", `mutation($in: RevokeOperatorKeyInput!) { revokeOperatorKey(input: $in) { operatorKeyId } }`,
				with("operatorKeyId", spare.ID), with("operatorKeyId", spare.ID), e.Operator},
		}
		events := func() int {
			var n int
			if err := e.DB.SQL.QueryRow(`SELECT COUNT(*) FROM audit_events`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		withReason := func(in map[string]any, reason string) int {
			in["in"].(map[string]any)["reason"] = reason
			n, err := e.DB.Client.AuditEvent.Query().Where(auditevent.Reason(reason)).Count(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		covered := map[string]bool{}
		for _, s := range steps {
			covered[s.mutation] = true
			cred := e.Operator
			before := events()
			// Every mutation takes a reason and stores it in its event.
			reason := "why " + s.mutation
			withReason(s.ok, reason)
			if r := e.gql(cred, s.query, s.ok); r.Get("errors").Exists() {
				t.Fatalf("%s should succeed: %s", s.mutation, r)
			}
			want := 1
			if s.mutation == "previewRoleUpdate" {
				want = 0 // a what-if changes nothing
			}
			if n := events() - before; n != want {
				t.Errorf("%s: %d audit events for one success, want %d", s.mutation, n, want)
			}
			if n := withReason(s.ok, reason); n != want {
				t.Errorf("%s: %d audit events carry its reason, want %d", s.mutation, n, want)
			}
			refusedBy := s.refusedBy
			if refusedBy == "" {
				refusedBy = a.Owner
			}
			before = events()
			if r := e.gql(refusedBy, s.query, s.refused); !r.Get("errors").Exists() {
				t.Fatalf("%s should be refused: %s", s.mutation, r)
			}
			if n := events() - before; n != 0 {
				t.Errorf("%s: a refusal wrote %d audit events", s.mutation, n)
			}
		}
		r := e.ok(e.Operator, `{ __schema { mutationType { fields { name } } } }`, nil)
		for _, f := range r.Get("data.__schema.mutationType.fields.#.name").Array() {
			if !covered[f.String()] {
				t.Errorf("mutation %s has no step in this test: add one (and its audit event)", f.String())
			}
		}
	})
}
