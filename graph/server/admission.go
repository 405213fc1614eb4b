package server

import (
	"context"
	"runtime"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
	"golang.org/x/sync/semaphore"
)

// admission runs a bounded number of queries at once; the others wait their
// turn in arrival order. A server's queries answer from memory and use the
// CPU: past a few at once, more only share it, and each takes longer. Left
// to share, 16 members pages at once on 2 CPUs answered in 12 ms at the
// median but 70-95 ms at the 99th percentile (SQLite); four at a time, in
// 19 and 36 ms, as many a second.
//
// A query waits at most wait for its turn, then runs anyway, so that queries
// stuck on storage (an outage holds them until their statement timeout)
// delay the others by wait at most instead of stopping them: decisions keep
// answering from the models in memory (P5). Mutations are not admitted:
// they wait for their accounts' locks, not for the CPU, and a write queued
// behind another must not hold a turn that a read could use; nor are
// subscriptions, which live for as long as their clients listen.
type admission struct {
	sem     *semaphore.Weighted
	wait    time.Duration
	waited  prometheus.Counter // queries that waited for their turn
	skipped prometheus.Counter // queries that ran without one
}

// newAdmission admits n queries at once (0: twice GOMAXPROCS).
func newAdmission(n int, wait time.Duration, met *metrics) admission {
	if n <= 0 {
		n = 2 * runtime.GOMAXPROCS(0)
	}
	return admission{sem: semaphore.NewWeighted(int64(n)), wait: wait,
		waited: met.admission.WithLabelValues("waited"), skipped: met.admission.WithLabelValues("ran_without_turn")}
}

func (admission) ExtensionName() string                   { return "Admission" }
func (admission) Validate(graphql.ExecutableSchema) error { return nil }

func (a admission) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) { // a request refused before it became an operation
		return next(ctx)
	}
	if op := graphql.GetOperationContext(ctx).Operation; op == nil || op.Operation != ast.Query {
		return next(ctx)
	}
	if !a.sem.TryAcquire(1) {
		a.waited.Inc()
		wait, cancel := context.WithTimeout(ctx, a.wait)
		err := a.sem.Acquire(wait, 1)
		cancel()
		if err != nil {
			a.skipped.Inc()
			return next(ctx)
		}
	}
	defer a.sem.Release(1)
	return next(ctx)
}
