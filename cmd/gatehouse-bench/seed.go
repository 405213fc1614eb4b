package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync/atomic"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/permission"
	"github.com/gatehouse-iam/gatehouse/ent/role"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/database"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
)

// request is one prepared decision call.
type request struct {
	body   []byte
	secret string
}

type workload struct {
	requests []request
}

var counts struct{ total, allowed, errors atomic.Int64 }

func (workload) total() int64   { return counts.total.Load() }
func (workload) allowed() int64 { return counts.allowed.Load() }
func (workload) errors() int64  { return counts.errors.Load() }

const query = `query($a: ID!, $m: ID!, $p: String!) { authorize(input: {accountId: $a, subject: {memberId: $m}, permission: $p}) { allowed reason } }`

// seed writes the catalog, accounts, roles, members and one iam.authorize
// key per account, and prepares the decision calls.
func seed(ctx context.Context, db *database.DB, svc *iam.Service, accounts, roles, members, perms int) (workload, error) {
	c := db.Client
	rng := rand.New(rand.NewPCG(1, 2))
	keys := make([]string, perms)
	creates := make([]*ent.PermissionCreate, perms)
	for i := range keys {
		keys[i] = fmt.Sprintf("area%d.action%03d", i%10, i)
		creates[i] = c.Permission.Create().SetKey(keys[i]).SetGroup(fmt.Sprintf("Area %d", i%10))
	}
	catalog, err := c.Permission.CreateBulk(creates...).Save(ctx)
	if err != nil {
		return workload{}, err
	}
	builtins, err := c.Permission.Query().Where(permission.BuiltIn(true)).All(ctx)
	if err != nil {
		return workload{}, err
	}
	opCtx := auth.WithPrincipal(ctx, &auth.Principal{Kind: auth.Operator, ID: "opk_bench", Label: "bench"})
	var w workload
	for a := range accounts {
		acc, err := c.Account.Create().SetName(fmt.Sprintf("Bench %d", a)).SetSlug(fmt.Sprintf("bench-%d", a)).
			SetDefaultAccessExcludes([]string{"iam.*"}).AddPermissions(catalog...).AddPermissions(builtins...).Save(ctx)
		if err != nil {
			return w, err
		}
		rcs := []*ent.RoleCreate{
			c.Role.Create().SetAccountID(acc.ID).SetKey("full_access").SetName("Full access").SetKind(role.KindSYSTEM).SetGrants([]string{"*"}),
			c.Role.Create().SetAccountID(acc.ID).SetKey("default_access").SetName("Default access").SetKind(role.KindSYSTEM).SetGrants([]string{"*"}).SetPosition(1),
		}
		for r := 2; r < roles; r++ {
			grants := []string{fmt.Sprintf("area%d.*", rng.IntN(10))}
			for range 8 {
				grants = append(grants, keys[rng.IntN(perms)])
			}
			rcs = append(rcs, c.Role.Create().SetAccountID(acc.ID).SetKey(fmt.Sprintf("role_%d", r)).
				SetName(fmt.Sprintf("Role %d", r)).SetGrants(grants).SetPosition(r))
		}
		rs, err := c.Role.CreateBulk(rcs...).Save(ctx)
		if err != nil {
			return w, err
		}
		ucs := make([]*ent.UserCreate, members)
		for m := range members {
			ucs[m] = c.User.Create().SetEmail(fmt.Sprintf("m%d@acc%d.bench", m, a))
		}
		users, err := c.User.CreateBulk(ucs...).Save(ctx)
		if err != nil {
			return w, err
		}
		mcs := make([]*ent.MemberCreate, members)
		for m, u := range users {
			mcs[m] = c.Member.Create().SetAccountID(acc.ID).SetUserID(u.ID).SetStatus(member.StatusACTIVE)
		}
		ms, err := c.Member.CreateBulk(mcs...).Save(ctx)
		if err != nil {
			return w, err
		}
		var acs []*ent.AssignmentCreate
		for m, mem := range ms {
			held := []*ent.Role{rs[0]} // the first member owns the account
			if m > 0 {
				held = []*ent.Role{rs[2+rng.IntN(roles-2)], rs[2+rng.IntN(roles-2)]}
				if held[0].ID == held[1].ID {
					held = held[:1]
				}
			}
			for _, r := range held {
				acs = append(acs, c.Assignment.Create().SetAccountID(acc.ID).SetMemberID(mem.ID).SetRoleID(r.ID))
			}
		}
		if err := c.Assignment.CreateBulk(acs...).Exec(ctx); err != nil {
			return w, err
		}
		owner := ms[0].ID
		_, secret, err := svc.CreateAPIKey(opCtx, iam.CreateAPIKeyInput{
			AccountID: acc.ID, Name: "bench", Permissions: []string{"iam.authorize"}, MemberID: &owner,
		})
		if err != nil {
			return w, err
		}
		for range 20 {
			body, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{
				"a": acc.ID, "m": ms[rng.IntN(members)].ID, "p": keys[rng.IntN(perms)],
			}})
			w.requests = append(w.requests, request{body: body, secret: secret})
		}
	}
	rng.Shuffle(len(w.requests), func(i, j int) { w.requests[i], w.requests[j] = w.requests[j], w.requests[i] })
	return w, nil
}

// do sends one decision call and checks that it was answered.
func do(client *http.Client, url string, r request, count bool) (bool, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(r.body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+r.secret)
	res, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return false, err
	}
	if res.StatusCode != http.StatusOK || bytes.Contains(b, []byte(`"errors"`)) {
		counts.errors.Add(1)
		return false, fmt.Errorf("HTTP %d: %s", res.StatusCode, b)
	}
	allowed := bytes.Contains(b, []byte(`"allowed":true`))
	if count {
		counts.total.Add(1)
		if allowed {
			counts.allowed.Add(1)
		}
	}
	return allowed, nil
}
