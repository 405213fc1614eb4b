package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
)

// stmtProxy sits between Gatehouse and PostgreSQL on loopback and counts
// the statements Gatehouse sends, from the wire protocol: a simple Query
// message is one statement (BEGIN/COMMIT/ROLLBACK are counted as
// transactions instead), an extended-protocol Execute is one statement. It
// sees every connection — the pool's and the LISTEN one — and so counts what
// the server sends, from outside the server. It adds a hop to every query,
// so it is used only in an untimed pass.
type stmtProxy struct {
	ln           net.Listener
	upstream     string
	statements   atomic.Int64
	transactions atomic.Int64
	wg           sync.WaitGroup
	mu           sync.Mutex
	conns        []net.Conn
}

func startStmtProxy(upstream string) (*stmtProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &stmtProxy{ln: ln, upstream: upstream}
	p.wg.Go(p.serve)
	return p, nil
}

func (p *stmtProxy) addr() string { return p.ln.Addr().String() }

// counts are the statements and transactions counted so far.
func (p *stmtProxy) counts() (statements, transactions int64) {
	return p.statements.Load(), p.transactions.Load()
}

func (p *stmtProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *stmtProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.upstream)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		p.wg.Go(func() {
			_, _ = io.Copy(c, up)
			c.Close()
		})
		p.wg.Go(func() {
			_ = p.relay(c, up)
			up.Close()
		})
	}
}

// Startup request codes that come before (or instead of) the startup
// message.
const (
	sslRequest    = 80877103
	gssencRequest = 80877104
	cancelRequest = 80877102
)

// relay copies the client's messages to the server, counting them.
func (p *stmtProxy) relay(client io.Reader, server io.Writer) error {
	r := bufio.NewReader(client)
	// Startup: length-prefixed messages without a type byte. An SSL or
	// GSSAPI request is answered with one byte and followed by the real
	// startup message (the answer is "no" with sslmode=disable; were it
	// "yes", the rest would be encrypted and go by uncounted).
	for {
		msg, err := readMessage(r, false)
		if err != nil {
			return err
		}
		if _, err := server.Write(msg); err != nil {
			return err
		}
		if len(msg) < 8 {
			return errors.New("short startup message")
		}
		code := binary.BigEndian.Uint32(msg[4:8])
		if code == sslRequest || code == gssencRequest {
			continue
		}
		if code == cancelRequest {
			_, err := io.Copy(server, r)
			return err
		}
		break
	}
	for {
		msg, err := readMessage(r, true)
		if err != nil {
			return err
		}
		p.count(msg[0], msg[5:])
		if _, err := server.Write(msg); err != nil {
			return err
		}
	}
}

func (p *stmtProxy) count(kind byte, body []byte) {
	switch kind {
	case 'E':
		p.statements.Add(1)
	case 'Q':
		q := strings.ToUpper(strings.TrimSpace(string(bytes.TrimRight(body, "\x00"))))
		switch word, _, _ := strings.Cut(q, " "); strings.TrimSuffix(word, ";") {
		case "BEGIN", "START":
			p.transactions.Add(1)
		case "COMMIT", "END", "ROLLBACK":
		default:
			p.statements.Add(1)
		}
	}
}

// readMessage reads one protocol message whole: a type byte (typed) and a
// big-endian length that counts itself, then the body.
func readMessage(r *bufio.Reader, typed bool) ([]byte, error) {
	head := 4
	if typed {
		head = 5
	}
	msg := make([]byte, head, 64)
	if _, err := io.ReadFull(r, msg); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(msg[head-4:]))
	if n < 4 || n > 1<<30 {
		return nil, errors.New("bad message length")
	}
	msg = append(msg, make([]byte, n-4)...)
	if _, err := io.ReadFull(r, msg[head:]); err != nil {
		return nil, err
	}
	return msg, nil
}
