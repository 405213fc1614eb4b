package iam

import (
	"slices"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
)

// R7, no escalation: outside the operator, a principal may only give what it
// already holds, unconstrained.

// checkGrants refuses adding grants to a role unless the caller holds every
// key they give and, for wildcards, an equal or wider wildcard.
func (a *Access) checkGrants(what string, grants []string) error {
	if a.Operator || len(grants) == 0 {
		return nil
	}
	if missing := a.Policy.Missing(a.Subject, grants); len(missing) > 0 {
		return apperr.Missing(what, missing)
	}
	return nil
}

// checkRoles refuses assigning roles unless the caller holds, unconstrained,
// every permission they give now.
func (a *Access) checkRoles(what string, roles []*ent.Role) error {
	if a.Operator {
		return nil
	}
	if missing := a.missingFor(roles); len(missing) > 0 {
		return apperr.Missing(what, missing)
	}
	return nil
}

// checkMember refuses acting on a member (changing roles, suspending,
// removing) who holds something the caller does not: a lesser admin cannot
// demote or lock out a greater one.
func (a *Access) checkMember(what string, current []*ent.Role) error {
	return a.checkRoles(what, current)
}

func (a *Access) missingFor(roles []*ent.Role) []string {
	held := make(map[string]bool)
	for _, k := range a.Subject.Unconstrained() {
		held[k] = true
	}
	var missing []string
	for _, r := range roles {
		for _, k := range a.Policy.Expand(a.Role(r)) {
			if !held[k] && !slices.Contains(missing, k) {
				missing = append(missing, k)
			}
		}
	}
	slices.Sort(missing)
	return missing
}
