package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// post is gqlgen's POST transport but for how it writes an operation's
// response. gqlgen marshals the response with encoding/json, which
// re-validates and compacts the data it was handed as json.RawMessage: a
// second pass over every byte, 8-10 % of a members page's CPU. The data is
// gqlgen's own output, compact and valid already, so post writes it as it
// is, between the response's other members marshalled by encoding/json.
//
// gqlgen's transport still does everything else (reading and decoding the
// body, the content type, the status of a request that fails before it
// runs). It writes the operation's response once, with the result of the
// handler that DispatchOperation returns: post's executor writes the
// response itself there, and its writer drops the copy gqlgen writes next.
//
// Like GET, it answers a deferred fragment in the one response (oneResponse).
//
// Unlike encoding/json, post does not escape <, > and & in the data's
// strings to \u003c and friends; the responses are JSON, never HTML, and
// every response carries X-Content-Type-Options: nosniff.
type post struct{ transport.POST }

func (t post) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	pw := &postWriter{ResponseWriter: w}
	t.POST.Do(pw, r, postExecutor{oneResponse: oneResponse{exec}, w: pw})
}

// postWriter passes writes through but for the one that follows a response
// that post wrote itself.
type postWriter struct {
	http.ResponseWriter
	drop bool
}

func (w *postWriter) Write(p []byte) (int, error) {
	if w.drop {
		w.drop = false
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *postWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// postExecutor is oneResponse (embedded as a value: no second allocation)
// with post's response handler.
type postExecutor struct {
	oneResponse
	w *postWriter
}

func (e postExecutor) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	next, ctx := e.GraphExecutor.DispatchOperation(ctx, rc)
	return func(ctx context.Context) *graphql.Response {
		resp := next(ctx)
		if resp == nil {
			return nil
		}
		if !writeResponse(e.w.ResponseWriter, resp) {
			return resp // gqlgen writes what writeResponse could not
		}
		e.w.drop = true
		return &graphql.Response{} // what gqlgen marshals, to be dropped
	}, ctx
}

var responseBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// dataNull is how encoding/json starts a response without errors or data.
const dataNull = `{"data":null`

// maxPooled bounds the buffers kept for the next response.
const maxPooled = 1 << 20

// writeResponse writes resp as encoding/json would, but for the escaping of
// HTML characters, copying its data as it is. It reports false, having
// written nothing, if encoding/json fails on the response's other members.
func writeResponse(w http.ResponseWriter, resp *graphql.Response) bool {
	rest := *resp
	rest.Errors, rest.Data = nil, nil
	tail, err := json.Marshal(&rest)
	if err != nil || !bytes.HasPrefix(tail, []byte(dataNull)) {
		return false
	}
	var errs []byte
	if len(resp.Errors) > 0 {
		if errs, err = json.Marshal(resp.Errors); err != nil {
			return false
		}
	}
	buf := responseBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooled {
			responseBuffers.Put(buf)
		}
	}()
	buf.Reset()
	buf.WriteByte('{')
	if errs != nil {
		buf.WriteString(`"errors":`)
		buf.Write(errs)
		buf.WriteByte(',')
	}
	buf.WriteString(`"data":`)
	if resp.Data == nil {
		buf.WriteString("null")
	} else {
		buf.Write(resp.Data)
	}
	buf.Write(tail[len(dataNull):])
	w.Write(buf.Bytes()) // an error here is the client's: gqlgen ignores it too
	return true
}

// get is gqlgen's GET transport, answering a deferred fragment in its one
// response (oneResponse), with X-Content-Type-Options as post's.
type get struct{ transport.GET }

func (t get) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	t.GET.Do(w, r, oneResponse{exec})
}
