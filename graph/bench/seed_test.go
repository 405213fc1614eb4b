package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/permission"
	"github.com/gatehouse-iam/gatehouse/ent/role"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
)

// shape is the size of the seeded data.
type shape struct {
	accounts, roles, members, permissions int
}

// request is one prepared decision call: a JSON body and the account's key.
type request struct {
	body   []byte
	secret string
}

// workload is the decision calls the clients rotate over.
type workload struct {
	requests []request
	shape    shape
}

// decisionQuery is the one query string every call sends, so gqlgen's query
// cache holds it after the first call.
const decisionQuery = `query($a: ID!, $m: ID!, $p: String!) { authorize(input: {accountId: $a, subject: {memberId: $m}, permission: $p}) { allowed reason } }`

const (
	defineMutation = `mutation($in: DefinePermissionsInput!) { definePermissions(input: $in) { permissions { id key } } }`
	keyMutation    = `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { apiKey { id } secret } }`
)

var (
	areas   = []string{"identity", "billing", "reports", "attestations", "governance", "documents", "flows", "webhooks", "exports", "support"}
	actions = []string{"read", "list", "create", "update", "delete", "export", "approve", "share", "archive", "manage"}
)

// catalogKeys returns n permission keys, area.action, area-major: with the
// default 100, ten areas of ten actions, and `<area>.manage` implies
// `<area>.*` (an implication chain for the engine to follow).
func catalogKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		a, x := i/len(actions), i%len(actions)
		keys[i] = fmt.Sprintf("%s.%s", areas[a%len(areas)], actions[x])
		if a >= len(areas) {
			keys[i] = fmt.Sprintf("%s%d.%s", areas[a%len(areas)], a/len(areas), actions[x])
		}
	}
	return keys
}

// seed defines the catalog through GraphQL, writes accounts, roles, users,
// members and assignments in bulk through ent in one transaction, mints one
// iam.authorize key per account through GraphQL, and prepares the calls.
func seed(ctx context.Context, f *fixture, sh shape) (workload, error) {
	rng := rand.New(rand.NewPCG(7, 11))
	keys := catalogKeys(sh.permissions)

	// The catalog, through the API.
	defs := make([]map[string]any, len(keys))
	for i, k := range keys {
		area, action, _ := cut(k)
		d := map[string]any{"key": k, "group": area, "description": "Bench permission " + k}
		if action == "manage" {
			d["implies"] = []string{area + ".*"}
		}
		defs[i] = d
	}
	if _, err := gql(f.URL, f.Operator, defineMutation, map[string]any{"in": map[string]any{"permissions": defs}}); err != nil {
		return workload{}, fmt.Errorf("definePermissions: %w", err)
	}

	// Accounts, roles, members: straight into the database, in one transaction.
	c := f.db.Client
	catalog, err := c.Permission.Query().Where(permission.KeyIn(keys...)).All(ctx)
	if err != nil {
		return workload{}, err
	}
	builtins, err := c.Permission.Query().Where(permission.BuiltIn(true)).All(ctx)
	if err != nil {
		return workload{}, err
	}
	if len(catalog) != len(keys) {
		return workload{}, fmt.Errorf("catalog has %d of %d permissions", len(catalog), len(keys))
	}
	type seeded struct {
		account string
		owner   string
		members []string
	}
	var accs []seeded
	tx, err := c.Tx(ctx)
	if err != nil {
		return workload{}, err
	}
	err = func() error {
		for a := range sh.accounts {
			acc, err := tx.Account.Create().SetName(fmt.Sprintf("Bench %03d", a)).SetSlug(fmt.Sprintf("bench-%03d", a)).
				SetDefaultAccessExcludes([]string{"iam.*"}).
				AddPermissions(catalog...).AddPermissions(builtins...).Save(ctx)
			if err != nil {
				return err
			}
			// The system roles as createSystemRoles makes them, then custom ones.
			rcs := []*ent.RoleCreate{
				tx.Role.Create().SetAccountID(acc.ID).SetKey(iam.FullAccess).SetName("Full access").
					SetKind(role.KindSYSTEM).SetGrants([]string{"*"}).SetPosition(0),
				tx.Role.Create().SetAccountID(acc.ID).SetKey(iam.DefaultAccess).SetName("Default access").
					SetKind(role.KindSYSTEM).SetGrants([]string{"*"}).SetPosition(1),
			}
			for r := 2; r < sh.roles; r++ {
				rcs = append(rcs, tx.Role.Create().SetAccountID(acc.ID).SetKey(fmt.Sprintf("role_%02d", r)).
					SetName(fmt.Sprintf("Role %02d", r)).SetGrants(customGrants(rng, keys)).SetPosition(r))
			}
			roles, err := tx.Role.CreateBulk(rcs...).Save(ctx)
			if err != nil {
				return err
			}
			ucs := make([]*ent.UserCreate, sh.members)
			for m := range ucs {
				ucs[m] = tx.User.Create().SetEmail(fmt.Sprintf("m%02d@bench-%03d.test", m, a)).SetName(fmt.Sprintf("Member %d", m))
			}
			users, err := tx.User.CreateBulk(ucs...).Save(ctx)
			if err != nil {
				return err
			}
			mcs := make([]*ent.MemberCreate, len(users))
			for m, u := range users {
				mcs[m] = tx.Member.Create().SetAccountID(acc.ID).SetUserID(u.ID).SetStatus(member.StatusACTIVE)
			}
			ms, err := tx.Member.CreateBulk(mcs...).Save(ctx)
			if err != nil {
				return err
			}
			var acs []*ent.AssignmentCreate
			s := seeded{account: acc.ID, owner: ms[0].ID}
			for m, mem := range ms {
				s.members = append(s.members, mem.ID)
				for _, r := range heldRoles(rng, m, roles) {
					acs = append(acs, tx.Assignment.Create().SetAccountID(acc.ID).SetMemberID(mem.ID).SetRoleID(r.ID))
				}
			}
			if err := tx.Assignment.CreateBulk(acs...).Exec(ctx); err != nil {
				return err
			}
			accs = append(accs, s)
		}
		return nil
	}()
	if err != nil {
		_ = tx.Rollback()
		return workload{}, err
	}
	if err := tx.Commit(); err != nil {
		return workload{}, err
	}
	f.srv.Service.Invalidate("") // written behind the service's back

	// One key per account, minted for its owner through the API, and the calls.
	w := workload{shape: sh}
	const perAccount = 64
	for _, s := range accs {
		data, err := gql(f.URL, f.Operator, keyMutation, map[string]any{"in": map[string]any{
			"accountId": s.account, "name": "bench decisions", "permissions": []string{"iam.authorize"}, "memberId": s.owner,
		}})
		if err != nil {
			return w, fmt.Errorf("createApiKey: %w", err)
		}
		var out struct {
			CreateAPIKey struct {
				Secret string `json:"secret"`
			} `json:"createApiKey"`
		}
		if err := json.Unmarshal(data, &out); err != nil || out.CreateAPIKey.Secret == "" {
			return w, fmt.Errorf("createApiKey: no secret in %s", data)
		}
		for range perAccount {
			body, err := json.Marshal(map[string]any{"query": decisionQuery, "variables": map[string]any{
				"a": s.account, "m": s.members[rng.IntN(len(s.members))], "p": keys[rng.IntN(len(keys))],
			}})
			if err != nil {
				return w, err
			}
			w.requests = append(w.requests, request{body: body, secret: out.CreateAPIKey.Secret})
		}
	}
	// Rotate over accounts, members and permissions in a fixed random order.
	rng.Shuffle(len(w.requests), func(i, j int) { w.requests[i], w.requests[j] = w.requests[j], w.requests[i] })
	return w, nil
}

// customGrants is a custom role's grants: a few concrete keys, sometimes an
// area wildcard, sometimes an area's manage (which implies the area).
func customGrants(rng *rand.Rand, keys []string) []string {
	seen := map[string]bool{}
	var grants []string
	add := func(g string) {
		if !seen[g] {
			seen[g] = true
			grants = append(grants, g)
		}
	}
	for range 3 + rng.IntN(6) {
		add(keys[rng.IntN(len(keys))])
	}
	if rng.IntN(3) == 0 {
		area, _, _ := cut(keys[rng.IntN(len(keys))])
		add(area + ".*")
	}
	if rng.IntN(5) == 0 {
		area, _, _ := cut(keys[rng.IntN(len(keys))])
		add(area + ".manage")
	}
	return grants
}

// heldRoles: member 0 owns the account (full_access), one in ten holds
// default_access, the others one to three custom roles.
func heldRoles(rng *rand.Rand, m int, roles []*ent.Role) []*ent.Role {
	switch {
	case m == 0:
		return roles[:1]
	case m%10 == 0:
		return roles[1:2]
	}
	custom := roles[2:]
	n := 1 + rng.IntN(3)
	out := make([]*ent.Role, 0, n)
	for _, i := range rng.Perm(len(custom))[:n] {
		out = append(out, custom[i])
	}
	return out
}

// cut splits a key at its last dot.
func cut(key string) (area, action string, ok bool) {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == '.' {
			return key[:i], key[i+1:], true
		}
	}
	return key, "", false
}
