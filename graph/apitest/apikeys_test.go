package apitest

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

const (
	createKey = `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret apiKey { id name status scopes permissions masks createdBy } } }`
	revokeKey = `mutation($id: ID!) { revokeApiKey(input: {apiKeyId: $id}) { apiKey { id status revokedAt } } }`
	keyQuery  = `query($id: ID!) { node(id: $id) { ... on ApiKey { status permissions lastUsedAt } } }`
	whoAmI    = `{ viewer { kind id } }`
)

// keyAdmin adds a member holding a role with grants and returns its member id and JWT.
func (e *env) keyAdmin(a account, email string, grants ...string) (string, string) {
	e.t.Helper()
	role := e.createRole(a.Owner, a.ID, "Role "+email, grants)
	return e.addMember(a.Owner, a.ID, email, role), userToken(e.t, email)
}

func (e *env) createKey(cred string, in map[string]any) resp {
	e.t.Helper()
	return e.ok(cred, createKey, map[string]any{"in": in})
}

func TestS1_Scopes(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("s1", nil)
		const create = `mutation($in: CreateScopeInput!) { createScope(input: $in) { scope { id key grants } } }`
		r := e.ok(a.Owner, create, map[string]any{"in": map[string]any{"accountId": a.ID, "key": "read", "grants": []string{"identity.flows.read", "iam.members.read"}}})
		id := r.Get("data.createScope.scope.id").String()
		e.fails("CONFLICT", a.Owner, create, map[string]any{"in": map[string]any{"accountId": a.ID, "key": "read", "grants": []string{}}})
		r = e.fails("BAD_USER_INPUT", a.Owner, create, map[string]any{"in": map[string]any{"accountId": a.ID, "key": "bad", "grants": []string{"nope.nope", "mask:member.email"}}})
		if !strings.Contains(r.Get("errors.0.extensions.invalidGrants").String(), "mask:member.email") {
			t.Fatalf("offenders: %s", r)
		}
		e.ok(a.Owner, `mutation($id: ID!) { updateScope(input: {scopeId: $id, grants: ["identity.*"]}) { scope { grants } } }`, map[string]any{"id": id})
		_, tok := e.keyAdmin(a, "reader@s1.test", "iam.keys.read")
		e.fails("FORBIDDEN", tok, create, map[string]any{"in": map[string]any{"accountId": a.ID, "key": "x", "grants": []string{}}})
		r = e.ok(tok, `query($id: ID!) { account(id: $id) { scopes { totalCount edges { node { key grants } } } } }`, map[string]any{"id": a.ID})
		if r.Get("data.account.scopes.edges.0.node.grants.0").String() != "identity.*" {
			t.Fatalf("scopes: %s", r)
		}
		e.ok(a.Owner, `mutation($id: ID!) { deleteScope(input: {scopeId: $id}) { deletedScopeId } }`, map[string]any{"id": id})
		if e.auditCount(a.ID, "scope.created") != 1 || e.auditCount(a.ID, "scope.deleted") != 1 {
			t.Fatal("scope changes not audited once each")
		}
	})
}

func TestS2_KeyWithinCreatorsPermissions(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("s2", nil)
		mem, tok := e.keyAdmin(a, "dev@s2.test", "AgentChat", "identity.flows.read", "iam.keys.manage", "iam.keys.read")
		// Neither scopes nor permissions: the creator's whole set.
		r := e.createKey(tok, map[string]any{"accountId": a.ID, "name": "all"})
		if got := r.Get("data.createApiKey.apiKey.permissions").String(); got != `["AgentChat","iam.keys.manage","iam.keys.read","identity.flows.read"]` {
			t.Fatalf("snapshot: %s", got)
		}
		if r.Get("data.createApiKey.apiKey.createdBy").String() != mem {
			t.Fatalf("createdBy: %s", r)
		}
		// Asking for more than the creator holds is refused, naming what is missing.
		r = e.fails("FORBIDDEN", tok, createKey, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "more", "permissions": []string{"AgentChat", "products.all"}}})
		if !strings.Contains(r.Get("errors.0.extensions.missingPermissions").String(), "products.all") {
			t.Fatalf("missing: %s", r)
		}
		e.fails("BAD_USER_INPUT", tok, createKey, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "x", "scopes": []string{"ghost"}}})
		e.fails("BAD_USER_INPUT", tok, createKey, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "x", "expiresAt": time.Now().Add(-time.Minute).Format(time.RFC3339)}})
		e.fails("BAD_USER_INPUT", tok, createKey, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "x", "permissions": []string{"a.*.b"}}})
		e.fails("FORBIDDEN", tok, createKey, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "x", "memberId": a.OwnerID}})
		// Scopes resolve to concrete keys now; a wildcard covering more than the
		// creator holds is refused rather than silently narrowed.
		const scope = `mutation($in: CreateScopeInput!) { createScope(input: $in) { scope { id } } }`
		e.ok(a.Owner, scope, map[string]any{"in": map[string]any{"accountId": a.ID, "key": "flows", "grants": []string{"identity.flows.*"}}})
		e.ok(a.Owner, scope, map[string]any{"in": map[string]any{"accountId": a.ID, "key": "read", "grants": []string{"identity.flows.read"}}})
		e.fails("FORBIDDEN", tok, createKey, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "x", "scopes": []string{"flows"}}})
		r = e.createKey(tok, map[string]any{"accountId": a.ID, "name": "scoped", "scopes": []string{"read"}})
		if r.Get("data.createApiKey.apiKey.permissions").String() != `["identity.flows.read"]` {
			t.Fatalf("scoped snapshot: %s", r)
		}
		// The operator mints a key for the owner (onboarding), bounded by the owner.
		r = e.createKey(e.Operator, map[string]any{"accountId": a.ID, "name": "onboarding", "memberId": a.OwnerID, "permissions": []string{"iam.*"}})
		if !strings.Contains(r.Get("data.createApiKey.apiKey.permissions").String(), "iam.roles.manage") {
			t.Fatalf("operator-minted key: %s", r)
		}
		e.fails("NOT_FOUND", e.Operator, createKey, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "x", "memberId": "mem_01JD3V8Q7X9K2M4N6P8R0T2V4W"}})
		if n := e.auditCount(a.ID, "apikey.created"); n != 3 {
			t.Fatalf("apikey.created events: %d, want 3", n)
		}
	})
}

func TestS3_SnapshotNeverChanges(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("s3", nil)
		role := e.createRole(a.Owner, a.ID, "Dev", []string{"AgentChat", "view_duplicates", "iam.keys.manage", "iam.keys.read"})
		e.addMember(a.Owner, a.ID, "dev@s3.test", role)
		tok := userToken(t, "dev@s3.test")
		r := e.createKey(tok, map[string]any{"accountId": a.ID, "name": "k", "permissions": []string{"AgentChat", "iam.keys.read"}})
		key, secret := r.Get("data.createApiKey.apiKey.id").String(), r.Get("data.createApiKey.secret").String()
		// The creator's role grows and shrinks: the key neither widens nor narrows.
		e.ok(a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": role, "expectedVersion": 1, "addGrants": []string{"checks.background"}, "removeGrants": []string{"AgentChat"}}})
		r = e.ok(a.Owner, keyQuery, map[string]any{"id": key})
		if r.Get("data.node.permissions").String() != `["AgentChat","iam.keys.read"]` {
			t.Fatalf("snapshot changed: %s", r)
		}
		const can = `query($a: ID!, $p: String!) { authorize(input: {accountId: $a, permission: $p}) { allowed reason } }`
		if !e.ok(secret, can, map[string]any{"a": a.ID, "p": "AgentChat"}).Get("data.authorize.allowed").Bool() ||
			e.ok(secret, can, map[string]any{"a": a.ID, "p": "checks.background"}).Get("data.authorize.allowed").Bool() {
			t.Fatal("the key's decisions follow the creator instead of the snapshot")
		}
		// K5 still applies: a key loses what leaves the master list, at once.
		e.ok(e.Operator, `mutation($id: ID!) { removeAccountPermissions(input: {accountId: $id, permissions: ["AgentChat"]}) { account { id } } }`, map[string]any{"id": a.ID})
		if r := e.ok(secret, can, map[string]any{"a": a.ID, "p": "AgentChat"}); r.Get("data.authorize.reason").String() != "NOT_IN_MASTER_LIST" {
			t.Fatalf("K5 for keys: %s", r)
		}
		if e.ok(a.Owner, keyQuery, map[string]any{"id": key}).Get("data.node.permissions").String() != `["iam.keys.read"]` {
			t.Fatal("ApiKey.permissions must be bounded by the master list")
		}
		// Only the name changes.
		r = e.ok(a.Owner, `mutation($id: ID!) { renameApiKey(input: {apiKeyId: $id, name: "renamed"}) { apiKey { name } } }`, map[string]any{"id": key})
		if r.Get("data.renameApiKey.apiKey.name").String() != "renamed" {
			t.Fatalf("rename: %s", r)
		}
	})
}

func TestS3_CatalogChangesDoNotWidenKeys(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("s3c", nil)
		secret := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "k", "permissions": []string{"AgentChat"}}).
			Get("data.createApiKey.secret").String()
		role := e.createRole(a.Owner, a.ID, "Chat", []string{"AgentChat"})
		m := e.addMember(a.Owner, a.ID, "chat@s3c.test", role)
		e.ok(e.Operator, defineCatalog, map[string]any{"p": []map[string]any{{"key": "AgentChat", "implies": []string{"view_duplicates"}}}})
		const can = `query($a: ID!) { authorize(input: {accountId: $a, permission: "view_duplicates"}) { allowed } }`
		if e.ok(secret, can, map[string]any{"a": a.ID}).Get("data.authorize.allowed").Bool() {
			t.Fatal("a new implication widened a key's snapshot")
		}
		if !contains(e.permissionsOf(m), "view_duplicates") {
			t.Fatal("roles follow implications (K4)")
		}
	})
}

var keyFormat = regexp.MustCompile(`^gk_[0-9A-HJKMNP-TV-Z]{26}_[0-9A-Za-z]{38}$`)

func TestS4_SecretShownOnceHashedAndChecksummed(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("s4", nil)
		r := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "ci", "permissions": []string{"AgentChat"}})
		key, secret := r.Get("data.createApiKey.apiKey.id").String(), r.Get("data.createApiKey.secret").String()
		if !keyFormat.MatchString(secret) || !strings.Contains(secret, strings.TrimPrefix(key, "key_")) {
			t.Fatalf("secret format: %q (key %s)", secret, key)
		}
		if r := e.ok(secret, whoAmI, nil); r.Get("data.viewer.kind").String() != "API_KEY" || r.Get("data.viewer.id").String() != key {
			t.Fatalf("key authentication: %s", r)
		}
		// The secret appears nowhere else: not in reads, not in the audit log.
		all := e.ok(e.Operator, `query($id: ID!) { account(id: $id) { apiKeys { edges { node { id name permissions } } } auditEvents { edges { node { changes } } } } }`, map[string]any{"id": a.ID})
		if strings.Contains(string(all.Body), secret[len(secret)-20:]) {
			t.Fatal("the secret is readable after creation")
		}
		var rows int
		e.DB.SQL.QueryRow(`SELECT COUNT(*) FROM api_keys WHERE secret_hash = $1`, []byte(secret)).Scan(&rows)
		if rows != 0 {
			t.Fatal("the secret is stored in clear")
		}
		// A typo fails the checksum; an unknown key and a wrong secret get the same answer.
		typo := secret[:len(secret)-1] + string("ab"[strings.IndexByte("ab", secret[len(secret)-1])+1&1])
		wrong := unknownKey(t)
		for _, cred := range []string{typo, wrong} {
			r := e.gql(cred, whoAmI, nil)
			if r.Status != http.StatusUnauthorized || r.Get("errors.0.message").String() != "invalid, revoked or expired credentials" {
				t.Errorf("bad key: %s", r)
			}
		}
	})
}

// unknownKey is a well-formed key of another server's database.
func unknownKey(t *testing.T) string {
	other := newEnv(t, dialect.SQLite, server.Config{})
	a := other.newAccount("other", nil)
	return other.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "x"}).Get("data.createApiKey.secret").String()
}

func TestS4_LastUsedAtRecordedInBatches(t *testing.T) {
	e := newEnv(t, dialect.SQLite, server.Config{UsageFlush: 50 * time.Millisecond})
	a := e.newAccount("s4u", nil)
	r := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "ci"})
	key, secret := r.Get("data.createApiKey.apiKey.id").String(), r.Get("data.createApiKey.secret").String()
	if e.ok(a.Owner, keyQuery, map[string]any{"id": key}).Get("data.node.lastUsedAt").Exists() &&
		e.ok(a.Owner, keyQuery, map[string]any{"id": key}).Get("data.node.lastUsedAt").Type != 0 {
		t.Fatal("lastUsedAt set before any use")
	}
	e.ok(secret, whoAmI, nil)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if e.ok(a.Owner, keyQuery, map[string]any{"id": key}).Get("data.node.lastUsedAt").String() != "" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("lastUsedAt never recorded")
}

func TestS5_RevokedAndExpiredKeysAreUnauthenticated(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("s5", nil)
		r := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "ci"})
		key, secret := r.Get("data.createApiKey.apiKey.id").String(), r.Get("data.createApiKey.secret").String()
		e.ok(secret, whoAmI, nil)
		e.ok(a.Owner, revokeKey, map[string]any{"id": key})
		if r := e.gql(secret, whoAmI, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("revoked key works: %s", r)
		}
		e.fails("CONFLICT", a.Owner, revokeKey, map[string]any{"id": key})
		if e.ok(a.Owner, keyQuery, map[string]any{"id": key}).Get("data.node.status").String() != "REVOKED" {
			t.Fatal("status")
		}
		r = e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "short", "expiresAt": time.Now().Add(1500 * time.Millisecond).Format(time.RFC3339Nano)})
		short := r.Get("data.createApiKey.secret").String()
		e.ok(short, whoAmI, nil)
		time.Sleep(1600 * time.Millisecond)
		if r := e.gql(short, whoAmI, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("expired key works: %s", r)
		}
		// Permissions are visible to iam.keys.read holders only.
		_, reader := e.keyAdmin(a, "reader@s5.test", "iam.keys.read")
		_, nobody := e.keyAdmin(a, "nobody@s5.test", "iam.members.read")
		e.ok(reader, keyQuery, map[string]any{"id": key})
		e.fails("FORBIDDEN", nobody, `query($id: ID!) { account(id: $id) { apiKeys { totalCount } } }`, map[string]any{"id": a.ID})
	})
}

func TestM5_KeysOfSuspendedAndRemovedCreators(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("m5k", nil)
		mem, tok := e.keyAdmin(a, "dev@m5k.test", "AgentChat", "iam.keys.manage", "iam.keys.read")
		r := e.createKey(tok, map[string]any{"accountId": a.ID, "name": "dev"})
		key, secret := r.Get("data.createApiKey.apiKey.id").String(), r.Get("data.createApiKey.secret").String()
		e.ok(a.Owner, suspend, map[string]any{"id": mem})
		if r := e.gql(secret, whoAmI, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("key of a suspended member works: %s", r)
		}
		if e.ok(a.Owner, keyQuery, map[string]any{"id": key}).Get("data.node.status").String() != "INACTIVE" {
			t.Fatal("status while suspended")
		}
		e.ok(a.Owner, reactivate, map[string]any{"id": mem})
		e.ok(secret, whoAmI, nil)
		e.ok(a.Owner, remove, map[string]any{"id": mem})
		if r := e.gql(secret, whoAmI, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("key of a removed member works: %s", r)
		}
		if e.ok(a.Owner, keyQuery, map[string]any{"id": key}).Get("data.node.status").String() != "REVOKED" {
			t.Fatal("keys of removed members are revoked")
		}
	})
}

func TestP2_KeysActInTheirOwnAccountOnly(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("p2a", nil)
		b := e.newAccount("p2b", nil)
		secret := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "k"}).Get("data.createApiKey.secret").String()
		req, _ := http.NewRequest(http.MethodPost, e.URL+"/graphql", strings.NewReader(`{"query":"query($id: ID!) { account(id: $id) { members { totalCount } } }","variables":{"id":"`+a.ID+`"}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", secret)
		if r := e.send(req); r.Get("data.account.members.totalCount").Int() != 1 {
			t.Fatalf("X-API-Key: %s", r)
		}
		e.fails("NOT_FOUND", secret, `query($id: ID!) { account(id: $id) { name } }`, map[string]any{"id": b.ID})
		// A key acts as an API_KEY in the audit log.
		e.ok(secret, `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id } } }`, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "By key"}})
		r := e.ok(e.Operator, `query($id: ID!) { account(id: $id) { auditEvents(where: {action: "role.created"}) { edges { node { actorType actorID } } } } }`, map[string]any{"id": a.ID})
		if r.Get("data.account.auditEvents.edges.0.node.actorType").String() != "API_KEY" || !strings.HasPrefix(r.Get("data.account.auditEvents.edges.0.node.actorID").String(), "key_") {
			t.Fatalf("attribution: %s", r)
		}
	})
}
