package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"
)

// countSQL is the untimed pass on PostgreSQL: a server connected through
// the counting proxy, every account warm, then for each workload a few
// requests one at a time, their statements counted on the wire minus what
// the server sends while idle (its change-feed polls) over the same time.
func (b *bench) countSQL(ctx context.Context, chosen []workload) error {
	upstream, err := hostPort(b.m.Database)
	if err != nil {
		return err
	}
	proxy, err := startStmtProxy(upstream)
	if err != nil {
		return err
	}
	defer proxy.close()
	via, err := withHost(b.m.Database, proxy.addr())
	if err != nil {
		return err
	}
	g, err := b.startGatehouse(ctx, via)
	if err != nil {
		return err
	}
	b.server = g
	defer g.stop()
	if _, err := b.warmAll(ctx, g); err != nil {
		return err
	}
	var list []workload
	for _, w := range append(countOnly(), chosen...) {
		if w.counted && w.on == onGatehouse {
			list = append(list, w)
		}
	}
	client := &http.Client{Timeout: 15 * time.Second}
	for _, w := range list {
		c := sqlCount{label: w.label}
		if !b.runnable(w) {
			c.skipped = b.skip[w.id]
			b.counts = append(b.counts, c)
			continue
		}
		next := w.next(b)
		send := func(j int) error {
			r := next(0, j)
			var buf bytes.Buffer
			status, err := post(ctx, client, g.url+r.path, r.auth, r.body, &buf)
			if err == nil && status != http.StatusOK {
				err = fmt.Errorf("HTTP %d: %s", status, cutBody(buf.Bytes()))
			}
			if err == nil {
				err = w.check(buf.Bytes())
			}
			return err
		}
		for j := range 3 { // the query cache, the key's first use
			if err := send(j); err != nil {
				return fmt.Errorf("%s: %w", w.label, err)
			}
		}
		s0, t0 := proxy.counts()
		if err := sleepCtx(ctx, time.Second); err != nil {
			return err
		}
		s1, t1 := proxy.counts()
		idleS, idleT := float64(s1-s0), float64(t1-t0)
		start := time.Now()
		for j := range b.opts.countN {
			if err := send(3 + j); err != nil {
				return fmt.Errorf("%s: %w", w.label, err)
			}
		}
		busy := time.Since(start).Seconds()
		s2, t2 := proxy.counts()
		n := float64(b.opts.countN)
		c.statements = max(0, (float64(s2-s1)-idleS*busy)/n)
		c.transactions = max(0, (float64(t2-t1)-idleT*busy)/n)
		b.counts = append(b.counts, c)
		b.log("SQL: %-48s %5.1f statements, %4.1f transactions per request", w.label, c.statements, c.transactions)
	}
	return nil
}
