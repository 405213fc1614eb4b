package apitest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// coreRoleFields reads everything R1 says a role has.
const coreRoleFields = `query($id: ID!) { node(id: $id) { ... on Role { id key name description kind grants version
	constraints { attribute values } } } }`

// coreAuditTotal counts all of an account's audit events.
func (e *env) coreAuditTotal(accountID string) int64 {
	e.t.Helper()
	return e.ok(e.Operator, `query($id: ID!) { account(id: $id) { auditEvents { totalCount } } }`, map[string]any{"id": accountID}).
		Get("data.account.auditEvents.totalCount").Int()
}

// coreState is everything of an account a refused change could have touched:
// settings, features, roles (all fields) and members with their roles and
// permissions, as raw JSON.
func (e *env) coreState(accountID string) string {
	e.t.Helper()
	return e.ok(e.Operator, `query($id: ID!) { account(id: $id) { name status
		settings { roleAssignment defaultAccessExcludes } features { customRoles resourceConstraints }
		roles { totalCount edges { node { id key name description kind grants version updatedAt
			constraints { attribute values } effectivePermissions masks holderCount } } }
		members { totalCount edges { node { id email status updatedAt roles { key } effectivePermissions } } } } }`,
		map[string]any{"id": accountID}).Get("data.account").Raw
}

// coreUnchanged fails unless the account's state and audit trail are what
// they were before a refused change (L1: a refusal writes nothing).
func (e *env) coreUnchanged(t *testing.T, accountID, what, before string, auditBefore int64) {
	t.Helper()
	if after := e.coreState(accountID); after != before {
		t.Errorf("%s changed the account:\n before %s\n after  %s", what, before, after)
	}
	if n := e.coreAuditTotal(accountID); n != auditBefore {
		t.Errorf("%s was audited: %d events, want %d", what, n, auditBefore)
	}
}

// R1: a role's fields read back as written; keys are unique per account only.
func TestR1_RoleFields(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		feat := map[string]any{"features": map[string]any{"resourceConstraints": true}}
		a := e.newAccount("r1", feat)
		b := e.newAccount("r1b", feat)
		in := map[string]any{"accountId": a.ID, "key": "issuer_admin", "name": "Issuer Admin", "description": "Mints for two issuers",
			"grants":      []string{"attestations:mint", "identity.flows.read"},
			"constraints": []map[string]any{{"attribute": "issuer_ids", "values": []string{"iss_1", "iss_2"}}}}
		id := e.ok(a.Owner, createRole, map[string]any{"in": in}).Get("data.createRole.role.id").String()

		want := fmt.Sprintf(`{"id":%q,"key":"issuer_admin","name":"Issuer Admin","description":"Mints for two issuers","kind":"CUSTOM",`+
			`"grants":["attestations:mint","identity.flows.read"],"version":1,`+
			`"constraints":[{"attribute":"issuer_ids","values":["iss_1","iss_2"]}]}`, id)
		if got := e.ok(a.Owner, coreRoleFields, map[string]any{"id": id}).Get("data.node").Raw; got != want {
			t.Fatalf("role read back:\n got  %s\n want %s", got, want)
		}
		// The same role through the account, by key.
		r := e.ok(a.Owner, `query($id: ID!) { account(id: $id) { role(key: "issuer_admin") { id kind version } } }`, map[string]any{"id": a.ID})
		if r.Get("data.account.role.id").String() != id || r.Get("data.account.role.version").Int() != 1 {
			t.Fatalf("role(key:): %s", r)
		}
		// Every change bumps the version, and the new fields read back.
		e.ok(a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": id, "expectedVersion": 1,
			"description": "Mints for one issuer", "constraints": []map[string]any{{"attribute": "issuer_ids", "values": []string{"iss_1"}}}}})
		r = e.ok(a.Owner, coreRoleFields, map[string]any{"id": id})
		if r.Get("data.node.version").Int() != 2 || r.Get("data.node.description").String() != "Mints for one issuer" ||
			r.Get("data.node.constraints").Raw != `[{"attribute":"issuer_ids","values":["iss_1"]}]` || r.Get("data.node.key").String() != "issuer_admin" {
			t.Fatalf("after update: %s", r)
		}
		// System roles: locked, full_access grants `*`.
		r = e.ok(a.Owner, coreRoleFields, map[string]any{"id": a.FullAccessID})
		if r.Get("data.node.key").String() != "full_access" || r.Get("data.node.kind").String() != "SYSTEM" ||
			r.Get("data.node.grants").Raw != `["*"]` || r.Get("data.node.constraints").Raw != `[]` {
			t.Fatalf("full_access: %s", r)
		}
		if r := e.ok(a.Owner, coreRoleFields, map[string]any{"id": a.DefaultAccessID}); r.Get("data.node.kind").String() != "SYSTEM" ||
			r.Get("data.node.key").String() != "default_access" {
			t.Fatalf("default_access: %s", r)
		}

		// The key is unique in its account, whatever the name…
		before, audits := e.coreState(a.ID), e.coreAuditTotal(a.ID)
		dup := map[string]any{"accountId": a.ID, "key": "issuer_admin", "name": "Another Name", "grants": []string{"AgentChat"}}
		e.fails("CONFLICT", a.Owner, createRole, map[string]any{"in": dup})
		e.fails("CONFLICT", a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "key": "full_access", "name": "Mine"}})
		e.coreUnchanged(t, a.ID, "a duplicate key", before, audits)
		// The server finds keys in its model's index of them, kept across
		// changes that append roles and rebuilt by others: a key appended
		// two changes ago is taken, and a deleted role's key is free again.
		first := e.createRole(a.Owner, a.ID, "Appended One", nil)
		e.createRole(a.Owner, a.ID, "Appended Two", nil)
		e.fails("CONFLICT", a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "key": "appended_one", "name": "Again"}})
		e.ok(a.Owner, deleteRole, map[string]any{"in": map[string]any{"roleId": first}})
		e.fails("CONFLICT", a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "key": "appended_two", "name": "Again"}})
		e.ok(a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "key": "appended_one", "name": "Again"}})
		// …and free in another account.
		dup["accountId"] = b.ID
		other := e.ok(b.Owner, createRole, map[string]any{"in": dup}).Get("data.createRole.role")
		if other.Get("key").String() != "issuer_admin" || other.Get("id").String() == id {
			t.Fatalf("same key in another account: %s", other.Raw)
		}
		if r := e.ok(a.Owner, coreRoleFields, map[string]any{"id": id}); r.Get("data.node.name").String() != "Issuer Admin" {
			t.Fatalf("b's role touched a's: %s", r)
		}
	})
}

// K3: a wildcard covers every key under its prefix and separator, at any
// depth, including keys added to the master list later — never a key that
// merely shares the prefix's letters.
func TestK3_WildcardsOverHTTP(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.defineCatalog()
		var defs []map[string]any
		keys := []string{"xk", "xk.a", "xk.b.c", "xk.b.c.d", "xky.a", "xk:c", "xk.late", "ck:a", "ck:b:c", "cky:a", "ck.a"}
		for _, k := range keys {
			defs = append(defs, map[string]any{"key": k, "group": "K3"})
		}
		e.ok(e.Operator, defineCatalog, map[string]any{"p": defs})
		master := append(slices.Clone(masterKeys), slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return k == "xk.late" })...)
		a := e.newAccount("k3", map[string]any{"permissions": master})
		role := e.createRole(a.Owner, a.ID, "Wild", []string{"xk.*", "ck:*"})
		e.addMember(a.Owner, a.ID, "wild@k3.test", role)
		tok := userToken(t, "wild@k3.test")

		effective := func() []string {
			t.Helper()
			return gjsonStrings(e.ok(a.Owner, `query($id: ID!) { node(id: $id) { ... on Role { effectivePermissions } } }`,
				map[string]any{"id": role}).Get("data.node.effectivePermissions").Array())
		}
		want := []string{"ck:a", "ck:b:c", "xk.a", "xk.b.c", "xk.b.c.d"}
		if got := slices.Sorted(slices.Values(effective())); !slices.Equal(got, want) {
			t.Fatalf("effective permissions of xk.* + ck:*: got %v, want %v", got, want)
		}
		const can = `query($acc: ID!, $p: String!) { viewer { can(accountId: $acc, permission: $p) { allowed reason grantedBy { roleKey grant } } } }`
		decide := func(p string) resp {
			t.Helper()
			return e.ok(tok, can, map[string]any{"acc": a.ID, "p": p})
		}
		for _, c := range []struct{ key, grant string }{{"xk.a", "xk.*"}, {"xk.b.c.d", "xk.*"}, {"ck:b:c", "ck:*"}} {
			r := decide(c.key)
			if !r.Get("data.viewer.can.allowed").Bool() || r.Get("data.viewer.can.grantedBy.grant").String() != c.grant ||
				r.Get("data.viewer.can.grantedBy.roleKey").String() != "wild" {
				t.Errorf("%s must be granted by %s: %s", c.key, c.grant, r)
			}
		}
		// Shared letters, the bare prefix, or the other separator are not covered.
		for _, k := range []string{"xky.a", "xk", "xk:c", "cky:a", "ck.a"} {
			r := decide(k)
			if r.Get("data.viewer.can.allowed").Bool() || r.Get("data.viewer.can.reason").String() != "NOT_GRANTED" {
				t.Errorf("%s must not be covered: %s", k, r)
			}
		}
		if r := decide("xk.late"); r.Get("data.viewer.can.reason").String() != "NOT_IN_MASTER_LIST" {
			t.Fatalf("xk.late before it is in the master list: %s", r)
		}

		// Later: a key defined afterwards, and one already in the catalog,
		// join the master list; the role is not edited and covers both.
		e.ok(e.Operator, defineCatalog, map[string]any{"p": []map[string]any{{"key": "xk.later.deep.key", "group": "K3"}}})
		e.ok(e.Operator, `mutation($id: ID!) { addAccountPermissions(input: {accountId: $id, permissions: ["xk.late", "xk.later.deep.key"]}) { account { id } } }`,
			map[string]any{"id": a.ID})
		want = []string{"ck:a", "ck:b:c", "xk.a", "xk.b.c", "xk.b.c.d", "xk.late", "xk.later.deep.key"}
		if got := slices.Sorted(slices.Values(effective())); !slices.Equal(got, want) {
			t.Fatalf("after adding keys: got %v, want %v", got, want)
		}
		for _, k := range []string{"xk.late", "xk.later.deep.key"} {
			if r := decide(k); !r.Get("data.viewer.can.allowed").Bool() || r.Get("data.viewer.can.grantedBy.grant").String() != "xk.*" {
				t.Errorf("%s added later: %s", k, r)
			}
		}
		r := e.ok(a.Owner, coreRoleFields, map[string]any{"id": role})
		if r.Get("data.node.version").Int() != 1 || r.Get("data.node.grants").Raw != `["xk.*","ck:*"]` && r.Get("data.node.grants").Raw != `["ck:*","xk.*"]` {
			t.Fatalf("the role itself must not change: %s", r)
		}
	})
}

// M6: a user sees its memberships, roles and exact effective permissions,
// and why it lacks something.
func TestM6_ViewerExplainsAccess(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("m6a", nil)
		b := e.newAccount("m6b", nil)
		c := e.newAccount("m6c", nil)
		const email = "someone@m6.test"
		agents := e.createRole(a.Owner, a.ID, "Agents", []string{"AgentChat", "view_duplicates"})
		e.createRole(a.Owner, a.ID, "Flows", []string{"identity.flows.create"})
		memA := e.addMember(a.Owner, a.ID, email, agents)
		readers := e.createRole(b.Owner, b.ID, "Readers", []string{"identity.flows.read", "checks.background"})
		chat := e.createRole(b.Owner, b.ID, "Chat", []string{"AgentChat"})
		memB := e.addMember(b.Owner, b.ID, email, readers, chat)
		// A removed membership is not shown.
		memC := e.addMember(c.Owner, c.ID, email)
		e.ok(c.Owner, remove, map[string]any{"id": memC})

		tok := userToken(t, email)
		r := e.ok(tok, `{ viewer { kind id user { id email } memberships { account { id slug } member { id } status roles { key }
			effectivePermissions masks } } }`, nil)
		v := r.Get("data.viewer")
		if v.Get("kind").String() != "USER" || v.Get("user.email").String() != email || v.Get("id").String() != v.Get("user.id").String() {
			t.Fatalf("viewer: %s", r)
		}
		if v.Get("memberships.#").Int() != 2 {
			t.Fatalf("want the 2 memberships that are not REMOVED: %s", r)
		}
		for _, w := range []struct {
			acc, member string
			roles, eff  []string
		}{
			{a.ID, memA, []string{"agents"}, []string{"AgentChat", "view_duplicates"}},
			{b.ID, memB, []string{"chat", "readers"}, []string{"AgentChat", "checks.background", "identity.flows.read"}},
		} {
			m := v.Get(fmt.Sprintf(`memberships.#(account.id==%q)`, w.acc))
			if m.Get("member.id").String() != w.member || m.Get("status").String() != "ACTIVE" || m.Get("masks").Raw != "[]" {
				t.Errorf("membership in %s: %s", w.acc, m.Raw)
			}
			if got := slices.Sorted(slices.Values(gjsonStrings(m.Get("roles.#.key").Array()))); !slices.Equal(got, w.roles) {
				t.Errorf("roles in %s: got %v, want %v", w.acc, got, w.roles)
			}
			if got := slices.Sorted(slices.Values(gjsonStrings(m.Get("effectivePermissions").Array()))); !slices.Equal(got, w.eff) {
				t.Errorf("effective permissions in %s: got %v, want %v", w.acc, got, w.eff)
			}
		}

		const can = `query($acc: ID!, $p: String!) { viewer { can(accountId: $acc, permission: $p) { permission allowed reason
			grantedBy { roleKey grant } suggestedRoles { key } } } }`
		ask := func(acc, p string) resp {
			t.Helper()
			return e.ok(tok, can, map[string]any{"acc": acc, "p": p})
		}
		// "Why can't I?": not granted, and the roles that would grant it.
		d := ask(a.ID, "identity.flows.create").Get("data.viewer.can")
		if d.Get("allowed").Bool() || d.Get("reason").String() != "NOT_GRANTED" || d.Get("grantedBy").Raw != "null" ||
			d.Get("permission").String() != "identity.flows.create" {
			t.Fatalf("denial: %s", d.Raw)
		}
		if got := slices.Sorted(slices.Values(gjsonStrings(d.Get("suggestedRoles.#.key").Array()))); !slices.Equal(got, []string{"default_access", "flows", "full_access"}) {
			t.Fatalf("suggested roles: got %v", got)
		}
		// The same key is granted in b, where it is not held either; what is held explains itself.
		for _, c := range []struct{ acc, p, role string }{{a.ID, "AgentChat", "agents"}, {b.ID, "AgentChat", "chat"}, {b.ID, "checks.background", "readers"}} {
			d := ask(c.acc, c.p).Get("data.viewer.can")
			if !d.Get("allowed").Bool() || d.Get("reason").String() != "GRANTED" || d.Get("grantedBy.roleKey").String() != c.role ||
				d.Get("grantedBy.grant").String() != c.p || d.Get("suggestedRoles").Raw != "[]" {
				t.Errorf("%s in %s: %s", c.p, c.acc, d.Raw)
			}
		}
		if d := ask(b.ID, "view_duplicates").Get("data.viewer.can"); d.Get("allowed").Bool() || d.Get("reason").String() != "NOT_GRANTED" {
			t.Errorf("view_duplicates is a's, not b's: %s", d.Raw)
		}
		if d := ask(a.ID, "unused.outside").Get("data.viewer.can"); d.Get("reason").String() != "NOT_IN_MASTER_LIST" {
			t.Errorf("outside the master list: %s", d.Raw)
		}
		if d := ask(a.ID, "no.such.key").Get("data.viewer.can"); d.Get("reason").String() != "UNKNOWN_PERMISSION" {
			t.Errorf("unknown key: %s", d.Raw)
		}
	})
}

// §11: browsers may call only from the configured origins.
func TestCORS_OriginsFromConfiguration(t *testing.T) {
	forEachDBWith(t, server.Config{CORSOrigins: []string{"https://dash.test"}}, func(t *testing.T, e *env) {
		preflight := func(origin string) resp {
			t.Helper()
			req, _ := http.NewRequest(http.MethodOptions, e.URL+"/graphql", nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", http.MethodPost)
			req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
			return e.send(req)
		}
		r := preflight("https://dash.test")
		if r.Status >= 300 || r.Header.Get("Access-Control-Allow-Origin") != "https://dash.test" ||
			!strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), http.MethodPost) ||
			!strings.Contains(strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")), "authorization") {
			t.Fatalf("preflight from the configured origin: %d %v", r.Status, r.Header)
		}
		for _, origin := range []string{"https://evil.test", "https://dash.test.evil.test", "http://dash.test"} {
			if r := preflight(origin); r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Access-Control-Allow-Methods") != "" {
				t.Errorf("preflight from %s allowed: %v", origin, r.Header)
			}
		}
		// With no origins configured, no origin is allowed.
		closed := newEnv(t, e.Dialect, server.Config{})
		req, _ := http.NewRequest(http.MethodOptions, closed.URL+"/graphql", nil)
		req.Header.Set("Origin", "https://dash.test")
		req.Header.Set("Access-Control-Request-Method", http.MethodPost)
		if r := closed.send(req); r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Access-Control-Allow-Methods") != "" {
			t.Errorf("preflight allowed with no origins configured: %v", r.Header)
		}
		// The actual request carries the header for the configured origin only.
		for origin, want := range map[string]string{"https://dash.test": "https://dash.test", "https://evil.test": ""} {
			req, _ := http.NewRequest(http.MethodPost, e.URL+"/graphql", strings.NewReader(`{"query":"{ viewer { kind } }"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+e.Operator)
			req.Header.Set("Origin", origin)
			r := e.send(req)
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != want || r.Get("data.viewer.kind").String() != "OPERATOR" {
				t.Errorf("POST from %s: Allow-Origin %q, want %q: %s", origin, got, want, r)
			}
		}
	})
}

// coreTokens is a query of exactly n parser tokens (n >= 17) that asks for
// the built-in iam.roles.read among n-17 keys that do not exist. A long list
// keeps validation linear: thousands of repeated fields would instead spend
// seconds in the overlapping-fields rule.
func coreTokens(n int) string {
	var b strings.Builder
	b.WriteString(`{ permissionCatalog(where: {keyIn: ["iam.roles.read"`) // 10 tokens
	for i := 0; i < n-17; i++ {
		fmt.Fprintf(&b, ` "no.such.key%d"`, i)
	}
	b.WriteString(`]}) { totalCount } }`) // 7 tokens
	return b.String()
}

// §11: the parser token limit (15,000 by default, configurable) refuses a
// longer document before anything runs; a document at the limit runs.
func TestLimits_TokenLimit(t *testing.T) {
	for _, limit := range []int{15000, 60} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			// A long keyIn list makes the long document; the list limit is
			// not what this test is about.
			cfg := server.Config{MaxInputItems: 1 << 20}
			if limit != 15000 {
				cfg.ParserTokens = limit
			}
			forEachDBWith(t, cfg, func(t *testing.T, e *env) {
				r := e.ok(e.Operator, coreTokens(limit), nil)
				if r.Get("data.permissionCatalog.totalCount").Int() != 1 {
					t.Fatalf("a document of %d tokens: %.300s", limit, r.Body)
				}
				r = e.gql(e.Operator, coreTokens(limit+1), nil)
				want := fmt.Sprintf("exceeded token limit of %d", limit)
				if r.Status != http.StatusUnprocessableEntity || r.Get("errors.#").Int() != 1 ||
					r.Get("errors.0.message").String() != want || r.Get("data").Type != gjson.Null {
					t.Fatalf("a document of %d tokens: %.300s", limit+1, r.Body)
				}
				// Documented in the README: a document that does not parse,
				// the token limit included, is GRAPHQL_PARSE_FAILED.
				if c := r.Code(); c != "GRAPHQL_PARSE_FAILED" {
					t.Fatalf("token limit code: %.300s", r.Body)
				}
			})
		})
	}
}

// A2: refusing a second role in a SINGLE account, or a switch to SINGLE
// while a member holds two roles, leaves everything as it was.
func TestA2_SingleRefusalChangesNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		s := e.newAccount("a2s", map[string]any{"settings": map[string]any{"roleAssignment": "SINGLE"}})
		chat := e.createRole(s.Owner, s.ID, "Chat", []string{"AgentChat"})
		m := e.addMember(s.Owner, s.ID, "one@a2s.test", chat)
		before, audits := e.coreState(s.ID), e.coreAuditTotal(s.ID)
		for name, c := range map[string]struct {
			q  string
			in map[string]any
		}{
			"addMember with two roles": {addMember, map[string]any{"accountId": s.ID, "email": "two@a2s.test", "roleIds": []string{chat, s.DefaultAccessID}}},
			"setMemberRoles to two":    {setRoles, map[string]any{"memberId": m, "roleIds": []string{chat, s.DefaultAccessID}}},
			"setMemberRoles to none":   {setRoles, map[string]any{"memberId": m, "roleIds": []string{}}},
		} {
			r := e.fails("BAD_USER_INPUT", s.Owner, c.q, map[string]any{"in": c.in})
			if r.Get("errors.0.extensions.reason").String() != "SINGLE_ROLE" {
				t.Errorf("%s: %s", name, r)
			}
			e.coreUnchanged(t, s.ID, name, before, audits)
		}
		if n := e.ok(userToken(t, "two@a2s.test"), `{ viewer { memberships { account { id } } } }`, nil).Get("data.viewer.memberships.#").Int(); n != 0 {
			t.Fatalf("the refused member was created: %d memberships", n)
		}

		mu := e.newAccount("a2m", nil)
		e.addMember(mu.Owner, mu.ID, "two@a2m.test", mu.DefaultAccessID, e.createRole(mu.Owner, mu.ID, "Chat", []string{"AgentChat"}))
		before, audits = e.coreState(mu.ID), e.coreAuditTotal(mu.ID)
		r := e.fails("CONFLICT", e.Operator, `mutation($id: ID!) { updateAccount(input: {accountId: $id, name: "Renamed",
			settings: {roleAssignment: SINGLE, defaultAccessExcludes: ["iam.*", "AgentChat"]}}) { account { id } } }`, map[string]any{"id": mu.ID})
		if r.Get("errors.0.extensions.members.#").Int() != 1 {
			t.Fatalf("offenders: %s", r)
		}
		// Neither the mode nor the name or excludes sent with it changed.
		e.coreUnchanged(t, mu.ID, "the switch to SINGLE", before, audits)
	})
}

// R2: refused edits and deletions of system roles change nothing, for the
// owner and the operator alike.
func TestR2_SystemRoleRefusalChangesNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("r2n", nil)
		member := e.addMember(a.Owner, a.ID, "def@r2n.test")
		before, audits := e.coreState(a.ID), e.coreAuditTotal(a.ID)
		perms := slices.Sorted(slices.Values(e.permissionsOf(member)))
		for _, cred := range []string{a.Owner, e.Operator} {
			for _, in := range []map[string]any{
				{"roleId": a.FullAccessID, "expectedVersion": 1, "name": "Mine"},
				{"roleId": a.FullAccessID, "expectedVersion": 1, "grants": []string{"AgentChat"}},
				{"roleId": a.DefaultAccessID, "expectedVersion": 1, "removeGrants": []string{"*"}, "description": "x"},
				{"roleId": a.DefaultAccessID, "expectedVersion": 1, "addGrants": []string{"iam.members.manage"}},
			} {
				r := e.fails("FORBIDDEN", cred, updateRole, map[string]any{"in": in})
				if r.Get("errors.0.extensions.reason").String() != "SYSTEM_ROLE" {
					t.Errorf("update %v: %s", in, r)
				}
			}
			for _, id := range []string{a.FullAccessID, a.DefaultAccessID} {
				e.fails("FORBIDDEN", cred, deleteRole, map[string]any{"in": map[string]any{"roleId": id}})
				e.fails("FORBIDDEN", cred, deleteRole, map[string]any{"in": map[string]any{"roleId": id, "reassignToRoleId": a.FullAccessID}})
			}
		}
		e.coreUnchanged(t, a.ID, "editing system roles", before, audits)
		if got := slices.Sorted(slices.Values(e.permissionsOf(member))); !slices.Equal(got, perms) {
			t.Fatalf("a default_access holder's permissions changed: %v → %v", perms, got)
		}
	})
}

// R5: invalid grants are refused, each offender named, and nothing changes.
func TestR5_InvalidGrantsChangeNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("r5n", nil)
		role := e.createRole(a.Owner, a.ID, "Agents", []string{"AgentChat"})
		member := e.addMember(a.Owner, a.ID, "agent@r5n.test", role)
		before, audits := e.coreState(a.ID), e.coreAuditTotal(a.ID)
		offenders := []string{"nope.nope", "unused.outside", "a.*.b", "x*", "*.x", "identity.*.*", ""}
		valid := []string{"view_duplicates", "identity.*"}
		grants := append(slices.Clone(valid), offenders...)
		for _, cred := range []string{a.Owner, e.Operator} {
			for name, c := range map[string]struct {
				q  string
				in map[string]any
			}{
				"createRole":            {createRole, map[string]any{"accountId": a.ID, "name": "Bad", "grants": grants}},
				"updateRole grants":     {updateRole, map[string]any{"roleId": role, "expectedVersion": 1, "grants": grants}},
				"updateRole addGrants":  {updateRole, map[string]any{"roleId": role, "expectedVersion": 1, "addGrants": grants}},
				"createRole copy + bad": {createRole, map[string]any{"accountId": a.ID, "name": "Bad", "copyFromRoleId": role, "grants": offenders[:1]}},
			} {
				r := e.fails("BAD_USER_INPUT", cred, c.q, map[string]any{"in": c.in})
				named := gjsonStrings(r.Get("errors.0.extensions.invalidGrants").Array())
				for _, o := range offenders {
					if (name != "createRole copy + bad" || o == offenders[0]) && !slices.Contains(named, o) {
						t.Errorf("%s: offender %q not named: %s", name, o, r)
					}
				}
				for _, v := range append(valid, "AgentChat") {
					if slices.Contains(named, v) {
						t.Errorf("%s: valid grant %q named: %s", name, v, r)
					}
				}
			}
		}
		e.coreUnchanged(t, a.ID, "invalid grants", before, audits)
		if p := e.permissionsOf(member); !slices.Equal(p, []string{"AgentChat"}) {
			t.Fatalf("holder's permissions: %v", p)
		}
	})
}
