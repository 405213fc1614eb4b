package server

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse-iam/gatehouse/graph/auth"
)

// entry is what the access log says of one request. The layers that learn
// something fill it in: authentication the principal, the iam service the
// account, the GraphQL layer the operation, every error writer its code.
type entry struct {
	mu        sync.Mutex
	principal *auth.Principal
	account   string
	operation string
	opType    string
	codes     []string
}

type entryKey struct{}

func withEntry(ctx context.Context) (context.Context, *entry) {
	e := &entry{}
	return context.WithValue(ctx, entryKey{}, e), e
}

// entryFrom returns the request's entry; nil (whose methods do nothing)
// outside a request.
func entryFrom(ctx context.Context) *entry {
	e, _ := ctx.Value(entryKey{}).(*entry)
	return e
}

func (e *entry) setPrincipal(p *auth.Principal) {
	if e == nil || p == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.principal = p
	if e.account == "" {
		e.account = p.AccountID
	}
}

// setAccount records the first account the request acted in.
func (e *entry) setAccount(id string) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.account == "" {
		e.account = id
	}
}

func (e *entry) setOperation(name, typ string) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.opType == "" {
		e.operation, e.opType = name, typ
	}
}

// NoteErrorCode records an error code the response carries (auth.ErrorNoter).
func (e *entry) NoteErrorCode(code string) {
	if e == nil || code == "" {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !slices.Contains(e.codes, code) {
		e.codes = append(e.codes, code)
	}
}

// appendAttrs appends the entry's fields for the log line to out.
func (e *entry) appendAttrs(out []slog.Attr) []slog.Attr {
	e.mu.Lock()
	defer e.mu.Unlock()
	kind, id := "anonymous", ""
	if p := e.principal; p != nil {
		id = p.ID
		switch p.Kind {
		case auth.Operator:
			kind = "operator"
		case auth.User:
			kind = "user"
		case auth.APIKey:
			kind = "api_key"
		}
	}
	out = append(out, slog.String("principal_kind", kind))
	if id != "" {
		out = append(out, slog.String("principal_id", id))
	}
	if e.account != "" {
		out = append(out, slog.String("account", e.account))
	}
	if e.opType != "" {
		out = append(out, slog.String("operation", e.operation), slog.String("operation_type", e.opType))
	}
	if len(e.codes) > 0 {
		out = append(out, slog.Any("error_codes", slices.Clone(e.codes)))
	}
	return out
}

// recorder notes a response's status and size for the access log, and the
// error codes written to it. It keeps what the writer it wraps can do:
// Unwrap lets http.ResponseController reach the connection, and Flush
// streams (audit exports).
type recorder struct {
	http.ResponseWriter
	entry  *entry
	status int
	bytes  int64
}

// NoteErrorCode records an error code written to the response.
func (r *recorder) NoteErrorCode(code string) { r.entry.NoteErrorCode(code) }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Flush() {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	_ = http.NewResponseController(r.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// logAccess writes the request's access-log line.
func logAccess(log *slog.Logger, r *http.Request, rec *recorder, began time.Time) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	var buf [13]slog.Attr // the most a line has: no allocation for the list
	attrs := append(buf[:0],
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(began)),
		slog.Int64("bytes", rec.bytes),
		slog.String("client_addr", auth.MetaFrom(r.Context()).ClientAddr),
	)
	log.LogAttrs(r.Context(), slog.LevelInfo, "request", rec.entry.appendAttrs(attrs)...)
}

// requestLogHandler adds the request's id, and its trace's id when it is
// traced, to every line logged with the request's context.
type requestLogHandler struct{ slog.Handler }

func (h requestLogHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := auth.MetaFrom(ctx).RequestID; id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestLogHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestLogHandler) WithGroup(name string) slog.Handler {
	return requestLogHandler{h.Handler.WithGroup(name)}
}

// withRequestIDs returns log with requestLogHandler (once).
func withRequestIDs(log *slog.Logger) *slog.Logger {
	if _, ok := log.Handler().(requestLogHandler); ok {
		return log
	}
	return slog.New(requestLogHandler{log.Handler()})
}
