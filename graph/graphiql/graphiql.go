// Package graphiql serves GraphiQL with its assets embedded, so that it works
// with no internet (many customer networks cannot reach a CDN).
//
// The page is gqlgen's (playground.Handler; see page.go) pointed at
// same-origin URLs, keeping credentials out of the URL, and out of the
// browser's storage unless the user opts in. The
// embedded files are the npm releases whose hashes gqlgen v0.17.98's page pins
// in its integrity attributes — graphiql@4.1.2 graphiql.min.js and
// graphiql.min.css, react@18.2.0 and react-dom@18.2.0
// umd/*.production.min.js — byte for byte, so the browser's subresource
// integrity check holds. The Explorer plugin (@graphiql/plugin-explorer@4.0.6,
// which gqlgen's page can load) is on: its UMD script is the file gqlgen pins;
// its stylesheet is the package's own dist/style.css (gqlgen pins a CDN-minified
// copy), with its own integrity value. Nothing else is loaded. GraphiQL's
// fetcher speaks graphql-transport-ws to the same /graphql for subscriptions,
// sending the Headers tab in connection_init, and the page keeps its query,
// variables and operation name (not its headers) in its URL, so a link can
// open an example operation.
// The files are MIT licensed (assets/LICENSE.*).
package graphiql

import (
	"bytes"
	"compress/gzip"
	"embed"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"time"
)

//go:embed assets/*.js assets/*.css
var files embed.FS

// asset is one embedded file. Its name carries the package version, so a
// later upgrade gets new URLs and the year-long, immutable caching below
// never serves a stale file against a new integrity hash.
type asset struct {
	name        string // file under assets/, and URL path under the prefix
	sri         string // gqlgen v0.17.98's pinned integrity value
	contentType string

	body     []byte
	gzipOnce sync.Once
	gzipped  []byte // nil when compressing does not pay
}

var (
	graphiqlJS  = &asset{name: "graphiql-4.1.2.min.js", sri: "sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs=", contentType: "text/javascript; charset=utf-8"}
	graphiqlCSS = &asset{name: "graphiql-4.1.2.min.css", sri: "sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU=", contentType: "text/css; charset=utf-8"}
	react       = &asset{name: "react-18.2.0.production.min.js", sri: "sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY=", contentType: "text/javascript; charset=utf-8"}
	reactDOM    = &asset{name: "react-dom-18.2.0.production.min.js", sri: "sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc=", contentType: "text/javascript; charset=utf-8"}
	explorerJS  = &asset{name: "plugin-explorer-4.0.6.umd.js", sri: "sha256-UM8sWOS0Xa9yLY85q6Clh0pF4qpxX+TOcJ41flECqBs=", contentType: "text/javascript; charset=utf-8"}
	explorerCSS = &asset{name: "plugin-explorer-4.0.6.css", sri: "sha256-aJCaSuI7+t/EWRrLTis8jU9EFTua5/o7fnwxnroxDvE=", contentType: "text/css; charset=utf-8"}

	assets = map[string]*asset{}
)

func init() {
	for _, a := range []*asset{graphiqlJS, graphiqlCSS, react, reactDOM, explorerJS, explorerCSS} {
		b, err := files.ReadFile("assets/" + a.name)
		if err != nil {
			panic("graphiql: " + err.Error())
		}
		a.body = b
		assets[a.name] = a
	}
}

// normalize makes prefix end with "/" so that prefix+name is a URL path.
func normalize(prefix string) string {
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return prefix
}

// Handler serves the GraphiQL page for endpoint (e.g. "/graphql") at
// whatever path it is mounted on; the page loads its assets from under
// assetsPrefix (e.g. "/graphiql/"), where Assets must be mounted.
func Handler(title, endpoint, assetsPrefix string) http.Handler {
	p := normalize(assetsPrefix)
	var buf bytes.Buffer
	err := page.Execute(&buf, pageData{
		Title: title, Endpoint: endpoint,
		JSURL: template.URL(p + graphiqlJS.name), JSSRI: graphiqlJS.sri,
		CSSURL: template.URL(p + graphiqlCSS.name), CSSSRI: graphiqlCSS.sri,
		ReactURL: template.URL(p + react.name), ReactSRI: react.sri,
		ReactDOMURL: template.URL(p + reactDOM.name), ReactDOMSRI: reactDOM.sri,
		ExplorerJSURL: template.URL(p + explorerJS.name), ExplorerJSSRI: explorerJS.sri,
		ExplorerCSSURL: template.URL(p + explorerCSS.name), ExplorerCSSSRI: explorerCSS.sri,
	})
	if err != nil {
		panic("graphiql: " + err.Error()) // the template and its data are constants
	}
	body := buf.Bytes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(body)
	})
}

// Assets serves the embedded files under assetsPrefix (mount it on that
// prefix, e.g. mux.Handle("GET /graphiql/", Assets("/graphiql/"))), with
// their content types, year-long immutable caching, an ETag, and gzip for
// clients that accept it. Any other path under the prefix is 404.
func Assets(assetsPrefix string) http.Handler {
	p := normalize(assetsPrefix)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, p)
		a := assets[name]
		if !ok || a == nil {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Vary", "Accept-Encoding")
		body, etag := a.body, `"`+a.sri+`"`
		if gz := a.gzip(); gz != nil && acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			body, etag = gz, `"`+a.sri+`-gzip"`
		}
		h.Set("ETag", etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
}

// gzip compresses the file on first use (about 70% smaller for these files).
func (a *asset) gzip() []byte {
	a.gzipOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if _, err := zw.Write(a.body); err != nil || zw.Close() != nil {
			return
		}
		if buf.Len() < len(a.body)*9/10 {
			a.gzipped = buf.Bytes()
		}
	})
	return a.gzipped
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
