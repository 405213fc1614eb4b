package apitest

import (
	"context"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/Khan/genqlient/graphql"

	"github.com/gatehouse-iam/gatehouse/graph/client"
	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// The typed client (graph/client, generated from schema/) works against a real
// server: the README's onboarding steps, the dashboard's query and a
// decision.
func TestClient_TypedClientRunsTheREADMEOperations(t *testing.T) {
	e := newEnv(t, dialect.SQLite, server.Config{})
	e.defineCatalog()
	ctx := context.Background()
	op := graphql.NewClient(e.URL+"/graphql", client.WithKey(nil, e.Operator))
	acc, err := client.CreateAccount(ctx, op, client.CreateAccountInput{
		Name: "Typed", Slug: "typed", Permissions: []string{"AgentChat"},
		Owner: client.OwnerInput{Email: "owner@typed.test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := acc.CreateAccount.Account.Id
	role, err := client.CreateRole(ctx, op, client.CreateRoleInput{AccountId: id, Name: "Chat", Grants: []string{"AgentChat"}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := client.AddMember(ctx, op, client.AddMemberInput{AccountId: id, Email: "bo@typed.test", RoleIds: []string{role.CreateRole.Role.Id}})
	if err != nil {
		t.Fatal(err)
	}
	page, err := client.MembersAndRoles(ctx, op, id, nil, &client.MemberWhereInput{EmailContainsFold: ptr("bo@")})
	if err != nil {
		t.Fatal(err)
	}
	if page.Account.Members.TotalCount != 1 || page.Account.Members.Edges[0].Node.Roles[0].Key != "chat" {
		t.Fatalf("members: %+v", page.Account.Members)
	}
	d, err := client.Can(ctx, op, id, m.AddMember.Member.Id, "AgentChat")
	if err != nil || !d.Authorize.Allowed {
		t.Fatalf("can: %+v, %v", d, err)
	}
	// GraphQL errors come back as errors, with the server's code.
	if _, err := client.CreateRole(ctx, op, client.CreateRoleInput{AccountId: id, Name: "Bad", Grants: []string{"nope.nope"}}); err == nil {
		t.Fatal("an invalid grant was accepted")
	}
}

func ptr[T any](v T) *T { return &v }
