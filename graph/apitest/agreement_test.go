package apitest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
)

// guarded maps built-in permissions to a field that @hasPermission guards.
var guarded = map[string]string{
	"iam.members.read":     `query($id: ID!) { account(id: $id) { members { totalCount } } }`,
	"iam.roles.read":       `query($id: ID!) { account(id: $id) { roles { totalCount } } }`,
	"iam.permissions.read": `query($id: ID!) { account(id: $id) { permissions { totalCount } } }`,
	"iam.keys.read":        `query($id: ID!) { account(id: $id) { apiKeys { totalCount } } }`,
	"iam.audit.read":       `query($id: ID!) { account(id: $id) { auditEvents { totalCount } } }`,
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// D1 with K3–K5, D3 and S3: for random accounts (wildcards, implications,
// constraints, several roles, keys), every subject's decisions agree with its
// permission list and with what @hasPermission actually lets it read.
// GATEHOUSE_CONSISTENCY_ACCOUNTS and GATEHOUSE_CONSISTENCY_SEED make larger
// or other runs.
func TestD1_DecisionsAgreeWithListsAndEnforcement(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		seed := uint64(envInt("GATEHOUSE_CONSISTENCY_SEED", 7))
		accounts := envInt("GATEHOUSE_CONSISTENCY_ACCOUNTS", 2)
		rng := rand.New(rand.NewPCG(seed, 99))
		// A catalog with four areas, implications between them and onto iam.*.
		var cat []map[string]any
		var keys []string
		for area := range 4 {
			for j := range 6 {
				k := fmt.Sprintf("c%d.sub%d.k%d", area, j%2, j)
				p := map[string]any{"key": k}
				if rng.IntN(5) == 0 {
					p["implies"] = []string{fmt.Sprintf("c%d.*", rng.IntN(4))}
				}
				cat = append(cat, p)
				keys = append(keys, k)
			}
		}
		cat = append(cat, map[string]any{"key": "admin.people", "implies": []string{"iam.members.*", "iam.roles.read"}},
			map[string]any{"key": "admin.audit", "implies": []string{"iam.audit.read", "iam.keys.read"}})
		keys = append(keys, "admin.people", "admin.audit")
		e.ok(e.Operator, defineCatalog, map[string]any{"p": cat})
		all := append(slices.Clone(keys), "iam.members.read", "iam.roles.read", "iam.permissions.read", "iam.keys.read", "iam.audit.read", "iam.authorize")
		pool := append(slices.Clone(keys), "c0.*", "c1.sub0.*", "c2.*", "c3.sub1.*", "iam.members.read", "iam.roles.read",
			"iam.permissions.read", "iam.keys.read", "iam.audit.read")
		checks, subjects := 0, 0
		for n := range accounts {
			master := []string{}
			for _, k := range keys {
				if rng.IntN(5) != 0 {
					master = append(master, k)
				}
			}
			slug := fmt.Sprintf("agree-%d", n)
			a := e.newAccountWith(slug, master)
			var roleIDs []string
			for r := range 5 {
				var grants []string
				for _, g := range pool {
					if rng.IntN(4) == 0 && (authzMaster(master, g)) {
						grants = append(grants, g)
					}
				}
				in := map[string]any{"accountId": a.ID, "name": fmt.Sprintf("Random %d", r), "grants": grants}
				if r == 4 {
					in["constraints"] = []map[string]any{{"attribute": "region", "values": []string{"eu"}}}
				}
				roleIDs = append(roleIDs, e.ok(e.Operator, createRole, map[string]any{"in": in}).Get("data.createRole.role.id").String())
			}
			type subj struct{ id, kind, cred string }
			var subs []subj
			for m := range 4 {
				held := []string{roleIDs[rng.IntN(5)], roleIDs[rng.IntN(5)], roleIDs[4]}[:1+rng.IntN(3)]
				email := fmt.Sprintf("m%d@%s.test", m, slug)
				id := e.addMember(e.Operator, a.ID, email, dedupeIDs(held)...)
				subs = append(subs, subj{id, "memberId", userToken(t, email)})
			}
			// Keys minted for two members, from what they hold unconstrained.
			for _, s := range subs[:2] {
				held := e.allowedSet(a.ID, map[string]any{"memberId": s.id}, all, nil)
				var want []string
				for _, k := range held {
					if rng.IntN(2) == 0 {
						want = append(want, k)
					}
				}
				r := e.createKey(e.Operator, map[string]any{"accountId": a.ID, "name": "k", "memberId": s.id, "permissions": want})
				subs = append(subs, subj{r.Get("data.createApiKey.apiKey.id").String(), "apiKeyId", r.Get("data.createApiKey.secret").String()})
			}
			for _, s := range subs {
				subjects++
				subject := map[string]any{s.kind: s.id}
				allowed := e.allowedSet(a.ID, subject, all, nil)
				inEU := e.allowedSet(a.ID, subject, all, []map[string]any{{"attribute": "region", "value": "eu"}})
				var list []string
				if s.kind == "memberId" {
					list = e.permissionsOf(s.id)
				} else {
					list = gjsonStrings(e.ok(e.Operator, keyQuery, map[string]any{"id": s.id}).Get("data.node.permissions").Array())
				}
				for _, p := range all {
					checks++
					// (1) Without a resource: allowed iff held unconstrained; the list
					// holds exactly what is allowed somewhere (here: in the eu region).
					if contains(allowed, p) && !contains(list, p) {
						t.Errorf("%s %s: %s allowed but not in its permission list %v", slug, s.id, p, list)
					}
					if contains(list, p) != contains(inEU, p) {
						t.Errorf("%s %s: %s in list=%v, allowed in eu=%v", slug, s.id, p, contains(list, p), contains(inEU, p))
					}
					// (2) Enforcement by @hasPermission with the subject's own credential.
					if q, ok := guarded[p]; ok {
						r := e.gql(s.cred, q, map[string]any{"id": a.ID})
						if enforced := !r.Get("errors").Exists(); enforced != contains(allowed, p) {
							t.Errorf("%s %s: %s decided %v but enforced %v: %s", slug, s.id, p, contains(allowed, p), enforced, r)
						}
					}
				}
			}
		}
		t.Logf("%s: %d accounts, %d subjects, %d permissions, %d checks agree", e.Dialect, accounts, subjects, len(all), checks)
	})
}

// newAccountWith creates an account whose master list is exactly keys.
func (e *env) newAccountWith(slug string, keys []string) account {
	e.t.Helper()
	r := e.ok(e.Operator, `mutation($in: CreateAccountInput!) { createAccount(input: $in) { account { id } owner { id } } }`,
		map[string]any{"in": map[string]any{"name": slug, "slug": slug, "permissions": keys,
			"features": map[string]any{"resourceConstraints": true}, "owner": map[string]any{"email": "owner@" + slug + ".test"}}})
	return account{ID: r.Get("data.createAccount.account.id").String(), OwnerID: r.Get("data.createAccount.owner.id").String()}
}

// allowedSet asks authorizeMany about every permission and returns the allowed ones.
func (e *env) allowedSet(accountID string, subject map[string]any, perms []string, resource []map[string]any) []string {
	e.t.Helper()
	ins := make([]map[string]any, len(perms))
	for i, p := range perms {
		ins[i] = map[string]any{"accountId": accountID, "subject": subject, "permission": p}
		if resource != nil {
			ins[i]["resource"] = resource
		}
	}
	r := e.ok(e.Operator, `query($in: [AuthorizeInput!]!) { authorizeMany(inputs: $in) { permission allowed } }`, map[string]any{"in": ins})
	var out []string
	for _, d := range r.Get("data.authorizeMany").Array() {
		if d.Get("allowed").Bool() {
			out = append(out, d.Get("permission").String())
		}
	}
	return out
}

// authzMaster reports whether a grant is valid for a master list (R5):
// wildcards and built-ins always, other keys when listed.
func authzMaster(master []string, g string) bool {
	return g[len(g)-1] == '*' || (len(g) > 4 && g[:4] == "iam.") || contains(master, g)
}

func dedupeIDs(ids []string) []string {
	slices.Sort(ids)
	return slices.Compact(ids)
}
