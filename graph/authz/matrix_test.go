package authz

import (
	"strings"
	"testing"
)

var matrixRoles = map[string]Role{
	"full":     {ID: "r-full", Key: "full_access", Grants: []string{"*"}},
	"default":  {ID: "r-def", Key: "default_access", Grants: []string{"*"}, Excludes: []string{"truora.*", "iam.*"}},
	"truora":   {ID: "r-tru", Key: "truora_admin", Grants: []string{"products.all", "truora.roles", "view_duplicates"}},
	"analyst":  {ID: "r-ana", Key: "analyst", Grants: []string{"identity.flows.*", "checks.read"}},
	"issuer":   {ID: "r-iss", Key: "issuer_admin", Grants: []string{"attestations:*", "governance:approve"}, Constraints: map[string][]string{"issuer_ids": {"iss_1", "iss_2"}}},
	"auditor":  {ID: "r-aud", Key: "auditor", Grants: []string{"attestations:revoke"}, Constraints: map[string][]string{"issuer_ids": {"iss_9"}}},
	"agent":    {ID: "r-agt", Key: "agent", Grants: []string{"AgentChat"}},
	"masker":   {ID: "r-msk", Key: "masker", Grants: []string{"mask:member.email", "mask:*"}},
	"empty":    {ID: "r-emp", Key: "empty"},
	"chainy":   {ID: "r-chn", Key: "chainy", Grants: []string{"chain.a", "cyc.c"}},
	"nonsense": {ID: "r-non", Key: "nonsense", Grants: []string{"a.*.b", "ghost.key", "billing.invoices.read", "mask.implier"}},
}

// matrix: roles | key | resource (attr=value;…) | reason | grant | chain
const matrix = `
full            | identity.flows.create  | -              | GRANTED             | *                  | identity.flows.create
full            | iam.roles.manage       | -              | GRANTED             | *                  | iam.roles.manage
full            | mask:member.email      | -              | NOT_GRANTED         | -                  | -
full            | billing.invoices.read  | -              | NOT_IN_MASTER_LIST  | -                  | -
full            | ghost.key              | -              | UNKNOWN_PERMISSION  | -                  | -
full            | identity.*             | -              | UNKNOWN_PERMISSION  | -                  | -
default         | identity.flows.create  | -              | GRANTED             | *                  | identity.flows.create
default         | iam.roles.manage       | -              | NOT_GRANTED         | -                  | -
default         | truora.roles           | -              | NOT_GRANTED         | -                  | -
default,truora  | iam.roles.manage       | -              | GRANTED             | truora.roles       | truora.roles iam.roles.manage
default,truora  | identity.whatsapp.send | -              | GRANTED             | *                  | identity.whatsapp.send
truora          | identity.whatsapp.send | -              | GRANTED             | products.all       | products.all identity.whatsapp.send
truora          | identityx.flows.read   | -              | NOT_GRANTED         | -                  | -
truora          | iam.permissions.read   | -              | GRANTED             | truora.roles       | truora.roles iam.permissions.read
truora          | iam.members.read       | -              | NOT_GRANTED         | -                  | -
truora          | view_duplicates        | -              | GRANTED             | view_duplicates    | view_duplicates
analyst         | identity.flows.read    | -              | GRANTED             | identity.flows.*   | identity.flows.read
analyst         | identity.whatsapp.send | -              | NOT_GRANTED         | -                  | -
analyst         | checks.run             | -              | NOT_GRANTED         | -                  | -
issuer          | attestations:mint      | issuer_ids=iss_1 | GRANTED           | attestations:*     | attestations:mint
issuer          | attestations:mint      | issuer_ids=iss_3 | CONSTRAINT_MISMATCH | -                | -
issuer          | attestations:mint      | -              | CONSTRAINT_MISMATCH | -                  | -
issuer          | attestations           | issuer_ids=iss_1 | NOT_GRANTED       | -                  | -
issuer          | attestationsX:y        | issuer_ids=iss_1 | NOT_GRANTED       | -                  | -
issuer          | attestations:revoke    | issuer_ids=iss_2 | GRANTED           | attestations:*     | attestations:revoke
issuer,auditor  | attestations:revoke    | issuer_ids=iss_9 | GRANTED           | attestations:revoke | attestations:revoke
issuer,auditor  | attestations:revoke    | issuer_ids=iss_5 | CONSTRAINT_MISMATCH | -                | -
issuer,agent    | AgentChat              | issuer_ids=iss_5 | GRANTED           | AgentChat          | AgentChat
agent           | AgentChat              | -              | GRANTED             | AgentChat          | AgentChat
agent           | agentchat              | -              | UNKNOWN_PERMISSION  | -                  | -
masker          | mask:member.email      | -              | NOT_GRANTED         | -                  | -
masker          | mask:member.phone      | -              | NOT_GRANTED         | -                  | -
masker          | AgentChat              | -              | NOT_GRANTED         | -                  | -
empty           | AgentChat              | -              | NOT_GRANTED         | -                  | -
-               | AgentChat              | -              | NOT_GRANTED         | -                  | -
chainy          | AgentChat              | -              | GRANTED             | chain.a            | chain.a chain.b chain.c AgentChat
chainy          | cyc.d                  | -              | GRANTED             | cyc.c              | cyc.c cyc.d
chainy          | chain.c                | -              | GRANTED             | chain.a            | chain.a chain.b chain.c
chainy          | cyc.b                  | -              | GRANTED             | cyc.c              | cyc.c cyc.b
nonsense        | mask.implier           | -              | GRANTED             | mask.implier       | mask.implier
nonsense        | billing.invoices.read  | -              | NOT_IN_MASTER_LIST  | -                  | -
nonsense        | mask:member.email      | -              | NOT_GRANTED         | -                  | -
nonsense        | a.x.b                  | -              | UNKNOWN_PERMISSION  | -                  | -
`

func TestMatrix(t *testing.T) {
	p := seedPolicy()
	for _, line := range strings.Split(strings.TrimSpace(matrix), "\n") {
		f := strings.Split(line, "|")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		if len(f) != 6 {
			t.Fatalf("bad matrix row %q", line)
		}
		var roles []Role
		if f[0] != "-" {
			for _, n := range strings.Split(f[0], ",") {
				r, ok := matrixRoles[n]
				if !ok {
					t.Fatalf("unknown role %q", n)
				}
				roles = append(roles, r)
			}
		}
		var res Resource
		if f[2] != "-" {
			res = Resource{}
			for _, kv := range strings.Split(f[2], ";") {
				k, v, _ := strings.Cut(kv, "=")
				res[k] = v
			}
		}
		sub := p.Subject(roles)
		d := sub.Decide(f[1], res)
		name := f[0] + " / " + f[1] + " / " + f[2]
		if d.Reason.String() != f[3] {
			t.Errorf("%s: reason %s, want %s", name, d.Reason, f[3])
			continue
		}
		if d.Allowed != sub.Allows(f[1], res) || d.Allowed != (d.Reason == Granted) {
			t.Errorf("%s: Allowed %v, Allows %v", name, d.Allowed, sub.Allows(f[1], res))
		}
		if f[4] == "-" {
			if d.GrantedBy() != nil {
				t.Errorf("%s: unexpected path %+v", name, d.GrantedBy())
			}
			continue
		}
		if d.GrantedBy() == nil || d.GrantedBy().Grant != f[4] || strings.Join(d.GrantedBy().Chain, " ") != f[5] {
			t.Errorf("%s: path %+v, want grant %s chain %s", name, d.GrantedBy(), f[4], f[5])
		}
	}
}
