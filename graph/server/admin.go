package server

import (
	"net/http"
	"net/http/pprof"
)

// adminHandler serves the admin listener (GATEHOUSE_ADMIN_ADDR): the
// Prometheus metrics, and Go's profiler when enabled. Neither is served on
// the public port: both describe the server to whoever can reach them.
func adminHandler(met *metrics, profiler bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", met.handler())
	if profiler {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}
