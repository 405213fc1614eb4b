package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
)

// Account is one customer of the company running Gatehouse: a tenant with its
// own master list, roles, members and audit log.
type Account struct{ ent.Schema }

func (Account) Mixin() []ent.Mixin { return []ent.Mixin{ids.Mixin(ids.Account), timestamps{}} }

func (Account) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxRuneLen(200).
			Comment("The account's display name.").
			Annotations(entgql.OrderField("NAME")),
		field.String("slug").Unique().NotEmpty().MaxLen(63).
			Comment("Unique, URL-safe short name of the account.").
			Annotations(entgql.OrderField("SLUG")),
		field.Enum("status").Values("ACTIVE", "SUSPENDED").Default("ACTIVE").
			Comment("SUSPENDED accounts deny every decision and refuse every mutation (A6).").
			Annotations(entgql.Type("AccountStatus")),
		field.Enum("role_assignment").Values("SINGLE", "MULTIPLE").Default("MULTIPLE").
			Annotations(entgql.Skip()),
		field.JSON("default_access_excludes", []string{}).
			Annotations(entgql.Skip()),
		field.Bool("custom_roles").Default(true).
			Annotations(entgql.Skip()),
		field.Bool("resource_constraints").Default(false).
			Annotations(entgql.Skip()),
		// Null only in accounts that a server older than the setting
		// created: they give default_access, as every account did then.
		field.JSON("new_member_roles", []string{}).Optional().
			Annotations(entgql.Skip()),
		field.Int("min_roles_per_member").Default(0).NonNegative().
			Annotations(entgql.Skip()),
		field.String("custom_roles_permission").Default("").
			Annotations(entgql.Skip()),
		field.String("template").Optional().
			Comment("The template the account was created from, if any."),
	}
}

func (Account) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("permissions", Permission.Type).Annotations(entgql.Skip()),
		edge.To("roles", Role.Type).Annotations(entgql.Skip()),
		edge.To("members", Member.Type).Annotations(entgql.Skip()),
	}
}

func (Account) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
	}
}
