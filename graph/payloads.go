package graph

import (
	"context"
	"encoding/json"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/account"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
	"github.com/gatehouse-iam/gatehouse/graph/loaders"
	"github.com/gatehouse-iam/gatehouse/graph/model"
)

func accountPayload(a *ent.Account, err error) (*model.AccountPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.AccountPayload{Account: a}, nil
}

func rolePayload(r *ent.Role, err error) (*model.RolePayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.RolePayload{Role: r}, nil
}

func memberPayload(m *ent.Member, err error) (*model.MemberPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.MemberPayload{Member: m}, nil
}

// memberPermissions is what a member holds now: nothing unless the member
// and the account are active.
func (r *Resolver) memberPermissions(ctx context.Context, m *ent.Member) ([]string, error) {
	if m.Status != member.StatusACTIVE {
		return []string{}, nil
	}
	md, err := r.svc.Model(ctx, m.AccountID)
	if err != nil {
		return nil, err
	}
	if md.Account.Status != account.StatusACTIVE {
		return []string{}, nil
	}
	roles, err := heldRoles(ctx, md, m)
	if err != nil {
		return nil, err
	}
	return md.Subject(roles).Permissions(), nil
}

// memberRoles is Member.roles: the roles a member holds, in position order.
func (r *Resolver) memberRoles(ctx context.Context, m *ent.Member) ([]*ent.Role, error) {
	md, err := r.svc.Model(ctx, m.AccountID)
	if err != nil {
		return nil, err
	}
	return heldRoles(ctx, md, m)
}

// heldRoles answers which roles a member holds from the account's model:
// the view decisions are made on, current with this server's commits and
// within GATEHOUSE_MAX_STALENESS of other servers' (D6), with no SQL and
// with roles compiled once. A member the model has not met yet is read
// through the loader (prefetchMembers batches those).
func heldRoles(ctx context.Context, md *iam.Model, m *ent.Member) ([]*ent.Role, error) {
	if roles, ok := md.RolesOf(m.ID); ok {
		return roles, nil
	}
	return loaders.For(ctx).RolesByMember.Load(ctx, m.ID)
}

func (r *Resolver) viewer(ctx context.Context) (*model.Viewer, error) {
	p := auth.FromContext(ctx)
	v := &model.Viewer{ID: p.ID}
	switch p.Kind {
	case auth.Operator:
		v.Kind = model.PrincipalKindOperator
	case auth.APIKey:
		v.Kind = model.PrincipalKindAPIKey
	case auth.User:
		v.Kind = model.PrincipalKindUser
	}
	return v, nil
}

// viewerMemberships lists the caller's memberships (M6), read only when asked.
func (r *Resolver) viewerMemberships(ctx context.Context) ([]*model.Membership, error) {
	ms, err := r.svc.Memberships(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*model.Membership, 0, len(ms))
	for _, m := range ms {
		roles := m.Roles
		if roles == nil {
			roles = []*ent.Role{}
		}
		out = append(out, &model.Membership{
			Account: m.Account, Member: m.Member, Status: m.Member.Status, Roles: roles,
			EffectivePermissions: m.Permissions, Masks: m.Masks,
		})
	}
	return out, nil
}

// toMap turns a document into the JSON object the Map scalar carries.
func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// stepPointers is a plan as gqlgen's list of pointers.
func stepPointers(steps []iam.PlanStep) []*iam.PlanStep {
	out := make([]*iam.PlanStep, len(steps))
	for i := range steps {
		out[i] = &steps[i]
	}
	return out
}
