package apitest

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// outageFixture is a Gatehouse on PostgreSQL reached through a fault proxy,
// with one credential of each kind, all warm.
type outageFixture struct {
	e     *env
	proxy *faultProxy
	creds map[string]string // kind → secret
	a     account
}

func newOutageFixture(t *testing.T, cfg server.Config) *outageFixture {
	target := clonePostgres(t)
	proxy := newFaultProxy(t, hostOf(t, target))
	e := newEnvOn(t, dialect.Postgres, cfg, proxy.via(t, target))
	a := e.newAccount("p5", nil)
	key := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "ci"}).Get("data.createApiKey.secret").String()
	f := &outageFixture{e: e, proxy: proxy, a: a,
		creds: map[string]string{"operator key": e.Operator, "API key": key, "JWT": a.Owner}}
	for kind, cred := range f.creds {
		if r := f.ask(cred); r.Status != http.StatusOK {
			t.Fatalf("%s before the outage: %s", kind, r)
		}
	}
	return f
}

func hostOf(t *testing.T, rawURL string) string {
	t.Helper()
	rest := rawURL[strings.Index(rawURL, "@")+1:]
	return rest[:strings.IndexAny(rest, "/?")]
}

// ask makes the decision every client makes: may the owner chat?
func (f *outageFixture) ask(cred string) resp {
	return f.e.gql(cred, authorize, map[string]any{"in": map[string]any{
		"accountId": f.a.ID, "subject": map[string]any{"memberId": f.a.OwnerID}, "permission": "AgentChat"}})
}

// P5: while the database is down, valid credentials are never told they are
// wrong: HTTP 503, UNAVAILABLE, Retry-After — and no decision is granted from
// a model older than the staleness bound. When it is back, they work again.
func TestP5_AnOutageIsNotAWrongPassword(t *testing.T) {
	if postgresURL() == "" {
		t.Skip("needs PostgreSQL: set GATEHOUSE_TEST_POSTGRES_URL")
	}
	t.Parallel()
	const stale = 300 * time.Millisecond
	f := newOutageFixture(t, server.Config{MaxStaleness: stale, RequestTimeout: 3 * time.Second, DBPoolTimeout: time.Second})
	f.proxy.set(proxyDown)
	time.Sleep(stale + 100*time.Millisecond) // past the bound: the cache may not answer any more
	for kind, cred := range f.creds {
		r := f.ask(cred)
		if r.Status != http.StatusServiceUnavailable || r.Code() != "UNAVAILABLE" || r.Header.Get("Retry-After") == "" {
			t.Errorf("%s during the outage: %s (Retry-After %q)", kind, r, r.Header.Get("Retry-After"))
		}
		if r.Get("data.authorize.allowed").Bool() {
			t.Errorf("%s: a decision was granted from a stale model: %s", kind, r)
		}
	}
	if res := f.e.get("/readyz"); res.Status != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: %s", res)
	}
	// A credential known to be wrong without the database is still 401.
	if r := f.ask("gk_not-a-key"); r.Status != http.StatusUnauthorized {
		t.Errorf("malformed key during the outage: %s", r)
	}
	f.proxy.set(proxyUp)
	for kind, cred := range f.creds {
		deadline := time.Now().Add(10 * time.Second)
		for r := f.ask(cred); r.Status != http.StatusOK; r = f.ask(cred) {
			if r.Status != http.StatusServiceUnavailable || time.Now().After(deadline) {
				t.Fatalf("%s after the outage: %s", kind, r)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for res := f.e.get("/readyz"); res.Status != http.StatusOK; res = f.e.get("/readyz") {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after the outage: %s", res)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// P5 over a restart: every credential kind asked every 20 ms while the
// database goes away for a second and comes back sees only 200 and 503 —
// never 401 — and is served again afterwards.
func TestP5_StatusesThroughARestart(t *testing.T) {
	if postgresURL() == "" {
		t.Skip("needs PostgreSQL: set GATEHOUSE_TEST_POSTGRES_URL")
	}
	t.Parallel()
	f := newOutageFixture(t, server.Config{MaxStaleness: 300 * time.Millisecond, RequestTimeout: 2 * time.Second, DBPoolTimeout: 500 * time.Millisecond})
	seen := map[string]map[int]int{}
	stop := time.After(4 * time.Second)
	go func() {
		time.Sleep(time.Second)
		f.proxy.set(proxyDown)
		time.Sleep(time.Second)
		f.proxy.set(proxyUp)
	}()
	for loop := true; loop; {
		select {
		case <-stop:
			loop = false
		case <-time.After(20 * time.Millisecond):
			for kind, cred := range f.creds {
				r := f.ask(cred)
				if seen[kind] == nil {
					seen[kind] = map[int]int{}
				}
				seen[kind][r.Status]++
				if r.Status == http.StatusOK && !r.Get("data.authorize.allowed").Bool() {
					t.Errorf("%s: a wrong answer during the restart: %s", kind, r)
				}
			}
		}
	}
	for _, kind := range slices.Sorted(maps.Keys(seen)) {
		statuses := seen[kind]
		t.Logf("%s: statuses seen through the restart: %s", kind, histogram(statuses))
		for status := range statuses {
			if status != http.StatusOK && status != http.StatusServiceUnavailable {
				t.Errorf("%s got HTTP %d during a restart", kind, status)
			}
		}
		if statuses[http.StatusServiceUnavailable] == 0 {
			t.Errorf("%s never saw the outage: %v", kind, statuses)
		}
	}
	if r := f.ask(f.creds["API key"]); r.Status != http.StatusOK {
		t.Fatalf("after the restart: %s", r)
	}
}

func histogram(m map[int]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d×%d", m[k], k))
	}
	return strings.Join(parts, " ")
}

// P5: readiness fails from the moment shutdown begins, while the API still
// serves the requests that arrive meanwhile.
func TestP5_ReadinessFailsWhenDrainingBegins(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		if res := e.get("/readyz"); res.Status != http.StatusOK {
			t.Fatalf("before: %s", res)
		}
		e.Server.Drain()
		if res := e.get("/readyz"); res.Status != http.StatusServiceUnavailable {
			t.Fatalf("draining: %s", res)
		}
		e.ok(e.Operator, whoAmI, nil)
	})
}

// stallDeadline is the request deadline of the stall tests.
const stallDeadline = time.Second

// newStallFixture is an outage fixture whose requests have stallDeadline and
// whose other bounds (pool, statements, staleness) are far: during a stall
// only the deadline ends a wait.
func newStallFixture(t *testing.T) *outageFixture {
	t.Helper()
	if postgresURL() == "" {
		t.Skip("needs PostgreSQL: set GATEHOUSE_TEST_POSTGRES_URL")
	}
	t.Parallel()
	return newOutageFixture(t, server.Config{RequestTimeout: stallDeadline, DBPoolTimeout: time.Minute, DBStatementTimeout: time.Minute, MaxStaleness: time.Minute})
}

// stallThenSend stalls the database (until the test ends) and starts
// operation id on c: it must end UNAVAILABLE within the deadline and 5 s.
func (f *outageFixture) stallThenSend(t *testing.T, c *wsConn, id, query string, vars map[string]any) {
	t.Helper()
	f.proxy.set(proxyStall)
	t.Cleanup(func() { f.proxy.set(proxyUp) })
	began := time.Now()
	c.subscribe(id, query, vars)
	m, err := c.read(stallDeadline + 5*time.Second)
	if err != nil {
		t.Fatalf("no answer %s after the deadline: %v", 5*time.Second, err)
	}
	if errorCode(m) != "UNAVAILABLE" || m.Get("id").String() != id {
		t.Fatalf("operation %s during the stall, after %s: %s", id, time.Since(began), m.Raw)
	}
}

// P5 over a WebSocket: a query on an open connection has the deadline of a
// request. While the database stalls it answers UNAVAILABLE when the
// deadline passes, instead of waiting as long as the database does.
func TestP5_OperationsOverTheSocketHaveADeadline(t *testing.T) {
	f := newStallFixture(t)
	c := f.e.connectWS(t, f.e.Operator)
	audit := `query($a: ID!) { account(id: $a) { auditEvents(first: 1) { totalCount } } }`
	if p := c.query("1", audit, map[string]any{"a": f.a.ID}); p.Get("data.account.auditEvents.totalCount").Int() == 0 {
		t.Fatalf("before the stall: %s", p.Raw)
	}
	f.stallThenSend(t, c, "2", audit, map[string]any{"a": f.a.ID})
}

// P5 over a WebSocket: a subscription lasts as long as its client wants,
// but each of its reads has the deadline of a request. While the database
// stalls, a new subscription ends with UNAVAILABLE when the deadline passes
// (its client resumes later with after:, losing nothing) instead of
// holding a pool connection for as long as the database stalls.
func TestP5_EachReadOfASubscriptionHasADeadline(t *testing.T) {
	f := newStallFixture(t)
	c := f.e.connectWS(t, f.e.Operator)
	c.subscribe("1", accountChanged, watch(f.a.ID))
	f.e.waitSubscribed(t, f.e, 1)
	f.stallThenSend(t, c, "2", accountChanged, watch(f.a.ID))
}

// P5 for audit exports: an export takes as long as the log is long, but each
// of its reads has the deadline of a request. While the database stalls, an
// export answers 503 UNAVAILABLE with Retry-After when the deadline passes,
// instead of holding a pool connection, and its client, for as long as the
// stall lasts.
func TestP5_EachReadOfAnAuditExportHasADeadline(t *testing.T) {
	f := newStallFixture(t)
	if status, _ := f.e.getExport(f.e.Operator, "/accounts/"+f.a.ID+"/audit.jsonl"); status != http.StatusOK {
		t.Fatalf("an export before the stall: %d", status)
	}
	f.proxy.set(proxyStall)
	defer f.proxy.set(proxyUp)
	req, _ := http.NewRequest(http.MethodGet, f.e.URL+"/accounts/"+f.a.ID+"/audit.jsonl", nil)
	req.Header.Set("Authorization", "Bearer "+f.e.Operator)
	res, err := (&http.Client{Timeout: stallDeadline + 5*time.Second}).Do(req)
	if err != nil {
		t.Fatalf("an export during the stall: no answer: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || !strings.Contains(string(body), `"UNAVAILABLE"`) {
		t.Fatalf("an export during the stall: %d %s", res.StatusCode, body)
	}
}

// P5 when the database stalls (a frozen server, a network that drops packets
// silently): a request answers UNAVAILABLE, 503 with Retry-After, soon after
// its deadline — its connection's socket ends with it — instead of waiting
// for the stall to end; and the server answers again once it has.
func TestP5_AStalledDatabaseAnswersUnavailableAtTheDeadline(t *testing.T) {
	if postgresURL() == "" {
		t.Skip("needs PostgreSQL: set GATEHOUSE_TEST_POSTGRES_URL")
	}
	t.Parallel()
	f := newOutageFixture(t, server.Config{RequestTimeout: time.Second, DBPoolTimeout: time.Minute, DBStatementTimeout: time.Minute, MaxStaleness: time.Minute})
	audit := `query($a: ID!) { account(id: $a) { auditEvents(first: 1) { totalCount } } }`
	req := func() *http.Request { return f.e.request(f.e.Operator, audit, map[string]any{"a": f.a.ID}) }
	client := &http.Client{Timeout: 6 * time.Second} // a failure bound: the deadline and a second to cancel, with room
	f.proxy.set(proxyStall)
	// More than the pool keeps idle (two): each stalled connection is given
	// up, so the later requests open new ones, whose startup stalls too.
	for i := range 5 {
		res, err := client.Do(req())
		if err != nil {
			f.proxy.set(proxyUp)
			t.Fatalf("request %d during the stall: no answer: %v", i+1, err)
		}
		body, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || !strings.Contains(string(body), `"UNAVAILABLE"`) {
			t.Errorf("request %d during the stall: %d %s", i+1, res.StatusCode, body)
		}
	}
	f.proxy.set(proxyUp)
	deadline := time.Now().Add(10 * time.Second)
	for r := f.e.send(req()); r.Status != http.StatusOK || r.Get("data.account.auditEvents.totalCount").Int() == 0; r = f.e.send(req()) {
		if time.Now().After(deadline) {
			t.Fatalf("after the stall: %s", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// P5: a server stops while its database stalls. Its last usage flush (the
// uses of the fixture's decisions and key) ends at its statements'
// deadline instead of waiting for the stall to end: Close waited for as
// long as the stall lasted.
func TestP5_AServerStopsWhileTheDatabaseStalls(t *testing.T) {
	if postgresURL() == "" {
		t.Skip("needs PostgreSQL: set GATEHOUSE_TEST_POSTGRES_URL")
	}
	t.Parallel()
	f := newOutageFixture(t, server.Config{RequestTimeout: time.Second, MaxStaleness: time.Minute})
	f.proxy.set(proxyStall)
	stopped := make(chan struct{})
	began := time.Now()
	go func() {
		f.e.Server.Close()
		close(stopped)
	}()
	select {
	case <-stopped:
		t.Logf("stopped in %s", time.Since(began).Round(time.Millisecond))
	case <-time.After(15 * time.Second):
		f.proxy.set(proxyUp)
		<-stopped
		t.Fatalf("the server took %s to stop: it waited for the stall to end", time.Since(began).Round(time.Second))
	}
	f.proxy.set(proxyUp)
}

// P5 without confirmation from the change feed: each request reads the
// account anew, once. Every model a request asked for was read again, and
// a members page asks for its account's model for each member it shows (its
// roles, its permissions): a page of 10 members read the whole account
// about 20 times, exactly when the database was slow enough to stall the
// feed. Here the feed confirms once, at start, and never again (a poll an
// hour, staleness 1 ms).
func TestP5_AnUnconfirmedCacheReadsTheAccountOnceARequest(t *testing.T) {
	forEachDBWith(t, server.Config{ChangePollInterval: time.Hour, MaxStaleness: time.Millisecond}, func(t *testing.T, e *env) {
		a := e.newAccount("unconfirmed", nil)
		for i := range 10 {
			e.addMember(a.Owner, a.ID, fmt.Sprintf("m%d@unconfirmed.test", i), a.DefaultAccessID)
		}
		met := adminOf(t, e)
		before := met.scrape()
		r := e.ok(a.Owner, `query($id: ID!) { account(id: $id) { members(first: 20) { edges { node { id roles { key } effectivePermissions } } } } }`,
			map[string]any{"id": a.ID})
		if n := len(r.Get("data.account.members.edges").Array()); n != 11 {
			t.Fatalf("%d members: %s", n, r)
		}
		delta(t, before, met.scrape(), 1, "gatehouse_model_load_duration_seconds")
	})
}
