package authz

import (
	"fmt"
	"testing"
)

// benchPolicy builds an n-key master list shaped like the seeds: product
// areas with nested resources, a few implying "all" keys, deny masks, and
// 20 roles of every kind (full, default with excludes, wildcards, exact
// lists, implications, constrained).
func benchPolicy(n int) (*Policy, []Role, []string) {
	var catalog []Permission
	var master []string
	add := func(c Permission) {
		catalog = append(catalog, c)
		master = append(master, c.Key)
	}
	areas := n / 50
	acts := []string{"create", "read", "update", "delete", "list", "export", "approve", "run", "send", "view"}
	for i := 0; len(master) < n-areas-4; i++ {
		a, r, act := i/10%areas, i/10/areas, acts[i%10] // area a, resource r, action act
		add(Permission{Key: fmt.Sprintf("area%d.res%d.%s", a, r, act)})
	}
	for a := range areas {
		add(Permission{Key: fmt.Sprintf("products.area%d_all", a), Implies: []string{fmt.Sprintf("area%d.*", a), fmt.Sprintf("area%d.res0.read", (a+1)%areas)}})
	}
	add(Permission{Key: "iam.roles.manage"})
	add(Permission{Key: "truora.roles", Implies: []string{"iam.roles.*"}})
	add(Permission{Key: "mask:member.email", Kind: DenyMask})
	add(Permission{Key: "mask:member.phone", Kind: DenyMask})

	roles := []Role{
		{ID: "0", Key: "full_access", Grants: []string{"*"}},
		{ID: "1", Key: "default_access", Grants: []string{"*"}, Excludes: []string{"iam.*", "truora.*"}},
	}
	for i := 2; len(roles) < 20; i++ {
		a := i % areas
		var r Role
		switch i % 5 {
		case 0:
			r = Role{Grants: []string{fmt.Sprintf("area%d.*", a), "mask:member.email"}}
		case 1:
			r = Role{Grants: []string{fmt.Sprintf("area%d.res1.read", a), fmt.Sprintf("area%d.res2.create", a), fmt.Sprintf("area%d.res3.*", a)}}
		case 2:
			r = Role{Grants: []string{fmt.Sprintf("products.area%d_all", a), "truora.roles"}}
		case 3:
			r = Role{Grants: []string{fmt.Sprintf("area%d.*", a)}, Constraints: map[string][]string{"issuer_ids": {"iss_1", "iss_2"}}}
		case 4:
			r = Role{Grants: []string{"area0.res0.*", "mask:member.phone"}, Excludes: []string{"area0.res0.delete"}}
		}
		r.ID, r.Key = fmt.Sprint(i), fmt.Sprintf("role_%d", i)
		roles = append(roles, r)
	}
	return NewPolicy(catalog, master), roles, master
}

// holderRoles drops full_access and default_access so that lookups also
// miss and reach the constrained roles.
func holderRoles(roles []Role) []Role { return roles[2:] }

func BenchmarkAllows(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("master=%d", n), func(b *testing.B) {
			p, roles, keys := benchPolicy(n)
			sub := p.Subject(holderRoles(roles))
			res := Resource{"issuer_ids": "iss_1"}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sub.Allows(keys[i%len(keys)], res)
			}
		})
	}
}

func BenchmarkDecide(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("master=%d", n), func(b *testing.B) {
			p, roles, keys := benchPolicy(n)
			sub := p.Subject(holderRoles(roles))
			res := Resource{"issuer_ids": "iss_3"}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sub.Decide(keys[i%len(keys)], res)
			}
		})
	}
}

func BenchmarkSubjectCompile(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("master=%d/roles=20", n), func(b *testing.B) {
			p, roles, _ := benchPolicy(n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p.Subject(roles)
			}
		})
	}
}

func TestBenchFixtureShape(t *testing.T) {
	for _, n := range []int{100, 1000} {
		p, roles, _ := benchPolicy(n)
		if got := len(p.Master()); got != n {
			t.Errorf("master size %d, want %d", got, n)
		}
		if len(roles) != 20 {
			t.Errorf("%d roles", len(roles))
		}
		sub := p.Subject(holderRoles(roles))
		if len(sub.Permissions()) == 0 || len(sub.Permissions()) == n || len(sub.Masks()) != 2 {
			t.Errorf("n=%d: degenerate subject: %d keys, masks %v", n, len(sub.Permissions()), sub.Masks())
		}
	}
}
