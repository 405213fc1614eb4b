// Package pgtest makes scratch PostgreSQL databases for tests: each test
// gets a database of its own on the server a base URL names, dropped when
// the test ends.
package pgtest

import (
	"crypto/rand"
	"database/sql"
	"strings"
	"testing"

	_ "github.com/lib/pq" // registers "postgres"
)

// Scratch creates an empty database, named prefix and a random suffix, on
// base's server and returns its URL; it is dropped when t ends.
func Scratch(t testing.TB, base, prefix string) string {
	t.Helper()
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := prefix + strings.ToLower(rand.Text()[:12])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Drop(base, name) })
	return WithDatabase(base, name)
}

// Drop drops a database of base's server, ending its sessions.
func Drop(base, name string) {
	if a, err := sql.Open("postgres", base); err == nil {
		_, _ = a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		a.Close()
	}
}

// WithDatabase is url with its database name replaced by name.
func WithDatabase(url, name string) string {
	i := strings.LastIndex(url, "/")
	q := ""
	if j := strings.Index(url[i:], "?"); j >= 0 {
		q = url[i+j:]
	}
	return url[:i+1] + name + q
}
