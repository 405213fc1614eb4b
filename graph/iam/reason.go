package iam

import (
	"context"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-iam/gatehouse/graph/apperr"
)

// Why is the optional reason every mutation input carries: the change's
// audit event stores it (access reviews ask why a role or permission was
// given: Convrs' "document the business justification", Truthlocks'
// "keep a record of why").
type Why struct {
	Reason *string `json:"reason"`
}

// AuditReason is the reason given, or "".
func (w Why) AuditReason() string { return deref(w.Reason) }

// Reasoned is implemented by every mutation input.
type Reasoned interface{ AuditReason() string }

// MaxReasonLen is the longest reason, in characters.
const MaxReasonLen = 1000

type reasonKey struct{}

// WithReason returns ctx carrying why its change is made, for record. A
// reason over MaxReasonLen characters, or with control characters or
// invalid UTF-8, is BAD_USER_INPUT before anything runs.
func WithReason(ctx context.Context, reason string) (context.Context, error) {
	if reason == "" {
		return ctx, nil
	}
	bad := !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > MaxReasonLen
	for _, r := range reason {
		bad = bad || unicode.IsControl(r)
	}
	if bad {
		return nil, apperr.New(apperr.BadUserInput,
			"reason must be at most %d characters of text, without control characters", MaxReasonLen).With("field", "reason")
	}
	return context.WithValue(ctx, reasonKey{}, reason), nil
}

// reasonFrom is the reason ctx carries, or "".
func reasonFrom(ctx context.Context) string {
	r, _ := ctx.Value(reasonKey{}).(string)
	return r
}
