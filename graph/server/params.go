package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/gatehouse-iam/gatehouse/graph/auth"
)

// The shape of a GraphQL request. gqlgen's own answers to a malformed one
// carry no code, name Go types ("cannot unmarshal array into Go value of
// type graphql.RawParams") and echo the whole body: a batch (a JSON array)
// and a body that is not an object are answered here, before gqlgen, and
// its decoding errors get one message in the presenter (decodeProblem).

// paramsProblem says what is wrong with a POST body's outline, or "" when it
// is a JSON object (gqlgen decodes the rest). It reads only the first byte:
// this runs on every request.
func paramsProblem(body []byte) string {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		return "batched requests (a JSON array of operations) are not supported: send one operation per request"
	case len(trimmed) == 0 || trimmed[0] != '{':
		return "the request body must be a JSON object: {\"query\": …, \"variables\": {…}}"
	}
	return ""
}

// decodeProblem is the message for a body gqlgen could not decode.
const decodeProblem = "the request body must be one GraphQL request: a JSON object whose `query` and `operationName` are strings and whose `variables` and `extensions` are JSON objects"

// isDecodeError reports gqlgen's refusal of a body it could not decode.
func isDecodeError(msg string) bool {
	return strings.HasPrefix(msg, "json request body could not be decoded")
}

// getOnlyQueries answers a GET request for a mutation (or subscription) with
// HTTP 405 and `Allow: POST`: GET requests must be safe (SPEC §11), and a
// link or an image tag must never change anything. Its query string must
// parse, and its variables and extensions be JSON objects, as in a POST body.
func getOnlyQueries(tokens int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			next.ServeHTTP(w, r)
			return
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			auth.WriteError(w, http.StatusBadRequest, "BAD_USER_INPUT", "the query string is malformed (an invalid %-escape)")
			return
		}
		for _, name := range []string{"variables", "extensions"} {
			if v := q.Get(name); v != "" {
				var obj map[string]any
				if json.Unmarshal([]byte(v), &obj) != nil {
					auth.WriteError(w, http.StatusBadRequest, "BAD_USER_INPUT", "`"+name+"` must be a JSON object")
					return
				}
			}
		}
		if op := operationType(q.Get("query"), q.Get("operationName"), tokens); op != "" && op != ast.Query {
			w.Header().Set("Allow", http.MethodPost)
			auth.WriteError(w, http.StatusMethodNotAllowed, "BAD_USER_INPUT",
				"a "+string(op)+" must be sent with POST; GET requests may only query")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// operationType is the type of the operation query selects by name, or ""
// when query does not parse or has no such operation (gqlgen says so).
func operationType(query, name string, tokens int) ast.Operation {
	if query == "" {
		return ""
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, tokens)
	if err != nil {
		return ""
	}
	if op := doc.Operations.ForName(name); op != nil {
		return op.Operation
	}
	return ""
}
