package graphiql

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// browser is a headless Chromium driven over the DevTools protocol: enough
// to load a page, run script in it and read its answers.
type browser struct {
	t    *testing.T
	conn *websocket.Conn
	id   atomic.Int64
}

// startBrowser starts Chromium, or skips the test where none is installed.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	var bin string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("no Chromium installed (apt-get install chromium)")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--no-first-run", "--user-data-dir="+dir, "--remote-debugging-port=0", "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its helpers die with it
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })

	// Chromium writes the port it listens on to DevToolsActivePort.
	var port int
	waitFor(t, "Chromium's DevTools port", func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "DevToolsActivePort"))
		if err != nil {
			return false
		}
		port, err = strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
		return err == nil
	})
	var targets []struct{ Type, WebSocketDebuggerURL string }
	waitFor(t, "a page target", func() bool {
		res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/json/list", port))
		if err != nil {
			return false
		}
		defer res.Body.Close()
		targets = nil
		return json.NewDecoder(res.Body).Decode(&targets) == nil && len(targets) > 0 && targets[0].Type == "page"
	})
	conn, _, err := websocket.Dial(context.Background(), targets[0].WebSocketDebuggerURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(64 << 20)
	t.Cleanup(func() { conn.CloseNow() })
	return &browser{t: t, conn: conn}
}

// call sends a DevTools command and returns its result.
func (b *browser) call(method string, params any) json.RawMessage {
	b.t.Helper()
	id := b.id.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msg, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err := b.conn.Write(ctx, websocket.MessageText, msg); err != nil {
		b.t.Fatal(err)
	}
	for {
		_, data, err := b.conn.Read(ctx)
		if err != nil {
			b.t.Fatalf("%s: %v", method, err)
		}
		var res struct {
			ID     int64
			Result json.RawMessage
			Error  *struct{ Message string }
		}
		if json.Unmarshal(data, &res) != nil || res.ID != id { // events, and answers to others
			continue
		}
		if res.Error != nil {
			b.t.Fatalf("%s: %s", method, res.Error.Message)
		}
		return res.Result
	}
}

// eval runs script in the page and returns its value as JSON.
func (b *browser) eval(script string) string {
	b.t.Helper()
	var res struct {
		Result           struct{ Value json.RawMessage }
		ExceptionDetails *struct{ Text string }
	}
	raw := b.call("Runtime.evaluate", map[string]any{"expression": script, "returnByValue": true, "awaitPromise": true})
	if err := json.Unmarshal(raw, &res); err != nil {
		b.t.Fatal(err)
	}
	if res.ExceptionDetails != nil {
		b.t.Fatalf("%s: %s", script, res.ExceptionDetails.Text)
	}
	return string(res.Result.Value)
}

// open loads url and waits until GraphiQL has rendered.
func (b *browser) open(url string) {
	b.t.Helper()
	b.call("Page.navigate", map[string]any{"url": url})
	waitFor(b.t, "GraphiQL to render", func() bool {
		return b.eval(`document.querySelector('.graphiql-execute-button') !== null && document.querySelectorAll('.CodeMirror').length >= 3`) == "true"
	})
}

// waitFor polls cond until it holds, failing after a minute: the browser
// does its work asynchronously.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A credential typed into GraphiQL's header editor is sent with the query,
// but neither the header editor, the tabs nor the history GraphiQL writes
// to localStorage keep it — unless the user opted in to persisting headers,
// and then they do. Headers stored by an earlier page are scrubbed.
func TestPage_BrowserKeepsCredentialsOutOfStorageUnlessOptedIn(t *testing.T) {
	const secret = "gk_01BROWSERTESTKEY_notarealsecret"
	sent := make(chan string, 16)
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", Handler("Gatehouse", "/graphql", "/graphiql/"))
	mux.Handle("GET /graphiql/", Assets("/graphiql/"))
	mux.HandleFunc("/graphql", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Query string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		if strings.Contains(body.Query, "browserTest") {
			sent <- r.Header.Get("Authorization")
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":{"__typename":"Query"}}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	b := startBrowser(t)
	// run types the credential into the header editor and runs a query.
	run := func(query string) {
		t.Helper()
		b.eval(`(() => {
			const editors = [...document.querySelectorAll('.CodeMirror')].map((e) => e.CodeMirror);
			// The header editor is the JSON one among the editor tools.
			const headers = editors.find((cm) => typeof cm.getOption('mode') === 'object' && cm.getWrapperElement().closest('.graphiql-editor-tool'));
			headers.setValue(JSON.stringify({ Authorization: 'Bearer ` + secret + `' }));
			editors[0].setValue(` + strconv.Quote(query) + `);
		})()`)
		// GraphiQL copies the editors into the tab 100 ms after an edit, and
		// stores the tabs 500 ms after that: once the stored tabs hold the
		// query, the tab holds the headers too (edited first).
		waitFor(t, "GraphiQL to take the edits", func() bool {
			return b.eval(`(localStorage.getItem('graphiql:tabState') || '').includes('`+query[2:len(query)-2]+`')`) == "true"
		})
		b.eval(`document.querySelector('.graphiql-execute-button').click()`)
		select {
		case got := <-sent:
			if got != "Bearer "+secret {
				t.Fatalf("the query was sent with Authorization %q", got)
			}
		case <-time.After(time.Minute):
			t.Fatal("GraphiQL did not send the query")
		}
		// The history is written as the query starts; the tabs as it ends.
		waitFor(t, "GraphiQL to store the query", func() bool {
			return b.eval(`(localStorage.getItem('graphiql:queries') || '').includes('`+query[2:len(query)-2]+`') && !document.querySelector('.graphiql-execute-button[aria-label*="Stop"]')`) == "true"
		})
	}
	stored := func() string { return b.eval(`JSON.stringify(Object.assign({}, localStorage))`) }

	b.open(srv.URL + "/")
	run("{ browserTest1: __typename }")
	if s := stored(); strings.Contains(s, secret) {
		t.Fatalf("the credential is in localStorage without opting in:\n%s", s)
	} else if !strings.Contains(s, "browserTest1") {
		t.Fatalf("GraphiQL stored no history (the check above would prove nothing):\n%s", s)
	}
	// The URL keeps the query (links open it), never the headers.
	if u := b.eval(`decodeURIComponent(location.href)`); strings.Contains(u, secret) || !strings.Contains(u, "browserTest1") {
		t.Fatalf("the URL is %s", u)
	}
	b.open(srv.URL + "/?query=%7B__typename%7D&headers=%7B%22Authorization%22%3A%22Bearer%20" + secret + "%22%7D")
	if u := b.eval(`decodeURIComponent(location.href)`); strings.Contains(u, secret) || !strings.Contains(u, "__typename") {
		t.Fatalf("a link's headers stay in the URL, or its query went: %s", u)
	}

	// Opted in: GraphiQL keeps the headers, history included.
	b.eval(`localStorage.setItem('graphiql:shouldPersistHeaders', 'true')`)
	b.open(srv.URL + "/")
	run("{ browserTest2: __typename }")
	if s := stored(); !strings.Contains(s, secret) {
		t.Fatalf("opted in, yet the headers were not kept:\n%s", s)
	}

	// Opting out (or a page that stored headers before this one) scrubs them.
	b.eval(`localStorage.setItem('graphiql:shouldPersistHeaders', 'false')`)
	b.open(srv.URL + "/")
	if s := stored(); strings.Contains(s, secret) {
		t.Fatalf("stored headers survive opting out:\n%s", s)
	}
}
