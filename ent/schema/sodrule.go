package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
)

// SodRule is a separation-of-duty rule: permissions that no role (ROLE) or
// no member across roles (MEMBER) may hold together (V1).
type SodRule struct{ ent.Schema }

func (SodRule) Mixin() []ent.Mixin { return []ent.Mixin{ids.Mixin(ids.SodRule), createdAt{}} }

func (SodRule) Fields() []ent.Field {
	return []ent.Field{
		field.String("account_id").Immutable().NotEmpty().Annotations(entgql.Skip()),
		field.String("name").NotEmpty().MaxRuneLen(200).
			Comment("What the rule protects, for people."),
		field.JSON("permissions", []string{}).Immutable().
			Comment("The permission keys that must not be held together."),
		field.Enum("level").Values("ROLE", "MEMBER").Immutable().
			Comment("ROLE: no single role may give them all; MEMBER: no member (or key) may hold them all, across roles.").
			Annotations(entgql.Type("SodLevel")),
		field.Enum("mode").Values("ENFORCE", "REPORT").Immutable().
			Comment("ENFORCE refuses violating changes; REPORT lists violations in access reviews.").
			Annotations(entgql.Type("SodMode")),
	}
}

func (SodRule) Indexes() []ent.Index {
	return []ent.Index{index.Fields("account_id")}
}

func (SodRule) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Type("SodRule")}
}
