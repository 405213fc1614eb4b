package graphiql

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/playground"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", Handler("Gatehouse", "/graphql", "/graphiql/"))
	mux.Handle("GET /graphiql/", Assets("/graphiql/"))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// get fetches url without the transport's transparent gzip, with the
// request headers given as name, value pairs.
func get(t *testing.T, url string, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "identity")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

// sri computes a subresource-integrity value with integrity's algorithm.
func sri(t *testing.T, integrity string, b []byte) string {
	t.Helper()
	alg, _, _ := strings.Cut(integrity, "-")
	switch alg {
	case "sha256":
		s := sha256.Sum256(b)
		return "sha256-" + base64.StdEncoding.EncodeToString(s[:])
	case "sha384":
		s := sha512.Sum384(b)
		return "sha384-" + base64.StdEncoding.EncodeToString(s[:])
	case "sha512":
		s := sha512.Sum512(b)
		return "sha512-" + base64.StdEncoding.EncodeToString(s[:])
	}
	t.Fatalf("unknown integrity algorithm in %q", integrity)
	return ""
}

var (
	// every src= or href= attribute, and the tag it is in.
	tagRE       = regexp.MustCompile(`(?s)<(script|link)\b[^>]*>`)
	attrRE      = regexp.MustCompile(`\b(src|href|integrity)="([^"]*)"`)
	anyURLAttrR = regexp.MustCompile(`\b(?:src|href|action|srcset|poster|data)\s*=\s*["']?([^"'\s>]+)`)
)

type ref struct{ url, integrity string }

// refs lists the scripts and stylesheets a page loads.
func refs(t *testing.T, page string) []ref {
	t.Helper()
	var out []ref
	for _, tag := range tagRE.FindAllString(page, -1) {
		var r ref
		for _, a := range attrRE.FindAllStringSubmatch(tag, -1) {
			switch a[1] {
			case "src", "href":
				r.url = html.UnescapeString(a[2])
			case "integrity":
				r.integrity = html.UnescapeString(a[2])
			}
		}
		if r.url != "" {
			out = append(out, r)
		}
	}
	return out
}

// GraphiQL must work with no internet: the page loads only same-origin
// URLs, and each is served with 200 and the bytes its integrity attribute
// expects.
func TestPage_LoadsOnlySameOriginAssetsThatMatchTheirIntegrity(t *testing.T) {
	srv := newServer(t)
	res := get(t, srv.URL+"/")
	if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", res.status, res.header.Get("Content-Type"))
	}
	page := string(res.body)
	for _, m := range anyURLAttrR.FindAllStringSubmatch(page, -1) {
		if u := html.UnescapeString(m[1]); !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") {
			t.Errorf("the page references a URL that is not same-origin: %q", u)
		}
	}
	for _, scheme := range []string{"https://", "http://", "//cdn", "jsdelivr", "unpkg"} {
		if strings.Contains(page, scheme) {
			t.Errorf("the page mentions %q:\n%s", scheme, page)
		}
	}

	loaded := refs(t, page)
	if len(loaded) != 6 {
		t.Fatalf("want the 6 scripts and stylesheets of gqlgen's page (React, ReactDOM, GraphiQL and its Explorer plugin, JS and CSS), found %v", loaded)
	}
	for _, r := range loaded {
		if r.integrity == "" {
			t.Errorf("%s has no integrity attribute", r.url)
			continue
		}
		if !strings.HasPrefix(r.url, "/graphiql/") {
			t.Errorf("%s is not under the assets prefix", r.url)
		}
		a := get(t, srv.URL+r.url)
		if a.status != http.StatusOK {
			t.Errorf("GET %s: %d", r.url, a.status)
			continue
		}
		if got := sri(t, r.integrity, a.body); got != r.integrity {
			t.Errorf("%s: the served bytes hash to %s, the page expects %s", r.url, got, r.integrity)
		}
	}
}

// The embedded files are the ones gqlgen v0.17.98's own page pins: its
// default (CDN) page carries exactly the integrity values ours does.
func TestAssets_AreTheFilesGqlgenPins(t *testing.T) {
	rec := httptest.NewRecorder()
	playground.Handler("x", "/graphql", playground.WithGraphiqlEnablePluginExplorer(true)).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	pinned := map[string]string{} // file name → integrity
	for _, r := range refs(t, rec.Body.String()) {
		pinned[r.url[strings.LastIndex(r.url, "/")+1:]] = r.integrity
	}
	want := map[string]string{
		"graphiql.min.js":             graphiqlJS.name,
		"graphiql.min.css":            graphiqlCSS.name,
		"react.production.min.js":     react.name,
		"react-dom.production.min.js": reactDOM.name,
		"index.umd.js":                explorerJS.name,
	}
	// gqlgen pins a CDN-minified copy of the plugin's stylesheet, which npm
	// does not ship: we embed the package's own, under its own hash.
	delete(pinned, "style.min.css")
	if len(pinned) != len(want) {
		t.Fatalf("gqlgen's page loads %v; this package embeds %v", pinned, want)
	}
	for cdnName, ours := range want {
		a := assets[ours]
		if pinned[cdnName] == "" || pinned[cdnName] != a.sri {
			t.Errorf("%s: gqlgen pins %q, we use %q", cdnName, pinned[cdnName], a.sri)
		}
		if got := sri(t, a.sri, a.body); got != a.sri {
			t.Errorf("%s hashes to %s, not %s", ours, got, a.sri)
		}
	}
}

func TestAssets_HaveContentTypesAndLongCaching(t *testing.T) {
	srv := newServer(t)
	for name, ct := range map[string]string{
		graphiqlJS.name:  "text/javascript; charset=utf-8",
		graphiqlCSS.name: "text/css; charset=utf-8",
		react.name:       "text/javascript; charset=utf-8",
		reactDOM.name:    "text/javascript; charset=utf-8",
		explorerJS.name:  "text/javascript; charset=utf-8",
		explorerCSS.name: "text/css; charset=utf-8",
	} {
		res := get(t, srv.URL+"/graphiql/"+name)
		if res.status != http.StatusOK {
			t.Fatalf("%s: %d", name, res.status)
		}
		if got := res.header.Get("Content-Type"); got != ct {
			t.Errorf("%s: Content-Type %q, want %q", name, got, ct)
		}
		if got := res.header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", name, got)
		}
		if res.header.Get("X-Content-Type-Options") != "nosniff" || res.header.Get("ETag") == "" {
			t.Errorf("%s: headers %v", name, res.header)
		}
		if res.header.Get("Content-Encoding") != "" {
			t.Errorf("%s: encoded although the client asked for identity", name)
		}
	}
}

func TestAssets_AnswerConditionalRequestsWith304(t *testing.T) {
	srv := newServer(t)
	url := srv.URL + "/graphiql/" + graphiqlJS.name
	etag := get(t, url).header.Get("ETag")
	if res := get(t, url, "If-None-Match", etag); res.status != http.StatusNotModified || len(res.body) != 0 {
		t.Fatalf("If-None-Match %s: %d, %d bytes", etag, res.status, len(res.body))
	}
}

func TestAssets_AreGzippedForClientsThatAcceptIt(t *testing.T) {
	srv := newServer(t)
	for _, a := range []*asset{graphiqlJS, graphiqlCSS, react, reactDOM, explorerJS} {
		res := get(t, srv.URL+"/graphiql/"+a.name, "Accept-Encoding", "br, gzip;q=0.8")
		if res.header.Get("Content-Encoding") != "gzip" || res.header.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("%s: not gzipped: %v", a.name, res.header)
		}
		zr, err := gzip.NewReader(bytes.NewReader(res.body))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(plain, a.body) {
			t.Fatalf("%s: gzip body does not decode to the file (%v)", a.name, err)
		}
		if res.header.Get("ETag") == get(t, srv.URL+"/graphiql/"+a.name).header.Get("ETag") {
			t.Errorf("%s: the gzip and identity representations share an ETag", a.name)
		}
	}
	if res := get(t, srv.URL+"/graphiql/"+graphiqlJS.name, "Accept-Encoding", "gzip;q=0"); res.header.Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 got gzip")
	}
}

func TestAssets_OnlyTheEmbeddedFilesAreServed(t *testing.T) {
	srv := newServer(t)
	for _, path := range []string{
		"/graphiql/", "/graphiql/nope.js", "/graphiql/LICENSE.react", "/graphiql/graphiql.min.js",
		"/graphiql/../graphiql/" + graphiqlJS.name + "x", "/graphiql/assets/" + graphiqlJS.name,
	} {
		res := get(t, srv.URL+path)
		if res.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, res.status)
		}
		if strings.Contains(res.header.Get("Cache-Control"), "immutable") {
			t.Errorf("GET %s: a 404 is cached for a year", path)
		}
	}
}

func TestHandler_AssetsPrefixWithoutTrailingSlashWorks(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", Handler("Gatehouse", "/graphql", "/static/gql"))
	mux.Handle("GET /static/gql/", Assets("/static/gql"))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	loaded := refs(t, string(get(t, srv.URL+"/").body))
	if len(loaded) != 6 {
		t.Fatalf("refs: %v", loaded)
	}
	for _, r := range loaded {
		if !strings.HasPrefix(r.url, "/static/gql/") {
			t.Errorf("%s is not under /static/gql/", r.url)
		}
		if res := get(t, srv.URL+r.url); res.status != http.StatusOK {
			t.Errorf("GET %s: %d", r.url, res.status)
		}
	}
}

func TestHandler_PageTargetsTheEndpointAndTitle(t *testing.T) {
	page := string(get(t, newServer(t).URL+"/").body)
	if !strings.Contains(page, "<title>Gatehouse</title>") || !strings.Contains(page, `location.host + "/graphql"`) {
		t.Fatalf("page:\n%s", page)
	}
	// Subscriptions: GraphiQL's fetcher gets the WebSocket URL of the same
	// endpoint; the Explorer plugin is on; a link's ?query= opens it.
	for _, want := range []string{
		`const subscriptionUrl = wsProto + '//' + location.host + "/graphql"`,
		"GraphiQL.createFetcher({ url, subscriptionUrl",
		"plugins.push(GraphiQLPluginExplorer.explorerPlugin())",
		"query: parameters.query",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// The UMD builds expose what the page calls.
	for a, names := range map[*asset][]string{
		graphiqlJS: {"createFetcher", "graphql-transport-ws"},
		explorerJS: {"GraphiQLPluginExplorer", "explorerPlugin"},
	} {
		for _, n := range names {
			if !bytes.Contains(a.body, []byte(n)) {
				t.Errorf("%s does not contain %q", a.name, n)
			}
		}
	}
}

// Credentials typed into GraphiQL's header editor stay out of the
// browser's storage unless the user opts in: the page never tells GraphiQL
// to persist headers by itself (gqlgen's page says shouldPersistHeaders:
// true), reads the choice from GraphiQL's own stored switch, shows the
// switch in the settings, and gives GraphiQL a storage that drops headers
// from what it writes unless the switch is on. (The browser test proves the
// behaviour where Chromium is installed; this pins the settings.)
func TestPage_KeepsHeadersOutOfStorageUnlessTheUserOptsIn(t *testing.T) {
	page := string(get(t, newServer(t).URL+"/").body)
	for _, want := range []string{
		`const persistKey = 'graphiql:shouldPersistHeaders';`,
		`return localStorage.getItem(persistKey) === 'true';`,
		`setItem: (k, v) => localStorage.setItem(k, persistHeaders() ? v : withoutHeaders(k, v)),`,
		`storage: storage,`,
		`shouldPersistHeaders: persistHeaders(),`,
		`showPersistHeadersSettings: true,`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := strings.Count(page, "shouldPersistHeaders:"); n != 1 {
		t.Errorf("shouldPersistHeaders is set %d times", n)
	}
	// The switch's key is GraphiQL's: its storage namespace and the key it
	// keeps the choice under, as the embedded release spells them.
	js := string(graphiqlJS.body)
	for _, want := range []string{`="shouldPersistHeaders"`, `const Os="graphiql"`, `showPersistHeadersSettings`} {
		if !strings.Contains(js, want) {
			t.Errorf("graphiql %s does not contain %s: the page's storage key may be wrong", graphiqlJS.name, want)
		}
	}
}

// Links open example operations, so the page keeps its query, variables and
// operation name in the URL — but not its headers, where credentials go: a
// URL lands in history, proxy logs and Referer headers. (gqlgen's page,
// with WithGraphiqlPersistStateInURL, puts the headers there too.) The
// browser test proves the behaviour where Chromium is installed.
func TestPage_KeepsHeadersOutOfTheURL(t *testing.T) {
	page := string(get(t, newServer(t).URL+"/").body)
	for _, want := range []string{
		`for (const key of ['query', 'variables', 'operationName'])`,
		`history.replaceState(`,
		`onEditQuery: onEditQuery,`,
		`onEditVariables: onEditVariables,`,
		`onEditOperationName: onEditOperationName,`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, banned := range []string{"parameters.headers", "onEditHeaders", "headers: parameters"} {
		if strings.Contains(page, banned) {
			t.Errorf("the page contains %q", banned)
		}
	}
}
