package iam

import (
	"context"
	"strings"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/scope"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
)

// checkScopeGrants validates a scope's grants (R5); scopes carry no masks.
func (a *Access) checkScopeGrants(grants []string) error {
	if invalid := a.Policy.InvalidGrants(grants, false); len(invalid) > 0 {
		return apperr.New(apperr.BadUserInput,
			"invalid grants (malformed, deny masks, or not in the account's master list): %s", strings.Join(invalid, ", ")).
			With("invalidGrants", invalid)
	}
	return nil
}

// CreateScope creates a named bundle of grants for API keys (S1).
func (s *Service) CreateScope(ctx context.Context, in CreateScopeInput) (*ent.Scope, error) {
	if !roleKeyRE.MatchString(in.Key) {
		return nil, badInput([]string{"key " + in.Key + " must be 1–64 lower-case letters, digits, _ and -"})
	}
	grants := dedupe(in.Grants)
	var sc *ent.Scope
	err := s.change(ctx, Ref{AccountID: in.AccountID}, "iam.scopes.manage", func(c *Change) (err error) {
		tx := c.Tx
		c.Alters() // scopes are not part of the model
		if err := c.checkScopeGrants(grants); err != nil {
			return err
		}
		if n, err := tx.Scope.Query().Where(scope.AccountID(in.AccountID), scope.Key(in.Key)).Count(ctx); err != nil {
			return err
		} else if n > 0 {
			return apperr.New(apperr.Conflict, "a scope with key %q exists in this account", in.Key)
		}
		sc, err = tx.Scope.Create().SetAccountID(in.AccountID).SetKey(in.Key).
			SetDescription(deref(in.Description)).SetGrants(grants).Save(ctx)
		if err != nil {
			return err
		}
		return record(ctx, tx, event{AccountID: in.AccountID, Action: "scope.created", TargetType: "Scope", TargetID: sc.ID,
			Changes: map[string]any{"after": scopeView(sc)}})
	})
	if err != nil {
		return nil, err
	}
	return sc.Unwrap(), nil
}

// UpdateScope changes a scope; keys created with it keep their snapshot (S3).
func (s *Service) UpdateScope(ctx context.Context, in UpdateScopeInput) (*ent.Scope, error) {
	var sc *ent.Scope
	err := s.change(ctx, Ref{ScopeID: in.ScopeID}, "iam.scopes.manage", func(c *Change) error {
		tx, accountID := c.Tx, c.AccountID
		c.Alters()
		if in.Grants != nil {
			if err := c.checkScopeGrants(in.Grants); err != nil {
				return err
			}
		}
		cur, err := tx.Scope.Get(ctx, in.ScopeID)
		if err != nil {
			return notFoundOr(err, "scope", in.ScopeID)
		}
		u := cur.Update()
		if in.Description != nil {
			u.SetDescription(*in.Description)
		}
		if in.Grants != nil {
			u.SetGrants(dedupe(in.Grants))
		}
		if sc, err = u.Save(ctx); err != nil {
			return err
		}
		return record(ctx, tx, event{AccountID: accountID, Action: "scope.updated", TargetType: "Scope", TargetID: sc.ID,
			Changes: diff(scopeView(cur), scopeView(sc))})
	})
	if err != nil {
		return nil, err
	}
	return sc.Unwrap(), nil
}

// DeleteScope deletes a scope.
func (s *Service) DeleteScope(ctx context.Context, in DeleteScopeInput) error {
	return s.change(ctx, Ref{ScopeID: in.ScopeID}, "iam.scopes.manage", func(c *Change) error {
		tx, accountID := c.Tx, c.AccountID
		c.Alters()
		cur, err := tx.Scope.Get(ctx, in.ScopeID)
		if err != nil {
			return notFoundOr(err, "scope", in.ScopeID)
		}
		if err := tx.Scope.DeleteOne(cur).Exec(ctx); err != nil {
			return err
		}
		return record(ctx, tx, event{AccountID: accountID, Action: "scope.deleted", TargetType: "Scope", TargetID: cur.ID,
			Changes: map[string]any{"before": scopeView(cur)}})
	})
}

func scopeView(sc *ent.Scope) map[string]any {
	return map[string]any{"key": sc.Key, "description": sc.Description, "grants": sc.Grants}
}
