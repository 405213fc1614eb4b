package graphiql

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// GraphiQL must work with no internet: every asset the page loads is served
// from our own origin and matches the page's integrity hash.
func TestGraphiQLIsSelfContained(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", Handler("Gatehouse", "/graphql", "/graphiql/"))
	mux.Handle("GET /graphiql/", Assets("/graphiql/"))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	page := get(t, srv.URL+"/")
	if strings.Contains(page, "https://") || strings.Contains(page, "http://") {
		t.Fatalf("the page loads something from another origin:\n%s", page)
	}
	tags := regexp.MustCompile(`(?s)(?:src|href)="([^"]+)"\s+integrity="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(tags) != 4 {
		t.Fatalf("want 4 assets with integrity hashes, found %d", len(tags))
	}
	for _, tag := range tags {
		body := get(t, srv.URL+tag[1])
		sum := sha256.Sum256([]byte(body))
		if got := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); got != html.UnescapeString(tag[2]) {
			t.Errorf("%s: integrity %s, page expects %s", tag[1], got, tag[2])
		}
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, res.StatusCode)
	}
	b, _ := io.ReadAll(res.Body)
	return string(b)
}
