package server

import (
	"cmp"
	"context"
	"database/sql"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse-iam/gatehouse/graph/iam"
)

// metrics are the server's Prometheus metrics, served on the admin listener
// (Server.Admin). It is also the iam service's Observer.
type metrics struct {
	registry *prometheus.Registry

	http        *prometheus.HistogramVec
	inFlight    prometheus.Gauge
	operations  *prometheus.CounterVec
	opDuration  *prometheus.HistogramVec
	decisions   *prometheus.CounterVec
	lookups     *prometheus.CounterVec
	hits, miss  prometheus.Counter // lookups' two children, resolved once: counted on every field
	decided     [2]sync.Map        // decisions' children by reason, denied [0] and allowed [1]
	loads       *prometheus.HistogramVec
	evictions   prometheus.Counter
	usageDrops  prometheus.Counter
	invalidated *prometheus.CounterVec
	notifyLag   prometheus.Histogram
	feedReads   *prometheus.CounterVec
	audit       prometheus.Counter
	limited     *prometheus.CounterVec
	authFailed  *prometheus.CounterVec
	unavailable *prometheus.CounterVec
	admission   *prometheus.CounterVec

	// ops bounds the operation names used as label values: clients name
	// operations, so only the first maxOperationNames are kept apart.
	opsMu sync.Mutex
	ops   map[string]bool
}

// maxOperationNames is how many distinct operation names get a label value
// of their own; later ones are counted as "other".
const maxOperationNames = 200

var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

func newMetrics(db *sql.DB, version, commit string) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		http: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_http_request_duration_seconds",
			Help:    "HTTP requests by handler, method and status code.",
			Buckets: latencyBuckets,
		}, []string{"handler", "method", "code"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gatehouse_http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_graphql_operations_total",
			Help: "GraphQL operations by name (the first root field for unnamed ones), type and result code (OK, or the first error's extensions.code).",
		}, []string{"operation", "type", "code"}),
		opDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_graphql_operation_duration_seconds",
			Help:    "GraphQL operations' execution time by type.",
			Buckets: latencyBuckets,
		}, []string{"type"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_decisions_total",
			Help: "Authorization decisions (D1) by result (allowed or denied) and reason (D2).",
		}, []string{"result", "reason"}),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_model_cache_lookups_total",
			Help: "Lookups of the account model cache by result (hit or miss).",
		}, []string{"result"}),
		loads: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_model_load_duration_seconds",
			Help:    "Account models read from the database, by result (ok or error).",
			Buckets: latencyBuckets,
		}, []string{"result"}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_model_cache_evictions_total",
			Help: "Models pushed out of the bounded model cache.",
		}),
		usageDrops: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_usage_dropped_total",
			Help: "Uses of API keys and permissions (lastUsedAt, V2) not recorded: the usage log was full, the database unwritable for long.",
		}),
		invalidated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_model_cache_invalidations_total",
			Help: "Cached models dropped because their account changed, by how the change was learned: local (this server's commit), notified (a PostgreSQL notification woke the change feed) or polled (the feed's periodic read).",
		}, []string{"source"}),
		feedReads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_change_feed_reads_total",
			Help: "Reads of the change feed, by what prompted them: notified (another server's commit, by PostgreSQL notification; this server's own commits wake nothing) or polled (the periodic read).",
		}, []string{"source"}),
		notifyLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gatehouse_change_notification_lag_seconds",
			Help:    "From a commit on any server to this server hearing its PostgreSQL notification, sent once the change has committed (includes clock skew between servers).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}),
		audit: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_audit_events_written_total",
			Help: "Audit events committed (L1).",
		}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_rate_limited_total",
			Help: "Requests refused with 429, by limit: requests (per principal or client address), auth_failures (failed authentications per client address), or sockets (WebSocket connections beyond GATEHOUSE_MAX_SOCKETS).",
		}, []string{"limit"}),
		authFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_auth_failures_total",
			Help: "Credentials refused with 401, by reason (what the log says; clients see one answer).",
		}, []string{"reason"}),
		unavailable: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_unavailable_total",
			Help: "Requests answered UNAVAILABLE (HTTP 503) because storage could not serve them in time, by where it was met.",
		}, []string{"where"}),
		admission: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_query_admission_total",
			Help: "GraphQL queries that found every turn taken (GATEHOUSE_ACTIVE_QUERIES), by outcome: waited (for a turn, then ran) or ran_without_turn (waited GATEHOUSE_QUERY_QUEUE_WAIT, then ran anyway).",
		}, []string{"outcome"}),
		ops: map[string]bool{},
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "gatehouse_build_info",
		Help:        "Always 1; the labels say which build is running.",
		ConstLabels: buildLabels(version, commit),
	})
	build.Set(1)
	m.hits, m.miss = m.lookups.WithLabelValues("hit"), m.lookups.WithLabelValues("miss")
	m.registry.MustRegister(m.http, m.inFlight, m.operations, m.opDuration, m.decisions, m.lookups, m.loads,
		m.evictions, m.usageDrops, m.invalidated, m.feedReads, m.notifyLag, m.audit, m.limited, m.authFailed, m.unavailable, m.admission, build,
		collectors.NewBuildInfoCollector(),
		// Beyond the defaults: the heap live after the last GC (what the
		// cached models really take) and the count of GC cycles.
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/(heap/live|cycles/total):`)})),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db, "gatehouse"),
	)
	return m
}

// buildLabels names the version, the commit and the Go version.
func buildLabels(version, commit string) prometheus.Labels {
	or := func(s, dflt string) string {
		if s == "" {
			return dflt
		}
		return s
	}
	return prometheus.Labels{"version": or(version, "dev"), "revision": or(commit, "unknown"), "goversion": runtime.Version()}
}

// handler serves the metrics.
func (m *metrics) handler() http.Handler {
	return promhttp.InstrumentMetricHandler(m.registry, promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry}))
}

// instrument measures one route's requests with promhttp's middleware. A
// WebSocket upgrade lasts as long as its connection, so it is left out (see
// registerLive).
func (m *metrics) instrument(name string, next http.Handler) http.Handler {
	obs := m.http.MustCurryWith(prometheus.Labels{"handler": name})
	// The series of a (method, code), looked up once: promhttp's middleware
	// builds a label map and wraps the writer on every request, which showed
	// in the decision path's allocations. The status is the access log's
	// recorder's, which every request passes through (requestMeta).
	var series sync.Map // seriesKey → prometheus.Observer
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		rec, ok := w.(*recorder)
		if !ok {
			rec = &recorder{ResponseWriter: w}
		}
		m.inFlight.Inc()
		began := time.Now()
		defer func() {
			m.inFlight.Dec()
			key := seriesKey{method: methodLabel(r.Method), code: cmp.Or(rec.status, http.StatusOK)}
			o, found := series.Load(key)
			if !found {
				o, _ = series.LoadOrStore(key, obs.WithLabelValues(key.method, strconv.Itoa(key.code)))
			}
			o.(prometheus.Observer).Observe(time.Since(began).Seconds())
		}()
		next.ServeHTTP(rec, r)
	})
}

type seriesKey struct {
	method string
	code   int
}

// methodLabel is promhttp's label of a method: the standard ones in lower
// case, any other "unknown" (a client cannot make series without bound).
func methodLabel(m string) string {
	switch m {
	case http.MethodGet:
		return "get"
	case http.MethodPost:
		return "post"
	case http.MethodPut:
		return "put"
	case http.MethodHead:
		return "head"
	case http.MethodDelete:
		return "delete"
	case http.MethodConnect:
		return "connect"
	case http.MethodOptions:
		return "options"
	case http.MethodTrace:
		return "trace"
	case http.MethodPatch:
		return "patch"
	}
	return "unknown"
}

// operation returns the label value of an operation name.
func (m *metrics) operation(name string) string {
	if name == "" {
		return "anonymous"
	}
	m.opsMu.Lock()
	defer m.opsMu.Unlock()
	if m.ops[name] {
		return name
	}
	if len(m.ops) >= maxOperationNames || len(name) > 64 {
		return "other"
	}
	name = strings.Clone(name) // a label value, kept: not a slice of the request's document
	m.ops[name] = true
	return name
}

// operationDone counts one GraphQL operation.
func (m *metrics) operationDone(name, typ, code string, d time.Duration) {
	m.operations.WithLabelValues(m.operation(name), typ, code).Inc()
	m.opDuration.WithLabelValues(typ).Observe(d.Seconds())
}

// notified observes the lag of a change notification's payload.
func (m *metrics) notified(payload string) {
	if at, ok := iam.NotificationSent(payload); ok {
		m.notifyLag.Observe(max(0, time.Since(at).Seconds()))
	}
}

// The iam.Observer methods.

func (m *metrics) CacheLookup(hit bool) {
	if hit {
		m.hits.Inc()
	} else {
		m.miss.Inc()
	}
}

func (m *metrics) ModelLoaded(d time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.loads.WithLabelValues(result).Observe(d.Seconds())
}

func (m *metrics) ModelsEvicted(n int) { m.evictions.Add(float64(n)) }

func (m *metrics) UsageDropped(n int) { m.usageDrops.Add(float64(n)) }

func (m *metrics) FeedRead(source iam.Invalidation) {
	m.feedReads.WithLabelValues(string(source)).Inc()
}

func (m *metrics) ModelsInvalidated(source iam.Invalidation, n int) {
	m.invalidated.WithLabelValues(string(source)).Add(float64(n))
}

func (m *metrics) Decided(_ context.Context, allowed bool, reason string) {
	i, result := 0, "denied"
	if allowed {
		i, result = 1, "allowed"
	}
	c, ok := m.decided[i].Load(reason)
	if !ok {
		c, _ = m.decided[i].LoadOrStore(reason, m.decisions.WithLabelValues(result, reason))
	}
	c.(prometheus.Counter).Inc()
}

func (m *metrics) AuditCommitted(n int) { m.audit.Add(float64(n)) }

func (m *metrics) AccountUsed(ctx context.Context, accountID string) {
	entryFrom(ctx).setAccount(accountID)
}
