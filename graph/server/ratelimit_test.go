package server

import (
	"context"
	"fmt"
	"testing"

	"github.com/gatehouse-iam/gatehouse/graph/auth"
)

// P3: only addresses that failed to authenticate have a failure bucket.
// Requests from others make none, so a crowd of them cannot push a guessing
// address's bucket out of the bounded cache and lift its block.
func TestFailureLimiter_OnlyFailingAddressesHaveABucket(t *testing.T) {
	f := newFailureLimiter(0.001, 2, newMetrics(nil, "test", "test")).(*failureLimiter)
	from := func(addr string) context.Context {
		return auth.WithMeta(context.Background(), auth.Meta{ClientAddr: addr})
	}
	for i := range 100 {
		if _, blocked := f.Blocked(from(fmt.Sprintf("198.51.100.%d", i))); blocked {
			t.Fatalf("address %d blocked without a failure", i)
		}
	}
	if n := f.byKey.Len(); n != 0 {
		t.Fatalf("%d buckets for addresses that never failed", n)
	}
	guesser := from("203.0.113.66")
	f.Failed(guesser, "wrong secret")
	f.Failed(guesser, "wrong secret")
	if wait, blocked := f.Blocked(guesser); !blocked || wait <= 0 {
		t.Fatalf("after its burst of failures: blocked %v, wait %v", blocked, wait)
	}
	if f.byKey.Len() != 1 {
		t.Fatalf("%d buckets, want the failing address's only", f.byKey.Len())
	}
}
