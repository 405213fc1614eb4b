// Package auth authenticates requests: it turns the credentials of an HTTP
// request into a Principal stored in the request context (P1–P4).
package auth

import (
	"context"
	"time"
)

// Kind is the kind of principal making a request.
type Kind int

// The principals of SPEC §1.
const (
	Operator Kind = iota + 1
	User
	APIKey
)

// Principal is the authenticated caller.
type Principal struct {
	Kind Kind
	// ID is the operator key id, the user id, or the API key id.
	ID string
	// Label names the principal in audit events: a user's email, or a key id.
	Label string
	// UserID, Email and Name are set for users.
	UserID string
	Email  string
	Name   string
	// AccountID is the account of an API key.
	AccountID string
	// Expires is when the credential stops working (zero: never, or
	// unknown); long-lived connections end then (sessions).
	Expires time.Time
}

// IsOperator reports whether p is the platform operator.
func (p *Principal) IsOperator() bool { return p != nil && p.Kind == Operator }

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the request's principal, or nil when unauthenticated.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Meta describes the request a change was made in, for the audit log (L1).
type Meta struct {
	RequestID  string
	ClientAddr string
}

type metaKey struct{}

// WithMeta returns ctx carrying m.
func WithMeta(ctx context.Context, m Meta) context.Context {
	return context.WithValue(ctx, metaKey{}, m)
}

// MetaFrom returns the request's metadata (zero when absent).
func MetaFrom(ctx context.Context) Meta {
	m, _ := ctx.Value(metaKey{}).(Meta)
	return m
}
