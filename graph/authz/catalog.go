package authz

import (
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"weak"
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

// Catalog is the platform's permission catalog, compiled once and shared by
// the policies of every account (K1, K4): an account's policy adds only its
// master list. It is immutable and safe for concurrent use.
type Catalog struct {
	perms map[string]Permission // as given (Implies cloned)
	// implies are the well-formed implications of GRANT keys.
	implies map[string][]string
	// policies are the policies in use, by master list: accounts of one
	// template, or of one plan, share theirs. Weak: a policy no model uses
	// any more is collected, and its entry deleted (forget), so that the
	// policies stay within what the model cache holds.
	mu       sync.Mutex
	policies map[string]weak.Pointer[Policy]
}

// NewCatalog compiles a catalog.
func NewCatalog(perms []Permission) *Catalog {
	c := &Catalog{perms: make(map[string]Permission, len(perms)), implies: make(map[string][]string)}
	for _, p := range perms {
		p.Implies = slices.Clone(p.Implies)
		c.perms[p.Key] = p
		if p.Kind != Grant {
			continue
		}
		var imps []string
		for _, imp := range p.Implies {
			if ValidPattern(imp) {
				imps = append(imps, imp)
			}
		}
		if len(imps) > 0 {
			c.implies[p.Key] = imps
		}
	}
	return c
}

// Lookup returns the catalog entry of key.
func (c *Catalog) Lookup(key string) (Permission, bool) {
	p, ok := c.perms[key]
	p.Implies = slices.Clone(p.Implies)
	return p, ok
}

// Intern returns the catalog's own copy of key when it names a permission,
// else key: models that keep it share one string across every account.
func (c *Catalog) Intern(key string) string {
	if p, ok := c.perms[key]; ok {
		return p.Key
	}
	return key
}

// Policy compiles an account's master list over the catalog. Master keys
// that are not in the catalog, or malformed, are ignored. Accounts with the
// same master list share one Policy.
func (c *Catalog) Policy(master []string) *Policy {
	sorted := slices.Clone(master)
	sort.Strings(sorted)
	id := strings.Join(slices.Compact(sorted), "\x00")
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.policies[id].Value(); p != nil {
		return p
	}
	p := c.compile(master)
	if c.policies == nil {
		c.policies = map[string]weak.Pointer[Policy]{}
	}
	c.policies[id] = weak.Make(p)
	runtime.AddCleanup(p, c.forget, id)
	return p
}

// forget deletes the entry of a collected policy, unless the list has a
// policy again.
func (c *Catalog) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.policies[id].Value() == nil {
		delete(c.policies, id)
	}
}

func (c *Catalog) compile(master []string) *Policy {
	p := &Policy{catalog: c, master: make(map[string]entry, len(master))}
	for _, k := range master {
		cp, ok := c.perms[k]
		if !ok || !ValidKey(k) {
			continue
		}
		if _, dup := p.master[cp.Key]; dup {
			continue
		}
		// The catalog's own string: a thousand accounts share one copy.
		p.master[cp.Key] = entry{kind: cp.Kind, bit: -1}
		p.sorted = append(p.sorted, cp.Key)
		if cp.Kind == Grant {
			p.grants = append(p.grants, cp.Key)
		}
	}
	sort.Strings(p.sorted)
	sort.Strings(p.grants)
	for i, k := range p.grants {
		p.master[k] = entry{kind: Grant, bit: int32(i)}
	}
	return p
}
