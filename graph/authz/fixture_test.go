package authz

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
)

// Seed-style catalog: Truora (dotted keys, products.all, truora.*), Truthlocks
// (colon keys, issuer_ids constraints), Convrs (AgentChat), Gatehouse's own
// iam.* built-ins and deny masks.
var seedCatalog = []Permission{
	{Key: "identity.flows.create"},
	{Key: "identity.flows.read"},
	{Key: "identity.whatsapp.send"},
	{Key: "identity.whatsapp.templates.read"},
	{Key: "identityx.flows.read"},
	{Key: "validations.documents"},
	{Key: "validations.face"},
	{Key: "checks.run"},
	{Key: "checks.read"},
	{Key: "products.all", Implies: []string{"identity.*", "validations.*", "checks.*"}},
	{Key: "truora.roles", Implies: []string{"iam.roles.*", "iam.permissions.read"}},
	{Key: "truora.users", Implies: []string{"iam.members.*"}},
	{Key: "truora.keys", Implies: []string{"iam.keys.*"}},
	{Key: "view_duplicates"},
	{Key: "iam.permissions.read"},
	{Key: "iam.roles.read"},
	{Key: "iam.roles.manage"},
	{Key: "iam.members.read"},
	{Key: "iam.members.manage"},
	{Key: "iam.keys.read"},
	{Key: "iam.keys.manage"},
	{Key: "iam.authorize"},
	{Key: "attestations:mint"},
	{Key: "attestations:revoke"},
	{Key: "attestations:x.y"},
	{Key: "attestations"},
	{Key: "attestationsX:y"},
	{Key: "governance:approve", Implies: []string{"attestations:revoke"}},
	{Key: "AgentChat"},
	// transitive chain and cycle (K4)
	{Key: "chain.a", Implies: []string{"chain.b"}},
	{Key: "chain.b", Implies: []string{"chain.c"}},
	{Key: "chain.c", Implies: []string{"AgentChat"}},
	{Key: "cyc.a", Implies: []string{"cyc.b"}},
	{Key: "cyc.b", Implies: []string{"cyc.c"}},
	{Key: "cyc.c", Implies: []string{"cyc.a", "cyc.*"}},
	{Key: "cyc.d"},
	// implications that try to reach masks (K6) or keys outside the master (K5)
	{Key: "mask.implier", Implies: []string{"mask:member.email", "mask:*", "billing.invoices.read"}},
	{Key: "outside.implier", Implies: []string{"AgentChat"}},
	{Key: "bad.implier", Implies: []string{"a.*.b", "*.x", "view_duplicates"}},
	{Key: "mask:member.email", Kind: DenyMask},
	{Key: "mask:member.phone", Kind: DenyMask},
	{Key: "mask:unlisted", Kind: DenyMask},
	// in the catalog, not in the master list
	{Key: "billing.invoices.read"},
	{Key: "identity.flows.delete"},
}

// seedMaster is the master list: the catalog minus the "not in master" keys,
// plus a key that is not in the catalog (ignored).
var seedMaster = func() []string {
	var m []string
	for _, c := range seedCatalog {
		switch c.Key {
		case "billing.invoices.read", "identity.flows.delete", "outside.implier", "mask:unlisted":
			continue
		}
		m = append(m, c.Key)
	}
	return append(m, "ghost.key", "identity.flows.create")
}()

func seedPolicy() *Policy { return NewPolicy(seedCatalog, seedMaster) }

// masterGrants returns the master list's GRANT keys, sorted.
func masterGrants(p *Policy) []string {
	var out []string
	for _, k := range p.Master() {
		if c, _ := p.Lookup(k); c.Kind == Grant {
			out = append(out, k)
		}
	}
	return out
}

func without(all []string, drop func(string) bool) []string {
	return slices.DeleteFunc(slices.Clone(all), drop)
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %v\n want %v", what, got, want)
	}
}

func s(v ...string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

var _ = fmt.Sprint
