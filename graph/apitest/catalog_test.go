package apitest

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
	"github.com/gatehouse-iam/gatehouse/ent/permission"
	"github.com/gatehouse-iam/gatehouse/graph/server"
)

func TestK1_OnlyOperatorsChangeTheCatalog(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("k1", nil)
		e.fails("FORBIDDEN", a.Owner, defineCatalog, map[string]any{"p": []map[string]any{{"key": "x.y"}}})
		e.fails("FORBIDDEN", a.Owner, `{ permissionCatalog { totalCount } }`, nil)
		r := e.ok(e.Operator, `{ permissionCatalog(where: {key: "products.all"}) { edges { node { key group implies kind builtIn } } } }`, nil)
		n := r.Get("data.permissionCatalog.edges.0.node")
		if n.Get("group").String() != "Products" || n.Get("implies.#").Int() != 3 || n.Get("kind").String() != "GRANT" {
			t.Fatalf("catalog entry: %s", r)
		}
		// Redefining updates in place; the kind cannot change.
		e.ok(e.Operator, defineCatalog, map[string]any{"p": []map[string]any{{"key": "AgentChat", "description": "Chat with customers"}}})
		e.fails("CONFLICT", e.Operator, defineCatalog, map[string]any{"p": []map[string]any{{"key": "AgentChat", "kind": "DENY_MASK"}}})
	})
}

// K1: defining permissions exactly as they are is not a change. A script or
// a deployment that syncs its catalog on every start writes nothing: no
// audit event, and no server drops its cached models or operator keys
// (a platform change would drop every model of every server).
func TestK1_DefiningTheCatalogAsItIsChangesNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("k1same", nil)
		decide := map[string]any{"in": map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": a.OwnerID}, "permission": "AgentChat"}}
		e.ok(e.Operator, authorize, decide)
		platform := func() int {
			return e.DB.Client.AuditEvent.Query().Where(auditevent.AccountID("")).CountX(t.Context())
		}
		before := platform()
		e.defineCatalog()
		if n := platform(); n != before {
			t.Errorf("defining the catalog as it is wrote %d platform events", n-before)
		}
		if _, n := e.statementsOf(e.Operator, authorize, decide); n != 0 {
			t.Errorf("the decision after a catalog sync sent %d statements: the model was dropped", n)
		}
		// A real change still is one, with its event.
		e.ok(e.Operator, defineCatalog, map[string]any{"p": []map[string]any{{"key": "AgentChat", "description": "Chat with customers, anew"}}})
		if n := platform(); n != before+1 {
			t.Errorf("a changed description wrote %d platform events, want 1", n-before)
		}
	})
}

func TestK2_KeyGrammar(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		good := []map[string]any{{"key": "identity.flows.create"}, {"key": "attestations:mint"}, {"key": "AgentChat"}, {"key": "view_duplicates"}}
		e.ok(e.Operator, defineCatalog, map[string]any{"p": good})
		for _, bad := range []string{"", "a..b", ".a", "a.", "a b", "a.*", "*", "é", strings.Repeat("a", 129)} {
			r := e.fails("BAD_USER_INPUT", e.Operator, defineCatalog, map[string]any{"p": []map[string]any{{"key": bad}, {"key": "fine.key"}}})
			if len(bad) > 128 { // over the input limit of keys, refused before the grammar
				if r.Get("errors.0.extensions.field").String() != "input.permissions[0].key" || r.Get("errors.0.extensions.max").Int() != 128 {
					t.Errorf("%q: %s", bad, r)
				}
				continue
			}
			if !strings.Contains(r.Get("errors.0.message").String(), "malformed") {
				t.Errorf("%q: message does not say why: %s", bad, r)
			}
		}
		// Nothing of a refused batch was written.
		r := e.ok(e.Operator, `{ permissionCatalog(where: {key: "fine.key"}) { totalCount } }`, nil)
		if r.Get("data.permissionCatalog.totalCount").Int() != 0 {
			t.Fatalf("a refused batch was partly written: %s", r)
		}
		e.fails("BAD_USER_INPUT", e.Operator, defineCatalog, map[string]any{"p": []map[string]any{{"key": "x", "implies": []string{"a.*.b"}}}})
	})
}

func TestK7_BuiltInPermissionsInCatalogAndEveryMasterList(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("k7", map[string]any{"permissions": []string{"AgentChat"}})
		r := e.ok(e.Operator, `query($id: ID!) { account(id: $id) { permissions(where: {builtIn: true}) { totalCount } } }`, map[string]any{"id": a.ID})
		if r.Get("data.account.permissions.totalCount").Int() != int64(len(builtinPermissions)) {
			t.Fatalf("built-ins in the master list: %s", r)
		}
		e.fails("BAD_USER_INPUT", e.Operator, defineCatalog, map[string]any{"p": []map[string]any{{"key": "iam.roles.manage"}}})
		e.fails("BAD_USER_INPUT", e.Operator, `mutation($id: ID!) { removeAccountPermissions(input: {accountId: $id, permissions: ["iam.roles.read"]}) { account { id } } }`,
			map[string]any{"id": a.ID})
	})
}

// K4 and K3 through the API: products.all implies identity.* and so on; a
// wildcard follows keys added to the master list later.
func TestK4_ImpliedPermissionsThroughTheAPI(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("k4", nil)
		roleID := e.createRole(a.Owner, a.ID, "Products", []string{"products.all"})
		r := e.ok(a.Owner, `query($id: ID!) { node(id: $id) { ... on Role { effectivePermissions } } }`, map[string]any{"id": roleID})
		got := r.Get("data.node.effectivePermissions").String()
		for _, k := range []string{"products.all", "identity.flows.create", "identity.whatsapp.send", "validations.documents", "checks.background"} {
			if !strings.Contains(got, `"`+k+`"`) {
				t.Errorf("products.all should give %s: %s", k, got)
			}
		}
		if strings.Contains(got, "attestations:mint") || strings.Contains(got, "unused.outside") {
			t.Errorf("implication went too far: %s", got)
		}
	})
}

// K5: nothing outside the master list is effective, whatever a role says.
func TestK5_MasterListBoundsEverything(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("k5", nil)
		r := e.ok(a.Owner, `query($id: ID!) { account(id: $id) { role(key: "full_access") { effectivePermissions } } }`, map[string]any{"id": a.ID})
		if strings.Contains(r.Get("data.account.role.effectivePermissions").String(), "unused.outside") {
			t.Fatalf("full_access reaches outside the master list: %s", r)
		}
		// Granting a key outside the master list is refused (R5).
		r = e.fails("BAD_USER_INPUT", a.Owner, `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id } } }`,
			map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Out", "grants": []string{"unused.outside", "nope.missing"}}})
		if !strings.Contains(r.Get("errors.0.extensions.invalidGrants").String(), "unused.outside") {
			t.Fatalf("offenders not named: %s", r)
		}
	})
}

// K7, K4: the coarse built-ins imply the single actions they were split
// into, so roles granting them keep working; a role granting one action may
// do that and nothing else. A database written before the split is brought
// up to date at start-up, with one platform audit event, once.
func TestK7_SplitBuiltInsKeepTheOldNamesWorking(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("k7split", nil)
		r := e.ok(e.Operator, `{ permissionCatalog(where: {keyHasPrefix: "iam."}) { edges { node { key implies } } } }`, nil)
		for key, want := range builtinImplies {
			sameStrings(t, key+" implies", gjsonStrings(r.Get(`data.permissionCatalog.edges.#(node.key=="`+key+`").node.implies`).Array()), want)
		}
		manager := e.createRole(a.Owner, a.ID, "Old-style managers", []string{"iam.members.manage", "AgentChat"})
		inviter := e.createRole(a.Owner, a.ID, "Inviters", []string{"iam.members.invite", "AgentChat"})
		chat := e.createRole(a.Owner, a.ID, "Chat", []string{"AgentChat"})
		e.addMember(a.Owner, a.ID, "mgr@k7split.test", manager)
		e.addMember(a.Owner, a.ID, "inv@k7split.test", inviter)
		mgr, inv := userToken(t, "mgr@k7split.test"), userToken(t, "inv@k7split.test")
		m := e.addMember(mgr, a.ID, "one@k7split.test", chat)
		e.ok(mgr, setRoles, map[string]any{"in": map[string]any{"memberId": m, "roleIds": []string{chat}}})
		e.ok(mgr, suspend, map[string]any{"id": m})
		e.ok(mgr, reactivate, map[string]any{"id": m})
		n := e.addMember(inv, a.ID, "two@k7split.test", chat)
		for q, missing := range map[string]string{suspend: "iam.members.suspend", remove: "iam.members.remove"} {
			r := e.fails("FORBIDDEN", inv, q, map[string]any{"id": n})
			if r.Get("errors.0.extensions.missingPermissions").String() != `["`+missing+`"]` {
				t.Errorf("inviter: %s", r)
			}
		}
		e.ok(mgr, remove, map[string]any{"id": n})

		// A catalog from before the split: iam.members.manage implied nothing.
		ctx := t.Context()
		if err := e.DB.Client.Permission.Update().Where(permission.Key("iam.members.manage")).SetImplies([]string{}).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		updates := func() int {
			n, err := e.DB.Client.AuditEvent.Query().Where(auditevent.Action("permissions.builtins.updated")).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		for range 2 {
			if err := e.Server.Service.EnsureBuiltins(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if updates() != 1 {
			t.Errorf("%d platform events for the update, want 1", updates())
		}
		r = e.ok(e.Operator, `{ permissionCatalog(where: {key: "iam.members.manage"}) { edges { node { implies } } } }`, nil)
		sameStrings(t, "restored", gjsonStrings(r.Get("data.permissionCatalog.edges.0.node.implies").Array()), builtinImplies["iam.members.manage"])
		e.ok(mgr, suspend, map[string]any{"id": m})
	})
}

// K7 across versions. A built-in a new version adds joins every master list
// before the server serves, in the transaction that puts it into the
// catalog. An account that an older server created without a built-in is
// completed once a server has started, without the start waiting for it:
// reading every master list takes seconds at 10,000 accounts, and it
// delayed every start.
func TestK7_BuiltInsReachEveryMasterListAcrossVersions(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		a, b := e.newAccount("k7a", nil), e.newAccount("k7b", nil)
		builtIns := func(e *env, account string) int {
			r := e.ok(e.Operator, `query($id: ID!) { account(id: $id) { permissions(where: {builtIn: true}) { totalCount } } }`, map[string]any{"id": account})
			return int(r.Get("data.account.permissions.totalCount").Int())
		}
		completions := func() int {
			n, err := e.DB.Client.AuditEvent.Query().Where(auditevent.Action("permissions.builtins.updated")).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}

		// A database from before iam.authorize was built in: neither the
		// catalog nor any master list has it.
		e.DB.Client.Permission.Delete().Where(permission.Key("iam.authorize")).ExecX(ctx)
		if err := e.Server.Service.EnsureBuiltins(ctx); err != nil {
			t.Fatal(err)
		}
		for _, acc := range []string{a.ID, b.ID} {
			if n := builtIns(e, acc); n != len(builtinPermissions) {
				t.Errorf("after the upgrade's start: %d built-ins in a master list, want %d", n, len(builtinPermissions))
			}
		}
		if completions() != 1 {
			t.Errorf("%d events for the added built-in, want 1", completions())
		}

		// An older server created b without it.
		authorize := e.DB.Client.Permission.Query().Where(permission.Key("iam.authorize")).OnlyX(ctx)
		e.DB.Client.Account.UpdateOneID(b.ID).RemovePermissionIDs(authorize.ID).ExecX(ctx)
		if err := e.Server.Service.EnsureBuiltins(ctx); err != nil {
			t.Fatal(err)
		}
		if n := builtIns(e, b.ID); n != len(builtinPermissions)-1 {
			t.Fatalf("the start read every master list: %d built-ins, want %d still", n, len(builtinPermissions)-1)
		}
		other := e.secondServer(t, server.Config{})
		deadline := time.Now().Add(10 * time.Second)
		for builtIns(other, b.ID) != len(builtinPermissions) {
			if time.Now().After(deadline) {
				t.Fatal("a started server did not complete the master list an older server left without a built-in")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if completions() != 2 {
			t.Errorf("%d events, want 2: the completion is recorded", completions())
		}
		if n := builtIns(e, a.ID); n != len(builtinPermissions) {
			t.Errorf("a complete master list changed: %d built-ins", n)
		}
	})
}
