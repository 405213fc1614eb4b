// Package server assembles Gatehouse's HTTP server: the GraphQL endpoint with
// its limits, authentication, per-request loaders, GraphiQL, health checks and
// CORS.
package server

import (
	"time"

	"github.com/gatehouse-iam/gatehouse/graph/database"
)

// Config is the server's configuration; every field can be set from the
// environment (see the README's table) and most by flags.
type Config struct {
	Addr        string   `env:"GATEHOUSE_ADDR" envDefault:":8080"`
	DatabaseURL string   `env:"DATABASE_URL"`
	SQLitePath  string   `env:"GATEHOUSE_SQLITE_PATH" envDefault:"gatehouse.db"`
	CORSOrigins []string `env:"GATEHOUSE_CORS_ORIGINS" envSeparator:","`
	JWTSecret   string   `env:"GATEHOUSE_JWT_HS256_SECRET"`
	JWKSURL     string   `env:"GATEHOUSE_JWKS_URL"`
	JWTIssuer   string   `env:"GATEHOUSE_JWT_ISSUER"`
	JWTAudience string   `env:"GATEHOUSE_JWT_AUDIENCE"`
	// JWKSAllowHTTP accepts a JWKS URL over plain http on a non-loopback host.
	JWKSAllowHTTP   bool          `env:"GATEHOUSE_JWKS_ALLOW_HTTP"`
	MaxBodyBytes    int64         `env:"GATEHOUSE_MAX_BODY_BYTES" envDefault:"1048576"`
	ParserTokens    int           `env:"GATEHOUSE_MAX_TOKENS" envDefault:"15000"`
	MaxDepth        int           `env:"GATEHOUSE_MAX_DEPTH" envDefault:"12"`
	MaxAliases      int           `env:"GATEHOUSE_MAX_ALIASES" envDefault:"30"`
	MaxComplexity   int           `env:"GATEHOUSE_MAX_COMPLEXITY" envDefault:"5000"`
	MaxPageSize     int           `env:"GATEHOUSE_MAX_PAGE_SIZE" envDefault:"100"`
	MaxFields       int           `env:"GATEHOUSE_MAX_FIELDS" envDefault:"1000"`
	MaxInputItems   int           `env:"GATEHOUSE_MAX_INPUT_ITEMS" envDefault:"1000"`
	MaxChecks       int           `env:"GATEHOUSE_MAX_CHECKS" envDefault:"100"`
	RateLimit       float64       `env:"GATEHOUSE_RATE_LIMIT" envDefault:"100"`
	RateBurst       int           `env:"GATEHOUSE_RATE_BURST" envDefault:"200"`
	ShutdownTimeout time.Duration `env:"GATEHOUSE_SHUTDOWN_TIMEOUT" envDefault:"15s"`
	UsageFlush      time.Duration `env:"GATEHOUSE_USAGE_FLUSH_INTERVAL" envDefault:"30s"`
	// RequestTimeout is every request's deadline (P5).
	RequestTimeout time.Duration `env:"GATEHOUSE_REQUEST_TIMEOUT" envDefault:"10s"`
	// DrainDelay is how long /readyz answers 503 before the listener closes
	// on shutdown, so that load balancers stop sending first.
	DrainDelay time.Duration `env:"GATEHOUSE_DRAIN_DELAY" envDefault:"5s"`
	// The database pool and how long storage may make a request wait (P5).
	DBMaxConns         int           `env:"GATEHOUSE_DB_MAX_CONNS" envDefault:"20"`
	DBPoolTimeout      time.Duration `env:"GATEHOUSE_DB_POOL_TIMEOUT" envDefault:"2s"`
	DBStatementTimeout time.Duration `env:"GATEHOUSE_DB_STATEMENT_TIMEOUT" envDefault:"5s"`
	DBLockTimeout      time.Duration `env:"GATEHOUSE_DB_LOCK_TIMEOUT" envDefault:"2s"`
	DBIdleInTxTimeout  time.Duration `env:"GATEHOUSE_DB_IDLE_IN_TRANSACTION_TIMEOUT" envDefault:"30s"`
	ModelCacheSize     int           `env:"GATEHOUSE_MODEL_CACHE_SIZE" envDefault:"1000"`
	ChangePollInterval time.Duration `env:"GATEHOUSE_CHANGE_POLL_INTERVAL" envDefault:"50ms"`
	MaxStaleness       time.Duration `env:"GATEHOUSE_MAX_STALENESS" envDefault:"1s"`
	// NoListen turns off PostgreSQL LISTEN, leaving the change feed's polls
	// (tests of the fallback use it).
	NoListen  bool   `env:"GATEHOUSE_NO_LISTEN"`
	LogLevel  string `env:"GATEHOUSE_LOG_LEVEL" envDefault:"info"`
	LogFormat string `env:"GATEHOUSE_LOG_FORMAT" envDefault:"text"`

	// MigrationDatabaseURL is the database owner's URL: migrations run
	// through it, and DatabaseURL is a serving role granted only what the
	// server needs, which cannot rewrite the audit log (L4).
	MigrationDatabaseURL string `env:"GATEHOUSE_MIGRATION_DATABASE_URL"`
	// ServingRole is the role granted the serving privileges after migrating;
	// by default DatabaseURL's user, when it differs from the owner's.
	ServingRole string `env:"GATEHOUSE_SERVING_ROLE"`
	// AuditSigningKey is a PEM file holding the Ed25519 key that signs audit
	// checkpoints (gatehouse audit keygen); empty signs none.
	AuditSigningKey string `env:"GATEHOUSE_AUDIT_SIGNING_KEY"`
	// AuditPublicKeys are PEM files of the keys checkpoints may be signed
	// with, beyond the signing key's own (e.g. keys rotated out).
	AuditPublicKeys []string `env:"GATEHOUSE_AUDIT_PUBLIC_KEYS" envSeparator:","`
	// AuditCheckpointInterval is how often a server signs the chains' heads.
	AuditCheckpointInterval time.Duration `env:"GATEHOUSE_AUDIT_CHECKPOINT_INTERVAL" envDefault:"1m"`
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
	return c
}

// DatabaseOptions are the pool's size and timeouts.
func (c Config) DatabaseOptions() database.Options {
	return database.Options{
		MaxConns: c.DBMaxConns, PoolTimeout: c.DBPoolTimeout, StatementTimeout: c.DBStatementTimeout,
		LockTimeout: c.DBLockTimeout, IdleInTransactionTimeout: c.DBIdleInTxTimeout,
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
