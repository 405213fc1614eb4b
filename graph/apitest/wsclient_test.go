package apitest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/tidwall/gjson"
)

// wsConn is a graphql-transport-ws client of one server, as GraphiQL's and
// graphql-ws's are: the credential in connection_init's payload.
type wsConn struct {
	t    *testing.T
	conn *websocket.Conn
}

// wsWait bounds every wait for a message: a failure bound, not a measure.
const wsWait = 10 * time.Second

// dialWS opens a connection to e's /graphql and sends connection_init with
// payload (nil: none); it does not wait for the answer.
func (e *env) dialWS(t *testing.T, payload map[string]any) *wsConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wsWait)
	defer cancel()
	conn, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if got := res.Header.Get("Sec-WebSocket-Protocol"); got != "graphql-transport-ws" {
		t.Fatalf("negotiated subprotocol %q", got)
	}
	conn.SetReadLimit(1 << 20)
	c := &wsConn{t: t, conn: conn}
	t.Cleanup(func() { _ = conn.CloseNow() })
	init := map[string]any{"type": "connection_init"}
	if payload != nil {
		init["payload"] = payload
	}
	c.send(init)
	return c
}

// connectWS opens an authenticated connection: connection_ack expected.
func (e *env) connectWS(t *testing.T, cred string) *wsConn {
	t.Helper()
	c := e.dialWS(t, map[string]any{"Authorization": "Bearer " + cred})
	if m := c.next(); m.Get("type").String() != "connection_ack" {
		t.Fatalf("want connection_ack, got %s", m.Raw)
	}
	return c
}

func (c *wsConn) send(msg map[string]any) {
	c.t.Helper()
	b, _ := json.Marshal(msg)
	ctx, cancel := context.WithTimeout(context.Background(), wsWait)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// subscribe starts operation id.
func (c *wsConn) subscribe(id, query string, vars map[string]any) {
	c.t.Helper()
	c.send(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
}

// read returns the next message other than ping/pong, or the error that
// ended the connection.
func (c *wsConn) read(within time.Duration) (gjson.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		_, b, err := c.conn.Read(ctx)
		if err != nil {
			return gjson.Result{}, err
		}
		m := gjson.ParseBytes(b)
		switch m.Get("type").String() {
		case "ping":
			c.send(map[string]any{"type": "pong"})
			continue
		case "pong":
			continue
		}
		return m, nil
	}
}

// next returns the next message; the connection must stay open.
func (c *wsConn) next() gjson.Result {
	c.t.Helper()
	m, err := c.read(wsWait)
	if err != nil {
		c.t.Fatalf("no message in %s: %v", wsWait, err)
	}
	return m
}

// closed waits for the server to close the connection and returns the code.
func (c *wsConn) closed() websocket.StatusCode {
	c.t.Helper()
	for {
		m, err := c.read(wsWait)
		if err == nil {
			c.t.Logf("before the close: %s", m.Raw)
			continue
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		if errors.Is(err, context.DeadlineExceeded) {
			c.t.Fatalf("the connection is still open after %s", wsWait)
		}
		return websocket.StatusCode(-1) // closed without a close frame
	}
}

// event is the next message, which must be a `next` of operation id; it
// returns the event's fields.
func (c *wsConn) event(id string) gjson.Result {
	c.t.Helper()
	m := c.next()
	if m.Get("type").String() != "next" || m.Get("id").String() != id {
		c.t.Fatalf("want an event of %s, got %s", id, m.Raw)
	}
	if errs := m.Get("payload.errors"); errs.Exists() {
		c.t.Fatalf("event with errors: %s", m.Raw)
	}
	return m.Get("payload.data.accountChanged")
}

// noMessage checks that nothing arrives while probe runs: probe makes a
// change that must reach this connection as its next message (so everything
// that would have arrived before it has).
func (c *wsConn) nothingBefore(id string, probe func(), want func(gjson.Result) bool) {
	c.t.Helper()
	probe()
	if ev := c.event(id); !want(ev) {
		c.t.Fatalf("an event arrived that was not the probe's: %s", ev.Raw)
	}
}
