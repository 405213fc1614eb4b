package server

import (
	"strings"
	"testing"
	"unsafe"
)

// An operation's name kept as a label value is a copy: names are slices of
// the request's document, which the label (one of 200, kept until the
// server stops) would keep whole.
func TestMetrics_OperationNamesAreCopies(t *testing.T) {
	doc := "query Dashboard { viewer { kind } }" + strings.Repeat(" ", 1<<16)
	name := doc[len("query ") : len("query ")+len("Dashboard")]
	m := newMetrics(nil, "test", "test")
	if got := m.operation(name); got != "Dashboard" {
		t.Fatalf("label %q", got)
	}
	start := uintptr(unsafe.Pointer(unsafe.StringData(doc)))
	for k := range m.ops {
		if p := uintptr(unsafe.Pointer(unsafe.StringData(k))); p >= start && p < start+uintptr(len(doc)) {
			t.Errorf("the label %q keeps the request's document", k)
		}
	}
}
