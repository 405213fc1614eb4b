package database

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// readResult reads one byte from c in the background.
func readResult(c net.Conn) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		done <- err
	}()
	return done
}

const socketWait = 5 * time.Second // a failure bound, not a measure

// P5: a read blocked on a socket ends when the context the socket is bound
// to ends — not when an earlier binding's does — and a binding made after
// one that ended while the socket was idle finds it usable.
func TestSocket_ReadsEndWithTheBoundContext(t *testing.T) {
	client, server := net.Pipe()
	t.Cleanup(func() { _ = client.Close(); _ = server.Close() })
	s := &socket{conn: client}

	first, endFirst := context.WithCancel(context.Background())
	s.bind(first)
	second, endSecond := context.WithCancel(context.Background())
	s.bind(second)
	endFirst() // no longer bound to it: changes nothing
	read := readResult(client)
	if _, err := server.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	if err := <-read; err != nil {
		t.Fatalf("a read after an earlier binding ended: %v", err)
	}

	read = readResult(client)
	endSecond()
	select {
	case err := <-read:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the blocked read ended with %v, want a passed deadline", err)
		}
	case <-time.After(socketWait):
		t.Fatal("the blocked read went on after its context ended")
	}

	s.bind(context.Background()) // the next use: the idle end is forgotten
	read = readResult(client)
	if _, err := server.Write([]byte{2}); err != nil {
		t.Fatal(err)
	}
	if err := <-read; err != nil {
		t.Fatalf("a read after binding again: %v", err)
	}
}

// A CancelRequest's connection keeps its bound whatever deadline lib/pq sets.
func TestSocket_CancelConnectionsKeepTheirBound(t *testing.T) {
	client, server := net.Pipe()
	t.Cleanup(func() { _ = client.Close(); _ = server.Close() })
	bc := boundedConn{Conn: client, bound: time.Now().Add(50 * time.Millisecond)}
	_ = bc.SetDeadline(time.Now().Add(time.Hour))
	select {
	case err := <-readResult(bc):
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read ended with %v", err)
		}
	case <-time.After(socketWait):
		t.Fatal("a later deadline replaced the bound")
	}
	if got := bc.clamp(time.Time{}); !got.Equal(bc.bound) {
		t.Fatalf("no deadline clamps to %v, want the bound", got)
	}
}
