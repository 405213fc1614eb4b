package graph

import (
	"context"
	"time"

	"entgo.io/contrib/entgql"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/authz"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
	"github.com/gatehouse-iam/gatehouse/graph/loaders"
	"github.com/gatehouse-iam/gatehouse/graph/model"
)

func keyPayload(k *ent.APIKey, err error) (*model.APIKeyPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.APIKeyPayload{APIKey: k}, nil
}

// decision converts the service's answer for the API.
func decision(d *iam.Decision) *model.Decision { return model.NewDecision(d) }

// keyStatus says whether a key works now.
func (r *Resolver) keyStatus(ctx context.Context, k *ent.APIKey) (model.APIKeyStatus, error) {
	m, err := r.svc.Model(ctx, k.AccountID)
	if err != nil {
		return "", err
	}
	e, err := m.KeyByID(ctx, k.ID)
	if err != nil {
		return "", err
	}
	switch e.Reason(time.Now()) {
	case authz.KeyRevoked:
		return model.APIKeyStatusRevoked, nil
	case authz.KeyExpired:
		return model.APIKeyStatusExpired, nil
	case authz.SubjectInactive:
		return model.APIKeyStatusInactive, nil
	}
	return model.APIKeyStatusActive, nil
}

// whoCan pages through the holders of a permission, in id order.
func (r *Resolver) whoCan(ctx context.Context, acc *ent.Account, permission string, resource []*iam.ResourceAttributeInput, first *int, after *entgql.Cursor[string]) (*model.HolderConnection, error) {
	n := DefaultPageSize
	if first != nil {
		if *first < 0 {
			return nil, apperr.New(apperr.BadUserInput, "first must not be negative")
		}
		n = *first
	}
	attrs := authz.Resource{}
	for _, at := range resource {
		attrs[at.Attribute] = at.Value
	}
	holders, err := r.svc.WhoCan(ctx, acc.ID, permission, attrs)
	if err != nil {
		return nil, err
	}
	conn := &model.HolderConnection{TotalCount: len(holders), Edges: []*model.HolderEdge{}, PageInfo: &entgql.PageInfo[string]{}}
	start := 0
	if after != nil {
		for start < len(holders) && holders[start].ID() <= after.ID {
			start++
		}
		conn.PageInfo.HasPreviousPage = start > 0
	}
	end := min(start+n, len(holders))
	var memberIDs []string
	for _, h := range holders[start:end] {
		if h.Key == nil {
			memberIDs = append(memberIDs, h.MemberID)
		}
	}
	members, err := loaders.For(ctx).Member.LoadAll(ctx, memberIDs) // the page's member rows, in one batch
	if err != nil {
		return nil, err
	}
	for _, h := range holders[start:end] {
		var node ent.Noder = h.Key
		if h.Key == nil {
			node, members = members[0], members[1:]
		}
		conn.Edges = append(conn.Edges, &model.HolderEdge{Node: node, Cursor: entgql.Cursor[string]{ID: h.ID()}})
	}
	conn.PageInfo.HasNextPage = end < len(holders)
	if len(conn.Edges) > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[len(conn.Edges)-1].Cursor
	}
	return conn, nil
}
