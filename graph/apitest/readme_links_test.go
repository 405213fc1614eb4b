package apitest

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// The README's GraphiQL links open operations that are valid against the
// committed schema.
func TestREADME_GraphiQLLinksAreValidOperations(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../../schema/*.graphql")
	var sources []*ast.Source
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, &ast.Source{Name: f, Input: string(b)})
	}
	schema, err := gqlparser.LoadSchema(sources...)
	if err != nil {
		t.Fatal(err)
	}
	links := regexp.MustCompile(`\(http://localhost:8080/\?query=([^)\s]+)\)`).FindAllStringSubmatch(string(readme), -1)
	if len(links) < 3 {
		t.Fatalf("found %d GraphiQL links in the README", len(links))
	}
	for _, l := range links {
		q, err := url.QueryUnescape(l[1])
		if err != nil {
			t.Fatal(err)
		}
		doc, errs := gqlparser.LoadQuery(schema, q) // parses and validates
		if len(errs) > 0 || doc == nil {
			t.Errorf("%s: %v", q, errs)
		}
	}
}
