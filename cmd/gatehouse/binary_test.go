package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/graph/database"
)

// The gatehouse binary, built once per test binary by gatehouseBinary.
var (
	binaryOnce sync.Once
	binaryDir  string
	binaryPath string
	binaryErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

func gatehouseBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		if binaryDir, binaryErr = os.MkdirTemp("", "gatehouse-bin-"); binaryErr != nil {
			return
		}
		binaryPath = filepath.Join(binaryDir, "gatehouse")
		out, err := exec.Command("go", "build", "-o", binaryPath, ".").CombinedOutput()
		if err != nil {
			binaryErr = errors.New(string(out))
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

// result is one run of the binary.
type result struct {
	stdout, stderr string
	exit           int
}

// runBinary runs gatehouse in dir with exactly env as its environment.
func runBinary(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	return runBinaryWith(t, dir, env, "", args...)
}

// Configuration mistakes stop the binary before it opens the database or
// serves: exit status 1, nothing on stdout, one line on stderr naming the
// variable or flag and what it accepts.
func TestConfig_MistakesStopTheBinary(t *testing.T) {
	busy := listen(t)
	for _, c := range []struct {
		env  []string
		args []string
		want string
	}{
		{[]string{"GATEHOUSE_LOG_LEVL=debug"}, nil,
			"gatehouse: unknown variable GATEHOUSE_LOG_LEVL: did you mean GATEHOUSE_LOG_LEVEL? (`gatehouse serve --help` lists them all)"},
		{[]string{"GATEHOUSE_MAXDEPTH=3"}, []string{"migrate", "status"},
			"gatehouse: unknown variable GATEHOUSE_MAXDEPTH: did you mean GATEHOUSE_MAX_DEPTH? (`gatehouse serve --help` lists them all)"},
		{[]string{"GATEHOUSE_LOG_LEVEL=verbose"}, []string{"serve"},
			`gatehouse: GATEHOUSE_LOG_LEVEL="verbose" is not accepted: use debug, info, warn or error`},
		{[]string{"GATEHOUSE_LOG_FORMAT=yaml"}, []string{"serve"},
			`gatehouse: GATEHOUSE_LOG_FORMAT="yaml" is not accepted: use text or json`},
		{[]string{"GATEHOUSE_MAX_DEPTH=0"}, []string{"serve"},
			`gatehouse: GATEHOUSE_MAX_DEPTH="0" is not accepted: use a whole number above 0`},
		{[]string{"GATEHOUSE_RATE_BURST=-5"}, []string{"serve"},
			`gatehouse: GATEHOUSE_RATE_BURST="-5" is not accepted: use a whole number above 0`},
		{[]string{"GATEHOUSE_SHUTDOWN_TIMEOUT=15"}, []string{"serve"},
			`gatehouse: GATEHOUSE_SHUTDOWN_TIMEOUT="15" is not accepted: use a duration above 0 such as 15s or 2m`},
		{nil, []string{"serve", "--max-page-size", "0"},
			`gatehouse: --max-page-size "0" is not accepted: use a whole number above 0`},
		{[]string{"DATABASE_URL=mysql://gatehouse:secret@db/gatehouse"}, []string{"serve"},
			`gatehouse: DATABASE_URL is not accepted: its scheme "mysql" is not PostgreSQL; use a postgres:// or postgresql:// URL, or leave it empty to use the SQLite file (GATEHOUSE_SQLITE_PATH)`},
		{[]string{"DATABASE_URL=mysql://gatehouse:secret@db/gatehouse"}, []string{"migrate"},
			`gatehouse: DATABASE_URL is not accepted: its scheme "mysql" is not PostgreSQL; use a postgres:// or postgresql:// URL, or leave it empty to use the SQLite file (GATEHOUSE_SQLITE_PATH)`},
		{[]string{"GATEHOUSE_CORS_ORIGINS=https://app.example.com/"}, []string{"serve"},
			`gatehouse: GATEHOUSE_CORS_ORIGINS="https://app.example.com/" is not accepted: it ends with a slash; use origins as scheme://host[:port] with no path or trailing slash, e.g. https://app.example.com`},
		{[]string{"GATEHOUSE_CORS_ORIGINS=https://app.example.com/dashboard"}, []string{"serve"},
			`gatehouse: GATEHOUSE_CORS_ORIGINS="https://app.example.com/dashboard" is not accepted: it has a path (/dashboard); use origins as scheme://host[:port] with no path or trailing slash, e.g. https://app.example.com`},
		{[]string{"GATEHOUSE_ADDR=" + busy}, []string{"serve"},
			`gatehouse: GATEHOUSE_ADDR="` + busy + `" is not accepted: the address is already in use; use a free host:port, e.g. :8080 or 127.0.0.1:8080`},
		{nil, []string{"--addr", busy},
			`gatehouse: --addr "` + busy + `" is not accepted: the address is already in use; use a free host:port, e.g. :8080 or 127.0.0.1:8080`},
		{[]string{"GATEHOUSE_ADMIN_ADDR=" + busy}, []string{"serve", "--addr", "127.0.0.1:0"},
			`gatehouse: GATEHOUSE_ADMIN_ADDR="` + busy + `" is not accepted: the address is already in use; use a free host:port, e.g. 127.0.0.1:9090, or an empty value to turn the admin listener off`},
		{[]string{"GATEHOUSE_TLS_CERT_FILE=tls.crt"}, []string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", ""},
			`gatehouse: set both GATEHOUSE_TLS_CERT_FILE and GATEHOUSE_TLS_KEY_FILE, or neither`},
		{nil, []string{"migrate", "status", "--sqlite-path", "missing.db"},
			`gatehouse: --sqlite-path "missing.db" is not accepted: there is no such file; use the path of an existing database`},
	} {
		dir := t.TempDir()
		r := runBinary(t, dir, c.env, c.args...)
		if r.exit != 1 || r.stdout != "" || r.stderr != c.want+"\n" {
			t.Errorf("%v gatehouse %v: exit %d\nstdout %q\nstderr %q\nwant   %q", c.env, c.args, r.exit, r.stdout, r.stderr, c.want+"\n")
		}
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			t.Errorf("%v gatehouse %v left %s: it went on past the configuration", c.env, c.args, entries[0].Name())
		}
	}
}

// listen holds a loopback port for the test and returns its address.
func listen(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// serveUntilListening starts `gatehouse serve` and returns the log lines it
// wrote up to "gatehouse listening"; the server is then stopped by SIGINT and
// must exit cleanly.
func serveUntilListening(t *testing.T, dir string, env []string) []string {
	t.Helper()
	cmd := exec.Command(gatehouseBinary(t), "serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0")
	cmd.Dir, cmd.Env = dir, env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.Contains(sc.Text(), "gatehouse listening") {
			break
		}
	}
	if err := stopServe(cmd, stderr); err != nil {
		t.Fatalf("serve: %v\n%s", err, strings.Join(lines, "\n"))
	}
	if len(lines) == 0 || !strings.Contains(lines[len(lines)-1], "gatehouse listening") {
		t.Fatalf("serve never listened:\n%s", strings.Join(lines, "\n"))
	}
	return lines
}

// stopServe sends SIGINT to a running `gatehouse serve`, drains its stderr
// and waits for it to exit: its error, or one when it has not stopped
// within a minute (a hang guard, not a measurement).
func stopServe(cmd *exec.Cmd, stderr io.Reader) error {
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		return err
	}
	go io.Copy(io.Discard, stderr)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		return errors.New("it did not stop on SIGINT")
	}
}

// An empty database logs how to create the first operator key; once one
// exists, it does not.
func TestServe_EmptyDatabaseSaysHowToBegin(t *testing.T) {
	dir := t.TempDir()
	env := []string{"GATEHOUSE_SQLITE_PATH=g.db"}
	hint := "no operator key yet: create the first with `gatehouse bootstrap --name <you>`"
	lines := serveUntilListening(t, dir, env)
	if !strings.Contains(strings.Join(lines, "\n"), hint) {
		t.Fatalf("no hint on an empty database:\n%s", strings.Join(lines, "\n"))
	}
	if r := runBinary(t, dir, env, "bootstrap", "--name", "me"); r.exit != 0 || !strings.Contains(r.stdout, "operator key opk_") {
		t.Fatalf("bootstrap: %+v", r)
	}
	if lines := serveUntilListening(t, dir, env); strings.Contains(strings.Join(lines, "\n"), hint) {
		t.Fatalf("hint with an operator key:\n%s", strings.Join(lines, "\n"))
	}
}

// migrate status, up, down N, force VERSION and backup through the binary,
// each printing what it did.
func TestMigrate_Commands(t *testing.T) {
	dir := t.TempDir()
	env := []string{"GATEHOUSE_SQLITE_PATH=g.db"}
	run := func(want string, args ...string) string {
		t.Helper()
		r := runBinary(t, dir, env, args...)
		if r.exit != 0 || !strings.Contains(r.stdout, want) {
			t.Fatalf("gatehouse %v: exit %d\n%s%s\nwant %q", args, r.exit, r.stdout, r.stderr, want)
		}
		return r.stdout
	}
	known := database.Embedded()
	n := len(known)
	last, prev, before := known[n-1], known[n-2], known[n-3]
	run("applied "+known[0].String()+"\n", "migrate")
	out := run("pending:         0\n", "migrate", "status")
	for _, want := range []string{"schema:          " + last.String() + "\n", "dirty:           no\n", " or newer\n", "this binary may serve it: yes\n"} {
		if !strings.Contains(out, want) {
			t.Fatalf("status lacks %q:\n%s", want, out)
		}
	}
	run(fmt.Sprintf("reverted %s\nreverted %s\nthe schema is at %s\n", last, prev, before), "migrate", "down", "2")
	run(fmt.Sprintf("pending:         2\n  %s\n  %s\n", prev, last), "migrate", "status")
	run(fmt.Sprintf("applied %s\napplied %s\nthe schema is at %s\n", prev, last, last), "migrate", "up")
	run(fmt.Sprintf("nothing to apply: the schema is at %s\n", last), "migrate", "up")
	run(fmt.Sprintf("the schema is recorded at %d, clean; no migration was run\n", last.Version), "migrate", "force", fmt.Sprint(last.Version))
	if r := runBinary(t, dir, env, "migrate", "force", "123"); r.exit != 1 || !strings.Contains(r.stderr, "123 is not a migration this binary knows") {
		t.Fatalf("force 123: %+v", r)
	}
	if r := runBinary(t, dir, env, "migrate", "down", "zero"); r.exit != 1 || !strings.Contains(r.stderr, "a whole number above 0") {
		t.Fatalf("down zero: %+v", r)
	}

	run("backed up g.db to copy.db (", "backup", "--to", "copy.db")
	if r := runBinary(t, dir, env, "backup", "--to", "copy.db"); r.exit != 1 || r.stderr != "gatehouse: database: backup: copy.db exists; choose a new file\n" {
		t.Fatalf("backup over a file: %+v", r)
	}
	if r := runBinary(t, dir, []string{"GATEHOUSE_SQLITE_PATH=copy.db"}, "migrate", "status"); r.exit != 0 || !strings.Contains(r.stdout, "schema:          "+last.String()+"\n") {
		t.Fatalf("the copy: %+v", r)
	}
	if r := runBinary(t, dir, []string{"DATABASE_URL=postgres://db.invalid/g"}, "backup", "--to", "pg.db"); r.exit != 1 || !strings.Contains(r.stderr, "pg_dump --format=custom") {
		t.Fatalf("backup of PostgreSQL: %+v", r)
	}
}

// version and --version print the same description; the help lists every
// setting by group.
func TestVersionAndHelp(t *testing.T) {
	dir := t.TempDir()
	v, flag := runBinary(t, dir, nil, "version"), runBinary(t, dir, nil, "--version")
	if v.exit != 0 || v.stdout != flag.stdout || !strings.HasPrefix(v.stdout, "gatehouse ") || !strings.Contains(v.stdout, fmt.Sprintf("\nschema:    %d\n", database.SchemaVersion())) {
		t.Fatalf("version %+v\n--version %+v", v, flag)
	}
	help := runBinary(t, dir, nil, "serve", "--help").stdout
	for _, want := range []string{"\nServer:\n", "\nDatabase:\n", "\nLimits:\n", "\nLogging:\n", "--max-depth int", "(env GATEHOUSE_MAX_DEPTH) (default 12)", "--demo"} {
		if !strings.Contains(help, want) {
			t.Fatalf("serve --help lacks %q:\n%s", want, help)
		}
	}
}
