package iam

import (
	"context"

	"entgo.io/ent/dialect/sql"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/assignment"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/predicate"
	"github.com/gatehouse-iam/gatehouse/ent/role"
)

// membersWithAssignments runs q, a query of accountID's members, and gives
// each member the assignments it holds (Edges.Assignments), read through
// assignments in one query by account. ent's WithAssignments asks for them
// by member id, one bind parameter a member, and SQLite takes at most 32,766
// parameters (lib/pq 65,535): an account with more members could not load
// its model, check its separation-of-duty rules, review or export itself.
// By account, the query has one parameter and reads the account's index,
// whatever the number.
func membersWithAssignments(ctx context.Context, q *ent.MemberQuery, assignments *ent.AssignmentClient, accountID string) ([]*ent.Member, error) {
	mems, err := q.All(ctx)
	if err != nil || len(mems) == 0 {
		return mems, err
	}
	rows, err := assignments.Query().Where(assignment.AccountID(accountID)).
		Select(assignment.FieldMemberID, assignment.FieldRoleID).All(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*ent.Member, len(mems))
	for _, m := range mems {
		m.Edges.Assignments = []*ent.Assignment{}
		byID[m.ID] = m
	}
	for _, a := range rows {
		if m := byID[a.MemberID]; m != nil {
			m.Edges.Assignments = append(m.Edges.Assignments, a)
		}
	}
	return mems, nil
}

// The predicates below ask "held" as `id IN (SELECT … FROM assignments …)`:
// ent's Has…With predicates are correlated EXISTS, which SQLite answers by
// scanning the outer table for every account (every role: 10 ms a member
// write at 20,000 roles; every active member of the account: 110 ms at
// 40,000), where these read the assignments' indexes.

// rolesHeldBy is the roles a member holds.
func rolesHeldBy(memberID string) predicate.Role {
	return func(s *sql.Selector) {
		a := sql.Table(assignment.Table)
		s.Where(sql.In(s.C(role.FieldID),
			sql.Select(a.C(assignment.FieldRoleID)).From(a).Where(sql.EQ(a.C(assignment.FieldMemberID), memberID))))
	}
}

// AssignedToMember is assignments whose member matches where: `EXISTS
// (SELECT … FROM members WHERE members.id = assignments.member_id AND …)`,
// one probe of the members' primary key an assignment read, where ent's
// HasMemberWith would list every matching member of every account.
func AssignedToMember(where predicate.Member) predicate.Assignment {
	return func(s *sql.Selector) {
		m := sql.Table(member.Table)
		sub := sql.Select(m.C(member.FieldID)).From(m).Where(sql.ColumnsEQ(m.C(member.FieldID), s.C(assignment.FieldMemberID)))
		where(sub)
		s.Where(sql.Exists(sub))
	}
}

// ofFullAccess is the assignments of the account's full_access.
func ofFullAccess(accountID string) predicate.Assignment {
	return func(s *sql.Selector) {
		r := sql.Table(role.Table)
		s.Where(sql.In(s.C(assignment.FieldRoleID), sql.Select(r.C(role.FieldID)).From(r).Where(sql.And(
			sql.EQ(r.C(role.FieldAccountID), accountID), sql.EQ(r.C(role.FieldKey), FullAccess), sql.EQ(r.C(role.FieldKind), role.KindSYSTEM)))))
	}
}
