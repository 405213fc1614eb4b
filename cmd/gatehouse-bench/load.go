package main

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// op is one request of a workload, made by client number `client` for its
// j-th time. An error is counted and the client goes on; a fatal one
// (transport failures: the server is gone) stops the window.
type op func(ctx context.Context, client, j int) error

// fatalError stops a window.
type fatalError struct{ error }

func fatal(err error) error { return fatalError{err} }

// window is what was measured of one workload: one run of drive, or the
// merge of a round's slices.
type window struct {
	round    int // set by the round that measured it
	clients  int
	d        time.Duration   // measured time
	lat      []time.Duration // latencies of the requests started inside d and answered without error
	errors   int             // requests started inside d that failed
	firstErr error
	p50, p99 time.Duration // set by finish
	// cpu is the server's CPU time from the window's start until every
	// client stopped, and completed the requests answered meanwhile (its
	// denominator); zero when there is no process to watch.
	cpu       time.Duration
	completed int
	// loads is the change of the server's model-load counter (-1: unknown).
	loads float64
}

func (w window) rps() float64 { return float64(len(w.lat)) / w.d.Seconds() }

func (w window) cpuPerRequest() (time.Duration, bool) {
	if w.cpu <= 0 || w.completed == 0 {
		return 0, false
	}
	return w.cpu / time.Duration(w.completed), true
}

// merge adds another slice of the same workload.
func (w *window) merge(x window) {
	if w.d == 0 {
		*w = x
		return
	}
	w.d += x.d
	w.lat = append(w.lat, x.lat...)
	w.errors += x.errors
	if w.firstErr == nil {
		w.firstErr = x.firstErr
	}
	w.cpu += x.cpu
	w.completed += x.completed
	if w.loads < 0 || x.loads < 0 {
		w.loads = -1
	} else {
		w.loads += x.loads
	}
}

// finish computes the percentiles.
func (w *window) finish() {
	slices.Sort(w.lat)
	w.p50, w.p99 = percentile(w.lat, 50), percentile(w.lat, 99)
}

// probes read the server's state at the window's edges.
type probes struct {
	pid   int                    // the server process whose CPU time is read (0: none)
	loads func() (float64, bool) // the model-load counter, when the server has one
}

// drive runs op from `clients` goroutines: for warm (unrecorded), then for
// d, recording the latency of every request started inside d.
func drive(ctx context.Context, clients int, warm, d time.Duration, do op, p probes) (window, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg        sync.WaitGroup
		lat       = make([][]time.Duration, clients)
		errs      = make([]int, clients)
		completed atomic.Int64
		measuring atomic.Bool
		errOnce   sync.Once
		firstErr  error
		fatalErr  error
	)
	t0 := time.Now()
	from, end := t0.Add(warm), t0.Add(warm+d)
	var (
		cpu0      time.Duration
		haveCPU   bool
		loads0    float64
		haveLoads bool
	)
	opened := make(chan struct{})
	startTimer := time.AfterFunc(warm, func() {
		defer close(opened)
		if p.pid > 0 {
			cpu0, haveCPU = cpuTimeOK(p.pid)
		}
		if p.loads != nil {
			loads0, haveLoads = p.loads()
		}
		measuring.Store(true)
	})
	for i := range clients {
		wg.Go(func() {
			mine := make([]time.Duration, 0, 1<<12)
			for j := 0; ctx.Err() == nil; j++ {
				start := time.Now()
				if !start.Before(end) {
					break
				}
				err := do(ctx, i, j)
				if measuring.Load() {
					completed.Add(1)
				}
				if err != nil {
					if fe, ok := errors.AsType[fatalError](err); ok {
						errOnce.Do(func() { fatalErr = fe.error })
						cancel()
						return
					}
					errOnce.Do(func() { firstErr = err })
				}
				if start.Before(from) {
					continue
				}
				if err != nil {
					errs[i]++
					continue
				}
				mine = append(mine, time.Since(start))
			}
			lat[i] = mine
		})
	}
	wg.Wait()
	if !startTimer.Stop() {
		<-opened
	}
	w := window{clients: clients, d: d, firstErr: firstErr, loads: -1, completed: int(completed.Load())}
	if haveCPU {
		if cpu1, ok := cpuTimeOK(p.pid); ok {
			w.cpu = cpu1 - cpu0
		}
	}
	if haveLoads {
		if l1, ok := p.loads(); ok {
			w.loads = l1 - loads0
		}
	}
	if fatalErr != nil {
		return w, fatalErr
	}
	if err := ctx.Err(); err != nil {
		return w, err
	}
	w.lat = slices.Concat(lat...)
	for _, e := range errs {
		w.errors += e
	}
	return w, nil
}

func cpuTimeOK(pid int) (time.Duration, bool) {
	d, err := cpuTime(pid)
	return d, err == nil
}

// percentile of sorted latencies (nearest rank).
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100 // ceil(n·p/100)
	return sorted[max(i, 1)-1]
}
