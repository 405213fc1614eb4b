package main

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Metrics the harness reads from the server when it exposes them; absent
// ones are reported as n/a.
const (
	// modelLoadsMetric counts account models loaded (or reloaded) from the
	// database: the count of the load-duration histogram, over its results.
	modelLoadsMetric = "gatehouse_model_load_duration_seconds_count"
	heapMetric       = "go_memstats_heap_inuse_bytes"
	// liveMetric is the heap live after the last GC, and gcMetric counts GC
	// cycles (Go runtime metrics the server exports).
	liveMetric = "go_gc_heap_live_bytes"
	gcMetric   = "go_gc_cycles_total_gc_cycles_total"
)

var metricsClient = &http.Client{Timeout: 5 * time.Second}

// scraper reads Prometheus text from the first of its URLs that answers:
// the admin listener, then the public /metrics.
type scraper struct{ urls []string }

// sample returns the sum of every series of the named metrics, and whether
// each was present.
func (s scraper) sample(names ...string) (map[string]float64, bool) {
	for _, u := range s.urls {
		res, err := metricsClient.Get(u)
		if err != nil {
			continue
		}
		out, err := sumMetrics(res.Body, names)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			continue
		}
		return out, true
	}
	return nil, false
}

// value is one metric's sum, and whether the server exposes it.
func (s scraper) value(name string) (float64, bool) {
	m, ok := s.sample(name)
	if !ok {
		return 0, false
	}
	v, ok := m[name]
	return v, ok
}

// sumMetrics sums the samples of each named metric in Prometheus text.
func sumMetrics(r io.Reader, names []string) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		for _, n := range names {
			rest, ok := strings.CutPrefix(line, n)
			if !ok || rest == "" || (rest[0] != '{' && rest[0] != ' ') {
				continue
			}
			if i := strings.LastIndexByte(rest, '}'); i >= 0 {
				rest = rest[i+1:]
			}
			f := strings.Fields(rest)
			if len(f) == 0 {
				continue
			}
			v, err := strconv.ParseFloat(f[0], 64)
			if err != nil {
				continue
			}
			out[n] += v
		}
	}
	return out, sc.Err()
}
