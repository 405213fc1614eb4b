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
	"os"
	"regexp"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
)

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestMeta gives each request an id (the client's X-Request-Id when it is
// well-formed) and its client's address (see clientAddr), for the audit log,
// the per-address limits and every log line of the request; gives it its
// iam request cache; and writes the request's access-log line when it ends.
func requestMeta(ps proxies, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !requestIDRE.MatchString(id) {
			var b [12]byte
			var x [24]byte
			_, _ = rand.Read(b[:])
			hex.Encode(x[:], b[:])
			id = string(x[:])
		}
		w.Header().Set("X-Request-Id", id)
		if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
			span.SetAttributes(attribute.String("gatehouse.request_id", id))
		}
		ctx := auth.WithMeta(r.Context(), auth.Meta{RequestID: id, ClientAddr: ps.clientAddr(r)})
		ctx = iam.WithRequestCache(ctx) // what the request learns of its accounts' access
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
		mt := r.Header.Get("Content-Type")
		if mt != "application/json" { // the usual value needs no parsing (nor its allocations)
			mt, _, _ = mime.ParseMediaType(mt)
		}
		if mt != "application/json" && mt != "application/graphql-response+json" {
			auth.WriteError(w, http.StatusUnsupportedMediaType, "BAD_USER_INPUT",
				"POST bodies must be JSON (Content-Type: application/json)")
			return
		}
		body, err := readBody(http.MaxBytesReader(w, r.Body, max), r.ContentLength, max)
		if err != nil {
			var tooBig *http.MaxBytesError
			switch {
			case errors.As(err, &tooBig):
				auth.WriteError(w, http.StatusRequestEntityTooLarge, "BAD_USER_INPUT", "request body exceeds the limit")
				return
			case errors.Is(err, os.ErrDeadlineExceeded): // see deadlines
				auth.WriteError(w, http.StatusRequestTimeout, "BAD_USER_INPUT", "the request body did not arrive within the request's deadline")
				return
			}
			auth.WriteError(w, http.StatusBadRequest, "BAD_USER_INPUT", "could not read the request body")
			return
		}
		if problem := paramsProblem(body); problem != "" {
			auth.WriteError(w, http.StatusBadRequest, "BAD_USER_INPUT", problem)
			return
		}
		r.Body = &bufferedBody{Reader: bytes.NewReader(body), all: body}
		if mt != "application/json" {
			r.Header.Set("Content-Type", "application/json") // what gqlgen's POST transport takes
		}
		next.ServeHTTP(w, r)
	})
}

// bufferedBody is a request body bodyLimit has read whole: handlers that
// want it whole take its bytes (bodyBytes) instead of copying them again.
type bufferedBody struct {
	*bytes.Reader
	all []byte
}

func (*bufferedBody) Close() error { return nil }

// bodyBytes returns r's body, whole: bodyLimit's buffer when it read it.
func bodyBytes(r *http.Request) ([]byte, error) {
	if b, ok := r.Body.(*bufferedBody); ok {
		return b.all, nil
	}
	return io.ReadAll(r.Body)
}

// readBody reads a body whose length the client declared (up to max) into
// one buffer of that size, and any other body as io.ReadAll does.
func readBody(body io.Reader, declared, max int64) ([]byte, error) {
	if declared <= 0 || declared > max {
		return io.ReadAll(body)
	}
	buf := make([]byte, declared)
	n, err := io.ReadFull(body, buf)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return buf[:n], nil // shorter than declared
	case err != nil:
		return nil, err
	}
	// net/http ends a body at its declared length, so this is the end; but
	// read on, through the limit, rather than assume it.
	var probe [1]byte
	k, err := body.Read(probe[:])
	switch {
	case k == 0 && errors.Is(err, io.EOF):
		return buf, nil
	case k == 0 && err != nil:
		return nil, err
	}
	rest, err := io.ReadAll(body)
	return append(append(buf, probe[:k]...), rest...), err
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
