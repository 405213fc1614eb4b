//go:build ignore

// entc generates the ent client and the GraphQL schema `schema/ent.graphql`.
// It runs from the repository root (see ent/generate.go): root-relative paths
// keep the generated SDL stable between runs.
package main

import (
	"log"
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"
)

// descriptions document the generated object types: GraphiQL is the manual.
var descriptions = map[string]string{
	"Account":    "A customer account (tenant): its master list, roles, members and audit log (A1).",
	"Permission": "An entry of the platform-wide permission catalog (K1).",
	"Role":       "A named set of grants in one account (R1). SYSTEM roles are locked.",
	"Member":     "A user's place in an account (M1). Only ACTIVE members hold permissions.",
	"User":       "A person, identified by the email of the company's identity provider.",
	"AuditEvent": "One successful change, written in the same transaction as the change (L1).",
	"ApiKey":     "A program's credential in one account, with the permission snapshot taken at its creation (S2, S3). The secret is never shown again (S4).",
	"Scope":      "A named bundle of grants for API keys in one account (S1).",
	"SodRule":    "A separation-of-duty rule: permissions that must not be held together (V1).",
	"Query":      "Reads. Without credentials only introspection answers (P4).",
}

// enumValues documents the values of the generated enums ("Enum.VALUE").
var enumValues = map[string]string{
	"AccountStatus.ACTIVE":     "The account works normally.",
	"AccountStatus.SUSPENDED":  "Suspended by the operator: every decision is denied and changes are FORBIDDEN; operators can still read its data (A6).",
	"ActorType.OPERATOR":       "An operator key (P1).",
	"ActorType.USER":           "A dashboard user, acting through their membership (P3).",
	"ActorType.API_KEY":        "An API key (P2).",
	"ActorType.SYSTEM":         "Gatehouse itself, with no calling principal; actorID is `system`.",
	"MemberStatus.INVITED":     "Added with an invitation: holds no permissions until the user first authenticates, then ACTIVE (M1).",
	"MemberStatus.ACTIVE":      "Holds the permissions of their roles (M1).",
	"MemberStatus.SUSPENDED":   "Holds no permissions, and their API keys are inactive, until reactivated (M5).",
	"MemberStatus.REMOVED":     "No longer a member: no permissions, roles taken away, API keys revoked; history stays in the audit log (M5).",
	"PermissionKind.GRANT":     "An ordinary permission: granted by keys, wildcards and implications (K3, K4).",
	"PermissionKind.DENY_MASK": "A mask that hides fields; never matched by wildcards or implications, and only operators put it on roles (K6).",
	"RoleKind.SYSTEM":          "Locked: neither edited nor deleted (R2).",
	"RoleKind.CUSTOM":          "Editable and deletable (R3, R4, R6).",
	"SodLevel.ROLE":            "No single custom role may give every permission of the rule.",
	"SodLevel.MEMBER":          "No member, across their roles, and no API key may hold every permission of the rule; owners (full_access) are excepted.",
	"SodMode.ENFORCE":          "Changes that would break the rule are refused: CONFLICT, reason SOD_VIOLATION (V1).",
	"SodMode.REPORT":           "Breaking the rule is allowed and listed in access reviews (V3).",
}

// scalars document the generated scalars, replacing entgql's one-line
// descriptions, with the specification of their format where there is one.
var scalars = map[string]struct{ description, specifiedBy string }{
	"Time": {"A point in time: an RFC 3339 date-time string with a time zone offset, " +
		"e.g. `2026-11-30T12:00:00Z` or `2026-11-30T13:00:00.123456+01:00`.",
		"https://datatracker.ietf.org/doc/html/rfc3339"},
	"Cursor": {"An opaque position in a list (Relay cursor connections): pass a page's `pageInfo.endCursor` " +
		"as `after` (or `startCursor` as `before`) to get the next (or previous) page. Its content is not part of " +
		"the API: a cursor is valid for the same field, order and filter it came from.", ""},
}

func describeTypes(_ *gen.Graph, s *ast.Schema) error {
	for name, text := range descriptions {
		if t, ok := s.Types[name]; ok && t.Description == "" {
			t.Description = text
		}
	}
	for name, sc := range scalars {
		t, ok := s.Types[name]
		if !ok {
			continue
		}
		t.Description = sc.description
		if sc.specifiedBy != "" && t.Directives.ForName("specifiedBy") == nil {
			t.Directives = append(t.Directives, &ast.Directive{Name: "specifiedBy", Arguments: ast.ArgumentList{{
				Name: "url", Value: &ast.Value{Kind: ast.StringValue, Raw: sc.specifiedBy},
			}}})
		}
	}
	for key, text := range enumValues {
		name, value, _ := strings.Cut(key, ".")
		if t, ok := s.Types[name]; ok {
			if v := t.EnumValues.ForName(value); v != nil && v.Description == "" {
				v.Description = text
			}
		}
	}
	return nil
}

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithSchemaGenerator(),
		entgql.WithWhereInputs(true),
		entgql.WithConfigPath("gqlgen.yml"),
		entgql.WithSchemaPath("schema/ent.graphql"),
		entgql.WithSchemaHook(describeTypes),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Target:   "./ent",
		Package:  "github.com/gatehouse-iam/gatehouse/ent",
		Features: []gen.Feature{gen.FeatureVersionedMigration, gen.FeatureLock, gen.FeatureUpsert, gen.FeatureExecQuery},
	}, entc.Extensions(ex))
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}
