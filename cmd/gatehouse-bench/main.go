// Command gatehouse-bench measures warm `authorize` throughput and latency
// over HTTP on loopback, against a bare net/http handler returning constant
// JSON in the same run (issue: API keys, scopes and the decision API).
//
//	go run ./cmd/gatehouse-bench [-seconds 3] [-clients 1,16,64] [-database-url postgres://…]
//
// It seeds accounts × roles × members × permissions straight into a fresh
// database, gives each account an API key holding iam.authorize, and asks
// about random members and permissions. Everything talks to 127.0.0.1 only
// and stops by itself.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse/graph/database"
	"github.com/gatehouse-iam/gatehouse/graph/server"
)

func main() {
	var (
		seconds  = flag.Float64("seconds", 3, "how long each load level runs")
		levels   = flag.String("clients", "1,16,64", "concurrent clients per level")
		accounts = flag.Int("accounts", 100, "accounts to seed")
		roles    = flag.Int("roles", 20, "roles per account (2 of them system roles)")
		members  = flag.Int("members", 50, "members per account")
		perms    = flag.Int("permissions", 100, "catalog permissions")
		dbURL    = flag.String("database-url", "", "PostgreSQL URL of an empty database; default a temporary SQLite file")
		profile  = flag.String("cpuprofile", "", "write a CPU profile of Gatehouse's 16-client run here")
	)
	flag.Parse()
	ctx := context.Background()

	target := *dbURL
	if target == "" {
		dir, err := os.MkdirTemp("", "gatehouse-bench")
		check(err)
		defer os.RemoveAll(dir)
		target = filepath.Join(dir, "bench.db")
	}
	db, err := database.Open(target)
	check(err)
	defer db.Close()
	check(db.Migrate())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(ctx, server.Config{
		ParserTokens: 15000, MaxDepth: 12, MaxAliases: 30, MaxComplexity: 5000, MaxPageSize: 100,
		MaxBodyBytes: 1 << 20, RateLimit: 0, UsageFlush: time.Second, CacheTTL: time.Minute,
	}, db, logger)
	check(err)
	defer srv.Close()

	start := time.Now()
	w, err := seed(ctx, db, srv.Service, *accounts, *roles, *members, *perms)
	check(err)
	fmt.Printf("seeded %d accounts × %d roles × %d members × %d permissions on %s in %s\n",
		*accounts, *roles, *members, *perms, db.Dialect, time.Since(start).Round(time.Millisecond))

	gate := listen(srv)
	bare := listen(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":{"authorize":{"allowed":true,"reason":"GRANTED"}}}`))
	}))

	// Warm every account's model, key and members once.
	for _, q := range w.requests {
		if _, err := do(http.DefaultClient, gate, q, true); err != nil {
			log.Fatalf("warm-up: %v", err)
		}
	}
	var rows []row
	for _, f := range strings.Split(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		check(err)
		d := time.Duration(*seconds * float64(time.Second))
		var stop func()
		if *profile != "" && n == 16 {
			pf, err := os.Create(*profile)
			check(err)
			check(pprof.StartCPUProfile(pf))
			stop = func() { pprof.StopCPUProfile(); pf.Close() }
		}
		g := load(gate, w.requests, n, d, true)
		if stop != nil {
			stop()
		}
		b := load(bare, w.requests, n, d, false)
		rows = append(rows, row{n, g, b})
	}
	fmt.Printf("\n%-8s %12s %9s %9s | %12s %9s %9s | %6s\n", "clients", "gatehouse/s", "p50", "p99", "bare/s", "p50", "p99", "ratio")
	for _, r := range rows {
		fmt.Printf("%-8d %12.0f %9s %9s | %12.0f %9s %9s | %5.1f%%\n", r.clients,
			r.gate.rps, r.gate.p50, r.gate.p99, r.bare.rps, r.bare.p50, r.bare.p99, 100*r.gate.rps/r.bare.rps)
	}
	fmt.Printf("\nGatehouse answered %d decisions, %d allowed; errors: %d\n", w.total(), w.allowed(), w.errors())
}

type row struct {
	clients    int
	gate, bare result
}

type result struct {
	rps      float64
	p50, p99 time.Duration
}

func listen(h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	go func() { _ = (&http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}).Serve(ln) }()
	return "http://" + ln.Addr().String() + "/graphql"
}

// load runs n clients for d and measures every request.
func load(url string, reqs []request, n int, d time.Duration, count bool) result {
	tr := &http.Transport{MaxIdleConns: n, MaxIdleConnsPerHost: n, MaxConnsPerHost: n}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	deadline := time.Now().Add(d)
	lat := make([][]time.Duration, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := i; time.Now().Before(deadline); j += n {
				t := time.Now()
				if _, err := do(client, url, reqs[j%len(reqs)], count); err != nil {
					log.Fatalf("request: %v", err)
				}
				lat[i] = append(lat[i], time.Since(t))
			}
		}()
	}
	wg.Wait()
	all := slices.Concat(lat...)
	slices.Sort(all)
	return result{rps: float64(len(all)) / d.Seconds(), p50: pct(all, 50), p99: pct(all, 99)}
}

func pct(s []time.Duration, p int) time.Duration {
	if len(s) == 0 {
		return 0
	}
	return s[(len(s)-1)*p/100].Round(time.Microsecond)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
