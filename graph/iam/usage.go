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
// flusher writes them in batches.
type usageLog struct {
	mu    sync.Mutex
	seen  map[string]time.Time
	perms map[permUse]time.Time
}

// permUse is one subject's use of one permission (V2).
type permUse struct{ account, subject, permission string }

// PermissionUsed records an allowed decision, for access reviews (V2).
func (s *Service) PermissionUsed(accountID, subjectID, permission string) {
	s.usage.mu.Lock()
	if s.usage.perms == nil {
		s.usage.perms = map[permUse]time.Time{}
	}
	s.usage.perms[permUse{accountID, subjectID, permission}] = time.Now()
	s.usage.mu.Unlock()
}

// KeyUsed records that an API key authenticated a request now.
func (s *Service) KeyUsed(id string) {
	s.usage.mu.Lock()
	s.usage.seen[id] = time.Now()
	s.usage.mu.Unlock()
}

// FlushUsage writes the recorded key and permission uses. What it could not
// write stays recorded for the next flush.
func (s *Service) FlushUsage(ctx context.Context) error {
	s.usage.mu.Lock()
	seen, perms := s.usage.seen, s.usage.perms
	s.usage.seen, s.usage.perms = map[string]time.Time{}, map[permUse]time.Time{}
	s.usage.mu.Unlock()
	if err := s.flushPermissions(ctx, perms); err != nil {
		s.usage.keep(seen, perms)
		return err
	}
	if err := s.flushMemberActivity(ctx, perms); err != nil {
		return err // permission uses are written; a member's time is rewritten by its next use
	}
	for id, at := range seen {
		err := s.client.APIKey.Update().
			Where(apikey.ID(id), apikey.Or(apikey.LastUsedAtIsNil(), apikey.LastUsedAtLT(at))).
			SetLastUsedAt(at).Exec(ctx)
		if err != nil {
			s.usage.keep(seen, nil) // permission uses are written; rewriting a key's time is harmless
			return err
		}
	}
	return nil
}

// keep puts back uses a flush could not write, unless newer ones were
// recorded meanwhile.
func (u *usageLog) keep(seen map[string]time.Time, perms map[permUse]time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for id, at := range seen {
		if u.seen[id].Before(at) {
			u.seen[id] = at
		}
	}
	for p, at := range perms {
		if u.perms[p].Before(at) {
			u.perms[p] = at
		}
	}
}

// flushPermissions upserts the recorded permission uses in batches.
func (s *Service) flushPermissions(ctx context.Context, perms map[permUse]time.Time) error {
	batch := make([]*ent.UsageCreate, 0, 200)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
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
			SetPermission(u.permission).SetLastUsedAt(at))
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
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

// flushMemberActivity moves members' lastActiveAt to their latest recorded
// permission use. It writes the column alone (not updated_at: using a
// permission changes nothing about the member), and never backwards.
func (s *Service) flushMemberActivity(ctx context.Context, perms map[permUse]time.Time) error {
	latest := map[string]time.Time{}
	for u, at := range perms {
		if strings.HasPrefix(u.subject, ids.Member+"_") && at.After(latest[u.subject]) {
			latest[u.subject] = at
		}
	}
	for id, at := range latest {
		at = at.UTC() // one zone, so that SQLite's text timestamps sort
		q, args := sql.Dialect(s.dialect).Update(member.Table).Set(member.FieldLastActiveAt, at).
			Where(sql.And(sql.EQ(member.FieldID, id), sql.LT(member.FieldLastActiveAt, at))).Query()
		if _, err := s.client.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}
