package generated

import (
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// An object gets a @defer group when a fragment of its selection, at any
// depth of fragments, carries @defer; not for one in a field's selection,
// which is the field's object's.
func TestNewDeferredGroup_OnlyWhereAFragmentDefers(t *testing.T) {
	for _, c := range []struct {
		name, account, fragments string
		defers                   bool
	}{
		{"no fragment", `id name`, "", false},
		{"a fragment without @defer", `id ... on Account { name }`, "", false},
		{"an inline fragment with @defer", `id ... @defer { name }`, "", true},
		{"@defer(if: false) still counts", `id ... @defer(if: false) { name }`, "", true},
		{"@defer in a nested fragment", `id ... on Account { ... @defer(label: "n") { name } }`, "", true},
		{"a spread with @defer", `id ...A @defer`, `fragment A on Account { name }`, true},
		{"@defer inside a spread fragment", `id ...A`, `fragment A on Account { ... @defer { name } }`, true},
		{"@defer in a field's own selection", `id members(first: 1) { ... @defer { totalCount } }`, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := `query { account(id: "a") { ` + c.account + ` } } ` + c.fragments
			doc, errs := gqlparser.LoadQueryWithRules(NewExecutableSchema(Config{}).Schema(), q, nil)
			if errs != nil {
				t.Fatalf("%s: %v", q, errs)
			}
			account := doc.Operations[0].SelectionSet[0].(*ast.Field)
			if got := defers(account.SelectionSet); got != c.defers {
				t.Errorf("defers = %v, want %v", got, c.defers)
			}
		})
	}
}
