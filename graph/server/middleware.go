package server

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"regexp"
	"strings"

	"github.com/gatehouse-iam/gatehouse/graph/auth"
)

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestMeta gives each request an id (the client's X-Request-Id when it is
// well-formed) and records the client address for the audit log.
func requestMeta(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !requestIDRE.MatchString(id) {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		ctx := auth.WithMeta(r.Context(), auth.Meta{RequestID: id, ClientAddr: host})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// bodyLimit refuses bodies over max bytes with HTTP 413, POST bodies that
// are not JSON with HTTP 415 (form and text/plain bodies are what browsers
// send cross-site without a preflight, so refusing them closes CSRF), and
// bodies that are not one GraphQL request with HTTP 400 (params.go).
func bodyLimit(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/json" && mt != "application/graphql-response+json" {
			auth.WriteError(w, http.StatusUnsupportedMediaType, "BAD_USER_INPUT",
				"POST bodies must be JSON (Content-Type: application/json)")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				auth.WriteError(w, http.StatusRequestEntityTooLarge, "BAD_USER_INPUT", "request body exceeds the limit")
				return
			}
			auth.WriteError(w, http.StatusBadRequest, "BAD_USER_INPUT", "could not read the request body")
			return
		}
		if problem := paramsProblem(body); problem != "" {
			auth.WriteError(w, http.StatusBadRequest, "BAD_USER_INPUT", problem)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		next.ServeHTTP(w, r)
	})
}

// browsers sends a browser that opens /graphql itself (GET, no query) to
// GraphiQL, next to it, instead of an error about the missing query.
func browsers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && !r.URL.Query().Has("query") && !isUpgrade(r) &&
			strings.Contains(r.Header.Get("Accept"), "text/html") {
			// Relative, so that it holds behind a proxy that adds a path prefix.
			w.Header().Set("Location", "./")
			w.WriteHeader(http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}
