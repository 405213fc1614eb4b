package server

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// writeResponse writes the JSON that encoding/json writes for a response,
// but for the escaping of <, > and &: decoded, the two are equal.
func TestPost_WritesWhatEncodingJSONWrites(t *testing.T) {
	yes := true
	for name, resp := range map[string]*graphql.Response{
		"data":      {Data: json.RawMessage(`{"account":{"name":"<b>A & B</b>","roles":[{"key":"a"},{"key":"b"}]}}`)},
		"no data":   {},
		"null data": {Data: json.RawMessage(`null`)},
		"errors and data": {
			Errors: gqlerror.List{{Message: "role \"x\" not found", Path: ast.Path{ast.PathName("account"), ast.PathIndex(2)},
				Extensions: map[string]any{"code": "NOT_FOUND"}}},
			Data: json.RawMessage(`{"account":null}`),
		},
		"errors only": {Errors: gqlerror.List{{Message: "authentication required", Extensions: map[string]any{"code": "UNAUTHENTICATED"}}}},
		"every member": {
			Data: json.RawMessage(`{"a":1}`), Label: "l", Path: ast.Path{ast.PathName("a")}, HasNext: &yes,
			Extensions: map[string]any{"cost": map[string]any{"complexity": 12}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			want, err := json.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			if !writeResponse(w, resp) {
				t.Fatal("writeResponse wrote nothing")
			}
			var got, exp any
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("%s: %v", w.Body, err)
			}
			if err := json.Unmarshal(want, &exp); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, exp) {
				t.Fatalf("wrote %s\nencoding/json writes %s", w.Body, want)
			}
		})
	}
}

// A response whose members encoding/json cannot marshal is left to gqlgen.
func TestPost_LeavesToGqlgenWhatItCannotWrite(t *testing.T) {
	w := httptest.NewRecorder()
	if writeResponse(w, &graphql.Response{Data: json.RawMessage(`{}`), Extensions: map[string]any{"f": func() {}}}) || w.Body.Len() != 0 {
		t.Fatalf("wrote %q", w.Body)
	}
}
