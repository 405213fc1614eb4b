package iam

import (
	"reflect"
	"strings"

	"github.com/gatehouse-iam/gatehouse/ent/account"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/sodrule"
)

// AccessConfigSchemaID names the JSON Schema of the configuration document.
const AccessConfigSchemaID = "https://gatehouse.dev/schema/access-config.json"

// AccessConfigSchema is the JSON Schema (draft 2020-12) of the configuration
// document (C1), so that editors can check a document as it is written
// (`gatehouse apply --schema`). It is derived from AccessConfig, the type
// the server parses documents into, so the two cannot drift apart.
func AccessConfigSchema() map[string]any {
	s := schemaOf(reflect.TypeFor[AccessConfig](), "")
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["$id"] = AccessConfigSchemaID
	s["title"] = "Gatehouse access configuration"
	return s
}

// schemaEnums are the words an enum-typed field accepts.
var schemaEnums = map[reflect.Type][]string{
	reflect.TypeFor[account.RoleAssignment](): {string(account.RoleAssignmentSINGLE), string(account.RoleAssignmentMULTIPLE)},
	reflect.TypeFor[member.Status]():          {string(member.StatusACTIVE), string(member.StatusINVITED), string(member.StatusSUSPENDED)},
	reflect.TypeFor[sodrule.Level]():          {string(sodrule.LevelROLE), string(sodrule.LevelMEMBER)},
	reflect.TypeFor[sodrule.Mode]():           {string(sodrule.ModeENFORCE), string(sodrule.ModeREPORT)},
}

// schemaRequired are the fields an object of a section must have.
var schemaRequired = map[string][]string{
	"roles": {"key", "name"}, "scopes": {"key"}, "members": {"email"},
	"sodRules": {"name", "permissions", "level", "mode"},
}

// schemaDescriptions describe the document's parts, by JSON path.
var schemaDescriptions = map[string]string{
	"":                               "An account's access (C1). A section or setting left out is left alone; objects a given section leaves out are deleted only with --prune (prune: true).",
	"settings":                       "The account's settings (A2).",
	"settings.roleAssignment":        "SINGLE: exactly one role per member; MULTIPLE: zero or more.",
	"settings.defaultAccessExcludes": "Patterns the default_access role leaves out of the master list.",
	"settings.newMemberRoles":        "The roles a member added without roles receives (M2).",
	"settings.minRolesPerMember":     "The fewest roles a member may hold (Convrs: 1).",
	"roles":                          "Custom roles, by key (system roles are not configurable).",
	"roles.key":                      "Lower-case letters, digits, _ and -.",
	"roles.grants":                   "Permission keys and wildcard patterns, within the master list.",
	"roles.constraints":              "Attribute → allowed values (needs the resourceConstraints feature).",
	"scopes":                         "API key scopes, by key.",
	"members":                        "Members, by email, with role keys.",
	"members.status":                 "ACTIVE (default), INVITED or SUSPENDED.",
	"sodRules":                       "Separation-of-duty rules, by name (V1).",
	"sodRules.permissions":           "At least two permissions that must not be held together.",
}

func schemaOf(t reflect.Type, path string) map[string]any {
	var s map[string]any
	switch t.Kind() {
	case reflect.Struct:
		props := map[string]any{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			props[name] = schemaOf(f.Type, strings.TrimPrefix(path+"."+name, "."))
		}
		s = map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if req := schemaRequired[path]; req != nil {
			s["required"] = req
		}
	case reflect.Slice: // null, like leaving it out, leaves it as it is
		s = map[string]any{"type": []any{"array", "null"}, "items": schemaOf(t.Elem(), path)}
	case reflect.Map:
		s = map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), path)}
	case reflect.Pointer: // an optional setting: null (or left out) leaves it as it is
		s = schemaOf(t.Elem(), path)
		s["type"] = []any{s["type"], "null"}
		return s
	case reflect.Int:
		s = map[string]any{"type": "integer", "minimum": 0}
	case reflect.String:
		s = map[string]any{"type": "string"}
		if e := schemaEnums[t]; e != nil {
			s["enum"] = e
		}
	default:
		panic("iam: no JSON Schema for " + t.String())
	}
	if d := schemaDescriptions[path]; d != "" && (t.Kind() != reflect.Struct || path == "" || path == "settings") {
		s["description"] = d
	}
	return s
}
