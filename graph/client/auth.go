package client

import "net/http"

// WithKey returns an HTTP client sending key (an operator key, an API key or
// a dashboard JWT) as a bearer credential with every request of base.
func WithKey(base *http.Client, key string) *http.Client {
	if base == nil {
		base = http.DefaultClient
	}
	c := *base
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = bearer{key: key, next: next}
	return &c
}

type bearer struct {
	key  string
	next http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.next.RoundTrip(r)
}
