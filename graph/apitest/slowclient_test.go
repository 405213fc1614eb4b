package apitest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// A slow or stalled client holds a server's connection and goroutine for
// the request's deadline at most (GATEHOUSE_REQUEST_TIMEOUT, here 1 s), not
// forever: net/http itself bounds only the headers' reading
// (ReadHeaderTimeout), and a stalled reader only by its idle timeout.

// rawConn dials the test server's listener.
func (e *env) rawConn(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// A body that stops arriving ends with HTTP 408 at the request's deadline.
func TestSlowClient_ABodyThatStopsArrivingEndsAtTheDeadline(t *testing.T) {
	forEachDBWith(t, server.Config{RequestTimeout: time.Second}, func(t *testing.T, e *env) {
		for _, path := range []string{"/graphql", "/v1/authorize"} {
			c := e.rawConn(t)
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: gatehouse\r\nAuthorization: Bearer %s\r\n"+
				"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\": ", path, e.Operator)
			start := time.Now()
			_ = c.SetReadDeadline(start.Add(15 * time.Second))
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("%s: no answer %s after the body stopped: %v", path, time.Since(start).Round(time.Millisecond), err)
			}
			body, _ := io.ReadAll(res.Body)
			r := resp{Status: res.StatusCode, Body: body, Header: res.Header}
			if r.Status != http.StatusRequestTimeout || r.Code() != "BAD_USER_INPUT" {
				t.Fatalf("%s: a stalled body: %s", path, r)
			}
		}
	})
}

// The deadlines a request sets on its connection are its own: the next
// request on the same connection, after an idle pause longer than a
// request's deadline, is answered as usual, and so is a subscription open
// for longer than it.
func TestSlowClient_ConnectionsOutliveARequestsDeadline(t *testing.T) {
	forEachDBWith(t, server.Config{RequestTimeout: time.Second}, func(t *testing.T, e *env) {
		a := e.newAccount("deadlines", nil)
		s := e.connectWS(t, a.Owner)
		s.subscribe("a", accountChanged, watch(a.ID))

		c := e.rawConn(t)
		br := bufio.NewReader(c)
		ask := func(req string) resp {
			t.Helper()
			_ = c.SetDeadline(time.Now().Add(15 * time.Second))
			if _, err := io.WriteString(c, req); err != nil {
				t.Fatal(err)
			}
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			return resp{Status: res.StatusCode, Body: body, Header: res.Header}
		}
		q := `{"query":"{ viewer { kind } }"}`
		gql := fmt.Sprintf("POST /graphql HTTP/1.1\r\nHost: gatehouse\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", a.Owner, len(q), q)
		export := fmt.Sprintf("GET /accounts/%s/audit.csv HTTP/1.1\r\nHost: gatehouse\r\nAuthorization: Bearer %s\r\n\r\n", a.ID, a.Owner)
		for i, req := range []string{gql, "GET /healthz HTTP/1.1\r\nHost: gatehouse\r\n\r\n", export, gql} {
			if r := ask(req); r.Status != http.StatusOK {
				t.Fatalf("request %d on the connection: %s", i, r)
			}
			time.Sleep(1500 * time.Millisecond)
		}
		role := e.createRole(a.Owner, a.ID, "After the pauses", nil)
		if ev := s.event("a"); ev.Get("targetID").String() != role {
			t.Fatalf("the subscription's event: %s", ev.Raw)
		}
	})
}
