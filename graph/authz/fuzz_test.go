package authz

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Fuzz targets for the key grammar (K2) and patterns (K3, K6). Each checks
// the engine against a reference written from the SPEC's words: a regular
// expression for the grammar, refMatch (property_test.go) for matching.

// refKeyRE is K2 as the SPEC states it: segments of [A-Za-z0-9_-] joined by
// '.' or ':'. The grammar is ASCII, so characters are bytes.
var refKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]+([.:][A-Za-z0-9_-]+)*$`)

func refValidKey(s string) bool {
	return len(s) >= 1 && len(s) <= MaxKeyLen && refKeyRE.MatchString(s)
}

// refIsWildcard is K3's wildcard: `*`, or a key followed by `.*` or `:*`,
// 128 characters at most in all.
func refIsWildcard(s string) bool {
	if s == "*" {
		return true
	}
	for _, sep := range []string{".*", ":*"} {
		if k, ok := strings.CutSuffix(s, sep); ok && len(s) <= MaxKeyLen && refValidKey(k) {
			return true
		}
	}
	return false
}

func refValidPattern(s string) bool { return refValidKey(s) || refIsWildcard(s) }

// grammarSeeds are the SPEC's examples, wildcards, and the malformed shapes
// a hand-written scanner gets wrong: empty segments, stray or doubled
// separators, `*` inside, characters just outside the classes, lengths
// around 128.
func grammarSeeds() []string {
	long := strings.Repeat("a", MaxKeyLen)
	return []string{
		"identity.flows.create", "attestations:mint", "AgentChat", "view_duplicates", "mask:member.email",
		"a-b_C9.x:y", "iam.roles.manage",
		"*", "attestations:*", "identity.whatsapp.*", "identity.*", "a:b.*",
		"", ".", ":", "a.", ".a", "a..b", "a.:b", "a:", ":a", "a.*.b", "a*", "*.a", "a.**", "**", ".*", ":*",
		"ab*", "identity.flows*", "a_*", "a-*", "a b", "a/b", "a\x00b", "é", "a.é", "a,b", "a@b", "A`", "a{b}", "a[b]", "a\tb", "a\nb",
		long, long + "a", long[:MaxKeyLen-2] + ".*", long[:MaxKeyLen-1] + ".*", long[:MaxKeyLen-2] + "a.b",
	}
}

func FuzzK2_KeyGrammar(f *testing.F) {
	for _, s := range grammarSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidKey(s), refValidKey(s); got != want {
			t.Fatalf("ValidKey(%q) = %v, want %v", s, got, want)
		}
		if got, want := IsWildcard(s), refIsWildcard(s); got != want {
			t.Fatalf("IsWildcard(%q) = %v, want %v", s, got, want)
		}
		if got, want := ValidPattern(s), refValidPattern(s); got != want {
			t.Fatalf("ValidPattern(%q) = %v, want %v", s, got, want)
		}
		if ValidPattern(s) && strings.Contains(strings.TrimSuffix(s, "*"), "*") {
			t.Fatalf("ValidPattern(%q): `*` elsewhere than at the end", s)
		}
		if !ValidKey(s) {
			return
		}
		// Cutting a key at any separator leaves a key whose wildcards, at
		// that separator, match the whole key (K2 and K3 agree), and the
		// wildcard of the key itself matches it only below it.
		for i := 0; i < len(s); i++ {
			if s[i] != '.' && s[i] != ':' {
				continue
			}
			parent, wild := s[:i], s[:i+1]+"*"
			if !ValidKey(parent) || !IsWildcard(wild) || !Match(wild, s) {
				t.Fatalf("key %q: parent %q valid %v, wildcard %q valid %v, matches %v",
					s, parent, ValidKey(parent), wild, IsWildcard(wild), Match(wild, s))
			}
		}
		if len(s) <= MaxKeyLen-2 && (!IsWildcard(s+".*") || Match(s+".*", s)) {
			t.Fatalf("%q.*: valid %v, matches its own prefix key %v", s, IsWildcard(s+".*"), Match(s+".*", s))
		}
	})
}

func FuzzK3_PatternMatch(f *testing.F) {
	seeds := grammarSeeds()
	for i, p := range seeds {
		for _, k := range []string{"identity.flows.create", "attestations:mint", "identityx.a", "identity", "a.b", seeds[(i+7)%len(seeds)]} {
			f.Add(p, "identity.*", k)
		}
	}
	f.Add("identity.*", "identity.whatsapp.*", "identity.whatsapp.send")
	f.Add("identity.*", "identity:x.*", "identity:x.y")
	f.Add("identity.*", "identityx.*", "identityx.a")
	f.Add("*", "*", "a")
	f.Add("a:*", "a:b:*", "a:b:c")
	f.Fuzz(func(t *testing.T, pattern, narrower, key string) {
		want := refValidPattern(pattern) && refValidKey(key) && refMatch(pattern, key)
		if got := Match(pattern, key); got != want {
			t.Fatalf("Match(%q, %q) = %v, want %v", pattern, key, got, want)
		}
		// A key is a pattern too: covering it is matching it (R7 uses both).
		if refValidKey(key) && CoversPattern(pattern, key) != want {
			t.Fatalf("CoversPattern(%q, %q) = %v, Match = %v", pattern, key, CoversPattern(pattern, key), want)
		}
		// Covering is sound: what narrower matches, pattern matches.
		if CoversPattern(pattern, narrower) && Match(narrower, key) && !Match(pattern, key) {
			t.Fatalf("CoversPattern(%q, %q) but %q matches %q and %q does not", pattern, narrower, narrower, key, pattern)
		}
		if !refValidKey(key) {
			return
		}
		checkPolicyMatch(t, pattern, key, want)
	})
}

// checkPolicyMatch checks a role granting pattern in one-key master lists:
// a GRANT key is given exactly when the pattern matches it (K3); a deny mask
// is never given, and is carried as a mask only by its exact key, never
// through a wildcard or an implication (K6).
func checkPolicyMatch(t *testing.T, pattern, key string, match bool) {
	t.Helper()
	role := Role{ID: "r", Key: "r", Grants: []string{pattern}}
	grant := NewPolicy([]Permission{{Key: key}}, []string{key})
	var want []string
	if match {
		want = []string{key}
	}
	if got := grant.Expand(role); !slices.Equal(got, want) {
		t.Fatalf("GRANT %q: Expand(%q) = %v, want %v", key, pattern, got, want)
	}
	if got := grant.Subject([]Role{role}).Allows(key, nil); got != match {
		t.Fatalf("GRANT %q: Allows under %q = %v, want %v", key, pattern, got, match)
	}

	implier := "zz.implier"
	if key == implier {
		implier = "zz.other"
	}
	mask := NewPolicy([]Permission{{Key: key, Kind: DenyMask}, {Key: implier, Implies: []string{pattern}}},
		[]string{key, implier})
	for _, r := range []Role{role, {ID: "i", Key: "i", Grants: []string{implier}}} {
		sub := mask.Subject([]Role{r})
		if d := sub.Decide(key, nil); d.Allowed || slices.Contains(mask.Expand(r), key) {
			t.Fatalf("DENY_MASK %q granted by role %v: %+v", key, r.Grants, d)
		}
		var wantMasks []string
		if r.Grants[0] == key {
			wantMasks = []string{key}
		}
		if got := sub.Masks(); !slices.Equal(got, wantMasks) {
			t.Fatalf("DENY_MASK %q: role %v carries masks %v, want %v", key, r.Grants, got, wantMasks)
		}
	}
}
