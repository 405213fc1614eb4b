package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// runBinaryWith is runBinary with stdin.
func runBinaryWith(t *testing.T, dir string, env []string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(gatehouseBinary(t), args...)
	cmd.Dir, cmd.Env, cmd.Stdin = dir, env, strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

// Scripts read exit statuses: 0 done, 1 failed (configuration mistakes
// included: see TestConfig_MistakesStopTheBinary), 2 a wrong command line.
func TestCLI_ExitStatusesForScripts(t *testing.T) {
	dir := t.TempDir()
	for _, c := range [][]string{
		{"frobnicate"},
		{"serve", "--no-such-flag"},
		{"migrate", "down"},
		{"apply", "-f", "x.json"},      // no --account
		{"export"},                     // no --account
		{"version", "-o", "yaml"},      // not a format
		{"backup"},                     // no --to
		{"migrate", "status", "extra"}, // no arguments
		{"audit", "verify", "x.jsonl"}, // no --public-key
	} {
		r := runBinary(t, dir, nil, c...)
		if r.exit != exitUsage || r.stdout != "" || !strings.HasPrefix(r.stderr, "gatehouse: ") {
			t.Errorf("gatehouse %v: exit %d, stdout %q, stderr %q; want 2 and one line on stderr", c, r.exit, r.stdout, r.stderr)
		}
	}
	if r := runBinary(t, dir, []string{"GATEHOUSE_SQLITE_PATH=nope.db"}, "migrate", "status"); r.exit != exitFailed {
		t.Errorf("a missing database: exit %d, want 1 (%s)", r.exit, r.stderr)
	}
}

// version, bootstrap and migrate status print JSON for scripts with -o json.
func TestCLI_JSONOutput(t *testing.T) {
	dir := t.TempDir()
	env := []string{"GATEHOUSE_SQLITE_PATH=g.db"}
	decode := func(args ...string) map[string]any {
		t.Helper()
		r := runBinary(t, dir, env, args...)
		var v map[string]any
		if r.exit != 0 || json.Unmarshal([]byte(r.stdout), &v) != nil {
			t.Fatalf("gatehouse %v: exit %d\n%s%s", args, r.exit, r.stdout, r.stderr)
		}
		return v
	}
	if v := decode("version", "-o", "json"); v["version"] == "" || v["schema"] == nil || v["go"] == nil {
		t.Errorf("version: %v", v)
	}
	if v := decode("bootstrap", "--name", "ci", "-o", "json"); !strings.HasPrefix(v["secret"].(string), "gko_") || !strings.HasPrefix(v["id"].(string), "opk_") {
		t.Errorf("bootstrap: %v", v)
	}
	if v := decode("migrate", "status", "-o", "json"); v["dirty"] != false || v["serves"] != true || len(v["pending"].([]any)) != 0 {
		t.Errorf("migrate status: %v", v)
	}
}

// apply for scripts: the document from stdin, --dry-run --exit-code exits 3
// while changes are pending and 0 once none are, UPDATE lines name the
// fields they change, what a section leaves out is kept unless --prune, -o
// json carries the plan, and --schema prints the document's JSON Schema.
func TestCLI_ApplyForScripts(t *testing.T) {
	dir := t.TempDir()
	s := startCLIServer(t, dir, server.Config{})
	env := []string{"GATEHOUSE_URL=" + s.url, "GATEHOUSE_KEY=" + s.key}
	apply := func(stdin string, args ...string) result {
		t.Helper()
		return runBinaryWith(t, dir, env, stdin, append([]string{"apply", "--account", s.account, "-f", "-"}, args...)...)
	}
	doc := `{"roles": [{"key": "support", "name": "Support", "grants": ["iam.members.read"]},
	                   {"key": "spare", "name": "Spare", "grants": []}]}`
	if r := apply(doc); r.exit != 0 || !strings.Contains(r.stdout, "CREATE  ROLE      support\n") || !strings.Contains(r.stdout, "applied 2 changes\n") {
		t.Fatalf("apply from stdin: %+v", r)
	}
	changed := `{"roles": [{"key": "support", "name": "Support desk", "grants": ["iam.members.read", "iam.roles.read"]}]}`
	r := apply(changed, "--dry-run", "--exit-code")
	want := "UPDATE  ROLE      support\n" +
		`          grants: ["iam.members.read"] → ["iam.members.read","iam.roles.read"]` + "\n" +
		`          name: "Support" → "Support desk"` + "\n" +
		"KEEP    ROLE      spare (kept; --prune to delete)\n" +
		"dry run: 1 changes planned, none applied\n"
	if r.exit != exitPending || r.stdout != want || r.stderr != "" {
		t.Fatalf("--dry-run --exit-code with changes: exit %d\n%s\nwant\n%s%s", r.exit, r.stdout, want, r.stderr)
	}
	if r := apply(changed); r.exit != 0 || !strings.Contains(r.stdout, "applied 1 changes") {
		t.Fatalf("apply: %+v", r)
	}
	if r := apply(changed, "--dry-run", "--exit-code"); r.exit != 0 || !strings.Contains(r.stdout, "no changes: the account matches the document") {
		t.Fatalf("--dry-run --exit-code without changes: %+v", r)
	}
	if r := apply(`{}`, "--dry-run", "--exit-code", "--prune"); r.exit != 0 {
		t.Fatalf("{} changes nothing, even with --prune: %+v", r)
	}
	r = apply(changed, "--dry-run", "--prune", "-o", "json")
	var out struct {
		Applied bool
		Changes int
		Plan    []planStep
	}
	if r.exit != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || out.Applied || out.Changes != 1 ||
		out.Plan[0].Action != "DELETE" || out.Plan[0].Key != "spare" {
		t.Fatalf("-o json with --prune: %+v", r)
	}
	if r := apply(`{"rolez": []}`); r.exit != exitFailed || !strings.Contains(r.stderr, "BAD_USER_INPUT") {
		t.Fatalf("a bad document: %+v", r)
	}
	if r := apply(`not json`); r.exit != exitFailed || !strings.Contains(r.stderr, "not a JSON object") {
		t.Fatalf("not JSON: %+v", r)
	}

	sch := runBinary(t, dir, nil, "apply", "--schema")
	var schema map[string]any
	if sch.exit != 0 || json.Unmarshal([]byte(sch.stdout), &schema) != nil || schema["$schema"] == nil {
		t.Fatalf("apply --schema: %+v", sch)
	}
	if props := schema["properties"].(map[string]any); len(props) != 5 || props["sodRules"] == nil {
		t.Fatalf("schema properties: %v", props)
	}
}
