package apitest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// Input limits (SPEC §11 "Input limits", issue 9): a caller's mistake is
// BAD_USER_INPUT naming the field and the limit, before any SQL, alike on
// both databases — never INTERNAL.

// Issue 9: transferOwnership by an API key panicked in a resolver and
// answered INTERNAL. A key holds no ownership: FORBIDDEN, reason NOT_OWNER.
func TestInput_TransferOwnershipByAnAPIKeyIsForbidden(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newSweepAccount("xfer-key")
		key := e.ok(a.Owner, sweepCreateKey, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "all"}}).Get("data.createApiKey.secret").String()
		const xfer = `mutation($in: TransferOwnershipInput!) { transferOwnership(input: $in) { to { id } } }`
		for _, in := range []map[string]any{
			{"accountId": a.ID, "toMemberId": a.member},
			{"accountId": a.ID, "toMemberId": a.member, "fromMemberId": a.OwnerID},
		} {
			core, audits := e.coreState(a.ID), e.coreAuditTotal(a.ID)
			r := e.fails("FORBIDDEN", key, xfer, map[string]any{"in": in})
			if r.Get("errors.0.extensions.reason").String() != "NOT_OWNER" {
				t.Errorf("reason: %s", r)
			}
			e.coreUnchanged(t, a.ID, "a key's transfer", core, audits)
		}
		e.serverErrors(t)
	})
}

// Issue 9: a 1 MB role description answered INTERNAL (the database's
// length check). Every string has a limit, counted in characters, checked
// before any SQL; a description of 2,000 characters of any script fits.
func TestInput_OverlongStringsAreRefusedByTheirLimit(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("long", nil)
		core, audits := e.coreState(a.ID), e.coreAuditTotal(a.ID)
		r := e.fails("BAD_USER_INPUT", a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Big",
			"description": strings.Repeat("x", 1_000_000)}})
		if r.Get("errors.0.extensions.field").String() != "input.description" || r.Get("errors.0.extensions.limit").String() != "length" ||
			r.Get("errors.0.extensions.max").Int() != 2000 || r.Get("errors.0.extensions.actual").Int() != 1_000_000 {
			t.Errorf("%s", r)
		}
		r = e.fails("BAD_USER_INPUT", a.Owner, addMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "a@b.test",
			"roleKeys": []string{"default_access", strings.Repeat("k", 129)}}})
		if r.Get("errors.0.extensions.field").String() != "input.roleKeys[1]" || r.Get("errors.0.extensions.max").Int() != 128 {
			t.Errorf("%s", r)
		}
		e.coreUnchanged(t, a.ID, "refused strings", core, audits)
		// At the limit, in a script of several bytes a character, it is stored.
		desc, name := strings.Repeat("説", 2000), strings.Repeat("é", 200)
		r = e.ok(a.Owner, `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { name description } } }`,
			map[string]any{"in": map[string]any{"accountId": a.ID, "key": "wide", "name": name, "description": desc}})
		if r.Get("data.createRole.role.description").String() != desc || r.Get("data.createRole.role.name").String() != name {
			t.Errorf("stored: %.200s", r.Body)
		}
		e.serverErrors(t)
	})
}

// Issue 9: NUL in names was stored on SQLite and INTERNAL on PostgreSQL.
// NUL and other control characters are refused on both; descriptions allow
// newlines and tabs.
func TestInput_NULAndControlCharactersAreRefusedOnBothDatabases(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("nul", nil)
		core, audits := e.coreState(a.ID), e.coreAuditTotal(a.ID)
		for _, name := range []string{"N\x00L", "bell\x07", "esc\x1b[31m", "new\nline", "del\x7f", "c1\u0085"} {
			r := e.fails("BAD_USER_INPUT", a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": name}})
			if r.Get("errors.0.extensions.field").String() != "input.name" || r.Get("errors.0.extensions.limit").String() != "characters" {
				t.Errorf("%q: %s", name, r)
			}
		}
		e.fails("BAD_USER_INPUT", a.Owner, addMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "nul\x00@x.test"}})
		e.coreUnchanged(t, a.ID, "control characters", core, audits)
		r := e.ok(a.Owner, `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { description } } }`,
			map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Lines", "description": "one\r\ntwo\tthree"}})
		if r.Get("data.createRole.role.description").String() != "one\r\ntwo\tthree" {
			t.Errorf("%s", r)
		}
		e.serverErrors(t)
	})
}

// Issue 9: invalid UTF-8 was replaced with U+FFFD and stored. It is refused,
// naming the field.
func TestInput_InvalidUTF8IsRefusedNotReplaced(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("utf8", nil)
		core, audits := e.coreState(a.ID), e.coreAuditTotal(a.ID)
		for _, vars := range []map[string]any{
			{"in": map[string]any{"accountId": a.ID, "name": "bad" + invalidUTF8}},
			{"in": map[string]any{"accountId": a.ID, "name": "lone surrogate " + loneSurrogate}},
		} {
			r := e.rawGQL(a.Owner, createRole, vars)
			if r.Code() != "BAD_USER_INPUT" || r.Get("errors.0.extensions.field").String() != "input.name" {
				t.Errorf("%s", r)
			}
		}
		e.coreUnchanged(t, a.ID, "invalid UTF-8", core, audits)
	})
}

// Issue 9: lists (grants, roleKeys, roleIds, permissions, resource
// attributes, document entries) have a maximum, configurable, refused before
// any work.
func TestInput_ListsHaveAConfigurableMaximum(t *testing.T) {
	forEachDBWith(t, server.Config{MaxInputItems: 20}, func(t *testing.T, e *env) {
		a := e.newAccount("lists", nil)
		grants := strs(21, "AgentChat")
		r := e.fails("BAD_USER_INPUT", a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Many", "grants": grants}})
		if r.Get("errors.0.extensions.field").String() != "input.grants" || r.Get("errors.0.extensions.limit").String() != "items" ||
			r.Get("errors.0.extensions.max").Int() != 20 || r.Get("errors.0.extensions.actual").Int() != 21 {
			t.Errorf("%s", r)
		}
		doc := map[string]any{"roles": repeat(map[string]any{"key": "r"}, 21)}
		r = e.fails("BAD_USER_INPUT", a.Owner, `mutation($in: ApplyAccessConfigInput!) { applyAccessConfig(input: $in) { applied } }`,
			map[string]any{"in": map[string]any{"accountId": a.ID, "document": doc, "dryRun": true}})
		if r.Get("errors.0.extensions.field").String() != "input.document.roles" {
			t.Errorf("%s", r)
		}
		r = e.fails("BAD_USER_INPUT", a.Owner, `query($id: ID!, $r: [ResourceAttributeInput!]) { viewer { can(accountId: $id, permission: "AgentChat", resource: $r) { allowed } } }`,
			map[string]any{"id": a.ID, "r": repeat(map[string]any{"attribute": "a", "value": "v"}, 21)})
		if r.Get("errors.0.extensions.field").String() != "resource" || r.Get("errors.0.path").Raw != `["viewer","can"]` {
			t.Errorf("%s", r)
		}
		e.ok(a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Twenty", "grants": grants[:20]}})
	})
}

func strs(n int, s string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// Issue 9: a 1 MB email gave a 2 MB error. Errors quote input cut at 100
// characters and lists at 20 items, "and N more".
func TestInput_ErrorsNeverEchoUnboundedInput(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("echo", nil)
		r := e.fails("BAD_USER_INPUT", a.Owner, addMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": strings.Repeat("x", 1_000_000) + "@x.test"}})
		if len(r.Body) > 1000 || strings.Contains(string(r.Body), strings.Repeat("x", 101)) {
			t.Errorf("a %d-byte answer: %.300s", len(r.Body), r.Body)
		}
		// 1,000 grants, each unknown: the answer names at most 20.
		var grants []string
		for i := range 1000 {
			grants = append(grants, fmt.Sprintf("unknown.grant.%d", i))
		}
		r = e.fails("BAD_USER_INPUT", a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Unknown", "grants": grants}})
		msg := r.Get("errors.0.message").String()
		if !strings.HasSuffix(msg, " more") || strings.Count(msg, "unknown.grant.") > 20 || len(r.Body) > 4096 {
			t.Errorf("a %d-byte answer: %.600s", len(r.Body), r.Body)
		}
		if n := len(r.Get("errors.0.extensions.invalidGrants").Array()); n != 20 || r.Get("errors.0.extensions.omitted.invalidGrants").Int() != 980 {
			t.Errorf("extensions: %d listed: %.600s", n, r.Get("errors.0.extensions").Raw)
		}
		// An unknown enum value in variables is the caller's input: cut, and BAD_USER_INPUT.
		r = e.gql(a.Owner, `mutation($in: CreateSodRuleInput!) { createSodRule(input: $in) { sodRule { id } } }`,
			map[string]any{"in": map[string]any{"accountId": a.ID, "name": "x", "permissions": []string{"AgentChat", "view_duplicates"},
				"level": "NOPE" + strings.Repeat("z", 100_000), "mode": "ENFORCE"}})
		if r.Code() != "BAD_USER_INPUT" || len(r.Body) > 1000 {
			t.Errorf("unknown enum value: a %d-byte answer: %.300s", len(r.Body), r.Body)
		}
	})
}

// Issue 9: a JSON-array batch and a mutation over GET were answered without
// a code, naming Go types ("cannot unmarshal array into Go value of type
// graphql.RawParams") and echoing the body.
func TestInput_BatchesAndGETMutationsAnswerWithACode(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		for _, c := range []struct{ body, want string }{
			{`[{"query":"{ viewer { kind } }"},{"query":"{ viewer { kind } }"}]`, "batched requests"},
			{`{"query": 5}`, "one GraphQL request"},
			{`{"query": "{ viewer { kind } }", "variables": [1]}`, "one GraphQL request"},
			{`{"query": "{ viewer { kind } }", "operationName": {}}`, "one GraphQL request"},
			{`"query"`, "must be a JSON object"},
			{`{"query": `, "one GraphQL request"},
		} {
			r := e.post(e.Operator, "application/json", []byte(c.body))
			if r.Status != http.StatusBadRequest || r.Code() != "BAD_USER_INPUT" || !strings.Contains(r.Get("errors.0.message").String(), c.want) ||
				goTypes.MatchString(string(r.Body)) {
				t.Errorf("%s: %s", c.body, r)
			}
		}
		for _, q := range []string{
			`query=` + url.QueryEscape(`mutation { definePermissions(input: {permissions: [{key: "via.get"}]}) { permissions { key } } }`),
			`operationName=B&query=` + url.QueryEscape(`query A { viewer { kind } } mutation B { definePermissions(input: {permissions: [{key: "via.get"}]}) { permissions { key } } }`),
		} {
			req, _ := http.NewRequest(http.MethodGet, e.URL+"/graphql?"+q, nil)
			req.Header.Set("Authorization", "Bearer "+e.Operator)
			r := e.send(req)
			if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "POST" || r.Code() != "BAD_USER_INPUT" {
				t.Errorf("GET mutation: %s %v", r, r.Header)
			}
		}
		// The query of the same document, chosen by name, runs over GET.
		q := `query A { viewer { kind } } mutation B { definePermissions(input: {permissions: [{key: "via.get"}]}) { permissions { key } } }`
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/graphql?operationName=A&query="+url.QueryEscape(q), nil)
		req.Header.Set("Authorization", "Bearer "+e.Operator)
		if r := e.send(req); r.Get("data.viewer.kind").String() != "OPERATOR" {
			t.Errorf("GET query: %s", r)
		}
		for _, q := range []string{"variables=%5B1%5D&query=" + url.QueryEscape(`{ viewer { kind } }`), "query=%zz"} {
			req, _ = http.NewRequest(http.MethodGet, e.URL+"/graphql?"+q, nil)
			req.Header.Set("Authorization", "Bearer "+e.Operator)
			if r := e.send(req); r.Status != http.StatusBadRequest || r.Code() != "BAD_USER_INPUT" {
				t.Errorf("GET %s: %s", q, r)
			}
		}
	})
}
