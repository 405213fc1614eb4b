// Package apperr defines Gatehouse's typed errors. Business code returns them;
// the GraphQL error presenter maps each Code to `extensions.code`. An error's
// Message is safe to show to clients; its Cause is only logged.
package apperr

import (
	"errors"
	"fmt"
)

// Code is the machine-readable class of an error (SPEC §11).
type Code string

// The codes clients see in `extensions.code`.
const (
	Unauthenticated     Code = "UNAUTHENTICATED"
	Forbidden           Code = "FORBIDDEN"
	NotFound            Code = "NOT_FOUND"
	BadUserInput        Code = "BAD_USER_INPUT"
	Conflict            Code = "CONFLICT"
	VersionConflict     Code = "VERSION_CONFLICT"
	FeatureNotAvailable Code = "FEATURE_NOT_AVAILABLE"
	RateLimited         Code = "RATE_LIMITED"
	// Unavailable is a storage outage, a timeout or an exhausted pool (P5):
	// HTTP 503 with Retry-After; the request may be retried as it is.
	Unavailable Code = "UNAVAILABLE"
	Internal    Code = "INTERNAL"
)

// Error is an error with a code, a public message and optional extensions.
type Error struct {
	Code    Code
	Message string
	// Extensions are added to the GraphQL error's extensions (e.g. reason,
	// missingPermissions).
	Extensions map[string]any
	// Cause is the underlying error; never shown to clients.
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return string(e.Code) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// With returns a copy of e with an extension added.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Extensions = make(map[string]any, len(e.Extensions)+1)
	for k, v := range e.Extensions {
		c.Extensions[k] = v
	}
	c.Extensions[key] = value
	return &c
}

// New returns an error with code and a message formatted like fmt.Sprintf.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an INTERNAL error that hides cause from clients.
func Wrap(cause error, op string) *Error {
	return &Error{Code: Internal, Message: "internal error", Cause: fmt.Errorf("%s: %w", op, cause)}
}

// CodeOf returns the code of err, or "" when err is not an *Error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// NotFoundf is the answer for an object that does not exist or that the
// caller may not know exists: the two must be indistinguishable.
func NotFoundf(kind, id string) *Error {
	return New(NotFound, "%s %q not found", kind, id)
}

// Missing is the R7/S2 refusal: the caller lacks these permissions.
func Missing(what string, missing []string) *Error {
	return New(Forbidden, "%s needs permissions you do not hold: %v", what, missing).
		With("missingPermissions", missing)
}

// Busy is the answer to a change that waited too long for its account: other
// changes of the same account hold it (P5). Retrying later may succeed.
func Busy(cause error) *Error {
	return &Error{Code: Conflict, Message: "the account is busy with other changes; retry shortly", Cause: cause,
		Extensions: map[string]any{"reason": "ACCOUNT_BUSY", "retryable": true}}
}

// Outage is the answer when storage cannot be reached in time (P5).
func Outage(cause error) *Error {
	return &Error{Code: Unavailable, Message: "the service is temporarily unavailable; retry shortly", Cause: cause}
}
