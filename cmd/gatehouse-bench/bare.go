package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// bareAnswer is what the bare handler answers: an allowed decision, as
// GraphQL would put it.
const bareAnswer = `{"data":{"authorize":{"allowed":true,"reason":"GRANTED"}}}`

// serveBare is the `serve-bare` command: a bare net/http handler that reads
// the request and answers constant JSON — the ceiling any HTTP decision
// endpoint on this machine is measured against. It prints its address on
// the first line of stdout and serves until stdin closes or it is signalled.
func serveBare(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(bareAnswer))
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	go func() {
		// The parent holds our stdin: when it goes, so do we.
		_, _ = io.Copy(io.Discard, os.Stdin)
		_ = srv.Close()
	}()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// bareServer is the bare handler's process.
type bareServer struct {
	*child
	url string
}

// startBare runs this program's serve-bare command as a process of its own.
func startBare(dir string) (*bareServer, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "bare.log")
	cmd := exec.Command(self, "serve-bare", "--addr", "127.0.0.1:0")
	cmd.SysProcAttr = childAttr()
	cmd.Env = os.Environ()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if _, err := cmd.StdinPipe(); err != nil { // closed when we exit
		return nil, err
	}
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	c := &child{cmd: cmd, log: f, done: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() {
		c.err = cmd.Wait()
		f.Close()
		close(c.done)
	}()
	select {
	case line, ok := <-lines:
		addr, found := strings.CutPrefix(line, "listening on ")
		if !ok || !found {
			c.stop()
			return nil, fmt.Errorf("bare handler did not start: %s", tail(logPath, 5))
		}
		return &bareServer{child: c, url: "http://" + addr}, nil
	case <-time.After(10 * time.Second):
		c.stop()
		return nil, errors.New("bare handler did not start within 10s")
	}
}
