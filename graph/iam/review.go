package iam

import (
	"context"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/apikey"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/sodrule"
	"github.com/gatehouse-iam/gatehouse/ent/usage"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
)

// NearExpiry is how soon a key must expire to be reported (V3).
const NearExpiry = 30 * 24 * time.Hour

// RoleUnused is what a role grants that none of its holders used (V3).
type RoleUnused struct {
	Role        *ent.Role
	Permissions []string
}

// Review is an access review of one account since a date (V3, modelled on
// AWS IAM Access Analyzer's unused-access findings).
type Review struct {
	Since               time.Time
	UnusedPermissions   []RoleUnused
	InactiveMembers     []*ent.Member
	InactiveKeys        []*ent.APIKey
	KeysNearExpiry      []*ent.APIKey
	RolesWithoutHolders []*ent.Role
	Violations          []Violation
	OwnerCount          int
}

// AccessReview reviews an account's access since a date.
func (s *Service) AccessReview(ctx context.Context, accountID string, since time.Time) (*Review, error) {
	if _, err := s.Require(ctx, accountID, "iam.reviews.read"); err != nil {
		return nil, err
	}
	if err := s.FlushUsage(ctx); err != nil { // what this server saw counts too
		return nil, apperr.Wrap(err, "iam.AccessReview: flush")
	}
	m, err := s.loadModel(ctx, s.client, accountID)
	if err != nil {
		return nil, err
	}
	members, err := membersWithAssignments(ctx, s.client.Member.Query().
		Where(member.AccountID(accountID), member.StatusEQ(member.StatusACTIVE)).Order(ent.Asc(member.FieldID)),
		s.client.Assignment, accountID)
	if err != nil {
		return nil, apperr.Wrap(err, "iam.AccessReview: members")
	}
	uses, err := s.client.Usage.Query().Where(usage.AccountID(accountID), usage.LastUsedAtGTE(since)).All(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "iam.AccessReview: usage")
	}
	used := map[string][]string{} // subject → permissions used since
	for _, u := range uses {
		used[u.SubjectID] = append(used[u.SubjectID], u.Permission)
	}
	// Each role's holders, and what any of them used: gathered once, in one
	// pass over the members, rather than for each permission of each role.
	holders := make([]int, len(m.roles))
	usedBy := make([]map[string]bool, len(m.roles))
	for _, mem := range members {
		for _, a := range mem.Edges.Assignments {
			i, ok := m.indexOf(a.RoleID)
			if !ok {
				continue
			}
			holders[i]++
			if usedBy[i] == nil {
				usedBy[i] = map[string]bool{}
			}
			for _, p := range used[mem.ID] {
				usedBy[i][p] = true
			}
		}
	}
	rv := &Review{Since: since, UnusedPermissions: []RoleUnused{}, InactiveMembers: []*ent.Member{},
		InactiveKeys: []*ent.APIKey{}, KeysNearExpiry: []*ent.APIKey{}, RolesWithoutHolders: []*ent.Role{}}
	for i, r := range m.Roles() {
		if holders[i] == 0 {
			rv.RolesWithoutHolders = append(rv.RolesWithoutHolders, r)
			continue
		}
		if isFullAccess(r) {
			rv.OwnerCount = holders[i]
		}
		unused := []string{}
		for _, k := range m.expansions()[i].Keys() {
			if !usedBy[i][k] {
				unused = append(unused, k)
			}
		}
		if len(unused) > 0 {
			rv.UnusedPermissions = append(rv.UnusedPermissions, RoleUnused{Role: r, Permissions: unused})
		}
	}
	for _, mem := range members {
		if len(used[mem.ID]) == 0 && mem.CreatedAt.Before(since) {
			rv.InactiveMembers = append(rv.InactiveMembers, mem)
		}
	}
	now := time.Now()
	keys, err := s.client.APIKey.Query().Where(apikey.AccountID(accountID), apikey.RevokedAtIsNil(),
		apikey.Or(apikey.ExpiresAtIsNil(), apikey.ExpiresAtGT(now))).Order(ent.Asc(apikey.FieldID)).All(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "iam.AccessReview: keys")
	}
	for _, k := range keys {
		if (k.LastUsedAt == nil || k.LastUsedAt.Before(since)) && k.CreatedAt.Before(since) {
			rv.InactiveKeys = append(rv.InactiveKeys, k)
		}
		if k.ExpiresAt != nil && k.ExpiresAt.Sub(now) < NearExpiry {
			rv.KeysNearExpiry = append(rv.KeysNearExpiry, k)
		}
	}
	rules, err := s.client.SodRule.Query().Where(sodrule.AccountID(accountID)).All(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "iam.AccessReview: rules")
	}
	if rv.Violations, err = s.violations(ctx, s.client, accountID, rules, m); err != nil {
		return nil, apperr.Wrap(err, "iam.AccessReview: violations")
	}
	if rv.Violations == nil {
		rv.Violations = []Violation{}
	}
	return rv, nil
}
