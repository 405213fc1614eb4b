package apitest

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/assignment"
)

// scansTable is a plan's scan of a table (not of a subquery's rows).
var scansTable = regexp.MustCompile(`SCAN (assignments|members)\b`)

// R6 at scale: a page of a role's holders reads that page, not every
// holder. Role.members read every holder of every role of the list, and
// the fields of every one of them (their users, for email), then kept a
// page: a role of 66,000 members read 66,000 rows and users for each page
// of 2. Now one statement reads, for each role of the list, the first
// `first`+1 holders after the cursor from an index of (role_id, member_id),
// and one counts them only when totalCount is asked.
func TestR6_ARolesHoldersPageReadsOnlyItsPage(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("holderspage", nil)
		big := e.createRole(a.Owner, a.ID, "Big", []string{"AgentChat"})
		small := e.createRole(a.Owner, a.ID, "Small", []string{"AgentChat"})
		e.bulkMembers(a.ID, big, 400)
		e.bulkMembers(a.ID, small, 3)
		both := e.addMember(a.Owner, a.ID, "both@holderspage.test", big, small)
		holders := func(role string) []string {
			ids, err := e.DB.Client.Assignment.Query().Where(assignment.RoleID(role)).
				Order(ent.Asc(assignment.FieldMemberID)).Select(assignment.FieldMemberID).Strings(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return ids
		}
		const page = `query($id: ID!, $after: Cursor, $where: MemberWhereInput) { account(id: $id) { roles(first: 10) { edges { node { key
			members(first: 2, after: $after, where: $where) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
				edges { node { id email roles { key } effectivePermissions } } } } } } } }`
		ask := func(vars map[string]any) map[string]gjson.Result {
			vars["id"] = a.ID
			r, tr := e.trackRequest(e.request(a.Owner, page, vars))
			read := 0
			if r.Status != 200 || r.Get("errors").Exists() {
				t.Fatalf("%v: %s", vars, r)
			}
			for _, s := range tr.Statements() {
				if len(s.Args) > 20 {
					t.Errorf("a page of 2 holders a role binds %d parameters: %.300s", len(s.Args), s.Query)
				}
				// The statements that read holders by role: the pages and their counts.
				if e.Dialect != "sqlite3" || !strings.Contains(s.Query, "`assignments`.`role_id` = ?") && !strings.Contains(s.Query, "COUNT(") {
					continue
				}
				read++
				plan := e.explainSQLite(s.Query, s.Args)
				if strings.Contains(plan, "TEMP B-TREE") || scansTable.MatchString(plan) {
					t.Errorf("%s\nplan:\n%s", s.Query, plan)
				}
			}
			if e.Dialect == "sqlite3" && read == 0 {
				t.Errorf("no statement read a role's holders")
			}
			out := map[string]gjson.Result{}
			for _, edge := range r.Get("data.account.roles.edges").Array() {
				out[edge.Get("node.key").String()] = edge.Get("node.members")
			}
			return out
		}
		ids := func(conn gjson.Result) []string {
			var out []string
			for _, n := range conn.Get("edges.#.node.id").Array() {
				out = append(out, n.String())
			}
			return out
		}
		check := func(what string, conn gjson.Result, total int64, want []string, next, prev bool) {
			t.Helper()
			if conn.Get("totalCount").Int() != total || !slices.Equal(ids(conn), want) ||
				conn.Get("pageInfo.hasNextPage").Bool() != next || conn.Get("pageInfo.hasPreviousPage").Bool() != prev {
				t.Errorf("%s: %s; want totalCount %d, %v, next %v, previous %v", what, conn, total, want, next, prev)
			}
		}
		bigIDs, smallIDs := holders(big), holders(small)
		nBig, nSmall := int64(len(bigIDs)), int64(len(smallIDs)) // 401 and 4
		first := ask(map[string]any{})
		check("big, first page", first["big"], nBig, bigIDs[:2], true, false)
		check("small, first page", first["small"], nSmall, smallIDs[:2], true, false)
		if first["big"].Get("edges.0.node.roles.0.key").String() != "big" || !strings.Contains(first["big"].Get("edges.0.node.email").String(), "@") {
			t.Errorf("a holder's fields: %s", first["big"])
		}
		second := ask(map[string]any{"after": first["big"].Get("pageInfo.endCursor").String()})
		check("big, second page", second["big"], nBig, bigIDs[2:4], true, true)
		// The cursor is a member id: the page of every role starts after it.
		after := slices.DeleteFunc(slices.Clone(smallIDs), func(id string) bool { return id <= bigIDs[1] })
		check("small, after big's cursor", second["small"], nSmall, after[:min(2, len(after))], len(after) > 2, true)
		filtered := ask(map[string]any{"where": map[string]any{"status": "INVITED"}})
		check("big, INVITED holders", filtered["big"], 0, nil, false, false)
		active := ask(map[string]any{"where": map[string]any{"status": "ACTIVE"}})
		check("big, ACTIVE holders", active["big"], nBig, bigIDs[:2], true, false)
		// A filter on the holders' other roles: an EXISTS within each role's branch.
		alsoSmall := ask(map[string]any{"where": map[string]any{"hasRoleWith": []any{map[string]any{"key": "small"}}}})
		check("big, holders also holding small", alsoSmall["big"], 1, []string{both}, false, false)
	})
}
