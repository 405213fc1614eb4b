package graph

import (
	"reflect"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
)

// Member search: members(where:, orderBy:) filter and sort on the members
// table's own columns and indexes (email and name are copies of the user's);
// hasRoleWith and hasRole go through the assignments.

// memberHasRole keeps the members holding a role (true) or none (false).
func memberHasRole(w *ent.MemberWhereInput, has *bool) error {
	if has != nil {
		if *has {
			w.AddPredicates(member.HasAssignments())
		} else {
			w.AddPredicates(member.Not(member.HasAssignments()))
		}
	}
	return nil
}

// lastActive is a member's lastActiveAt: null for never.
func lastActive(m *ent.Member) *time.Time {
	if !m.LastActiveAt.After(time.Unix(0, 0)) {
		return nil
	}
	t := m.LastActiveAt
	return &t
}

// checkEmailSearch refuses searching or sorting by email to a caller who may
// not see emails (K6): the order or the matches would reveal them.
func checkEmailSearch(a *iam.Access, where *ent.MemberWhereInput, order *ent.MemberOrder) error {
	if !a.Masked(MaskMemberEmail) {
		return nil
	}
	if (order != nil && order.Field != nil && order.Field.String() == "EMAIL") || usesEmail(where) {
		return apperr.New(apperr.Forbidden, "the deny mask %s hides members' emails: filter and sort by other fields", MaskMemberEmail).
			With("reason", "MASKED")
	}
	return nil
}

// usesEmail reports whether a where input, or one nested in it, has an
// email predicate (any field whose name starts with Email).
func usesEmail(w *ent.MemberWhereInput) bool {
	if w == nil {
		return false
	}
	v := reflect.ValueOf(w).Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if strings.HasPrefix(f.Name, "Email") && !v.Field(i).IsZero() {
			return true
		}
	}
	if usesEmail(w.Not) {
		return true
	}
	for _, x := range append(append([]*ent.MemberWhereInput{}, w.And...), w.Or...) {
		if usesEmail(x) {
			return true
		}
	}
	return false
}
