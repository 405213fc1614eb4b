// Package server assembles Gatehouse's HTTP server: the GraphQL endpoint with
// its limits, authentication, per-request loaders, GraphiQL, health checks and
// CORS.
package server

import (
	"time"

	"github.com/gatehouse-iam/gatehouse/graph/database"
)

// Config is the server's configuration. Each field is one setting, described
// by its tags, from which the flags, the help and the checks are derived (see
// Loader): env names the variable (the flag is its name without GATEHOUSE_,
// lower case, dashed), envDefault its default, group and help its place and
// line in `gatehouse serve --help`; check is positive, nonnegative, postgres
// or origins; enum lists the accepted words; secret keeps the value out of
// error messages. Adding a setting is adding a field.
type Config struct {
	Addr        string   `env:"GATEHOUSE_ADDR" envDefault:":8080" group:"Server" help:"listen address, host:port"`
	DatabaseURL string   `env:"DATABASE_URL" group:"Database" help:"postgres://… to use PostgreSQL; empty uses the SQLite file" check:"postgres" secret:"true"`
	SQLitePath  string   `env:"GATEHOUSE_SQLITE_PATH" envDefault:"gatehouse.db" group:"Database" help:"the SQLite file, used when DATABASE_URL is empty"`
	CORSOrigins []string `env:"GATEHOUSE_CORS_ORIGINS" envSeparator:"," group:"Server" help:"comma-separated origins (scheme://host[:port]) whose pages may call Gatehouse; none by default" check:"origins"`
	JWTSecret   string   `env:"GATEHOUSE_JWT_HS256_SECRET" group:"Authentication" help:"HS256 secret (at least 32 bytes) for dashboard JWTs" secret:"true"`
	JWKSURL     string   `env:"GATEHOUSE_JWKS_URL" group:"Authentication" help:"or: your identity provider's JWKS URL"`
	JWTIssuer   string   `env:"GATEHOUSE_JWT_ISSUER" group:"Authentication" help:"required iss claim, when set"`
	JWTAudience string   `env:"GATEHOUSE_JWT_AUDIENCE" group:"Authentication" help:"required aud claim, when set"`
	// JWKSAllowHTTP accepts a JWKS URL over plain http on a non-loopback host.
	JWKSAllowHTTP   bool          `env:"GATEHOUSE_JWKS_ALLOW_HTTP" group:"Authentication" help:"accept a plain-http JWKS URL on a non-loopback host"`
	MaxBodyBytes    int64         `env:"GATEHOUSE_MAX_BODY_BYTES" envDefault:"1048576" group:"Limits" help:"larger request bodies get HTTP 413; a larger WebSocket message closes its connection (1009)" check:"positive"`
	ParserTokens    int           `env:"GATEHOUSE_MAX_TOKENS" envDefault:"15000" group:"Limits" help:"parser token limit" check:"positive"`
	MaxDepth        int           `env:"GATEHOUSE_MAX_DEPTH" envDefault:"12" group:"Limits" help:"query depth limit" check:"positive"`
	MaxAliases      int           `env:"GATEHOUSE_MAX_ALIASES" envDefault:"30" group:"Limits" help:"aliases per operation" check:"positive"`
	MaxComplexity   int           `env:"GATEHOUSE_MAX_COMPLEXITY" envDefault:"5000" group:"Limits" help:"complexity; connections cost first × their fields" check:"positive"`
	MaxPageSize     int           `env:"GATEHOUSE_MAX_PAGE_SIZE" envDefault:"100" group:"Limits" help:"largest first/last; also the default page" check:"positive"`
	MaxFields       int           `env:"GATEHOUSE_MAX_FIELDS" envDefault:"1000" group:"Limits" help:"field selections per document, fragments expanded" check:"positive"`
	MaxChecks       int           `env:"GATEHOUSE_MAX_CHECKS" envDefault:"100" group:"Limits" help:"questions per authorizeMany" check:"positive"`
	MaxInputItems   int           `env:"GATEHOUSE_MAX_INPUT_ITEMS" envDefault:"1000" group:"Limits" help:"items of any list in a request's arguments (grants, roleIds, document entries…)" check:"positive"`
	RateLimit       float64       `env:"GATEHOUSE_RATE_LIMIT" envDefault:"100" group:"Limits" help:"requests per second per principal; 0 turns the limit off" check:"nonnegative"`
	RateBurst       int           `env:"GATEHOUSE_RATE_BURST" envDefault:"200" group:"Limits" help:"burst per principal" check:"positive"`
	ShutdownTimeout time.Duration `env:"GATEHOUSE_SHUTDOWN_TIMEOUT" envDefault:"15s" group:"Server" help:"graceful shutdown on SIGINT/SIGTERM" check:"positive"`
	UsageFlush      time.Duration `env:"GATEHOUSE_USAGE_FLUSH_INTERVAL" envDefault:"30s" group:"Server" help:"how often API keys' lastUsedAt and permission usage are written" check:"positive"`
	// Queries run at once, the others waiting their turn (admission.go).
	ActiveQueries  int           `env:"GATEHOUSE_ACTIVE_QUERIES" envDefault:"0" group:"Limits" help:"GraphQL queries run at once, the others waiting in order (0: twice the CPUs Go uses, GOMAXPROCS); mutations and subscriptions are not counted" check:"nonnegative"`
	QueryQueueWait time.Duration `env:"GATEHOUSE_QUERY_QUEUE_WAIT" envDefault:"100ms" group:"Limits" help:"longest a query waits for its turn; then it runs anyway" check:"positive"`
	// MaxSubscriptions bounds a principal's live subscriptions on a server (L5).
	MaxSubscriptions int `env:"GATEHOUSE_MAX_SUBSCRIPTIONS" envDefault:"10" group:"Limits" help:"live subscriptions per principal on a server" check:"positive"`
	// MaxSockets bounds the WebSockets a principal keeps open on a server,
	// and those of a client address awaiting connection_init (sockets.go).
	MaxSockets int `env:"GATEHOUSE_MAX_SOCKETS" envDefault:"16" group:"Limits" help:"WebSocket connections per principal on a server, and per client address before connection_init" check:"positive"`
	// Every request's deadline, and readiness on shutdown (P5).
	RequestTimeout time.Duration `env:"GATEHOUSE_REQUEST_TIMEOUT" envDefault:"10s" group:"Server" help:"every request's deadline; storage waits end with it, a body must arrive within it, a response be taken within it and 5 s more" check:"positive"`
	DrainDelay     time.Duration `env:"GATEHOUSE_DRAIN_DELAY" envDefault:"5s" group:"Server" help:"on shutdown, how long /readyz answers 503 before the listener closes" check:"nonnegative"`
	// The database pool and how long storage may make a request wait (P5).
	DBMaxConns         int           `env:"GATEHOUSE_DB_MAX_CONNS" envDefault:"20" group:"Database" help:"the pool's connections (SQLite: 8 is plenty)" check:"positive"`
	DBPoolTimeout      time.Duration `env:"GATEHOUSE_DB_POOL_TIMEOUT" envDefault:"2s" group:"Database" help:"longest wait for a pooled connection; then UNAVAILABLE (503)" check:"positive"`
	DBStatementTimeout time.Duration `env:"GATEHOUSE_DB_STATEMENT_TIMEOUT" envDefault:"5s" group:"Database" help:"PostgreSQL statement_timeout" check:"positive"`
	DBLockTimeout      time.Duration `env:"GATEHOUSE_DB_LOCK_TIMEOUT" envDefault:"2s" group:"Database" help:"longest a change waits for its account (queue and lock); then CONFLICT ACCOUNT_BUSY" check:"positive"`
	DBIdleInTxTimeout  time.Duration `env:"GATEHOUSE_DB_IDLE_IN_TRANSACTION_TIMEOUT" envDefault:"30s" group:"Database" help:"PostgreSQL idle_in_transaction_session_timeout" check:"positive"`
	// Statements stay prepared per connection (database.stmtcache.go).
	DBNoStatementCache bool `env:"GATEHOUSE_DB_NO_STATEMENT_CACHE" group:"Database" help:"do not keep statements prepared on each connection (on PostgreSQL one round trip a statement instead of two, on SQLite no parsing of a statement run again); needed behind PgBouncer in transaction mode before 1.21"`
	// Consistency across servers (D6).
	ModelCacheMB       float64       `env:"GATEHOUSE_MODEL_CACHE_MB" envDefault:"512" group:"Consistency" help:"memory the compiled account models may take, in MiB (least recently used go first; a warm account of 20 roles and 50 members counts 44 KB, what the process holds for it)" check:"positive"`
	ChangePollInterval time.Duration `env:"GATEHOUSE_CHANGE_POLL_INTERVAL" envDefault:"50ms" group:"Consistency" help:"how often the change feed reads other servers' commits (NOTIFY wakes it sooner)" check:"positive"`
	MaxStaleness       time.Duration `env:"GATEHOUSE_MAX_STALENESS" envDefault:"1s" group:"Consistency" help:"cached models are used only while the change feed confirmed them this recently; else read again or UNAVAILABLE" check:"positive"`
	// NoListen turns off PostgreSQL LISTEN, leaving the change feed's polls
	// (tests of the fallback use it).
	NoListen  bool   `env:"GATEHOUSE_NO_LISTEN" group:"Consistency" help:"do not LISTEN for other servers' commits: the change feed's polls alone keep up"`
	LogLevel  string `env:"GATEHOUSE_LOG_LEVEL" envDefault:"info" group:"Logging" help:"least severe level logged" enum:"debug,info,warn,error"`
	LogFormat string `env:"GATEHOUSE_LOG_FORMAT" envDefault:"text" group:"Logging" help:"log line format" enum:"text,json"`

	// MigrationDatabaseURL is the database owner's URL: migrations run
	// through it, and DatabaseURL is a serving role granted only what the
	// server needs, which cannot rewrite the audit log (L4).
	MigrationDatabaseURL string `env:"GATEHOUSE_MIGRATION_DATABASE_URL" group:"Database" help:"the owner's postgres:// URL: migrations run through it, the server through DATABASE_URL" check:"postgres" secret:"true"`
	// ServingRole is the role granted the serving privileges after migrating;
	// by default DatabaseURL's user, when it differs from the owner's.
	ServingRole string `env:"GATEHOUSE_SERVING_ROLE" group:"Database" help:"the role granted the serving privileges (default: DATABASE_URL's user)"`
	// AuditSigningKey is a PEM file holding the Ed25519 key that signs audit
	// checkpoints (gatehouse audit keygen); empty signs none.
	AuditSigningKey string `env:"GATEHOUSE_AUDIT_SIGNING_KEY" group:"Audit" help:"PEM file of the Ed25519 key that signs audit checkpoints (gatehouse audit keygen)"`
	// AuditPublicKeys are PEM files of the keys checkpoints may be signed
	// with, beyond the signing key's own (e.g. keys rotated out).
	AuditPublicKeys []string `env:"GATEHOUSE_AUDIT_PUBLIC_KEYS" envSeparator:"," group:"Audit" help:"comma-separated PEM files of other keys checkpoints may be signed with (rotated keys)"`
	// AuditCheckpointInterval is how often a server signs the chains' heads.
	AuditCheckpointInterval time.Duration `env:"GATEHOUSE_AUDIT_CHECKPOINT_INTERVAL" envDefault:"1m" group:"Audit" help:"how often the chains' heads are signed" check:"positive"`

	// Observability and network edges (README: "Running in production").
	// AdminAddr is the admin listener: /metrics, and /debug/pprof/ when
	// Pprof is set. Keep it off the public network; empty turns it off.
	AdminAddr string `env:"GATEHOUSE_ADMIN_ADDR" envDefault:"127.0.0.1:9090" group:"Observability" help:"admin listener, host:port, serving /metrics (and /debug/pprof/); keep it off the public network; empty turns it off"`
	// Pprof serves Go's profiler on the admin listener.
	Pprof bool `env:"GATEHOUSE_PPROF" group:"Observability" help:"serve Go's profiler at /debug/pprof/ on the admin listener"`
	// TLSCertFile and TLSKeyFile, both set, serve HTTPS with this PEM pair,
	// read again when either file changes (certificate rotation).
	TLSCertFile string `env:"GATEHOUSE_TLS_CERT_FILE" group:"Server" help:"PEM certificate (chain) to serve HTTPS with; read again when it changes"`
	TLSKeyFile  string `env:"GATEHOUSE_TLS_KEY_FILE" group:"Server" help:"PEM private key of GATEHOUSE_TLS_CERT_FILE"`
	// TrustedProxies are the CIDRs (or addresses) of the proxies in front
	// of Gatehouse: only from them is X-Forwarded-For believed, for the
	// audit log's client address and the per-address limits.
	TrustedProxies []string `env:"GATEHOUSE_TRUSTED_PROXIES" envSeparator:"," group:"Server" help:"comma-separated CIDRs or addresses of your proxies; only from them is X-Forwarded-For believed"`
	// AuthFailureRate is how many failed authentications per second one
	// client address regains, AuthFailureBurst how many it may have at
	// once; past them its credentials are refused with 429 (0 turns it off).
	AuthFailureRate  float64 `env:"GATEHOUSE_AUTH_FAILURE_RATE" envDefault:"0.5" group:"Limits" help:"failed authentications per second a client address regains; 0 turns the limit off" check:"nonnegative"`
	AuthFailureBurst int     `env:"GATEHOUSE_AUTH_FAILURE_BURST" envDefault:"30" group:"Limits" help:"failed authentications a client address may have at once; then its credentials get 429" check:"positive"`
}

// withDefaults gives zero durations and sizes their defaults (tests build
// Configs by hand).
func (c Config) withDefaults() Config {
	dur := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	dur(&c.RequestTimeout, 10*time.Second)
	dur(&c.DBLockTimeout, 2*time.Second)
	dur(&c.ChangePollInterval, 50*time.Millisecond)
	dur(&c.MaxStaleness, time.Second)
	dur(&c.UsageFlush, 30*time.Second)
	if c.MaxSubscriptions <= 0 {
		c.MaxSubscriptions = 10
	}
	if c.MaxSockets <= 0 {
		c.MaxSockets = 16
	}
	return c
}

// DatabaseOptions are the pool's size and timeouts.
func (c Config) DatabaseOptions() database.Options {
	return database.Options{
		MaxConns: c.DBMaxConns, PoolTimeout: c.DBPoolTimeout, StatementTimeout: c.DBStatementTimeout,
		LockTimeout: c.DBLockTimeout, IdleInTransactionTimeout: c.DBIdleInTxTimeout,
		NoStatementCache: c.DBNoStatementCache,
	}
}

// DatabaseTarget is what database.Open receives: DATABASE_URL when set,
// otherwise the SQLite file.
func (c Config) DatabaseTarget() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return c.SQLitePath
}
