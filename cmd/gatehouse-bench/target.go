package main

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"

	_ "github.com/lib/pq"
)

// newTarget prepares an empty database for a seed: a SQLite file in dir, or
// a fresh PostgreSQL database on the server admin names. drop removes it.
func newTarget(dialect, dir, admin string) (target string, drop func() error, err error) {
	switch dialect {
	case "sqlite":
		path := filepath.Join(dir, "bench.db")
		return path, func() error {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				if err := os.Remove(path + suffix); err != nil && !os.IsNotExist(err) {
					return err
				}
			}
			return nil
		}, nil
	case "postgres":
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		name := "gatehouse_bench_" + hex.EncodeToString(b)
		if err := pgExec(admin, "CREATE DATABASE "+name); err != nil {
			return "", nil, fmt.Errorf("create database: %w", err)
		}
		target, err := withDatabase(admin, name)
		if err != nil {
			return "", nil, err
		}
		return target, func() error { return dropDatabase(admin, name) }, nil
	}
	return "", nil, fmt.Errorf("unknown database %q: want sqlite or postgres", dialect)
}

// dropDatabase drops a database the seed made, even while connections remain.
func dropDatabase(admin, name string) error {
	return pgExec(admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
}

func pgExec(dsn, stmt string) error {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(stmt)
	return err
}

// withDatabase replaces the database of a PostgreSQL URL.
func withDatabase(raw, name string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("PostgreSQL URL: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// withHost replaces the host and port of a PostgreSQL URL.
func withHost(raw, hostport string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("PostgreSQL URL: %w", err)
	}
	u.Host = hostport
	return u.String(), nil
}

// hostPort is the host:port of a PostgreSQL URL (port 5432 when none).
func hostPort(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("PostgreSQL URL: %w", err)
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("PostgreSQL URL without a host")
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "5432"), nil
	}
	return u.Host, nil
}

// databaseName is the database of a PostgreSQL URL.
func databaseName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || len(u.Path) < 2 {
		return ""
	}
	return u.Path[1:]
}
