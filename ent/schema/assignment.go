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

// Assignment records that a member holds a role.
type Assignment struct{ ent.Schema }

func (Assignment) Mixin() []ent.Mixin { return []ent.Mixin{ids.Mixin(ids.Assignment), createdAt{}} }

func (Assignment) Fields() []ent.Field {
	return []ent.Field{
		field.String("account_id").Immutable().NotEmpty(),
		field.String("member_id").Immutable().NotEmpty(),
		field.String("role_id").Immutable().NotEmpty(),
	}
}

func (Assignment) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("member", Member.Type).Ref("assignments").Field("member_id").
			Unique().Required().Immutable(),
		edge.From("role", Role.Type).Ref("assignments").Field("role_id").
			Unique().Required().Immutable(),
	}
}

func (Assignment) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("member_id", "role_id").Unique(),
		// A role's holders in member id order: Role.members' page reads
		// from its cursor and stops (R6), and holders are counted from it.
		index.Fields("role_id", "member_id"),
		index.Fields("account_id"),
	}
}

func (Assignment) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
