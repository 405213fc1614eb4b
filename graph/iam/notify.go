package iam

import (
	"context"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
)

// notifier sends this server's change notifications on PostgreSQL, once
// their changes have committed and outside their transactions. A NOTIFY made
// in a transaction takes a database-wide lock at its commit, held until the
// commit is flushed: every account's commits queued behind it, one flush at
// a time, where the bare locked-insert loop's commits share flushes.
//
// A notification is only a hint that wakes the other servers' change feeds
// sooner: they poll the feed anyway, and never use a model older than their
// staleness bound (D6). So a burst of commits sends one notification (naming
// the latest), and one lost with a crash between a commit and its
// notification is caught up by the next poll.
type notifier struct {
	latest atomic.Pointer[string]
	wake   chan struct{}
}

// post asks for a notification with this payload; a newer one replaces a
// payload not yet sent.
func (n *notifier) post(payload string) {
	n.latest.Store(&payload)
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// SendNotifications sends what commits post, until ctx ends (PostgreSQL
// only; a no-op elsewhere).
func (s *Service) SendNotifications(ctx context.Context) {
	if s.dialect != dialect.Postgres {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.notes.wake:
		}
		p := s.notes.latest.Swap(nil)
		if p == nil {
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if _, err := s.client.ExecContext(sctx, "SELECT pg_notify($1, $2)", InvalidationChannel, *p); err != nil && ctx.Err() == nil {
			// Other servers learn of the change at their next poll.
			s.log.Debug("change notification not sent", "err", err)
		}
		cancel()
	}
}
