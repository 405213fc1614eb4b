package main

import (
	"context"
	"fmt"
	"io"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/account"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/user"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
	"github.com/gatehouse-iam/gatehouse/graph/templates"
)

// seedDemo creates one demo account per template (once; a restart reuses
// them), with its demo members, and prints an operator key, one owner key
// per account and a first query to paste into GraphiQL. Keys are new on
// every start: their secrets can only be shown when they are made.
func seedDemo(ctx context.Context, svc *iam.Service, out io.Writer, graphiqlURL string) error {
	ctx = auth.WithMeta(ctx, auth.Meta{RequestID: "demo", ClientAddr: "cli"})
	opKey, opSecret, err := svc.CreateOperatorKey(ctx, "demo")
	if err != nil {
		return err
	}
	op := auth.WithPrincipal(ctx, &auth.Principal{Kind: auth.Operator, ID: opKey.ID, Label: opKey.ID})
	c := svc.Client()
	fmt.Fprintf(out, "\nGatehouse demo — GraphiQL: %s\n\nOperator key (every account):\n  %s\n\n", graphiqlURL, opSecret)
	fmt.Fprintf(out, "%-12s %-32s %s\n", "template", "account", "owner's API key")
	var firstAccount string
	for _, t := range templates.All() {
		slug := "demo-" + t.Name
		ownerEmail := "owner@" + t.Name + ".demo"
		acc, err := c.Account.Query().Where(account.Slug(slug)).Only(ctx)
		if ent.IsNotFound(err) {
			acc, _, err = svc.CreateAccount(op, iam.CreateAccountInput{
				Name: "Demo " + t.Name, Slug: slug, Template: &t.Name,
				Owner: &iam.OwnerInput{Email: ownerEmail, Name: ptr("Demo owner")},
			})
		}
		if err != nil {
			return fmt.Errorf("demo %s: %w", t.Name, err)
		}
		for _, m := range t.Demo {
			_, err := svc.AddMember(op, iam.AddMemberInput{AccountID: acc.ID, Email: m.Email, Name: ptr(m.Name), RoleKeys: m.Roles})
			if err != nil && apperr.CodeOf(err) != apperr.Conflict { // already a member from an earlier start
				return fmt.Errorf("demo %s: member %s: %w", t.Name, m.Email, err)
			}
		}
		owner, err := c.Member.Query().Where(member.AccountID(acc.ID), member.HasUserWith(user.Email(ownerEmail))).Only(ctx)
		if err != nil {
			return fmt.Errorf("demo %s: owner: %w", t.Name, err)
		}
		_, secret, err := svc.CreateAPIKey(op, iam.CreateAPIKeyInput{AccountID: acc.ID, Name: "demo", MemberID: &owner.ID})
		if err != nil {
			return fmt.Errorf("demo %s: key: %w", t.Name, err)
		}
		fmt.Fprintf(out, "%-12s %-32s %s\n", t.Name, acc.ID, secret)
		if firstAccount == "" {
			firstAccount = acc.ID
		}
	}
	fmt.Fprintf(out, `
In GraphiQL's Headers put {"Authorization": "Bearer <key>"} with the operator key, or the owner key of
the account you ask about, and run:

  { viewer { kind } account(id: "%s") { name roles { edges { node { key name effectivePermissions } } }
    members { edges { node { email roles { key } } } } } }

`, firstAccount)
	return nil
}

func ptr[T any](v T) *T { return &v }
