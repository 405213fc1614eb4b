package server

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/lib/pq"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"modernc.org/sqlite"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/database"
)

// presenter maps errors to GraphQL errors with `extensions.code`. Typed
// errors show their public message; gqlgen's own validation and input errors
// keep theirs; anything from storage becomes UNAVAILABLE (an outage: the
// response becomes HTTP 503, P5), CONFLICT with reason ACCOUNT_BUSY (a lock
// not granted in time) or INTERNAL, logged with its cause and request id but
// never shown (the log line carries the request's id). Every code goes to
// the request's access-log line.
//
// Whatever the error, its message and extensions are then cut to a bounded
// size (errcut.go): no error echoes unbounded input.
func presenter(log *slog.Logger, met *metrics) graphql.ErrorPresenterFunc {
	present := presentCode(log, met)
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := present(ctx, err)
		gqlErr.Message = cutMessage(gqlErr.Message)
		cutExtensions(gqlErr.Extensions)
		return gqlErr
	}
}

// presentCode gives err its public message and extensions.code.
func presentCode(log *slog.Logger, met *metrics) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		if ae := public(ctx, log, met, "graphql", err); ae != nil {
			gqlErr.Message = ae.Message
			gqlErr.Extensions = map[string]any{"code": string(ae.Code)}
			for k, v := range ae.Extensions {
				gqlErr.Extensions[k] = v
			}
			entryFrom(ctx).NoteErrorCode(string(ae.Code))
			return gqlErr
		}
		if isVariableError(gqlErr) {
			// A variable's value does not fit its type (an unknown enum
			// value, a string for an Int): the caller's input, like any
			// other value refused, not a malformed document.
			gqlErr.Extensions["code"] = string(apperr.BadUserInput)
		}
		if isDecodeError(gqlErr.Message) {
			gqlErr.Message = decodeProblem
		}
		if gqlErr.Extensions == nil || gqlErr.Extensions["code"] == nil {
			// Input coercion and pagination-argument errors raised by gqlgen
			// and entgql before any resolver ran.
			if gqlErr.Extensions == nil {
				gqlErr.Extensions = map[string]any{}
			}
			gqlErr.Extensions["code"] = string(apperr.BadUserInput)
		}
		code, _ := gqlErr.Extensions["code"].(string)
		entryFrom(ctx).NoteErrorCode(code)
		return gqlErr
	}
}

// public is the typed error clients see for err, or nil for errors that are
// neither typed nor from storage (gqlgen's own). Storage errors become
// UNAVAILABLE (an outage: HTTP 503, counted), CONFLICT with reason
// ACCOUNT_BUSY (a lock not granted in time) or INTERNAL; causes are logged
// with the request id, never shown.
func public(ctx context.Context, log *slog.Logger, met *metrics, where string, err error) *apperr.Error {
	var ae *apperr.Error
	if !errors.As(err, &ae) && isStorage(err) {
		switch database.Classify(err) {
		case database.Unavailable:
			ae = apperr.Outage(err)
		case database.Busy:
			ae = apperr.Busy(err)
		default:
			ae = apperr.Wrap(err, "storage")
		}
	}
	if ae == nil {
		return nil
	}
	switch {
	case ae.Code == apperr.Internal && database.Classify(ae.Cause) == database.Unavailable:
		ae = apperr.Outage(ae.Cause)
	case ae.Code == apperr.Internal:
		log.ErrorContext(ctx, "internal error", "err", ae.Cause)
	}
	if ae.Code == apperr.Unavailable {
		log.WarnContext(ctx, "storage unavailable", "err", ae.Cause)
		markUnavailable(ctx, met, where)
	}
	return ae
}

// isVariableError reports gqlgen's refusal of a variable's value, whose
// path starts at "variable".
func isVariableError(e *gqlerror.Error) bool {
	return len(e.Path) > 0 && e.Path[0] == ast.PathName("variable") &&
		e.Extensions != nil && e.Extensions["code"] == errcode.ValidationFailed
}

// isStorage reports errors that come from the database or ent: their text may
// hold SQL or driver detail and must not reach clients.
func isStorage(err error) bool {
	var nf *ent.NotFoundError
	var ns *ent.NotSingularError
	var nl *ent.NotLoadedError
	var ce *ent.ConstraintError
	var ve *ent.ValidationError
	if errors.As(err, &nf) || errors.As(err, &ns) || errors.As(err, &nl) || errors.As(err, &ce) || errors.As(err, &ve) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var pqErr *pq.Error
	var liteErr *sqlite.Error
	var netErr *net.OpError
	return errors.As(err, &pqErr) || errors.As(err, &liteErr) || errors.As(err, &netErr) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, sql.ErrTxDone) || errors.Is(err, driver.ErrBadConn) ||
		fromPQ(err)
}

// fromPQ reports an error lib/pq raised itself, before or after the server
// answered (too many parameters, a protocol surprise): plain errors whose
// text starts with "pq: ".
func fromPQ(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if strings.HasPrefix(err.Error(), "pq: ") {
			return true
		}
	}
	return false
}

// recoverFunc turns a panic into INTERNAL; the stack goes to the log only.
func recoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, v any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", v)
		return &apperr.Error{Code: apperr.Internal, Message: "internal error", Cause: fmt.Errorf("panic: %v", v)}
	}
}
