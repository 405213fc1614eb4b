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

// Member is a user's place in an account (M1).
type Member struct{ ent.Schema }

func (Member) Mixin() []ent.Mixin { return []ent.Mixin{ids.Mixin(ids.Member), timestamps{}} }

func (Member) Fields() []ent.Field {
	return []ent.Field{
		field.String("account_id").Immutable().NotEmpty().Annotations(entgql.Skip()),
		field.String("user_id").Immutable().NotEmpty().Annotations(entgql.Skip()),
		field.Enum("status").Values("INVITED", "ACTIVE", "SUSPENDED", "REMOVED").Default("ACTIVE").
			Comment("Only ACTIVE members hold permissions (M1).").
			Annotations(entgql.Type("MemberStatus")),
	}
}

func (Member) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("account", Account.Type).Ref("members").Field("account_id").
			Unique().Required().Immutable().Annotations(entgql.Skip()),
		edge.From("user", User.Type).Ref("memberships").Field("user_id").
			Unique().Required().Immutable().Annotations(entgql.Skip()),
		edge.To("assignments", Assignment.Type).Annotations(entgql.Skip()),
	}
}

func (Member) Indexes() []ent.Index {
	return []ent.Index{index.Fields("account_id", "user_id").Unique()}
}

func (Member) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
