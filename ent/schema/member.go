package schema

import (
	"time"

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
		// The user's email and name, copied here so that a dashboard's
		// member search and sort run on the members table's own indexes
		// (the user's row stays the source: see iam.newMember, renameUser).
		field.String("email").Default("").Immutable().
			Comment("The user's email, lower-cased.").
			Annotations(entgql.Skip(entgql.SkipType), entgql.OrderField("EMAIL")),
		field.String("name").Default("").
			Comment("The user's display name.").
			Annotations(entgql.Skip(entgql.SkipType), entgql.OrderField("NAME")),
		// When the member last used a permission (allowed decisions and
		// Gatehouse's own checks, V2), written in batches; the Unix epoch
		// until then, so that the column sorts and pages like any other.
		field.Time("last_active_at").Default(neverActive).
			Comment("When the member last used a permission; the Unix epoch (1970-01-01) when never.").
			Annotations(entgql.Skip(entgql.SkipType), entgql.OrderField("LAST_ACTIVE_AT")),
	}
}

// neverActive is last_active_at of a member who has used no permission.
func neverActive() time.Time { return time.Unix(0, 0).UTC() }

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
	return []ent.Index{
		index.Fields("account_id", "user_id").Unique(),
		// A user's memberships across accounts (viewer.memberships, the
		// first query of a dashboard, and invitations activated at sign-in):
		// without it, every member of every account was read.
		index.Fields("user_id"),
		// The dashboard's member list: filtered by account, sorted by each
		// of these (members(where:, orderBy:)).
		index.Fields("account_id", "email"),
		index.Fields("account_id", "name"),
		index.Fields("account_id", "created_at"),
		index.Fields("account_id", "last_active_at"),
		index.Fields("account_id", "status"),
		// The list's default order (by id), page after page.
		index.Fields("account_id", "id"),
	}
}

func (Member) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
