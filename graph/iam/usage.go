package iam

import (
	"context"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/apikey"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
	"github.com/gatehouse-iam/gatehouse/ent/usage"
)

// usageLog collects when API keys were last used (S4 lastUsedAt) and which
// permissions subjects used (V2), so that no request writes them: the
// flusher writes them in batches. It holds at most max uses, keys' and
// permissions' together: from half of that the flusher is woken to write
// them early, and when it is full (the database down for long, or a flood
// of distinct uses) a new use is dropped and counted, where it grew
// without bound until the next flush that worked. Uses held still take
// later times.
type usageLog struct {
	mu      sync.Mutex
	seen    map[string]int64 // unix nanoseconds
	perms   map[permUse]int64
	max     int
	dropped int
	wake    chan struct{} // one pending early flush
}

// usageMax is how many uses the log holds: about 20 MB.
const usageMax = 1 << 18

func newUsageLog(max int) usageLog {
	return usageLog{seen: map[string]int64{}, perms: map[permUse]int64{}, max: max, wake: make(chan struct{}, 1)}
}

// permUse is one subject's use of one permission (V2).
type permUse struct{ account, subject, permission string }

// PermissionUsed records an allowed decision, for access reviews (V2). The
// log keeps the strings until the flush: pass ones that live anyway (the
// model's and the catalog's), not a request's, which would keep the memory
// of the request that decoded them.
func (s *Service) PermissionUsed(accountID, subjectID, permission string) {
	u, now := &s.usage, time.Now().UnixNano()
	u.mu.Lock()
	put(u, u.perms, permUse{accountID, subjectID, permission}, now)
	u.unlockWaking()
}

// KeyUsed records that an API key authenticated a request now.
func (s *Service) KeyUsed(id string) {
	u, now := &s.usage, time.Now().UnixNano()
	u.mu.Lock()
	put(u, u.seen, id, now)
	u.unlockWaking()
}

// put records a use of k at at in m, one of u's maps (u.mu held): a later
// time for a use held, a new use while the log has room, else one more
// dropped.
func put[K comparable](u *usageLog, m map[K]int64, k K, at int64) {
	if was, ok := m[k]; ok || len(u.seen)+len(u.perms) < u.max {
		m[k] = max(was, at)
	} else {
		u.dropped++
	}
}

// unlockWaking unlocks u, and wakes the flusher, unless it is woken
// already, when the log holds half of what it may.
func (u *usageLog) unlockWaking() {
	early := 2*(len(u.seen)+len(u.perms)) >= u.max
	u.mu.Unlock()
	if early {
		select {
		case u.wake <- struct{}{}:
		default:
		}
	}
}

// FlushUsage writes the recorded key and permission uses. What it could not
// write stays recorded for the next flush, as room allows.
func (s *Service) FlushUsage(ctx context.Context) error {
	s.usage.mu.Lock()
	seen, perms, dropped := s.usage.seen, s.usage.perms, s.usage.dropped
	s.usage.seen, s.usage.perms, s.usage.dropped = map[string]int64{}, map[permUse]int64{}, 0
	s.usage.mu.Unlock()
	if dropped > 0 {
		s.log.Warn("usage log full: uses dropped since the last flush", "dropped", dropped, "held", s.usage.max)
		s.obs.UsageDropped(dropped)
	}
	if err := s.flushPermissions(ctx, perms); err != nil {
		s.usage.keep(seen, perms)
		return err
	}
	if err := s.flushMemberActivity(ctx, perms); err != nil {
		return err // permission uses are written; a member's time is rewritten by its next use
	}
	if err := s.moveTimes(ctx, apikey.Table, apikey.FieldLastUsedAt, seen); err != nil {
		s.usage.keep(seen, nil) // permission uses are written; rewriting a key's time is harmless
		return err
	}
	return nil
}

// keep puts back uses a flush could not write, unless newer ones were
// recorded meanwhile, as room allows (the rest are dropped and counted).
func (u *usageLog) keep(seen map[string]int64, perms map[permUse]int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for id, at := range seen {
		put(u, u.seen, id, at)
	}
	for p, at := range perms {
		put(u, u.perms, p, at)
	}
}

// flushPermissions upserts the recorded permission uses in batches.
func (s *Service) flushPermissions(ctx context.Context, perms map[permUse]int64) error {
	batch := make([]*ent.UsageCreate, 0, 200)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		ctx, cancel := context.WithTimeout(ctx, usageStatementTimeout)
		defer cancel()
		// Servers flush independently: a use never overwrites a later one.
		err := s.client.Usage.CreateBulk(batch...).
			OnConflict(
				sql.ConflictColumns(usage.FieldSubjectID, usage.FieldPermission),
				sql.ResolveWith(func(u *sql.UpdateSet) { u.SetExcluded(usage.FieldLastUsedAt) }),
				sql.UpdateWhere(sql.ColumnsLT(
					sql.Dialect(s.dialect).Table(usage.Table).C(usage.FieldLastUsedAt),
					sql.Dialect(s.dialect).Table("excluded").C(usage.FieldLastUsedAt))),
			).Exec(ctx)
		batch = batch[:0]
		return err
	}
	for u, at := range perms {
		batch = append(batch, s.client.Usage.Create().SetAccountID(u.account).SetSubjectID(u.subject).
			SetPermission(u.permission).SetLastUsedAt(time.Unix(0, at)))
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// usageStatementTimeout bounds each statement of a usage flush: a database
// that stalls fails the flush, whose uses are kept for the next, instead of
// holding the flusher, and the shutdown whose last flush it is, for as long
// as the stall lasts.
const usageStatementTimeout = 5 * time.Second

// RunUsageFlusher flushes usage every interval, and early when the log is
// half full, until ctx ends, then once more. After a flush that failed, it
// waits for the next interval: a database that is down is not retried on
// every decision.
func (s *Service) RunUsageFlusher(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	early := true
	for {
		select {
		case <-t.C:
		case <-s.usage.wake:
			if !early {
				continue
			}
		case <-ctx.Done():
			if err := s.FlushUsage(context.WithoutCancel(ctx)); err != nil {
				s.log.Error("flushing key usage", "err", err)
			}
			return
		}
		err := s.FlushUsage(ctx)
		if err != nil {
			s.log.Error("flushing key usage", "err", err)
		}
		early = err == nil
	}
}

// flushMemberActivity moves members' lastActiveAt to their latest recorded
// permission use. It writes the column alone (not updated_at: using a
// permission changes nothing about the member), and never backwards.
func (s *Service) flushMemberActivity(ctx context.Context, perms map[permUse]int64) error {
	latest := map[string]int64{}
	for u, at := range perms {
		if strings.HasPrefix(u.subject, ids.Member+"_") && at > latest[u.subject] {
			latest[u.subject] = at
		}
	}
	return s.moveTimes(ctx, member.Table, member.FieldLastActiveAt, latest)
}
