package apitest

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

// The isolation sweep (SPEC §11: objects of other accounts are NOT_FOUND,
// their existence never revealed). Every Query and Mutation field taking an
// id — as an argument or anywhere in its input — is called, for every place
// an id goes, by each kind of principal, once with an id of another account
// (B) and once with an id that was never issued. The two answers must be
// errors, identical but for the id, and neither account may change.
//
// An operator may act in every account: for it the id that chooses the
// account (accountId, node's id…) is only tried never-issued, and filters of
// where-inputs are skipped; the other ids of its inputs (addMember's roleIds
// in account A given a role of B) are swept like everyone's.

// idKinds is the kind of object each id-typed input field names. A new id
// field fails the sweep until it is named here.
var idKinds = map[string]string{
	"accountId": "account",
	"roleId":    "role", "copyFromRoleId": "role", "reassignToRoleId": "role", "demoteToRoleId": "role", "roleIds": "role",
	"memberId": "member", "toMemberId": "member", "fromMemberId": "member",
	"scopeId": "scope", "apiKeyId": "apiKey", "sodRuleId": "sodRule",
}

// platformIDs name objects of no account (operator keys): there is no
// other account's id to give.
var platformIDs = map[string]bool{"operatorKeyId": true}

// idPosition is a place an id goes.
type idPosition struct {
	position
	kinds []string // what the id may name (node: every kind)
	// primary: the id chooses the account the call acts in.
	primary bool
	// filter: a where-input predicate, which selects and names nothing.
	filter bool
}

func isID(t typeRef) bool { return t.named().Name == "ID" }

func lowerFirst(s string) string {
	r := []rune(s)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

// idPositions lists the places of c's arguments an id goes.
func (s *apiSchema) idPositions(t *testing.T, c call) []idPosition {
	var out []idPosition
	for _, p := range s.positions(c, isID) {
		if p.t.unwrapped().Kind != "LIST" && len(p.steps) > 1 && p.steps[len(p.steps)-1].key == "" {
			continue // the item of an id list: the list itself is swept
		}
		name := p.name()
		ip := idPosition{position: p}
		switch {
		case strings.HasSuffix(p.parent, "WhereInput"):
			ip.kinds, ip.filter, ip.primary = []string{lowerFirst(strings.TrimSuffix(p.parent, "WhereInput"))}, true, true
		case c.field.Name == "node" || c.field.Name == "nodes":
			for k := range idPrefixes {
				ip.kinds = append(ip.kinds, k)
			}
			slices.Sort(ip.kinds)
			ip.primary = true
		case p.parent == "" && name == "id":
			ip.kinds, ip.primary = []string{lowerFirst(c.field.Type.named().Name)}, true
		default:
			if platformIDs[name] {
				continue // an object of no account, in a field only operators reach
			}
			k, ok := idKinds[name]
			if !ok {
				t.Errorf("%s: %s takes an id of no known kind; name it in idKinds", c, p)
				continue
			}
			ip.kinds = []string{k}
			ip.primary = name == "accountId" || p.parent != "" && len(p.steps) == 2 && p.t.nonNull() && !s.hasField(p.parent, "accountId")
		}
		for _, k := range ip.kinds {
			if idPrefixes[k] == "" {
				t.Errorf("%s: %s names %q, a kind the sweep has no objects of", c, p, k)
			}
		}
		out = append(out, ip)
	}
	return out
}

func (s *apiSchema) hasField(input, name string) bool {
	return slices.ContainsFunc(s.Types[input].InputFields, func(f inputValue) bool { return f.Name == name })
}

// baseID is the id of A a call's other id fields get: the object the call
// would act on, chosen so that the swept id is the only thing wrong.
func (w *sweepWorld) baseID(name, kind string) string {
	switch name {
	case "roleId":
		return w.A.victim // deleteRole's reassignToRoleId matters most for an unheld role
	case "fromMemberId":
		return w.A.OwnerID // transferOwnership: the owner gives, the member receives
	}
	return w.A.ids[kind]
}

// idArgs builds c's arguments with id at p and A's objects everywhere else,
// optional ids of the input included.
func (w *sweepWorld) idArgs(s *apiSchema, c call, p position, id string) map[string]any {
	var v any = id
	if p.t.unwrapped().Kind == "LIST" {
		v = []any{id}
	}
	fill := func(t typeRef, _, name string) any {
		if t.Name == "ID" {
			return w.baseID(name, idKinds[name])
		}
		return nil
	}
	extra := func(typ string, obj map[string]any) {
		for _, f := range s.Types[typ].InputFields {
			if _, set := obj[f.Name]; set || !isID(f.Type) || idKinds[f.Name] == "" {
				continue
			}
			id := w.baseID(f.Name, idKinds[f.Name])
			if f.Type.unwrapped().Kind == "LIST" {
				obj[f.Name] = []any{id}
			} else {
				obj[f.Name] = id
			}
		}
	}
	return s.build(c, fill, &p, v, extra)
}

func TestIsolation_EveryIDOfAnotherAccountIsNotFound(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		s := e.introspect()
		w := e.newSweepWorld("ids")
		before := w.state(e)
		var fields, places, requests int
		for _, c := range s.calls() {
			ps := s.idPositions(t, c)
			if len(ps) == 0 {
				continue
			}
			fields++
			doc := c.document(s)
			for _, p := range ps {
				for _, kind := range p.kinds {
					places++
					foreign, fake := w.B.ids[kind], fakeID(kind)
					if kind == "permission" {
						foreign = w.catalogID // the catalog is the operator's
					}
					for _, pr := range w.principals {
						if pr.operator && p.filter {
							continue
						}
						ask := func(id string) resp {
							requests++
							return e.gql(pr.cred, doc, w.idArgs(s, c, p.position, id))
						}
						what := func() string { return c.String() + "(" + p.String() + " = " + kind + ") by " + pr.name }
						never := ask(fake)
						if !never.Get("errors").Exists() || never.Code() == "INTERNAL" {
							t.Errorf("%s, never issued: %s", what(), never)
							continue
						}
						if pr.operator && p.primary {
							if never.Code() != "NOT_FOUND" {
								t.Errorf("%s, never issued: want NOT_FOUND, got %s", what(), never)
							}
							continue
						}
						other := ask(foreign)
						a, b := strings.ReplaceAll(string(other.Body), foreign, "<id>"), strings.ReplaceAll(string(never.Body), fake, "<id>")
						if a != b || other.Status != never.Status {
							t.Errorf("%s: the answers differ\n another account's: HTTP %d %s\n never issued:      HTTP %d %s", what(), other.Status, a, never.Status, b)
						}
					}
				}
			}
		}
		if after := w.state(e); after != before {
			t.Errorf("the sweep changed the accounts:\n before %s\n after  %s", before, after)
		}
		e.serverErrors(t)
		t.Logf("%s: %d fields, %d id places × %d principals × {another account's, never issued}: %d requests",
			e.Dialect, fields, places, len(w.principals), requests)
	})
}
