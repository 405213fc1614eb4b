// Package graphiql serves GraphiQL with its assets embedded, so that it works
// with no internet (many customer networks cannot reach a CDN). The files are
// the npm releases whose hashes gqlgen's page pins (graphiql 4.1.2, React
// 18.2.0); the browser checks them against the page's integrity attributes.
package graphiql

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/99designs/gqlgen/graphql/playground"
)

//go:embed assets/*
var assets embed.FS

// Subresource-integrity hashes of the embedded files (gqlgen's pinned values).
const (
	jsSRI       = "sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs="
	cssSRI      = "sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU="
	reactSRI    = "sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY="
	reactDOMSRI = "sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc="
)

// Handler serves the GraphiQL page for endpoint; its assets are expected
// under assetsPrefix (see Assets).
func Handler(title, endpoint, assetsPrefix string) http.Handler {
	return playground.Handler(title, endpoint,
		playground.WithGraphiqlVersion(assetsPrefix+"graphiql.min.js", assetsPrefix+"graphiql.min.css", jsSRI, cssSRI),
		playground.WithGraphiqlReactVersion(assetsPrefix+"react.production.min.js", assetsPrefix+"react-dom.production.min.js", reactSRI, reactDOMSRI),
		playground.WithGraphiqlEnablePluginExplorer(false),
	)
}

// Assets serves the embedded files under assetsPrefix.
func Assets(assetsPrefix string) http.Handler {
	sub, _ := fs.Sub(assets, "assets")
	files := http.StripPrefix(assetsPrefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		files.ServeHTTP(w, r)
	})
}
