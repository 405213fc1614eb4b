package iam

import (
	"context"
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent/apikey"
)

// usage collects when API keys were last used, so that authenticating a
// request never writes to the database: RunUsageFlusher writes them in
// batches (S4 lastUsedAt).
type usage struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// KeyUsed records that an API key authenticated a request now.
func (s *Service) KeyUsed(id string) {
	s.usage.mu.Lock()
	s.usage.seen[id] = time.Now()
	s.usage.mu.Unlock()
}

// FlushUsage writes the recorded lastUsedAt times.
func (s *Service) FlushUsage(ctx context.Context) error {
	s.usage.mu.Lock()
	seen := s.usage.seen
	s.usage.seen = map[string]time.Time{}
	s.usage.mu.Unlock()
	for id, at := range seen {
		err := s.client.APIKey.Update().
			Where(apikey.ID(id), apikey.Or(apikey.LastUsedAtIsNil(), apikey.LastUsedAtLT(at))).
			SetLastUsedAt(at).Exec(ctx)
		if err != nil {
			return err
		}
	}
	return nil
}

// RunUsageFlusher flushes usage every interval until ctx ends, then once more.
func (s *Service) RunUsageFlusher(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := s.FlushUsage(ctx); err != nil {
				s.log.Error("flushing key usage", "err", err)
			}
		case <-ctx.Done():
			if err := s.FlushUsage(context.WithoutCancel(ctx)); err != nil {
				s.log.Error("flushing key usage", "err", err)
			}
			return
		}
	}
}
