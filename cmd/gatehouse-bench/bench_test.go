package main

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// The figures the harness reads from /proc and /metrics, from samples of
// what Linux and the Prometheus client write.
func TestProcAndMetricsParsing(t *testing.T) {
	// utime 250 and stime 50 ticks (fields 14 and 15); the command name
	// holds a space and a parenthesis.
	stat := []byte("4242 (gate house)) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 12 0 100 1000000 2000 18446744073709551615")
	if d, err := parseStat(stat); err != nil || d != 3*time.Second {
		t.Errorf("parseStat = %v, %v; want 3s", d, err)
	}
	status := "Name:\tgatehouse\nVmPeak:\t  900000 kB\nVmRSS:\t   51200 kB\nThreads:\t12\n"
	if n, err := parseVmRSS(strings.NewReader(status)); err != nil || n != 50<<20 {
		t.Errorf("parseVmRSS = %d, %v; want %d", n, err, 50<<20)
	}
	text := "# HELP gatehouse_model_load_duration_seconds Models read.\n# TYPE gatehouse_model_load_duration_seconds histogram\n" +
		"gatehouse_model_load_duration_seconds_bucket{result=\"ok\",le=\"0.001\"} 5\n" +
		"gatehouse_model_load_duration_seconds_sum{result=\"ok\"} 0.02\n" +
		"gatehouse_model_load_duration_seconds_count{result=\"ok\"} 7\ngatehouse_model_load_duration_seconds_count{result=\"error\"} 3\n" +
		"go_memstats_heap_inuse_bytes 1.5e+07\n"
	got, err := sumMetrics(strings.NewReader(text), []string{modelLoadsMetric, heapMetric, "absent_total"})
	if err != nil || got[modelLoadsMetric] != 10 || got[heapMetric] != 1.5e7 {
		t.Errorf("sumMetrics = %v, %v; want 10 loads and 1.5e7 bytes", got, err)
	}
	if _, ok := got["absent_total"]; ok {
		t.Error("a metric the server does not expose was reported")
	}
}

// The proxy counts one statement per simple query and per extended-protocol
// Execute, BEGINs as transactions, and passes every byte through.
func TestStatementProxyCountsTheWireProtocol(t *testing.T) {
	upstream, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer upstream.Close()
	received := make(chan []byte, 1)
	go func() {
		c, err := upstream.Accept()
		if err != nil {
			return
		}
		b, _ := io.ReadAll(c)
		received <- b
	}()
	p, err := startStmtProxy(upstream.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()

	var stream bytes.Buffer
	untyped := func(code uint32, rest string) {
		_ = binary.Write(&stream, binary.BigEndian, uint32(8+len(rest)))
		_ = binary.Write(&stream, binary.BigEndian, code)
		stream.WriteString(rest)
	}
	typed := func(kind byte, body string) {
		stream.WriteByte(kind)
		_ = binary.Write(&stream, binary.BigEndian, uint32(4+len(body)))
		stream.WriteString(body)
	}
	untyped(sslRequest, "")
	untyped(196608, "user\x00postgres\x00\x00")
	typed('Q', "BEGIN ISOLATION LEVEL READ COMMITTED\x00")
	typed('P', "\x00SELECT 1\x00\x00\x00")
	typed('B', "\x00\x00\x00\x00\x00\x00\x00")
	typed('D', "P\x00")
	typed('E', "\x00\x00\x00\x00\x00")
	typed('S', "")
	typed('Q', "  select pg_advisory_xact_lock_shared(1)\x00")
	typed('Q', "COMMIT\x00")
	sent := bytes.Clone(stream.Bytes())

	c, err := net.Dial("tcp", p.addr())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(sent); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	select {
	case got := <-received:
		if !bytes.Equal(got, sent) {
			t.Errorf("the server received %d bytes, want the %d sent, unchanged", len(got), len(sent))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing reached the server")
	}
	c.Close()
	if s, tx := p.counts(); s != 2 || tx != 1 {
		t.Errorf("counted %d statements and %d transactions; want 2 and 1", s, tx)
	}
}

func TestSpanAndPercentile(t *testing.T) {
	if got := span([]float64{3, 1, 2}, fmtCount); got != "1–3" {
		t.Errorf("span = %q", got)
	}
	if got := span([]float64{12345.4, 12345.2}, fmtCount); got != "12,345" {
		t.Errorf("span of equal figures = %q", got)
	}
	lat := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if p50, p99 := percentile(lat, 50), percentile(lat, 99); p50 != 5 || p99 != 10 {
		t.Errorf("p50, p99 = %v, %v; want 5, 10", p50, p99)
	}
}
