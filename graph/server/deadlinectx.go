package server

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// deadlineCtx is a request's context with its deadline (bounded), and its
// outage flag as the value of outageKey. Its timer starts only when someone
// first waits on it: a warm decision never does, and context.WithDeadline's
// timer, its registration with the connection's context and a value context
// took about 3 % of a decision's CPU. Whoever calls Done (a query, a lock
// wait, a child context) gets a context.WithDeadline made then, with the
// same deadline, which ends as the standard one would.
type deadlineCtx struct {
	context.Context // the request's
	deadline        time.Time
	outage          *atomic.Bool

	once    sync.Once
	started atomic.Bool     // inner is made (by start or release)
	waited  atomic.Bool     // inner is start's: it answers for values too
	inner   context.Context // start's, or one canceled already (release)
	cancel  context.CancelFunc
}

// init derives c from parent; release must be called when the request
// ends, as a CancelFunc would.
func (c *deadlineCtx) init(parent context.Context, d time.Time, outage *atomic.Bool) {
	c.Context, c.deadline, c.outage = parent, d, outage
}

// start makes the standard context this one is from now on.
func (c *deadlineCtx) start() context.Context {
	c.once.Do(func() {
		c.inner, c.cancel = context.WithDeadline(c.Context, c.deadline)
		c.waited.Store(true)
		c.started.Store(true)
	})
	return c.inner
}

// release ends the context (Canceled, unless it ended before), as the
// CancelFunc of context.WithDeadline does. A context never waited on
// becomes one that is canceled already.
func (c *deadlineCtx) release() {
	c.once.Do(func() {
		c.inner, c.cancel = canceled, func() {}
		c.started.Store(true)
	})
	c.cancel()
}

// canceled is the context a deadlineCtx released before anyone waited on
// it ends as: Done closed, Err Canceled (its values stay its parent's).
var canceled = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

func (c *deadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *deadlineCtx) Done() <-chan struct{} { return c.start().Done() }

// Err is nil until the deadline passes or the parent ends; then it is what
// Done's context says (Done closes as soon as it is asked for).
func (c *deadlineCtx) Err() error {
	if !c.started.Load() {
		if c.Context.Err() == nil && time.Now().Before(c.deadline) {
			return nil
		}
	}
	return c.start().Err()
}

// Value answers for the outage flag, and for the rest as the parent does.
// Once waited on, the standard context answers: it has the same values,
// and context's own lookup of its cancellation finds it there, so that a
// child context registers with it directly (no AfterFunc).
func (c *deadlineCtx) Value(key any) any {
	if _, ok := key.(outageKey); ok {
		return c.outage
	}
	if c.waited.Load() {
		return c.inner.Value(key)
	}
	return c.Context.Value(key)
}

// AfterFunc lets context.AfterFunc and child contexts (context.WithCancel
// of this one) register with it instead of each starting a goroutine that
// waits on Done.
func (c *deadlineCtx) AfterFunc(f func()) func() bool {
	return context.AfterFunc(c.start(), f)
}
