package server

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse-iam/gatehouse/graph/auth"
)

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestMeta gives each request an id (the client's X-Request-Id when it is
// well-formed) and its client's address (see clientAddr), for the audit log,
// the per-address limits and every log line of the request; and writes the
// request's access-log line when it ends.
func requestMeta(ps proxies, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !requestIDRE.MatchString(id) {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
			span.SetAttributes(attribute.String("gatehouse.request_id", id))
		}
		ctx := auth.WithMeta(r.Context(), auth.Meta{RequestID: id, ClientAddr: ps.clientAddr(r)})
		ctx, e := withEntry(ctx)
		rec := &recorder{ResponseWriter: w, entry: e}
		r = r.WithContext(ctx)
		defer logAccess(log, r, rec, began)
		next.ServeHTTP(rec, r)
	})
}

// notePrincipal records the authenticated principal for the access log.
func notePrincipal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entryFrom(r.Context()).setPrincipal(auth.FromContext(r.Context()))
		next.ServeHTTP(w, r)
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
