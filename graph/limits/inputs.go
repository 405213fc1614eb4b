package limits

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Input values: every argument of every field an operation selects — its
// literals and its variables, through input objects, lists and JSON (Map)
// values — is checked against the limits below before any resolver runs, so
// that no command, and no SQL, ever sees a value over them:
//
//   - strings: at most the length of their kind (inputrules.go), counted in
//     characters; no NUL or other control character (names allow none;
//     descriptions and reasons allow newlines and tabs); no U+FFFD, which is
//     what invalid UTF-8 decodes to; ids are never empty;
//   - lists: at most MaxInputItems items (JSON arrays in Map values too);
//   - nesting: input objects (and JSON objects) at most MaxInputNesting deep;
//   - Int: a signed 32-bit integer, as GraphQL defines it;
//   - custom scalars: a Map is a JSON object, a Time or Cursor a string.
//
// The first value over a limit, in the order of the document and of the
// schema's fields, refuses the operation: BAD_USER_INPUT with
// extensions.field (the value's path under the field's arguments, e.g.
// `input.grants[3]`), extensions.limit ("length", "characters", "items",
// "nesting", "range" or "type"), and for counts extensions.max and
// extensions.actual. Errors name the value's place, never the value.

// inputChecker walks the argument values of one operation.
type inputChecker struct {
	schema    *ast.Schema
	cfg       Config
	vars      map[string]any
	doc       *ast.QueryDocument
	fragments map[string]bool // fragments already checked
	err       *gqlerror.Error
}

// checkInputs returns the first input value of rc's operation over a limit.
func (e *limiter) checkInputs(doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) *gqlerror.Error {
	if e.schema == nil || op == nil {
		return nil
	}
	c := &inputChecker{schema: e.schema, cfg: e.cfg, vars: vars, doc: doc, fragments: map[string]bool{}}
	c.selectionSet(op.SelectionSet, nil)
	return c.err
}

func (c *inputChecker) selectionSet(set ast.SelectionSet, at ast.Path) {
	for _, sel := range set {
		if c.err != nil {
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			here := append(slices.Clip(at), ast.PathName(s.Alias))
			c.field(s, here)
			c.selectionSet(s.SelectionSet, here)
		case *ast.InlineFragment:
			c.selectionSet(s.SelectionSet, at)
		case *ast.FragmentSpread:
			// A fragment's arguments are the same wherever it is spread.
			if def := c.doc.Fragments.ForName(s.Name); def != nil && !c.fragments[s.Name] {
				c.fragments[s.Name] = true
				c.selectionSet(def.SelectionSet, at)
			}
		}
	}
}

func (c *inputChecker) field(f *ast.Field, at ast.Path) {
	if f.Definition == nil {
		return
	}
	for _, a := range f.Arguments {
		def := f.Definition.Arguments.ForName(a.Name)
		if def == nil {
			continue
		}
		v, err := a.Value.Value(c.vars)
		if err != nil {
			continue // a literal that does not parse: validation reports it
		}
		c.value(v, def.Type, "", a.Name, a.Name, 0, at)
		if c.err != nil {
			return
		}
	}
}

// value checks v, given as field name of input type parent ("" for an
// argument), of GraphQL type t, at path.
func (c *inputChecker) value(v any, t *ast.Type, parent, name, path string, depth int, at ast.Path) {
	if v == nil || c.err != nil {
		return
	}
	if t.Elem != nil {
		list, ok := v.([]any)
		if !ok { // a single value given for a list (input coercion)
			c.value(v, t.Elem, parent, name, path, depth, at)
			return
		}
		if len(list) > c.cfg.MaxInputItems {
			c.refuse(at, path, "items", fmt.Sprintf("%s has %d items; lists are limited to %d items", path, len(list), c.cfg.MaxInputItems),
				c.cfg.MaxInputItems, len(list))
			return
		}
		for i, item := range list {
			c.value(item, t.Elem, parent, name, path+"["+strconv.Itoa(i)+"]", depth, at)
		}
		return
	}
	def := c.schema.Types[t.NamedType]
	if def == nil {
		return
	}
	switch def.Kind {
	case ast.InputObject:
		obj, ok := v.(map[string]any)
		if !ok {
			return // validation refuses it
		}
		if depth+1 > c.cfg.MaxInputNesting {
			c.refuse(at, path, "nesting", fmt.Sprintf("%s nests input objects more than %d deep", path, c.cfg.MaxInputNesting),
				c.cfg.MaxInputNesting, depth+1)
			return
		}
		for _, fd := range def.Fields {
			if fv, ok := obj[fd.Name]; ok {
				c.value(fv, fd.Type, def.Name, fd.Name, path+"."+fd.Name, depth+1, at)
			}
		}
	case ast.Scalar:
		c.scalar(v, def.Name, parent, name, path, depth, at)
	}
}

func (c *inputChecker) scalar(v any, scalar, parent, name, path string, depth int, at ast.Path) {
	switch scalar {
	case "Int":
		if n, ok := intValue(v); !ok || n < math.MinInt32 || n > math.MaxInt32 {
			c.refuse(at, path, "range", fmt.Sprintf("%s is not a 32-bit signed integer (GraphQL's Int)", path), nil, nil)
		}
		return
	case "Boolean", "Float":
		return
	case "Map":
		obj, ok := v.(map[string]any)
		if !ok {
			c.refuse(at, path, "type", fmt.Sprintf("%s must be a JSON object", path), nil, nil)
			return
		}
		c.json(obj, name, path, depth, at)
		return
	}
	s, ok := v.(string)
	if !ok {
		c.refuse(at, path, "type", fmt.Sprintf("%s must be a string", path), nil, nil)
		return
	}
	c.str(s, ruleFor(parent, name, scalar), path, at)
}

// json checks a JSON value given as key (the nearest object key above it).
func (c *inputChecker) json(v any, key, path string, depth int, at ast.Path) {
	if c.err != nil {
		return
	}
	switch x := v.(type) {
	case string:
		c.str(x, ruleFor("", key, "String"), path, at)
	case []any:
		if len(x) > c.cfg.MaxInputItems {
			c.refuse(at, path, "items", fmt.Sprintf("%s has %d items; lists are limited to %d items", path, len(x), c.cfg.MaxInputItems),
				c.cfg.MaxInputItems, len(x))
			return
		}
		for i, item := range x {
			c.json(item, key, path+"["+strconv.Itoa(i)+"]", depth, at)
		}
	case map[string]any:
		if depth+1 > c.cfg.MaxInputNesting {
			c.refuse(at, path, "nesting", fmt.Sprintf("%s nests JSON objects more than %d deep", path, c.cfg.MaxInputNesting),
				c.cfg.MaxInputNesting, depth+1)
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if c.str(k, keyRule, path+" (a key)", at); c.err != nil {
				return
			}
			c.json(x[k], k, path+member(k), depth+1, at)
		}
	}
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// member is the path step to a JSON object's key.
func member(k string) string {
	if identifier.MatchString(k) {
		return "." + k
	}
	return "[" + strconv.Quote(k) + "]"
}

// str checks one string against r.
func (c *inputChecker) str(s string, r stringRule, path string, at ast.Path) {
	if c.err != nil {
		return
	}
	if len(s) > r.max { // bytes ≥ characters: count only when it may matter
		if n := utf8.RuneCountInString(s); n > r.max {
			c.refuse(at, path, "length", fmt.Sprintf("%s is %d characters long; %s are limited to %d characters", path, n, r.what, r.max), r.max, n)
			return
		}
	}
	if s == "" && r.minOne {
		c.refuse(at, path, "length", fmt.Sprintf("%s is empty; %s are 1 to %d characters", path, r.what, r.max), r.max, 0)
		return
	}
	pos := 0
	for _, ch := range s {
		pos++
		switch {
		case ch == utf8.RuneError:
			c.refuse(at, path, "characters", fmt.Sprintf("%s is not valid UTF-8 (character %d is U+FFFD, the replacement for invalid bytes)", path, pos), nil, nil)
			return
		case r.multiline && (ch == '\n' || ch == '\r' || ch == '\t'):
		case ch < 0x20 || ch >= 0x7f && ch < 0xa0:
			allowed := "no control characters"
			if r.multiline {
				allowed = "no control characters but newlines and tabs"
			}
			c.refuse(at, path, "characters", fmt.Sprintf("%s contains the control character U+%04X (character %d); %s allow %s", path, ch, pos, r.what, allowed), nil, nil)
			return
		}
	}
}

// refuse records the first refusal. max and actual are omitted when nil.
func (c *inputChecker) refuse(at ast.Path, path, limit, msg string, max, actual any) {
	if c.err != nil {
		return
	}
	ext := map[string]any{"code": "BAD_USER_INPUT", "field": path, "limit": limit}
	if max != nil {
		ext["max"], ext["actual"] = max, actual
	}
	c.err = &gqlerror.Error{Message: msg, Path: slices.Clone(at), Extensions: ext}
}

// intValue reads an Int argument as variables (json.Number) and literals
// (int64) give it.
func intValue(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		if strings.ContainsAny(string(n), ".eE") {
			f, err := n.Float64()
			if err != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32+1 {
				return 0, false
			}
			return int64(f), true
		}
		i, err := n.Int64()
		return i, err == nil
	}
	return toInt(v)
}
