package server

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"
)

// The Loader's defaults are the envDefault tags read as caarlos0/env reads
// them (tests and the benchmark build a Config with env.Parse).
func TestConfig_DefaultsAreTheTags(t *testing.T) {
	var got, want Config
	NewLoader(&got)
	if err := env.ParseWithOptions(&want, env.Options{Environment: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("loader defaults\n%+v\nenv.Parse\n%+v", got, want)
	}
}

// A flag wins over its variable; a variable over the default; an empty
// variable counts as unset; list flags may repeat; a boolean flag stands alone.
func TestConfig_FlagsWinOverVariables(t *testing.T) {
	var cfg Config
	l := NewLoader(&cfg)
	fs := l.Flags()
	if err := fs.Parse([]string{"--max-depth", "7", "--no-listen", "--cors-origins", "https://a.example", "--cors-origins", "http://localhost:3000"}); err != nil {
		t.Fatal(err)
	}
	err := l.Load([]string{"GATEHOUSE_MAX_DEPTH=5", "GATEHOUSE_MAX_ALIASES=9", "GATEHOUSE_LOG_LEVEL=", "GATEHOUSE_MAX_STALENESS=1m",
		"DATABASE_URL=postgresql://u:p@db:5432/g?sslmode=require", "PATH=/bin", "GATEHOUSE_URL=http://x", "GATEHOUSE_TEST_POSTGRES_URL=x"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxDepth != 7 || cfg.MaxAliases != 9 || cfg.LogLevel != "info" || cfg.MaxStaleness != time.Minute || !cfg.NoListen ||
		!reflect.DeepEqual(cfg.CORSOrigins, []string{"https://a.example", "http://localhost:3000"}) || cfg.DatabaseURL == "" {
		t.Fatalf("%+v", cfg)
	}
	if got := l.Refuse("GATEHOUSE_MAX_DEPTH", "too deep", "use less").Error(); got != `--max-depth "7" is not accepted: too deep; use less` {
		t.Fatal(got)
	}
	if got := l.Refuse("GATEHOUSE_ADDR", "in use", "use another").Error(); got != `GATEHOUSE_ADDR=":8080" is not accepted: in use; use another` {
		t.Fatal(got)
	}
}

// Each mistake is refused with one line naming the variable (or flag) and
// what it accepts; secrets are not repeated.
func TestConfig_RefusesMistakes(t *testing.T) {
	for _, c := range []struct {
		env   []string
		flags []string
		want  string
	}{
		{env: []string{"GATEHOUSE_MAX_DEPHT=3"}, want: "unknown variable GATEHOUSE_MAX_DEPHT: did you mean GATEHOUSE_MAX_DEPTH? (`gatehouse serve --help` lists them all)"},
		{env: []string{"GATEHOUSE_DATABASE_URL=postgres://x"}, want: "unknown variable GATEHOUSE_DATABASE_URL: did you mean DATABASE_URL? (`gatehouse serve --help` lists them all)"},
		{env: []string{"GATEHOUSE_LOG_LEVEL=verbose"}, want: `GATEHOUSE_LOG_LEVEL="verbose" is not accepted: use debug, info, warn or error`},
		{env: []string{"GATEHOUSE_LOG_FORMAT=yaml"}, want: `GATEHOUSE_LOG_FORMAT="yaml" is not accepted: use text or json`},
		{env: []string{"GATEHOUSE_MAX_PAGE_SIZE=0"}, want: `GATEHOUSE_MAX_PAGE_SIZE="0" is not accepted: use a whole number above 0`},
		{env: []string{"GATEHOUSE_MAX_BODY_BYTES=-1"}, want: `GATEHOUSE_MAX_BODY_BYTES="-1" is not accepted: use a whole number above 0`},
		{env: []string{"GATEHOUSE_MAX_TOKENS=lots"}, want: `GATEHOUSE_MAX_TOKENS="lots" is not accepted: use a whole number above 0`},
		{env: []string{"GATEHOUSE_RATE_LIMIT=-0.5"}, want: `GATEHOUSE_RATE_LIMIT="-0.5" is not accepted: use a number of 0 or more`},
		{env: []string{"GATEHOUSE_RATE_LIMIT=NaN"}, want: `GATEHOUSE_RATE_LIMIT="NaN" is not accepted: use a number of 0 or more`},
		{env: []string{"GATEHOUSE_MAX_STALENESS=0s"}, want: `GATEHOUSE_MAX_STALENESS="0s" is not accepted: use a duration above 0 such as 15s or 2m`},
		{env: []string{"GATEHOUSE_JWKS_ALLOW_HTTP=yes"}, want: `GATEHOUSE_JWKS_ALLOW_HTTP="yes" is not accepted: use true or false`},
		{env: []string{"DATABASE_URL=mysql://root:hunter2@db/g"}, want: `DATABASE_URL is not accepted: its scheme "mysql" is not PostgreSQL; use a postgres:// or postgresql:// URL, or leave it empty to use the SQLite file (GATEHOUSE_SQLITE_PATH)`},
		{env: []string{"DATABASE_URL=db.internal:5432/g"}, want: `DATABASE_URL is not accepted: it is not a URL; use a postgres:// or postgresql:// URL, or leave it empty to use the SQLite file (GATEHOUSE_SQLITE_PATH)`},
		{env: []string{"GATEHOUSE_CORS_ORIGINS=https://app.example.com/"}, want: `GATEHOUSE_CORS_ORIGINS="https://app.example.com/" is not accepted: it ends with a slash; use origins as scheme://host[:port] with no path or trailing slash, e.g. https://app.example.com`},
		{env: []string{"GATEHOUSE_CORS_ORIGINS=https://a.example, https://b.example/app"}, want: `GATEHOUSE_CORS_ORIGINS="https://a.example, https://b.example/app" is not accepted: "https://b.example/app" has a path (/app); use origins as scheme://host[:port] with no path or trailing slash, e.g. https://app.example.com`},
		{env: []string{"GATEHOUSE_CORS_ORIGINS=app.example.com"}, want: `GATEHOUSE_CORS_ORIGINS="app.example.com" is not accepted: it is not an origin; use origins as scheme://host[:port] with no path or trailing slash, e.g. https://app.example.com`},
		{env: []string{"GATEHOUSE_CORS_ORIGINS=https://app.example.com?x=1"}, want: `GATEHOUSE_CORS_ORIGINS="https://app.example.com?x=1" is not accepted: it has a query or fragment; use origins as scheme://host[:port] with no path or trailing slash, e.g. https://app.example.com`},
		{env: []string{"GATEHOUSE_MAX_DEPTH=5"}, flags: []string{"--max-depth=-2"}, want: `--max-depth "-2" is not accepted: use a whole number above 0`},
		{flags: []string{"--database-url", "sqlite://x.db"}, want: `--database-url is not accepted: its scheme "sqlite" is not PostgreSQL; use a postgres:// or postgresql:// URL, or leave it empty to use the SQLite file (GATEHOUSE_SQLITE_PATH)`},
	} {
		var cfg Config
		l := NewLoader(&cfg)
		if err := l.Flags().Parse(c.flags); err != nil {
			t.Fatal(err)
		}
		err := l.Load(c.env)
		if err == nil || err.Error() != c.want {
			t.Errorf("%v %v:\n got %v\nwant %s", c.env, c.flags, err, c.want)
		}
	}
}

// Origins browsers send are accepted, with rs/cors' wildcard forms.
func TestConfig_AcceptsOrigins(t *testing.T) {
	for _, o := range []string{"*", "https://app.example.com", "http://localhost:3000", "https://*.example.com", "http://[::1]:8080"} {
		if problem := checkOrigin(o); problem != "" {
			t.Errorf("%s: %s", o, problem)
		}
	}
}

// Every GATEHOUSE_ variable the code, the Makefile, CI and the Dockerfile
// mention is one Gatehouse accepts, so a new os.Getenv cannot be refused as
// unknown.
func TestConfig_EveryVariableMentionedIsKnown(t *testing.T) {
	root := filepath.Join("..", "..")
	name := regexp.MustCompile(`GATEHOUSE_[A-Z0-9_]+`) // those ending in _ are prefixes
	seen := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root && d.Name() != ".ci" {
			return filepath.SkipDir
		}
		base := d.Name()
		if d.IsDir() || !(strings.HasSuffix(base, ".go") && !strings.HasSuffix(base, "_test.go") || base == "Makefile" || base == "Dockerfile" || base == "run") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, v := range name.FindAllString(string(b), -1) {
			if strings.HasSuffix(v, "_") {
				continue
			}
			seen++
			if err := checkKnown(v); err != nil {
				t.Errorf("%s: %v", path, err)
			}
		}
		return nil
	})
	if err != nil || seen < len(settings) {
		t.Fatalf("%d names seen: %v", seen, err)
	}
}

// The README's configuration table has a row per setting with its flag and
// default.
func TestConfig_READMEListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		def := "—"
		if s.Default != "" && s.Default != "false" {
			def = "`" + s.Default + "`"
		}
		if s.Default == "false" {
			def = "`false`"
		}
		row := "| `" + s.Env + "` | `--" + s.Flag + "` | " + def + " |"
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md lacks the row %s", row)
		}
	}
}
