package apitest

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The decision consistency test (D1 with K3–K7, M1, M5, S2, S3, D3): for
// randomly generated accounts — a catalog with wildcards and implications
// (also onto iam.*), random master lists, custom and constrained roles,
// members holding several roles in several accounts, an invited member, and
// API keys minted for members — every subject's answers agree across views:
//
//  1. authorize(accountId, subject, permission, resource), asked by the
//     operator, and the same batch through authorizeMany (and viewer.can,
//     asked by the subject itself);
//  2. the permission lists: Member.effectivePermissions (read with the
//     holder's Role.effectivePermissions and constraints) and
//     ApiKey.permissions — and an independent model of SPEC §2/§4/§6 kept by
//     this test;
//  3. what @hasPermission actually lets the subject read with its own
//     credentials (JWT or key secret).
//
// It checks once after building the accounts, and again after a round of
// changes (role edits, role assignments, master-list removals, suspension,
// removal, the invited member's first sign-in).
//
// GATEHOUSE_CONSISTENCY_SEED picks another random model (the default is
// fixed); GATEHOUSE_CONSISTENCY_ACCOUNTS sets how many accounts (default 3).

const (
	consMembersPerAccount = 6 // besides the owner and the invited newcomer
	consKeysPerAccount    = 2
	consMaxFailures       = 40 // reported in detail; later ones are only counted
	consBatch             = 25 // questions per request (GATEHOUSE_MAX_ALIASES is 30)
	consUnknownKey        = "unknown.never_defined"
	consNewcomer          = "newcomer@cons.test"
)

// consGuarded maps the built-in permissions that gate Account fields to a
// query reading that field.
var consGuarded = []struct{ perm, field string }{
	{"iam.members.read", "members"},
	{"iam.roles.read", "roles"},
	{"iam.permissions.read", "permissions"},
	{"iam.keys.read", "apiKeys"},
	{"iam.audit.read", "auditEvents"},
}

// consPerm is a catalog entry as the model needs it.
type consPerm struct {
	key     string
	mask    bool
	implies []string
}

type consRole struct {
	id, key     string
	system      bool
	grants      []string            // sorted, unique (custom roles)
	excludes    []string            // default_access: the account's defaultAccessExcludes
	constraints map[string][]string // nil when unconstrained
}

type consMember struct {
	id, email string
	status    string // ACTIVE, INVITED, SUSPENDED, REMOVED
	owner     bool
	roles     []*consRole
}

type consKey struct {
	id, secret string
	member     *consMember
	snapshot   []string // the concrete keys resolved at creation (S3)
	revoked    bool
}

type consAccount struct {
	id, slug string
	master   map[string]bool
	excludes []string
	roles    []*consRole
	members  []*consMember
	keys     []*consKey
}

// consWorld is the generated model and the expected state of the server.
type consWorld struct {
	t        *testing.T
	e        *env
	seed     uint64
	rng      *rand.Rand
	catalog  map[string]consPerm
	areas    []string // wildcard patterns of the catalog's areas
	wildPool []string // wildcards roles may grant
	universe []string // every permission asked about
	accounts []*consAccount
	phase    string

	checks, decisions, enforced, failures int
	coverage                              map[string]int
}

func consEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func TestD1_DecisionsAgreeWithPermissionListsAndEnforcement(t *testing.T) {
	seed := uint64(20261123)
	if v, err := strconv.ParseUint(os.Getenv("GATEHOUSE_CONSISTENCY_SEED"), 10, 64); err == nil {
		seed = v
	}
	accounts := consEnvInt("GATEHOUSE_CONSISTENCY_ACCOUNTS", 3)
	forEachDB(t, func(t *testing.T, e *env) {
		start := time.Now()
		w := &consWorld{phase: "building", t: t, e: e, seed: seed, rng: rand.New(rand.NewPCG(seed, 0x9a7e)), coverage: map[string]int{}}
		w.defineCatalog()
		for n := range accounts {
			w.buildAccount(n, accounts)
		}
		subjects := 0
		for _, a := range w.accounts {
			subjects += len(a.members) + len(a.keys)
		}
		w.verify("initial")
		w.change()
		w.verify("after changes")
		t.Logf("%s, seed %d: %d accounts, %d subjects (%d users), %d permissions, %d checks "+
			"(%d decisions, %d enforcements) in %s; coverage %v",
			e.Dialect, seed, accounts, subjects, w.users(), len(w.universe), w.checks, w.decisions, w.enforced,
			time.Since(start).Round(time.Millisecond), w.coverage)
		if w.failures > 0 {
			t.Fatalf("%d disagreements (seed %d; GATEHOUSE_CONSISTENCY_SEED=%d GATEHOUSE_CONSISTENCY_ACCOUNTS=%d reproduces)",
				w.failures, seed, seed, accounts)
		}
	})
}

// fail records a disagreement; the first consMaxFailures are reported.
func (w *consWorld) fail(format string, args ...any) {
	w.t.Helper()
	w.failures++
	if w.failures <= consMaxFailures {
		w.t.Errorf("[%s, seed %d, %s] %s", w.e.Dialect, w.seed, w.phase, fmt.Sprintf(format, args...))
	}
}

func (w *consWorld) users() int {
	seen := map[string]bool{}
	for _, a := range w.accounts {
		for _, m := range a.members {
			seen[m.email] = true
		}
	}
	return len(seen)
}

// ---------------------------------------------------------------------------
// Generation, through the API with the operator key.

func (w *consWorld) chance(p float64) bool { return w.rng.Float64() < p }

// defineCatalog defines a random catalog: five areas (both separators, keys
// at several depths), prefix and separator traps, product keys implying
// areas and iam.* built-ins (transitively), a cycle, random implications, a
// deny mask and a key no master list holds.
func (w *consWorld) defineCatalog() {
	w.catalog = map[string]consPerm{}
	for _, b := range builtinPermissions {
		w.catalog[b] = consPerm{key: b, implies: builtinImplies[b]}
	}
	var defs []map[string]any
	add := func(key string, mask bool, implies ...string) {
		w.catalog[key] = consPerm{key: key, mask: mask, implies: implies}
		d := map[string]any{"key": key, "group": "Consistency"}
		if mask {
			d["kind"] = "DENY_MASK"
		}
		if len(implies) > 0 {
			d["implies"] = implies
		}
		defs = append(defs, d)
	}
	words := []string{"flows", "read", "create", "send", "docs", "mint", "revoke", "approve", "export", "bg"}
	var areaKeys []string
	for _, ar := range []struct{ name, sep string }{{"idn", "."}, {"val", "."}, {"att", ":"}, {"chk", "."}, {"gov", ":"}} {
		w.areas = append(w.areas, ar.name+ar.sep+"*")
		n := 2 + w.rng.IntN(2)
		for _, i := range w.rng.Perm(len(words))[:n] {
			k := ar.name + ar.sep + words[i]
			if w.chance(0.35) {
				k += "." + words[w.rng.IntN(len(words))] // deeper: wildcards match at any depth
			}
			areaKeys = append(areaKeys, k)
		}
	}
	slices.Sort(areaKeys)
	areaKeys = slices.Compact(areaKeys)
	for _, k := range areaKeys {
		var imp []string
		if w.chance(0.2) {
			if w.chance(0.5) {
				imp = []string{w.areas[w.rng.IntN(len(w.areas))]}
			} else {
				imp = []string{areaKeys[w.rng.IntN(len(areaKeys))]}
			}
		}
		add(k, false, imp...)
	}
	add("AgentChat", false)
	add("view_duplicates", false)
	add("idnx.other", false) // idn.* must not match it
	add("att.legacy", false) // att:* must not match it
	add("prod.all", false, "idn.*", "val.*")
	add("prod.people", false, "iam.members.*")
	add("prod.roles", false, "iam.roles.*", "iam.permissions.read")
	add("prod.audit", false, "iam.audit.read", "iam.keys.read")
	add("prod.super", false, "prod.all", "prod.people") // transitive
	add("att:all", false, "att:*")
	add("cyc.a", false, "cyc.b")
	add("cyc.b", false, "cyc.a", "chk.*") // a harmless cycle
	add("mask:member.email", true)
	add("outside.never", false) // in the catalog, in no master list
	w.e.ok(w.e.Operator, defineCatalog, map[string]any{"p": defs})

	w.wildPool = append(slices.Clone(w.areas), "prod.*", "cyc.*", "iam.*", "iam.members.*", "iam.roles.*", "iam.keys.*", "att.*")
	for k := range w.catalog {
		w.universe = append(w.universe, k)
	}
	w.universe = append(w.universe, consUnknownKey)
	sort.Strings(w.universe)
}

// buildAccount creates account n with a random master list, roles, members
// and keys.
func (w *consWorld) buildAccount(n, total int) {
	a := &consAccount{slug: fmt.Sprintf("cons-%d", n), master: map[string]bool{}}
	// Master list: area wildcards or some of their keys, most other keys.
	var input []string
	for _, area := range w.areas {
		if w.chance(0.25) {
			input = append(input, area)
			continue
		}
		for _, k := range w.catalogKeys() {
			if consMatch(area, k) && w.chance(0.8) {
				input = append(input, k)
			}
		}
	}
	for _, k := range w.catalogKeys() {
		if k == "outside.never" || strings.HasPrefix(k, "iam.") || slices.ContainsFunc(w.areas, func(ar string) bool { return consMatch(ar, k) }) {
			continue
		}
		if w.chance(0.8) {
			input = append(input, k)
		}
	}
	for _, b := range builtinPermissions {
		a.master[b] = true
	}
	for _, p := range input {
		if !consIsWildcard(p) {
			a.master[p] = true
			continue
		}
		for _, k := range w.catalogKeys() {
			if !w.catalog[k].mask && consMatch(p, k) {
				a.master[k] = true
			}
		}
	}
	a.excludes = []string{"iam.*"}
	if w.chance(0.4) {
		a.excludes = append(a.excludes, w.areas[w.rng.IntN(len(w.areas))])
	}
	owner := fmt.Sprintf("owner-%d@cons.test", n)
	r := w.e.ok(w.e.Operator, `mutation($in: CreateAccountInput!) { createAccount(input: $in) {
		account { id roles { edges { node { id key } } } } owner { id status } } }`,
		map[string]any{"in": map[string]any{
			"name": "Consistency " + a.slug, "slug": a.slug, "permissions": input,
			"settings": map[string]any{"roleAssignment": "MULTIPLE", "defaultAccessExcludes": a.excludes},
			"features": map[string]any{"customRoles": true, "resourceConstraints": true},
			"owner":    map[string]any{"email": owner, "name": "Owner"},
		}})
	a.id = r.Get("data.createAccount.account.id").String()
	var full, def *consRole
	for _, node := range r.Get("data.createAccount.account.roles.edges.#.node").Array() {
		role := &consRole{id: node.Get("id").String(), key: node.Get("key").String(), system: true, grants: []string{"*"}}
		switch role.key {
		case "full_access":
			full = role
		case "default_access":
			def, role.excludes = role, a.excludes
		default:
			w.t.Fatalf("unexpected role %s in a new account without template", role.key)
		}
		a.roles = append(a.roles, role)
	}
	if full == nil || def == nil {
		w.t.Fatalf("system roles missing: %s", r)
	}
	a.members = append(a.members, &consMember{id: r.Get("data.createAccount.owner.id").String(), email: owner,
		status: "ACTIVE", owner: true, roles: []*consRole{full}})
	w.accounts = append(w.accounts, a)

	// Custom roles: two open, one constrained by region, one by region and tier.
	var custom []*consRole
	for i := range 4 {
		grants := w.randomGrants(a)
		if i == 2 { // make sure a constrained role gates a guarded field
			opts := []string{"iam.members.read", "iam.audit.read", "iam.roles.read"}
			for _, k := range []string{"prod.people", "prod.audit", "prod.roles"} {
				if a.master[k] {
					opts = append(opts, k)
				}
			}
			grants = consSet(append(grants, opts[w.rng.IntN(len(opts))]))
		}
		var cons map[string][]string
		if i >= 2 {
			cons = map[string][]string{"region": w.someOf([]string{"eu", "us", "apac"})}
			if i == 3 {
				cons["tier"] = []string{"gold"}
			}
		}
		role := &consRole{key: fmt.Sprintf("cons_role_%d", i), grants: grants, constraints: cons}
		in := map[string]any{"accountId": a.id, "key": role.key, "name": fmt.Sprintf("Cons role %d", i), "grants": grants}
		if cons != nil {
			in["constraints"] = consConstraintInput(cons)
		}
		role.id = w.e.ok(w.e.Operator, `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id } } }`,
			map[string]any{"in": in}).Get("data.createRole.role.id").String()
		custom = append(custom, role)
		a.roles = append(a.roles, role)
	}
	assignable := append(slices.Clone(custom), def)

	// Members: users of a shared pool, so that users are members of several
	// accounts, each with one to three roles (sometimes full_access too).
	pool := max(consMembersPerAccount+2, total*consMembersPerAccount*2/3)
	for _, u := range w.rng.Perm(pool)[:consMembersPerAccount] {
		m := &consMember{email: fmt.Sprintf("user-%d@cons.test", u), status: "ACTIVE", roles: w.someRoles(assignable)}
		if w.chance(0.1) {
			m.roles = append(m.roles, full)
		}
		m.id = w.addMember(a, m, false)
		a.members = append(a.members, m)
	}
	// The newcomer is invited to every account: no permissions until they sign in.
	nc := &consMember{email: consNewcomer, status: "INVITED", roles: w.someRoles(assignable)}
	nc.id = w.addMember(a, nc, true)
	a.members = append(a.members, nc)

	// Keys, minted by the operator for active members within what they hold
	// unconstrained, read back from the API.
	refused := false
	for range consKeysPerAccount {
		var candidates []*consMember
		for _, m := range a.members {
			if m.status == "ACTIVE" {
				candidates = append(candidates, m)
			}
		}
		m := candidates[w.rng.IntN(len(candidates))]
		open, all := w.apiMemberLists(m)
		if wantOpen := w.memberOpen(a, m); !slices.Equal(open, wantOpen) {
			w.fail("%s %s: before minting, unconstrained permissions read from the API %v, model %v", a.slug, m.email, open, wantOpen)
		}
		// S2: a permission held only through a constrained role is refused.
		if !refused {
			if only := consMinus(all, open); len(only) > 0 {
				refused = true
				p := only[w.rng.IntN(len(only))]
				r := w.e.gql(w.e.Operator, consCreateKey, map[string]any{"in": map[string]any{
					"accountId": a.id, "name": "refused", "memberId": m.id, "permissions": []string{p}}})
				w.checks++
				w.coverage["refused constrained-only key"]++
				missing := gjsonStrings(r.Get("errors.0.extensions.missingPermissions").Array())
				if r.Code() != "FORBIDDEN" || !slices.Contains(missing, p) {
					w.fail("%s: a key for %s asking %s, which they hold only through a constrained role, must be FORBIDDEN naming it: %s",
						a.slug, m.email, p, r)
				}
			}
		}
		in := map[string]any{"accountId": a.id, "name": "cons key", "memberId": m.id}
		k := &consKey{member: m}
		if w.rng.IntN(4) == 0 {
			k.snapshot = open // neither scopes nor permissions: everything the member holds unconstrained
		} else {
			want := []string{}
			for _, p := range open {
				if w.chance(0.5) {
					want = append(want, p)
				}
			}
			if w.chance(0.35) { // a wildcard the member holds in full
				for _, i := range w.rng.Perm(len(w.wildPool)) {
					if got := w.closure(a, []string{w.wildPool[i]}, nil); len(got) > 0 && len(consMinus(consKeys(got), open)) == 0 {
						want = append(want, w.wildPool[i])
						break
					}
				}
			}
			in["permissions"] = want
			// What it asks for, through implications, as far as the member
			// holds it — all of it, as the request lies within open.
			asked := consKeys(w.closure(a, want, nil))
			k.snapshot = consMinus(asked, consMinus(asked, open))
		}
		r := w.e.gql(w.e.Operator, consCreateKey, map[string]any{"in": in})
		w.checks++
		if r.Get("errors").Exists() {
			w.fail("%s: S2: a key for %s asking %v — within the unconstrained permissions %v read back from the API, "+
				"and a key without permissions would get all of them — was refused: %s", a.slug, m.email, in["permissions"], open, r)
			continue
		}
		k.id, k.secret = r.Get("data.createApiKey.apiKey.id").String(), r.Get("data.createApiKey.secret").String()
		a.keys = append(a.keys, k)
	}
}

const consCreateKey = `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { apiKey { id } secret } }`

func (w *consWorld) addMember(a *consAccount, m *consMember, invite bool) string {
	ids := make([]string, len(m.roles))
	for i, r := range m.roles {
		ids[i] = r.id
	}
	r := w.e.ok(w.e.Operator, `mutation($in: AddMemberInput!) { addMember(input: $in) { member { id status } } }`,
		map[string]any{"in": map[string]any{"accountId": a.id, "email": m.email, "roleIds": ids, "invite": invite}})
	if got := r.Get("data.addMember.member.status").String(); got != m.status {
		w.fail("%s: %s added with status %s, want %s", a.slug, m.email, got, m.status)
	}
	return r.Get("data.addMember.member.id").String()
}

// randomGrants draws grants valid for the account's master list (R5): keys
// of the master list (deny masks included: the operator may grant them) and
// wildcards.
func (w *consWorld) randomGrants(a *consAccount) []string {
	var g []string
	for _, k := range consKeys(a.master) {
		p := 0.15
		if strings.HasPrefix(k, "iam.") {
			p = 0.1
		}
		if w.chance(p) {
			g = append(g, k)
		}
	}
	for _, p := range w.wildPool {
		if w.chance(0.1) {
			g = append(g, p)
		}
	}
	if w.chance(0.03) {
		g = append(g, "*")
	}
	return consSet(g)
}

func (w *consWorld) someRoles(from []*consRole) []*consRole {
	n := 1 + w.rng.IntN(3)
	var out []*consRole
	for _, i := range w.rng.Perm(len(from))[:n] {
		out = append(out, from[i])
	}
	return out
}

func (w *consWorld) someOf(values []string) []string {
	var out []string
	for _, i := range w.rng.Perm(len(values))[:1+w.rng.IntN(len(values))] {
		out = append(out, values[i])
	}
	slices.Sort(out)
	return out
}

func (w *consWorld) catalogKeys() []string { return consKeys(consMapOf(w.catalog)) }

// apiMemberLists reads a member's roles back: the union of its unconstrained
// roles' effectivePermissions, and its effectivePermissions.
func (w *consWorld) apiMemberLists(m *consMember) (open, all []string) {
	r := w.e.ok(w.e.Operator, `query($id: ID!) { node(id: $id) { ... on Member {
		effectivePermissions roles { constraints { attribute } effectivePermissions } } } }`, map[string]any{"id": m.id})
	set := map[string]bool{}
	for _, role := range r.Get("data.node.roles").Array() {
		if len(role.Get("constraints").Array()) == 0 {
			for _, p := range role.Get("effectivePermissions").Array() {
				set[p.String()] = true
			}
		}
	}
	return consKeys(set), gjsonStrings(r.Get("data.node.effectivePermissions").Array())
}

// ---------------------------------------------------------------------------
// Changes: a round of edits after which every view must agree again.

func (w *consWorld) change() {
	// The newcomer signs in: every invited membership becomes ACTIVE (M1).
	w.e.ok(userToken(w.t, consNewcomer), `{ viewer { user { email } } }`, nil)
	for _, a := range w.accounts {
		for _, m := range a.members {
			if m.email == consNewcomer {
				m.status = "ACTIVE"
			}
		}
	}
	for _, a := range w.accounts {
		var custom, assignable []*consRole
		for _, r := range a.roles {
			if !r.system {
				custom = append(custom, r)
			}
			if !r.system || r.key == "default_access" {
				assignable = append(assignable, r)
			}
		}
		// R4: add and remove grants, and sometimes add or drop constraints.
		role := custom[w.rng.IntN(len(custom))]
		add := consMinus(w.randomGrants(a), role.grants)
		if len(add) > 2 {
			add = add[:2]
		}
		var remove []string
		if len(role.grants) > 0 {
			remove = []string{role.grants[w.rng.IntN(len(role.grants))]}
		}
		in := map[string]any{"roleId": role.id, "expectedVersion": w.roleVersion(role), "addGrants": add, "removeGrants": remove}
		switch {
		case role.constraints != nil && w.chance(0.5):
			role.constraints = nil
			in["constraints"] = []any{}
		case role.constraints == nil && w.chance(0.5):
			role.constraints = map[string][]string{"region": w.someOf([]string{"eu", "us", "apac"})}
			in["constraints"] = consConstraintInput(role.constraints)
		}
		w.e.ok(w.e.Operator, `mutation($in: UpdateRoleInput!) { updateRole(input: $in) { role { version } } }`, map[string]any{"in": in})
		role.grants = consMinus(consSet(append(role.grants, add...)), remove)

		// Three different ordinary members: one gets new roles, one is
		// suspended, one removed — key holders first (M5).
		var ordinary []*consMember
		for _, m := range a.members {
			if !m.owner && m.email != consNewcomer && m.status == "ACTIVE" {
				ordinary = append(ordinary, m)
			}
		}
		w.rng.Shuffle(len(ordinary), func(i, j int) { ordinary[i], ordinary[j] = ordinary[j], ordinary[i] })
		slices.SortStableFunc(ordinary, func(x, y *consMember) int { return w.keysOf(a, y) - w.keysOf(a, x) })
		suspended, removed, reassigned := ordinary[0], ordinary[1], ordinary[2]
		reassigned.roles = w.someRoles(assignable)
		ids := []string{}
		for _, r := range reassigned.roles {
			ids = append(ids, r.id)
		}
		w.e.ok(w.e.Operator, `mutation($in: SetMemberRolesInput!) { setMemberRoles(input: $in) { member { id } } }`,
			map[string]any{"in": map[string]any{"memberId": reassigned.id, "roleIds": ids}})
		w.e.ok(w.e.Operator, `mutation($id: ID!) { suspendMember(input: {memberId: $id}) { member { id } } }`, map[string]any{"id": suspended.id})
		suspended.status = "SUSPENDED"
		w.e.ok(w.e.Operator, `mutation($id: ID!) { removeMember(input: {memberId: $id}) { member { id } } }`, map[string]any{"id": removed.id})
		removed.status = "REMOVED"
		for _, k := range a.keys {
			if k.member == removed {
				k.revoked = true
			}
		}

		// A4/K5: remove keys from the master list — one a key holds, if any,
		// and one at random; concrete grants go, wildcards stay.
		var held, other []string
		for _, k := range a.keys {
			for _, p := range k.snapshot {
				if a.master[p] && !strings.HasPrefix(p, "iam.") {
					held = append(held, p)
				}
			}
		}
		for _, p := range consKeys(a.master) {
			if !strings.HasPrefix(p, "iam.") && !w.catalog[p].mask {
				other = append(other, p)
			}
		}
		var drop []string
		if len(held) > 0 {
			drop = append(drop, held[w.rng.IntN(len(held))])
		}
		if len(other) > 0 {
			drop = append(drop, other[w.rng.IntN(len(other))])
		}
		drop = consSet(drop)
		if len(drop) > 0 {
			w.e.ok(w.e.Operator, `mutation($in: AccountPermissionsInput!) { removeAccountPermissions(input: $in) { account { id } } }`,
				map[string]any{"in": map[string]any{"accountId": a.id, "permissions": drop}})
			for _, p := range drop {
				delete(a.master, p)
			}
			for _, r := range custom {
				r.grants = consMinus(r.grants, drop)
			}
		}
	}
}

func (w *consWorld) roleVersion(r *consRole) int64 {
	return w.e.ok(w.e.Operator, `query($id: ID!) { node(id: $id) { ... on Role { version } } }`,
		map[string]any{"id": r.id}).Get("data.node.version").Int()
}

func (w *consWorld) keysOf(a *consAccount, m *consMember) int {
	n := 0
	for _, k := range a.keys {
		if k.member == m {
			n++
		}
	}
	return n
}

// ---------------------------------------------------------------------------
// Verification.

// consSubject is a member or a key with what the API lists for it.
type consSubject struct {
	label   string
	input   map[string]any // SubjectInput
	cred    string         // its own credential
	working bool           // an ACTIVE member or a working key
	invited bool
	key     bool
	revoked bool                // a key revoked (by hand or with its member)
	list    []string            // effectivePermissions or ApiKey.permissions, as the API says
	open    map[string]bool     // what applies to every resource, from the API's role lists
	cons    []*consRole         // constrained roles held (API constraints)
	lists   map[string][]string // role id → the API's Role.effectivePermissions
	grants  map[string][]string // role key → the API's Role.grants
}

func (w *consWorld) verify(phase string) {
	w.phase = phase
	for _, a := range w.accounts {
		w.verifyMaster(a)
		lists, apiRoles := w.verifyRoles(a)
		variants := w.variants(a)
		var subs []*consSubject
		for _, m := range a.members {
			subs = append(subs, w.memberSubject(a, m, lists, apiRoles))
		}
		for _, k := range a.keys {
			subs = append(subs, w.keySubject(a, k))
		}
		for _, s := range subs {
			bare := w.verifyDecisions(a, s, variants)
			w.verifySelf(a, s, bare)
			w.verifyEnforcement(a, s, bare)
		}
	}
}

// verifyMaster compares the account's master list with the model.
func (w *consWorld) verifyMaster(a *consAccount) {
	var got []string
	after := any(nil)
	for {
		r := w.e.ok(w.e.Operator, `query($id: ID!, $after: Cursor) { account(id: $id) {
			permissions(first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { key } } } } }`,
			map[string]any{"id": a.id, "after": after})
		got = append(got, gjsonStrings(r.Get("data.account.permissions.edges.#.node.key").Array())...)
		if !r.Get("data.account.permissions.pageInfo.hasNextPage").Bool() {
			break
		}
		after = r.Get("data.account.permissions.pageInfo.endCursor").String()
	}
	w.checks++
	if got, want := consSet(got), consKeys(a.master); !slices.Equal(got, want) {
		w.fail("%s: master list %v, model %v", a.slug, got, want)
	}
}

// verifyRoles compares every role's grants, constraints and
// effectivePermissions with the model, and returns the API's lists by role id
// and the roles as the API describes them.
func (w *consWorld) verifyRoles(a *consAccount) (map[string][]string, map[string]*consRole) {
	ids := make([]string, len(a.roles))
	for i, r := range a.roles {
		ids[i] = r.id
	}
	r := w.e.ok(w.e.Operator, `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Role {
		id key grants constraints { attribute values } effectivePermissions } } }`, map[string]any{"ids": ids})
	lists := map[string][]string{}
	api := map[string]*consRole{}
	for i, n := range r.Get("data.nodes").Array() {
		role := a.roles[i]
		got := &consRole{id: n.Get("id").String(), key: n.Get("key").String(), grants: gjsonStrings(n.Get("grants").Array())}
		for _, c := range n.Get("constraints").Array() {
			if got.constraints == nil {
				got.constraints = map[string][]string{}
			}
			got.constraints[c.Get("attribute").String()] = consSet(gjsonStrings(c.Get("values").Array()))
		}
		list := gjsonStrings(n.Get("effectivePermissions").Array())
		lists[got.id], api[got.id] = list, got
		w.checks++
		if got.id != role.id {
			w.fail("%s: nodes returned %s for %s", a.slug, got.id, role.id)
			continue
		}
		if !role.system && !slices.Equal(consSet(got.grants), role.grants) {
			w.fail("%s role %s: grants %v, model %v", a.slug, role.key, got.grants, role.grants)
		}
		if fmt.Sprint(got.constraints) != fmt.Sprint(role.constraints) {
			w.fail("%s role %s: constraints %v, model %v", a.slug, role.key, got.constraints, role.constraints)
		}
		if want := consKeys(w.closure(a, role.grants, role.excludes)); !slices.Equal(consSet(list), want) {
			w.fail("%s role %s (grants %v): effectivePermissions %v, model %v (missing %v, extra %v)", a.slug, role.key,
				role.grants, list, want, consMinus(want, list), consMinus(list, want))
		}
	}
	return lists, api
}

func (w *consWorld) memberSubject(a *consAccount, m *consMember, lists map[string][]string, api map[string]*consRole) *consSubject {
	s := &consSubject{label: fmt.Sprintf("%s member %s (%s, %s)", a.slug, m.id, m.email, m.status),
		input: map[string]any{"memberId": m.id}, cred: userToken(w.t, m.email),
		working: m.status == "ACTIVE", invited: m.status == "INVITED", open: map[string]bool{},
		lists: lists, grants: map[string][]string{}}
	r := w.e.ok(w.e.Operator, `query($id: ID!) { node(id: $id) { ... on Member { status effectivePermissions roles { id key } } } }`,
		map[string]any{"id": m.id})
	s.list = gjsonStrings(r.Get("data.node.effectivePermissions").Array())
	held := gjsonStrings(r.Get("data.node.roles.#.id").Array())
	w.checks++
	if got := r.Get("data.node.status").String(); got != m.status {
		w.fail("%s: status %s", s.label, got)
	}
	var want []string
	for _, role := range m.roles {
		want = append(want, role.id)
	}
	if m.status != "REMOVED" && !slices.Equal(consSet(held), consSet(want)) {
		w.fail("%s: roles %v, model %v", s.label, held, want)
	}
	// The member's list is the union of its roles' lists, for ACTIVE members only (M1).
	union := map[string]bool{}
	if s.working {
		for _, id := range held {
			for _, p := range lists[id] {
				union[p] = true
			}
			role := api[id]
			if role == nil {
				w.fail("%s: holds role %s, which the account does not list", s.label, id)
				continue
			}
			s.grants[role.key] = role.grants
			if role.constraints == nil {
				for _, p := range lists[id] {
					s.open[p] = true
				}
			} else {
				s.cons = append(s.cons, role)
			}
		}
	}
	if !slices.Equal(consSet(s.list), consKeys(union)) {
		w.fail("%s: effectivePermissions %v are not the union of its roles' %v", s.label, s.list, consKeys(union))
	}
	if wantList := consKeys(w.memberAll(a, m)); !slices.Equal(consSet(s.list), wantList) {
		w.fail("%s: effectivePermissions %v, model %v", s.label, s.list, wantList)
	}
	return s
}

func (w *consWorld) keySubject(a *consAccount, k *consKey) *consSubject {
	status := "ACTIVE"
	switch {
	case k.revoked || k.member.status == "REMOVED":
		status = "REVOKED"
	case k.member.status != "ACTIVE":
		status = "INACTIVE"
	}
	s := &consSubject{label: fmt.Sprintf("%s key %s (of %s, %s)", a.slug, k.id, k.member.email, status),
		input: map[string]any{"apiKeyId": k.id}, cred: k.secret, working: status == "ACTIVE", key: true,
		revoked: status == "REVOKED", open: map[string]bool{}}
	r := w.e.ok(w.e.Operator, `query($id: ID!) { node(id: $id) { ... on ApiKey { status permissions member { id } } } }`,
		map[string]any{"id": k.id})
	s.list = gjsonStrings(r.Get("data.node.permissions").Array())
	w.checks++
	if got := r.Get("data.node.status").String(); got != status {
		w.fail("%s: status %s", s.label, got)
	}
	if got := r.Get("data.node.member.id").String(); got != k.member.id {
		w.fail("%s: member %q", s.label, got)
	}
	// S3 and K5: the snapshot, as far as the master list still allows.
	var want []string
	for _, p := range k.snapshot {
		if a.master[p] {
			want = append(want, p)
		}
	}
	if !slices.Equal(consSet(s.list), consSet(want)) {
		w.fail("%s: permissions %v, model %v (snapshot %v)", s.label, s.list, consSet(want), k.snapshot)
	}
	if s.working {
		for _, p := range s.list {
			s.open[p] = true
		}
	}
	return s
}

// consVariant is a resource a decision is asked about.
type consVariant struct {
	name string
	res  map[string]string // nil: no resource
}

// variants: no resource, and for each constrained role of the account a
// resource meeting its constraints, one with a wrong value and one missing
// an attribute (D3).
func (w *consWorld) variants(a *consAccount) []consVariant {
	out := []consVariant{{name: "no resource"}}
	seen := map[string]bool{"": true}
	addV := func(res map[string]string) {
		v := consVariant{res: res, name: consResName(res)}
		if !seen[v.name] {
			seen[v.name] = true
			out = append(out, v)
		}
	}
	for _, r := range a.roles {
		if r.constraints == nil {
			continue
		}
		match := map[string]string{"unrelated": "x"}
		attrs := consKeys(consMapOf(r.constraints))
		for _, attr := range attrs {
			match[attr] = r.constraints[attr][w.rng.IntN(len(r.constraints[attr]))]
		}
		addV(match)
		wrong := maps.Clone(match)
		wrong[attrs[w.rng.IntN(len(attrs))]] = "elsewhere"
		addV(wrong)
		missing := maps.Clone(match)
		delete(missing, attrs[w.rng.IntN(len(attrs))])
		addV(missing)
	}
	return out
}

func consResName(res map[string]string) string {
	var parts []string
	for _, k := range consKeys(consMapOf(res)) {
		parts = append(parts, k+"="+res[k])
	}
	return strings.Join(parts, ",")
}

// consDecision is one answer of authorize.
type consDecision struct {
	allowed bool
	reason  string
	roleKey string
	grant   string
	chain   []string
	granted bool // grantedBy present
	raw     string
}

// ask asks authorize as cred about subject for every permission, in batches
// of aliased fields.
func (w *consWorld) ask(a *consAccount, subject map[string]any, res map[string]string) map[string]consDecision {
	var resource []map[string]any
	for _, k := range consKeys(consMapOf(res)) {
		resource = append(resource, map[string]any{"attribute": k, "value": res[k]})
	}
	out := map[string]consDecision{}
	for start := 0; start < len(w.universe); start += consBatch {
		perms := w.universe[start:min(start+consBatch, len(w.universe))]
		var q strings.Builder
		q.WriteString("query($a: ID!, $s: SubjectInput, $r: [ResourceAttributeInput!]")
		vars := map[string]any{"a": a.id, "s": subject, "r": resource}
		for i := range perms {
			fmt.Fprintf(&q, ", $p%d: String!", i)
		}
		q.WriteString(") {")
		for i, p := range perms {
			vars["p"+strconv.Itoa(i)] = p
			fmt.Fprintf(&q, " q%d: authorize(input: {accountId: $a, subject: $s, permission: $p%d, resource: $r}) "+
				"{ permission allowed reason grantedBy { roleKey grant chain } }", i, i)
		}
		q.WriteString(" }")
		r := w.e.ok(w.e.Operator, q.String(), vars)
		// D5: authorizeMany answers the same questions the same way, in order.
		inputs := make([]map[string]any, len(perms))
		for i, p := range perms {
			inputs[i] = map[string]any{"accountId": a.id, "subject": subject, "permission": p, "resource": resource}
		}
		many := w.e.ok(w.e.Operator, `query($in: [AuthorizeInput!]!) { authorizeMany(inputs: $in) `+
			`{ permission allowed reason grantedBy { roleKey grant chain } } }`, map[string]any{"in": inputs}).
			Get("data.authorizeMany").Array()
		if len(many) != len(perms) {
			w.fail("authorizeMany answered %d of %d checks", len(many), len(perms))
		}
		for i, p := range perms {
			d := r.Get("data.q" + strconv.Itoa(i))
			if d.Get("permission").String() != p {
				w.fail("authorize answered about %q when asked about %q", d.Get("permission").String(), p)
			}
			if i < len(many) && many[i].Raw != d.Raw {
				w.fail("%s: authorizeMany says %s, authorize says %s", p, many[i].Raw, d.Raw)
			}
			out[p] = consDecision{allowed: d.Get("allowed").Bool(), reason: d.Get("reason").String(),
				granted: d.Get("grantedBy").IsObject(), roleKey: d.Get("grantedBy.roleKey").String(),
				grant: d.Get("grantedBy.grant").String(), chain: gjsonStrings(d.Get("grantedBy.chain").Array()), raw: d.Raw}
		}
	}
	return out
}

// verifyDecisions checks view 1 against view 2 for every permission and
// resource variant, and returns the decisions without a resource.
func (w *consWorld) verifyDecisions(a *consAccount, s *consSubject, variants []consVariant) map[string]consDecision {
	var bare map[string]consDecision
	for _, v := range variants {
		ds := w.ask(a, s.input, v.res)
		if v.res == nil {
			bare = ds
		}
		for _, p := range w.universe {
			d := ds[p]
			w.checks++
			w.decisions++
			// What the lists say: open grants apply everywhere; a constrained
			// role's list applies where the resource meets its constraints.
			want, mismatch := s.open[p], false
			var applying []string
			for _, role := range s.cons {
				if slices.Contains(s.lists[role.id], p) {
					if consSatisfies(role.constraints, v.res) {
						want = true
						applying = append(applying, role.key)
					} else {
						mismatch = true
					}
				}
			}
			if s.working && want && !s.open[p] {
				w.coverage["allowed only through a constrained role"]++
			}
			if s.working && mismatch && !want {
				w.coverage["constraint mismatch"]++
			}
			inList := slices.Contains(s.list, p)
			if d.allowed != want {
				w.fail("%s, %s, %s: authorize says allowed=%v (%s), the lists say %v (in its list: %v, unconstrained: %v, constrained roles granting it here: %v)",
					s.label, p, v.name, d.allowed, d.raw, want, inList, s.open[p], applying)
				continue
			}
			if d.allowed && !inList {
				w.fail("%s, %s, %s: allowed but not in its permission list %v", s.label, p, v.name, s.list)
			}
			w.checkReason(a, s, p, v, d, want, mismatch)
		}
	}
	return bare
}

// checkReason checks the reason and grant path of a decision (D1–D3).
func (w *consWorld) checkReason(a *consAccount, s *consSubject, p string, v consVariant, d consDecision, allowed, mismatch bool) {
	_, known := w.catalog[p]
	var want []string
	switch {
	case !s.working:
		inactive := "SUBJECT_INACTIVE"
		if s.revoked {
			inactive = "KEY_REVOKED"
		}
		want = []string{inactive}
		if !known { // the order of these reasons is not specified
			want = append(want, "UNKNOWN_PERMISSION")
		} else if !a.master[p] {
			want = append(want, "NOT_IN_MASTER_LIST")
		}
	case !known:
		want = []string{"UNKNOWN_PERMISSION"}
	case !a.master[p]:
		want = []string{"NOT_IN_MASTER_LIST"}
	case allowed:
		want = []string{"GRANTED"}
	case mismatch:
		want = []string{"CONSTRAINT_MISMATCH"}
	default:
		want = []string{"NOT_GRANTED"}
	}
	if !slices.Contains(want, d.reason) {
		w.fail("%s, %s, %s: reason %s, want %v (%s)", s.label, p, v.name, d.reason, want, d.raw)
	}
	if d.granted != d.allowed {
		w.fail("%s, %s, %s: grantedBy present=%v but allowed=%v", s.label, p, v.name, d.granted, d.allowed)
	}
	if !d.allowed || !d.granted {
		return
	}
	if len(d.chain) == 0 || d.chain[len(d.chain)-1] != p || !consMatch(d.grant, d.chain[0]) {
		w.fail("%s, %s, %s: grant path %s does not lead from its grant to the permission", s.label, p, v.name, d.raw)
	}
	if s.key {
		if d.roleKey != "apikey" {
			w.fail("%s, %s: roleKey %q, want apikey", s.label, p, d.roleKey)
		}
		return
	}
	grants, held := s.grants[d.roleKey]
	if !held || !slices.Contains(grants, d.grant) {
		w.fail("%s, %s, %s: granted by role %s grant %s, which it does not hold (roles %v)", s.label, p, v.name, d.roleKey, d.grant, s.grants)
	}
	for _, role := range s.cons {
		if role.key == d.roleKey && !consSatisfies(role.constraints, v.res) {
			w.fail("%s, %s, %s: granted by constrained role %s whose constraints %v the resource does not meet",
				s.label, p, v.name, role.key, role.constraints)
		}
	}
}

// verifySelf asks the same questions as the subject itself (viewer.can) and,
// for users, reads viewer.memberships' effectivePermissions. Invited members
// are left out: signing in activates them.
func (w *consWorld) verifySelf(a *consAccount, s *consSubject, bare map[string]consDecision) {
	if s.invited || !s.working {
		return
	}
	for start := 0; start < len(w.universe); start += consBatch {
		perms := w.universe[start:min(start+consBatch, len(w.universe))]
		var q strings.Builder
		q.WriteString("query($a: ID!")
		vars := map[string]any{"a": a.id}
		for i := range perms {
			fmt.Fprintf(&q, ", $p%d: String!", i)
			vars["p"+strconv.Itoa(i)] = perms[i]
		}
		q.WriteString(") { viewer {")
		for i := range perms {
			fmt.Fprintf(&q, " c%d: can(accountId: $a, permission: $p%d) { allowed reason }", i, i)
		}
		q.WriteString(" } }")
		r := w.e.gql(s.cred, q.String(), vars)
		if r.Get("errors").Exists() {
			w.fail("%s: viewer.can with its own credentials failed: %s", s.label, r)
			return
		}
		for i, p := range perms {
			w.checks++
			d := r.Get("data.viewer.c" + strconv.Itoa(i))
			if d.Get("allowed").Bool() != bare[p].allowed || d.Get("reason").String() != bare[p].reason {
				w.fail("%s, %s: viewer.can says %s, authorize by the operator %s", s.label, p, d.Raw, bare[p].raw)
			}
		}
	}
	if s.key {
		return
	}
	r := w.e.ok(s.cred, `{ viewer { memberships { account { id } status effectivePermissions } } }`, nil)
	w.checks++
	found := false
	for _, m := range r.Get("data.viewer.memberships").Array() {
		if m.Get("account.id").String() != a.id {
			continue
		}
		found = true
		if got := gjsonStrings(m.Get("effectivePermissions").Array()); !slices.Equal(consSet(got), consSet(s.list)) {
			w.fail("%s: viewer.memberships says %v, Member.effectivePermissions %v", s.label, got, s.list)
		}
	}
	if !found {
		w.fail("%s: the account is missing from viewer.memberships: %s", s.label, r)
	}
}

// verifyEnforcement reads each guarded field with the subject's own
// credentials: it succeeds iff authorize allowed the permission without a
// resource, and is FORBIDDEN otherwise. Subjects that do not work are shut
// out: members cannot see the account (NOT_FOUND; FORBIDDEN accepted),
// keys are UNAUTHENTICATED (S5, M5). Invited members are left out: signing
// in activates them.
func (w *consWorld) verifyEnforcement(a *consAccount, s *consSubject, bare map[string]consDecision) {
	if s.invited {
		return
	}
	for _, g := range consGuarded {
		q := fmt.Sprintf(`query($id: ID!) { account(id: $id) { %s { totalCount } } }`, g.field)
		r := w.e.gql(s.cred, q, map[string]any{"id": a.id})
		w.checks++
		w.enforced++
		ok := !r.Get("errors").Exists() && r.Get("data.account."+g.field+".totalCount").Exists()
		switch {
		case !s.working && s.key:
			if r.Status != 401 || r.Code() != "UNAUTHENTICATED" {
				w.fail("%s: a key that does not work read %s: %s", s.label, g.field, r)
			}
		case !s.working:
			if ok || (r.Code() != "NOT_FOUND" && r.Code() != "FORBIDDEN") {
				w.fail("%s: a member who is not ACTIVE read %s: %s", s.label, g.field, r)
			}
		case bare[g.perm].allowed:
			w.coverage["enforced: allowed"]++
			if !ok {
				w.fail("%s: authorize allows %s but reading %s failed: %s", s.label, g.perm, g.field, r)
			}
		default:
			w.coverage["enforced: forbidden"]++
			if slices.Contains(s.list, g.perm) {
				w.coverage["enforced: forbidden, held only constrained"]++
			}
			if ok || r.Code() != "FORBIDDEN" {
				w.fail("%s: authorize denies %s (%s) but reading %s gave: %s", s.label, g.perm, bare[g.perm].reason, g.field, r)
			}
		}
	}
}

// ---------------------------------------------------------------------------
// The model: SPEC §2 and §4 written out independently of the server.

func consIsWildcard(p string) bool {
	return p == "*" || strings.HasSuffix(p, ".*") || strings.HasSuffix(p, ":*")
}

// consMatch: a wildcard matches every key below its prefix, separator
// included, at any depth; a key matches itself (K3).
func consMatch(pattern, key string) bool {
	if pattern == "*" {
		return true
	}
	if consIsWildcard(pattern) {
		pre := strings.TrimSuffix(pattern, "*")
		return len(key) > len(pre) && strings.HasPrefix(key, pre)
	}
	return pattern == key
}

// closure is what grants give in the account: the GRANT keys of the master
// list they match (never deny masks) but for the excluded ones (R2), closed
// under implications that fire from effective keys (K3–K6).
func (w *consWorld) closure(a *consAccount, grants, excludes []string) map[string]bool {
	set := map[string]bool{}
	var queue []string
	reach := func(pattern string, direct bool) {
		for k := range a.master {
			if !w.catalog[k].mask && !set[k] && consMatch(pattern, k) &&
				!(direct && slices.ContainsFunc(excludes, func(x string) bool { return consMatch(x, k) })) {
				set[k] = true
				queue = append(queue, k)
			}
		}
	}
	for _, g := range grants {
		reach(g, true)
	}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		for _, imp := range w.catalog[k].implies {
			reach(imp, false)
		}
	}
	return set
}

// memberOpen is what an ACTIVE member holds through unconstrained roles.
func (w *consWorld) memberOpen(a *consAccount, m *consMember) []string {
	set := map[string]bool{}
	if m.status == "ACTIVE" {
		for _, r := range m.roles {
			if r.constraints == nil {
				for k := range w.closure(a, r.grants, r.excludes) {
					set[k] = true
				}
			}
		}
	}
	return consKeys(set)
}

// memberAll is everything an ACTIVE member holds, constrained roles included.
func (w *consWorld) memberAll(a *consAccount, m *consMember) map[string]bool {
	set := map[string]bool{}
	if m.status == "ACTIVE" {
		for _, r := range m.roles {
			for k := range w.closure(a, r.grants, r.excludes) {
				set[k] = true
			}
		}
	}
	return set
}

// consSatisfies: every constraint met; a missing attribute is not (D3).
func consSatisfies(c map[string][]string, res map[string]string) bool {
	for attr, vals := range c {
		v, ok := res[attr]
		if !ok || !slices.Contains(vals, v) {
			return false
		}
	}
	return true
}

func consConstraintInput(c map[string][]string) []map[string]any {
	var out []map[string]any
	for _, attr := range consKeys(consMapOf(c)) {
		out = append(out, map[string]any{"attribute": attr, "values": c[attr]})
	}
	return out
}

// consMapOf turns any map's keys into a set.
func consMapOf[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// consKeys returns a set's keys, sorted (never nil).
func consKeys(set map[string]bool) []string {
	out := []string{}
	for k, in := range set {
		if in {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// consSet sorts and deduplicates (never nil).
func consSet(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return slices.Compact(out)
}

// consMinus returns the sorted elements of a not in b.
func consMinus(a, b []string) []string {
	out := []string{}
	for _, x := range consSet(a) {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
