package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// onboardingScript is the README's onboarding script: the first sh block of
// its "Onboarding scripts" section.
func onboardingScript(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Onboarding scripts\n")
	_, block, ok2 := strings.Cut(section, "```sh\n")
	script, _, ok3 := strings.Cut(block, "\n```")
	if !ok || !ok2 || !ok3 || !strings.Contains(script, "createApiKey") {
		t.Fatal("README.md: no sh block in \"Onboarding scripts\"")
	}
	return script
}

// The README's onboarding script works as printed, on an empty server and
// on a demo one, and stops at the first GraphQL error.
func TestREADME_OnboardingScript(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the script needs %s (.ci/run installs it)", tool)
		}
	}
	script := filepath.Join(t.TempDir(), "onboard.sh")
	if err := os.WriteFile(script, []byte(onboardingScript(t)), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(s *cliServer, slug string) result {
		t.Helper()
		cmd := exec.Command("bash", script, slug)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GATEHOUSE_URL=" + s.url, "GATEHOUSE_KEY=" + s.key}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		_ = cmd.Run()
		return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
	}
	empty := startCLIServer(t, t.TempDir(), server.Config{})
	demo := startCLIServer(t, t.TempDir(), server.Config{})
	if err := seedDemo(demo.op, demo.srv.Service, io.Discard, "http://localhost/"); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*cliServer{"empty": empty, "demo": demo} {
		r := run(s, "newco")
		if r.exit != 0 || !strings.HasPrefix(r.stdout, "gk_") || strings.Count(r.stdout, "\n") != 1 || !strings.Contains(r.stderr, "account acc_") {
			t.Fatalf("%s server: %+v", name, r)
		}
		// Again: the slug is taken; the script stops there, printing the error.
		r = run(s, "newco")
		if r.exit == 0 || r.stdout != "" || r.stderr != "gatehouse: an account with slug \"newco\" exists (CONFLICT)\n" {
			t.Fatalf("%s server, twice: %+v", name, r)
		}
	}
	// A wrong key stops it at the first step.
	empty.key = "gko_nope"
	if r := run(empty, "other"); r.exit == 0 || !strings.Contains(r.stderr, "UNAUTHENTICATED") || r.stdout != "" {
		t.Fatalf("a wrong key: %+v", r)
	}
}
