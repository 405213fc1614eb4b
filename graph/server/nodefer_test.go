package server

import (
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// withoutDefer copies what it changes: the cached document still defers, the
// copy defers nowhere, keeps every other directive, and its spreads point to
// its own fragments.
func TestWithoutDefer_CopiesTheOperationAndItsFragments(t *testing.T) {
	const q = `query A { a { ... @defer(label: "x") @include(if: true) { b } ...F @defer c { ...G } } }
		query B { z }
		fragment F on T { d ... on U @defer { e } }
		fragment G on T { f @skip(if: false) }`
	doc, err := parser.ParseQuery(&ast.Source{Input: q})
	if err != nil {
		t.Fatal(err)
	}
	if !docDefers(doc) {
		t.Fatal("docDefers: the document defers")
	}
	op := doc.Operations.ForName("A")
	copied, cop := withoutDefer(doc, op)
	if docDefers(copied) {
		t.Fatal("the copy still defers")
	}
	if !docDefers(doc) || !defers(op.SelectionSet) {
		t.Fatal("the cached document was changed")
	}
	if copied.Operations.ForName("A") != cop || copied.Operations.ForName("B") != doc.Operations.ForName("B") || cop == op {
		t.Fatalf("operations: %v", copied.Operations)
	}
	inline := cop.SelectionSet[0].(*ast.Field).SelectionSet[0].(*ast.InlineFragment)
	if len(inline.Directives) != 1 || inline.Directives[0].Name != "include" {
		t.Fatalf("the inline fragment's other directives: %v", inline.Directives)
	}
	spread := cop.SelectionSet[0].(*ast.Field).SelectionSet[1].(*ast.FragmentSpread)
	if spread.Definition != copied.Fragments.ForName("F") || spread.Definition == doc.Fragments.ForName("F") {
		t.Fatal("the spread points to the cached fragment")
	}
	g := copied.Fragments.ForName("G").SelectionSet[0].(*ast.Field)
	if len(g.Directives) != 1 || g.Directives[0].Name != "skip" {
		t.Fatalf("a field's directives: %v", g.Directives)
	}
	if plain, _ := parser.ParseQuery(&ast.Source{Input: `{ a { ...F } } fragment F on T { b }`}); docDefers(plain) {
		t.Fatal("docDefers: nothing defers")
	}
}
