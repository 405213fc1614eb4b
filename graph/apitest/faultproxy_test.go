package apitest

import (
	"net"
	"net/url"
	"sync"
	"testing"
)

// faultProxy stands between a Gatehouse server and its PostgreSQL on
// loopback, so that a test can take the database away from that server
// alone — as a restart or an outage looks from the server — without
// disturbing the other tests sharing the PostgreSQL server.
type faultProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cond   *sync.Cond
	state  proxyState
	conns  map[net.Conn]bool
}

type proxyState int

const (
	proxyUp    proxyState = iota
	proxyDown             // connections are cut and new ones refused, like a stopped server
	proxyStall            // bytes stop flowing, like a frozen server or a saturated network
)

func newFaultProxy(t *testing.T, target string) *faultProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.cond = sync.NewCond(&p.mu)
	go p.serve()
	t.Cleanup(func() { p.set(proxyDown); ln.Close() })
	return p
}

// via returns rawURL (a postgres:// URL) going through the proxy.
func (p *faultProxy) via(t *testing.T, rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.ln.Addr().String()
	return u.String()
}

func (p *faultProxy) set(s proxyState) {
	p.mu.Lock()
	p.state = s
	if s == proxyDown {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
	p.cond.Broadcast()
	p.mu.Unlock()
}

func (p *faultProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.state == proxyDown
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		go p.forward(c)
	}
}

func (p *faultProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.state == proxyDown {
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	go p.pipe(up, c)
	p.pipe(c, up)
}

// pipe copies src to dst, holding bytes back while the proxy stalls.
func (p *faultProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.state == proxyStall {
				p.cond.Wait()
			}
			down := p.state == proxyDown
			p.mu.Unlock()
			if down {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
