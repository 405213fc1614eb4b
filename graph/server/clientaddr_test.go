package server

import (
	"net/http/httptest"
	"testing"
)

func TestClientAddr_ForwardedForOnlyFromTrustedProxies(t *testing.T) {
	for _, c := range []struct {
		name, trusted, peer string
		xff                 []string
		want                string
	}{
		{"no proxies", "", "192.0.2.1:5000", []string{"203.0.113.7"}, "192.0.2.1"},
		{"untrusted peer", "10.0.0.0/8", "192.0.2.1:5000", []string{"203.0.113.7"}, "192.0.2.1"},
		{"trusted peer", "10.0.0.0/8", "10.0.0.2:5000", []string{"203.0.113.7"}, "203.0.113.7"},
		{"trusted peer, no header", "10.0.0.0/8", "10.0.0.2:5000", nil, "10.0.0.2"},
		{"single trusted address", "10.0.0.2", "10.0.0.2:5000", []string{"203.0.113.7"}, "203.0.113.7"},
		{"client-written entries ignored", "10.0.0.0/8", "10.0.0.2:5000", []string{"6.6.6.6, 203.0.113.7"}, "203.0.113.7"},
		{"past trusted hops", "10.0.0.0/8", "10.0.0.2:5000", []string{"203.0.113.7, 10.9.9.9"}, "203.0.113.7"},
		{"several headers", "10.0.0.0/8", "10.0.0.2:5000", []string{"6.6.6.6", "203.0.113.7, 10.9.9.9"}, "203.0.113.7"},
		{"all trusted", "10.0.0.0/8", "10.0.0.2:5000", []string{"10.1.1.1, 10.9.9.9"}, "10.1.1.1"},
		{"garbage stops the walk", "10.0.0.0/8", "10.0.0.2:5000", []string{"203.0.113.7, junk, 10.9.9.9"}, "10.9.9.9"},
		{"address with port", "10.0.0.0/8", "10.0.0.2:5000", []string{"203.0.113.7:4711"}, "203.0.113.7"},
		{"IPv6", "fd00::/8", "[fd00::1]:5000", []string{"2001:db8::7"}, "2001:db8::7"},
		{"IPv4-mapped peer", "10.0.0.0/8", "[::ffff:10.0.0.2]:5000", []string{"203.0.113.7"}, "203.0.113.7"},
	} {
		var list []string
		if c.trusted != "" {
			list = []string{c.trusted}
		}
		ps, err := parseProxies(list)
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := ps.clientAddr(r); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestParseProxies_RefusesWhatIsNotAnAddress(t *testing.T) {
	if _, err := parseProxies([]string{"10.0.0.0/8", "proxy.internal"}); err == nil {
		t.Fatal("a host name was taken for a proxy")
	}
	ps, err := parseProxies([]string{" 10.0.0.0/8 ", "", "192.0.2.1"})
	if err != nil || len(ps) != 2 {
		t.Fatalf("%v %v", ps, err)
	}
}
