package apitest

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/oklog/ulid/v2"
	"github.com/tidwall/gjson"

	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/auth/token"
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
		if got := r.Get("data.createApiKey.apiKey.permissions").String(); got != `["AgentChat","iam.keys.create","iam.keys.manage","iam.keys.read","iam.keys.revoke","identity.flows.read"]` {
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
		typo := keyTypo(secret, -1)
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
		secret := e.ownerKey(a)
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

// keyForID is a well-formed API key, checksum included, for the key whose
// id's ULID part is ulidPart, with a fresh random secret: the key's own
// secret only by a 1 in 62^32 chance.
func keyForID(t *testing.T, ulidPart string) string {
	t.Helper()
	secret, _, err := token.Generate(auth.APIKeyPrefix, ulidPart)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// keyTypo replaces the character at i (negative: from the end) of a key by
// another one valid there, so that only the checksum can tell.
func keyTypo(secret string, i int) string {
	if i < 0 {
		i += len(secret)
	}
	c := byte('0')
	if secret[i] == c {
		c = '1'
	}
	return secret[:i] + string(c) + secret[i+1:]
}

// S4: a key whose format or checksum is wrong is refused before any lookup.
func TestS4_MalformedAndBadChecksumKeysNeedNoLookup(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("s4m", nil)
		real := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "ci"}).Get("data.createApiKey.secret").String()
		// Keys of ids this server has never seen: were the checksum not
		// checked, refusing them would need a lookup.
		unknown := keyForID(t, ulid.Make().String())
		// Control: a checksum-valid unknown key is refused after a lookup,
		// which the count sees.
		r, n := e.statementsOfRequest(e.request(unknown, whoAmI, nil))
		if r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" || n == 0 {
			t.Fatalf("unknown well-formed key: %d statements, %s", n, r)
		}
		t.Logf("%s: unknown well-formed key → %d SQL statements", e.Dialect, n)
		cases := []struct{ name, cred string }{
			{"not a key", "gk_notakey"},
			{"no key id", "gk_" + unknown[len("gk_")+27:]},
			{"upper-case prefix", "GK" + unknown[2:]},
			{"lower-case key id", "gk_" + strings.ToLower(unknown[3:29]) + unknown[29:]},
			{"key id out of range", "gk_Z" + unknown[4:]},
			{"one character short", unknown[:len(unknown)-1]},
			{"one character more", unknown + "a"},
			{"non-base62 secret", unknown[:40] + "-" + unknown[41:]},
			{"checksum typo", keyTypo(unknown, -1)},
			{"secret typo", keyTypo(unknown, 35)},
			{"key id typo", keyTypo(unknown, 10)},
			{"checksum typo of a real key", keyTypo(real, -1)},
		}
		for _, c := range cases {
			if _, _, err := token.Parse(c.cred); err == nil {
				t.Fatalf("%s: %q is a valid token", c.name, c.cred)
			}
			r, n := e.statementsOfRequest(e.request(c.cred, whoAmI, nil))
			if r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" {
				t.Errorf("%s: want HTTP 401 UNAUTHENTICATED, got %s", c.name, r)
			}
			if n != 0 {
				t.Errorf("%s: %d SQL statements, want none", c.name, n)
			}
		}
		e.ok(real, whoAmI, nil) // the typo's original still works
	})
}

// S4: a wrong secret for an existing key gets exactly the answer of an
// unknown key, whether or not the server has seen the key before.
func TestS4_WrongSecretLooksLikeUnknownKey(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("s4w", nil)
		r := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "ci"})
		key, secret := r.Get("data.createApiKey.apiKey.id").String(), r.Get("data.createApiKey.secret").String()
		_, id, err := token.Parse(secret)
		if err != nil || "key_"+id != key {
			t.Fatalf("secret %q of %s: %v", secret, key, err)
		}
		wrong, unknown := keyForID(t, id), keyForID(t, ulid.Make().String())
		if wrong == secret {
			t.Fatal("setup: the wrong secret is the key's")
		}
		same := func(phase string) {
			t.Helper()
			w, u := e.gql(wrong, whoAmI, nil), e.gql(unknown, whoAmI, nil)
			if w.Status != http.StatusUnauthorized || w.Code() != "UNAUTHENTICATED" {
				t.Fatalf("%s: wrong secret: %s", phase, w)
			}
			if w.Status != u.Status || !bytes.Equal(w.Body, u.Body) ||
				w.Header.Get("WWW-Authenticate") != u.Header.Get("WWW-Authenticate") {
				t.Fatalf("%s: wrong secret and unknown key differ:\n%s\n%s", phase, w, u)
			}
		}
		same("key never used")
		if r := e.ok(secret, whoAmI, nil); r.Get("data.viewer.id").String() != key {
			t.Fatalf("the key itself: %s", r)
		}
		same("key in use")
		// Through X-API-Key as well.
		send := func(cred string) resp {
			req := e.request(cred, whoAmI, nil)
			req.Header.Del("Authorization")
			req.Header.Set("X-API-Key", cred)
			return e.send(req)
		}
		if w, u := send(wrong), send(unknown); w.Status != http.StatusUnauthorized || w.Status != u.Status || !bytes.Equal(w.Body, u.Body) {
			t.Fatalf("X-API-Key: wrong secret and unknown key differ:\n%s\n%s", w, u)
		}
	})
}

// keyLastUsed polls key's lastUsedAt until it is after after (the zero time:
// set at all), failing the test after five seconds.
func (e *env) keyLastUsed(cred, key string, after time.Time) time.Time {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := e.ok(cred, keyQuery, map[string]any{"id": key}).Get("data.node.lastUsedAt").String()
		if s != "" {
			at, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				e.t.Fatalf("lastUsedAt %q: %v", s, err)
			}
			if at.After(after) {
				return at
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("lastUsedAt never recorded after %s (last %q)", after.Format(time.RFC3339Nano), s)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// S4: lastUsedAt is recorded in batches, so a request with a known key
// writes nothing; its use still shows after the next flush.
func TestS4_LastUsedAtWithoutWritePerRequest(t *testing.T) {
	forEachDBWith(t, server.Config{UsageFlush: 100 * time.Millisecond}, func(t *testing.T, e *env) {
		a := e.newAccount("s4l", nil)
		r := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "ci"})
		key, secret := r.Get("data.createApiKey.apiKey.id").String(), r.Get("data.createApiKey.secret").String()
		const use = `query($a: ID!) { viewer { kind id } authorize(input: {accountId: $a, permission: "AgentChat"}) { allowed } }`
		vars := map[string]any{"a": a.ID}
		e.ok(secret, use, vars) // warm-up: the key's index entry and the account's model
		first := e.keyLastUsed(a.Owner, key, time.Time{})
		time.Sleep(20 * time.Millisecond)
		r, n := e.statementsOf(secret, use, vars)
		if r.Get("data.viewer.id").String() != key || !r.Get("data.authorize.allowed").Bool() {
			t.Fatalf("the key's request: %s", r)
		}
		t.Logf("%s: warm request with an API key → %d SQL statements", e.Dialect, n)
		if n != 0 {
			t.Fatalf("a warm request with an API key sent %d SQL statements, want none (lastUsedAt is batched)", n)
		}
		if later := e.keyLastUsed(a.Owner, key, first); !later.After(first) {
			t.Fatalf("lastUsedAt %s did not move past %s", later, first)
		}
	})
}

// S5: revoking a revoked key is a CONFLICT (ALREADY_REVOKED) that changes
// nothing and, being refused, writes no audit event (L1).
func TestS5_RevokeTwice(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("s5r", nil)
		key := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "ci"}).Get("data.createApiKey.apiKey.id").String()
		revokedAt := e.ok(a.Owner, revokeKey, map[string]any{"id": key}).Get("data.revokeApiKey.apiKey.revokedAt").String()
		if revokedAt == "" {
			t.Fatal("setup: no revokedAt")
		}
		before := e.auditCount(a.ID, "apikey.revoked")
		if before != 1 {
			t.Fatalf("apikey.revoked events after one revocation: %d", before)
		}
		r := e.fails("CONFLICT", a.Owner, revokeKey, map[string]any{"id": key})
		if got := r.Get("errors.0.extensions.reason").String(); got != "ALREADY_REVOKED" {
			t.Fatalf("reason %q, want ALREADY_REVOKED: %s", got, r)
		}
		if r.Get("data.revokeApiKey").Type != gjson.Null {
			t.Fatalf("a refused revocation returned a key: %s", r)
		}
		if after := e.auditCount(a.ID, "apikey.revoked"); after != before {
			t.Fatalf("apikey.revoked events: %d before the second revocation, %d after", before, after)
		}
		got := e.ok(a.Owner, `query($id: ID!) { node(id: $id) { ... on ApiKey { status revokedAt } } }`, map[string]any{"id": key})
		if got.Get("data.node.status").String() != "REVOKED" || got.Get("data.node.revokedAt").String() != revokedAt {
			t.Fatalf("the second revocation changed the key: %s (first revokedAt %s)", got, revokedAt)
		}
	})
}
