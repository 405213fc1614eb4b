package iam

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/apikey"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/role"
	"github.com/gatehouse-iam/gatehouse/ent/scope"
	"github.com/gatehouse-iam/gatehouse/ent/sodrule"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/authz"
)

// The roles every account has (R2).
const (
	FullAccess    = "full_access"
	DefaultAccess = "default_access"
)

// isFullAccess reports whether r is its account's full_access: its holders
// are the owners (M3).
func isFullAccess(r *ent.Role) bool { return fullAccess(r.Kind, r.Key) }

func fullAccess(kind role.Kind, key string) bool { return kind == role.KindSYSTEM && key == FullAccess }

// Access is what the request's principal may do in one account.
type Access struct {
	*Model
	// Operator is true for the platform operator, who holds everything.
	Operator bool
	// Member is the caller's membership (users), or the member behind the
	// caller's API key, if any.
	Member *MemberRef
	// Key is the caller's API key (API keys only).
	Key *ent.APIKey
	// Subject is the caller's compiled permissions; empty when the member,
	// the key or the account is not active.
	Subject *authz.Subject
}

// Has reports whether the caller holds permission in the account.
func (a *Access) Has(permission string) bool {
	return a.Operator || a.Subject.Allows(permission, nil)
}

// SubjectID is the caller's member or key id ("" for the operator).
func (a *Access) SubjectID() string {
	switch {
	case a.Key != nil:
		return a.Key.ID
	case a.Member != nil:
		return a.Member.ID
	}
	return ""
}

// Masked reports whether a deny mask applies to the caller (K6).
func (a *Access) Masked(mask string) bool {
	return !a.Operator && slices.Contains(a.Subject.Masks(), mask)
}

// requestCache memoizes accesses for one request; commits clear the entries
// of the changed account so a request reads its own writes.
type requestCache struct {
	mu sync.Mutex
	// Most requests act in one account: its access is kept without a map
	// (one allocation fewer on the decision path); others go in access.
	firstID string
	first   *Access
	access  map[string]*Access
	// unconfirmed are the models the request read anew while the change
	// feed had not confirmed the cache (Model).
	unconfirmed map[string]*Model
}

// model is the model the request read anew for an account, if any.
func (c *requestCache) model(accountID string) *Model {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unconfirmed[accountID]
}

func (c *requestCache) putModel(accountID string, m *Model) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.unconfirmed == nil {
		c.unconfirmed = map[string]*Model{}
	}
	c.unconfirmed[accountID] = m
}

func (c *requestCache) get(accountID string) (*Access, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.first != nil && c.firstID == accountID {
		return c.first, true
	}
	a, ok := c.access[accountID]
	return a, ok
}

func (c *requestCache) put(accountID string, a *Access) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.first == nil || c.firstID == accountID:
		c.firstID, c.first = accountID, a
	case c.access == nil:
		c.access = map[string]*Access{accountID: a}
	default:
		c.access[accountID] = a
	}
}

// drop forgets an account ("" for all).
func (c *requestCache) drop(accountID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if accountID == "" || c.firstID == accountID {
		c.firstID, c.first = "", nil
	}
	if accountID == "" {
		clear(c.access)
		clear(c.unconfirmed)
		return
	}
	delete(c.access, accountID)
	delete(c.unconfirmed, accountID)
}

type cacheKey struct{}

// WithRequestCache returns ctx with a fresh per-request cache.
func WithRequestCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, cacheKey{}, &requestCache{})
}

func cacheFrom(ctx context.Context) *requestCache {
	c, _ := ctx.Value(cacheKey{}).(*requestCache)
	return c
}

// forget drops what the request cached about an account ("" for all).
func forget(ctx context.Context, accountID string) {
	if c := cacheFrom(ctx); c != nil {
		c.drop(accountID)
	}
}

// Model returns the compiled model of an account (NOT_FOUND when absent).
func (s *Service) Model(ctx context.Context, accountID string) (*Model, error) {
	if !s.cache.fresh() {
		// The change feed has not confirmed lately that the cache is
		// current (the database may be unreachable): read the account
		// anew, or fail; never answer from a model that may be stale (P5).
		// Once a request: a members page asks for its account's model for
		// every member it shows, and this is when the database is slow.
		c := cacheFrom(ctx)
		if m := c.model(accountID); m != nil {
			return m, nil
		}
		m, err := s.loadModel(ctx, s.client, accountID)
		if err != nil {
			return nil, err
		}
		c.putModel(accountID, m)
		return m, nil
	}
	for {
		m, st := s.cache.get(accountID)
		s.obs.CacheLookup(m != nil)
		if m != nil {
			return m, nil
		}
		// Concurrent misses share one load, which no single request's
		// cancellation may cut short for the others.
		v, err, _ := s.cache.flight.Do(st.flightKey(accountID), func() (any, error) {
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
			defer cancel()
			m, err := s.loadModel(lctx, s.client, accountID)
			if err != nil {
				return nil, err
			}
			s.cache.put(accountID, m, st)
			return m, nil
		})
		if err != nil {
			return nil, err
		}
		// A change reported while the model loaded makes it stale already.
		if m := v.(*Model); s.cache.current(accountID, m) {
			return m, nil
		}
	}
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
		if a, ok := c.get(accountID); ok {
			return a, nil
		}
	}
	s.obs.AccountUsed(ctx, accountID)
	a, err := s.loadAccess(ctx, p, accountID)
	if err != nil {
		return nil, err
	}
	if c != nil {
		c.put(accountID, a)
	}
	return a, nil
}

func (s *Service) loadAccess(ctx context.Context, p *auth.Principal, accountID string) (*Access, error) {
	if err := s.mayReach(ctx, p, accountID); err != nil {
		return nil, err
	}
	m, err := s.Model(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if p.Kind == auth.User {
		// An invitation made after the user signed in on this server
		// becomes ACTIVE when the user first reaches its account (M1).
		if e, _ := m.MemberByUser(ctx, p.UserID); e != nil && e.Member.Status == member.StatusINVITED {
			if err := s.activate(ctx, accountID, e.Member.ID); err != nil {
				return nil, err
			}
			if m, err = s.Model(ctx, accountID); err != nil {
				return nil, err
			}
		}
	}
	return accessOn(ctx, p, m, s.client)
}

// mayReach refuses, before the account's model is read, a principal that
// cannot see the account: an API key of another account, a user who is not
// an ACTIVE or INVITED member of it. Otherwise anyone signed in could make
// a server load any account whose id they knew (node and nodes take 100 a
// request) and push the models of its users out of the cache. A user's
// membership is the model's to say when it is cached; else it is one
// lookup by (account, user), cheaper than the model that would follow.
func (s *Service) mayReach(ctx context.Context, p *auth.Principal, accountID string) error {
	switch p.Kind {
	case auth.APIKey:
		if p.AccountID != accountID {
			return apperr.NotFoundf("account", accountID)
		}
	case auth.User:
		if m, _ := s.cache.get(accountID); m != nil && s.cache.fresh() {
			return nil // accessOn decides, from the model
		}
		in, err := s.client.Member.Query().Where(member.AccountID(accountID), member.UserID(p.UserID),
			member.StatusIn(member.StatusACTIVE, member.StatusINVITED)).Exist(ctx)
		if err != nil {
			return apperr.Wrap(err, "iam.Access: membership")
		}
		if !in {
			return apperr.NotFoundf("account", accountID)
		}
	}
	return nil
}

// accessOn is what p may do in m's account; keys the model has not met yet
// are read through keys.
func accessOn(ctx context.Context, p *auth.Principal, m *Model, keys *ent.Client) (*Access, error) {
	accountID := m.Account.ID
	switch p.Kind {
	case auth.Operator:
		return &Access{Model: m, Operator: true, Subject: m.Subject(nil)}, nil
	case auth.User:
		e, err := m.MemberByUser(ctx, p.UserID)
		if err != nil {
			return nil, err
		}
		if e == nil || e.Member.Status != member.StatusACTIVE {
			return nil, apperr.NotFoundf("account", accountID)
		}
		return &Access{Model: m, Member: &e.Member, Subject: e.Subject}, nil
	case auth.APIKey:
		if p.AccountID != accountID {
			return nil, apperr.NotFoundf("account", accountID)
		}
		k, err := m.keyVia(ctx, keys, p.ID)
		if err != nil {
			return nil, err
		}
		return keyAccess(m, k), nil
	}
	return nil, apperr.NotFoundf("account", accountID)
}

// keyAccess is what an API key of m's account may do there.
func keyAccess(m *Model, k *KeyEntry) *Access {
	a := &Access{Model: m, Key: k.Key, Subject: m.Subject(nil)}
	if k.Reason(time.Now()) == authz.Granted && m.Active() {
		a.Subject = k.Snapshot
	}
	return a
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

// AccountOf returns the account a Ref points into; an unknown object is
// NOT_FOUND.
func (s *Service) AccountOf(ctx context.Context, ref Ref) (string, error) {
	var err error
	var ids []string
	switch {
	case ref.AccountID != "":
		return ref.AccountID, nil
	case ref.RoleID != "":
		ids, err = s.client.Role.Query().Where(role.ID(ref.RoleID)).Select(role.FieldAccountID).Strings(ctx)
	case ref.MemberID != "":
		ids, err = s.client.Member.Query().Where(member.ID(ref.MemberID)).Select(member.FieldAccountID).Strings(ctx)
	case ref.ScopeID != "":
		ids, err = s.client.Scope.Query().Where(scope.ID(ref.ScopeID)).Select(scope.FieldAccountID).Strings(ctx)
	case ref.SodRuleID != "":
		ids, err = s.client.SodRule.Query().Where(sodrule.ID(ref.SodRuleID)).Select(sodrule.FieldAccountID).Strings(ctx)
	case ref.APIKeyID != "":
		ids, err = s.client.APIKey.Query().Where(apikey.ID(ref.APIKeyID)).Select(apikey.FieldAccountID).Strings(ctx)
	default:
		return "", apperr.New(apperr.BadUserInput, "no account given")
	}
	if err != nil {
		return "", apperr.Wrap(err, "iam.AccountOf")
	}
	if len(ids) != 1 {
		return "", ref.NotFound()
	}
	return ids[0], nil
}

// NotFound is the answer about the object ref names when it does not exist
// or the caller may not see it: the same words either way, naming only what
// the caller gave.
func (ref Ref) NotFound() *apperr.Error {
	switch {
	case ref.RoleID != "":
		return apperr.NotFoundf("role", ref.RoleID)
	case ref.MemberID != "":
		return apperr.NotFoundf("member", ref.MemberID)
	case ref.ScopeID != "":
		return apperr.NotFoundf("scope", ref.ScopeID)
	case ref.SodRuleID != "":
		return apperr.NotFoundf("separation-of-duty rule", ref.SodRuleID)
	case ref.APIKeyID != "":
		return apperr.NotFoundf("API key", ref.APIKeyID)
	}
	return apperr.NotFoundf("account", ref.AccountID)
}

func notFoundOr(err error, kind, id string) error {
	if ent.IsNotFound(err) {
		return apperr.NotFoundf(kind, id)
	}
	return apperr.Wrap(err, "iam: load "+kind)
}
