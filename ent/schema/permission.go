package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
)

// Permission is an entry of the platform-wide permission catalog (K1).
type Permission struct{ ent.Schema }

func (Permission) Mixin() []ent.Mixin {
	return []ent.Mixin{ids.Mixin(ids.Permission), timestamps{}}
}

func (Permission) Fields() []ent.Field {
	return []ent.Field{
		field.String("key").Unique().NotEmpty().MaxLen(128).
			Comment("The permission key, e.g. `identity.flows.create` or `attestations:mint` (K2).").
			Annotations(entgql.OrderField("KEY")),
		field.String("description").Default("").MaxRuneLen(1000).
			Comment("What the permission allows, for people."),
		field.String("group").Default("").MaxRuneLen(200).
			Comment("Functional area the permission belongs to, e.g. `Digital Identity — flows`.").
			Annotations(entgql.OrderField("GROUP")),
		field.Enum("kind").Values("GRANT", "DENY_MASK").Default("GRANT").
			Comment("GRANT permissions allow actions; DENY_MASK permissions hide fields and are never matched by wildcards or implications (K6).").
			Annotations(entgql.Type("PermissionKind")),
		field.JSON("implies", []string{}).Optional().
			Comment("Patterns this permission implies (K4)."),
		field.Bool("built_in").Default(false).
			Comment("Built-in permissions gate Gatehouse's own API and are in every master list (K7)."),
	}
}

func (Permission) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("accounts", Account.Type).Ref("permissions").Annotations(entgql.Skip()),
	}
}

func (Permission) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
	}
}
