package iam

import (
	"time"

	"github.com/gatehouse-iam/gatehouse/ent/account"
	"github.com/gatehouse-iam/gatehouse/ent/permission"
	"github.com/gatehouse-iam/gatehouse/ent/sodrule"
)

// The inputs of Gatehouse's commands. gqlgen binds the GraphQL input types of
// the same names to them (gqlgen.yml), so the API and the commands share one
// definition.

// Ref names the object a command acts on; the @hasPermission directive uses it
// to find the account whose permissions apply.
type Ref struct{ AccountID, RoleID, MemberID, ScopeID, APIKeyID, SodRuleID string }

// Targeted is implemented by every input that acts inside one account.
type Targeted interface{ Target() Ref }

// PermissionInput defines one catalog permission.
type PermissionInput struct {
	Key         string           `json:"key"`
	Description *string          `json:"description"`
	Group       *string          `json:"group"`
	Kind        *permission.Kind `json:"kind"`
	Implies     []string         `json:"implies"`
}

// DefinePermissionsInput creates or updates catalog permissions.
type DefinePermissionsInput struct {
	Why
	Permissions []*PermissionInput `json:"permissions"`
}

// AccountSettingsInput changes settings; nil fields stay as they are.
type AccountSettingsInput struct {
	RoleAssignment        *account.RoleAssignment `json:"roleAssignment"`
	DefaultAccessExcludes []string                `json:"defaultAccessExcludes"`
	NewMemberRoles        []string                `json:"newMemberRoles"`
	MinRolesPerMember     *int                    `json:"minRolesPerMember"`
}

// AccountFeaturesInput changes plan features; nil fields stay as they are.
type AccountFeaturesInput struct {
	CustomRoles           *bool   `json:"customRoles"`
	ResourceConstraints   *bool   `json:"resourceConstraints"`
	CustomRolesPermission *string `json:"customRolesPermission"`
}

// OwnerInput names an account's first member.
type OwnerInput struct {
	Email string  `json:"email"`
	Name  *string `json:"name"`
}

// CreateAccountInput creates an account (A1).
type CreateAccountInput struct {
	Why
	Name        string                `json:"name"`
	Slug        string                `json:"slug"`
	Permissions []string              `json:"permissions"`
	Settings    *AccountSettingsInput `json:"settings"`
	Features    *AccountFeaturesInput `json:"features"`
	Owner       *OwnerInput           `json:"owner"`
	Template    *string               `json:"template"`
}

// AccountPermissionsInput adds or removes master-list keys (A4).
type AccountPermissionsInput struct {
	Why
	AccountID   string   `json:"accountId"`
	Permissions []string `json:"permissions"`
}

// Target implements Targeted.
func (in AccountPermissionsInput) Target() Ref { return Ref{AccountID: in.AccountID} }

// UpdateAccountInput changes an account (A2, A3, A6).
type UpdateAccountInput struct {
	Why
	AccountID string                `json:"accountId"`
	Name      *string               `json:"name"`
	Settings  *AccountSettingsInput `json:"settings"`
	Features  *AccountFeaturesInput `json:"features"`
	Status    *account.Status       `json:"status"`
}

// Target implements Targeted.
func (in UpdateAccountInput) Target() Ref { return Ref{AccountID: in.AccountID} }

// ConstraintInput is one resource constraint (D3).
type ConstraintInput struct {
	Attribute string   `json:"attribute"`
	Values    []string `json:"values"`
}

// CreateRoleInput creates a custom role (R3).
type CreateRoleInput struct {
	Why
	AccountID      string             `json:"accountId"`
	Key            *string            `json:"key"`
	Name           string             `json:"name"`
	Description    *string            `json:"description"`
	CopyFromRoleID *string            `json:"copyFromRoleId"`
	Grants         []string           `json:"grants"`
	Constraints    []*ConstraintInput `json:"constraints"`
}

// Target implements Targeted.
func (in CreateRoleInput) Target() Ref { return Ref{AccountID: in.AccountID} }

// UpdateRoleInput changes a custom role (R4).
type UpdateRoleInput struct {
	Why
	RoleID          string             `json:"roleId"`
	ExpectedVersion int                `json:"expectedVersion"`
	Name            *string            `json:"name"`
	Description     *string            `json:"description"`
	CopyFromRoleID  *string            `json:"copyFromRoleId"`
	Grants          []string           `json:"grants"`
	AddGrants       []string           `json:"addGrants"`
	RemoveGrants    []string           `json:"removeGrants"`
	Constraints     []*ConstraintInput `json:"constraints"`
}

// Target implements Targeted.
func (in UpdateRoleInput) Target() Ref { return Ref{RoleID: in.RoleID} }

// DeleteRoleInput deletes a custom role (R6).
type DeleteRoleInput struct {
	Why
	RoleID           string  `json:"roleId"`
	ReassignToRoleID *string `json:"reassignToRoleId"`
}

// Target implements Targeted.
func (in DeleteRoleInput) Target() Ref { return Ref{RoleID: in.RoleID} }

// AddMemberInput adds a user to an account (M1, M2).
type AddMemberInput struct {
	Why
	AccountID string   `json:"accountId"`
	Email     string   `json:"email"`
	Name      *string  `json:"name"`
	RoleIds   []string `json:"roleIds"`
	RoleKeys  []string `json:"roleKeys"`
	Invite    *bool    `json:"invite"`
}

// Target implements Targeted.
func (in AddMemberInput) Target() Ref { return Ref{AccountID: in.AccountID} }

// SetMemberRolesInput replaces a member's roles.
type SetMemberRolesInput struct {
	Why
	MemberID string   `json:"memberId"`
	RoleIds  []string `json:"roleIds"`
	RoleKeys []string `json:"roleKeys"`
}

// Target implements Targeted.
func (in SetMemberRolesInput) Target() Ref { return Ref{MemberID: in.MemberID} }

// MemberInput names a member.
type MemberInput struct {
	Why
	MemberID string `json:"memberId"`
}

// Target implements Targeted.
func (in MemberInput) Target() Ref { return Ref{MemberID: in.MemberID} }

// TransferOwnershipInput moves full_access (M4).
type TransferOwnershipInput struct {
	Why
	AccountID      string  `json:"accountId"`
	ToMemberID     string  `json:"toMemberId"`
	FromMemberID   *string `json:"fromMemberId"`
	DemoteToRoleID *string `json:"demoteToRoleId"`
}

// Target implements Targeted.
func (in TransferOwnershipInput) Target() Ref { return Ref{AccountID: in.AccountID} }

// CreateScopeInput creates a scope (S1).
type CreateScopeInput struct {
	Why
	AccountID   string   `json:"accountId"`
	Key         string   `json:"key"`
	Description *string  `json:"description"`
	Grants      []string `json:"grants"`
}

// Target implements Targeted.
func (in CreateScopeInput) Target() Ref { return Ref{AccountID: in.AccountID} }

// UpdateScopeInput changes a scope.
type UpdateScopeInput struct {
	Why
	ScopeID     string   `json:"scopeId"`
	Description *string  `json:"description"`
	Grants      []string `json:"grants"`
}

// Target implements Targeted.
func (in UpdateScopeInput) Target() Ref { return Ref{ScopeID: in.ScopeID} }

// DeleteScopeInput deletes a scope.
type DeleteScopeInput struct {
	Why
	ScopeID string `json:"scopeId"`
}

// Target implements Targeted.
func (in DeleteScopeInput) Target() Ref { return Ref{ScopeID: in.ScopeID} }

// CreateAPIKeyInput creates an API key (S2).
type CreateAPIKeyInput struct {
	Why
	AccountID   string     `json:"accountId"`
	Name        string     `json:"name"`
	Scopes      []string   `json:"scopes"`
	Permissions []string   `json:"permissions"`
	ExpiresAt   *time.Time `json:"expiresAt"`
	MemberID    *string    `json:"memberId"`
}

// Target implements Targeted.
func (in CreateAPIKeyInput) Target() Ref { return Ref{AccountID: in.AccountID} }

// RevokeAPIKeyInput revokes a key (S5).
type RevokeAPIKeyInput struct {
	Why
	APIKeyID string `json:"apiKeyId"`
}

// Target implements Targeted.
func (in RevokeAPIKeyInput) Target() Ref { return Ref{APIKeyID: in.APIKeyID} }

// RenameAPIKeyInput renames a key.
type RenameAPIKeyInput struct {
	Why
	APIKeyID string `json:"apiKeyId"`
	Name     string `json:"name"`
}

// Target implements Targeted.
func (in RenameAPIKeyInput) Target() Ref { return Ref{APIKeyID: in.APIKeyID} }

// SubjectInput names who a decision is about; all empty means the caller.
type SubjectInput struct {
	MemberID *string `json:"memberId"`
	Email    *string `json:"email"`
	APIKeyID *string `json:"apiKeyId"`
}

// ResourceAttributeInput is one attribute of a resource (D3).
type ResourceAttributeInput struct {
	Attribute string `json:"attribute"`
	Value     string `json:"value"`
}

// AuthorizeInput is one question (D1).
type AuthorizeInput struct {
	AccountID  string                    `json:"accountId"`
	Subject    *SubjectInput             `json:"subject"`
	Permission string                    `json:"permission"`
	Resource   []*ResourceAttributeInput `json:"resource"`
}

// CreateSodRuleInput creates a separation-of-duty rule (V1).
type CreateSodRuleInput struct {
	Why
	AccountID   string        `json:"accountId"`
	Name        string        `json:"name"`
	Permissions []string      `json:"permissions"`
	Level       sodrule.Level `json:"level"`
	Mode        sodrule.Mode  `json:"mode"`
}

// Target implements Targeted.
func (in CreateSodRuleInput) Target() Ref { return Ref{AccountID: in.AccountID} }

// DeleteSodRuleInput deletes a rule.
type DeleteSodRuleInput struct {
	Why
	SodRuleID string `json:"sodRuleId"`
}

// Target implements Targeted.
func (in DeleteSodRuleInput) Target() Ref { return Ref{SodRuleID: in.SodRuleID} }
