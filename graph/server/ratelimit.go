package server

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
)

// buckets keeps one token bucket per key in a bounded LRU, so that many
// principals or addresses cannot grow memory.
type buckets struct {
	limit rate.Limit
	burst int
	mu    sync.Mutex
	byKey *lru.Cache[string, *rate.Limiter]
}

func newBuckets(perSecond float64, burst int) *buckets {
	c, _ := lru.New[string, *rate.Limiter](100_000)
	return &buckets{limit: rate.Limit(perSecond), burst: burst, byKey: c}
}

// peek returns key's bucket if it has one, without making one or counting
// it as used.
func (b *buckets) peek(key string) (*rate.Limiter, bool) {
	return b.byKey.Peek(key) // lru.Cache locks itself
}

func (b *buckets) bucket(key string) *rate.Limiter {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.byKey.Get(key)
	if !ok {
		l = rate.NewLimiter(b.limit, b.burst)
		b.byKey.Add(key, l)
	}
	return l
}

// rateLimiter keeps one bucket per principal (per client address for
// anonymous requests) and answers RATE_LIMITED with HTTP 429 and Retry-After.
type rateLimiter struct {
	*buckets
	met *metrics
	// limitHeader and policyHeader are the RateLimit-Limit and -Policy
	// values: the same for every response.
	limitHeader, policyHeader []string
	numbers                   [][]string // numbers[n] is {"n"} (number)
}

// maxSharedNumber bounds the header values made once (a burst of a million
// should not cost a million strings).
const maxSharedNumber = 10_000

func newRateLimiter(perSecond float64, burst int, met *metrics) *rateLimiter {
	l := &rateLimiter{buckets: newBuckets(perSecond, burst), met: met}
	if perSecond > 0 {
		window := max(1, int(math.Ceil(float64(burst)/perSecond)))
		l.limitHeader = []string{strconv.Itoa(burst)}
		l.policyHeader = []string{strconv.Itoa(burst) + ";w=" + strconv.Itoa(window)}
		l.numbers = make([][]string, min(burst, maxSharedNumber)+1)
		for n := range l.numbers {
			l.numbers[n] = []string{strconv.Itoa(n)}
		}
	}
	return l
}

func (l *rateLimiter) Middleware(next http.Handler) http.Handler {
	if l.limit <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, now, wait, ok := l.spend(r.Context())
		l.headers(w, b, now)
		if !ok {
			auth.RateLimited(w, wait, "too many requests")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// spend takes a token from the bucket of ctx's principal (or client
// address) at now; when there is none it counts the refusal and says how
// long until one is back.
func (l *rateLimiter) spend(ctx context.Context) (b *rate.Limiter, now time.Time, wait time.Duration, ok bool) {
	b = l.bucket(bucketKey(ctx))
	now = time.Now()
	if b.AllowN(now, 1) { // AllowN, unlike Reserve, allocates nothing
		return b, now, 0, true
	}
	l.met.limited.WithLabelValues("requests").Inc()
	return b, now, untilToken(b, now), false
}

// bucketKey is whose bucket a request spends: its principal's, or its
// client address's when it has none.
func bucketKey(ctx context.Context) string {
	if p := auth.FromContext(ctx); p != nil {
		return "principal:" + p.ID
	}
	return "addr:" + auth.MetaFrom(ctx).ClientAddr
}

// admit spends a token of the bucket of an operation that arrived without a
// request of its own (over a WebSocket): RATE_LIMITED, with retryAfter in
// whole seconds, when there is none.
func (l *rateLimiter) admit(ctx context.Context) error {
	if l.limit <= 0 {
		return nil
	}
	if _, _, wait, ok := l.spend(ctx); !ok {
		return apperr.New(apperr.RateLimited, "too many requests; retry after %s", wait.Round(time.Second)).
			With("retryAfter", auth.RetryAfterSeconds(wait))
	}
	return nil
}

// failureLimiter is the budget of failed authentications per client
// address (auth.FailureLimiter): a failure spends a token, and an address
// without one has its credentials refused until it regains one. Successful
// authentications cost nothing, so only guessing is slowed.
type failureLimiter struct {
	*buckets
	met *metrics
}

// newFailureLimiter returns nil (no limit) when perSecond is 0.
func newFailureLimiter(perSecond float64, burst int, met *metrics) auth.FailureLimiter {
	if perSecond <= 0 || burst <= 0 {
		return countFailures{met}
	}
	return &failureLimiter{buckets: newBuckets(perSecond, burst), met: met}
}

func (f *failureLimiter) Blocked(ctx context.Context) (time.Duration, bool) {
	// Only addresses that failed have a bucket: every other request would
	// make one (and push a failing address's out of the LRU).
	b, ok := f.peek(auth.MetaFrom(ctx).ClientAddr)
	if !ok {
		return 0, false
	}
	now := time.Now()
	if b.TokensAt(now) >= 1 {
		return 0, false
	}
	f.met.limited.WithLabelValues("auth_failures").Inc()
	return untilToken(b, now), true
}

// untilToken is how long after now b will have a token again: a
// reservation says when, and is not kept.
func untilToken(b *rate.Limiter, now time.Time) time.Duration {
	res := b.ReserveN(now, 1)
	defer res.CancelAt(now)
	return res.DelayFrom(now)
}

func (f *failureLimiter) Failed(ctx context.Context, reason string) {
	f.met.authFailed.WithLabelValues(reason).Inc()
	f.bucket(auth.MetaFrom(ctx).ClientAddr).Allow()
}

// countFailures only counts failures (the limit is off).
type countFailures struct{ met *metrics }

func (countFailures) Blocked(context.Context) (time.Duration, bool) { return 0, false }

func (c countFailures) Failed(_ context.Context, reason string) {
	c.met.authFailed.WithLabelValues(reason).Inc()
}

// headers tell the caller its rate-limit state, in the fields of the IETF
// draft "RateLimit header fields for HTTP" (draft-ietf-httpapi-ratelimit-headers,
// the -Limit/-Remaining/-Reset form most clients read): RateLimit-Limit is the
// burst, RateLimit-Remaining the requests that may be sent at once now,
// RateLimit-Reset the seconds until the bucket is full again, and
// RateLimit-Policy the bucket ("200;w=2": 200 requests per 2 s window).
func (l *rateLimiter) headers(w http.ResponseWriter, b *rate.Limiter, now time.Time) {
	tokens := max(b.TokensAt(now), 0)
	// Keys in canonical form, set directly: Header.Set would canonicalize
	// (and allocate) each of them on every response.
	h := w.Header()
	h["Ratelimit-Limit"] = l.limitHeader
	h["Ratelimit-Remaining"] = l.number(int(math.Floor(tokens)))
	h["Ratelimit-Reset"] = l.number(int(math.Ceil((float64(l.burst) - tokens) / float64(l.limit))))
	h["Ratelimit-Policy"] = l.policyHeader
}

// number is n as a header value: shared for 0 to the burst (what the
// remaining requests and, unless the rate is under one a second, the
// seconds to reset are), made for others.
func (l *rateLimiter) number(n int) []string {
	if n >= 0 && n < len(l.numbers) {
		return l.numbers[n]
	}
	return []string{strconv.Itoa(n)}
}
