package iam

import (
	"math"
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/role"
)

// modelRole is what a model keeps of a role: the row's columns but its
// account (the model's), its kind in a bool and its times in nanoseconds.
// 144 bytes, where the ent row a model kept took 288 (its edges, the ORM's
// bookkeeping): decisions read these; callers that show roles get ent rows
// made from them once per model (Model.Roles).
type modelRole struct {
	ID, Key, Name, Description string
	Grants                     []string
	Constraints                map[string][]string
	Version, Position          int
	created, updated           int64          // Unix nanoseconds
	loc                        *time.Location // of both times, as read
	system                     bool
}

// newModelRole is what a model keeps of a row.
func newModelRole(r *ent.Role) modelRole {
	return modelRole{ID: r.ID, Key: r.Key, Name: r.Name, Description: r.Description, Grants: r.Grants,
		Constraints: r.Constraints, Version: r.Version, Position: r.Position, system: r.Kind == role.KindSYSTEM,
		created: nanos(r.CreatedAt), updated: nanos(r.UpdatedAt), loc: r.CreatedAt.Location()}
}

// noTime is the nanoseconds of the zero time, which has none.
const noTime = math.MinInt64

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return noTime
	}
	return t.UnixNano()
}

// timeAt is the time of nanos, in loc (UTC when nil).
func timeAt(nanos int64, loc *time.Location) time.Time {
	switch {
	case nanos == noTime:
		return time.Time{}
	case loc == nil:
		loc = time.UTC
	}
	return time.Unix(0, nanos).In(loc)
}

// kind is the role's kind.
func (r *modelRole) kind() role.Kind {
	if r.system {
		return role.KindSYSTEM
	}
	return role.KindCUSTOM
}

// isFullAccess reports whether the role is its account's full_access.
func (r *modelRole) isFullAccess() bool { return fullAccess(r.kind(), r.Key) }

// roleRows are the ent rows a model shows its roles as: made on first use,
// once, for the model's roles (a model used only for decisions never makes
// them).
type roleRows struct {
	once sync.Once
	rows []*ent.Role
}

// Roles returns the account's roles, in position order, as ent rows: the
// same rows for every caller of this model. Callers must not change them.
func (m *Model) Roles() []*ent.Role {
	m.ents.once.Do(func() {
		rows, out := make([]ent.Role, len(m.roles)), make([]*ent.Role, len(m.roles))
		for i := range m.roles {
			r := &m.roles[i]
			rows[i] = ent.Role{ID: r.ID, AccountID: m.Account.ID, Key: r.Key, Name: r.Name, Description: r.Description,
				Kind: r.kind(), Grants: r.Grants, Constraints: r.Constraints, Version: r.Version, Position: r.Position,
				CreatedAt: timeAt(r.created, r.loc), UpdatedAt: timeAt(r.updated, r.loc)}
			out[i] = &rows[i]
		}
		m.ents.rows = out
	})
	return m.ents.rows
}
