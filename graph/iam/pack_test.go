package iam

import (
	"strings"
	"testing"
	"unsafe"
)

// Packed strings keep their values, one after the other in one allocation.
func TestPackStrings_OneAllocationSameValues(t *testing.T) {
	a, b, empty, c := strings.Clone("mem_01"), strings.Clone("usr_0042"), "", strings.Clone("x")
	packStrings([]*string{&a, &b, &empty, &c})
	if a != "mem_01" || b != "usr_0042" || empty != "" || c != "x" {
		t.Fatalf("packed values changed: %q %q %q %q", a, b, empty, c)
	}
	start := uintptr(unsafe.Pointer(unsafe.StringData(a)))
	if uintptr(unsafe.Pointer(unsafe.StringData(b))) != start+6 || uintptr(unsafe.Pointer(unsafe.StringData(c))) != start+14 {
		t.Fatal("packed strings are not one allocation, in order")
	}
}
