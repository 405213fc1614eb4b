package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// request is one prepared HTTP call: a JSON body POSTed to path with a
// bearer credential.
type request struct {
	path string
	body []byte
	auth string
}

// answer checks a 200 answer's body; a non-nil error counts the request as
// failed.
type answer func(body []byte) error

// graphQLAnswer accepts an answer without errors that contains marker.
func graphQLAnswer(marker string) answer {
	m := []byte(marker)
	return func(b []byte) error {
		if bytes.Contains(b, []byte(`"errors"`)) || !bytes.Contains(b, m) {
			return fmt.Errorf("answer without %s: %s", marker, cutBody(b))
		}
		return nil
	}
}

// loadClient is the HTTP client of one window: keep-alive, one connection
// per concurrent client, never more.
func loadClient(clients int) (*http.Client, func()) {
	tr := &http.Transport{
		MaxIdleConns:        clients,
		MaxIdleConnsPerHost: clients,
		MaxConnsPerHost:     clients,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}, tr.CloseIdleConnections
}

// httpOp sends the requests next chooses to base, checking each answer. A
// transport error is fatal: the server is gone or overwhelmed.
func httpOp(client *http.Client, base string, next func(client, j int) request, check answer) op {
	bufs := make(chan *bytes.Buffer, 256)
	return func(ctx context.Context, c, j int) error {
		r := next(c, j)
		var buf *bytes.Buffer
		select {
		case buf = <-bufs:
			buf.Reset()
		default:
			buf = new(bytes.Buffer)
		}
		defer func() {
			select {
			case bufs <- buf:
			default:
			}
		}()
		status, err := post(ctx, client, base+r.path, r.auth, r.body, buf)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fatal(err)
		}
		if status != http.StatusOK {
			return fmt.Errorf("HTTP %d: %s", status, cutBody(buf.Bytes()))
		}
		return check(buf.Bytes())
	}
}

// post sends one request and reads the whole answer into buf.
func post(ctx context.Context, client *http.Client, url, auth string, body []byte, buf *bytes.Buffer) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(buf, res.Body)
	res.Body.Close()
	return res.StatusCode, err
}

// cutBody keeps error messages short.
func cutBody(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
