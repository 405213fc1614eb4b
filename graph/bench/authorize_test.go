package bench

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bareAnswer is what the bare handler answers: an allowed decision.
const bareAnswer = `{"data":{"authorize":{"allowed":true,"reason":"GRANTED"}}}`

// levels are the numbers of concurrent clients.
var levels = []int{1, 16, 64}

// last is the previous measurement, reported again when the framework asks
// for more iterations (see BenchmarkAuthorizeHTTP).
var last []row

type row struct{ gate, bare result }

func (r row) ratio() float64 {
	if r.bare.rps == 0 {
		return 0
	}
	return r.gate.rps / r.bare.rps
}

// BenchmarkAuthorizeHTTP measures warm `authorize` over HTTP on loopback
// against a bare net/http handler (see the package comment). The whole
// measurement is one iteration: run it with -benchtime=1x.
//
// b.N is only a guard: every round the framework starts with b.N == 1
// measures; should it ask for more (a -benchtime longer than the run), the
// last measurement is reported again instead of measuring b.N times. ns/op is
// suppressed; the metrics are the 16-client ratio, req/s and latencies. The
// table goes to stdout.
func BenchmarkAuthorizeHTTP(b *testing.B) {
	if b.N > 1 && last != nil {
		report(b, last)
		return
	}
	f, err := getFixture()
	if err != nil {
		b.Fatal(err)
	}
	// The timer runs through the measurement: a round longer than -benchtime
	// keeps the framework from asking for another.
	b.ResetTimer()
	d := benchSeconds(b)
	warm := min(d/5, time.Second)
	reqs := f.Work.requests

	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(bareAnswer))
	}))
	defer bare.Close()

	// Printed as it goes: with -benchtime=1x the run happens before the
	// framework prints the benchmark's name, so these lines stay whole (the
	// framework trims b.Log output of benchmarks to ten lines).
	progress := func(format string, args ...any) {
		fmt.Printf("bench: "+format+"\n", args...)
	}
	progress("seeded %d accounts × %d roles × %d members × %d permissions on %s in %s",
		f.Work.shape.accounts, f.Work.shape.roles, f.Work.shape.members, f.Work.shape.permissions, f.Dialect, f.Seeded.Round(time.Millisecond))

	// Warm up: every account's model, key and the query cache, then a second
	// of load across all the calls (members are compiled on first use).
	seen := map[string]bool{}
	for _, r := range reqs {
		if !seen[r.secret] {
			seen[r.secret] = true
			if _, err := call(setupClient, f.URL, r, new(bytes.Buffer)); err != nil {
				b.Fatalf("warm-up: %v", err)
			}
		}
	}
	if _, err := run("gatehouse", f.URL, reqs, 16, 0, time.Second, nil); err != nil {
		b.Fatalf("warm-up: %v", err)
	}

	profile := os.Getenv("GATEHOUSE_BENCH_CPUPROFILE")
	profiled := 16
	if v := os.Getenv("GATEHOUSE_BENCH_CPUPROFILE_CLIENTS"); v != "" {
		if profiled, err = strconv.Atoi(v); err != nil {
			b.Fatalf("GATEHOUSE_BENCH_CPUPROFILE_CLIENTS=%q: %v", v, err)
		}
	}
	var rows []row
	for _, n := range levels {
		var measured func() func()
		if profile != "" && n == profiled {
			measured = func() func() {
				pf, err := os.Create(profile)
				if err != nil {
					b.Errorf("cpu profile: %v", err)
					return nil
				}
				if err := pprof.StartCPUProfile(pf); err != nil {
					pf.Close()
					b.Errorf("cpu profile (is -cpuprofile set too?): %v", err)
					return nil
				}
				return func() { pprof.StopCPUProfile(); pf.Close() }
			}
		}
		before := f.sql.Total()
		g, err := run("gatehouse", f.URL, reqs, n, warm, d, measured)
		if err != nil {
			b.Fatal(err)
		}
		g.sql = f.sql.Total() - before
		progress("gatehouse %3d clients: %8.0f req/s  p50 %-9s p99 %-9s (%d SQL statements)", n, g.rps, fmtDur(g.p50), fmtDur(g.p99), g.sql)
		bb, err := run("bare", bare.URL+"/graphql", reqs, n, warm, d, nil)
		if err != nil {
			b.Fatal(err)
		}
		bb.sql = -1
		progress("bare      %3d clients: %8.0f req/s  p50 %-9s p99 %s", n, bb.rps, fmtDur(bb.p50), fmtDur(bb.p99))
		rows = append(rows, row{g, bb})
	}
	last = rows

	if profile != "" {
		profile = fmt.Sprintf("%s (the %d-client run)", profile, profiled)
	}
	fmt.Print("\n" + table(f, rows, d, profile) + "\n")
	for _, r := range rows {
		if r.gate.clients == 16 {
			b.Logf("16 clients: Gatehouse %.0f req/s (p50 %s, p99 %s) = %.1f%% of the bare handler's %.0f req/s",
				r.gate.rps, fmtDur(r.gate.p50), fmtDur(r.gate.p99), 100*r.ratio(), r.bare.rps)
		}
	}
	report(b, rows)
}

// report sets the benchmark's metrics from a measurement.
func report(b *testing.B, rows []row) {
	b.ReportMetric(0, "ns/op") // one iteration of the whole run: meaningless
	for _, r := range rows {
		if r.gate.clients != 16 {
			continue
		}
		b.ReportMetric(100*r.ratio(), "ratio16-%")
		b.ReportMetric(r.gate.rps, "gatehouse16-req/s")
		b.ReportMetric(r.bare.rps, "bare16-req/s")
		b.ReportMetric(ms(r.gate.p50), "p50-16-ms")
		b.ReportMetric(ms(r.gate.p99), "p99-16-ms")
	}
}

// table renders the results.
func table(f *fixture, rows []row, d time.Duration, profile string) string {
	var s strings.Builder
	sh := f.Work.shape
	fmt.Fprintf(&s, "authorize over HTTP on loopback: %d accounts × %d roles × %d members × %d permissions on %s (seeded in %s)\n",
		sh.accounts, sh.roles, sh.members, sh.permissions, f.Dialect, f.Seeded.Round(time.Millisecond))
	fmt.Fprintf(&s, "%gs per level and server, GOMAXPROCS=%d, change poll %s, rate limit off, %d distinct calls\n\n",
		d.Seconds(), runtime.GOMAXPROCS(0), f.Config.ChangePollInterval, len(f.Work.requests))
	fmt.Fprintf(&s, "%-10s %7s %10s %10s %10s %10s %9s %8s %6s\n", "server", "clients", "requests", "req/s", "p50", "p99", "ratio", "allowed", "SQL")
	for _, r := range rows {
		for _, x := range []result{r.gate, r.bare} {
			ratio := fmt.Sprintf("%.1f%%", 100*x.rps/r.bare.rps)
			allowed := fmt.Sprintf("%.0f%%", 100*float64(x.allowed)/float64(max(x.requests, 1)))
			stmts := "-"
			if x.sql >= 0 {
				stmts = strconv.FormatInt(x.sql, 10)
			}
			fmt.Fprintf(&s, "%-10s %7d %10d %10.0f %10s %10s %9s %8s %6s\n",
				x.server, x.clients, x.requests, x.rps, fmtDur(x.p50), fmtDur(x.p99), ratio, allowed, stmts)
		}
	}
	fmt.Fprintf(&s, "\nratio: req/s as a share of the bare handler's at the same level; SQL: statements Gatehouse sent during the level (warm-up included)\n")
	if profile != "" {
		fmt.Fprintf(&s, "CPU profile of Gatehouse (server and clients share the process): %s\n", profile)
	}
	return s.String()
}

// benchSeconds is GATEHOUSE_BENCH_SECONDS (default 3).
func benchSeconds(b *testing.B) time.Duration {
	v := os.Getenv("GATEHOUSE_BENCH_SECONDS")
	if v == "" {
		return 3 * time.Second
	}
	s, err := strconv.ParseFloat(v, 64)
	if err != nil || s <= 0 || s > 600 {
		b.Fatalf("GATEHOUSE_BENCH_SECONDS=%q: want seconds in (0, 600]", v)
	}
	return time.Duration(s * float64(time.Second))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", ms(d))
	default:
		return fmt.Sprintf("%dµs", d.Microseconds())
	}
}
