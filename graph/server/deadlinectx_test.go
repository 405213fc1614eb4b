package server

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// The request deadline of rule P5 ends like context.WithDeadline's, whether
// or not anyone waited on it before it passed.

type ctxKey struct{}

func newDeadlineCtx(parent context.Context, d time.Duration) (*deadlineCtx, *atomic.Bool) {
	var flag atomic.Bool
	c := &deadlineCtx{}
	c.init(parent, time.Now().Add(d), &flag)
	return c, &flag
}

func closedWithin(t *testing.T, done <-chan struct{}, d time.Duration) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("Done not closed within %v", d)
	}
}

func TestDeadlineCtx_P5_EndsAtItsDeadlineWhenWaitedOn(t *testing.T) {
	c, _ := newDeadlineCtx(context.Background(), 50*time.Millisecond)
	defer c.release()
	if err := c.Err(); err != nil {
		t.Fatalf("Err before the deadline: %v", err)
	}
	if d, ok := c.Deadline(); !ok || time.Until(d) > 50*time.Millisecond {
		t.Fatalf("Deadline() = %v, %v", d, ok)
	}
	closedWithin(t, c.Done(), 5*time.Second)
	if !errors.Is(c.Err(), context.DeadlineExceeded) || !errors.Is(context.Cause(c), context.DeadlineExceeded) {
		t.Fatalf("Err %v, Cause %v; want DeadlineExceeded", c.Err(), context.Cause(c))
	}
}

func TestDeadlineCtx_P5_EndsAtItsDeadlineWhenNeverWaitedOn(t *testing.T) {
	c, _ := newDeadlineCtx(context.Background(), 20*time.Millisecond)
	defer c.release()
	time.Sleep(40 * time.Millisecond)
	if !errors.Is(c.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err after the deadline = %v, want DeadlineExceeded", c.Err())
	}
	closedWithin(t, c.Done(), time.Second) // asked for late, closed already
}

func TestDeadlineCtx_P5_EndsWithItsParent(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	c, _ := newDeadlineCtx(parent, time.Hour)
	defer c.release()
	child, stop := context.WithCancel(c) // registers through AfterFunc
	defer stop()
	cancel()
	closedWithin(t, child.Done(), 5*time.Second)
	if !errors.Is(c.Err(), context.Canceled) || !errors.Is(child.Err(), context.Canceled) {
		t.Fatalf("Err %v, child's %v; want Canceled", c.Err(), child.Err())
	}

	// A parent that ended before anyone asked: Err says so at once.
	c2, _ := newDeadlineCtx(parent, time.Hour)
	defer c2.release()
	if !errors.Is(c2.Err(), context.Canceled) {
		t.Fatalf("Err of a context whose parent ended = %v", c2.Err())
	}
}

func TestDeadlineCtx_P5_ChildrenAndAfterFuncsEndAtTheDeadline(t *testing.T) {
	c, _ := newDeadlineCtx(context.Background(), 30*time.Millisecond)
	defer c.release()
	child, stop := context.WithCancel(c)
	defer stop()
	ran := make(chan struct{})
	context.AfterFunc(c, func() { close(ran) })
	closedWithin(t, child.Done(), 5*time.Second)
	closedWithin(t, ran, 5*time.Second)
	if !errors.Is(child.Err(), context.DeadlineExceeded) {
		t.Fatalf("child's Err = %v, want DeadlineExceeded", child.Err())
	}
}

func TestDeadlineCtx_ReleaseCancels(t *testing.T) {
	for _, waited := range []bool{false, true} {
		c, _ := newDeadlineCtx(context.Background(), time.Hour)
		if waited {
			_ = c.Done()
		}
		c.release()
		closedWithin(t, c.Done(), time.Second)
		if !errors.Is(c.Err(), context.Canceled) {
			t.Fatalf("waited %v: Err after release = %v, want Canceled", waited, c.Err())
		}
		c.release() // twice is harmless, as a CancelFunc
	}
}

func TestDeadlineCtx_CarriesTheOutageFlagAndItsParentsValues(t *testing.T) {
	parent := context.WithValue(context.Background(), ctxKey{}, "v")
	c, flag := newDeadlineCtx(parent, time.Hour)
	defer c.release()
	if c.Value(ctxKey{}) != "v" {
		t.Fatalf("parent's value lost: %v", c.Value(ctxKey{}))
	}
	markUnavailable(context.WithValue(c, ctxKey{}, "inner"), newMetrics(nil, "test", "test"), "test")
	if !flag.Load() {
		t.Fatal("markUnavailable did not reach the request's outage flag")
	}
	// Once waited on, the standard context answers for values: the same.
	_ = c.Done()
	if c.Value(ctxKey{}) != "v" || c.Value(outageKey{}) != flag {
		t.Fatalf("after Done: value %v, outage flag %v", c.Value(ctxKey{}), c.Value(outageKey{}))
	}
	// Released before anyone waited, it keeps its parent's values.
	c2, _ := newDeadlineCtx(parent, time.Hour)
	c2.release()
	if c2.Value(ctxKey{}) != "v" {
		t.Fatalf("after release: value %v", c2.Value(ctxKey{}))
	}
}
