package server

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gatehouse-iam/gatehouse/graph/auth"
)

// An outage is not a wrong password (P5): a request that storage could not
// serve in time answers HTTP 503 with Retry-After and `extensions.code`
// UNAVAILABLE, so that clients retry instead of logging users out.

type outageKey struct{}

// markUnavailable records that the request's response carries UNAVAILABLE.
func markUnavailable(ctx context.Context, met *metrics, where string) {
	if f, ok := ctx.Value(outageKey{}).(*atomic.Bool); ok && !f.Swap(true) {
		met.unavailable.WithLabelValues(where).Inc()
	}
}

// bounded gives every request a deadline (P5: storage waits, lock waits and
// pool waits all end with it), and turns a GraphQL response that carries
// UNAVAILABLE into HTTP 503 with Retry-After. gqlgen writes such responses
// with 200, after the error presenter has run: the status is decided when
// the header is written. (One derived request for both: each copy of a
// request is garbage on the decision path.)
func bounded(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := &boundRequest{w: outageWriter{ResponseWriter: w}}
		b.ctx.init(r.Context(), time.Now().Add(d), &b.w.flag)
		defer b.ctx.release()
		next.ServeHTTP(&b.w, r.WithContext(&b.ctx))
	})
}

// boundRequest is what bounded adds to a request, in one allocation.
type boundRequest struct {
	w   outageWriter
	ctx deadlineCtx
}

type outageWriter struct {
	http.ResponseWriter
	flag  atomic.Bool // set by markUnavailable
	wrote bool
}

func (w *outageWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		if code == http.StatusOK && w.flag.Load() {
			w.Header().Set("Retry-After", strconv.Itoa(auth.UnavailableRetryAfter))
			code = http.StatusServiceUnavailable
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *outageWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *outageWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush forwards to the connection when it can flush.
func (w *outageWriter) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
