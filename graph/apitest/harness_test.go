package apitest

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

	"entgo.io/ent/dialect"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwt"
	_ "github.com/lib/pq"
	"github.com/tidwall/gjson"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/database"
	"github.com/gatehouse-iam/gatehouse/graph/database/pgtest"
	"github.com/gatehouse-iam/gatehouse/graph/database/stmtcount"
	"github.com/gatehouse-iam/gatehouse/graph/server"
)

const (
	jwtSecret   = "test-secret-test-secret-test-secret"
	jwtIssuer   = "https://idp.test"
	jwtAudience = "gatehouse-test"
)

// env is one running Gatehouse on a fresh database.
type env struct {
	t        testing.TB
	URL      string
	Dialect  string
	Operator string // an operator key's secret
	Server   *server.Server
	DB       *database.DB
	// counted receives the statements of each request sent by
	// statementsOf, once the server has finished it.
	counted chan *stmtcount.Tracked
	// counter counts every statement the server sends.
	counter *stmtcount.Driver
	// logs keeps what the server logged at level ERROR.
	logs *logSink
}

// logSink keeps a server's ERROR lines (internal errors, panics) for tests
// that assert there were none.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (s *logSink) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("level=ERROR")) {
		s.mu.Lock()
		if len(s.lines) < 20 {
			s.lines = append(s.lines, strings.TrimSpace(string(p)))
		}
		s.mu.Unlock()
	}
	return len(p), nil
}

// take returns the lines kept so far and forgets them.
func (s *logSink) take() []string {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	lines := s.lines
	s.lines = nil
	return lines
}

// postgresURL is the server the PostgreSQL suite runs on, or "".
func postgresURL() string {
	return os.Getenv("GATEHOUSE_TEST_POSTGRES_URL")
}

// forEachDB runs fn on SQLite and, when configured, on PostgreSQL.
func forEachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	forEachDBWith(t, server.Config{}, fn)
}

// forEachDBWith is forEachDB with servers configured by cfg (limits and
// JWT settings the test leaves zero take their defaults).
func forEachDBWith(t *testing.T, cfg server.Config, fn func(t *testing.T, e *env)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, newEnv(t, dialect.SQLite, cfg))
	})
	t.Run("postgres", func(t *testing.T) {
		if postgresURL() == "" {
			t.Skip("PostgreSQL suite off: set GATEHOUSE_TEST_POSTGRES_URL")
		}
		t.Parallel()
		fn(t, newEnv(t, dialect.Postgres, cfg))
	})
}

// defaults fills the limits a zero Config leaves empty, as env.Parse would.
func defaults(c server.Config) server.Config {
	set := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	set(&c.ParserTokens, 15000)
	set(&c.MaxDepth, 12)
	set(&c.MaxAliases, 30)
	set(&c.MaxComplexity, 5000)
	set(&c.MaxPageSize, 100)
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.QueryQueueWait == 0 {
		c.QueryQueueWait = 100 * time.Millisecond
	}
	if c.RateLimit == 0 {
		c.RateLimit, c.RateBurst = 1e6, 1e6 // tests of the limiter set their own
	}
	c.JWTSecret, c.JWTIssuer, c.JWTAudience = jwtSecret, jwtIssuer, jwtAudience
	return c
}

func newEnv(t testing.TB, dia string, cfg server.Config) *env {
	t.Helper()
	return newEnvOn(t, dia, cfg, freshDatabase(t, dia))
}

// freshDatabase returns the URL or path of a new, migrated database.
func freshDatabase(t testing.TB, dia string) string {
	if dia == dialect.Postgres {
		return clonePostgres(t)
	}
	return filepath.Join(t.TempDir(), "gatehouse.db")
}

// newEnvOn starts a Gatehouse on the database at target.
func newEnvOn(t testing.TB, dia string, cfg server.Config, target string) *env {
	t.Helper()
	db, err := database.OpenWith(target, cfg.DatabaseOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(); err != nil {
		t.Fatal(err)
	}
	return serveEnv(t, db, cfg)
}

// serveEnv runs Gatehouse over db, a migrated database, until t ends.
func serveEnv(t testing.TB, db *database.DB, cfg server.Config) *env {
	t.Helper()
	logs := &logSink{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError}))
	if testing.Verbose() && os.Getenv("GATEHOUSE_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(io.MultiWriter(logs, os.Stderr), nil))
	}
	e := serveEnvWith(t, db, cfg, log)
	e.logs = logs
	return e
}

// serveEnvWith is serveEnv logging to log, built with the server options
// given (tracing); its env keeps no ERROR lines.
func serveEnvWith(t testing.TB, db *database.DB, cfg server.Config, log *slog.Logger, opts ...server.Option) *env {
	t.Helper()
	counter := stmtcount.Wrap(db.Driver)
	db.Client = ent.NewClient(ent.Driver(counter))
	t.Cleanup(func() { db.Close() })
	srv, err := server.New(context.Background(), defaults(cfg), db, log, opts...)
	if err != nil {
		t.Fatal(err)
	}
	counted := make(chan *stmtcount.Tracked, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(countHeader) == "" {
			srv.ServeHTTP(w, r)
			return
		}
		ctx, tr := stmtcount.Track(r.Context())
		srv.ServeHTTP(w, r.WithContext(ctx))
		counted <- tr
	}))
	t.Cleanup(func() { hs.Close(); srv.Close() })
	ctx := auth.WithMeta(context.Background(), auth.Meta{RequestID: "test"})
	_, secret, err := srv.Service.CreateOperatorKey(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, URL: hs.URL, Dialect: db.Dialect, Operator: secret, Server: srv, DB: db, counted: counted, counter: counter, logs: &logSink{}}
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
	createMu     sync.Mutex
)

// clonePostgres returns the URL of a fresh database cloned from a migrated
// template: fast, and isolated per test.
func clonePostgres(t testing.TB) string {
	base := postgresURL()
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	templateOnce.Do(func() {
		templateName = "gatehouse_tmpl_" + randHex(6)
		if _, templateErr = admin.Exec("CREATE DATABASE " + templateName); templateErr != nil {
			return
		}
		db, err := database.Open(pgtest.WithDatabase(base, templateName))
		if err != nil {
			templateErr = err
			return
		}
		templateErr = db.Migrate()
		db.Close()
	})
	if templateErr != nil {
		t.Fatal(templateErr)
	}
	name := "gatehouse_t_" + randHex(8)
	createMu.Lock() // one clone of a template at a time
	for try := 0; try < 50; try++ {
		// A just-closed connection (or autovacuum) may still hold the template.
		_, err = admin.Exec(fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, templateName))
		if err == nil || !strings.Contains(err.Error(), "being accessed by other users") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	createMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pgtest.Drop(base, name) })
	return pgtest.WithDatabase(base, name)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if templateName != "" {
		pgtest.Drop(postgresURL(), templateName)
	}
	os.Exit(code)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// countHeader asks the test server to count the SQL statements of one
// request (the header never reaches Gatehouse's own code).
const countHeader = "X-Test-Count-Statements"

// statementsOf runs a query that must succeed and returns the SQL statements
// Gatehouse sent for that request alone: background work running meanwhile
// (usage batches, cache reloads) is not counted.
func (e *env) statementsOf(cred, query string, vars map[string]any) (resp, int64) {
	e.t.Helper()
	r, n := e.statementsOfRequest(e.request(cred, query, vars))
	if r.Status != http.StatusOK || r.Get("errors").Exists() {
		e.t.Fatalf("unexpected failure: %s", r)
	}
	return r, n
}

// statementsOfRequest sends req whatever its outcome (a refused request
// too) and returns the SQL statements Gatehouse sent for it alone.
func (e *env) statementsOfRequest(req *http.Request) (resp, int64) {
	e.t.Helper()
	r, tr := e.trackRequest(req)
	return r, tr.Count()
}

// trackRequest sends req whatever its outcome and returns the SQL
// statements Gatehouse sent for it alone, with their arguments.
func (e *env) trackRequest(req *http.Request) (resp, *stmtcount.Tracked) {
	e.t.Helper()
	req.Header.Set(countHeader, "1")
	r := e.send(req)
	return r, <-e.counted
}

// resp is a GraphQL response.
type resp struct {
	Status int
	Body   []byte
	Header http.Header
}

// Get reads a gjson path under the response, e.g. "data.account.name".
func (r resp) Get(path string) gjson.Result { return gjson.GetBytes(r.Body, path) }

// Code is the first error's extensions.code, or "".
func (r resp) Code() string { return r.Get("errors.0.extensions.code").String() }

func (r resp) String() string { return fmt.Sprintf("HTTP %d %s", r.Status, r.Body) }

// gql posts a query with a bearer credential ("" for none).
func (e *env) gql(cred, query string, vars map[string]any) resp {
	e.t.Helper()
	return e.send(e.request(cred, query, vars))
}

// request is a JSON POST of a query with a bearer credential ("" for none).
func (e *env) request(cred, query string, vars map[string]any) *http.Request {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, e.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	return req
}

func (e *env) post(cred, contentType string, body []byte) resp {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) resp {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{Status: res.StatusCode, Body: b, Header: res.Header}
}

// ok runs a query that must succeed without errors.
func (e *env) ok(cred, query string, vars map[string]any) resp {
	e.t.Helper()
	r := e.gql(cred, query, vars)
	if r.Status != http.StatusOK || r.Get("errors").Exists() {
		e.t.Fatalf("unexpected failure: %s", r)
	}
	return r
}

// fails runs a query that must fail with code.
func (e *env) fails(code, cred, query string, vars map[string]any) resp {
	e.t.Helper()
	r := e.gql(cred, query, vars)
	if r.Code() != code {
		e.t.Fatalf("want %s, got %s", code, r)
	}
	return r
}

// userToken mints a dashboard JWT for email.
func userToken(t testing.TB, email string) string {
	t.Helper()
	tok, err := jwt.NewBuilder().
		Issuer(jwtIssuer).Audience([]string{jwtAudience}).Subject(email).
		IssuedAt(time.Now()).Expiration(time.Now().Add(time.Hour)).
		Claim("email", email).Claim("name", strings.Split(email, "@")[0]).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.HS256(), []byte(jwtSecret)))
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

// get fetches a path of the server (health checks, assets) without credentials.
func (e *env) get(path string) resp {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.send(req)
}

// fewestStatements runs a query three times and returns its response and the
// fewest statements one run sent. Loaders batch by time as well as by
// prefetch, and on a loaded machine a batch can split: that only ever adds
// statements, so the fewest is what the request needs.
func (e *env) fewestStatements(cred, query string, vars map[string]any) (resp, int64) {
	e.t.Helper()
	r, n := e.statementsOf(cred, query, vars)
	for range 2 {
		if _, m := e.statementsOf(cred, query, vars); m < n {
			n = m
		}
	}
	return r, n
}
