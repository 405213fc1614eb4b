package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"
	_ "github.com/lib/pq"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/database"
	"github.com/gatehouse-iam/gatehouse/graph/database/stmtcount"
	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// fixture is one seeded Gatehouse behind a loopback HTTP server, shared by
// every run of the benchmark in this process (-count=N measures N times on
// one seed) and torn down by TestMain.
type fixture struct {
	URL      string // Gatehouse's /graphql
	Dialect  string
	Config   server.Config
	Operator string // an operator key's secret
	Seeded   time.Duration
	Work     workload

	srv *server.Server
	db  *database.DB
	sql *stmtcount.Driver // statements Gatehouse sent
}

var (
	fixOnce  sync.Once
	fix      *fixture
	fixErr   error
	cleanups []func() // run in reverse by TestMain
)

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	os.Exit(code)
}

// getFixture builds the shared fixture on first use.
func getFixture() (*fixture, error) {
	fixOnce.Do(func() { fix, fixErr = newFixture(context.Background()) })
	return fix, fixErr
}

func newFixture(ctx context.Context) (*fixture, error) {
	target, err := databaseTarget()
	if err != nil {
		return nil, err
	}
	db, err := database.Open(target)
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, func() { db.Close() })
	if err := db.Migrate(); err != nil {
		return nil, err
	}
	counter := stmtcount.Wrap(db.Driver)
	db.Client = ent.NewClient(ent.Driver(counter))

	// The defaults of `gatehouse serve` (and the GATEHOUSE_* variables), but
	// no rate limit: 100 keys at tens of thousands of requests per second
	// would be refused, which is not what this measures.
	var cfg server.Config
	if err := env.Parse(&cfg); err != nil {
		return nil, err
	}
	cfg.RateLimit, cfg.RateBurst = 0, 0
	cfg.JWTSecret, cfg.JWKSURL, cfg.CORSOrigins = "", "", nil
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(ctx, cfg, db, log)
	if err != nil {
		return nil, err
	}
	hs := httptest.NewServer(srv) // 127.0.0.1:0
	cleanups = append(cleanups, func() { hs.Close(); srv.Close() })

	meta := auth.WithMeta(ctx, auth.Meta{RequestID: "bench-seed"})
	_, operator, err := srv.Service.CreateOperatorKey(meta, "bench")
	if err != nil {
		return nil, err
	}
	f := &fixture{URL: hs.URL + "/graphql", Dialect: db.Dialect, Config: cfg, Operator: operator, srv: srv, db: db, sql: counter}
	start := time.Now()
	if f.Work, err = seed(ctx, f, shape{accounts: 100, roles: 20, members: 50, permissions: 100}); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	f.Seeded = time.Since(start)
	return f, nil
}

// databaseTarget is a temporary SQLite file, or a fresh PostgreSQL database
// made from GATEHOUSE_TEST_POSTGRES_URL (dropped by TestMain).
func databaseTarget() (string, error) {
	base := os.Getenv("GATEHOUSE_TEST_POSTGRES_URL")
	if base == "" {
		dir, err := os.MkdirTemp("", "gatehouse-bench-")
		if err != nil {
			return "", err
		}
		cleanups = append(cleanups, func() { os.RemoveAll(dir) })
		return filepath.Join(dir, "bench.db"), nil
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "gatehouse_bench_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		return "", fmt.Errorf("create database: %w", err)
	}
	cleanups = append(cleanups, func() {
		a, err := sql.Open("postgres", base)
		if err != nil {
			return
		}
		defer a.Close()
		if _, err := a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "bench: could not drop database %s: %v\n", name, err)
		}
	})
	return withDB(base, name), nil
}

// withDB replaces the database name of a PostgreSQL URL.
func withDB(url, name string) string {
	i := strings.LastIndex(url, "/")
	q := ""
	if j := strings.Index(url[i:], "?"); j >= 0 {
		q = url[i+j:]
	}
	return url[:i+1] + name + q
}

// gql sends one GraphQL request with a bearer secret and returns data, or an
// error naming the GraphQL errors.
func gql(url, secret, query string, vars map[string]any) (json.RawMessage, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := setupClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors []any           `json:"errors"`
	}
	if err := json.Unmarshal(b, &out); err != nil || res.StatusCode != http.StatusOK || len(out.Errors) > 0 {
		return nil, fmt.Errorf("HTTP %d: %s", res.StatusCode, b)
	}
	return out.Data, nil
}

// setupClient seeds and warms; the load has clients of its own.
var setupClient = &http.Client{Timeout: 30 * time.Second}
