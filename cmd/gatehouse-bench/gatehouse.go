package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// gatehouseServer is one `gatehouse serve` process.
type gatehouseServer struct {
	*child
	url     string // http://127.0.0.1:port
	logPath string
	metrics scraper
	// coldStart is the time from starting the process to its first
	// successful decision.
	coldStart time.Duration
}

// harnessEnv are the variables the harness sets for the server; the others
// of the environment (e.g. GATEHOUSE_MODEL_CACHE_MB) pass through, so that
// a configuration can be measured. Those that would contradict the harness
// are removed.
var removedEnv = []string{
	"DATABASE_URL", "GATEHOUSE_ADDR", "GATEHOUSE_ADMIN_ADDR", "GATEHOUSE_SQLITE_PATH", "GATEHOUSE_RATE_LIMIT",
	"GATEHOUSE_JWT_HS256_SECRET", "GATEHOUSE_JWKS_URL", "GATEHOUSE_JWT_ISSUER", "GATEHOUSE_JWT_AUDIENCE",
	"GATEHOUSE_MIGRATION_DATABASE_URL", "GATEHOUSE_DRAIN_DELAY",
}

// serverEnv is the server's environment for a database URL (or SQLite file).
func (b *bench) serverEnv(database, addr, admin string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(removedEnv, k) {
			env = append(env, kv)
		}
	}
	env = append(env,
		"GATEHOUSE_ADDR="+addr,
		// Where the metrics go once the server has an admin listener; today
		// it ignores this and serves /metrics on GATEHOUSE_ADDR.
		"GATEHOUSE_ADMIN_ADDR="+admin,
		// 16–64 clients on a handful of keys at tens of thousands of
		// requests per second would be refused; not what this measures.
		"GATEHOUSE_RATE_LIMIT=0",
		"GATEHOUSE_JWT_HS256_SECRET="+b.m.JWTSecret,
		"GATEHOUSE_DRAIN_DELAY=0s",
	)
	if b.m.Dialect == "postgres" {
		env = append(env, "DATABASE_URL="+database)
	} else {
		env = append(env, "GATEHOUSE_SQLITE_PATH="+database)
	}
	if os.Getenv("GATEHOUSE_LOG_LEVEL") == "" {
		env = append(env, "GATEHOUSE_LOG_LEVEL=warn")
	}
	return append(env, b.opts.serverEnv...)
}

// startGatehouse starts `gatehouse serve` on database and waits for its
// first successful decision (the cold start).
func (b *bench) startGatehouse(ctx context.Context, database string) (*gatehouseServer, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	admin, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(b.dir, "gatehouse.log")
	start := time.Now()
	c, err := startChild(b.opts.gatehouse, []string{"serve"}, b.serverEnv(database, addr, admin), logPath)
	if err != nil {
		return nil, err
	}
	g := &gatehouseServer{child: c, url: "http://" + addr, logPath: logPath,
		metrics: scraper{urls: []string{"http://" + admin + "/metrics", "http://" + addr + "/metrics"}}}
	first := b.calls.authorize[0]
	client := &http.Client{Timeout: 2 * time.Second}
	var buf bytes.Buffer
	var last error
	for deadline := start.Add(2 * time.Minute); time.Now().Before(deadline); {
		if c.exited() {
			return nil, fmt.Errorf("gatehouse exited (%v):\n%s", c.err, tail(logPath, 15))
		}
		buf.Reset()
		status, err := post(ctx, client, g.url+first.path, first.auth, first.body, &buf)
		if err == nil && status == http.StatusOK {
			if err = graphQLAnswer(`"allowed":`)(buf.Bytes()); err == nil {
				g.coldStart = time.Since(start)
				return g, nil
			}
		} else if err == nil {
			err = fmt.Errorf("HTTP %d: %s", status, cutBody(buf.Bytes()))
		}
		last = err
		if err := sleepCtx(ctx, 2*time.Millisecond); err != nil {
			g.stop()
			return nil, err
		}
	}
	g.stop()
	return nil, fmt.Errorf("no decision within 2 minutes of starting gatehouse: %v\n%s", last, tail(logPath, 15))
}

// gatehouseVersion is what `gatehouse version` prints.
func gatehouseVersion(path string) (string, error) {
	out, err := exec.Command(path, "version").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("%s version: %v: %s", path, err, ee.Stderr)
		}
		return "", fmt.Errorf("%s version: %w", path, err)
	}
	return strings.TrimSpace(string(out)), nil
}
