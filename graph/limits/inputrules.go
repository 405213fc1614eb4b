package limits

import "strings"

// The longest strings Gatehouse accepts, in characters (Unicode code
// points), by what the string is. They match the database's columns: a
// value within them is never refused by the database.
const (
	MaxNameLength        = 200  // names, groups, slugs, templates, values: anything not listed below
	MaxDescriptionLength = 2000 // role and scope descriptions (newlines and tabs allowed)
	MaxPermissionDescLen = 1000 // catalog permission descriptions (newlines and tabs allowed)
	MaxReasonLength      = 1000 // reasons given for a change (newlines and tabs allowed)
	MaxEmailLength       = 254  // email addresses (RFC 5321's path limit)
	MaxKeyLength         = 128  // permission keys and patterns (K2), role and scope keys, JSON object keys
	MaxIDLength          = 128  // ids (`role_…`), at least 1 character
	MaxCursorLength      = 1000 // pagination cursors
)

// stringRule is the limit of one kind of string.
type stringRule struct {
	max       int
	what      string // the kind of value, plural, for messages
	multiline bool   // newlines (\n, \r) and tabs are allowed
	minOne    bool   // the empty string is refused
}

var (
	nameRule        = stringRule{max: MaxNameLength, what: "names and other short text"}
	descriptionRule = stringRule{max: MaxDescriptionLength, what: "descriptions", multiline: true}
	permDescRule    = stringRule{max: MaxPermissionDescLen, what: "permission descriptions", multiline: true}
	reasonRule      = stringRule{max: MaxReasonLength, what: "reasons", multiline: true}
	emailRule       = stringRule{max: MaxEmailLength, what: "email addresses"}
	keyRule         = stringRule{max: MaxKeyLength, what: "keys and permission patterns"}
	idRule          = stringRule{max: MaxIDLength, what: "ids", minOne: true}
	textIDRule      = stringRule{max: MaxIDLength, what: "ids"} // ids in String filters: "" is a valid filter value
	cursorRule      = stringRule{max: MaxCursorLength, what: "cursors"}
)

// byName is the kind of a string by the name of its input field (or JSON
// key, in Map arguments such as applyAccessConfig's document); fields not
// named here are names (MaxNameLength). A filter field of an ent where-input
// (`nameContains`, `keyIn`) has the limit of the field it filters.
var byName = map[string]stringRule{
	"description": descriptionRule,
	"reason":      reasonRule,
	"email":       emailRule,

	"key": keyRule, "keys": keyRule, "permission": keyRule, "permissions": keyRule,
	"grants": keyRule, "addGrants": keyRule, "removeGrants": keyRule, "implies": keyRule,
	"roleKeys": keyRule, "roles": keyRule, "scopes": keyRule, "defaultAccessExcludes": keyRule,
	"attribute": keyRule, "action": keyRule,
}

// byField overrides byName for fields of one input type.
var byField = map[string]map[string]stringRule{
	"PermissionInput": {"description": permDescRule},
}

// filterSuffixes are the predicates entgql adds to a field's name in where
// inputs, longest first.
var filterSuffixes = []string{"ContainsFold", "EqualFold", "HasPrefix", "HasSuffix", "Contains", "NotIn", "NEQ", "GTE", "LTE", "GT", "LT", "In"}

// ruleFor is the limit of a string given to field of the input type parent
// ("" for arguments and JSON keys) whose GraphQL type is scalar.
func ruleFor(parent, field, scalar string) stringRule {
	switch scalar {
	case "ID":
		return idRule
	case "Cursor":
		return cursorRule
	}
	if r, ok := byField[parent][field]; ok {
		return r
	}
	if r, ok := byName[field]; ok {
		return r
	}
	if strings.HasSuffix(parent, "WhereInput") {
		for _, s := range filterSuffixes {
			if base, ok := strings.CutSuffix(field, s); ok && base != "" {
				return ruleFor("", base, scalar)
			}
		}
	}
	if strings.HasSuffix(field, "ID") || strings.HasSuffix(field, "Id") {
		return textIDRule // e.g. actorID, memberID in filters: ids held in String fields
	}
	return nameRule
}
