// Package apitest proves Gatehouse's rules through its real HTTP API, on the
// embedded SQLite database and, when GATEHOUSE_TEST_POSTGRES_URL is set (or a
// local server answers), on PostgreSQL. Tests are named for the SPEC rule
// they prove.
package apitest
