package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
)

// hasPermission lets the field run only when the caller holds permission in
// the field's account: the parent object's account, or the account the
// mutation's input points into. It never answers a silent null.
func (r *Resolver) hasPermission(ctx context.Context, obj any, next graphql.Resolver, permission string) (any, error) {
	ref, err := refOf(ctx, obj)
	if err != nil {
		return nil, err
	}
	accountID, err := r.svc.AccountOf(ctx, ref)
	if err != nil {
		return nil, err
	}
	a, err := r.svc.Access(ctx, accountID)
	if apperr.CodeOf(err) == apperr.NotFound {
		// The account is invisible: say so of the object the caller named,
		// in the words used for an id that never existed.
		return nil, ref.NotFound()
	}
	if err != nil {
		return nil, err
	}
	if !a.Has(permission) {
		return nil, apperr.Missing("this field", []string{permission})
	}
	if id := a.SubjectID(); id != "" {
		r.svc.PermissionUsed(a.Account.ID, id, permission) // V2; the model's id, not the request's
	}
	return next(ctx)
}

// refOf finds the object a guarded field belongs to.
func refOf(ctx context.Context, obj any) (iam.Ref, error) {
	switch o := obj.(type) {
	case *ent.Account:
		return iam.Ref{AccountID: o.ID}, nil
	case *ent.Role, *ent.Member, *ent.APIKey:
		return objectRef(o), nil
	}
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		if in, ok := fc.Args["input"].(iam.Targeted); ok {
			return in.Target(), nil
		}
		if id, ok := fc.Args["accountId"].(string); ok {
			return iam.Ref{AccountID: id}, nil
		}
	}
	return iam.Ref{}, apperr.New(apperr.Internal, "internal error")
}

// objectRef points at the account of a role or member. Objects loaded with
// entgql's field projection may lack account_id; their id still leads there.
func objectRef(obj any) iam.Ref {
	var accountID string
	var ref iam.Ref
	switch o := obj.(type) {
	case *ent.Role:
		accountID, ref = o.AccountID, iam.Ref{RoleID: o.ID}
	case *ent.Member:
		accountID, ref = o.AccountID, iam.Ref{MemberID: o.ID}
	case *ent.APIKey:
		accountID, ref = o.AccountID, iam.Ref{APIKeyID: o.ID}
	case *ent.Scope:
		accountID, ref = o.AccountID, iam.Ref{ScopeID: o.ID}
	case *ent.SodRule:
		accountID, ref = o.AccountID, iam.Ref{SodRuleID: o.ID}
	}
	if accountID != "" {
		return iam.Ref{AccountID: accountID}
	}
	return ref
}

// operatorOnly lets only the platform operator use the field (P1).
func operatorOnly(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
	if !auth.FromContext(ctx).IsOperator() {
		return nil, apperr.New(apperr.Forbidden, "only the platform operator may use this field").With("reason", "OPERATOR_ONLY")
	}
	return next(ctx)
}

// RequireAuthentication is a root-field middleware: without credentials only
// introspection answers; every other root field is UNAUTHENTICATED (P4).
func RequireAuthentication(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	rc := graphql.GetRootFieldContext(ctx)
	if rc == nil || strings.HasPrefix(rc.Field.Name, "__") {
		return next(ctx)
	}
	if auth.FromContext(ctx) == nil {
		graphql.AddError(ctx, apperr.New(apperr.Unauthenticated,
			"authentication required: send an operator key, API key or JWT as `Authorization: Bearer …`"))
		return graphql.Null
	}
	// A connection's credential was checked when it opened: it is checked
	// again for every operation, as a request's is, so that a revoked or
	// expired credential stops working on open connections too (S5, P3);
	// the connection closes once the error is sent.
	if err := iam.CheckSession(ctx); err != nil {
		graphql.AddError(ctx, err)
		endSessionOn(ctx, err)
		return graphql.Null
	}
	return next(ctx)
}
