package iam

import (
	"context"
	"maps"
	"slices"

	"github.com/gatehouse-iam/gatehouse/graph/apperr"
)

// copiedRole is what a role copied from the account's role roleID starts
// with (R3, and Truora's editor: "copy from existing role"): its grants and
// constraints; for default_access, whose `*` means something only with the
// account's excludes, the keys it gives. A role of another account is
// NOT_FOUND.
func copiedRole(ctx context.Context, c *Change, roleID string) ([]string, map[string][]string, error) {
	// The model is exact under the account's lock: no query.
	i, ok := c.indexOf(roleID)
	if !ok {
		return nil, nil, apperr.NotFoundf("role", roleID)
	}
	src := &c.roles[i]
	if sr := c.ruleAt(i); len(sr.Excludes) > 0 {
		// A role defined by exclusion (default_access: `*` minus the
		// account's defaultAccessExcludes) is copied as what it gives now;
		// its `*` would give the whole master list.
		return c.Policy.Expand(sr), map[string][]string{}, nil
	}
	constraints := maps.Clone(src.Constraints)
	if constraints == nil {
		constraints = map[string][]string{}
	}
	return slices.Clone(src.Grants), constraints, nil
}
