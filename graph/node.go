package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/account"
	"github.com/gatehouse-iam/gatehouse/ent/apikey"
	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/permission"
	"github.com/gatehouse-iam/gatehouse/ent/role"
	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
	"github.com/gatehouse-iam/gatehouse/ent/scope"
	"github.com/gatehouse-iam/gatehouse/ent/sodrule"
	"github.com/gatehouse-iam/gatehouse/ent/user"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
)

// tables maps id prefixes to the tables node(id:) reads.
var tables = map[string]string{
	ids.Account:    account.Table,
	ids.AuditEvent: auditevent.Table,
	ids.Member:     member.Table,
	ids.Permission: permission.Table,
	ids.Role:       role.Table,
	ids.User:       user.Table,
	ids.Scope:      scope.Table,
	ids.APIKey:     apikey.Table,
	ids.SodRule:    sodrule.Table,
}

func nodeType(_ context.Context, id string) (string, error) {
	if t, ok := tables[ids.Prefix(id)]; ok {
		return t, nil
	}
	return "", apperr.NotFoundf("node", id)
}

// node loads any object by id and applies the same rules as the fields that
// lead to it: directives do not run for node(id:), so it is guarded here.
func (r *Resolver) node(ctx context.Context, id string) (ent.Noder, error) {
	n, err := r.client.Noder(ctx, id, ent.WithNodeType(nodeType))
	if err != nil {
		return nil, apperr.NotFoundf("node", id)
	}
	if err := r.guard(ctx, n); err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			return nil, apperr.NotFoundf("node", id)
		}
		return nil, err
	}
	return n, nil
}

func (r *Resolver) guard(ctx context.Context, n ent.Noder) error {
	p := auth.FromContext(ctx)
	need := func(ref iam.Ref, perm string) error {
		if ref == (iam.Ref{}) { // platform-level objects
			if p.IsOperator() {
				return nil
			}
			return apperr.New(apperr.NotFound, "not found")
		}
		accountID, err := r.svc.AccountOf(ctx, ref)
		if err != nil {
			return err
		}
		_, err = r.svc.Require(ctx, accountID, perm)
		return err
	}
	switch o := n.(type) {
	case *ent.Account:
		_, err := r.svc.Access(ctx, o.ID)
		return err
	case *ent.Role:
		return need(objectRef(o), "iam.roles.read")
	case *ent.Member:
		return need(objectRef(o), "iam.members.read")
	case *ent.APIKey, *ent.Scope:
		return need(objectRef(o), "iam.keys.read")
	case *ent.SodRule:
		return need(objectRef(o), "iam.roles.read") // as Account.sodRules
	case *ent.AuditEvent:
		ev, err := r.client.AuditEvent.Get(ctx, o.ID) // the projected node may lack account_id
		if err != nil {
			return err
		}
		if ev.AccountID == "" {
			return need(iam.Ref{}, "")
		}
		return need(iam.Ref{AccountID: ev.AccountID}, "iam.audit.read")
	case *ent.Permission:
		return need(iam.Ref{}, "")
	case *ent.User:
		if p.IsOperator() || (p != nil && p.UserID == o.ID) {
			return nil
		}
		return apperr.New(apperr.NotFound, "not found")
	}
	return apperr.New(apperr.NotFound, "not found")
}

// nodes resolves each id like node; a failing id is null with its error,
// whose path names the list entry (["nodes", i]).
func (r *Resolver) nodes(ctx context.Context, idList []string) ([]ent.Noder, error) {
	if len(idList) > 100 {
		return nil, apperr.New(apperr.BadUserInput, "at most 100 ids per request")
	}
	out := make([]ent.Noder, len(idList))
	for i, id := range idList {
		n, err := r.node(ctx, id)
		if err != nil {
			graphql.AddError(graphql.WithPathContext(ctx, graphql.NewPathWithIndex(i)), err)
			continue
		}
		out[i] = n
	}
	return out, nil
}
