package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// endless writes 64 KB chunks until a write fails, and sends the error.
func endless(ended chan<- error) http.Handler {
	chunk := []byte(strings.Repeat("x", 64<<10))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for {
			if _, err := w.Write(chunk); err != nil {
				ended <- err
				return
			}
		}
	})
}

// slowReader dials srv with a 4 KB receive buffer and asks for a response
// it reads as told.
func slowReader(t *testing.T, srv *httptest.Server) *bufio.Reader {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	c, err := d.DialContext(context.Background(), "tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	return bufio.NewReaderSize(c, 64<<10)
}

func endedWithin(t *testing.T, ended <-chan error, within time.Duration) error {
	t.Helper()
	select {
	case err := <-ended:
		return err
	case <-time.After(within):
		t.Fatalf("the handler still writes after %s", within)
		return nil
	}
}

// A client that stops reading a response holds its request no longer than
// the write deadline.
func TestDeadlines_AStalledReaderEndsTheResponse(t *testing.T) {
	ended := make(chan error, 1)
	srv := httptest.NewServer(deadlines(time.Second, 300*time.Millisecond, endless(ended)))
	t.Cleanup(srv.Close) // after the client's connection closes
	slowReader(t, srv)   // and never read
	if err := endedWithin(t, ended, 10*time.Second); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the write failed with %v, not the deadline", err)
	}
}

// A stream (an export) goes on for as long as the client keeps taking it,
// past any request deadline, and ends soon after the client stops.
func TestStreaming_GoesOnWhileTheClientReads(t *testing.T) {
	ended := make(chan error, 1)
	const d = 300 * time.Millisecond
	srv := httptest.NewServer(deadlines(d, d, streaming(d, endless(ended))))
	t.Cleanup(srv.Close)
	r := slowReader(t, srv)
	buf := make([]byte, 64<<10)
	for stop := time.Now().Add(6 * d); time.Now().Before(stop); time.Sleep(10 * time.Millisecond) {
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatalf("the stream ended while read: %v", err)
		}
	}
	select {
	case err := <-ended:
		t.Fatalf("the stream ended while read: %v", err)
	default:
	}
	if err := endedWithin(t, ended, 10*time.Second); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a stalled stream's write failed with %v, not the deadline", err)
	}
}
