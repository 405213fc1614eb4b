package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// runOpts are the `run` command's options.
type runOpts struct {
	manifest  string // a seeded dataset; empty seeds one for this run
	dialect   string // sqlite or postgres, when seeding
	postgres  string // the PostgreSQL server to create the database on
	shape     Shape
	gatehouse string // the gatehouse binary
	rounds    int
	window    time.Duration // measured time per workload and round
	slice     time.Duration // the window is measured in slices this long, interleaved with the other workloads'
	warm      time.Duration // unrecorded load before a workload's first slice
	groups    []string      // --workloads
	keep      bool          // keep the seeded database and the logs
	serverEnv []string      // extra KEY=VALUE for the server
	countN    int           // requests per workload in the SQL counting pass
}

// bench is one run: the dataset, the processes and what was measured.
type bench struct {
	opts    runOpts
	m       *Manifest
	dir     string
	version string
	calls   calls
	jwts    []string
	bare    *bareServer
	server  *gatehouseServer // the current one
	locked  *sql.DB
	tag     string // makes this run's role names unique
	roleSeq atomic.Int64
	skip    map[string]string // workload id → why it does not run
	log     func(format string, args ...any)

	windows  map[string][]window // workload id → one per round
	failures map[string][]string // workload id → what went wrong, per failed round
	cold     []time.Duration
	mem      []memory
	counts   []sqlCount
	loadAvg  []string
}

// memory is the server's memory before and after warming every account.
type memory struct {
	base, warm         int64 // RSS
	heapBase, heapWarm float64
	haveHeap           bool
	liveBase, liveWarm float64 // the heap live after a GC that ended after warming
	haveLive           bool
	accounts           int
	took               time.Duration // warming every account
}

// sqlCount is one workload's statements per request, counted on the wire.
type sqlCount struct {
	label                    string
	statements, transactions float64
	skipped                  string
}

// selected reports whether the --workloads list names one of groups (a
// workload is selected by its groups or its id).
func (o runOpts) selected(groups ...string) bool {
	for _, g := range o.groups {
		if g == "all" || slices.Contains(groups, g) {
			return true
		}
		if g == "scale" && slices.ContainsFunc(groups, func(s string) bool {
			return s == "authorize" || s == "memory" || s == "coldstart"
		}) {
			return true
		}
	}
	return false
}

// runBench seeds (unless given a manifest), measures and prints the report.
func runBench(ctx context.Context, o runOpts, out io.Writer) (err error) {
	b := &bench{opts: o, skip: map[string]string{}, windows: map[string][]window{}, failures: map[string][]string{},
		tag: randomTag(), log: func(format string, args ...any) { fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...) }}
	if b.dir, err = os.MkdirTemp("", "gatehouse-bench-"); err != nil {
		return err
	}
	defer func() {
		if o.keep || err != nil {
			b.log("logs kept in %s", b.dir)
			return
		}
		os.RemoveAll(b.dir)
	}()
	if b.version, err = gatehouseVersion(o.gatehouse); err != nil {
		return err
	}
	if o.manifest != "" {
		if b.m, err = loadManifest(o.manifest); err != nil {
			return err
		}
	} else {
		target, drop, err := newTarget(o.dialect, b.dir, o.postgres)
		if err != nil {
			return err
		}
		defer func() {
			if o.keep {
				return
			}
			if err := drop(); err != nil {
				b.log("could not drop the seeded database: %v", err)
			}
		}()
		b.log("seeding %s on %s", o.shape, o.dialect)
		if b.m, err = seed(ctx, target, o.shape, b.log); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		path := filepath.Join(b.dir, "manifest.json")
		if err := b.m.save(path); err != nil {
			return err
		}
		b.log("seeded in %s; manifest %s", b.m.SeededIn.Round(time.Millisecond), path)
	}
	if b.jwts, err = ownerTokens(b.m); err != nil {
		return err
	}
	b.calls = prepareCalls(b.m, b.jwts)

	var chosen []workload
	for _, w := range workloads() {
		if o.selected(slices.Concat(w.groups, []string{w.id})...) {
			chosen = append(chosen, w)
		}
	}
	if slices.ContainsFunc(chosen, func(w workload) bool { return w.on == onBare }) {
		if b.bare, err = startBare(b.dir); err != nil {
			return err
		}
		defer b.bare.stop()
	}
	if slices.ContainsFunc(chosen, func(w workload) bool { return w.on == onDatabase }) {
		if b.locked, err = openLocked(b.m, 16); err != nil {
			return fmt.Errorf("bare locked insert: %w", err)
		}
		defer b.locked.Close()
	}
	defer func() {
		if b.server != nil {
			b.server.stop()
		}
	}()

	b.loadAvg = append(b.loadAvg, loadAverage())
	for r := 1; r <= o.rounds; r++ {
		if err := b.round(ctx, r, chosen); err != nil {
			return err
		}
	}
	if b.m.Dialect == "postgres" && o.selected("sql") {
		if err := b.countSQL(ctx, chosen); err != nil {
			return fmt.Errorf("SQL counting pass: %w", err)
		}
	}
	b.loadAvg = append(b.loadAvg, loadAverage())
	b.report(out)
	return nil
}

// round starts a fresh server (the cold start), warms every account (the
// memory per account), then measures the reads and then the writes, each
// phase interleaved in slices: every workload of the phase runs for a slice
// in turn until each has had its window. Slices keep the comparisons fair on
// a machine whose load changes from second to second; writes come last so
// that no read meets a model a write has just invalidated.
func (b *bench) round(ctx context.Context, r int, chosen []workload) error {
	g, err := b.startGatehouse(ctx, b.m.Database)
	if err != nil {
		return err
	}
	b.server = g
	defer g.stop()
	b.cold = append(b.cold, g.coldStart)
	b.log("round %d/%d: gatehouse answered its first decision %s after starting", r, b.opts.rounds, fmtDur(g.coldStart))
	mem, err := b.warmAll(ctx, g)
	if err != nil {
		return err
	}
	b.mem = append(b.mem, mem)
	b.log("round %d/%d: RSS %s after the first decision, %s with %d accounts warm (warmed in %s)",
		r, b.opts.rounds, fmtBytes(mem.base), fmtBytes(mem.warm), mem.accounts, fmtDur(mem.took))
	var reads, writes []workload
	for _, w := range chosen {
		if !b.runnable(w) {
			continue
		}
		if slices.Contains(w.groups, "writes") {
			writes = append(writes, w)
		} else {
			reads = append(reads, w)
		}
	}
	for _, phase := range [][]workload{reads, writes} {
		if err := b.phase(ctx, r, g, phase); err != nil {
			return err
		}
	}
	g.stop()
	if len(writes) > 0 {
		return b.resetWrites(ctx)
	}
	return nil
}

// phase measures workloads interleaved in slices (see round).
func (b *bench) phase(ctx context.Context, r int, g *gatehouseServer, ws []workload) error {
	acc := make([]window, len(ws))
	failed := make([]bool, len(ws))
	// One client per workload for the whole phase: its connections stay
	// open from slice to slice.
	clients := make([]*http.Client, len(ws))
	for i, w := range ws {
		client, closeIdle := loadClient(w.clients)
		defer closeIdle()
		clients[i] = client
	}
	n := int((b.opts.window + b.opts.slice - 1) / b.opts.slice)
	for s := range n {
		d := min(b.opts.slice, b.opts.window-time.Duration(s)*b.opts.slice)
		warm := b.opts.warm
		if s > 0 {
			warm = min(warm, 100*time.Millisecond) // the clients' ramp; connections are open
		}
		for i, w := range ws {
			if failed[i] {
				continue
			}
			win, err := b.measure(ctx, g, w, clients[i], warm, d)
			if g.exited() {
				return fmt.Errorf("gatehouse exited during %s (%v):\n%s", w.label, g.err, tail(g.logPath, 15))
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				failed[i] = true
				b.failures[w.id] = append(b.failures[w.id], err.Error())
				b.log("round %d/%d: %-48s c=%-3d FAILED: %v", r, b.opts.rounds, w.label, w.clients, err)
				continue
			}
			acc[i].merge(win)
		}
	}
	for i, w := range ws {
		if failed[i] {
			continue
		}
		win := acc[i]
		if len(win.lat) == 0 && win.errors == 0 {
			b.failures[w.id] = append(b.failures[w.id], "no request started in the window was answered")
			continue
		}
		win.finish()
		win.round = r
		b.windows[w.id] = append(b.windows[w.id], win)
		if win.firstErr != nil && win.errors > 0 {
			b.failures[w.id] = append(b.failures[w.id], fmt.Sprintf("%d errors, the first: %v", win.errors, win.firstErr))
		}
		cpu := "n/a"
		if c, ok := win.cpuPerRequest(); ok {
			cpu = fmtDur(c)
		}
		b.log("round %d/%d: %-48s c=%-3d %9.0f req/s  p50 %-8s p99 %-8s CPU/req %-8s errors %d",
			r, b.opts.rounds, w.label, w.clients, win.rps(), fmtDur(win.p50), fmtDur(win.p99), cpu, win.errors)
	}
	return nil
}

// runnable reports whether w can run, asking the server the first time.
func (b *bench) runnable(w workload) bool {
	if _, asked := b.skip[w.id]; !asked {
		b.skip[w.id] = ""
		if w.available != nil {
			b.skip[w.id] = w.available(b)
			if b.skip[w.id] != "" {
				b.log("%s: not measured: %s", w.label, b.skip[w.id])
			}
		}
	}
	return b.skip[w.id] == ""
}

// measure runs one slice of w.
func (b *bench) measure(ctx context.Context, g *gatehouseServer, w workload, client *http.Client, warm, d time.Duration) (window, error) {
	var (
		do op
		p  probes
	)
	switch w.on {
	case onDatabase:
		do = w.dbOp(b)
	default:
		base := g.url
		p.pid = g.pid()
		p.loads = func() (float64, bool) { return g.metrics.value(modelLoadsMetric) }
		if w.on == onBare {
			base, p.pid, p.loads = b.bare.url, b.bare.pid(), nil
		}
		do = httpOp(client, base, w.next(b), w.check)
	}
	return drive(ctx, w.clients, warm, d, do, p)
}

// warmAll loads every account's model and every member's permissions (one
// authorizeMany per account, four at a time) and reads the server's memory
// before and after.
func (b *bench) warmAll(ctx context.Context, g *gatehouseServer) (memory, error) {
	var m memory
	var err error
	if m.base, err = rss(g.pid()); err != nil {
		return m, err
	}
	heap0, ok0 := g.metrics.value(heapMetric)
	live0, okLive0 := b.liveAfterGC(ctx, g)
	reqs := warmBodies(b.m)
	start := time.Now()
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	client, closeIdle := loadClient(4)
	defer closeIdle()
	check := graphQLAnswer(`"allowed":`)
	for range 4 {
		wg.Go(func() {
			var buf bytes.Buffer
			for {
				i := int(next.Add(1)) - 1
				if i >= len(reqs) || ctx.Err() != nil {
					return
				}
				r := reqs[i]
				buf.Reset()
				status, err := post(ctx, client, g.url+r.path, r.auth, r.body, &buf)
				if err == nil && status != http.StatusOK {
					err = fmt.Errorf("HTTP %d: %s", status, cutBody(buf.Bytes()))
				}
				if err == nil {
					err = check(buf.Bytes())
				}
				if err != nil {
					errOnce.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return m, fmt.Errorf("warming the accounts: %w", first)
	}
	if err := ctx.Err(); err != nil {
		return m, err
	}
	m.took = time.Since(start)
	if m.warm, err = rss(g.pid()); err != nil {
		return m, err
	}
	heap1, ok1 := g.metrics.value(heapMetric)
	m.heapBase, m.heapWarm, m.haveHeap = heap0, heap1, ok0 && ok1
	live1, okLive1 := b.liveAfterGC(ctx, g)
	m.liveBase, m.liveWarm, m.haveLive = live0, live1, okLive0 && okLive1
	m.accounts = len(b.m.Accounts)
	return m, nil
}

// liveAfterGC is the server's heap live after a GC that begins from now on:
// it sends `{ __typename }` with the operator key (which allocates, loads no
// model and keeps nothing) until the server has completed two more GC
// cycles, for at most 30 s. Heap in use also holds the garbage of warming;
// this is what stays.
func (b *bench) liveAfterGC(ctx context.Context, g *gatehouseServer) (float64, bool) {
	before, ok := g.metrics.value(gcMetric)
	if !ok {
		return 0, false
	}
	client, closeIdle := loadClient(1)
	defer closeIdle()
	body := gqlBody(typenameQuery, nil)
	var buf bytes.Buffer
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil; {
		for range 200 {
			buf.Reset()
			if _, err := post(ctx, client, g.url+"/graphql", b.m.Operator, body, &buf); err != nil {
				return 0, false
			}
		}
		if n, _ := g.metrics.value(gcMetric); n > before+1 { // a whole cycle began and ended since
			return g.metrics.value(liveMetric)
		}
	}
	return 0, false
}

// once sends one request to the current server.
func (b *bench) once(r request) (int, []byte, error) {
	var buf bytes.Buffer
	client := &http.Client{Timeout: 10 * time.Second}
	status, err := post(context.Background(), client, b.server.url+r.path, r.auth, r.body, &buf)
	return status, buf.Bytes(), err
}

// ownerTokens are HS256 JWTs for each account's owner, valid for the run.
func ownerTokens(m *Manifest) ([]string, error) {
	out := make([]string, len(m.Accounts))
	now := time.Now()
	for i, a := range m.Accounts {
		tok, err := jwt.NewBuilder().Claim("email", a.OwnerEmail).IssuedAt(now).Expiration(now.Add(12 * time.Hour)).Build()
		if err != nil {
			return nil, err
		}
		signed, err := jwt.Sign(tok, jwt.WithKey(jwa.HS256(), []byte(m.JWTSecret)))
		if err != nil {
			return nil, err
		}
		out[i] = string(signed)
	}
	return out, nil
}

func randomTag() string { return fmt.Sprintf("%x", time.Now().UnixNano()&0xffffff) }
