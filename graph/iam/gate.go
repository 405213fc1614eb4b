package iam

import (
	"context"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
)

// The write gate. Every change a caller makes to an account passes here, and
// only here does a command learn what its caller may do: the caller's
// permissions, roles, status and key are read inside the write transaction,
// after the account's lock, so every check a command makes (R7's "only what
// you hold", S2's key snapshot, M3's owners, V1's rules) is made on the state
// the change commits on — never on a cached view that a concurrent demotion,
// suspension or revocation has already made stale (D6).

// Change is a command's view inside its transaction.
type Change struct {
	// Access is what the caller may do, on the account as locked by Tx.
	*Access
	Tx           *ent.Tx
	AccountID    string
	alters       touch
	declared     bool
	wroteRoles   []*ent.Role // rows of roles the change created or updated (WroteRole)
	wroteMembers []string    // members whose row or roles the change wrote (WroteMember)
}

// WroteRole names the row of a role the change created or updated, as it
// now is, so that the commit puts it into the model instead of reading
// every role of the account again. A change that alters roles otherwise
// (a deletion) names none, and the roles are read again.
func (c *Change) WroteRole(r *ent.Role) {
	c.wroteRoles = append(c.wroteRoles, r)
}

// WroteMember names members whose row or roles the change wrote, so that
// the commit reads those members into the model instead of every member of
// the account (an account of 66,000 members took a member write a second).
// A change that alters members and names none has them all read again.
func (c *Change) WroteMember(ids ...string) {
	c.wroteMembers = append(c.wroteMembers, ids...)
}

// Alters declares what of the account's model the change alters, so that
// the commit carries the model forward instead of dropping it: the parts
// named are read again inside the transaction, the rest is kept. A change
// that declares nothing is taken to alter everything, and the account's
// model is read anew on its next use: declaring is an optimisation, never
// a condition of correctness.
func (c *Change) Alters(parts ...touch) {
	c.declared = true
	for _, p := range parts {
		c.alters |= p
	}
}

// change runs fn in a transaction on the account ref points into, once the
// caller is known to hold permission there on the locked state, and commits
// it with fn's audit events. permission "" checks only that the caller may
// see the account (operator-only fields, whose directive decides).
func (s *Service) change(ctx context.Context, ref Ref, permission string, fn func(c *Change) error) error {
	return s.gate(ctx, ref, need{permission: permission}, true, fn)
}

// preview is change rolled back: what-if answers run the very code, and
// meet the very refusals, of the change they preview.
func (s *Service) preview(ctx context.Context, ref Ref, permission string, fn func(c *Change) error) error {
	return s.gate(ctx, ref, need{permission: permission}, false, fn)
}

// administer is change for the account itself (master list, settings,
// status): in a suspended account only the operator may make one (A6).
func (s *Service) administer(ctx context.Context, accountID, permission string, fn func(c *Change) error) error {
	return s.gate(ctx, Ref{AccountID: accountID}, need{permission: permission, operatorWhenSuspended: true}, true, fn)
}

// need is what a change requires of its caller.
type need struct {
	permission            string
	operatorWhenSuspended bool
}

func (s *Service) gate(ctx context.Context, ref Ref, n need, commit bool, fn func(c *Change) error) error {
	accountID, err := s.AccountOf(ctx, ref)
	if err != nil {
		return err
	}
	// A first check on the cached model refuses at once callers who may not
	// act here, so that they never queue for, or hold, the account's lock.
	// It grants nothing: the check that counts is the one below.
	pre, err := s.Access(ctx, accountID)
	if err := allowed(pre, err, ref, n); err != nil {
		return err
	}
	return s.runTx(ctx, accountID, commit, func(tx *ent.Tx) (*Model, error) {
		a, err := s.lockedAccess(ctx, tx, accountID)
		if err := allowed(a, err, ref, n); err != nil {
			return nil, err
		}
		c := &Change{Access: a, Tx: tx, AccountID: accountID}
		if err := fn(c); err != nil || !c.declared || !commit {
			return nil, err
		}
		head, _ := headOf(tx, accountID)
		return a.Model.evolve(ctx, tx, c.alters, head.seq, c.wroteRoles, c.wroteMembers)
	})
}

// lockedModel is the account's model as tx, which holds its lock, sees it.
func (s *Service) lockedModel(ctx context.Context, tx *ent.Tx, accountID string) (*Model, error) {
	h, ok := heldHeads(tx, accountID) // on PostgreSQL, read with the lock
	var err error
	if !ok {
		if h, err = s.readHeads(ctx, tx, accountID); err != nil {
			return nil, err
		}
		holdHeads(tx, accountID, h)
	}
	if m := s.cache.at(accountID, h.account.seq, h.platform.seq); m != nil {
		return m, nil
	}
	return s.loadModelAt(ctx, tx.Client(), accountID, h)
}

// allowed checks an access to ref's account: an account the caller may not
// see is NOT_FOUND in the words of the object the caller named (whether it
// exists or not), a missing permission FORBIDDEN, a suspended account
// FORBIDDEN (A6).
func allowed(a *Access, err error, ref Ref, n need) error {
	switch {
	case apperr.CodeOf(err) == apperr.NotFound:
		return ref.NotFound()
	case err != nil:
		return err
	case n.permission != "" && !a.Has(n.permission):
		return apperr.Missing("this operation", []string{n.permission})
	case a.Operator && n.operatorWhenSuspended:
		return nil
	}
	return requireActive(a.Account)
}

// lockedAccess is the caller's access on the account as tx sees it. The
// account's row is locked (runTx): its model cannot change until tx ends, so
// a cached model read at the current heads is exact, and any other model is
// read again through tx.
func (s *Service) lockedAccess(ctx context.Context, tx *ent.Tx, accountID string) (*Access, error) {
	m, err := s.lockedModel(ctx, tx, accountID)
	if err != nil {
		return nil, err
	}
	p := auth.FromContext(ctx)
	if p == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	return accessOn(ctx, p, m, tx.Client())
}
