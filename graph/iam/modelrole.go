package iam

import (
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/role"
)

// modelRole is what a model keeps of a role: the row's columns but its
// account (the model's). 176 bytes, where the ent row a model kept took
// 288 (its edges, the ORM's bookkeeping): decisions read these; callers
// that show roles get ent rows made from them once per model (Model.Roles).
type modelRole struct {
	ID, Key, Name, Description string
	Kind                       role.Kind
	Grants                     []string
	Constraints                map[string][]string
	Version, Position          int
	CreatedAt, UpdatedAt       time.Time
}

// isFullAccess reports whether the role is its account's full_access.
func (r *modelRole) isFullAccess() bool { return fullAccess(r.Kind, r.Key) }

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
				Kind: r.Kind, Grants: r.Grants, Constraints: r.Constraints, Version: r.Version, Position: r.Position,
				CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
			out[i] = &rows[i]
		}
		m.ents.rows = out
	})
	return m.ents.rows
}
