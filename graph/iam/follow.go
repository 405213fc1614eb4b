package iam

import (
	"context"
	"time"
)

// ChangeFeed is the change sequence every server reads (graph/database.Feed):
// Poll returns the newest audit seq of each account whose chain grew since
// the previous Poll ("" for the platform's chain).
type ChangeFeed interface {
	Poll(ctx context.Context) (map[string]int64, error)
}

// Follow keeps this server's models current with what every server commits
// (D6). It reads the feed every interval, and at once whenever wake fires
// (a PostgreSQL notification, or the listener reconnecting: the feed, not
// luck, catches up what a lost connection missed). From the first read on,
// cached models are used only while the last successful read is at most
// maxStale old (P5). The first read happens before Follow returns; the
// returned follow reads the rest until ctx ends, in the caller's goroutine,
// so that whoever closes the feed can wait for its last read.
func (s *Service) Follow(ctx context.Context, feed ChangeFeed, interval, maxStale time.Duration, wake <-chan struct{}) (follow func(), err error) {
	if err := s.readFeed(ctx, feed, Polled); err != nil {
		return nil, err
	}
	s.cache.maxStale = maxStale
	return func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		failing := false
		for {
			source := Polled
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-wake:
				source = Notified
			}
			err := s.readFeed(ctx, feed, source)
			switch {
			case err != nil && !failing && ctx.Err() == nil:
				s.log.Warn("change feed unreadable: cached models expire", "err", err, "max_staleness", maxStale)
			case err == nil && failing:
				s.log.Info("change feed readable again")
			}
			failing = err != nil
		}
	}, nil
}

// readFeed reads the feed once and drops every model older than what it
// reports; on success, everything committed before the read began is known.
// source says what prompted the read, for the metrics.
func (s *Service) readFeed(ctx context.Context, feed ChangeFeed, source Invalidation) error {
	began := time.Now()
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s.obs.FeedRead(source)
	grown, err := feed.Poll(rctx)
	if err != nil {
		return err
	}
	dropped := 0
	for accountID, seq := range grown {
		news, n := s.cache.reported(accountID, seq)
		dropped += n
		if news && accountID == "" {
			s.opKeys.clear() // an operator key may have been revoked
		}
		s.changed(accountID)
	}
	s.obs.ModelsInvalidated(source, dropped)
	s.cache.confirm(began)
	return nil
}

// Current reports whether the change feed has confirmed lately that cached
// models are current (always true where no feed runs).
func (s *Service) Current() bool { return s.cache.fresh() }
