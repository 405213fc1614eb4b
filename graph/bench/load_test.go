package bench

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// result is one server at one load level.
type result struct {
	server   string
	clients  int
	requests int           // measured requests (started inside the window)
	window   time.Duration // the measured window
	rps      float64
	p50, p99 time.Duration
	max      time.Duration
	allowed  int64
	sql      int64 // SQL statements during the level, warm-up included (-1: not counted)
}

// loadClient is the HTTP client of one load level: keep-alive, at most one
// connection per concurrent client, never more.
func loadClient(clients int) (*http.Client, func()) {
	tr := &http.Transport{
		MaxIdleConns:        clients,
		MaxIdleConnsPerHost: clients,
		MaxConnsPerHost:     clients,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}, tr.CloseIdleConnections
}

// run drives url with `clients` concurrent clients: for warm (unrecorded),
// then for d, recording the latency of every request started inside d.
// Each client walks reqs from its own offset. Any failed request — transport
// error, non-200, GraphQL errors, an answer without "allowed" — stops the run
// and is returned. measured, when set, runs as the measured window opens and
// its result runs once every client has stopped (the CPU profile).
func run(server, url string, reqs []request, clients int, warm, d time.Duration, measured func() (stop func())) (result, error) {
	client, closeIdle := loadClient(clients)
	defer closeIdle()
	var (
		wg       sync.WaitGroup
		lat      = make([][]time.Duration, clients)
		allowed  = make([]int64, clients)
		failed   atomic.Bool
		errOnce  sync.Once
		firstErr error
	)
	t0 := time.Now()
	measureFrom, end := t0.Add(warm), t0.Add(warm+d)
	var timer *time.Timer
	stops := make(chan func(), 1)
	if measured != nil {
		timer = time.AfterFunc(warm, func() { stops <- measured() })
	}
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			mine := make([]time.Duration, 0, 1<<14)
			j := i * len(reqs) / clients
			for !failed.Load() {
				start := time.Now()
				if !start.Before(end) {
					break
				}
				r := reqs[j%len(reqs)]
				j++
				ok, err := call(client, url, r, &buf)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("%s, %d clients: %w", server, clients, err) })
					failed.Store(true)
					return
				}
				if start.Before(measureFrom) {
					continue
				}
				mine = append(mine, time.Since(start))
				if ok {
					allowed[i]++
				}
			}
			lat[i] = mine
		}()
	}
	wg.Wait()
	if timer != nil && !timer.Stop() { // it fired: wait for it, then stop it
		if stop := <-stops; stop != nil {
			stop()
		}
	}
	if firstErr != nil {
		return result{}, firstErr
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	res := result{server: server, clients: clients, requests: len(all), window: d,
		rps: float64(len(all)) / d.Seconds(), p50: percentile(all, 50), p99: percentile(all, 99)}
	if len(all) > 0 {
		res.max = all[len(all)-1]
	}
	for _, a := range allowed {
		res.allowed += a
	}
	return res, nil
}

// call sends one decision and reports whether it was allowed.
func call(client *http.Client, url string, r request, buf *bytes.Buffer) (bool, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(r.body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+r.secret)
	res, err := client.Do(req)
	if err != nil {
		return false, err
	}
	buf.Reset()
	_, err = io.Copy(buf, res.Body)
	res.Body.Close()
	if err != nil {
		return false, err
	}
	b := buf.Bytes()
	if res.StatusCode != http.StatusOK || bytes.Contains(b, []byte(`"errors"`)) || !bytes.Contains(b, []byte(`"allowed":`)) {
		return false, fmt.Errorf("HTTP %d: %s", res.StatusCode, b)
	}
	return bytes.Contains(b, []byte(`"allowed":true`)), nil
}

// percentile of sorted latencies (nearest rank).
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100 // ceil(n·p/100)
	if i < 1 {
		i = 1
	}
	return sorted[i-1]
}
