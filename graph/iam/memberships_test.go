package iam

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/graph/database"
)

// A user's memberships (viewer.memberships, the first query of every
// dashboard, and the invitations activated at sign-in) are found through
// the members' user index, whatever the other tenants hold: before it,
// every member of every account was read — 8 ms of CPU a request on SQLite
// at 100 accounts of 50 members, growing with every tenant.
func TestMemberships_ReadOnlyTheUsersMembers(t *testing.T) {
	forEachDatabase(t, "gatehouse_memberships_", func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		const accounts, perAccount = 20, 100
		var users []*ent.UserCreate
		for i := range accounts * perAccount {
			users = append(users, db.Client.User.Create().SetID(fmt.Sprintf("usr_%05d", i)).SetEmail(fmt.Sprintf("u%d@memberships.test", i)))
		}
		for from := 0; from < len(users); from += 500 {
			db.Client.User.CreateBulk(users[from : from+500]...).ExecX(ctx)
		}
		var members []*ent.MemberCreate
		for a := range accounts {
			acc := fmt.Sprintf("acc_%02d", a)
			db.Client.Account.Create().SetID(acc).SetName(acc).SetSlug(strings.ReplaceAll(acc, "_", "-")).SetDefaultAccessExcludes([]string{}).ExecX(ctx)
			for m := range perAccount {
				u := (a*perAccount + m) % len(users)
				if m == 0 {
					u = 0 // usr_00000 is in every account
				}
				members = append(members, db.Client.Member.Create().SetID(fmt.Sprintf("mem_%02d_%03d", a, m)).SetAccountID(acc).SetUserID(fmt.Sprintf("usr_%05d", u)))
			}
		}
		for from := 0; from < len(members); from += 500 {
			db.Client.Member.CreateBulk(members[from : from+500]...).ExecX(ctx)
		}
		const query = `SELECT id FROM members WHERE user_id = $1 AND status <> 'REMOVED' ORDER BY id`
		if db.Dialect == dialect.Postgres {
			if _, err := db.SQL.Exec(`ANALYZE members`); err != nil {
				t.Fatal(err)
			}
			if read := pgRowsRead(t, db, "members", query, "usr_00001"); read > 10 {
				t.Errorf("a user's one membership read %.0f of %d members", read, accounts*perAccount)
			}
			return
		}
		plan := sqlitePlan(t, db, strings.ReplaceAll(query, "$1", "?"), "usr_00001")
		if !strings.Contains(plan, "USING INDEX member_user_id") {
			t.Errorf("a user's memberships are not found through the user index:\n%s", plan)
		}
	})
}
