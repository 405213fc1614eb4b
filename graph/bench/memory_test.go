package bench

import (
	"context"
	"runtime"
	"testing"

	"github.com/gatehouse-iam/gatehouse/ent/member"
)

// BenchmarkModelMemory reports the heap a warm account costs: its model
// loaded, and every member's permissions compiled (what a members page
// does), divided by the number of accounts.
func BenchmarkModelMemory(b *testing.B) {
	f, err := getFixture()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	svc := f.srv.Service
	accounts, err := f.db.Client.Account.Query().IDs(ctx)
	if err != nil {
		b.Fatal(err)
	}
	members := map[string][]string{}
	for _, id := range accounts {
		if members[id], err = f.db.Client.Member.Query().Where(member.AccountID(id)).IDs(ctx); err != nil {
			b.Fatal(err)
		}
	}
	for range b.N {
		svc.Invalidate("")
		heap := func() uint64 {
			runtime.GC()
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			return m.HeapAlloc
		}
		before := heap()
		for _, id := range accounts {
			m, err := svc.Model(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			for _, mid := range members[id] {
				e, err := m.MemberByID(ctx, mid)
				if err != nil {
					b.Fatal(err)
				}
				_ = e.Subject.Permissions()
			}
		}
		after := heap()
		b.ReportMetric(float64(after-before)/float64(len(accounts))/1024, "KB/account")
	}
}
