package authz

import (
	"slices"
	"sort"
)

// Subject is the compiled permissions of one principal: the roles it holds.
// It is immutable and safe for concurrent use. A nil *Subject holds nothing.
//
// A model keeps one per set of roles its members hold (tens per account):
// what few subjects have, constrained roles and masks, is kept apart, and
// subjects without them share noExtra (64 bytes a subject instead of 160).
type Subject struct {
	policy *Policy
	roles  []*Expansion
	open   bitset // keys of unconstrained roles
	x      *subjectExtra
}

// subjectExtra is a subject's constrained roles and masks.
type subjectExtra struct {
	constrained []int    // indexes of constrained roles
	all         bitset   // keys of all roles, when some role is constrained (else open)
	maskedCons  bool     // some constrained role carries masks
	openMasks   []string // masks of unconstrained roles, sorted
	masks       []string // masks of all roles, sorted
}

// allKeys is the keys of all the subject's roles, constrained or not.
func (s *Subject) allKeys() bitset {
	if s.x.all != nil {
		return s.x.all
	}
	return s.open
}

// noExtra is the extra of every subject without constrained roles or masks.
var noExtra = &subjectExtra{openMasks: []string{}, masks: []string{}}

// Subject compiles the roles a principal holds. Nil or empty roles give a
// subject that holds nothing.
func (p *Policy) Subject(roles []Role) *Subject {
	exps := make([]*Expansion, len(roles))
	for i, r := range roles {
		exps[i] = p.Compile(r)
	}
	return p.SubjectOf(exps)
}

// SubjectOf is Subject for roles compiled already (shared by the subjects
// that hold them).
func (p *Policy) SubjectOf(roles []*Expansion) *Subject {
	return p.subjectOf(new(Subject), roles, newBitset(len(p.grants)))
}

// SubjectsOf is SubjectOf for each set of roles, compiled together: the
// subjects are one array and their keys one bitset (see CompileAll). Each
// subject keeps its set: a model passes slices of one list.
func (p *Policy) SubjectsOf(sets [][]*Expansion) []*Subject {
	w := len(newBitset(len(p.grants)))
	subs, words, out := make([]Subject, len(sets)), make(bitset, len(sets)*w), make([]*Subject, len(sets))
	for i, roles := range sets {
		out[i] = p.subjectOf(&subs[i], roles, words[i*w:(i+1)*w:(i+1)*w])
	}
	return out
}

// subjectOf makes s the subject of roles, its keys in open (zero, of the
// policy's width).
func (p *Policy) subjectOf(s *Subject, roles []*Expansion, open bitset) *Subject {
	s.policy, s.roles, s.open = p, roles, open
	var (
		constrained      []int
		maskedCons       bool
		openMasks, masks []string
	)
	for i, ex := range roles {
		masks = append(masks, ex.masks()...)
		if len(ex.constraints) > 0 {
			constrained = append(constrained, i)
			maskedCons = maskedCons || len(ex.masks()) > 0
			continue
		}
		openMasks = append(openMasks, ex.masks()...)
		s.open.or(ex.keys)
	}
	var all bitset // open itself unless some role is constrained
	if len(constrained) > 0 {
		all = slices.Clone(s.open)
		for _, i := range constrained {
			all.or(roles[i].keys)
		}
	}
	s.x = noExtra
	if len(constrained) > 0 || len(masks) > 0 {
		s.x = &subjectExtra{constrained: constrained, all: all, maskedCons: maskedCons,
			openMasks: sortCompact(openMasks), masks: sortCompact(masks)}
	}
	return s
}

func sortCompact(s []string) []string {
	if len(s) == 0 {
		return []string{}
	}
	sort.Strings(s)
	return slices.Compact(s)
}

// Permissions returns every key the subject holds, constrained roles
// included, sorted. It never returns nil.
func (s *Subject) Permissions() []string {
	if s == nil {
		return []string{}
	}
	return s.allKeys().keys(s.policy.grants)
}

// Unconstrained returns the keys the subject holds through roles without
// constraints, sorted. It never returns nil.
func (s *Subject) Unconstrained() []string {
	if s == nil {
		return []string{}
	}
	return s.open.keys(s.policy.grants)
}

// Masks returns the deny masks of all the subject's roles, constrained roles
// included, sorted. It never returns nil.
func (s *Subject) Masks() []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s.x.masks)
}

// Resource is the attributes of the object a decision is about (D3).
type Resource map[string]string

// satisfies reports whether res meets every constraint (D3); a missing
// attribute does not.
func satisfies(c map[string][]string, res Resource) bool {
	for attr, allowed := range c {
		v, ok := res[attr]
		if !ok || !slices.Contains(allowed, v) {
			return false
		}
	}
	return true
}

// Allows reports whether the subject holds key for res. Deny masks are
// never allowed (K6).
func (s *Subject) Allows(key string, res Resource) bool {
	if s == nil {
		return false
	}
	b := s.policy.bit(key)
	if s.open.has(b) {
		return true
	}
	for _, i := range s.x.constrained {
		if s.roles[i].keys.has(b) && satisfies(s.roles[i].constraints, res) {
			return true
		}
	}
	return false
}

// Reason explains a decision (D2).
type Reason uint8

// The reasons of SPEC D2. The engine decides Granted, NotGranted,
// NotInMasterList, UnknownPermission and ConstraintMismatch; callers use the
// others for the state of subjects, keys and accounts.
const (
	Granted Reason = iota
	NotGranted
	NotInMasterList
	UnknownPermission
	SubjectInactive
	KeyRevoked
	KeyExpired
	AccountSuspended
	ConstraintMismatch
)

var reasonNames = [...]string{"GRANTED", "NOT_GRANTED", "NOT_IN_MASTER_LIST", "UNKNOWN_PERMISSION",
	"SUBJECT_INACTIVE", "KEY_REVOKED", "KEY_EXPIRED", "ACCOUNT_SUSPENDED", "CONSTRAINT_MISMATCH"}

// String returns the SPEC D2 name of r.
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "UNKNOWN"
}

// Path says how a permission was granted (D1): by which role, through which
// of its grants, and via which keys. Chain runs from the key the grant
// matched to the asked key, both included: a direct match gives [key]; a key
// reached through implications gives [matched, implied..., key].
type Path struct {
	RoleID, RoleKey, Grant string
	Chain                  []string
}

// Decision is the answer to one check. Masks are the deny masks of the
// roles that apply to the resource (never nil).
type Decision struct {
	Allowed bool
	Reason  Reason
	Masks   []string
	// What GrantedBy explains: the subject whose roles give the key at
	// bit, and the resource when constrained roles do.
	by          *Subject
	bit         int32
	constrained bool
	res         Resource
}

// GrantedBy says how the permission was granted (D1), nil when it was not.
// It is worked out when asked, not with every decision: it follows the
// roles' walks (Expansion.path), which a caller asking only whether pays
// for in time, and in memory for the trails kept.
func (d Decision) GrantedBy() *Path {
	if !d.Allowed || d.by == nil {
		return nil
	}
	if d.constrained {
		return d.by.best(d.bit, func(ex *Expansion) bool {
			return len(ex.constraints) > 0 && satisfies(ex.constraints, d.res)
		})
	}
	return d.by.best(d.bit, func(ex *Expansion) bool { return len(ex.constraints) == 0 })
}

// Decide answers whether the subject holds key for res, and why (D1–D3).
// Reasons are checked in order: UnknownPermission (malformed or not in the
// catalog), NotInMasterList, Granted, ConstraintMismatch (a constrained role
// would grant it for another resource), NotGranted. A deny mask is never
// granted: NotGranted.
func (s *Subject) Decide(key string, res Resource) Decision {
	if s == nil {
		return Decision{Reason: NotGranted, Masks: []string{}}
	}
	d := Decision{Reason: NotGranted, Masks: s.masksFor(res)}
	p := s.policy
	e, inMaster := p.master[key]
	switch {
	case !ValidKey(key):
		d.Reason = UnknownPermission
		return d
	case !inMaster:
		if _, known := p.catalog.perms[key]; known {
			d.Reason = NotInMasterList
		} else {
			d.Reason = UnknownPermission
		}
		return d
	case e.kind == DenyMask:
		return d // masks do not grant (K6)
	}
	if s.open.has(e.bit) {
		d.Allowed, d.Reason, d.by, d.bit = true, Granted, s, e.bit
		return d
	}
	for _, i := range s.x.constrained {
		if !s.roles[i].keys.has(e.bit) {
			continue
		}
		if satisfies(s.roles[i].constraints, res) {
			d.Allowed, d.Reason, d.by, d.bit, d.constrained, d.res = true, Granted, s, e.bit, true, res
			return d
		}
		d.Reason = ConstraintMismatch
	}
	return d
}

// best is the path of the key at bit through the role, among those that
// give it and apply, with the best path: fewest implication steps, then an
// exact grant over a wildcard, then the earlier role (nil when none does).
func (s *Subject) best(bit int32, applies func(*Expansion) bool) *Path {
	var ex *Expansion
	var grant string
	depth := 0
	for _, r := range s.roles {
		if !r.keys.has(bit) || !applies(r) {
			continue
		}
		if g, n := r.path(bit); ex == nil || n < depth || (n == depth && !IsWildcard(g) && IsWildcard(grant)) {
			ex, grant, depth = r, g, n
		}
	}
	if ex == nil {
		return nil
	}
	chain := append(ex.via(bit, depth), s.policy.grants[bit])
	return &Path{RoleID: ex.id, RoleKey: ex.key, Grant: grant, Chain: chain}
}

func (s *Subject) masksFor(res Resource) []string {
	if !s.x.maskedCons {
		return slices.Clone(s.x.openMasks)
	}
	ms := slices.Clone(s.x.openMasks)
	for _, i := range s.x.constrained {
		if len(s.roles[i].masks()) > 0 && satisfies(s.roles[i].constraints, res) {
			ms = append(ms, s.roles[i].masks()...)
		}
	}
	return sortCompact(ms)
}

// Missing returns what holder lacks to give grants (R7), sorted: every key
// the grants give (implication closure and exact deny masks included) must
// be held unconstrained, and every well-formed wildcard among them must be
// covered by a wildcard held unconstrained (CoversPattern). Wildcards held
// are the wildcard grants of the holder's unconstrained roles without
// excludes, and the wildcards implied by its unconstrained keys. Malformed
// grants give nothing and are left to InvalidGrants. A nil holder holds
// nothing. It returns nil when nothing is missing.
func (p *Policy) Missing(holder *Subject, grants []string) []string {
	if holder == nil {
		holder = p.Subject(nil)
	}
	held := holder.open
	if holder.policy != p { // compiled against another master list: by key
		held = newBitset(len(p.grants))
		for _, k := range holder.Unconstrained() {
			if b := p.bit(k); b >= 0 {
				held.set(b)
			}
		}
	}
	ex := p.Compile(Role{Grants: grants})
	var missing []string
	ex.keys.each(func(b int32) {
		if !held.has(b) {
			missing = append(missing, p.grants[b])
		}
	})
	for _, m := range ex.masks() {
		if _, ok := slices.BinarySearch(holder.x.openMasks, m); !ok {
			missing = append(missing, m)
		}
	}
	var wildcards []string
	for _, g := range grants {
		if !IsWildcard(g) || !ValidPattern(g) {
			continue
		}
		if wildcards == nil {
			wildcards = holder.wildcards()
		}
		if !slices.ContainsFunc(wildcards, func(w string) bool { return CoversPattern(w, g) }) {
			missing = append(missing, g)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return slices.Compact(missing)
}

// wildcards are the wildcards the subject holds unconstrained (R7): the
// wildcard grants of its unconstrained roles without excludes, and the
// wildcards its unconstrained keys imply. Computed when a grant of a
// wildcard asks (Missing): few subjects ever do.
func (s *Subject) wildcards() []string {
	var out []string
	for _, ex := range s.roles {
		if len(ex.constraints) > 0 || len(ex.excludes()) > 0 {
			continue
		}
		for _, g := range ex.grants {
			if IsWildcard(g) && ValidPattern(g) {
				out = append(out, g)
			}
		}
	}
	s.open.each(func(b int32) {
		for _, imp := range s.policy.catalog.implies[s.policy.grants[b]] {
			if IsWildcard(imp) {
				out = append(out, imp)
			}
		}
	})
	return sortCompact(out)
}
