package graph

import (
	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
	"github.com/gatehouse-iam/gatehouse/graph/model"
)

func accountSettings(a *ent.Account) *model.AccountSettings {
	return &model.AccountSettings{RoleAssignment: a.RoleAssignment, DefaultAccessExcludes: a.DefaultAccessExcludes,
		NewMemberRoles: iam.NewMemberRoles(a), MinRolesPerMember: a.MinRolesPerMember}
}

func accountFeatures(a *ent.Account) *model.AccountFeatures {
	f := &model.AccountFeatures{CustomRoles: a.CustomRoles, ResourceConstraints: a.ResourceConstraints}
	if a.CustomRolesPermission != "" {
		f.CustomRolesPermission = &a.CustomRolesPermission
	}
	return f
}
