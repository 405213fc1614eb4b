package main

import (
	"bufio"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

var addrAttr = regexp.MustCompile(`\baddr=(\S+)`)

// serve runs the admin listener beside the public one: /metrics answers
// there, with the build, and not on the public port.
func TestServe_AdminListenerServesMetrics(t *testing.T) {
	cmd := exec.Command(gatehouseBinary(t), "serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0")
	cmd.Dir, cmd.Env = t.TempDir(), []string{"GATEHOUSE_SQLITE_PATH=g.db"}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := stopServe(cmd, stderr); err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	var admin, public string
	var lines []string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		l := sc.Text()
		lines = append(lines, l)
		if m := addrAttr.FindStringSubmatch(l); m != nil && strings.Contains(l, "admin listener") {
			admin = m[1]
		}
		if m := addrAttr.FindStringSubmatch(l); m != nil && strings.Contains(l, "gatehouse listening") {
			public = m[1]
			break
		}
	}
	if admin == "" || public == "" {
		t.Fatalf("no admin listener logged:\n%s", strings.Join(lines, "\n"))
	}
	get := func(url string) (int, string) {
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	status, body := get("http://" + admin + "/metrics")
	if status != http.StatusOK || !strings.Contains(body, `gatehouse_build_info{goversion="go`) || !strings.Contains(body, `go_sql_max_open_connections{db_name="gatehouse"}`) {
		t.Fatalf("admin /metrics: %d\n%.500s", status, body)
	}
	if status, _ := get("http://" + public + "/metrics"); status != http.StatusNotFound {
		t.Errorf("public /metrics: %d", status)
	}
	if status, _ := get("http://" + admin + "/debug/pprof/"); status != http.StatusNotFound {
		t.Errorf("pprof without --pprof: %d", status)
	}
}
