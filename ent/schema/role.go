package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
)

// Role is a named set of grants in one account (R1).
type Role struct{ ent.Schema }

func (Role) Mixin() []ent.Mixin { return []ent.Mixin{ids.Mixin(ids.Role), timestamps{}} }

func (Role) Fields() []ent.Field {
	return []ent.Field{
		field.String("account_id").Immutable().NotEmpty().Annotations(entgql.Skip()),
		field.String("key").NotEmpty().MaxLen(64).
			Comment("Unique key of the role in its account, e.g. `full_access`.").
			Annotations(entgql.OrderField("KEY")),
		field.String("name").NotEmpty().MaxRuneLen(200).
			Comment("Display name of the role.").
			Annotations(entgql.OrderField("NAME")),
		field.String("description").Default("").MaxRuneLen(2000).
			Comment("What the role is for."),
		field.Enum("kind").Values("SYSTEM", "CUSTOM").Default("CUSTOM").
			Comment("SYSTEM roles are locked: neither edited nor deleted (R2).").
			Annotations(entgql.Type("RoleKind")),
		field.JSON("grants", []string{}).
			Comment("Permission keys and wildcard patterns the role grants (K3)."),
		field.JSON("constraints", map[string][]string{}).Optional().
			Annotations(entgql.Skip()),
		field.Int("version").Default(1).
			Comment("Incremented on every change; updates must name it as `expectedVersion` (R4)."),
		field.Int("position").Default(0).
			Comment("Order of the role in listings: system roles first, then in creation order (templates use it for leveled roles).").
			Annotations(entgql.OrderField("POSITION")),
	}
}

func (Role) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("account", Account.Type).Ref("roles").Field("account_id").
			Unique().Required().Immutable().Annotations(entgql.Skip()),
		edge.To("assignments", Assignment.Type).Annotations(entgql.Skip()),
	}
}

func (Role) Indexes() []ent.Index {
	return []ent.Index{index.Fields("account_id", "key").Unique()}
}

func (Role) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
