package authz

import (
	"math/rand"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// Naive reference implementation of K3–K6, R2 and D3, written from the rules
// rather than from the engine.

func refMatch(pat, key string) bool {
	if pat == "*" {
		return true
	}
	if strings.HasSuffix(pat, ".*") || strings.HasSuffix(pat, ":*") {
		pre := pat[:len(pat)-1]
		return strings.HasPrefix(key, pre) && len(key) > len(pre)
	}
	return pat == key
}

type refPolicy struct {
	cat    map[string]Permission
	master map[string]bool // master keys in the catalog
}

func (rp refPolicy) isGrant(k string) bool { return rp.master[k] && rp.cat[k].Kind == Grant }

func (rp refPolicy) expand(r Role) (keys map[string]bool, masks map[string]bool) {
	keys, masks = map[string]bool{}, map[string]bool{}
	excluded := func(k string) bool {
		return slices.ContainsFunc(r.Excludes, func(x string) bool { return ValidPattern(x) && refMatch(x, k) })
	}
	// Excludes name what the grants reach; implications of the rest are kept.
	add := func(pat string, direct bool) bool {
		changed := false
		if !ValidPattern(pat) {
			return false
		}
		for k := range rp.master {
			if rp.isGrant(k) && refMatch(pat, k) && !keys[k] && !(direct && excluded(k)) {
				keys[k], changed = true, true
			}
		}
		return changed
	}
	for _, g := range r.Grants {
		if rp.master[g] && rp.cat[g].Kind == DenyMask && !slices.Contains(r.Excludes, g) {
			masks[g] = true
		}
		add(g, true)
	}
	for changed := true; changed; {
		changed = false
		for k := range keys {
			for _, imp := range rp.cat[k].Implies {
				if add(imp, false) {
					changed = true
				}
			}
		}
	}
	return keys, masks
}

func refApplies(r Role, res Resource) bool {
	for a, vs := range r.Constraints {
		v, ok := res[a]
		if !ok || !slices.Contains(vs, v) {
			return false
		}
	}
	return true
}

func setKeys(m map[string]bool) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func randKey(rng *rand.Rand) string {
	segs := []string{"a", "b", "c", "d_x", "E-1"}
	n := 1 + rng.Intn(3)
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString([]string{".", ":"}[rng.Intn(2)])
		}
		b.WriteString(segs[rng.Intn(len(segs))])
	}
	return b.String()
}

func randPattern(rng *rand.Rand, keys []string) string {
	switch x := rng.Intn(20); {
	case x == 0:
		return "*"
	case x == 1:
		return []string{"a.*.b", "a*", "*.a", "a.**", "", "a..b"}[rng.Intn(6)]
	case x < 9:
		k := keys[rng.Intn(len(keys))]
		// a wildcard on one of the key's prefixes
		cut := []int{}
		for i := 0; i < len(k); i++ {
			if k[i] == '.' || k[i] == ':' {
				cut = append(cut, i)
			}
		}
		if len(cut) == 0 {
			return k + []string{".*", ":*"}[rng.Intn(2)]
		}
		return k[:cut[rng.Intn(len(cut))]+1] + "*"
	default:
		return keys[rng.Intn(len(keys))]
	}
}

func TestProperty_AllowsMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(20240607))
	resources := []Resource{nil, {"t": "x"}, {"t": "y"}, {"t": "z", "u": "1"}, {"u": "1"}}
	for iter := range 300 {
		keySet := map[string]bool{}
		for len(keySet) < 30 {
			keySet[randKey(rng)] = true
		}
		keys := setKeys(keySet)
		var catalog []Permission
		for _, k := range keys[:25] { // the last five are not in the catalog
			c := Permission{Key: k}
			if rng.Intn(8) == 0 {
				c.Kind = DenyMask
			}
			for range rng.Intn(3) {
				c.Implies = append(c.Implies, randPattern(rng, keys))
			}
			catalog = append(catalog, c)
		}
		var master []string
		for _, k := range keys {
			if rng.Intn(5) != 0 {
				master = append(master, k)
			}
		}
		p := NewPolicy(catalog, master)
		rp := refPolicy{cat: map[string]Permission{}, master: map[string]bool{}}
		for _, c := range catalog {
			rp.cat[c.Key] = c
		}
		for _, k := range master {
			if _, ok := rp.cat[k]; ok {
				rp.master[k] = true
			}
		}
		var roles []Role
		for i := range 1 + rng.Intn(4) {
			r := Role{ID: string(rune('A' + i)), Key: string(rune('a' + i))}
			for range rng.Intn(5) {
				r.Grants = append(r.Grants, randPattern(rng, keys))
			}
			if rng.Intn(4) == 0 {
				r.Excludes = []string{randPattern(rng, keys)}
			}
			if rng.Intn(3) == 0 {
				r.Constraints = map[string][]string{"t": []string{"x", "z"}[:1+rng.Intn(2)]}
				if rng.Intn(3) == 0 {
					r.Constraints["u"] = []string{"1"}
				}
			}
			roles = append(roles, r)
		}
		sub := p.Subject(roles)
		// Compiled together, as a model compiles its roles and the sets its
		// members hold (CompileAll, SubjectsOf): the same subject.
		together := p.SubjectsOf([][]*Expansion{p.CompileAll(roles[:1]), p.CompileAll(roles)})[1]

		all, open, masks := map[string]bool{}, map[string]bool{}, map[string]bool{}
		exp := make([]map[string]bool, len(roles))
		for i, r := range roles {
			ks, ms := rp.expand(r)
			exp[i] = ks
			for k := range ks {
				all[k] = true
				if len(r.Constraints) == 0 {
					open[k] = true
				}
			}
			for m := range ms {
				masks[m] = true
			}
			if got := p.Expand(r); !reflect.DeepEqual(got, setKeys(ks)) {
				t.Fatalf("iter %d: Expand(%+v) = %v, want %v", iter, r, got, setKeys(ks))
			}
		}
		eq(t, "Permissions", sub.Permissions(), setKeys(all))
		eq(t, "Unconstrained", sub.Unconstrained(), setKeys(open))
		eq(t, "Masks", sub.Masks(), setKeys(masks))
		eq(t, "Permissions compiled together", together.Permissions(), setKeys(all))
		eq(t, "Unconstrained compiled together", together.Unconstrained(), setKeys(open))
		eq(t, "Masks compiled together", together.Masks(), setKeys(masks))

		for _, k := range append(keys, "*", "a.*", "") {
			for _, res := range resources {
				want := false
				for i, r := range roles {
					if exp[i][k] && refApplies(r, res) {
						want = true
					}
				}
				if got := sub.Allows(k, res); got != want {
					t.Fatalf("iter %d: Allows(%q, %v) = %v, want %v\nroles %+v\ncatalog %+v\nmaster %v", iter, k, res, got, want, roles, catalog, master)
				}
				d := sub.Decide(k, res)
				if d.Allowed != want {
					t.Fatalf("iter %d: Decide(%q) = %+v, want allowed %v", iter, k, d, want)
				}
				if dt := together.Decide(k, res); dt.Allowed != d.Allowed || dt.Reason != d.Reason ||
					!reflect.DeepEqual(dt.Masks, d.Masks) || !reflect.DeepEqual(dt.GrantedBy(), d.GrantedBy()) {
					t.Fatalf("iter %d: Decide(%q) compiled together = %+v (%+v), alone %+v (%+v)", iter, k, dt, dt.GrantedBy(), d, d.GrantedBy())
				}
				if want {
					checkPath(t, rp, roles, k, d.GrantedBy())
				}
			}
		}

		// R7 soundness: when nothing is missing, the holder already holds,
		// unconstrained, every key the grants give.
		var grants []string
		for range 1 + rng.Intn(3) {
			grants = append(grants, randPattern(rng, keys))
		}
		if len(p.Missing(sub, grants)) == 0 {
			given, _ := rp.expand(Role{Grants: grants})
			for k := range given {
				if !open[k] {
					t.Fatalf("iter %d: Missing(%v) empty but %s not held", iter, grants, k)
				}
			}
		}
	}
}

func checkPath(t *testing.T, rp refPolicy, roles []Role, key string, path *Path) {
	t.Helper()
	if path == nil || len(path.Chain) == 0 || path.Chain[len(path.Chain)-1] != key {
		t.Fatalf("bad path %+v for %s", path, key)
	}
	i := slices.IndexFunc(roles, func(r Role) bool { return r.ID == path.RoleID })
	if i < 0 || !slices.Contains(roles[i].Grants, path.Grant) || !refMatch(path.Grant, path.Chain[0]) {
		t.Fatalf("path %+v: grant not in role or not matching", path)
	}
	for j := 0; j+1 < len(path.Chain); j++ {
		if !slices.ContainsFunc(rp.cat[path.Chain[j]].Implies, func(imp string) bool {
			return ValidPattern(imp) && refMatch(imp, path.Chain[j+1])
		}) {
			t.Fatalf("path %+v: %s does not imply %s", path, path.Chain[j], path.Chain[j+1])
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	p, roles, keys := benchPolicy(100)
	sub := p.Subject(roles)
	done := make(chan bool)
	for g := range 4 {
		go func() {
			for i, k := range keys {
				res := Resource{"issuer_ids": []string{"iss_1", "iss_3"}[(i+g)%2]}
				if d := sub.Decide(k, res); d.Allowed != sub.Allows(k, res) {
					t.Errorf("Decide/Allows disagree on %s", k)
				}
				_ = p.Missing(sub, []string{k, "area1.*"})
				_ = p.Expand(roles[g])
			}
			done <- true
		}()
	}
	for range 4 {
		<-done
	}
}

// A trail is indexed by a key's rank among the role's keys: rank counts
// the members below a bit, across words.
func TestBitsetRank(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	for range 200 {
		n := 1 + rng.Intn(300)
		b := newBitset(n)
		for i := range n {
			if rng.Intn(3) == 0 {
				b.set(int32(i))
			}
		}
		below := 0
		for i := range n {
			if got := b.rank(int32(i)); got != below {
				t.Fatalf("rank(%d) over %d bits = %d, want %d", i, n, got, below)
			}
			if b.has(int32(i)) {
				below++
			}
		}
	}
}
