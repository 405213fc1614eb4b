package apitest

import (
	"context"
	"fmt"
	"testing"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// bulkMembers adds n ACTIVE members holding roleID to an account, straight
// into the database (the API would take minutes), in batches that stay
// under both databases' bind-parameter limits. It returns the last one's id.
func (e *env) bulkMembers(accountID, roleID string, n int) string {
	e.t.Helper()
	ctx, c := context.Background(), e.DB.Client
	const batch = 1000
	var last string
	for from := 0; from < n; from += batch {
		to := min(n, from+batch)
		users := make([]*ent.UserCreate, 0, to-from)
		for i := from; i < to; i++ {
			users = append(users, c.User.Create().SetEmail(fmt.Sprintf("bulk%d-%s@%s.test", i, roleID, accountID)))
		}
		us, err := c.User.CreateBulk(users...).Save(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		mems := make([]*ent.MemberCreate, len(us))
		for i, u := range us {
			mems[i] = c.Member.Create().SetAccountID(accountID).SetUserID(u.ID).SetEmail(u.Email).SetStatus(member.StatusACTIVE)
		}
		ms, err := c.Member.CreateBulk(mems...).Save(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		as := make([]*ent.AssignmentCreate, len(ms))
		for i, m := range ms {
			as[i] = c.Assignment.Create().SetAccountID(accountID).SetMemberID(m.ID).SetRoleID(roleID)
		}
		if err := c.Assignment.CreateBulk(as...).Exec(ctx); err != nil {
			e.t.Fatal(err)
		}
		last = ms[len(ms)-1].ID
	}
	return last
}

// D1 at any size: an account with more members than a statement may have
// bind parameters (SQLite 32,766, lib/pq 65,535) is decided, lists a role's
// holders and is exported. Its members' roles were read by member id, one parameter each:
// the model could not load ("too many SQL variables"), and every decision
// of the account failed. A second server, on the same database, loads the
// model the bulk insert wrote under the first one's cache.
func TestD1_AnAccountWithMoreMembersThanBindParametersIsDecided(t *testing.T) {
	if testing.Short() {
		t.Skip("inserts 66,000 members")
	}
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("large", nil)
		role := e.createRole(a.Owner, a.ID, "Products", []string{"products.all"})
		last := e.bulkMembers(a.ID, role, 66_000)
		other := newEnvOn(t, e.Dialect, server.Config{}, e.DB.URL)
		r := other.decide(other.Operator, map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": last}, "permission": "products.all"})
		if !r.Get("data.authorize.allowed").Bool() || r.Get("data.authorize.grantedBy.role.key").String() != "products" {
			t.Fatalf("a member of 66,001: %s", r)
		}
		r = other.ok(other.Operator, `query($id: ID!) { account(id: $id) { role(key: "products") {
			members(first: 2) { totalCount edges { node { id email } } } } } }`, map[string]any{"id": a.ID})
		if n := r.Get("data.account.role.members.totalCount").Int(); n != 66_000 || len(r.Get("data.account.role.members.edges").Array()) != 2 {
			t.Fatalf("the role's holders: %s", r)
		}
		r = other.ok(other.Operator, `query($id: ID!) { account(id: $id) { exportAccessConfig } }`, map[string]any{"id": a.ID})
		if n := len(r.Get("data.account.exportAccessConfig.members").Array()); n != 66_001 {
			t.Fatalf("the export has %d members; want 66,001", n)
		}
	})
}
