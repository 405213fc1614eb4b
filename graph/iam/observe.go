package iam

import (
	"context"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse-iam/gatehouse/ent"
)

// Observer is told what the service does, for metrics and access logs
// (graph/server implements it). Its methods are called on the request path:
// they must be cheap and safe for concurrent use.
type Observer interface {
	// CacheLookup reports a lookup of the model cache.
	CacheLookup(hit bool)
	// ModelLoaded reports a model read from the database, how long it
	// took, and whether it failed.
	ModelLoaded(d time.Duration, err error)
	// ModelsEvicted reports models the bounded cache pushed out.
	ModelsEvicted(n int)
	// ModelsInvalidated reports models dropped because their account
	// changed, by how the change was learned.
	ModelsInvalidated(source Invalidation, n int)
	// FeedRead reports a read of the change feed, by what prompted it.
	FeedRead(source Invalidation)
	// Decided reports a decision (D1) with its reason (D2).
	Decided(ctx context.Context, allowed bool, reason string)
	// AuditCommitted reports audit events that were committed (L1).
	AuditCommitted(n int)
	// AccountUsed reports an account a request acts in or reads.
	AccountUsed(ctx context.Context, accountID string)
	// UsageDropped reports uses of keys and permissions the full usage
	// log could not hold (V2, S4).
	UsageDropped(n int)
}

// Invalidation is how a server learned that a cached model is stale.
type Invalidation string

// The ways of learning of a change (D6).
const (
	// Local: this server committed it.
	Local Invalidation = "local"
	// Notified: a PostgreSQL notification woke the change feed.
	Notified Invalidation = "notified"
	// Polled: the change feed's periodic read found it.
	Polled Invalidation = "polled"
)

// nopObserver observes nothing.
type nopObserver struct{}

func (nopObserver) CacheLookup(bool)                      {}
func (nopObserver) ModelLoaded(time.Duration, error)      {}
func (nopObserver) ModelsEvicted(int)                     {}
func (nopObserver) ModelsInvalidated(Invalidation, int)   {}
func (nopObserver) Decided(context.Context, bool, string) {}
func (nopObserver) AuditCommitted(int)                    {}
func (nopObserver) FeedRead(Invalidation)                 {}
func (nopObserver) AccountUsed(context.Context, string)   {}
func (nopObserver) UsageDropped(int)                      {}

// observerKey carries the service's observer in a transaction's context,
// where the commit hook of an audit event finds it.
type observerKey struct{}

// countCommitted makes tx report its audit event once, if it commits.
func countCommitted(tx *ent.Tx) {
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if o, ok := ctx.Value(observerKey{}).(Observer); ok && err == nil {
				o.AuditCommitted(1)
			}
			return err
		})
	})
}

// notificationPayload is what a commit sends on InvalidationChannel: the
// account, when the change committed, so that listeners can measure how
// late they hear of it, and the sending server's instance, so that it can
// ignore its own (OwnNotification).
func (s *Service) notificationPayload(accountID string, at time.Time) string {
	return accountID + " " + strconv.FormatInt(at.UnixNano(), 10) + " " + s.instance
}

// OwnNotification reports whether a notification's payload is of this
// server's own commit, which the commit applied here already: it need not
// wake the change feed (which polls anyway), a read of the feed — a query —
// per commit otherwise.
func (s *Service) OwnNotification(payload string) bool {
	_, instance, ok := notificationFields(payload)
	return ok && instance == s.instance
}

// NotificationSent returns when the change behind a notification's payload
// committed (false for a payload without the time, e.g. an older server's).
func NotificationSent(payload string) (time.Time, bool) {
	at, _, _ := notificationFields(payload)
	ns, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

// notificationFields reads a payload notificationPayload wrote: its time
// and its sender's instance (hasInstance false for an older server's
// payload, which has only the account and the time).
func notificationFields(payload string) (at, instance string, hasInstance bool) {
	_, rest, _ := strings.Cut(payload, " ")
	at, instance, hasInstance = strings.Cut(rest, " ")
	return at, instance, hasInstance
}

// decisionSpan starts the span of one decision when the request is traced.
// Its attributes name the account, the permission and the subject — ids,
// never secrets.
func decisionSpan(ctx context.Context, in AuthorizeInput) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, parent
	}
	return parent.TracerProvider().Tracer("github.com/gatehouse-iam/gatehouse/graph/iam").Start(ctx, "iam.Authorize",
		trace.WithAttributes(
			attribute.String("gatehouse.account_id", in.AccountID),
			attribute.String("gatehouse.permission", in.Permission),
		))
}

// endDecision records the outcome on the decision's span.
func endDecision(span trace.Span, d *Decision, sub subject, err error) {
	if !span.IsRecording() {
		return
	}
	defer span.End()
	if err != nil {
		span.SetStatus(codes.Error, "refused")
		return
	}
	if sub.member != nil || sub.key != nil {
		span.SetAttributes(attribute.String("gatehouse.subject_id", sub.id()))
	}
	span.SetAttributes(attribute.Bool("gatehouse.allowed", d.Allowed), attribute.String("gatehouse.reason", d.Reason.String()))
}
