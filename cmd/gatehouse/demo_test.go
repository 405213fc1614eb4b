package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/graph/templates"
)

// syncBuffer is written by the serving command and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// demoRun is one `gatehouse serve --demo` on a loopback port, stopped the way
// SIGINT stops it (its context ends).
type demoRun struct {
	out  string
	base string
	stop func() error
}

func startDemo(t *testing.T, sqlite string) *demoRun {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := rootCmd()
	out := &syncBuffer{}
	cmd.SetOut(out)
	cmd.SetErr(io.Discard)
	cmd.SetArgs([]string{"serve", "--demo", "--addr", addr, "--admin-addr", "127.0.0.1:0", "--sqlite", sqlite, "--log-level", "error"})
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	base := "http://" + addr
	for deadline := time.Now().Add(20 * time.Second); ; {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve --demo ended: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve --demo did not become ready\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(20 * time.Second):
				stopErr = context.DeadlineExceeded
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	return &demoRun{out: out.String(), base: base, stop: stop}
}

var (
	demoOperatorRE = regexp.MustCompile(`(?m)^Operator key \(every account\):\n\s+(\S+)`)
	demoAccountRE  = regexp.MustCompile(`(?m)^(\w+)\s+(acc_\S+)\s+(\S+)$`)
	demoQueryRE    = regexp.MustCompile(`(?s)run:\n\n\s+(\{.*\})\s*$`)
)

func (d *demoRun) gql(t *testing.T, key, query string) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, d.base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r map[string]any
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil || r["errors"] != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d %v %v", query, res.StatusCode, r, err)
	}
	return r["data"].(map[string]any)
}

// A5: serve --demo creates one account per template, prints an operator key,
// an owner key per account and a first query that works as printed; a restart
// reuses the accounts and prints fresh keys.
func TestA5_ServeDemo(t *testing.T) {
	sqlite := filepath.Join(t.TempDir(), "demo.db")
	first := startDemo(t, sqlite)
	op := demoOperatorRE.FindStringSubmatch(first.out)
	rows := demoAccountRE.FindAllStringSubmatch(first.out, -1)
	query := demoQueryRE.FindStringSubmatch(first.out)
	if op == nil || query == nil || len(rows) != len(templates.Names()) {
		t.Fatalf("demo output lacks the operator key, an account per template (%v) or the first query:\n%s", templates.Names(), first.out)
	}
	accounts := map[string]string{}
	for _, row := range rows {
		name, id, key := row[1], row[2], row[3]
		accounts[name] = id
		// Each owner key acts in its own account, as its full_access owner.
		data := first.gql(t, key, `{ account(id: "`+id+`") { slug roles { edges { node { key } } } } }`)
		acc := data["account"].(map[string]any)
		if acc["slug"] != "demo-"+name {
			t.Fatalf("%s: key answers for %v", name, acc)
		}
	}
	// The first query, pasted as printed with the first account's key.
	data := first.gql(t, rows[0][3], query[1])
	if data["account"].(map[string]any)["name"] == "" {
		t.Fatalf("first query: %v", data)
	}
	// The operator key sees every demo account.
	data = first.gql(t, op[1], `{ accounts(first: 50) { totalCount } }`)
	if n := data["accounts"].(map[string]any)["totalCount"].(float64); int(n) != len(rows) {
		t.Fatalf("operator sees %v accounts, want %d", n, len(rows))
	}
	if err := first.stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	again := startDemo(t, sqlite)
	for _, row := range demoAccountRE.FindAllStringSubmatch(again.out, -1) {
		if accounts[row[1]] != row[2] {
			t.Fatalf("restart made a new %s account: %s, was %s", row[1], row[2], accounts[row[1]])
		}
		if strings.Contains(first.out, row[3]) {
			t.Fatalf("restart printed an old key for %s", row[1])
		}
		again.gql(t, row[3], `{ viewer { kind } }`)
	}
}
