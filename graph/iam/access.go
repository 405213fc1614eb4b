package iam

import (
	"context"
	"slices"
	"sync"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/account"
	"github.com/gatehouse-iam/gatehouse/ent/assignment"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/role"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/authz"
)

// The roles every account has (R2).
const (
	FullAccess    = "full_access"
	DefaultAccess = "default_access"
)

// Model is the compiled permission model of one account: the account and the
// decision engine's policy for its master list.
type Model struct {
	Account *ent.Account
	Policy  *authz.Policy
}

// Role converts an ent role of this account for the decision engine; the
// system role default_access gets the account's defaultAccessExcludes.
func (m *Model) Role(r *ent.Role) authz.Role {
	ar := authz.Role{ID: r.ID, Key: r.Key, Grants: r.Grants, Constraints: r.Constraints}
	if r.Kind == role.KindSYSTEM && r.Key == DefaultAccess {
		ar.Excludes = m.Account.DefaultAccessExcludes
	}
	return ar
}

// Subject compiles a set of roles of this account.
func (m *Model) Subject(roles []*ent.Role) *authz.Subject {
	ars := make([]authz.Role, len(roles))
	for i, r := range roles {
		ars[i] = m.Role(r)
	}
	return m.Policy.Subject(ars)
}

// Access is what the request's principal may do in one account.
type Access struct {
	*Model
	// Operator is true for the platform operator, who holds everything.
	Operator bool
	// Member is the caller's membership (users only).
	Member *ent.Member
	// Subject is the caller's compiled permissions; empty when the member or
	// the account is not active.
	Subject *authz.Subject
}

// Has reports whether the caller holds permission in the account.
func (a *Access) Has(permission string) bool {
	return a.Operator || a.Subject.Allows(permission, nil)
}

// Masked reports whether a deny mask applies to the caller (K6).
func (a *Access) Masked(mask string) bool {
	return !a.Operator && slices.Contains(a.Subject.Masks(), mask)
}

// requestCache memoizes models and accesses for one request; commits clear
// the entries of the changed account so a request reads its own writes.
type requestCache struct {
	mu     sync.Mutex
	models map[string]*Model
	access map[string]*Access
}

type cacheKey struct{}

// WithRequestCache returns ctx with a fresh per-request cache.
func WithRequestCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, cacheKey{}, &requestCache{models: map[string]*Model{}, access: map[string]*Access{}})
}

func cacheFrom(ctx context.Context) *requestCache {
	c, _ := ctx.Value(cacheKey{}).(*requestCache)
	return c
}

// forget drops what the request cached about an account (after a commit).
func forget(ctx context.Context, accountID string) {
	c := cacheFrom(ctx)
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if accountID == "" {
		clear(c.models)
		clear(c.access)
		return
	}
	delete(c.models, accountID)
	delete(c.access, accountID)
}

// Model returns the compiled model of an account (NOT_FOUND when absent).
func (s *Service) Model(ctx context.Context, accountID string) (*Model, error) {
	c := cacheFrom(ctx)
	if c != nil {
		c.mu.Lock()
		m, ok := c.models[accountID]
		c.mu.Unlock()
		if ok {
			return m, nil
		}
	}
	m, err := s.loadModel(ctx, s.client, accountID)
	if err != nil {
		return nil, err
	}
	if c != nil {
		c.mu.Lock()
		c.models[accountID] = m
		c.mu.Unlock()
	}
	return m, nil
}

func (s *Service) loadModel(ctx context.Context, client *ent.Client, accountID string) (*Model, error) {
	acc, err := client.Account.Get(ctx, accountID)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, apperr.NotFoundf("account", accountID)
		}
		return nil, apperr.Wrap(err, "iam.Model")
	}
	perms, err := acc.QueryPermissions().All(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "iam.Model: master list")
	}
	return &Model{Account: acc, Policy: policyOf(perms)}, nil
}

// policyOf compiles master-list catalog entries for the decision engine.
func policyOf(perms []*ent.Permission) *authz.Policy {
	cat := make([]authz.Permission, len(perms))
	keys := make([]string, len(perms))
	for i, p := range perms {
		cat[i] = catalogEntry(p)
		keys[i] = p.Key
	}
	return authz.NewPolicy(cat, keys)
}

func catalogEntry(p *ent.Permission) authz.Permission {
	k := authz.Grant
	if p.Kind == "DENY_MASK" {
		k = authz.DenyMask
	}
	return authz.Permission{Key: p.Key, Kind: k, Implies: p.Implies}
}

// Access returns what the caller may do in an account. Accounts the caller
// may not see are NOT_FOUND, exactly like accounts that do not exist.
func (s *Service) Access(ctx context.Context, accountID string) (*Access, error) {
	p := auth.FromContext(ctx)
	if p == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	c := cacheFrom(ctx)
	if c != nil {
		c.mu.Lock()
		a, ok := c.access[accountID]
		c.mu.Unlock()
		if ok {
			return a, nil
		}
	}
	a, err := s.loadAccess(ctx, p, accountID)
	if err != nil {
		return nil, err
	}
	if c != nil {
		c.mu.Lock()
		c.access[accountID] = a
		c.mu.Unlock()
	}
	return a, nil
}

func (s *Service) loadAccess(ctx context.Context, p *auth.Principal, accountID string) (*Access, error) {
	m, err := s.Model(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if p.IsOperator() {
		return &Access{Model: m, Operator: true, Subject: m.Subject(nil)}, nil
	}
	if p.Kind != auth.User {
		return nil, apperr.NotFoundf("account", accountID)
	}
	mem, err := s.client.Member.Query().
		Where(member.AccountID(accountID), member.UserID(p.UserID), member.StatusEQ(member.StatusACTIVE)).
		Only(ctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, apperr.NotFoundf("account", accountID)
		}
		return nil, apperr.Wrap(err, "iam.Access: member")
	}
	a := &Access{Model: m, Member: mem, Subject: m.Subject(nil)}
	if m.Account.Status != account.StatusACTIVE {
		return a, nil // A6: a suspended account grants nothing
	}
	roles, err := s.client.Role.Query().
		Where(role.HasAssignmentsWith(assignment.MemberID(mem.ID))).
		Order(ent.Asc(role.FieldID)).
		All(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "iam.Access: roles")
	}
	a.Subject = m.Subject(roles)
	return a, nil
}

// Require returns FORBIDDEN unless the caller holds permission in the account.
func (s *Service) Require(ctx context.Context, accountID, permission string) (*Access, error) {
	a, err := s.Access(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if !a.Has(permission) {
		return nil, apperr.Missing("this operation", []string{permission})
	}
	return a, nil
}

// AccountOf returns the account a Ref points into; an unknown role or member
// is NOT_FOUND.
func (s *Service) AccountOf(ctx context.Context, ref Ref) (string, error) {
	switch {
	case ref.AccountID != "":
		return ref.AccountID, nil
	case ref.RoleID != "":
		r, err := s.client.Role.Query().Where(role.ID(ref.RoleID)).Select(role.FieldAccountID).Only(ctx)
		if err != nil {
			return "", notFoundOr(err, "role", ref.RoleID)
		}
		return r.AccountID, nil
	case ref.MemberID != "":
		m, err := s.client.Member.Query().Where(member.ID(ref.MemberID)).Select(member.FieldAccountID).Only(ctx)
		if err != nil {
			return "", notFoundOr(err, "member", ref.MemberID)
		}
		return m.AccountID, nil
	}
	return "", apperr.New(apperr.BadUserInput, "no account given")
}

func notFoundOr(err error, kind, id string) error {
	if ent.IsNotFound(err) {
		return apperr.NotFoundf(kind, id)
	}
	return apperr.Wrap(err, "iam: load "+kind)
}
