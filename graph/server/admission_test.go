package server

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/vektah/gqlparser/v2/ast"
	"golang.org/x/sync/semaphore"
)

func testAdmission(n int, wait time.Duration) admission {
	return admission{sem: semaphore.NewWeighted(int64(n)), wait: wait,
		waited: prometheus.NewCounter(prometheus.CounterOpts{Name: "waited"}), skipped: prometheus.NewCounter(prometheus.CounterOpts{Name: "skipped"})}
}

func operation(op ast.Operation) context.Context {
	return graphql.WithOperationContext(context.Background(), &graphql.OperationContext{Operation: &ast.OperationDefinition{Operation: op}})
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// At most n queries run at once; the others run in the order they came.
func TestAdmission_QueriesRunNAtOnceInArrivalOrder(t *testing.T) {
	const n, queries = 2, 6
	a := testAdmission(n, time.Minute)
	release := make([]chan struct{}, queries)
	var mu sync.Mutex
	var running, most int
	var order []int
	ran := func() []int { mu.Lock(); defer mu.Unlock(); return slices.Clone(order) }
	var wg sync.WaitGroup
	for i := range queries {
		release[i] = make(chan struct{})
		wg.Go(func() {
			a.InterceptResponse(operation(ast.Query), func(context.Context) *graphql.Response {
				mu.Lock()
				running++
				most = max(most, running)
				order = append(order, i)
				mu.Unlock()
				<-release[i]
				mu.Lock()
				running--
				mu.Unlock()
				return &graphql.Response{}
			})
		})
		if i < n {
			waitFor(t, "the first queries run", func() bool { return len(ran()) == i+1 })
			continue
		}
		waitFor(t, "the query waits", func() bool { return testutil.ToFloat64(a.waited) == float64(i-n+1) })
		time.Sleep(20 * time.Millisecond) // from counting to queueing is a few instructions
	}
	// Each query that ends gives its turn to the longest waiting.
	for i := range queries - n {
		close(release[i])
		waitFor(t, "the next query runs", func() bool { return len(ran()) == n+i+1 })
		if got := ran(); got[n+i] != n+i {
			t.Fatalf("queries ran in the order %v, want their arrival order", got)
		}
	}
	for i := queries - n; i < queries; i++ {
		close(release[i])
	}
	wg.Wait()
	if most != n {
		t.Errorf("%d queries ran at once, want %d", most, n)
	}
	if k := testutil.ToFloat64(a.skipped); k != 0 {
		t.Errorf("%v queries ran without a turn", k)
	}
}

// holdTurn starts a query that holds a turn until release is called.
func holdTurn(a admission) (release func()) {
	stuck, started := make(chan struct{}), make(chan struct{})
	go a.InterceptResponse(operation(ast.Query), func(context.Context) *graphql.Response {
		close(started)
		<-stuck
		return nil
	})
	<-started
	return func() { close(stuck) }
}

// A query waits for its turn at most the queue wait, then runs anyway: a
// query stuck on storage delays the others, never stops them.
func TestAdmission_AQueryWaitsAtMostTheQueueWait(t *testing.T) {
	a := testAdmission(1, 20*time.Millisecond)
	defer holdTurn(a)()
	done := make(chan *graphql.Response)
	go func() {
		done <- a.InterceptResponse(operation(ast.Query), func(context.Context) *graphql.Response { return &graphql.Response{} })
	}()
	select {
	case r := <-done:
		if r == nil {
			t.Fatal("no response")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a query waited behind a stuck one for 10 s")
	}
	if testutil.ToFloat64(a.waited) != 1 || testutil.ToFloat64(a.skipped) != 1 {
		t.Fatalf("waited %v, ran without a turn %v; want 1 and 1", testutil.ToFloat64(a.waited), testutil.ToFloat64(a.skipped))
	}
}

// Mutations, subscriptions and requests refused before they became an
// operation (a body that does not decode) never wait for a query's turn.
func TestAdmission_MutationsAndSubscriptionsAreNotQueued(t *testing.T) {
	a := testAdmission(1, time.Minute)
	defer holdTurn(a)()
	for op, ctx := range map[string]context.Context{"mutation": operation(ast.Mutation), "subscription": operation(ast.Subscription),
		"request refused before it became an operation": context.Background()} {
		done := make(chan struct{})
		go func() {
			a.InterceptResponse(ctx, func(context.Context) *graphql.Response { return nil })
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("a %s waited for a query's turn", op)
		}
	}
	if n := testutil.ToFloat64(a.waited); n != 0 {
		t.Errorf("%v operations waited", n)
	}
}
