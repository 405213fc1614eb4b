package apitest

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// tracedEnv is a server traced into an in-memory recorder, its SQL too.
func tracedEnv(t *testing.T, dia string) (*env, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	cfg := server.Config{}
	opts := cfg.DatabaseOptions()
	opts.TracerProvider = tp
	db := openDB(t, dia, opts)
	return serveEnvWith(t, db, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), server.WithTracerProvider(tp)), rec
}

// spanTree is one trace's spans by parent.
type spanTree struct {
	byParent map[trace.SpanID][]sdktrace.ReadOnlySpan
	root     sdktrace.ReadOnlySpan
}

func treeOf(t *testing.T, spans []sdktrace.ReadOnlySpan, traceID trace.TraceID, remoteParent trace.SpanID) spanTree {
	t.Helper()
	tr := spanTree{byParent: map[trace.SpanID][]sdktrace.ReadOnlySpan{}}
	for _, s := range spans {
		if s.SpanContext().TraceID() != traceID {
			continue
		}
		tr.byParent[s.Parent().SpanID()] = append(tr.byParent[s.Parent().SpanID()], s)
	}
	roots := tr.byParent[remoteParent]
	if len(roots) != 1 {
		t.Fatalf("want one span under the caller's, got %d", len(roots))
	}
	tr.root = roots[0]
	for _, kids := range tr.byParent {
		slices.SortFunc(kids, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
	}
	return tr
}

// child is the one child of parent named name (a prefix for SQL spans).
func (tr spanTree) children(parent sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range tr.byParent[parent.SpanContext().SpanID()] {
		if strings.HasPrefix(s.Name(), name) {
			out = append(out, s)
		}
	}
	return out
}

func (tr spanTree) String() string {
	var b strings.Builder
	var walk func(s sdktrace.ReadOnlySpan, depth int)
	walk = func(s sdktrace.ReadOnlySpan, depth int) {
		fmt.Fprintf(&b, "%s%s", strings.Repeat("  ", depth), s.Name())
		var attrs []string
		for _, kv := range s.Attributes() {
			switch {
			case strings.HasPrefix(string(kv.Key), "gatehouse."), kv.Key == "graphql.field.path",
				kv.Key == "http.response.status_code", kv.Key == "db.query.text":
				v := kv.Value.Emit()
				if len(v) > 70 {
					v = v[:70] + "…"
				}
				attrs = append(attrs, fmt.Sprintf("%s=%s", kv.Key, v))
			}
		}
		if len(attrs) > 0 {
			fmt.Fprintf(&b, "  {%s}", strings.Join(attrs, ", "))
		}
		b.WriteString("\n")
		for _, c := range tr.byParent[s.SpanContext().SpanID()] {
			walk(c, depth+1)
		}
	}
	walk(tr.root, 0)
	return b.String()
}

func attr(s sdktrace.ReadOnlySpan, key string) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// One authorize request on a cold model, traced: the HTTP server span holds
// the GraphQL operation's span, which holds the authorize resolver's, which
// holds the decision's — with the account and permission as attributes —
// which holds the SQL that loads the model. No credential appears anywhere.
func TestObs_TraceTreeOfAnAuthorizeRequest(t *testing.T) {
	forEachDBOf(t, func(t *testing.T, dia string) {
		e, rec := tracedEnv(t, dia)
		a := e.newAccount("trace", nil)
		e.Server.Service.Invalidate("") // a cold model: the decision reads it

		traceID, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
		callerSpan, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
		req := e.request(e.Operator, decideOp, map[string]any{"in": map[string]any{
			"accountId": a.ID, "subject": map[string]any{"memberId": a.OwnerID}, "permission": "AgentChat"}})
		req.Header.Set("traceparent", "00-"+traceID.String()+"-"+callerSpan.String()+"-01")
		if r := e.send(req); r.Status != http.StatusOK || !r.Get("data.authorize.allowed").Bool() {
			t.Fatalf("authorize: %s", r)
		}
		tr := treeOf(t, rec.Ended(), traceID, callerSpan)
		t.Logf("the trace of one authorize request on a cold model (%s):\n%s", dia, tr)

		httpSpan := tr.root
		if httpSpan.Name() != "POST /graphql" || httpSpan.SpanKind() != trace.SpanKindServer {
			t.Fatalf("root span: %s (%v)", httpSpan.Name(), httpSpan.SpanKind())
		}
		if v, _ := attr(httpSpan, "gatehouse.request_id"); v.AsString() == "" {
			t.Error("the HTTP span has no request id")
		}
		if len(tr.children(httpSpan, "sql.")) == 0 {
			t.Error("no SQL span for the operator key's lookup under the HTTP span")
		}
		ops := tr.children(httpSpan, "graphql query Decide")
		if len(ops) != 1 {
			t.Fatalf("want one operation span under the HTTP span:\n%s", tr)
		}
		resolvers := tr.children(ops[0], "Query.authorize")
		if len(resolvers) != 1 {
			t.Fatalf("want one Query.authorize span under the operation:\n%s", tr)
		}
		decisions := tr.children(resolvers[0], "iam.Authorize")
		if len(decisions) != 1 {
			t.Fatalf("want one decision span under the resolver:\n%s", tr)
		}
		d := decisions[0]
		for key, want := range map[string]string{
			"gatehouse.account_id": a.ID, "gatehouse.permission": "AgentChat", "gatehouse.subject_id": a.OwnerID,
			"gatehouse.allowed": "true", "gatehouse.reason": "GRANTED",
		} {
			if v, ok := attr(d, key); !ok || v.Emit() != want {
				t.Errorf("decision span %s = %q, want %q", key, v.Emit(), want)
			}
		}
		if sql := tr.children(d, "sql."); len(sql) < 3 {
			t.Errorf("the cold model's SQL is not under the decision span (%d spans):\n%s", len(sql), tr)
		}

		// No secret in any span's name, attributes or events.
		_, random, _ := strings.Cut(strings.TrimPrefix(e.Operator, "gko_"), "_")
		for _, s := range tr.all() {
			texts := []string{s.Name()}
			for _, kv := range s.Attributes() {
				texts = append(texts, string(kv.Key)+"="+kv.Value.Emit())
			}
			for _, ev := range s.Events() {
				for _, kv := range ev.Attributes {
					texts = append(texts, kv.Value.Emit())
				}
			}
			for _, text := range texts {
				if strings.Contains(text, e.Operator) || strings.Contains(text, random) || strings.Contains(text, jwtSecret) ||
					strings.Contains(strings.ToLower(text), "authorization") || strings.Contains(text, "Bearer") {
					t.Errorf("span %s carries a secret: %s", s.Name(), text)
				}
			}
		}
	})
}

// all is every span of the tree.
func (tr spanTree) all() []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, kids := range tr.byParent {
		out = append(out, kids...)
	}
	return out
}
