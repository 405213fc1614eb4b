package iam

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/account"
	"github.com/gatehouse-iam/gatehouse/ent/apikey"
	"github.com/gatehouse-iam/gatehouse/ent/assignment"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/permission"
	"github.com/gatehouse-iam/gatehouse/ent/role"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/authz"
)

// Model is the compiled permission model of one account: the account, the
// decision engine's policy (the shared catalog and the master list), the
// account's roles and members, and, compiled once as they are asked for,
// its roles' expansions, the permissions of each set of roles its members
// hold, and its keys'. A Model is immutable but for those memos; a commit to
// the account replaces it.
//
// A warm model is small (about 20 KB for 20 roles and 50 members): the
// catalog is shared by every model, a role is kept in a modelRole and
// compiled once into a bitset over the master list, a member is a row of
// 48 bytes, members holding the same roles share one compiled subject, and
// what only some requests ask for (ent rows of the roles, the paths of
// grants) is made when they ask.
type Model struct {
	Account *ent.Account
	Policy  *authz.Policy
	// roles are the account's roles, in position order (Roles shows them).
	roles []modelRole
	ents  roleRows

	svc *Service
	// seq and platformSeq are the newest events of the account's and of the
	// platform's audit chains when the model was read: its revision (D6).
	seq, platformSeq int64
	// members are every member of the account with the roles it holds,
	// by member and by user id: loaded with the model, so that no decision
	// queries for its subject once warm.
	members memberTable
	roleIdx *roleIndex // role id or key → index into roles, and subjects

	expOnce sync.Once
	exps    []*authz.Expansion // roles compiled, by index
	// granting memoizes rolesGranting: permission → indexes of the roles
	// granting it (a plain map: a sync.Map's nodes took 3.5 KB of a warm
	// model).
	grantingMu sync.RWMutex
	granting   map[string][]int32
	mu         sync.Mutex
	keys       map[string]*KeyEntry // by key id
	keyLoads   singleflight.Group
	// keyBytes is what keys takes, as size counts it: written only under
	// the cache's lock (cache.grew), which size is read under.
	keyBytes int64
	// enforced are the account's ENFORCE separation-of-duty rules, once a
	// change has read them under the account's lock (nil until then): the
	// next change checks them without reading them again (enforceSoD).
	// Set only before the model is installed, carried forward by evolve
	// unless the change alters rules.
	enforced *enforcedRules
}

// enforcedRules are a model's ENFORCE rules (none is an empty list).
type enforcedRules struct{ rules []*ent.SodRule }

// MemberRef is what a model tells of a member: enough to decide for it and
// to name it (a model keeps it in 40 bytes, with the member's roles; an
// ent.Member takes 300). Whoever shows a member reads its row.
type MemberRef struct {
	ID, UserID string
	Status     member.Status
}

// MemberEntry is a member with its compiled permissions.
type MemberEntry struct {
	Member MemberRef
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

// Role converts an ent role of this account for the decision engine.
func (m *Model) Role(r *ent.Role) authz.Role {
	return m.rule(r.ID, r.Key, r.Kind, r.Grants, r.Constraints)
}

// rule is a role for the decision engine; the system role default_access
// gets the account's defaultAccessExcludes.
func (m *Model) rule(id, key string, kind role.Kind, grants []string, constraints map[string][]string) authz.Role {
	ar := authz.Role{ID: id, Key: key, Grants: grants, Constraints: constraints}
	if kind == role.KindSYSTEM && key == DefaultAccess {
		ar.Excludes = m.Account.DefaultAccessExcludes
	}
	return ar
}

// ruleAt is the model's role at index i for the decision engine.
func (m *Model) ruleAt(i int) authz.Role {
	r := &m.roles[i]
	return m.rule(r.ID, r.Key, r.kind(), r.Grants, r.Constraints)
}

// expansions returns the account's roles compiled, by index, once.
func (m *Model) expansions() []*authz.Expansion {
	m.expOnce.Do(func() {
		roles := make([]authz.Role, len(m.roles))
		for i := range m.roles {
			roles[i] = m.ruleAt(i)
		}
		m.exps = m.Policy.CompileAll(roles) // kept together (see authz.CompileAll)
	})
	return m.exps
}

// Expansion returns a role of this account compiled: the model's own
// compilation for its roles, as read now or elsewhere at the same version
// (every change of a role's grants or constraints bumps its version).
func (m *Model) Expansion(r *ent.Role) *authz.Expansion {
	return m.compiled(r.ID, r.Version, m.Role(r))
}

// compiled is the model's compilation of the role with this id and
// version, or rule (that role as it is elsewhere) compiled.
func (m *Model) compiled(id string, version int, rule authz.Role) *authz.Expansion {
	if i, ok := m.own(id, version); ok {
		return m.expansions()[i]
	}
	return m.Policy.Compile(rule)
}

// own reports whether the role with this id and version is one of the
// model's roles, as the model has it, and its index.
func (m *Model) own(id string, version int) (int, bool) {
	i, ok := m.indexOf(id)
	return i, ok && m.roles[i].Version == version
}

// Subject compiles a set of roles of this account. A set some member holds
// is compiled once and shared with the members holding it; other sets are
// compiled for the caller.
func (m *Model) Subject(roles []*ent.Role) *authz.Subject {
	held := make([]uint16, 0, len(roles))
	for _, r := range roles {
		i, ok := m.own(r.ID, r.Version)
		if !ok {
			exps := make([]*authz.Expansion, len(roles))
			for i, r := range roles {
				exps[i] = m.Expansion(r)
			}
			return m.Policy.SubjectOf(exps)
		}
		held = append(held, uint16(i))
	}
	slices.Sort(held)
	held = slices.Compact(held)
	if set := m.members.sets.find(held); set >= 0 {
		return m.subjectOf(set)
	}
	return m.Policy.SubjectOf(m.expansionsAt(held))
}

// subjectOf is the subject of a set of the members' roles: compiled once
// and shared by every member holding it when several do; compiled for the
// caller when one member does (heldSets.shared).
func (m *Model) subjectOf(set int32) *authz.Subject {
	sets := m.members.sets
	if !sets.shared(set) {
		return m.Policy.SubjectOf(m.expansionsAt(sets.at(set)))
	}
	if sub := sets.subs[set].Load(); sub != nil {
		return sub
	}
	m.compileSets()
	return sets.subs[set].Load()
}

// compileSets compiles every set of roles several of the model's members
// hold that is not compiled yet, together (authz.SubjectsOf): the subjects,
// their keys and their roles' lists are three objects, where each set
// compiled when a decision first asked for it took three. Decisions asking
// at once may both compile: the first subject stored for a set is every
// member's.
func (m *Model) compileSets() {
	sets := m.members.sets
	var missing []int32
	n := 0
	for i := range int32(sets.len()) {
		if sets.shared(i) && sets.subs[i].Load() == nil {
			missing = append(missing, i)
			n += len(sets.at(i))
		}
	}
	all, exps := make([]*authz.Expansion, 0, n), m.expansions()
	held := make([][]*authz.Expansion, len(missing))
	for k, i := range missing {
		from := len(all)
		for _, j := range sets.at(i) {
			all = append(all, exps[j])
		}
		held[k] = all[from:len(all):len(all)]
	}
	for k, sub := range m.Policy.SubjectsOf(held) {
		sets.subs[missing[k]].CompareAndSwap(nil, sub)
	}
}

// expansionsAt returns the compilations of the model's roles at these
// indexes.
func (m *Model) expansionsAt(held []uint16) []*authz.Expansion {
	exps, all := make([]*authz.Expansion, len(held)), m.expansions()
	for i, j := range held {
		exps[i] = all[j]
	}
	return exps
}

// Active reports whether the account is not suspended (A6).
func (m *Model) Active() bool { return m.Account.Status == account.StatusACTIVE }

// MemberByID returns a member of the account (NOT_FOUND otherwise), with
// the subject its roles share with every member holding the same ones:
// nothing per member is kept beyond its row.
func (m *Model) MemberByID(ctx context.Context, id string) (*MemberEntry, error) {
	row, ok := m.members.get(id)
	if !ok {
		return nil, apperr.NotFoundf("member", id)
	}
	return m.entry(row), nil
}

// entry is a member's row with its subject.
func (m *Model) entry(row memberRow) *MemberEntry {
	set := row.set
	if row.Status() != member.StatusACTIVE || !m.Active() {
		set = 0 // the empty set: only ACTIVE members of active accounts hold permissions (M1, A6)
	}
	return &MemberEntry{Member: row.ref(), Subject: m.subjectOf(set)}
}

// RolesOf returns the roles a member holds, in position order, and whether
// the model knows the member (one added through another server since the
// model was read it does not).
func (m *Model) RolesOf(memberID string) ([]*ent.Role, bool) {
	row, ok := m.members.get(memberID)
	if !ok {
		return nil, false
	}
	return m.rolesAt(m.members.sets.at(row.set)), true
}

// rolesAt returns the roles at indexes into roles, as ent rows (never nil).
func (m *Model) rolesAt(held []uint16) []*ent.Role {
	roles, all := make([]*ent.Role, len(held)), m.Roles()
	for i, j := range held {
		roles[i] = all[j]
	}
	return roles
}

// MemberByUser returns the user's membership, or nil when there is none.
func (m *Model) MemberByUser(ctx context.Context, userID string) (*MemberEntry, error) {
	row, ok := m.members.ofUser(userID)
	if !ok {
		return nil, nil
	}
	return m.entry(row), nil
}

// Members calls fn for every member of the account.
func (m *Model) Members(ctx context.Context, fn func(*MemberEntry)) error {
	for _, row := range m.members.rows {
		fn(m.entry(row))
	}
	return nil
}

// HeldRoles returns the account's roles a member (loaded with its
// assignments) holds, in position order.
func (m *Model) HeldRoles(mem *ent.Member) []*ent.Role {
	return m.rolesAt(m.heldIndexes(mem))
}

// heldIndexes returns the indexes into roles of the roles a member (loaded
// with its assignments) holds, in position order.
func (m *Model) heldIndexes(mem *ent.Member) []uint16 {
	var held []uint16
	for _, a := range mem.Edges.Assignments {
		if i, ok := m.indexOf(a.RoleID); ok && !slices.Contains(held, uint16(i)) {
			held = append(held, uint16(i))
		}
	}
	slices.Sort(held)
	return held
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
	return m.keyOf(ctx, k)
}

// keyOf is the entry of a key row of the account: the one the model keeps,
// or the row compiled and kept.
func (m *Model) keyOf(ctx context.Context, k *ent.APIKey) (*KeyEntry, error) {
	m.mu.Lock()
	e, ok := m.keys[k.ID]
	m.mu.Unlock()
	if ok {
		return e, nil
	}
	e = &KeyEntry{Key: k, Snapshot: m.Policy.Subject([]authz.Role{{ID: k.ID, Key: "apikey", Grants: append(slices.Clone(k.Permissions), k.Masks...), Exact: true}})}
	if k.MemberID != "" {
		mem, err := m.MemberByID(ctx, k.MemberID)
		if err != nil {
			return nil, err
		}
		e.MemberStatus = mem.Member.Status
	}
	m.mu.Lock()
	_, had := m.keys[k.ID]
	m.keys[k.ID] = e // the row's id, not the caller's (a slice of its document)
	m.mu.Unlock()
	if !had {
		m.svc.cache.grew(m, keyEntryBytes)
	}
	return e, nil
}

// rolesGranting lists the account's roles that give permission (D4),
// remembered per model: it is asked on every denial, only for permissions of
// the master list (others are denied for another reason), so the memo is
// bounded by it.
func (m *Model) rolesGranting(permission string) []int32 {
	m.grantingMu.RLock()
	out, ok := m.granting[permission]
	m.grantingMu.RUnlock()
	if ok {
		return out
	}
	for i, ex := range m.expansions() {
		if ex.Has(permission) {
			out = append(out, int32(i))
		}
	}
	m.grantingMu.Lock()
	if m.granting == nil {
		m.granting = map[string][]int32{}
	}
	m.granting[m.Policy.Intern(permission)] = out // the catalog's string, not the request's
	m.grantingMu.Unlock()
	return out
}

// size estimates what a warm model takes in memory: what the cache's budget
// counts. It counts what the process holds for the model, not only what the
// model keeps live: a heap profile after GC of 1,000 warm accounts of 20
// roles, 50 members and 100 permissions, every member compiled, shows about
// 20 KB each (a role with its compilation about 450 bytes, a member about
// 60), and Go's collector lets the heap grow to twice what is live. The
// estimate, 44 KB for that shape, is the resident memory per warm account
// measured at 10,000 accounts (issue 13).
func (m *Model) size() int64 {
	return 4<<10 + int64(len(m.roles))<<10 + int64(len(m.members.rows))*400 + m.keyBytes
}

// keyEntryBytes is what a key a model remembers takes (its row, its
// snapshot): about 1 KB.
const keyEntryBytes = 1 << 10

// loadTimeout bounds a shared model load.
const loadTimeout = 10 * time.Second

// loadModel reads an account's model through reader (a transaction's client
// sees its own uncommitted changes). The chains' heads are read first: a
// change committed while the rest is read makes the model look older than
// it is, never newer, so the feed drops it rather than keeping it.
func (s *Service) loadModel(ctx context.Context, reader *ent.Client, accountID string) (*Model, error) {
	h, err := s.readHeads(ctx, reader, accountID)
	if err != nil {
		return nil, apperr.Wrap(err, "iam.Model: heads")
	}
	return s.loadModelAt(ctx, reader, accountID, h)
}

// loadModelAt is loadModel once the heads are read.
func (s *Service) loadModelAt(ctx context.Context, reader *ent.Client, accountID string, h chainHeads) (_ *Model, err error) {
	defer func(began time.Time) { s.obs.ModelLoaded(time.Since(began), err) }(time.Now())
	acc, err := reader.Account.Get(ctx, accountID)
	if err != nil {
		return nil, notFoundOr(err, "account", accountID)
	}
	catalog, err := s.catalogAt(ctx, reader, h.platform.seq)
	if err != nil {
		return nil, err
	}
	master, err := acc.QueryPermissions().Select(permission.FieldKey).Strings(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "iam.Model: master list")
	}
	policy := catalog.Policy(master)
	roles, err := readRoles(ctx, reader, acc.ID, policy)
	if err != nil {
		return nil, err
	}
	mems, err := readMembers(ctx, reader, accountID)
	if err != nil {
		return nil, err
	}
	m := &Model{Account: acc, Policy: policy, svc: s, seq: h.account.seq, platformSeq: h.platform.seq,
		keys: map[string]*KeyEntry{}}
	m.setRoles(roles)
	m.setMembers(mems)
	return m, nil
}

// readRoles reads an account's roles for a model over p, compacted
// (compactRoles).
func readRoles(ctx context.Context, reader *ent.Client, accountID string, p *authz.Policy) ([]modelRole, error) {
	roles, err := reader.Role.Query().Where(role.AccountID(accountID)).
		Order(ent.Asc(role.FieldPosition), ent.Asc(role.FieldID)).All(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "iam.Model: roles")
	}
	return compactRoles(p, roles), nil
}

func readMembers(ctx context.Context, reader *ent.Client, accountID string) ([]*ent.Member, error) {
	mems, err := membersWithAssignments(ctx, reader.Member.Query().Where(member.AccountID(accountID)).
		Select(member.FieldUserID, member.FieldStatus).MemberQuery, // what a MemberRef keeps
		reader.Assignment, accountID)
	if err != nil {
		return nil, apperr.Wrap(err, "iam.Model: members")
	}
	return mems, nil
}

// readMembersByID reads members with their roles, as readMembers does.
func readMembersByID(ctx context.Context, reader *ent.Client, ids []string) ([]*ent.Member, error) {
	mems, err := reader.Member.Query().Where(member.IDIn(ids...)).Select(member.FieldUserID, member.FieldStatus).
		WithAssignments(func(q *ent.AssignmentQuery) { q.Select(assignment.FieldMemberID, assignment.FieldRoleID) }).All(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "iam.Model: members")
	}
	return mems, nil
}

// withRoles is the model's roles with the rows a change wrote in place of
// theirs, or added, in the order readRoles gives. The model keeps copies:
// the change's caller goes on using its rows.
func (m *Model) withRoles(written []*ent.Role) []modelRole {
	out := slices.Clone(m.roles)
	for _, r := range written {
		if i, ok := m.indexOf(r.ID); ok {
			out[i] = m.detached(r)
		} else {
			out = append(out, m.detached(r))
		}
	}
	slices.SortStableFunc(out, roleOrder)
	return out
}

// roleOrder is the order of roles (readRoles'): by position, then id.
func roleOrder(a, b modelRole) int {
	return cmp.Or(cmp.Compare(a.Position, b.Position), strings.Compare(a.ID, b.ID))
}

// appendedRoles is withRoles when every written role is new and sorts
// after the model's roles (a role created at the next position, the usual
// case): the roles there keep their indexes, and with them their
// compilations, the compiled subjects and the members' rows.
func (m *Model) appendedRoles(written []*ent.Role) ([]modelRole, bool) {
	// Appended in place, past m's length when the array has room: m never
	// reads there, and a model has one successor only (the next change of
	// its account, under the account's lock), so an append costs O(1), not
	// a copy of every role — an account of thousands of roles stays cheap
	// to add to.
	out := m.roles
	for _, r := range written {
		c := m.detached(r)
		if _, ok := m.indexOf(r.ID); ok || len(out) > 0 && roleOrder(out[len(out)-1], c) >= 0 {
			return nil, false
		}
		out = append(out, c)
	}
	return out, true
}

// detached is the model's copy of a role row a change wrote.
func (m *Model) detached(r *ent.Role) modelRole {
	return compactRoles(m.Policy, []*ent.Role{r})[0] // copied: the caller keeps its row
}

// compactRoles copies rows read or written for a model into what a model
// keeps of them (modelRole), sharing what they can rather than keeping a
// copy each: the catalog's strings for the permissions they grant; empty
// constraints are none. The copies are one array, their grants one list and
// their other strings one string (packStrings): three objects, where
// reading made a dozen a row.
func compactRoles(p *authz.Policy, roles []*ent.Role) []modelRole {
	n := 0
	for _, r := range roles {
		n += len(r.Grants)
	}
	out := make([]modelRole, len(roles))
	grants := make([]string, 0, n)
	fields := make([]*string, 0, 4*len(roles))
	for i, r := range roles {
		c := &out[i]
		*c = newModelRole(r)
		from := len(grants)
		for _, g := range r.Grants {
			grants = append(grants, p.Intern(g))
		}
		c.Grants = grants[from:len(grants):len(grants)] // an append copies, not overwrites the next role's
		if len(c.Constraints) == 0 {
			c.Constraints = nil
		}
		fields = append(fields, &c.ID, &c.Key, &c.Name, &c.Description)
	}
	packStrings(fields)
	return out
}

// setRoles gives the model its roles (compactRoles' copies).
func (m *Model) setRoles(roles []modelRole) {
	m.roles, m.roleIdx = roles, newRoleIndex(roles)
}

// setMembers gives the model its members (loaded with their assignments),
// after setRoles: the member's set of roles and its status, each in a few
// bytes, say what its assignments and its status said.
func (m *Model) setMembers(mems []*ent.Member) {
	m.members = newMemberTable(m.heldRows(mems))
}

// heldRows are members' rows, with the indexes of their roles in the
// model's roles (after setRoles).
func (m *Model) heldRows(mems []*ent.Member) []heldRow {
	rows := make([]heldRow, len(mems))
	for i, mem := range mems {
		rows[i] = heldRow{MemberRef{ID: mem.ID, UserID: mem.UserID, Status: mem.Status}, m.heldIndexes(mem)}
	}
	return rows
}

// reindexRows gives the model old's members, their held roles found again by
// id among the model's roles (after setRoles).
func (m *Model) reindexRows(old *Model) {
	m.members = old.members.remapped(func(was []uint16) []uint16 {
		var held []uint16
		for _, j := range was {
			if i, ok := m.indexOf(old.roles[j].ID); ok {
				held = append(held, uint16(i))
			}
		}
		slices.Sort(held)
		return held
	})
}

// touch is what of a model a change alters (Change.Alters).
type touch uint8

const (
	touchRoles touch = 1 << iota
	touchMembers
	touchKeys
	touchSodRules // rules are not compiled, but their ENFORCE list is kept (enforceSoD)
)

// evolve returns the model as a committed change leaves it, at head seq:
// the parts t names are read again through tx (which sees the change); the
// rest — the account, the master list, the catalog, and what was compiled
// of unchanged parts — is shared with m. Reading a table or two is much
// cheaper than reading the whole model on the next request.
//
// Roles the change wrote (written) are put in place of their rows, or added,
// rather than read again with every other role; roles whose version did not
// change keep their compilation. So are the members it wrote (wroteMembers),
// read alone, while the roles keep their indexes.
func (m *Model) evolve(ctx context.Context, tx *ent.Tx, t touch, seq int64, written []*ent.Role, wroteMembers []string) (*Model, error) {
	var roles []modelRole
	var mems []*ent.Member
	var err error
	appended, some := false, false
	switch {
	case t&touchRoles == 0:
	case len(written) > 0:
		if roles, appended = m.appendedRoles(written); !appended {
			roles = m.withRoles(written)
		}
	default:
		if roles, err = readRoles(ctx, tx.Client(), m.Account.ID, m.Policy); err != nil {
			return nil, err
		}
	}
	if t&touchMembers != 0 {
		some = len(wroteMembers) > 0 && (roles == nil || appended)
		if some {
			mems, err = readMembersByID(ctx, tx.Client(), wroteMembers)
		} else {
			mems, err = readMembers(ctx, tx.Client(), m.Account.ID)
		}
		if err != nil {
			return nil, err
		}
	}
	n := &Model{Account: m.Account, Policy: m.Policy, svc: m.svc, seq: seq, platformSeq: m.platformSeq,
		keys: map[string]*KeyEntry{}}
	exps := m.expansions()
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case appended:
		// The roles there keep their indexes: so do their compilations
		// and the subjects compiled from them.
		// The index, with those subjects, and the compilations are shared
		// and appended to, as the roles are (appendedRoles).
		n.roles, n.roleIdx, n.exps = roles, m.roleIdx, exps
		for i := len(m.roles); i < len(roles); i++ {
			n.roleIdx.add(roles, i)
			n.exps = append(n.exps, n.Policy.Compile(n.ruleAt(i)))
		}
	case roles != nil:
		n.setRoles(roles)
		n.exps = make([]*authz.Expansion, len(roles))
		for i, r := range roles {
			n.exps[i] = m.compiled(r.ID, r.Version, n.ruleAt(i)) // m's while r's version is unchanged
		}
	default:
		n.roles, n.roleIdx = m.roles, m.roleIdx
		n.exps = exps
	}
	n.expOnce.Do(func() {})
	switch {
	case some:
		n.members = m.members.with(n.heldRows(mems))
	case mems != nil:
		n.setMembers(mems)
		if roles == nil || appended {
			// The roles m's members held keep their indexes and
			// compilations: so do the subjects of their sets.
			n.members.sets.adopt(m.members.sets)
		}
	case roles != nil && !appended:
		n.reindexRows(m) // the same holders of new roles, by role id
	default:
		n.members = m.members
	}
	// A key's snapshot depends on the master list only, and its state on
	// its member's status: entries stay unless a key changed, or its member
	// did.
	if t&touchSodRules == 0 {
		n.enforced = m.enforced
	}
	if t&touchKeys == 0 {
		for id, e := range m.keys {
			if row, ok := n.members.get(e.Key.MemberID); e.Key.MemberID == "" || ok && row.Status() == e.MemberStatus {
				n.keys[id] = e
			}
		}
		n.keyBytes = int64(len(n.keys)) * keyEntryBytes // n is not cached yet
	}
	return n, nil
}

// sharedCatalog is the platform's catalog compiled at a revision of the
// platform's chain: every model at that revision shares it.
type sharedCatalog struct {
	seq     int64
	catalog *authz.Catalog
}

// catalogAt returns the catalog at the platform's revision seq, compiled
// once for all the accounts.
func (s *Service) catalogAt(ctx context.Context, reader *ent.Client, seq int64) (*authz.Catalog, error) {
	if c := s.catalog.Load(); c != nil && c.seq == seq {
		return c.catalog, nil
	}
	perms, err := reader.Permission.Query().All(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "iam.Model: catalog")
	}
	cat := make([]authz.Permission, len(perms))
	for i, p := range perms {
		cat[i] = catalogEntry(p)
	}
	c := &sharedCatalog{seq: seq, catalog: authz.NewCatalog(cat)}
	for {
		cur := s.catalog.Load()
		if cur != nil && cur.seq >= seq || s.catalog.CompareAndSwap(cur, c) {
			return c.catalog, nil
		}
	}
}

func catalogEntry(p *ent.Permission) authz.Permission {
	k := authz.Grant
	if p.Kind == permission.KindDENY_MASK {
		k = authz.DenyMask
	}
	return authz.Permission{Key: p.Key, Kind: k, Implies: p.Implies}
}
