package apitest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/role"
)

// The write path: a change sends only its own statements, and leaves its
// account's model current, so that neither the next change nor the next
// decision reads the model again.
func TestWritePath_ChangesKeepTheModelCurrent(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("writes", nil)
		key := e.ownerKey(a)
		decide := map[string]any{"in": map[string]any{"accountId": a.ID, "permission": "AgentChat"}}
		e.ok(key, authorize, decide)
		e.ok(a.Owner, whoAmI, nil)
		e.ok(e.Operator, whoAmI, nil)
		const createRole = `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id key } } }`
		member := e.addMember(a.Owner, a.ID, "m@writes.test")
		for i := range 3 {
			_, n := e.statementsOf(a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": fmt.Sprintf("Role %d", i), "grants": []string{"AgentChat"}}})
			// Under the account's lock: the chain's heads, the role and
			// its event. PostgreSQL reads the heads in the statement that
			// locks the account's row (gatehouse_lock_account); SQLite's
			// lock is its BEGIN IMMEDIATE.
			if n != 3 {
				t.Errorf("createRole %d sent %d statements, want 3", i, n)
			}
			if _, n := e.statementsOf(key, authorize, decide); n != 0 {
				t.Errorf("the decision after createRole %d sent %d statements: the model was read again", i, n)
			}
			t.Logf("createRole %d: %d statements", i, n)
		}
		r, n := e.statementsOf(a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": member, "roleKeys": []string{"role_0"}}})
		if n > 20 { // a guard against statements that grow with the account
			t.Errorf("setMemberRoles sent %d statements", n)
		}
		t.Logf("setMemberRoles: %d statements: %s", n, r.Body)
		// The member's new role is what the next decision sees, without a reload.
		in := map[string]any{"in": map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": member}, "permission": "AgentChat"}}
		r, n = e.statementsOf(e.Operator, authorize, in)
		if !r.Get("data.authorize.allowed").Bool() || r.Get("data.authorize.grantedBy.role.key").String() != "role_0" {
			t.Errorf("after setMemberRoles: %s", r)
		}
		if n != 0 {
			t.Errorf("the decision after setMemberRoles sent %d statements: the model was read again", n)
		}
	})
}

// Warm requests of every principal kind send no SQL before their fields:
// operator keys, API keys and dashboard users are all checked from memory
// (issue 13), and a warm decision answers from the model.
func TestWarm_EveryPrincipalAuthenticatesWithoutSQL(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("warm", nil)
		key := e.ownerKey(a)
		decide := map[string]any{"in": map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": a.OwnerID}, "permission": "AgentChat"}}
		for name, cred := range map[string]string{"operator key": e.Operator, "API key": key, "JWT": a.Owner} {
			e.ok(cred, whoAmI, nil)
			if _, n := e.statementsOf(cred, whoAmI, nil); n != 0 {
				t.Errorf("%s: a warm request sent %d statements", name, n)
			}
			if name != "API key" { // a key decides for others only with iam.authorize, which it holds: asked below
				e.ok(cred, authorize, decide)
				if _, n := e.statementsOf(cred, authorize, decide); n != 0 {
					t.Errorf("%s: a warm decision sent %d statements", name, n)
				}
			}
		}
		e.ok(key, authorize, decide)
		if _, n := e.statementsOf(key, authorize, decide); n != 0 {
			t.Errorf("API key: a warm decision sent %d statements", n)
		}
	})
}

// The write path puts the rows createRole and updateRole wrote into the
// account's model instead of reading every role again: the model it carries
// forward holds exactly what the database holds, field by field, and the
// next decision is made on it without a reload (R3, R4).
func TestWritePath_TheCarriedModelHoldsTheStoredRoles(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("carried", nil)
		key := e.ownerKey(a)
		decide := map[string]any{"in": map[string]any{"accountId": a.ID, "permission": "AgentChat"}}
		e.ok(key, authorize, decide)
		const createRole = `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id } } }`
		var ids []string
		for i := range 3 {
			r := e.ok(a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": fmt.Sprintf("Carried %d", i),
				"grants": []string{"AgentChat"}, "description": "d"}})
			ids = append(ids, r.Get("data.createRole.role.id").String())
		}
		e.ok(a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": ids[1], "expectedVersion": 1,
			"addGrants": []string{"checks.background"}, "name": "Carried one"}})
		if _, n := e.statementsOf(key, authorize, decide); n != 0 {
			t.Fatalf("the decision after the changes sent %d statements: the model was read again", n)
		}
		m, err := e.Server.Service.Model(t.Context(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := e.DB.Client.Role.Query().Where(role.AccountID(a.ID)).
			Order(ent.Asc(role.FieldPosition), ent.Asc(role.FieldID)).All(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		view := func(r *ent.Role) string {
			return fmt.Sprintf("%s %s %q %q %s v%d p%d %v %v %s %s", r.ID, r.Key, r.Name, r.Description, r.Kind, r.Version, r.Position,
				r.Grants, r.Constraints, r.CreatedAt.UTC().Format(time.RFC3339Nano), r.UpdatedAt.UTC().Format(time.RFC3339Nano))
		}
		if len(m.Roles()) != len(stored) {
			t.Fatalf("the model has %d roles, the database %d", len(m.Roles()), len(stored))
		}
		for i := range stored {
			if got, want := view(m.Roles()[i]), view(stored[i]); got != want {
				t.Errorf("role %d:\nmodel    %s\ndatabase %s", i, got, want)
			}
		}
	})
}

// A server's own commits reach it twice: the write gate installs the model
// the change left, and the change feed — woken at once by the commit's own
// notification on PostgreSQL — reports the commit. A report read between the
// commit and that install dropped the old model, and requests in between
// read the whole model again (281 loads in 20 s of createRole over 16
// accounts). Writers and readers racing in the same accounts cause no model
// load.
func TestWritePath_TheFeedDoesNotDropAModelItsCommitIsInstalling(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		const accounts, writers, writes = 4, 3, 30
		type acc struct{ id, owner, key string }
		accs := make([]acc, accounts)
		for i := range accs {
			a := e.newAccount(fmt.Sprintf("feedrace%d", i), nil)
			key := e.ownerKey(a)
			accs[i] = acc{a.ID, a.Owner, key}
		}
		for _, a := range accs {
			e.ok(a.key, authorize, map[string]any{"in": map[string]any{"accountId": a.id, "permission": "AgentChat"}})
		}
		met := adminOf(t, e)
		before := met.scrape()
		var writing, reading sync.WaitGroup
		start, done := make(chan struct{}), make(chan struct{})
		for _, a := range accs {
			for w := range writers {
				writing.Go(func() {
					<-start
					for i := range writes {
						e.createRole(a.owner, a.id, fmt.Sprintf("Race %d %d", w, i), []string{"AgentChat"})
					}
				})
			}
			reading.Go(func() {
				<-start
				for {
					select {
					case <-done:
						return
					default:
						e.ok(a.key, authorize, map[string]any{"in": map[string]any{"accountId": a.id, "permission": "AgentChat"}})
					}
				}
			})
		}
		close(start)
		writing.Wait()
		close(done)
		reading.Wait()
		delta(t, before, met.scrape(), 0, "gatehouse_model_load_duration_seconds")
	})
}
