package server

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/gatehouse-iam/gatehouse/graph/auth"
)

// rateLimiter keeps one token bucket per principal (per client address for
// anonymous requests) and answers RATE_LIMITED with HTTP 429 and Retry-After.
// Buckets live in a bounded LRU so that many principals cannot grow memory.
type rateLimiter struct {
	limit rate.Limit
	burst int
	mu    sync.Mutex
	byKey *lru.Cache[string, *rate.Limiter]
}

func newRateLimiter(perSecond float64, burst int) *rateLimiter {
	c, _ := lru.New[string, *rate.Limiter](100_000)
	return &rateLimiter{limit: rate.Limit(perSecond), burst: burst, byKey: c}
}

func (l *rateLimiter) Middleware(next http.Handler) http.Handler {
	if l.limit <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := "addr:" + auth.MetaFrom(r.Context()).ClientAddr
		if p := auth.FromContext(r.Context()); p != nil {
			key = "principal:" + p.ID
		}
		b := l.bucket(key)
		res := b.Reserve()
		if d := res.Delay(); d > 0 {
			res.Cancel()
			l.headers(w, b)
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
			auth.WriteError(w, http.StatusTooManyRequests, "RATE_LIMITED", "too many requests; retry after "+d.Round(time.Second).String())
			return
		}
		l.headers(w, b)
		next.ServeHTTP(w, r)
	})
}

func (l *rateLimiter) bucket(key string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.byKey.Get(key)
	if !ok {
		b = rate.NewLimiter(l.limit, l.burst)
		l.byKey.Add(key, b)
	}
	return b
}

// headers tell the caller its rate-limit state, in the fields of the IETF
// draft "RateLimit header fields for HTTP" (draft-ietf-httpapi-ratelimit-headers,
// the -Limit/-Remaining/-Reset form most clients read): RateLimit-Limit is the
// burst, RateLimit-Remaining the requests that may be sent at once now,
// RateLimit-Reset the seconds until the bucket is full again, and
// RateLimit-Policy the bucket ("200;w=2": 200 requests per 2 s window).
func (l *rateLimiter) headers(w http.ResponseWriter, b *rate.Limiter) {
	tokens := max(b.Tokens(), 0)
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(l.burst))
	h.Set("RateLimit-Remaining", strconv.Itoa(int(math.Floor(tokens))))
	h.Set("RateLimit-Reset", strconv.Itoa(int(math.Ceil((float64(l.burst)-tokens)/float64(l.limit)))))
	h.Set("RateLimit-Policy", strconv.Itoa(l.burst)+";w="+strconv.Itoa(max(1, int(math.Ceil(float64(l.burst)/float64(l.limit))))))
}
