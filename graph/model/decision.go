package model

import (
	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
)

// Decision is an answer (D1) as the API shows it. Its grantedBy and
// suggestedRoles are worked out when a query selects them: most callers
// ask only whether (allowed, reason), and working out how follows the
// roles' implication trails.
type Decision struct{ d *iam.Decision }

// NewDecision shows the service's answer.
func NewDecision(d *iam.Decision) *Decision { return &Decision{d} }

// Permission is the permission asked about.
func (d *Decision) Permission() string { return d.d.Permission }

// Allowed is true when the subject may do it now.
func (d *Decision) Allowed() bool { return d.d.Allowed }

// Reason is why (D2).
func (d *Decision) Reason() DecisionReason { return DecisionReason(d.d.Reason.String()) }

// Masks are the deny masks that apply to the subject (K6).
func (d *Decision) Masks() []string { return d.d.Masks }

// GrantedBy is how it was granted, when allowed.
func (d *Decision) GrantedBy() *GrantPath {
	p, role := d.d.Explain()
	if p == nil {
		return nil
	}
	chain := p.Chain
	if chain == nil {
		chain = []string{}
	}
	return &GrantPath{Role: role, RoleKey: p.RoleKey, Grant: p.Grant, Chain: chain}
}

// SuggestedRoles are, when denied, the roles of the account that would
// grant it (D4).
func (d *Decision) SuggestedRoles() []*ent.Role {
	if s := d.d.Suggested(); s != nil {
		return s
	}
	return []*ent.Role{}
}
