package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report prints what was measured: every figure is the range (min–max) over
// the rounds, each round's figures measured in that round.
func (b *bench) report(out io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(out, format, args...) }
	m := b.m
	p("\nGatehouse benchmark: %s, %s (seeded in %s)\n", m.Dialect, m.Shape, m.SeededIn.Round(time.Millisecond))
	p("server: %s (%s), its own process; load generator and bare handler: processes of their own\n", b.version, b.opts.gatehouse)
	p("%s, each on a fresh server; each workload measured %s per round, in slices of %s interleaved with the\n",
		plural(b.opts.rounds, "round"), b.opts.window, b.opts.slice)
	p("other workloads' (reads, then writes); figures are min–max over the rounds\n")
	p("%d CPUs shared by the server, the load generator, the bare handler (and the database) — and by whatever else runs:\n", runtime.NumCPU())
	p("load average at start %s, at end %s; niceness of the three processes %s\n",
		or(b.loadAvg[0], "n/a"), or(b.loadAvg[len(b.loadAvg)-1], "n/a"), niceness())
	p("server environment beyond the harness's: %s\n\n", or(strings.Join(b.passedEnv(), " "), "none"))

	p("%-48s %4s %17s %17s %17s %15s %7s %11s\n", "workload", "c", "req/s", "p50", "p99", "server CPU/req", "errors", "model loads")
	for _, w := range workloads() {
		ws, ok := b.windows[w.id]
		if !ok {
			if why := b.skip[w.id]; why != "" {
				p("%-48s %4d  not measured: %s\n", w.label, w.clients, why)
			}
			continue
		}
		var rps, p50, p99, cpu, loads []float64
		errs := 0
		for _, x := range ws {
			rps = append(rps, x.rps())
			p50 = append(p50, float64(x.p50))
			p99 = append(p99, float64(x.p99))
			if c, ok := x.cpuPerRequest(); ok {
				cpu = append(cpu, float64(c))
			}
			if x.loads >= 0 {
				loads = append(loads, x.loads)
			}
			errs += x.errors
		}
		p("%-48s %4d %17s %17s %17s %15s %7d %11s\n", w.label, w.clients, span(rps, fmtCount), span(p50, fmtDurF), span(p99, fmtDurF),
			or(span(cpu, fmtDurF), "n/a"), errs, or(span(loads, fmtCount), "n/a"))
		if w.perRequest > 1 {
			checks := make([]float64, len(rps))
			for i, r := range rps {
				checks[i] = r * float64(w.perRequest)
			}
			p("%-48s %4s %17s  checks/s\n", "", "", span(checks, fmtCount))
		}
	}
	p("\nmodel loads: the server's %s over the window (n/a: the server does not expose it)\n", modelLoadsMetric)
	p("server CPU/req: the server process's user+system time over the window (/proc/<pid>/stat) per request completed in it\n")

	p("\n%-52s %17s %9s\n", "ratio of throughputs in the same round", "range", "goal")
	for _, c := range comparisons() {
		var rs []float64
		for _, x := range b.windows[c.a] {
			for _, y := range b.windows[c.b] {
				if x.round == y.round && y.rps() > 0 {
					rs = append(rs, 100*x.rps()/y.rps())
				}
			}
		}
		if len(rs) > 0 {
			p("%-52s %17s %9s\n", c.label, span(rs, func(v float64) string { return fmt.Sprintf("%.0f%%", v) }), c.goal)
		}
	}

	p("\n%-52s %17s %9s\n", "start and memory", "range", "goal")
	var cold, base, warm, per, heap, live []float64
	for _, d := range b.cold {
		cold = append(cold, float64(d))
	}
	for _, x := range b.mem {
		base = append(base, float64(x.base))
		warm = append(warm, float64(x.warm))
		per = append(per, float64(x.warm-x.base)/float64(max(1, x.accounts)))
		if x.haveHeap {
			heap = append(heap, (x.heapWarm-x.heapBase)/float64(max(1, x.accounts)))
		}
		if x.haveLive {
			live = append(live, (x.liveWarm-x.liveBase)/float64(max(1, x.accounts)))
		}
	}
	p("%-52s %17s %9s\n", "cold start: process start to first decision", span(cold, fmtDurF), "≤ 1s")
	p("%-52s %17s\n", "RSS after the first decision", span(base, fmtBytesF))
	p("%-52s %17s\n", fmt.Sprintf("RSS with all %d accounts warm", m.Shape.Accounts), span(warm, fmtBytesF))
	p("%-52s %17s %9s\n", "RSS per warm account (difference / accounts)", span(per, fmtBytesF), "≤ 50 KB")
	p("%-52s %17s\n", "Go heap in use per warm account", or(span(heap, fmtBytesF), "n/a ("+heapMetric+" not exposed)"))
	p("%-52s %17s %9s\n", "Go heap live after GC per warm account", or(span(live, fmtBytesF), "n/a ("+liveMetric+" not exposed)"), "≤ 50 KB")
	p("warm: one authorizeMany per account asking about each member, so every model and member is loaded;\n")
	p("the server's models take at most GATEHOUSE_MODEL_CACHE_MB (default 512 MiB): beyond it, 'warm' is what the cache holds\n")

	if len(b.counts) > 0 {
		p("\nSQL per request, counted on PostgreSQL's wire protocol by a proxy in an untimed pass\n")
		p("(%d requests one at a time per workload, every account warm; the server's idle statements over the same time subtracted)\n", b.opts.countN)
		p("%-48s %12s %14s\n", "workload", "statements", "transactions")
		for _, c := range b.counts {
			if c.skipped != "" {
				p("%-48s  not measured: %s\n", c.label, c.skipped)
				continue
			}
			p("%-48s %12.1f %14.1f\n", c.label, c.statements, c.transactions)
		}
		p("statements: simple queries and extended-protocol executions, BEGIN/COMMIT/ROLLBACK excluded; transactions: BEGINs\n")
	} else if m.Dialect != "postgres" {
		p("\nSQL per request: counted on PostgreSQL only (run with --db postgres)\n")
	}

	var notes []string
	for _, w := range workloads() {
		for _, f := range b.failures[w.id] {
			notes = append(notes, fmt.Sprintf("%s, c=%d: %s", w.label, w.clients, f))
		}
	}
	if len(notes) > 0 {
		p("\nerrors:\n")
		for _, n := range notes {
			p("  %s\n", n)
		}
	}
}

// passedEnv are the GATEHOUSE_* variables the server inherits, and those
// given with --server-env (secrets left out).
func (b *bench) passedEnv() []string {
	var out []string
	for _, kv := range append(os.Environ(), b.opts.serverEnv...) {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GATEHOUSE_") && !slices.Contains(removedEnv, k) && !strings.Contains(k, "TEST") &&
			!strings.Contains(k, "SECRET") && !strings.Contains(k, "KEY") && !slices.Contains(out, kv) {
			out = append(out, kv)
		}
	}
	return out
}

// span is the range of vs, min–max ("" for none).
func span(vs []float64, f func(float64) string) string {
	if len(vs) == 0 {
		return ""
	}
	lo, hi := slices.Min(vs), slices.Max(vs)
	a, b := f(lo), f(hi)
	if a == b {
		return a
	}
	return a + "–" + b
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func fmtCount(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func fmtDurF(v float64) string { return fmtDur(time.Duration(v)) }

func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.0fs", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0fms", float64(d)/1e6)
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.0fµs", float64(d)/1e3)
	}
}

func fmtBytesF(v float64) string { return fmtBytes(int64(v)) }

func fmtBytes(n int64) string {
	neg := ""
	if n < 0 {
		neg, n = "-", -n
	}
	switch {
	case n >= 10<<20:
		return fmt.Sprintf("%s%.0f MB", neg, float64(n)/(1<<20))
	case n >= 1<<20:
		return fmt.Sprintf("%s%.1f MB", neg, float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%s%.0f KB", neg, float64(n)/(1<<10))
	}
	return fmt.Sprintf("%s%d B", neg, n)
}
