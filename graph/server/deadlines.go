package server

import (
	"net/http"
	"time"
)

// A connection's deadlines. net/http bounds only the reading of a request's
// headers (ReadHeaderTimeout): a client that sent its headers and then
// stalls its body, or stops reading the response, would hold a goroutine,
// its buffers and whatever the request holds for as long as the connection
// lives. Every request bounds both halves of its connection instead: its
// body must arrive within the request's deadline, and its response must be
// taken within that and writeGrace more (bounded answers storage that could
// not serve in time with a 503 at the deadline, which must still be
// written). A request sets them afresh, as the previous request on the
// connection left them.

// writeGrace is how long a response may take to write after the request's
// deadline.
const writeGrace = 5 * time.Second

// deadlines sets the connection's deadlines for each request: its body must
// arrive within read, its response be taken within write. (A WebSocket's
// connection has none: net/http clears them when it hands the connection
// over.) It must be the outermost handler: http.ResponseController reaches
// the connection through writers that unwrap to it.
func deadlines(read, write time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// net/http's own writer has the methods: no ResponseController
		// (an allocation) unless something wraps it.
		c, ok := w.(connDeadlines)
		if !ok {
			c = http.NewResponseController(w)
		}
		now := time.Now()
		_ = c.SetReadDeadline(now.Add(read))
		_ = c.SetWriteDeadline(now.Add(write))
		next.ServeHTTP(w, r)
	})
}

// connDeadlines is what http.ResponseController looks for first, and has.
type connDeadlines interface {
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

// streaming is for responses that take as long as they are long (audit
// exports): they have no deadline, but each write must be taken by the
// client within d (it makes progress or ends), and they read no body.
func streaming(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Time{})
		next.ServeHTTP(&progressWriter{ResponseWriter: w, rc: rc, d: d}, r)
	})
}

// progressWriter moves the connection's write deadline d ahead of each
// write.
type progressWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
	d  time.Duration
}

func (w *progressWriter) Write(p []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.d))
	return w.ResponseWriter.Write(p)
}

// Flush forwards to the connection, within the deadline.
func (w *progressWriter) Flush() {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.d))
	_ = w.rc.Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (w *progressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
