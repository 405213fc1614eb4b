package apitest

import (
	"net/http"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// §11: a browser that opens /graphql (GET, no query) is sent to GraphiQL;
// other clients get the GraphQL-over-HTTP answer as before.
func TestGraphiQL_BrowsingTheEndpointOpensGraphiQL(t *testing.T) {
	e := newEnv(t, dialect.SQLite, server.Config{})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/graphql", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "./" {
		t.Fatalf("a browser's GET /graphql: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	page := e.get("/")
	if page.Status != http.StatusOK {
		t.Fatalf("GraphiQL: %s", page)
	}
	req, _ = http.NewRequest(http.MethodGet, e.URL+"/graphql", nil)
	req.Header.Set("Accept", "application/json")
	if r := e.send(req); r.Status == http.StatusSeeOther || r.Status == http.StatusOK {
		t.Fatalf("a client's GET /graphql without a query: %s", r)
	}
}
