package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// listenAdmin binds the admin listener (GATEHOUSE_ADMIN_ADDR) as serve
// starts, refusing an address in use like any other mistake; nil when it is
// off.
func listenAdmin(cfg *server.Config, loader *server.Loader) (net.Listener, error) {
	if cfg.AdminAddr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.AdminAddr)
	if err != nil {
		return nil, loader.Refuse("GATEHOUSE_ADMIN_ADDR", listenProblem(err),
			"use a free host:port, e.g. 127.0.0.1:9090, or an empty value to turn the admin listener off")
	}
	return ln, nil
}

// startAdmin serves the admin listener (/metrics, and /debug/pprof/ with
// GATEHOUSE_PPROF) beside the public one; nil when it is off.
func startAdmin(ln net.Listener, cfg *server.Config, srv *server.Server, log *slog.Logger) *http.Server {
	if ln == nil {
		return nil
	}
	hs := &http.Server{Handler: srv.Admin, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin listener stopped", "err", err)
		}
	}()
	log.Info("admin listener", "addr", ln.Addr().String(), "metrics", "/metrics", "pprof", cfg.Pprof)
	return hs
}

// flushTraces exports the spans not yet sent, for a few seconds at most.
func flushTraces(shutdown func(context.Context) error, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		log.Warn("exporting the last traces", "err", err)
	}
}
