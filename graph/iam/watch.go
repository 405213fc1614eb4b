package iam

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/live"
)

// Live changes (L5). A subscriber of an account registers with the broker,
// which the change feed (follow.go) and this server's own commits (runTx)
// wake whenever the account's audit chain grows. A woken subscriber reads
// the events after the last one it delivered — one query on the unique
// (account_id, seq) index — so it delivers every event once, in order,
// without gaps, however many commits one wake-up stands for. Before reading
// it checks its caller again, as a request would be checked now: the
// credential (revoked, expired) and the permission to read the audit log
// (iam.audit.read, the permission of auditEvents).

// watchPage is how many events one read delivers at most.
const watchPage = 100

// SetBroker makes b the broker of this server's subscriptions.
func (s *Service) SetBroker(b *live.Broker) { s.live = b }

// changed wakes the subscribers of an account whose chain grew ("" for the
// platform's chain: operator keys, whose revocation ends sessions).
func (s *Service) changed(accountID string) {
	if s.live != nil {
		s.live.Changed(accountID)
	}
}

// WatchAccount streams the audit events of an account, in order: those after
// seq `after` (nil: those committed from now on). The stream ends when ctx
// does, when the server stops, or when the caller may no longer read the log:
// then end receives why (UNAUTHENTICATED for a credential revoked or expired,
// NOT_FOUND or FORBIDDEN for a caller removed from the account or without
// iam.audit.read, UNAVAILABLE when storage cannot be read), before the
// channel closes.
func (s *Service) WatchAccount(ctx context.Context, accountID string, after *int64, end func(error)) (<-chan *ent.AuditEvent, error) {
	p := auth.FromContext(ctx)
	if p == nil || s.live == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	if after != nil && *after < 0 {
		return nil, apperr.New(apperr.BadUserInput, "after must be an event's seq (0 or more)").With("field", "after")
	}
	// The starting point is read first, then the subscriber registered: the
	// loop's first read (before any wait) finds what committed in between.
	var cursor int64
	step, cancel := s.step(ctx)
	err := s.mayWatch(step, accountID)
	if err == nil && after != nil {
		cursor = *after
	} else if err == nil {
		cursor, err = s.head(step, accountID)
	}
	cancel()
	if ctx.Err() != nil { // the client went away meanwhile: nobody to answer
		return ended(), nil
	}
	if err != nil {
		return nil, err
	}
	sub, err := s.live.Subscribe(accountID, p.ID)
	if errors.Is(err, live.ErrTooMany) {
		return nil, apperr.New(apperr.RateLimited, "at most %d subscriptions per principal; end one first", s.live.Limit()).
			With("limit", "subscriptions").With("max", s.live.Limit())
	}
	out := make(chan *ent.AuditEvent)
	go func() {
		defer close(out)
		defer sub.Close()
		if err := s.stream(ctx, sub, accountID, cursor, p, out); err != nil {
			end(err)
		}
	}()
	return out, nil
}

// ended is a stream that has ended.
func ended() <-chan *ent.AuditEvent {
	ch := make(chan *ent.AuditEvent)
	close(ch)
	return ch
}

// stream delivers what follows cursor, then waits to be woken, and again,
// until ctx ends (nil) or the caller may no longer watch (the reason). The
// caller is checked after events are read and before they are delivered, on
// a model at least as new as they are: whatever revoked the caller's access
// is either among them, and stops them, or committed after the check.
func (s *Service) stream(ctx context.Context, sub *live.Sub, accountID string, cursor int64, p *auth.Principal, out chan<- *ent.AuditEvent) error {
	var expiry <-chan time.Time
	if !p.Expires.IsZero() {
		t := time.NewTimer(time.Until(p.Expires))
		defer t.Stop()
		expiry = t.C
	}
	check := false // woken: check the caller even when nothing new is read
	for {
		evs, err := s.next(ctx, accountID, cursor, check)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		for _, e := range evs {
			select {
			case out <- e:
				cursor = e.Seq
				sub.Delivered(1)
			case <-ctx.Done():
				return nil
			}
		}
		if len(evs) == watchPage {
			check = false
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.live.Done():
			return nil
		case <-sub.Wake():
		case <-expiry:
			expiry = nil
		}
		check = true
	}
}

// next is one step of a stream, with the request deadline (step): it reads
// the events after cursor and, when there are some or check, checks the
// caller on a model that knows them.
func (s *Service) next(ctx context.Context, accountID string, cursor int64, check bool) ([]*ent.AuditEvent, error) {
	ctx, cancel := s.step(ctx)
	defer cancel()
	evs, err := s.client.AuditEvent.Query().
		Where(auditevent.AccountID(accountID), auditevent.SeqGT(cursor)).
		Order(ent.Asc(auditevent.FieldSeq)).Limit(watchPage).All(ctx)
	if err != nil {
		return nil, classify(err)
	}
	if len(evs) > 0 || check {
		if len(evs) > 0 {
			// The model the check reads must know these events.
			s.cache.advanced(accountID, evs[len(evs)-1].Seq)
		}
		if err := s.mayWatch(ctx, accountID); err != nil {
			return nil, err
		}
	}
	return evs, nil
}

// step is ctx bounded for one step of a subscription (Options.StepTimeout):
// a subscription lasts as long as its client wants, each of its reads as
// long as a request may. A stalled database ends the subscription with
// UNAVAILABLE (its client resumes with after:, losing nothing) instead of
// holding a pool connection for as long as the stall lasts.
func (s *Service) step(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.stepTimeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.stepTimeout)
}

// mayWatch checks the caller now: its credential, then iam.audit.read on
// the account as it is now (not as the connection's first request saw it).
func (s *Service) mayWatch(ctx context.Context, accountID string) error {
	if err := CheckSession(ctx); err != nil {
		return err
	}
	_, err := s.Require(WithRequestCache(ctx), accountID, "iam.audit.read")
	return err
}

// CheckSession checks the credential of a long-lived connection again (nil
// for a plain request, authenticated anew each time): UNAUTHENTICATED once it
// is revoked or has expired, an outage when it cannot be checked now.
func CheckSession(ctx context.Context) error {
	sess := auth.SessionFrom(ctx)
	if sess == nil || sess.Recheck == nil {
		return nil
	}
	if err := sess.Recheck(ctx); auth.IsInvalid(err) {
		return apperr.New(apperr.Unauthenticated, "the credential of this connection was revoked or has expired")
	} else if err != nil {
		return apperr.Outage(err)
	}
	return nil
}

// head is the seq of the account's newest event (0 when it has none).
func (s *Service) head(ctx context.Context, accountID string) (int64, error) {
	e, err := s.client.AuditEvent.Query().Where(auditevent.AccountID(accountID)).
		Order(ent.Desc(auditevent.FieldSeq)).Select(auditevent.FieldSeq).First(ctx)
	switch {
	case ent.IsNotFound(err):
		return 0, nil
	case err != nil:
		return 0, classify(err)
	}
	return e.Seq, nil
}
