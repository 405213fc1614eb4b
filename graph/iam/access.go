package iam

import (
	"context"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/account"
	"github.com/gatehouse-iam/gatehouse/ent/apikey"
	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/permission"
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

// Model is the compiled permission model of one account: the account, the
// decision engine's policy (catalog and master list), the account's roles
// and members, and, compiled as they are asked for, its members' and keys'
// permissions. A Model is immutable but for those memos; a commit to the
// account replaces it.
type Model struct {
	Account *ent.Account
	Policy  *authz.Policy
	// Roles are the account's roles, in position order.
	Roles []*ent.Role

	svc *Service
	// seq and platformSeq are the newest events of the account's and of the
	// platform's audit chains when the model was read: its revision (D6).
	seq, platformSeq int64
	// rows are every member of the account with its assignments, and byUser
	// maps a user id to its member id: loaded with the model in two
	// statements, so that no decision queries for its subject once warm.
	rows       map[string]*ent.Member
	byUser     map[string]string
	expandOnce sync.Once
	expanded   [][]string // Roles' expansions, by index (see roleKeys)
	granting   sync.Map   // permission → roles granting it (see rolesGranting)
	mu         sync.Mutex
	members    map[string]*MemberEntry // compiled, by member id
	keys       map[string]*KeyEntry    // by key id
	keyLoads   singleflight.Group
}

// MemberEntry is a member with its roles and compiled permissions.
type MemberEntry struct {
	Member *ent.Member
	Roles  []*ent.Role
	// Subject holds nothing unless the member and the account are ACTIVE.
	Subject *authz.Subject
}

// KeyEntry is an API key with its compiled snapshot.
type KeyEntry struct {
	Key *ent.APIKey
	// MemberStatus is the status of the key's member ("" when none).
	MemberStatus member.Status
	// Snapshot is the key's permissions, bounded by the master list (K5).
	Snapshot *authz.Subject
}

// Reason says why a key does not work now (authz.Granted when it does).
func (k *KeyEntry) Reason(now time.Time) authz.Reason {
	switch {
	case k.Key.RevokedAt != nil || k.MemberStatus == member.StatusREMOVED:
		return authz.KeyRevoked
	case k.Key.ExpiresAt != nil && !now.Before(*k.Key.ExpiresAt):
		return authz.KeyExpired
	case k.MemberStatus != "" && k.MemberStatus != member.StatusACTIVE:
		return authz.SubjectInactive
	}
	return authz.Granted
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

// Active reports whether the account is not suspended (A6).
func (m *Model) Active() bool { return m.Account.Status == account.StatusACTIVE }

// MemberByID returns a member of the account (NOT_FOUND otherwise).
func (m *Model) MemberByID(ctx context.Context, id string) (*MemberEntry, error) {
	m.mu.Lock()
	e, ok := m.members[id]
	m.mu.Unlock()
	if ok {
		return e, nil
	}
	mem, ok := m.rows[id]
	if !ok {
		return nil, apperr.NotFoundf("member", id)
	}
	return m.remember(mem), nil
}

// MemberByUser returns the user's membership, or nil when there is none.
func (m *Model) MemberByUser(ctx context.Context, userID string) (*MemberEntry, error) {
	id, ok := m.byUser[userID]
	if !ok {
		return nil, nil
	}
	return m.MemberByID(ctx, id)
}

// HeldRoles returns the account's roles a member (loaded with its
// assignments) holds, in position order.
func (m *Model) HeldRoles(mem *ent.Member) []*ent.Role {
	held := []*ent.Role{}
	for _, r := range m.Roles {
		if holds(mem, r) {
			held = append(held, r)
		}
	}
	return held
}

// holds reports whether a member (loaded with its assignments) holds r.
func holds(mem *ent.Member, r *ent.Role) bool {
	return slices.ContainsFunc(mem.Edges.Assignments, func(a *ent.Assignment) bool { return a.RoleID == r.ID })
}

func (m *Model) remember(mem *ent.Member) *MemberEntry {
	e := &MemberEntry{Member: mem, Roles: m.HeldRoles(mem)}
	held := e.Roles
	if mem.Status != member.StatusACTIVE || !m.Active() {
		held = nil // only ACTIVE members of active accounts hold permissions (M1, A6)
	}
	e.Subject = m.Subject(held)
	m.mu.Lock()
	m.members[mem.ID] = e
	m.mu.Unlock()
	return e
}

// KeyByID returns an API key of the account (NOT_FOUND otherwise).
func (m *Model) KeyByID(ctx context.Context, id string) (*KeyEntry, error) {
	return m.keyVia(ctx, m.svc.client, id)
}

// keyVia is KeyByID reading a key the model has not met yet through client
// (a transaction's, inside the write gate). Keys are compiled on first use
// and remembered: a change of a key changes the model's revision.
func (m *Model) keyVia(ctx context.Context, client *ent.Client, id string) (*KeyEntry, error) {
	m.mu.Lock()
	e, ok := m.keys[id]
	m.mu.Unlock()
	if ok {
		return e, nil
	}
	// Requests that meet a key together read it once.
	v, err, _ := m.keyLoads.Do(id, func() (any, error) { return m.readKey(ctx, client, id) })
	if err != nil {
		return nil, err
	}
	return v.(*KeyEntry), nil
}

func (m *Model) readKey(ctx context.Context, client *ent.Client, id string) (*KeyEntry, error) {
	k, err := client.APIKey.Query().Where(apikey.ID(id), apikey.AccountID(m.Account.ID)).Only(ctx)
	if err != nil {
		return nil, notFoundOr(err, "API key", id)
	}
	e := &KeyEntry{Key: k, Snapshot: m.Policy.Subject([]authz.Role{{ID: k.ID, Key: "apikey", Grants: append(slices.Clone(k.Permissions), k.Masks...), Exact: true}})}
	if k.MemberID != "" {
		mem, err := m.MemberByID(ctx, k.MemberID)
		if err != nil {
			return nil, err
		}
		e.MemberStatus = mem.Member.Status
	}
	m.mu.Lock()
	m.keys[id] = e
	m.mu.Unlock()
	return e, nil
}

// Access is what the request's principal may do in one account.
type Access struct {
	*Model
	// Operator is true for the platform operator, who holds everything.
	Operator bool
	// Member is the caller's membership (users), or the member behind the
	// caller's API key, if any.
	Member *ent.Member
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
	mu     sync.Mutex
	access map[string]*Access
}

type cacheKey struct{}

// WithRequestCache returns ctx with a fresh per-request cache.
func WithRequestCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, cacheKey{}, &requestCache{access: map[string]*Access{}})
}

func cacheFrom(ctx context.Context) *requestCache {
	c, _ := ctx.Value(cacheKey{}).(*requestCache)
	return c
}

// forget drops what the request cached about an account ("" for all).
func forget(ctx context.Context, accountID string) {
	c := cacheFrom(ctx)
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if accountID == "" {
		clear(c.access)
		return
	}
	delete(c.access, accountID)
}

// Model returns the compiled model of an account (NOT_FOUND when absent).
func (s *Service) Model(ctx context.Context, accountID string) (*Model, error) {
	if !s.cache.fresh() {
		// The change feed has not confirmed lately that the cache is
		// current (the database may be unreachable): read the account
		// anew, or fail; never answer from a model that may be stale (P5).
		return s.loadModel(ctx, s.client, accountID)
	}
	for {
		m, st := s.cache.get(accountID)
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

// loadTimeout bounds a shared model load.
const loadTimeout = 10 * time.Second

// loadModel reads an account's model through reader (a transaction's client
// sees its own uncommitted changes). The chains' heads are read first: a
// change committed while the rest is read makes the model look older than
// it is, never newer, so the feed drops it rather than keeping it.
func (s *Service) loadModel(ctx context.Context, reader *ent.Client, accountID string) (*Model, error) {
	seq, platformSeq, err := heads(ctx, reader, accountID)
	if err != nil {
		return nil, apperr.Wrap(err, "iam.Model: heads")
	}
	return s.loadModelAt(ctx, reader, accountID, seq, platformSeq)
}

// loadModelAt is loadModel once the heads are read.
func (s *Service) loadModelAt(ctx context.Context, reader *ent.Client, accountID string, seq, platformSeq int64) (*Model, error) {
	acc, err := reader.Account.Get(ctx, accountID)
	if err != nil {
		return nil, notFoundOr(err, "account", accountID)
	}
	catalog, err := reader.Permission.Query().All(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "iam.Model: catalog")
	}
	master, err := acc.QueryPermissions().Select(permission.FieldKey).Strings(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "iam.Model: master list")
	}
	roles, err := reader.Role.Query().Where(role.AccountID(accountID)).
		Order(ent.Asc(role.FieldPosition), ent.Asc(role.FieldID)).All(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "iam.Model: roles")
	}
	mems, err := reader.Member.Query().Where(member.AccountID(accountID)).WithAssignments().All(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "iam.Model: members")
	}
	rows, byUser := make(map[string]*ent.Member, len(mems)), make(map[string]string, len(mems))
	for _, mem := range mems {
		rows[mem.ID], byUser[mem.UserID] = mem, mem.ID
	}
	cat := make([]authz.Permission, len(catalog))
	for i, p := range catalog {
		cat[i] = catalogEntry(p)
	}
	return &Model{
		Account: acc, Policy: authz.NewPolicy(cat, master), Roles: roles, svc: s,
		seq: seq, platformSeq: platformSeq,
		rows: rows, byUser: byUser, members: map[string]*MemberEntry{}, keys: map[string]*KeyEntry{},
	}, nil
}

// heads reads the newest seq of an account's audit chain and of the
// platform's: the revision the account is at (D6).
func heads(ctx context.Context, c *ent.Client, accountID string) (seq, platformSeq int64, err error) {
	var rows []struct {
		AccountID string `json:"account_id"`
		Max       int64  `json:"max"`
	}
	err = c.AuditEvent.Query().Where(auditevent.AccountIDIn(accountID, "")).
		GroupBy(auditevent.FieldAccountID).Aggregate(ent.Max(auditevent.FieldSeq)).Scan(ctx, &rows)
	for _, r := range rows {
		if r.AccountID == "" {
			platformSeq = r.Max
		} else {
			seq = r.Max
		}
	}
	return seq, platformSeq, err
}

func catalogEntry(p *ent.Permission) authz.Permission {
	k := authz.Grant
	if p.Kind == permission.KindDENY_MASK {
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
	return accessOn(ctx, p, m, s.client)
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
		return &Access{Model: m, Member: e.Member, Subject: e.Subject}, nil
	case auth.APIKey:
		if p.AccountID != accountID {
			return nil, apperr.NotFoundf("account", accountID)
		}
		k, err := m.keyVia(ctx, keys, p.ID)
		if err != nil {
			return nil, err
		}
		a := &Access{Model: m, Key: k.Key, Subject: m.Subject(nil)}
		if k.Reason(time.Now()) == authz.Granted && m.Active() {
			a.Subject = k.Snapshot
		}
		return a, nil
	}
	return nil, apperr.NotFoundf("account", accountID)
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
