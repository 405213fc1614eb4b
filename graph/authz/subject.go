package authz

import (
	"slices"
	"sort"
)

// Subject is the compiled permissions of one principal: the roles it holds.
// It is immutable and safe for concurrent use. A nil *Subject holds nothing.
type Subject struct {
	policy      *Policy
	roles       []expansion
	open        map[string]int // key → best unconstrained role granting it
	constrained []int          // indexes of constrained roles
	maskedCons  bool           // some constrained role carries masks
	wildcards   []string       // wildcards held unconstrained (R7)
	openMasks   []string       // masks of unconstrained roles, sorted
	masks       []string       // masks of all roles, sorted
	perms       []string       // all keys, sorted
	openKeys    []string       // unconstrained keys, sorted
}

// Subject compiles the roles a principal holds. Nil or empty roles give a
// subject that holds nothing.
func (p *Policy) Subject(roles []Role) *Subject {
	s := &Subject{policy: p, open: make(map[string]int), roles: make([]expansion, 0, len(roles))}
	all := make(map[string]struct{})
	for i, r := range roles {
		ex := p.expand(r)
		s.roles = append(s.roles, ex)
		s.masks = append(s.masks, ex.masks...)
		for k := range ex.keys {
			all[k] = struct{}{}
		}
		if len(r.Constraints) > 0 {
			s.constrained = append(s.constrained, i)
			s.maskedCons = s.maskedCons || len(ex.masks) > 0
			continue
		}
		s.openMasks = append(s.openMasks, ex.masks...)
		for k, st := range ex.keys {
			if j, ok := s.open[k]; !ok || better(st, s.roles[j].keys[k]) {
				s.open[k] = i
			}
		}
		if len(r.Excludes) == 0 {
			for _, g := range r.Grants {
				if IsWildcard(g) && ValidPattern(g) {
					s.wildcards = append(s.wildcards, g)
				}
			}
		}
	}
	for k := range s.open {
		for _, imp := range p.implies[k] {
			if IsWildcard(imp) {
				s.wildcards = append(s.wildcards, imp)
			}
		}
	}
	s.wildcards = sortCompact(s.wildcards)
	s.masks = sortCompact(s.masks)
	s.openMasks = sortCompact(s.openMasks)
	s.perms = sortedKeys(all)
	s.openKeys = sortedKeys(s.open)
	return s
}

// better reports whether a is a better path than b: fewer implication steps,
// then an exact grant over a wildcard. Ties keep the earlier role.
func better(a, b step) bool {
	if len(a.via) != len(b.via) {
		return len(a.via) < len(b.via)
	}
	return !IsWildcard(a.grant) && IsWildcard(b.grant)
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
	return slices.Clone(s.perms)
}

// Unconstrained returns the keys the subject holds through roles without
// constraints, sorted. It never returns nil.
func (s *Subject) Unconstrained() []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s.openKeys)
}

// Masks returns the deny masks of all the subject's roles, constrained roles
// included, sorted. It never returns nil.
func (s *Subject) Masks() []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s.masks)
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
	if _, ok := s.open[key]; ok {
		return true
	}
	for _, i := range s.constrained {
		if _, ok := s.roles[i].keys[key]; ok && satisfies(s.roles[i].role.Constraints, res) {
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
	Allowed   bool
	Reason    Reason
	GrantedBy *Path
	Masks     []string
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
	kind, inMaster := p.master[key]
	switch {
	case !ValidKey(key):
		d.Reason = UnknownPermission
		return d
	case !inMaster:
		if _, known := p.catalog[key]; known {
			d.Reason = NotInMasterList
		} else {
			d.Reason = UnknownPermission
		}
		return d
	case kind == DenyMask:
		return d // masks do not grant (K6)
	}
	if i, ok := s.open[key]; ok {
		return s.granted(d, i, key)
	}
	best := -1
	for _, i := range s.constrained {
		st, ok := s.roles[i].keys[key]
		if !ok {
			continue
		}
		if !satisfies(s.roles[i].role.Constraints, res) {
			d.Reason = ConstraintMismatch
			continue
		}
		if best < 0 || better(st, s.roles[best].keys[key]) {
			best = i
		}
	}
	if best >= 0 {
		return s.granted(d, best, key)
	}
	return d
}

func (s *Subject) masksFor(res Resource) []string {
	if !s.maskedCons {
		return slices.Clone(s.openMasks)
	}
	ms := slices.Clone(s.openMasks)
	for _, i := range s.constrained {
		if len(s.roles[i].masks) > 0 && satisfies(s.roles[i].role.Constraints, res) {
			ms = append(ms, s.roles[i].masks...)
		}
	}
	return sortCompact(ms)
}

func (s *Subject) granted(d Decision, i int, key string) Decision {
	ex := s.roles[i]
	st := ex.keys[key]
	chain := make([]string, 0, len(st.via)+1)
	chain = append(append(chain, st.via...), key)
	d.Allowed, d.Reason = true, Granted
	d.GrantedBy = &Path{RoleID: ex.role.ID, RoleKey: ex.role.Key, Grant: st.grant, Chain: chain}
	return d
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
	ex := p.expand(Role{Grants: grants})
	var missing []string
	for k := range ex.keys {
		if _, ok := holder.open[k]; !ok {
			missing = append(missing, k)
		}
	}
	for _, m := range ex.masks {
		if _, ok := slices.BinarySearch(holder.openMasks, m); !ok {
			missing = append(missing, m)
		}
	}
	for _, g := range grants {
		if !IsWildcard(g) || !ValidPattern(g) {
			continue
		}
		if !slices.ContainsFunc(holder.wildcards, func(w string) bool { return CoversPattern(w, g) }) {
			missing = append(missing, g)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return slices.Compact(missing)
}
