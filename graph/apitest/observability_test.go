package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gatehouse-iam/gatehouse/graph/database"
	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// metricsOf scrapes a server's admin listener.
type metricsOf struct {
	t     *testing.T
	admin *httptest.Server
}

func adminOf(t *testing.T, e *env) *metricsOf {
	t.Helper()
	admin := httptest.NewServer(e.Server.Admin)
	t.Cleanup(admin.Close)
	return &metricsOf{t: t, admin: admin}
}

// text is the /metrics page.
func (m *metricsOf) text() string {
	m.t.Helper()
	res, err := http.Get(m.admin.URL + "/metrics")
	if err != nil {
		m.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		m.t.Fatalf("/metrics: %d %s", res.StatusCode, b)
	}
	return string(b)
}

// sample is one scrape, parsed.
type sample map[string]*dto.MetricFamily

func (m *metricsOf) scrape() sample {
	m.t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(m.text()))
	if err != nil {
		m.t.Fatal(err)
	}
	return fams
}

// get is the value of a counter or gauge, or the count of a histogram,
// summed over the series whose labels include the given name, value pairs.
func (s sample) get(name string, labels ...string) float64 {
	var sum float64
	fam := s[name]
	if fam == nil {
		return 0
	}
	for _, m := range fam.Metric {
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			if !slices.ContainsFunc(m.Label, func(l *dto.LabelPair) bool { return l.GetName() == labels[i] && l.GetValue() == labels[i+1] }) {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

// delta checks that a series moved by exactly want between two scrapes.
func delta(t *testing.T, before, after sample, want float64, name string, labels ...string) {
	t.Helper()
	if got := after.get(name, labels...) - before.get(name, labels...); got != want {
		t.Errorf("%s%v moved by %v, want %v", name, labels, got, want)
	}
}

const (
	decideOp = `query Decide($in: AuthorizeInput!) { authorize(input: $in) { allowed reason } }`
	makeRole = `mutation MakeRole($in: CreateRoleInput!) { createRole(input: $in) { role { id } } }`
)

// Metrics are served on the admin listener only, and count each kind of
// request: a decision, a mutation (and its audit event and cache
// invalidation), a refused mutation, a rate-limited request and a refused
// credential, with the pool's statistics and the build.
func TestObs_MetricsCountEachKindOfRequest(t *testing.T) {
	forEachDBWith(t, server.Config{RateLimit: 0.001, RateBurst: 40}, func(t *testing.T, e *env) {
		a := e.newAccount("obs", nil)
		met := adminOf(t, e)
		in := map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": a.OwnerID}, "permission": "AgentChat"}

		// A decision.
		e.Server.Service.Invalidate("") // a cold model: one miss, one load
		s0 := met.scrape()
		if r := e.ok(e.Operator, decideOp, map[string]any{"in": in}); !r.Get("data.authorize.allowed").Bool() {
			t.Fatalf("decision: %s", r)
		}
		s1 := met.scrape()
		delta(t, s0, s1, 1, "gatehouse_graphql_operations_total", "operation", "Decide", "type", "query", "code", "OK")
		delta(t, s0, s1, 1, "gatehouse_decisions_total", "result", "allowed", "reason", "GRANTED")
		delta(t, s0, s1, 1, "gatehouse_model_cache_lookups_total", "result", "miss")
		delta(t, s0, s1, 1, "gatehouse_model_load_duration_seconds", "result", "ok")
		delta(t, s0, s1, 1, "gatehouse_http_request_duration_seconds", "handler", "graphql", "method", "post", "code", "200")
		e.ok(e.Operator, decideOp, map[string]any{"in": in})
		s2 := met.scrape()
		delta(t, s1, s2, 1, "gatehouse_model_cache_lookups_total", "result", "hit")
		delta(t, s1, s2, 0, "gatehouse_model_load_duration_seconds")

		// A decision through the fast path.
		if r := e.postDecision(e.Operator, in); r.Status != http.StatusOK || !r.Get("allowed").Bool() {
			t.Fatalf("POST /v1/authorize: %s", r)
		}
		s2b := met.scrape()
		delta(t, s2, s2b, 1, "gatehouse_decisions_total", "result", "allowed", "reason", "GRANTED")
		delta(t, s2, s2b, 1, "gatehouse_http_request_duration_seconds", "handler", "authorize_api", "method", "post", "code", "200")
		delta(t, s2, s2b, 0, "gatehouse_graphql_operations_total")
		s2 = s2b

		// A mutation: its audit event, and the model it makes stale.
		e.ok(a.Owner, makeRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Observers"}})
		s3 := met.scrape()
		delta(t, s2, s3, 1, "gatehouse_graphql_operations_total", "operation", "MakeRole", "type", "mutation", "code", "OK")
		delta(t, s2, s3, 1, "gatehouse_audit_events_written_total")
		// The commit replaces the model it made stale, which counts as one
		// invalidation (the server's own notification does not wake its
		// feed, so nothing else counts it again).
		delta(t, s2, s3, 1, "gatehouse_model_cache_invalidations_total")

		// A refused mutation writes no audit event.
		key := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "reader", "permissions": []string{"AgentChat"}}).Get("data.createApiKey.secret").String()
		s4 := met.scrape()
		e.fails("FORBIDDEN", key, makeRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Nope"}})
		s5 := met.scrape()
		delta(t, s4, s5, 1, "gatehouse_graphql_operations_total", "operation", "MakeRole", "type", "mutation", "code", "FORBIDDEN")
		delta(t, s4, s5, 0, "gatehouse_audit_events_written_total")

		// A rate-limited request (anonymous requests share their address's bucket).
		var last resp
		for i := 0; i < 41; i++ {
			last = e.gql("", `query Ping { __typename }`, nil)
		}
		if last.Status != http.StatusTooManyRequests {
			t.Fatalf("the 41st anonymous request: %s", last)
		}
		s6 := met.scrape()
		delta(t, s5, s6, 1, "gatehouse_rate_limited_total", "limit", "requests")
		delta(t, s5, s6, 1, "gatehouse_http_request_duration_seconds", "handler", "graphql", "code", "429")
		delta(t, s5, s6, 40, "gatehouse_graphql_operations_total", "operation", "Ping", "type", "query", "code", "OK")

		// A refused credential.
		if r := e.gql(unknownOperatorKey(t), `{ viewer { kind } }`, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("unknown key: %s", r)
		}
		s7 := met.scrape()
		delta(t, s6, s7, 1, "gatehouse_auth_failures_total", "reason", "unknown operator key")
		delta(t, s6, s7, 1, "gatehouse_http_request_duration_seconds", "handler", "graphql", "code", "401")

		// The pool, the build, the runtime.
		if s7.get("go_sql_max_open_connections", "db_name", "gatehouse") <= 0 || s7.get("go_sql_open_connections", "db_name", "gatehouse") <= 0 {
			t.Error("no database pool statistics")
		}
		if s7.get("gatehouse_build_info") != 1 || s7["go_build_info"] == nil || s7["go_goroutines"] == nil || s7["process_open_fds"] == nil {
			t.Error("no build or runtime metrics")
		}
		// Never on the public port; the profiler only when enabled.
		if r := e.get("/metrics"); r.Status != http.StatusNotFound {
			t.Errorf("/metrics on the public port: %s", r)
		}
		if res, err := http.Get(met.admin.URL + "/debug/pprof/"); err != nil || res.StatusCode != http.StatusNotFound {
			t.Errorf("pprof without GATEHOUSE_PPROF: %v %v", res.StatusCode, err)
		}
		if testing.Verbose() {
			t.Logf("/metrics after these requests (gatehouse_ series):\n%s", gatehouseSeries(met.text()))
		}
	})
}

// gatehouseSeries is the gatehouse_ and go_sql_ lines of a /metrics page,
// histogram buckets left out.
func gatehouseSeries(page string) string {
	var out []string
	for _, l := range strings.Split(page, "\n") {
		if (strings.HasPrefix(l, "gatehouse_") || strings.HasPrefix(l, "go_sql_") || strings.HasPrefix(l, "go_build_info")) &&
			!strings.Contains(l, "_bucket{") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestObs_ProfilerOnTheAdminListenerWhenEnabled(t *testing.T) {
	e := newEnv(t, dialect.SQLite, server.Config{Pprof: true})
	met := adminOf(t, e)
	res, err := http.Get(met.admin.URL + "/debug/pprof/")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("pprof: %v %v", res, err)
	}
	res.Body.Close()
	if r := e.get("/debug/pprof/"); r.Status == http.StatusOK && strings.Contains(string(r.Body), "profile") {
		t.Errorf("the profiler answers on the public port: %s", r)
	}
}

// D6's paths are measured: a server hears another's commit by
// notification (with its lag), and without LISTEN by its polls.
func TestObs_NotifiedAndPolledInvalidationsAreCounted(t *testing.T) {
	a1, notified, polling := listeningAndPolling(t)
	a := a1.newAccount("obsd6", nil)
	in := map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": a.OwnerID}, "permission": "AgentChat"}
	notified.decide(notified.Operator, in) // both cache the model
	polling.decide(polling.Operator, in)
	mn, mp := adminOf(t, notified), adminOf(t, polling)
	a1.createRole(a.Owner, a.ID, "Changes", nil)
	waitUntil(t, "the notified server drops the model", func() bool {
		s := mn.scrape()
		return s.get("gatehouse_model_cache_invalidations_total", "source", "notified") >= 1 &&
			s.get("gatehouse_change_notification_lag_seconds") >= 1
	})
	waitUntil(t, "the polling server drops the model", func() bool {
		return mp.scrape().get("gatehouse_model_cache_invalidations_total", "source", "polled") >= 1
	})
	if s := mp.scrape(); s.get("gatehouse_change_notification_lag_seconds") != 0 {
		t.Error("a server without LISTEN reports notifications")
	}
}

// waitUntil polls cond for up to 10 s: other servers hear of changes
// asynchronously.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
	}
}

// logBuffer collects a server's JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the lines logged with a request id.
func (b *logBuffer) lines(t *testing.T, requestID string) []map[string]any {
	t.Helper()
	return b.matching(t, func(m map[string]any) bool { return m["request_id"] == requestID })
}

// withMsg returns the lines logged with this message.
func (b *logBuffer) withMsg(t *testing.T, msg string) []map[string]any {
	t.Helper()
	return b.matching(t, func(m map[string]any) bool { return m["msg"] == msg })
}

// matching returns the lines logged that keep says to keep.
func (b *logBuffer) matching(t *testing.T, keep func(map[string]any) bool) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(b.buf.String(), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		if keep(m) {
			out = append(out, m)
		}
	}
	return out
}

// newLoggedEnv is a server whose log lines the test reads.
func newLoggedEnv(t *testing.T, dia string, cfg server.Config) (*env, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	db := openDB(t, dia, cfg.DatabaseOptions())
	return serveEnvWith(t, db, cfg, log), logs
}

// sendWithID posts a query with a credential and a request id, from the
// address given (X-Forwarded-For, believed from trusted proxies only).
func (e *env) sendWithID(id, cred, query string, vars map[string]any, forwardedFor string) resp {
	e.t.Helper()
	req := e.request(cred, query, vars)
	req.Header.Set("X-Request-Id", id)
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	return e.send(req)
}

// accessLine is the request's one access-log line.
func accessLine(t *testing.T, lines []map[string]any) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, l := range lines {
		if l["msg"] == "request" {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one access-log line, got %d: %v", len(found), lines)
	}
	return found[0]
}

// One access-log line per request says who did what, where, how it ended
// and how long it took; every line the request logged carries its id.
func TestObs_AccessLogLineAndRequestIDOnEveryLine(t *testing.T) {
	forEachDBOf(t, func(t *testing.T, dia string) {
		e, logs := newLoggedEnv(t, dia, server.Config{})
		a := e.newAccount("obslog", nil)
		keyResp := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "reader", "permissions": []string{"AgentChat"}})
		key, keyID := keyResp.Get("data.createApiKey.secret").String(), keyResp.Get("data.createApiKey.apiKey.id").String()

		r := e.sendWithID("req-obs-refused", key, makeRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Nope"}}, "")
		if r.Code() != "FORBIDDEN" {
			t.Fatalf("refused mutation: %s", r)
		}
		l := accessLine(t, logs.lines(t, "req-obs-refused"))
		want := map[string]any{
			"level": "INFO", "method": "POST", "path": "/graphql", "status": float64(200), "client_addr": "127.0.0.1",
			"principal_kind": "api_key", "principal_id": keyID, "account": a.ID,
			"operation": "MakeRole", "operation_type": "mutation", "error_codes": []any{"FORBIDDEN"},
		}
		for k, v := range want {
			if fmt.Sprint(l[k]) != fmt.Sprint(v) {
				t.Errorf("access line %s = %v, want %v (%v)", k, l[k], v, l)
			}
		}
		if d, ok := l["duration"].(float64); !ok || d <= 0 {
			t.Errorf("access line duration: %v", l["duration"])
		}

		// The decision fast path: a refusal's code reaches the line too.
		body, _ := json.Marshal(map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": a.OwnerID}, "permission": "AgentChat"})
		req, _ := http.NewRequest(http.MethodPost, e.URL+"/v1/authorize", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("X-Request-Id", "req-obs-fast")
		if r := e.send(req); r.Status != http.StatusForbidden {
			t.Fatalf("deciding for another subject without iam.authorize: %s", r)
		}
		l = accessLine(t, logs.lines(t, "req-obs-fast"))
		if l["path"] != "/v1/authorize" || l["status"] != float64(403) || l["principal_kind"] != "api_key" ||
			l["account"] != a.ID || fmt.Sprint(l["error_codes"]) != "[FORBIDDEN]" {
			t.Errorf("the decision API's access line: %v", l)
		}

		// A user acting in an account the request names.
		e.sendWithID("req-obs-decide", a.Owner, decideOp, map[string]any{"in": map[string]any{"accountId": a.ID, "permission": "AgentChat"}}, "")
		l = accessLine(t, logs.lines(t, "req-obs-decide"))
		if l["principal_kind"] != "user" || l["account"] != a.ID || l["operation"] != "Decide" || l["error_codes"] != nil || l["status"] != float64(200) {
			t.Errorf("decision's access line: %v", l)
		}

		// A refused credential: its reason logged at info with the request
		// id, and the access line.
		e.sendWithID("req-obs-401", unknownOperatorKey(t), `{ viewer { kind } }`, nil, "")
		lines := logs.lines(t, "req-obs-401")
		l = accessLine(t, lines)
		if l["status"] != float64(401) || l["principal_kind"] != "anonymous" || fmt.Sprint(l["error_codes"]) != "[UNAUTHENTICATED]" {
			t.Errorf("refused credential's access line: %v", l)
		}
		if !slices.ContainsFunc(lines, func(m map[string]any) bool {
			return m["msg"] == "authentication failed" && m["level"] == "INFO" && m["reason"] == "unknown operator key"
		}) {
			t.Errorf("no 'authentication failed' line with the request id: %v", lines)
		}
	})
}

// forEachDBOf runs fn on SQLite and, when configured, on PostgreSQL, for
// tests that build their own servers.
func forEachDBOf(t *testing.T, fn func(t *testing.T, dia string)) {
	t.Helper()
	for name, dia := range map[string]string{"sqlite": dialect.SQLite, "postgres": dialect.Postgres} {
		t.Run(name, func(t *testing.T) {
			if dia == dialect.Postgres && postgresURL() == "" {
				t.Skip("PostgreSQL suite off: set GATEHOUSE_TEST_POSTGRES_URL")
			}
			t.Parallel()
			fn(t, dia)
		})
	}
}

// openDB opens a fresh, migrated database with opts.
func openDB(t *testing.T, dia string, opts database.Options) *database.DB {
	t.Helper()
	db, err := database.OpenWith(freshDatabase(t, dia), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(); err != nil {
		t.Fatal(err)
	}
	return db
}

// D6 and the write path: a server's own commits do not wake its change feed
// (it applied them as it committed; each read of the feed is a query), and
// another server's commit still does — counted by the feed-read metric on a
// listening server that polls once a minute.
func TestObs_OwnCommitsDoNotWakeTheFeed(t *testing.T) {
	other, notified, _ := listeningAndPolling(t)
	a := other.newAccount("obsown", nil)
	m := adminOf(t, notified)
	reads := func() float64 { return m.scrape().get("gatehouse_change_feed_reads_total", "source", "notified") }
	// The setup's commits (another server's) wake the feed; once it is
	// quiet, the baseline.
	waitUntil(t, "the setup's notifications wake the feed", func() bool { return reads() >= 1 })
	before := reads()
	for quiet := time.Now(); time.Since(quiet) < 300*time.Millisecond; time.Sleep(20 * time.Millisecond) {
		if n := reads(); n != before {
			before, quiet = n, time.Now()
		}
	}
	// The notified server's own commits: heard (the lag metric counts
	// their notifications, which a burst may share), and no feed read.
	lag := m.scrape().get("gatehouse_change_notification_lag_seconds")
	for i := range 5 {
		notified.createRole(a.Owner, a.ID, fmt.Sprintf("Own %d", i), nil)
	}
	waitUntil(t, "the server hears its own notifications", func() bool {
		return m.scrape().get("gatehouse_change_notification_lag_seconds") > lag
	})
	time.Sleep(200 * time.Millisecond) // the rest are heard, and a read they would wake has begun
	if n := reads(); n != before {
		t.Errorf("the server's own 5 commits woke its change feed %v times", n-before)
	}
	// Another server's commit wakes it.
	other.createRole(a.Owner, a.ID, "Theirs", nil)
	waitUntil(t, "another server's commit wakes the feed", func() bool { return reads() > before })
}

// An operation over a WebSocket is a request of its own in the access log
// too: a line each, saying who did what, where and how it ended.
func TestObs_EveryOperationOverTheSocketIsLogged(t *testing.T) {
	e, logs := newLoggedEnv(t, dialect.SQLite, server.Config{})
	a := e.newAccount("obsws", nil)
	keyResp := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "reader", "permissions": []string{"iam.roles.read"}})
	key, keyID := keyResp.Get("data.createApiKey.secret").String(), keyResp.Get("data.createApiKey.apiKey.id").String()
	c := e.connectWS(t, key)
	c.query("1", `query Roles($a: ID!) { account(id: $a) { roles { totalCount } } }`, map[string]any{"a": a.ID})
	c.query("2", `mutation MakeRole($in: CreateRoleInput!) { createRole(input: $in) { role { id } } }`,
		map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Nope"}})
	lines := logs.withMsg(t, "operation")
	if len(lines) != 2 {
		t.Fatalf("want an access line per operation, got %d: %v", len(lines), lines)
	}
	for i, want := range []map[string]any{
		{"operation": "Roles", "operation_type": "query", "error_codes": nil},
		{"operation": "MakeRole", "operation_type": "mutation", "error_codes": []any{"FORBIDDEN"}},
	} {
		l := lines[i]
		maps.Copy(want, map[string]any{"transport": "websocket", "principal_kind": "api_key", "principal_id": keyID, "account": a.ID, "client_addr": "127.0.0.1"})
		for k, v := range want {
			if fmt.Sprint(l[k]) != fmt.Sprint(v) {
				t.Errorf("line %d: %s = %v, want %v (%v)", i+1, k, l[k], v, l)
			}
		}
		if d, ok := l["duration"].(float64); !ok || d <= 0 || l["request_id"] == nil {
			t.Errorf("line %d: duration %v, request id %v", i+1, l["duration"], l["request_id"])
		}
	}
}
