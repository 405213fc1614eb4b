package apitest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// strictTiming turns the timing figures these tests report into assertions
// (GATEHOUSE_TEST_STRICT_TIMING=1, as `make faults` runs them on a quiet machine).
// CI, on a shared and noisy machine, asserts only bounds an order of
// magnitude looser, which still catch the failures they guard against.
func strictTiming() bool { return os.Getenv("GATEHOUSE_TEST_STRICT_TIMING") != "" }

// holdFor is how long the outside transaction holds the account
// (GATEHOUSE_TEST_HOLD, default 4s; the figure is 25s).
func holdFor() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("GATEHOUSE_TEST_HOLD")); err == nil && d > 0 {
		return d
	}
	return 4 * time.Second
}

// latencies are request durations.
type latencies []time.Duration

func (l latencies) quantile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func (l latencies) String() string {
	return fmt.Sprintf("n=%d p50=%s p99=%s max=%s", len(l), l.quantile(.5).Round(time.Microsecond),
		l.quantile(.99).Round(time.Microsecond), l.quantile(1).Round(time.Microsecond))
}

// holdAccount opens a transaction from outside Gatehouse that holds the
// account's row (PostgreSQL) or the database's write lock (SQLite, which
// has one writer at a time), until release is called.
func holdAccount(t *testing.T, e *env, accountID string) (release func()) {
	target := e.DB.URL
	if e.Dialect == dialect.SQLite {
		target = "file:" + e.DB.URL + "?_txlock=immediate"
	}
	driver := map[string]string{dialect.Postgres: "postgres", dialect.SQLite: "sqlite"}[e.Dialect]
	db, err := sql.Open(driver, target)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Dialect == dialect.Postgres {
		_, err = tx.Exec("SELECT id FROM accounts WHERE id = $1 FOR UPDATE", accountID)
	} else {
		_, err = tx.Exec("UPDATE accounts SET name = name WHERE id = ?", accountID)
	}
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { _ = tx.Rollback(); db.Close() }) }
	t.Cleanup(release)
	return release
}

// P5: an outside transaction holds one account. That account's writers get
// ACCOUNT_BUSY within the lock timeout instead of hanging, without taking the
// pool from everyone else; other accounts' reads and decisions (and, on
// PostgreSQL, writes) go on at their usual pace.
func TestP5_OneAccountCannotStallTheRest(t *testing.T) {
	const lockTimeout = time.Second
	forEachDBWith(t, server.Config{DBLockTimeout: lockTimeout}, func(t *testing.T, e *env) {
		stuck := e.newAccount("stuck", nil)
		other := e.newAccount("other", nil)
		key := e.createKey(other.Owner, map[string]any{"accountId": other.ID, "name": "decisions"}).Get("data.createApiKey.secret").String()
		decide := map[string]any{"in": map[string]any{"accountId": other.ID, "permission": "AgentChat"}}
		page := map[string]any{"id": other.ID}
		const members = `query($id: ID!) { account(id: $id) { members(first: 100) { edges { node { id roles { key grants } effectivePermissions } } } } }`
		e.ok(key, authorize, decide)
		e.ok(other.Owner, members, page)

		hold := holdFor()
		release := holdAccount(t, e, stuck.ID)
		start := time.Now()
		ctx, stop := context.WithTimeout(context.Background(), hold)
		defer stop()

		// 30 writers of the held account at once, more than the pool has.
		var wg sync.WaitGroup
		var mu sync.Mutex
		var busy latencies
		codes := map[string]int{}
		for i := range 30 {
			wg.Go(func() {
				t0 := time.Now()
				r := e.gql(stuck.Owner, `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id } } }`,
					map[string]any{"in": map[string]any{"accountId": stuck.ID, "name": fmt.Sprintf("Blocked %d", i)}})
				mu.Lock()
				defer mu.Unlock()
				busy = append(busy, time.Since(t0))
				codes[r.Code()+"/"+r.Get("errors.0.extensions.reason").String()]++
			})
		}
		// Meanwhile, other accounts are served.
		var reads, decisions, writes latencies
		for n := 0; ctx.Err() == nil; n++ {
			for _, c := range []struct {
				into  *latencies
				cred  string
				query string
				vars  map[string]any
			}{
				{&decisions, key, authorize, decide},
				{&reads, other.Owner, members, page},
				{&writes, other.Owner, `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id } } }`,
					map[string]any{"in": map[string]any{"accountId": other.ID, "name": fmt.Sprintf("Free %d", n)}}},
			} {
				if c.into == &writes && e.Dialect == dialect.SQLite {
					continue // SQLite's one write lock is the held one
				}
				t0 := time.Now()
				e.ok(c.cred, c.query, c.vars)
				*c.into = append(*c.into, time.Since(t0))
			}
			time.Sleep(10 * time.Millisecond)
		}
		wg.Wait()
		release()
		t.Logf("held %s for %s; its 30 writers: %v in %s", stuck.ID, time.Since(start).Round(time.Millisecond), codes, busy)
		t.Logf("other account meanwhile: decisions %s; member pages %s; writes %s", decisions, reads, writes)
		if codes["CONFLICT/ACCOUNT_BUSY"] != 30 {
			t.Errorf("the held account's writers: %v, want 30 × CONFLICT/ACCOUNT_BUSY", codes)
		}
		// Loose bounds in CI; the (p99 under 100 ms) with strict timing.
		bound, writerBound := 2*time.Second, 4*lockTimeout
		if strictTiming() {
			bound, writerBound = 100*time.Millisecond, lockTimeout+500*time.Millisecond
		}
		if busy.quantile(1) > writerBound {
			t.Errorf("a blocked writer waited %s (lock timeout %s)", busy.quantile(1), lockTimeout)
		}
		for name, l := range map[string]latencies{"decisions": decisions, "member pages": reads, "writes": writes} {
			if q := l.quantile(.99); q > bound {
				t.Errorf("other account's %s: p99 %s over %s", name, q, bound)
			}
		}
		// Once released, the account takes changes again.
		e.createRole(stuck.Owner, stuck.ID, "After", nil)
	})
}
