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

// inputChecker walks the argument values of one operation. The place of
// the value being checked is kept as a stack and rendered only for a
// refusal: checking values within the limits builds no strings.
type inputChecker struct {
	schema    *ast.Schema
	cfg       Config
	vars      map[string]any
	doc       *ast.QueryDocument
	fragments map[string]bool // fragments already checked
	at        ast.Path        // the field whose arguments are checked, by alias
	steps     []seg           // the value's place under the field's arguments
	err       *gqlerror.Error
}

// seg is one step of a value's place: an argument or input field (name),
// a list index (name ""), a JSON object's key (index jsonKey), or the key
// itself (index keyItself).
type seg struct {
	name  string
	index int
}

const (
	jsonKey   = -1
	keyItself = -2
)

// place renders the value's place: input.grants[3], input.document["a b"].
func (c *inputChecker) place() string {
	var b strings.Builder
	for i, s := range c.steps {
		switch {
		case s.name == "":
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		case s.index == keyItself:
			b.WriteString(" (a key)")
		case s.index == jsonKey:
			if identifier.MatchString(s.name) {
				b.WriteString("." + s.name)
			} else {
				b.WriteString("[" + strconv.Quote(s.name) + "]")
			}
		case i > 0:
			b.WriteString("." + s.name)
		default:
			b.WriteString(s.name)
		}
	}
	return b.String()
}

func (c *inputChecker) push(s seg) { c.steps = append(c.steps, s) }
func (c *inputChecker) pop()       { c.steps = c.steps[:len(c.steps)-1] }

// checkInputs returns the first input value of op over a limit.
func (e *limiter) checkInputs(doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) *gqlerror.Error {
	if e.schema == nil || op == nil {
		return nil
	}
	c := &inputChecker{schema: e.schema, cfg: e.cfg, vars: vars, doc: doc,
		at: make(ast.Path, 0, 8), steps: make([]seg, 0, 8)}
	c.selectionSet(op.SelectionSet)
	return c.err
}

func (c *inputChecker) selectionSet(set ast.SelectionSet) {
	for _, sel := range set {
		if c.err != nil {
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			c.at = append(c.at, ast.PathName(s.Alias))
			c.field(s)
			c.selectionSet(s.SelectionSet)
			c.at = c.at[:len(c.at)-1]
		case *ast.InlineFragment:
			c.selectionSet(s.SelectionSet)
		case *ast.FragmentSpread:
			// A fragment's arguments are the same wherever it is spread.
			if def := c.doc.Fragments.ForName(s.Name); def != nil && !c.fragments[s.Name] {
				if c.fragments == nil {
					c.fragments = map[string]bool{}
				}
				c.fragments[s.Name] = true
				c.selectionSet(def.SelectionSet)
			}
		}
	}
}

func (c *inputChecker) field(f *ast.Field) {
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
		c.push(seg{name: a.Name})
		c.value(v, def.Type, "", a.Name, 0)
		c.pop()
		if c.err != nil {
			return
		}
	}
}

// value checks v, given as field name of input type parent ("" for an
// argument), of GraphQL type t, depth input objects deep.
func (c *inputChecker) value(v any, t *ast.Type, parent, name string, depth int) {
	if v == nil || c.err != nil {
		return
	}
	if t.Elem != nil {
		list, ok := v.([]any)
		if !ok { // a single value given for a list (input coercion)
			c.value(v, t.Elem, parent, name, depth)
			return
		}
		if !c.items(len(list)) {
			return
		}
		for i, item := range list {
			c.push(seg{index: i})
			c.value(item, t.Elem, parent, name, depth)
			c.pop()
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
		if !ok || !c.nesting(depth+1, "input objects") {
			return // not an object: validation refuses it
		}
		for _, fd := range def.Fields {
			if fv, ok := obj[fd.Name]; ok {
				c.push(seg{name: fd.Name})
				c.value(fv, fd.Type, def.Name, fd.Name, depth+1)
				c.pop()
			}
		}
	case ast.Scalar:
		c.scalar(v, def.Name, parent, name, depth)
	}
}

func (c *inputChecker) scalar(v any, scalar, parent, name string, depth int) {
	switch scalar {
	case "Int":
		if n, ok := intValue(v); !ok || n < math.MinInt32 || n > math.MaxInt32 {
			c.refuse("range", "%s is not a 32-bit signed integer (GraphQL's Int)", nil, nil)
		}
		return
	case "Boolean", "Float":
		return
	case "Map":
		obj, ok := v.(map[string]any)
		if !ok {
			c.refuse("type", "%s must be a JSON object", nil, nil)
			return
		}
		c.json(obj, name, depth)
		return
	}
	s, ok := v.(string)
	if !ok {
		c.refuse("type", "%s must be a string", nil, nil)
		return
	}
	c.str(s, ruleFor(parent, name, scalar))
}

// json checks a JSON value given as key (the nearest object key above it).
func (c *inputChecker) json(v any, key string, depth int) {
	if c.err != nil {
		return
	}
	switch x := v.(type) {
	case string:
		c.str(x, ruleFor("", key, "String"))
	case []any:
		if !c.items(len(x)) {
			return
		}
		for i, item := range x {
			c.push(seg{index: i})
			c.json(item, key, depth)
			c.pop()
		}
	case map[string]any:
		if !c.nesting(depth+1, "JSON objects") {
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if c.key(k); c.err != nil {
				return
			}
			c.push(seg{name: k, index: jsonKey})
			c.json(x[k], k, depth+1)
			c.pop()
		}
	}
}

// key checks a JSON object's key, at the object's place.
func (c *inputChecker) key(k string) {
	c.push(seg{name: "key", index: keyItself})
	c.str(k, keyRule)
	c.pop()
}

func (c *inputChecker) items(n int) bool {
	if n <= c.cfg.MaxInputItems {
		return true
	}
	c.refuse("items", "%s has "+strconv.Itoa(n)+" items; lists are limited to "+strconv.Itoa(c.cfg.MaxInputItems)+" items", c.cfg.MaxInputItems, n)
	return false
}

func (c *inputChecker) nesting(depth int, what string) bool {
	if depth <= c.cfg.MaxInputNesting {
		return true
	}
	c.refuse("nesting", "%s nests "+what+" more than "+strconv.Itoa(c.cfg.MaxInputNesting)+" deep", c.cfg.MaxInputNesting, depth)
	return false
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// str checks one string against r.
func (c *inputChecker) str(s string, r stringRule) {
	if c.err != nil {
		return
	}
	if len(s) > r.max { // bytes ≥ characters: count only when it may matter
		if n := utf8.RuneCountInString(s); n > r.max {
			c.refuse("length", fmt.Sprintf("%%s is %d characters long; %s are limited to %d characters", n, r.what, r.max), r.max, n)
			return
		}
	}
	if s == "" && r.minOne {
		c.refuse("length", fmt.Sprintf("%%s is empty; %s are 1 to %d characters", r.what, r.max), r.max, 0)
		return
	}
	pos := 0
	for _, ch := range s {
		pos++
		switch {
		case ch == utf8.RuneError:
			c.refuse("characters", fmt.Sprintf("%%s is not valid UTF-8 (character %d is U+FFFD, the replacement for invalid bytes)", pos), nil, nil)
			return
		case r.multiline && (ch == '\n' || ch == '\r' || ch == '\t'):
		case ch < 0x20 || ch >= 0x7f && ch < 0xa0:
			allowed := "no control characters"
			if r.multiline {
				allowed = "no control characters but newlines and tabs"
			}
			c.refuse("characters", fmt.Sprintf("%%s contains the control character U+%04X (character %d); %s allow %s", ch, pos, r.what, allowed), nil, nil)
			return
		}
	}
}

// refuse records the first refusal; format's %s is the value's place. max
// and actual are omitted when nil.
func (c *inputChecker) refuse(limit, format string, max, actual any) {
	if c.err != nil {
		return
	}
	place := c.place()
	ext := map[string]any{"code": "BAD_USER_INPUT", "field": place, "limit": limit}
	if max != nil {
		ext["max"], ext["actual"] = max, actual
	}
	c.err = &gqlerror.Error{Message: fmt.Sprintf(format, place), Path: slices.Clone(c.at), Extensions: ext}
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
