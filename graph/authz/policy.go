package authz

import (
	"cmp"
	"slices"
	"sort"
	"strings"
)

// Kind tells granting permissions from deny masks (K1, K6).
type Kind uint8

// The kinds of permission.
const (
	Grant Kind = iota
	DenyMask
)

// Permission is a catalog entry as the engine needs it.
type Permission struct {
	Key     string
	Kind    Kind
	Implies []string
}

// Policy is the compiled model of one account: the platform catalog and the
// account's master list. It is immutable and safe for concurrent use.
type Policy struct {
	catalog map[string]Permission // as given (Implies cloned)
	implies map[string][]string   // well-formed implications of master GRANT keys
	master  map[string]Kind
	// grants are the master list's GRANT keys, sorted, so that a wildcard's
	// keys are one contiguous run.
	grants []string
	sorted []string
}

// NewPolicy compiles a catalog and a master list. The catalog may hold keys
// outside the master list (they are known, but never effective: K5); master
// keys that are not in the catalog, or malformed, are ignored.
func NewPolicy(catalog []Permission, master []string) *Policy {
	p := &Policy{
		catalog: make(map[string]Permission, len(catalog)),
		implies: make(map[string][]string),
		master:  make(map[string]Kind, len(master)),
	}
	for _, c := range catalog {
		c.Implies = slices.Clone(c.Implies)
		p.catalog[c.Key] = c
	}
	for _, k := range master {
		c, ok := p.catalog[k]
		if !ok || !ValidKey(k) {
			continue
		}
		if _, dup := p.master[k]; dup {
			continue
		}
		p.master[k] = c.Kind
		p.sorted = append(p.sorted, k)
		if c.Kind != Grant {
			continue
		}
		p.grants = append(p.grants, k)
		var imps []string
		for _, imp := range c.Implies {
			if ValidPattern(imp) {
				imps = append(imps, imp)
			}
		}
		if len(imps) > 0 {
			p.implies[k] = imps
		}
	}
	sort.Strings(p.sorted)
	sort.Strings(p.grants)
	return p
}

// Lookup returns the catalog entry of key, whether or not it is in the
// master list.
func (p *Policy) Lookup(key string) (Permission, bool) {
	c, ok := p.catalog[key]
	c.Implies = slices.Clone(c.Implies)
	return c, ok
}

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

// isGrant reports whether key is a GRANT key of the master list.
func (p *Policy) isGrant(key string) bool {
	k, ok := p.master[key]
	return ok && k == Grant
}

// isMask reports whether key is a deny mask of the master list.
func (p *Policy) isMask(key string) bool {
	k, ok := p.master[key]
	return ok && k == DenyMask
}

// matches calls fn for each GRANT key of the master list that the
// well-formed pattern matches; deny masks are never matched, not even by
// their exact key: masks reach a role only as its own exact grants (K6).
func (p *Policy) matches(pattern string, fn func(key string)) {
	if !IsWildcard(pattern) {
		if p.isGrant(pattern) {
			fn(pattern)
		}
		return
	}
	pre := ""
	if pattern != "*" {
		pre = prefix(pattern)
	}
	for i := sort.SearchStrings(p.grants, pre); i < len(p.grants) && strings.HasPrefix(p.grants[i], pre); i++ {
		if len(p.grants[i]) > len(pre) {
			fn(p.grants[i])
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

// step records how a key was reached: the grant that matched, and the keys
// whose implications led to it, starting with the key the grant matched
// (empty for a direct match).
type step struct {
	grant string
	via   []string
}

// expansion is a role's compiled permissions.
type expansion struct {
	role  Role
	keys  map[string]step
	masks []string // sorted
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

// expand computes a role's keys breadth first, so that every key gets a
// shortest implication path, direct matches first (K3–K6). Excluded keys are
// left out of the direct matches, before the implications.
func (p *Policy) expand(r Role) expansion {
	ex := expansion{role: r, keys: make(map[string]step)}
	if len(r.Constraints) > 0 {
		ex.role.Constraints = make(map[string][]string, len(r.Constraints))
		for a, v := range r.Constraints {
			ex.role.Constraints[a] = slices.Clone(v)
		}
	}
	var queue []string
	for _, g := range orderGrants(r.Grants) {
		if p.isMask(g) {
			if !slices.Contains(r.Excludes, g) { // masks: only an exact exclude names one
				ex.masks = append(ex.masks, g)
			}
			continue
		}
		p.matches(g, func(k string) {
			if _, seen := ex.keys[k]; !seen && !excluded(r.Excludes, k) {
				ex.keys[k] = step{grant: g}
				queue = append(queue, k)
			}
		})
	}
	if r.Exact {
		queue = nil
	}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		imps := p.implies[k]
		if len(imps) == 0 {
			continue
		}
		from := ex.keys[k]
		var via []string
		for _, imp := range imps {
			p.matches(imp, func(k2 string) {
				if _, seen := ex.keys[k2]; !seen {
					if via == nil {
						via = append(slices.Clip(from.via), k)
					}
					ex.keys[k2] = step{grant: from.grant, via: via}
					queue = append(queue, k2)
				}
			})
		}
	}
	sort.Strings(ex.masks)
	ex.masks = slices.Compact(ex.masks)
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

// Expand returns the concrete GRANT keys a role gives, sorted, after the
// implication closure and the excludes (no masks). It never returns nil.
func (p *Policy) Expand(r Role) []string {
	return sortedKeys(p.expand(r).keys)
}

// RolesGranting returns, in their order, the roles whose expansion contains
// key, constrained roles included (D4: "ask for role X"). Deny masks are
// granted by no role.
func (p *Policy) RolesGranting(roles []Role, key string) []Role {
	if !p.isGrant(key) {
		return nil
	}
	var out []Role
	for _, r := range roles {
		if _, ok := p.expand(r).keys[key]; ok {
			out = append(out, r)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
