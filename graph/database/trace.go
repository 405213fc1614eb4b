package database

import (
	"context"
	"database/sql"
	"database/sql/driver"

	"entgo.io/ent/dialect"
	"github.com/XSAM/otelsql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// openPool opens the serving pool: through the statement cache of its
// database unless o.NoStatementCache, and traced when o.TracerProvider is set:
// each statement becomes a span under the request's span. Statements with
// no span to join (background work: the change feed, usage flushes) make
// none, and neither does iterating rows. Spans carry the statement's text
// with its placeholders, never its arguments.
func openPool(dia, driverName, dsn string, o Options) (*sql.DB, error) {
	var connector driver.Connector
	switch {
	case dia == dialect.Postgres:
		pc, err := newCachingConnector(dsn, o.NoStatementCache)
		if err != nil {
			return nil, err
		}
		connector = pc
	case o.NoStatementCache:
	default:
		sc, err := newSQLiteCachingConnector(dsn)
		if err != nil {
			return nil, err
		}
		connector = sc
	}
	if o.TracerProvider == nil {
		if connector != nil {
			return sql.OpenDB(connector), nil
		}
		return sql.Open(driverName, dsn)
	}
	system := "sqlite"
	if dia == dialect.Postgres {
		system = "postgresql"
	}
	opts := []otelsql.Option{
		otelsql.WithTracerProvider(o.TracerProvider),
		otelsql.WithAttributes(attribute.String("db.system.name", system)),
		otelsql.WithSpanOptions(otelsql.SpanOptions{
			DisableErrSkip:       true,
			OmitConnResetSession: true,
			OmitConnPrepare:      true,
			OmitRows:             true,
			OmitConnectorConnect: true,
			SpanFilter: func(ctx context.Context, _ otelsql.Method, _ string, _ []driver.NamedValue) bool {
				return trace.SpanFromContext(ctx).SpanContext().IsValid()
			},
		}),
	}
	if connector != nil {
		return otelsql.OpenDB(connector, opts...), nil
	}
	return otelsql.Open(driverName, dsn, opts...)
}
