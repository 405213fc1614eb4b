package server

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// readBody reads what a body holds whatever its declared length says, and
// the body limit still refuses what is over it.
func TestReadBody(t *testing.T) {
	for _, c := range []struct {
		body          string
		declared, max int64
		want          string
		tooBig        bool
	}{
		{`{"a":1}`, 7, 100, `{"a":1}`, false},
		{`{"a":1}`, 20, 100, `{"a":1}`, false},      // shorter than declared
		{`{"a":1}xyz`, 7, 100, `{"a":1}xyz`, false}, // longer: read on
		{`{"a":1}`, -1, 100, `{"a":1}`, false},      // unknown length
		{strings.Repeat("x", 50), 200, 10, "", true},
		{strings.Repeat("x", 50), 5, 10, "", true},
	} {
		w := httptest.NewRecorder()
		got, err := readBody(http.MaxBytesReader(w, io.NopCloser(strings.NewReader(c.body)), c.max), c.declared, c.max)
		var tooBig *http.MaxBytesError
		if c.tooBig != errors.As(err, &tooBig) || !c.tooBig && (err != nil || string(got) != c.want) {
			t.Errorf("%q declared %d, max %d: %q %v", c.body, c.declared, c.max, got, err)
		}
	}
}
