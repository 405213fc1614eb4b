package apitest

import (
	"encoding/json"
	"testing"
)

const (
	exportConfig = `query($id: ID!) { account(id: $id) { exportAccessConfig } }`
	applyConfig  = `mutation($in: ApplyAccessConfigInput!) { applyAccessConfig(input: $in) { applied plan { kind key action } kept { kind key action } } }`
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

// prune applies doc deleting what its sections leave out.
func (e *env) prune(cred, accountID string, doc map[string]any, dryRun bool) resp {
	e.t.Helper()
	return e.gql(cred, applyConfig, map[string]any{"in": map[string]any{"accountId": accountID, "document": doc, "dryRun": dryRun, "prune": true}})
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
		dry := e.prune(a.Owner, a.ID, doc, true)
		plan := dry.Get("data.applyAccessConfig.plan").Array()
		if dry.Get("data.applyAccessConfig.applied").Bool() || len(plan) != 7 {
			t.Fatalf("dry run plan: %s", dry)
		}
		if got := e.export(a.Owner, a.ID); len(got["roles"].([]any)) != 2 || len(got["scopes"].([]any)) != 0 {
			t.Fatalf("a dry run changed the account: %v", got)
		}
		r := e.prune(a.Owner, a.ID, doc, false)
		if !r.Get("data.applyAccessConfig.applied").Bool() || r.Get("data.applyAccessConfig.plan.#").Int() != 7 {
			t.Fatalf("apply: %s", r)
		}
		if r := e.apply(a.Owner, a.ID, doc, false); r.Get("data.applyAccessConfig.plan.#").Int() != 0 {
			t.Fatalf("re-apply must be empty: %s", r)
		}
		if e.auditCount(a.ID, "access_config.applied") != 1 {
			t.Fatal("one audit event per apply that changes something, none for an empty plan")
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
				if r := e.prune(a.Owner, a.ID, d, dry); r.Code() != c.code {
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

// C1, safe by default: a section the document leaves out is left alone, and
// so is a setting; an object a given section leaves out is kept (and listed
// as such) unless the apply prunes; {} changes nothing and writes nothing.
func TestC1_WhatTheDocumentLeavesOutIsLeftAlone(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("c1s", nil)
		e.createRole(a.Owner, a.ID, "Agents", []string{"AgentChat"})
		e.createRole(a.Owner, a.ID, "Dedup", []string{"view_duplicates"})
		e.addMember(a.Owner, a.ID, "agent@c1s.test", a.DefaultAccessID)
		before := e.export(a.Owner, a.ID)
		events := e.auditCount(a.ID, "access_config.applied")

		for _, doc := range []map[string]any{{}, {"settings": map[string]any{}}, {"roles": nil}} {
			r := e.apply(a.Owner, a.ID, doc, false)
			if r.Get("data.applyAccessConfig.plan.#").Int() != 0 || r.Get("data.applyAccessConfig.kept.#").Int() != 0 {
				t.Fatalf("%v must change nothing: %s", doc, r)
			}
		}
		if e.auditCount(a.ID, "access_config.applied") != events {
			t.Fatal("an empty plan wrote an audit event")
		}

		// Only roles, one of the two: the other is kept, members untouched;
		// one setting given, the other left as it is.
		doc := map[string]any{
			"roles":    []map[string]any{{"key": "agents", "name": "Agents", "grants": []string{"AgentChat", "identity.flows.read"}}},
			"settings": map[string]any{"roleAssignment": "MULTIPLE"},
		}
		r := e.apply(a.Owner, a.ID, doc, false)
		plan, kept := r.Get("data.applyAccessConfig.plan"), r.Get("data.applyAccessConfig.kept")
		if plan.Get("#").Int() != 1 || plan.Get("0.action").String() != "UPDATE" || plan.Get("0.key").String() != "agents" {
			t.Fatalf("plan: %s", plan.Raw)
		}
		if kept.Get("#").Int() != 1 || kept.Get("0.action").String() != "KEEP" || kept.Get("0.key").String() != "dedup" {
			t.Fatalf("kept: %s", kept.Raw)
		}
		after := e.export(a.Owner, a.ID)
		for _, section := range []string{"members", "scopes", "sodRules", "settings"} {
			if !sameJSONValue(before[section], after[section]) {
				t.Errorf("%s changed although the document leaves it out: %v → %v", section, before[section], after[section])
			}
		}
		if len(after["roles"].([]any)) != 2 {
			t.Fatalf("roles after: %v", after["roles"])
		}
		// With prune, the role the section leaves out goes.
		r = e.prune(a.Owner, a.ID, doc, false)
		if r.Get("data.applyAccessConfig.plan.#").Int() != 1 || r.Get("data.applyAccessConfig.plan.0.action").String() != "DELETE" {
			t.Fatalf("prune: %s", r)
		}
		if roles := e.export(a.Owner, a.ID)["roles"].([]any); len(roles) != 1 {
			t.Fatalf("roles after prune: %v", roles)
		}
	})
}

func sameJSONValue(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
