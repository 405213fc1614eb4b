package iam

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/usage"
	"github.com/gatehouse-iam/gatehouse/graph/database"
)

// droppedUses counts what the usage log reports dropped.
type droppedUses struct {
	nopObserver
	n int
}

func (d *droppedUses) UsageDropped(n int) { d.n += n }

// V2, S4: the usage log holds at most its bound. From half of it the
// flusher is woken early. While the database cannot take the uses (their
// table renamed away), a flush puts them back; uses past the bound are
// dropped and counted, and the held ones still take later times. Once the
// table is back, the next flush writes what was held. Before, the log grew
// with every distinct use for as long as flushes failed.
func TestV2_TheUsageLogIsBoundedWhileTheDatabaseIsDown(t *testing.T) {
	forEachDatabase(t, "gatehouse_usagelog_", func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		obs := &droppedUses{}
		s := New(db.Client, db.Dialect, slog.New(slog.DiscardHandler), Options{Observer: obs})
		s.usage = newUsageLog(8)
		use := func(i int) { s.PermissionUsed("acc_1", fmt.Sprintf("mem_%02d", i), "iam.roles.read") }
		woken := func() bool {
			select {
			case <-s.usage.wake:
				return true
			default:
				return false
			}
		}
		for i := range 3 {
			use(i)
		}
		if woken() {
			t.Fatal("the flusher was woken before the log was half full")
		}
		use(3)
		if !woken() {
			t.Fatal("the flusher was not woken when the log was half full")
		}

		rename := func(from, to string) {
			if _, err := db.SQL.ExecContext(ctx, "ALTER TABLE "+from+" RENAME TO "+to); err != nil {
				t.Fatal(err)
			}
		}
		rename(usage.Table, "usages_away")
		if err := s.FlushUsage(ctx); err == nil {
			t.Fatal("a flush into a missing table succeeded")
		}
		for i := 4; i < 12; i++ {
			use(i)
		}
		use(0) // held: takes a later time
		s.usage.mu.Lock()
		held, dropped := len(s.usage.perms), s.usage.dropped
		s.usage.mu.Unlock()
		if held != 8 || dropped != 4 {
			t.Fatalf("the log holds %d uses and dropped %d; want 8 and 4", held, dropped)
		}

		rename("usages_away", usage.Table)
		if err := s.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
		if obs.n != 4 {
			t.Errorf("%d dropped uses reported; want 4", obs.n)
		}
		subjects, err := db.Client.Usage.Query().Order(usage.BySubjectID()).Select(usage.FieldSubjectID).Strings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := "[mem_00 mem_01 mem_02 mem_03 mem_04 mem_05 mem_06 mem_07]"; fmt.Sprint(subjects) != want {
			t.Errorf("written uses %v; want %s", subjects, want)
		}
	})
}

// V2: a flush writes every member's latest use, a statement for many
// members (here across two statements), and never moves a time backwards:
// a use older than the one written (another server's, flushed late) leaves
// it.
func TestV2_AFlushWritesManyMembersActivityForwardOnly(t *testing.T) {
	forEachDatabase(t, "gatehouse_activity_", func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		const n = timesPerStatement + 20
		db.Client.Account.Create().SetID("acc_1").SetName("a").SetSlug("a").SetDefaultAccessExcludes([]string{}).ExecX(ctx)
		var users []*ent.UserCreate
		var mems []*ent.MemberCreate
		for i := range n {
			users = append(users, db.Client.User.Create().SetID(fmt.Sprintf("usr_%04d", i)).SetEmail(fmt.Sprintf("u%d@activity.test", i)))
			mems = append(mems, db.Client.Member.Create().SetID(fmt.Sprintf("mem_%04d", i)).SetAccountID("acc_1").SetUserID(fmt.Sprintf("usr_%04d", i)))
		}
		db.Client.User.CreateBulk(users...).ExecX(ctx)
		db.Client.Member.CreateBulk(mems...).ExecX(ctx)

		s := New(db.Client, db.Dialect, slog.New(slog.DiscardHandler))
		at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
		record := func(i int, when time.Time) {
			s.usage.perms[permUse{"acc_1", fmt.Sprintf("mem_%04d", i), "iam.roles.read"}] = when.UnixNano()
		}
		for i := range n {
			record(i, at.Add(time.Duration(i)*time.Second))
		}
		if err := s.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
		record(7, at.Add(-time.Hour)) // older than what is written
		if err := s.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
		got := db.Client.Member.Query().Order(member.ByID()).AllX(ctx)
		for i, m := range got {
			if want := at.Add(time.Duration(i) * time.Second); !m.LastActiveAt.Equal(want) {
				t.Fatalf("%s lastActiveAt %v; want %v", m.ID, m.LastActiveAt, want)
			}
		}
	})
}
