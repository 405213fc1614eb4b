package authz

import (
	"slices"
	"strings"
	"testing"
)

func TestK2_KeyGrammar(t *testing.T) {
	long := strings.Repeat("a", 128)
	for _, tc := range []struct {
		key  string
		want bool
	}{
		{"identity.flows.create", true},
		{"attestations:mint", true},
		{"AgentChat", true},
		{"view_duplicates", true},
		{"mask:member.email", true},
		{"a-b_c.D9:x", true},
		{"a", true},
		{long, true},
		{long + "a", false},
		{"", false},
		{".a", false},
		{"a.", false},
		{"a..b", false},
		{"a.:b", false},
		{":a", false},
		{"a:", false},
		{"a b", false},
		{"a/b", false},
		{"*", false},
		{"a.*", false},
		{"é", false},
		{"a\n", false},
	} {
		if got := ValidKey(tc.key); got != tc.want {
			t.Errorf("ValidKey(%q) = %v, want %v", tc.key, got, tc.want)
		}
	}
}

func TestK3_WildcardMatching(t *testing.T) {
	t.Run("ValidPattern", func(t *testing.T) {
		for _, tc := range []struct {
			p    string
			want bool
		}{
			{"*", true}, {"identity.*", true}, {"attestations:*", true}, {"identity.whatsapp.*", true},
			{"AgentChat", true}, {"a.*.b", false}, {"a*", false}, {"*.a", false}, {"a.**", false},
			{"**", false}, {".*", false}, {":*", false}, {"a..*", false}, {"*a", false}, {"", false},
			{strings.Repeat("a", 126) + ".*", true}, {strings.Repeat("a", 127) + ".*", false},
		} {
			if got := ValidPattern(tc.p); got != tc.want {
				t.Errorf("ValidPattern(%q) = %v, want %v", tc.p, got, tc.want)
			}
			if tc.want && IsWildcard(tc.p) != strings.HasSuffix(tc.p, "*") {
				t.Errorf("IsWildcard(%q) wrong", tc.p)
			}
		}
	})
	t.Run("Match", func(t *testing.T) {
		for _, tc := range []struct {
			p, k string
			want bool
		}{
			{"*", "AgentChat", true},
			{"*", "attestations:x.y", true},
			{"attestations:*", "attestations:mint", true},
			{"attestations:*", "attestations:x.y", true},
			{"attestations:*", "attestations", false},
			{"attestations:*", "attestationsX:y", false},
			{"attestations.*", "attestations:mint", false},
			{"identity.*", "identity.whatsapp.templates.read", true},
			{"identity.*", "identityx.flows.read", false},
			{"identity.whatsapp.*", "identity.flows.create", false},
			{"identity.flows.create", "identity.flows.create", true},
			{"identity.flows.create", "identity.flows.created", false},
			{"a.*.b", "a.x.b", false},
			{"*", "", false},
			{"*", "a..b", false},
			{"a*", "a*", false},
		} {
			if got := Match(tc.p, tc.k); got != tc.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tc.p, tc.k, got, tc.want)
			}
		}
	})
	t.Run("CoversPattern", func(t *testing.T) {
		for _, tc := range []struct {
			w, n string
			want bool
		}{
			{"*", "*", true},
			{"*", "identity.*", true},
			{"*", "AgentChat", true},
			{"identity.*", "identity.*", true},
			{"identity.*", "identity.whatsapp.*", true},
			{"identity.*", "identity.flows.create", true},
			{"identity.*", "identityx.*", false},
			{"identity.*", "identity:x.*", false},
			{"identity.*", "*", false},
			{"identity.whatsapp.*", "identity.*", false},
			{"attestations:*", "attestations:x.*", true},
			{"AgentChat", "AgentChat", true},
			{"AgentChat", "AgentChat.*", false},
			{"*", "a.*.b", false},
			{"a.*.b", "a.x.b", false},
		} {
			if got := CoversPattern(tc.w, tc.n); got != tc.want {
				t.Errorf("CoversPattern(%q, %q) = %v, want %v", tc.w, tc.n, got, tc.want)
			}
		}
	})
	t.Run("Expand", func(t *testing.T) {
		p := seedPolicy()
		eq(t, "attestations:*", p.Expand(Role{Grants: []string{"attestations:*"}}),
			s("attestations:mint", "attestations:revoke", "attestations:x.y"))
		eq(t, "identity.whatsapp.*", p.Expand(Role{Grants: []string{"identity.whatsapp.*"}}),
			s("identity.whatsapp.send", "identity.whatsapp.templates.read"))
		eq(t, "malformed grants give nothing", p.Expand(Role{Grants: []string{"a.*.b", "identity*", "*.flows.create", "identity.**"}}), s())
		eq(t, "nothing.*", p.Expand(Role{Grants: []string{"nothing.*"}}), s())
	})
}

func TestK4_ImplicationTransitiveAndCycles(t *testing.T) {
	p := seedPolicy()
	for _, tc := range []struct {
		name   string
		grants []string
		want   []string
	}{
		{"transitive", []string{"chain.a"}, s("AgentChat", "chain.a", "chain.b", "chain.c")},
		{"mid-chain", []string{"chain.b"}, s("AgentChat", "chain.b", "chain.c")},
		{"cycle with wildcard", []string{"cyc.b"}, s("cyc.a", "cyc.b", "cyc.c", "cyc.d")},
		{"cycle entry leaf", []string{"cyc.d"}, s("cyc.d")},
		{"products.all implies wildcards", []string{"products.all"}, s(
			"checks.read", "checks.run", "identity.flows.create", "identity.flows.read",
			"identity.whatsapp.send", "identity.whatsapp.templates.read", "products.all",
			"validations.documents", "validations.face")},
		{"truora.roles maps onto iam", []string{"truora.roles"}, s("iam.permissions.read", "iam.roles.manage", "iam.roles.read", "truora.roles")},
		{"wildcard grant fires implications", []string{"truora.*"}, s(
			"iam.keys.manage", "iam.keys.read", "iam.members.manage", "iam.members.read",
			"iam.permissions.read", "iam.roles.manage", "iam.roles.read", "truora.keys", "truora.roles", "truora.users")},
		{"malformed implications ignored", []string{"bad.implier"}, s("bad.implier", "view_duplicates")},
		{"only effective keys imply (not in master)", []string{"outside.implier"}, s()},
		{"implication only from a granted key", []string{"AgentChat"}, s("AgentChat")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eq(t, "Expand", p.Expand(Role{Grants: tc.grants}), tc.want)
		})
	}
}

func TestK5_MasterListBoundsEverything(t *testing.T) {
	p := seedPolicy()
	eq(t, "master (ghost key ignored, dedup, sorted)", slices_contains(p.Master(), "ghost.key"), false)
	eq(t, "InMaster(billing)", p.InMaster("billing.invoices.read"), false)
	if _, ok := p.Lookup("billing.invoices.read"); !ok {
		t.Error("Lookup must answer for catalog keys outside the master list")
	}
	if _, ok := p.Lookup("ghost.key"); ok {
		t.Error("ghost.key is not in the catalog")
	}
	for _, tc := range []struct {
		name   string
		grants []string
		want   []string
	}{
		{"exact keys outside master", []string{"billing.invoices.read", "identity.flows.delete", "ghost.key"}, s()},
		{"wildcard only reaches master keys", []string{"identity.flows.*"}, s("identity.flows.create", "identity.flows.read")},
		{"implication to a key outside master", []string{"mask.implier"}, s("mask.implier")},
		{"star is the master list's grants", []string{"*"}, masterGrants(p)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eq(t, "Expand", p.Expand(Role{Grants: tc.grants}), tc.want)
		})
	}
	sub := p.Subject([]Role{{Key: "full_access", Grants: []string{"*"}}})
	for _, k := range sub.Permissions() {
		if !p.InMaster(k) {
			t.Errorf("%s effective but not in master", k)
		}
	}
	if sub.Allows("billing.invoices.read", nil) || sub.Allows("ghost.key", nil) {
		t.Error("keys outside the master list are allowed")
	}
	eq(t, "Decide(billing)", sub.Decide("billing.invoices.read", nil).Reason, NotInMasterList)
}

func slices_contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestK6_MasksNeverMatchedByWildcardOrImplication(t *testing.T) {
	p := seedPolicy()
	for _, tc := range []struct {
		name      string
		grants    []string
		wantMasks []string
	}{
		{"star", []string{"*"}, s()},
		{"mask wildcard", []string{"mask:*"}, s()},
		{"mask:member wildcard", []string{"mask:member.*"}, s()},
		{"implication naming the exact mask", []string{"mask.implier"}, s()},
		{"exact mask", []string{"mask:member.email"}, s("mask:member.email")},
		{"exact masks with star", []string{"*", "mask:member.phone", "mask:member.email", "mask:member.email"}, s("mask:member.email", "mask:member.phone")},
		{"exact mask outside master", []string{"mask:unlisted"}, s()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := p.Subject([]Role{{Key: "r", Grants: tc.grants}})
			eq(t, "Masks", sub.Masks(), tc.wantMasks)
			for _, k := range append(sub.Permissions(), p.Expand(Role{Grants: tc.grants})...) {
				if c, _ := p.Lookup(k); c.Kind == DenyMask {
					t.Errorf("mask %s in the granted set", k)
				}
			}
			for _, m := range []string{"mask:member.email", "mask:member.phone"} {
				if sub.Allows(m, nil) {
					t.Errorf("Allows(%s)", m)
				}
				if d := sub.Decide(m, nil); d.Allowed || d.Reason != NotGranted {
					t.Errorf("Decide(%s) = %+v, want NOT_GRANTED", m, d)
				}
			}
			eq(t, "Decision.Masks", p.Subject([]Role{{Grants: tc.grants}}).Decide("AgentChat", nil).Masks, tc.wantMasks)
		})
	}
}

func TestR2_DefaultAccessExcludes(t *testing.T) {
	p := seedPolicy()
	all := masterGrants(p)
	for _, tc := range []struct {
		name string
		role Role
		want []string
	}{
		{"full_access", Role{Key: "full_access", Grants: []string{"*"}}, all},
		{"default_access iam.* keeps what truora.* implies", Role{Key: "default_access", Grants: []string{"*"}, Excludes: []string{"iam.*"}},
			without(all, func(k string) bool { return k == "iam.authorize" })},
		{"truora template excludes", Role{Key: "default_access", Grants: []string{"*"}, Excludes: []string{"truora.*", "iam.*"}},
			without(all, func(k string) bool { return strings.HasPrefix(k, "iam.") || strings.HasPrefix(k, "truora.") })},
		{"an excluded key implies nothing", Role{Grants: []string{"truora.roles"}, Excludes: []string{"truora.*"}}, s()},
		{"exclude removes what it names", Role{Grants: []string{"identity.*", "checks.*"}, Excludes: []string{"identity.flows.*", "checks.run"}},
			s("checks.read", "identity.whatsapp.send", "identity.whatsapp.templates.read")},
		{"exclude keeps what held keys imply", Role{Grants: []string{"products.all"}, Excludes: []string{"identity.*", "checks.run"}},
			s("checks.read", "checks.run", "identity.flows.create", "identity.flows.read", "identity.whatsapp.send",
				"identity.whatsapp.templates.read", "products.all", "validations.documents", "validations.face")},
		{"default_access keeps iam keys its keys imply", Role{Grants: []string{"*"}, Excludes: []string{"products.*", "iam.*", "truora.roles", "truora.keys"}},
			slices.Sorted(slices.Values(append(without(all, func(k string) bool {
				return strings.HasPrefix(k, "iam.") || k == "products.all" || k == "truora.roles" || k == "truora.keys"
			}), "iam.members.manage", "iam.members.read")))},
		{"exclude star", Role{Grants: []string{"*"}, Excludes: []string{"*"}}, s()},
		{"malformed exclude ignored", Role{Grants: []string{"AgentChat"}, Excludes: []string{"Agent*"}}, s("AgentChat")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eq(t, "Expand", p.Expand(tc.role), tc.want)
		})
	}
	t.Run("masks: wildcard excludes do not match them, exact excludes do", func(t *testing.T) {
		sub := p.Subject([]Role{{Grants: []string{"*", "mask:member.email", "mask:member.phone"}, Excludes: []string{"mask:*", "mask:member.phone"}}})
		eq(t, "Masks", sub.Masks(), s("mask:member.email"))
	})
}

func TestR5_InvalidGrants(t *testing.T) {
	p := seedPolicy()
	for _, tc := range []struct {
		name       string
		grants     []string
		allowMasks bool
		want       []string
	}{
		{"all valid", []string{"*", "identity.*", "AgentChat", "attestations:mint", "nothing.*"}, false, s()},
		{"malformed", []string{"a.*.b", "a*", "*.a", "a.**", "", "AgentChat"}, false, s("", "*.a", "a*", "a.**", "a.*.b")},
		{"not in master", []string{"billing.invoices.read", "ghost.key", "identity.flows.create"}, false, s("billing.invoices.read", "ghost.key")},
		{"masks refused", []string{"mask:member.email", "mask:*"}, false, s("mask:member.email")},
		{"masks allowed (operator)", []string{"mask:member.email", "mask:unlisted"}, true, s("mask:unlisted")},
		{"duplicates once", []string{"x..y", "x..y"}, false, s("x..y")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eq(t, "InvalidGrants", p.InvalidGrants(tc.grants, tc.allowMasks), tc.want)
		})
	}
}

func TestR7_MissingConcreteAndWildcard(t *testing.T) {
	p := seedPolicy()
	issuer := map[string][]string{"issuer_ids": {"iss_1"}}
	for _, tc := range []struct {
		name   string
		holder []Role
		grants []string
		want   []string
	}{
		{"full_access gives anything", []Role{{Grants: []string{"*"}}}, []string{"*", "identity.*", "AgentChat", "nothing.*"}, nil},
		{"nil-ish holder", nil, []string{"AgentChat", "identity.*"}, []string{"AgentChat", "identity.*", "identity.flows.create", "identity.flows.read", "identity.whatsapp.send", "identity.whatsapp.templates.read"}},
		{"default_access gives keys", []Role{{Grants: []string{"*"}, Excludes: []string{"iam.*"}}}, []string{"identity.flows.create", "products.all"}, nil},
		{"default_access holds no wildcard", []Role{{Grants: []string{"*"}, Excludes: []string{"iam.*", "products.*"}}}, []string{"identity.whatsapp.*"}, []string{"identity.whatsapp.*"}},
		{"default_access holds wildcards its keys imply", []Role{{Grants: []string{"*"}, Excludes: []string{"iam.*"}}}, []string{"identity.whatsapp.*"}, nil},
		{"default_access lacks iam", []Role{{Grants: []string{"*"}, Excludes: []string{"iam.*", "truora.*"}}}, []string{"truora.roles"},
			[]string{"iam.permissions.read", "iam.roles.manage", "iam.roles.read", "truora.roles"}},
		{"implied wildcard covers narrower", []Role{{Grants: []string{"products.all"}}}, []string{"identity.*", "identity.whatsapp.*", "checks.*"}, nil},
		{"separator boundary", []Role{{Grants: []string{"identity.*"}}}, []string{"identityx.*"}, []string{"identityx.*", "identityx.flows.read"}},
		{"narrower cannot give wider", []Role{{Grants: []string{"identity.whatsapp.*", "identity.flows.*"}}}, []string{"identity.*"}, []string{"identity.*"}},
		{"implied keys must be held", []Role{{Grants: []string{"identity.*"}}}, []string{"products.all"},
			[]string{"checks.read", "checks.run", "products.all", "validations.documents", "validations.face"}},
		{"wildcard with no keys yet", []Role{{Grants: []string{"identity.*"}}}, []string{"future.*"}, []string{"future.*"}},
		{"constrained roles do not count", []Role{{Grants: []string{"attestations:*"}, Constraints: issuer}}, []string{"attestations:mint", "attestations:x.*"},
			[]string{"attestations:mint", "attestations:x.*", "attestations:x.y"}},
		{"colon wildcard covers deeper", []Role{{Grants: []string{"attestations:*"}}}, []string{"attestations:x.*", "governance:approve"}, []string{"governance:approve"}},
		{"masks need the mask unconstrained", []Role{{Grants: []string{"*"}}}, []string{"mask:member.email"}, []string{"mask:member.email"}},
		{"mask held", []Role{{Grants: []string{"mask:member.email"}}}, []string{"mask:member.email"}, nil},
		{"mask held constrained", []Role{{Grants: []string{"mask:member.email"}, Constraints: issuer}}, []string{"mask:member.email"}, []string{"mask:member.email"}},
		{"malformed grants left to R5", []Role{{Grants: []string{"AgentChat"}}}, []string{"a.*.b", "AgentChat"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var holder *Subject
			if tc.holder != nil {
				holder = p.Subject(tc.holder)
			}
			got := p.Missing(holder, tc.grants)
			if len(tc.want) == 0 {
				if len(got) != 0 {
					t.Errorf("Missing = %v, want nothing", got)
				}
				return
			}
			eq(t, "Missing", got, tc.want)
		})
	}
	t.Run("nobody but * covers *", func(t *testing.T) {
		got := p.Missing(p.Subject([]Role{{Grants: []string{"identity.*", "AgentChat"}}}), []string{"*"})
		if len(got) == 0 || got[0] != "*" {
			t.Errorf("Missing(*) = %v, want * first", got)
		}
	})
}

func TestD2_Reasons(t *testing.T) {
	p := seedPolicy()
	sub := p.Subject([]Role{
		{ID: "r1", Key: "analyst", Grants: []string{"identity.flows.*", "mask:member.email"}},
		{ID: "r2", Key: "issuer_admin", Grants: []string{"attestations:*"}, Constraints: map[string][]string{"issuer_ids": {"iss_1"}}},
	})
	for _, tc := range []struct {
		key  string
		res  Resource
		want Reason
	}{
		{"identity.flows.create", nil, Granted},
		{"identity.whatsapp.send", nil, NotGranted},
		{"billing.invoices.read", nil, NotInMasterList},
		{"identity.flows.delete", nil, NotInMasterList},
		{"ghost.key", nil, UnknownPermission},
		{"identity.*", nil, UnknownPermission},
		{"bad key", nil, UnknownPermission},
		{"", nil, UnknownPermission},
		{"attestations:mint", Resource{"issuer_ids": "iss_1"}, Granted},
		{"attestations:mint", Resource{"issuer_ids": "iss_2"}, ConstraintMismatch},
		{"attestations:mint", nil, ConstraintMismatch},
		{"governance:approve", Resource{"issuer_ids": "iss_2"}, NotGranted},
		{"mask:member.email", nil, NotGranted},
		{"mask:unlisted", nil, NotInMasterList},
	} {
		d := sub.Decide(tc.key, tc.res)
		if d.Reason != tc.want || d.Allowed != (tc.want == Granted) || (d.GrantedBy() != nil) != d.Allowed {
			t.Errorf("Decide(%q, %v) = %+v, want %s", tc.key, tc.res, d, tc.want)
		}
		if d.Allowed != sub.Allows(tc.key, tc.res) {
			t.Errorf("Allows(%q) disagrees with Decide", tc.key)
		}
		eq(t, "masks", d.Masks, s("mask:member.email"))
	}
	names := map[Reason]string{Granted: "GRANTED", NotGranted: "NOT_GRANTED", NotInMasterList: "NOT_IN_MASTER_LIST",
		UnknownPermission: "UNKNOWN_PERMISSION", SubjectInactive: "SUBJECT_INACTIVE", KeyRevoked: "KEY_REVOKED",
		KeyExpired: "KEY_EXPIRED", AccountSuspended: "ACCOUNT_SUSPENDED", ConstraintMismatch: "CONSTRAINT_MISMATCH"}
	for r, n := range names {
		eq(t, "String", r.String(), n)
	}
	eq(t, "unknown reason", Reason(200).String(), "UNKNOWN")
	var none *Subject
	eq(t, "nil subject", none.Decide("AgentChat", nil).Reason, NotGranted)
	eq(t, "empty subject", p.Subject(nil).Decide("AgentChat", nil).Reason, NotGranted)
}

func TestD3_Constraints(t *testing.T) {
	p := seedPolicy()
	issuerAdmin := Role{ID: "ia", Key: "issuer_admin", Grants: []string{"attestations:*", "mask:member.phone"},
		Constraints: map[string][]string{"issuer_ids": {"iss_1", "iss_2"}}}
	regional := Role{ID: "rg", Key: "regional", Grants: []string{"governance:approve"},
		Constraints: map[string][]string{"issuer_ids": {"iss_3"}, "region": {"eu"}}}
	empty := Role{ID: "e", Key: "unconstrained", Grants: []string{"AgentChat"}, Constraints: map[string][]string{}}
	sub := p.Subject([]Role{issuerAdmin, regional, empty})
	for _, tc := range []struct {
		key   string
		res   Resource
		want  bool
		masks []string
	}{
		{"attestations:mint", Resource{"issuer_ids": "iss_1"}, true, s("mask:member.phone")},
		{"attestations:mint", Resource{"issuer_ids": "iss_2", "other": "x"}, true, s("mask:member.phone")},
		{"attestations:mint", Resource{"issuer_ids": "iss_3"}, false, s()},
		{"attestations:mint", Resource{}, false, s()},
		{"attestations:mint", nil, false, s()},
		{"governance:approve", Resource{"issuer_ids": "iss_3", "region": "eu"}, true, s()},
		{"attestations:revoke", Resource{"issuer_ids": "iss_3", "region": "eu"}, true, s()}, // implied by governance:approve
		{"governance:approve", Resource{"issuer_ids": "iss_3"}, false, s()},
		{"governance:approve", Resource{"issuer_ids": "iss_3", "region": "us"}, false, s()},
		{"AgentChat", nil, true, s()},
		{"AgentChat", Resource{"issuer_ids": "zzz"}, true, s()},
	} {
		if got := sub.Allows(tc.key, tc.res); got != tc.want {
			t.Errorf("Allows(%q, %v) = %v, want %v", tc.key, tc.res, got, tc.want)
		}
		d := sub.Decide(tc.key, tc.res)
		if d.Allowed != tc.want {
			t.Errorf("Decide(%q, %v) = %+v", tc.key, tc.res, d)
		}
		eq(t, "decision masks for "+tc.key, d.Masks, tc.masks)
	}
	eq(t, "Unconstrained", sub.Unconstrained(), s("AgentChat"))
	eq(t, "Permissions", sub.Permissions(), s("AgentChat", "attestations:mint", "attestations:revoke", "attestations:x.y", "governance:approve"))
	eq(t, "Masks (all roles)", sub.Masks(), s("mask:member.phone"))
	// caller's map mutated after compile must not change decisions
	issuerAdmin.Constraints["issuer_ids"][0] = "iss_9"
	if !sub.Allows("attestations:mint", Resource{"issuer_ids": "iss_1"}) {
		t.Error("Subject must copy constraints")
	}
}

func TestD4_RolesGranting(t *testing.T) {
	p := seedPolicy()
	roles := []Role{
		{ID: "1", Key: "full_access", Grants: []string{"*"}},
		{ID: "2", Key: "default_access", Grants: []string{"*"}, Excludes: []string{"iam.*", "truora.*"}},
		{ID: "3", Key: "admin", Grants: []string{"truora.roles"}},
		{ID: "4", Key: "issuer_admin", Grants: []string{"attestations:*"}, Constraints: map[string][]string{"issuer_ids": {"iss_1"}}},
		{ID: "5", Key: "masker", Grants: []string{"mask:member.email"}},
		{ID: "6", Key: "empty"},
	}
	keys := func(rs []Role) []string {
		out := []string{}
		for _, r := range rs {
			out = append(out, r.Key)
		}
		return out
	}
	eq(t, "iam.roles.manage", keys(p.RolesGranting(roles, "iam.roles.manage")), s("full_access", "admin"))
	eq(t, "identity.flows.create", keys(p.RolesGranting(roles, "identity.flows.create")), s("full_access", "default_access"))
	eq(t, "attestations:mint", keys(p.RolesGranting(roles, "attestations:mint")), s("full_access", "default_access", "issuer_admin"))
	eq(t, "mask", keys(p.RolesGranting(roles, "mask:member.email")), s())
	eq(t, "outside master", keys(p.RolesGranting(roles, "billing.invoices.read")), s())
	eq(t, "unknown", keys(p.RolesGranting(roles, "nope")), s())
}

func TestD1_GrantedByPath(t *testing.T) {
	p := seedPolicy()
	for _, tc := range []struct {
		name  string
		roles []Role
		key   string
		want  Path
	}{
		{"direct exact", []Role{{ID: "1", Key: "a", Grants: []string{"AgentChat"}}}, "AgentChat",
			Path{RoleID: "1", RoleKey: "a", Grant: "AgentChat", Chain: []string{"AgentChat"}}},
		{"wildcard", []Role{{ID: "1", Key: "a", Grants: []string{"attestations:*"}}}, "attestations:x.y",
			Path{RoleID: "1", RoleKey: "a", Grant: "attestations:*", Chain: []string{"attestations:x.y"}}},
		{"implication", []Role{{ID: "t", Key: "truora_admin", Grants: []string{"products.all"}}}, "identity.whatsapp.send",
			Path{RoleID: "t", RoleKey: "truora_admin", Grant: "products.all", Chain: []string{"products.all", "identity.whatsapp.send"}}},
		{"transitive chain", []Role{{ID: "1", Key: "a", Grants: []string{"chain.a"}}}, "AgentChat",
			Path{RoleID: "1", RoleKey: "a", Grant: "chain.a", Chain: []string{"chain.a", "chain.b", "chain.c", "AgentChat"}}},
		{"direct preferred over implication in one role", []Role{{ID: "1", Key: "a", Grants: []string{"chain.a", "AgentChat"}}}, "AgentChat",
			Path{RoleID: "1", RoleKey: "a", Grant: "AgentChat", Chain: []string{"AgentChat"}}},
		{"direct preferred across roles", []Role{{ID: "1", Key: "a", Grants: []string{"chain.a"}}, {ID: "2", Key: "b", Grants: []string{"*"}}}, "AgentChat",
			Path{RoleID: "2", RoleKey: "b", Grant: "*", Chain: []string{"AgentChat"}}},
		{"exact preferred over wildcard", []Role{{ID: "1", Key: "a", Grants: []string{"*"}}, {ID: "2", Key: "b", Grants: []string{"AgentChat"}}}, "AgentChat",
			Path{RoleID: "2", RoleKey: "b", Grant: "AgentChat", Chain: []string{"AgentChat"}}},
		{"narrowest wildcard in a role", []Role{{ID: "1", Key: "a", Grants: []string{"*", "identity.*", "identity.flows.*"}}}, "identity.flows.read",
			Path{RoleID: "1", RoleKey: "a", Grant: "identity.flows.*", Chain: []string{"identity.flows.read"}}},
		{"first role on a tie", []Role{{ID: "1", Key: "a", Grants: []string{"AgentChat"}}, {ID: "2", Key: "b", Grants: []string{"AgentChat"}}}, "AgentChat",
			Path{RoleID: "1", RoleKey: "a", Grant: "AgentChat", Chain: []string{"AgentChat"}}},
		{"unconstrained before constrained", []Role{
			{ID: "c", Key: "c", Grants: []string{"AgentChat"}, Constraints: map[string][]string{"x": {"1"}}},
			{ID: "u", Key: "u", Grants: []string{"chain.a"}}}, "AgentChat",
			Path{RoleID: "u", RoleKey: "u", Grant: "chain.a", Chain: []string{"chain.a", "chain.b", "chain.c", "AgentChat"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 3 { // deterministic
				d := p.Subject(tc.roles).Decide(tc.key, Resource{"x": "1"})
				if !d.Allowed || d.GrantedBy() == nil {
					t.Fatalf("Decide = %+v", d)
				}
				eq(t, "GrantedBy", *d.GrantedBy(), tc.want)
			}
		})
	}
}
