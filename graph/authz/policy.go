package authz

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
)

// Policy is the compiled model of one account: the shared catalog and the
// account's master list. It is immutable and safe for concurrent use.
type Policy struct {
	catalog *Catalog
	master  map[string]entry
	// grants are the master list's GRANT keys, sorted, so that a wildcard's
	// keys are one contiguous run; a key's position is its bit in bitsets.
	grants []string
	sorted []string
}

// entry is a master key's kind and, for GRANT keys, its bit.
type entry struct {
	kind Kind
	bit  int32 // -1 for deny masks
}

// NewPolicy compiles a catalog and a master list. The catalog may hold keys
// outside the master list (they are known, but never effective: K5); master
// keys that are not in the catalog, or malformed, are ignored. Accounts that
// share a catalog use NewCatalog once and Catalog.Policy for each.
func NewPolicy(catalog []Permission, master []string) *Policy {
	return NewCatalog(catalog).Policy(master)
}

// Lookup returns the catalog entry of key, whether or not it is in the
// master list.
func (p *Policy) Lookup(key string) (Permission, bool) { return p.catalog.Lookup(key) }

// Intern is Catalog.Intern on the policy's catalog.
func (p *Policy) Intern(key string) string { return p.catalog.Intern(key) }

// InMaster reports whether key is in the master list.
func (p *Policy) InMaster(key string) bool {
	_, ok := p.master[key]
	return ok
}

// Master returns the master list, sorted.
func (p *Policy) Master() []string {
	if p.sorted == nil {
		return []string{}
	}
	return slices.Clone(p.sorted)
}

// bit returns key's bit when it is a GRANT key of the master list, else -1.
func (p *Policy) bit(key string) int32 {
	if e, ok := p.master[key]; ok {
		return e.bit
	}
	return -1
}

// isGrant reports whether key is a GRANT key of the master list.
func (p *Policy) isGrant(key string) bool { return p.bit(key) >= 0 }

// isMask reports whether key is a deny mask of the master list.
func (p *Policy) isMask(key string) bool {
	e, ok := p.master[key]
	return ok && e.kind == DenyMask
}

// matches calls fn with the bit of each GRANT key of the master list that
// the well-formed pattern matches; deny masks are never matched, not even by
// their exact key: masks reach a role only as its own exact grants (K6).
func (p *Policy) matches(pattern string, fn func(bit int32)) {
	if !IsWildcard(pattern) {
		if b := p.bit(pattern); b >= 0 {
			fn(b)
		}
		return
	}
	pre := ""
	if pattern != "*" {
		pre = prefix(pattern)
	}
	for i := sort.SearchStrings(p.grants, pre); i < len(p.grants) && strings.HasPrefix(p.grants[i], pre); i++ {
		if len(p.grants[i]) > len(pre) {
			fn(int32(i))
		}
	}
}

// InvalidGrants returns, sorted and without duplicates, the grants a role
// may not carry (R5): malformed patterns, concrete keys outside the master
// list, and deny masks unless allowMasks. It never returns nil.
func (p *Policy) InvalidGrants(grants []string, allowMasks bool) []string {
	bad := []string{}
	for _, g := range grants {
		switch {
		case !ValidPattern(g):
			bad = append(bad, g)
		case IsWildcard(g):
		case !p.InMaster(g):
			bad = append(bad, g)
		case p.isMask(g) && !allowMasks:
			bad = append(bad, g)
		}
	}
	sort.Strings(bad)
	return slices.Compact(bad)
}

// Role is a role as the engine needs it.
type Role struct {
	ID, Key string
	// Grants are keys and patterns.
	Grants []string
	// Excludes are patterns the role's grants do not reach (default_access:
	// `*` minus defaultAccessExcludes). They remove what they name, not what
	// the keys the role still holds imply: Truora's default_access keeps
	// iam.members.read, which account.users.list implies, though it
	// excludes iam.*.
	Excludes []string
	// Constraints: attribute → allowed values (D3); empty applies everywhere.
	Constraints map[string][]string
	// Exact roles give exactly the keys their grants match, without following
	// implications: an API key's snapshot was resolved at creation and must
	// not widen when the catalog's implications change later (S3).
	Exact bool
}

// Expansion is a role compiled against a policy: the GRANT keys it gives,
// after the implication closure and the excludes, and its deny masks. It is
// immutable; every subject holding the role may share it.
//
// A model keeps one per role: 112 bytes. What few roles have (excludes,
// exactness, masks) is kept apart (x, nil for most), and the role is kept
// as its fields, not as a Role (whose Excludes and Exact took 32 bytes of
// every expansion).
type Expansion struct {
	policy      *Policy
	id, key     string
	grants      []string
	constraints map[string][]string
	x           *expansionExtra
	keys        bitset
	trails      atomic.Pointer[trail]
}

// expansionExtra is what few roles have.
type expansionExtra struct {
	excludes []string
	exact    bool
	masks    []string // sorted
}

// Has reports whether the role gives key.
func (ex *Expansion) Has(key string) bool { return ex.keys.has(ex.policy.bit(key)) }

// Keys returns the GRANT keys the role gives, sorted. It never returns nil.
func (ex *Expansion) Keys() []string { return ex.keys.keys(ex.policy.grants) }

// Masks returns the role's deny masks, sorted. It never returns nil.
func (ex *Expansion) Masks() []string { return append([]string{}, ex.masks()...) }

// masks are the role's deny masks, sorted (nil when none).
func (ex *Expansion) masks() []string {
	if ex.x == nil {
		return nil
	}
	return ex.x.masks
}

// excludes are the role's excludes.
func (ex *Expansion) excludes() []string {
	if ex.x == nil {
		return nil
	}
	return ex.x.excludes
}

// rule is the role compiled.
func (ex *Expansion) rule() Role {
	r := Role{ID: ex.id, Key: ex.key, Grants: ex.grants, Constraints: ex.constraints}
	if ex.x != nil {
		r.Excludes, r.Exact = ex.x.excludes, ex.x.exact
	}
	return r
}

// orderGrants returns the well-formed grants in the order they are tried:
// exact keys first (in role order), then wildcards from the narrowest to the
// widest, so that a key's path names the most specific grant.
func orderGrants(grants []string) []string {
	out := make([]string, 0, len(grants))
	var wild []string
	for _, g := range grants {
		switch {
		case !ValidPattern(g):
		case IsWildcard(g):
			wild = append(wild, g)
		default:
			out = append(out, g)
		}
	}
	slices.SortStableFunc(wild, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return append(out, wild...)
}

// Compile computes a role's keys (K3–K6): its grants' matches, but for the
// excluded keys, then, breadth first, their implications. An exclusion
// removes what it names, not what other held keys imply.
func (p *Policy) Compile(r Role) *Expansion {
	return p.compile(new(Expansion), r, newBitset(len(p.grants)))
}

// CompileAll is Compile for each role, compiled together: the expansions
// are one array and their keys one bitset, two objects for the garbage
// collector where each role took two. A model compiles its roles so.
func (p *Policy) CompileAll(roles []Role) []*Expansion {
	w := len(newBitset(len(p.grants)))
	exs, words, out := make([]Expansion, len(roles)), make(bitset, len(roles)*w), make([]*Expansion, len(roles))
	for i, r := range roles {
		out[i] = p.compile(&exs[i], r, words[i*w:(i+1)*w:(i+1)*w])
	}
	return out
}

// compile makes ex r's expansion, its keys in keys (zero, of the policy's
// width).
func (p *Policy) compile(ex *Expansion, r Role, keys bitset) *Expansion {
	ex.policy, ex.id, ex.key, ex.grants, ex.keys = p, r.ID, r.Key, r.Grants, keys
	if len(r.Constraints) > 0 {
		ex.constraints = make(map[string][]string, len(r.Constraints))
		for a, v := range r.Constraints {
			ex.constraints[a] = slices.Clone(v)
		}
	}
	p.walk(r, ex.keys, func(int32, int32, int) bool { return true })
	var masks []string
	for _, g := range r.Grants {
		// Masks: only an exact exclude names one.
		if ValidPattern(g) && p.isMask(g) && !slices.Contains(r.Excludes, g) {
			masks = append(masks, g)
		}
	}
	if len(masks) > 0 || len(r.Excludes) > 0 || r.Exact {
		ex.x = &expansionExtra{excludes: r.Excludes, exact: r.Exact, masks: sortCompact(masks)}
	}
	return ex
}

// excluded reports whether a well-formed pattern of excludes matches key.
func excluded(excludes []string, key string) bool {
	for _, x := range excludes {
		if ValidPattern(x) && match(x, key) {
			return true
		}
	}
	return false
}

// walk visits the keys a role's grants reach, breadth first: first every
// direct match but the excluded keys, grant by grant in orderGrants' order,
// then the keys implied by those, level by level (unless the role is Exact). Each key is visited
// once, with the key whose implication reached it (-1 for a direct match)
// and the index in orderGrants of the grant at the root of its path; seen
// collects them. The walk stops when visit returns false.
func (p *Policy) walk(r Role, seen bitset, visit func(bit, from int32, grant int) bool) {
	var queue []int32
	var roots []int
	more := true
	for gi, g := range orderGrants(r.Grants) {
		if !more {
			return
		}
		if p.isMask(g) {
			continue
		}
		p.matches(g, func(b int32) {
			if more && !seen.has(b) && !excluded(r.Excludes, p.grants[b]) {
				seen.set(b)
				queue, roots = append(queue, b), append(roots, gi)
				more = visit(b, -1, gi)
			}
		})
	}
	if r.Exact {
		return
	}
	for len(queue) > 0 && more {
		k, root := queue[0], roots[0]
		queue, roots = queue[1:], roots[1:]
		for _, imp := range p.catalog.implies[p.grants[k]] {
			p.matches(imp, func(b int32) {
				if more && !seen.has(b) {
					seen.set(b)
					queue, roots = append(queue, b), append(roots, root)
					more = visit(b, k, root)
				}
			})
		}
	}
}

// path says how ex gives the key at bit: the grant at the root of the path
// Compile's walk takes to it first, and how many implications lead from the
// key that grant matched to it. A direct match needs no walk; implied keys
// follow the role's trail.
func (ex *Expansion) path(bit int32) (grant string, depth int) {
	key := ex.policy.grants[bit]
	for _, g := range ex.grants {
		if g == key && !excluded(ex.excludes(), key) { // exact grants come first in orderGrants' order
			return g, 0
		}
	}
	t := ex.trail()
	for k := t.parentOf(ex, bit); k >= 0; k = t.parentOf(ex, k) {
		depth++
	}
	return t.ordered[t.root[ex.keys.rank(bit)]], depth
}

// via lists the keys whose implications lead to the key at bit, starting
// with the key its grant matched (empty for a direct match).
func (ex *Expansion) via(bit int32, depth int) []string {
	if depth == 0 {
		return nil
	}
	t, out := ex.trail(), make([]string, depth)
	for k := t.parentOf(ex, bit); k >= 0; k = t.parentOf(ex, k) {
		depth--
		out[depth] = ex.policy.grants[k]
	}
	return out
}

// trail is how Compile's walk reached each key of a role: the key whose
// implication led to it (-1 for a direct match) and the grant at the root of
// its path. Computed on the first decision that needs it, then kept: 6 bytes
// a key the role gives (indexed by its rank among them, not by its bit: a
// role of 10 keys over a master list of 100 keeps 60 bytes, not 600), only
// for roles whose keys are asked.
type trail struct {
	ordered []string // the role's grants in orderGrants' order
	parent  []int32
	root    []uint16
}

// parentOf is the key whose implication led to the role's key at bit.
func (t *trail) parentOf(ex *Expansion, bit int32) int32 { return t.parent[ex.keys.rank(bit)] }

func (ex *Expansion) trail() *trail {
	if t := ex.trails.Load(); t != nil {
		return t
	}
	p, n := ex.policy, ex.keys.count()
	t := &trail{ordered: orderGrants(ex.grants), parent: make([]int32, n), root: make([]uint16, n)}
	// The walk is Compile's again: it visits exactly the role's keys.
	p.walk(ex.rule(), newBitset(len(p.grants)), func(b, from int32, root int) bool {
		i := ex.keys.rank(b)
		t.parent[i], t.root[i] = from, uint16(root)
		return true
	})
	ex.trails.Store(t)
	return t
}

// Expand returns the concrete GRANT keys a role gives, sorted, after the
// implication closure and the excludes (no masks). It never returns nil.
func (p *Policy) Expand(r Role) []string { return p.Compile(r).Keys() }

// RolesGranting returns, in their order, the roles whose expansion contains
// key, constrained roles included (D4: "ask for role X"). Deny masks are
// granted by no role.
func (p *Policy) RolesGranting(roles []Role, key string) []Role {
	if !p.isGrant(key) {
		return nil
	}
	var out []Role
	for _, r := range roles {
		if p.Compile(r).Has(key) {
			out = append(out, r)
		}
	}
	return out
}
