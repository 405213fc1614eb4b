package graph

import (
	"slices"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/graph/model"
)

// DefaultPageSize is the page size limit unless configured otherwise
// (GATEHOUSE_MAX_PAGE_SIZE): the page a connection returns when neither first
// nor last is given; the limits extension refuses larger pages.
const DefaultPageSize = 100

// page defaults first to the page size limit so that a connection never
// returns an unbounded list, nor a page larger than a client may ask for.
func (r *Resolver) page(first, last *int) *int {
	if first == nil && last == nil {
		n := r.pageSize
		return &n
	}
	return first
}

// roleOrder lists roles by position unless asked otherwise.
func roleOrder(o *ent.RoleOrder) *ent.RoleOrder {
	if o != nil {
		return o
	}
	return &ent.RoleOrder{Field: ent.RoleOrderFieldPosition, Direction: "ASC"}
}

// auditOrder lists the audit log newest first unless asked otherwise.
func auditOrder(o *ent.AuditEventOrder) *ent.AuditEventOrder {
	if o != nil {
		return o
	}
	return &ent.AuditEventOrder{Field: ent.AuditEventOrderFieldCreatedAt, Direction: "DESC"}
}

func constraints(m map[string][]string) []*model.Constraint {
	out := make([]*model.Constraint, 0, len(m))
	for k, v := range m {
		out = append(out, &model.Constraint{Attribute: k, Values: v})
	}
	slices.SortFunc(out, func(a, b *model.Constraint) int {
		if a.Attribute < b.Attribute {
			return -1
		}
		return 1
	})
	return out
}
