package apitest

import (
	"encoding/json"
	"testing"
)

const (
	exportConfig = `query($id: ID!) { account(id: $id) { exportAccessConfig } }`
	applyConfig  = `mutation($in: ApplyAccessConfigInput!) { applyAccessConfig(input: $in) { applied plan { kind key action } } }`
)

func (e *env) export(cred, accountID string) map[string]any {
	e.t.Helper()
	var doc map[string]any
	raw := e.ok(cred, exportConfig, map[string]any{"id": accountID}).Get("data.account.exportAccessConfig").Raw
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		e.t.Fatal(err)
	}
	return doc
}

func (e *env) apply(cred, accountID string, doc map[string]any, dryRun bool) resp {
	e.t.Helper()
	return e.gql(cred, applyConfig, map[string]any{"in": map[string]any{"accountId": accountID, "document": doc, "dryRun": dryRun}})
}

// C1: export, apply, re-apply — the second apply of a document is empty.
func TestC1_ExportApplyReapply(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("c1", nil)
		e.createRole(a.Owner, a.ID, "Agents", []string{"AgentChat"})
		e.addMember(a.Owner, a.ID, "agent@c1.test", e.createRole(a.Owner, a.ID, "Dedup", []string{"view_duplicates"}))
		doc := e.export(a.Owner, a.ID)
		if r := e.apply(a.Owner, a.ID, doc, false); r.Get("data.applyAccessConfig.plan.#").Int() != 0 {
			t.Fatalf("applying the export must change nothing: %s", r)
		}
		// The onboarding script's document: a new role, a new member, a scope and a rule; Dedup goes.
		doc["roles"] = []map[string]any{
			{"key": "agents", "name": "Agents", "description": "", "grants": []string{"AgentChat", "view_duplicates"}},
			{"key": "auditors", "name": "Auditors", "description": "Read the log", "grants": []string{"iam.audit.read"}},
		}
		doc["members"] = []map[string]any{
			{"email": a.OwnerEmail, "name": "Owner", "roles": []string{"full_access"}, "status": "ACTIVE"},
			{"email": "agent@c1.test", "roles": []string{"agents"}},
			{"email": "auditor@c1.test", "name": "Ada", "roles": []string{"auditors"}, "status": "INVITED"},
		}
		doc["scopes"] = []map[string]any{{"key": "read", "description": "", "grants": []string{"identity.flows.read"}}}
		doc["sodRules"] = []map[string]any{{"name": "mint vs approve", "permissions": []string{"attestations:mint", "governance:approve"}, "level": "MEMBER", "mode": "ENFORCE"}}
		dry := e.apply(a.Owner, a.ID, doc, true)
		plan := dry.Get("data.applyAccessConfig.plan").Array()
		if dry.Get("data.applyAccessConfig.applied").Bool() || len(plan) != 7 {
			t.Fatalf("dry run plan: %s", dry)
		}
		if got := e.export(a.Owner, a.ID); len(got["roles"].([]any)) != 2 || len(got["scopes"].([]any)) != 0 {
			t.Fatalf("a dry run changed the account: %v", got)
		}
		r := e.apply(a.Owner, a.ID, doc, false)
		if !r.Get("data.applyAccessConfig.applied").Bool() || r.Get("data.applyAccessConfig.plan.#").Int() != 7 {
			t.Fatalf("apply: %s", r)
		}
		if r := e.apply(a.Owner, a.ID, doc, false); r.Get("data.applyAccessConfig.plan.#").Int() != 0 {
			t.Fatalf("re-apply must be empty: %s", r)
		}
		if e.auditCount(a.ID, "access_config.applied") != 3 {
			t.Fatal("one audit event per apply")
		}
	})
}

// C1 bad documents: each refused with its code, and the account stays exactly as it was.
func TestC1_BadDocumentsApplyNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("c1b", nil)
		e.createRole(a.Owner, a.ID, "Both", []string{"attestations:mint"})
		e.addMember(a.Owner, a.ID, "x@c1b.test", a.DefaultAccessID)
		before, _ := json.Marshal(e.export(a.Owner, a.ID))
		base := func() map[string]any {
			var d map[string]any
			_ = json.Unmarshal(before, &d)
			return d
		}
		cases := map[string]struct {
			code string
			edit func(map[string]any)
		}{
			"unknown field": {"BAD_USER_INPUT", func(d map[string]any) { d["roless"] = []any{} }},
			"unknown permission": {"BAD_USER_INPUT", func(d map[string]any) {
				d["roles"] = []map[string]any{{"key": "r", "name": "R", "grants": []string{"nope.nope"}}}
			}},
			"duplicate role key": {"BAD_USER_INPUT", func(d map[string]any) {
				d["roles"] = []map[string]any{{"key": "r", "name": "R"}, {"key": "r", "name": "R2"}}
			}},
			"unknown role of a member": {"BAD_USER_INPUT", func(d map[string]any) {
				d["members"] = append(d["members"].([]any), map[string]any{"email": "n@c1b.test", "roles": []string{"ghost"}})
			}},
			"owner removed": {"CONFLICT", func(d map[string]any) {
				d["members"] = []map[string]any{{"email": "x@c1b.test", "roles": []string{"default_access"}}}
			}},
			"breaks an ENFORCE rule": {"CONFLICT", func(d map[string]any) {
				d["roles"] = []map[string]any{{"key": "both", "name": "Both", "grants": []string{"attestations:mint", "governance:approve"}}}
				d["sodRules"] = []map[string]any{{"name": "r", "permissions": []string{"attestations:mint", "governance:approve"}, "level": "ROLE", "mode": "ENFORCE"}}
			}},
		}
		for name, c := range cases {
			d := base()
			c.edit(d)
			for _, dry := range []bool{true, false} {
				if r := e.apply(a.Owner, a.ID, d, dry); r.Code() != c.code {
					t.Errorf("%s (dryRun %v): want %s, got %s", name, dry, c.code, r)
				}
			}
			if after, _ := json.Marshal(e.export(a.Owner, a.ID)); string(after) != string(before) {
				t.Fatalf("%s: a refused document changed the account", name)
			}
		}
		_, tok := e.keyAdmin(a, "reader@c1b.test", "iam.roles.read")
		e.fails("FORBIDDEN", tok, exportConfig, map[string]any{"id": a.ID})
		e.fails("FORBIDDEN", tok, applyConfig, map[string]any{"in": map[string]any{"accountId": a.ID, "document": base()}})
	})
}
