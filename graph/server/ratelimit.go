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
		res := l.bucket(key).Reserve()
		if d := res.Delay(); d > 0 {
			res.Cancel()
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
			auth.WriteError(w, http.StatusTooManyRequests, "RATE_LIMITED", "too many requests; retry after "+d.Round(time.Second).String())
			return
		}
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
