package server

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"

	"github.com/segmentio/encoding/json"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
)

// The decision fast path (D1, D5): POST /v1/authorize answers the GraphQL
// `authorize` field — or, given {"checks": [...]}, `authorizeMany` — as
// plain JSON, for backends that ask on every request. It passes through the
// same authentication, body limit, rate limit, deadline and metrics as
// /graphql, and records usage alike (V2); it skips only the generic GraphQL
// executor. Answers are the field's, with every field selected (a test
// compares the two).

// decisionsJSON is the answer to {"checks": […]}.
type decisionsJSON struct {
	Decisions []decisionJSON `json:"decisions"`
}

// The answer is written as json.NewEncoder(w).Encode writes it, from a
// buffer kept between requests (up to 64 KB), with a Content-Type header
// value allocated once.
var (
	decisionBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}
	jsonContentType = []string{"application/json"}
)

const encodeFlags = json.EscapeHTML | json.SortMapKeys

// decisionJSON is a Decision as GraphQL serializes it with every field.
type decisionJSON struct {
	Permission     string     `json:"permission"`
	Allowed        bool       `json:"allowed"`
	Reason         string     `json:"reason"`
	GrantedBy      *grantJSON `json:"grantedBy"`
	Masks          []string   `json:"masks"`
	SuggestedRoles []roleRef  `json:"suggestedRoles"`
}

type grantJSON struct {
	Role    *roleRef `json:"role"`
	RoleKey string   `json:"roleKey"`
	Grant   string   `json:"grant"`
	Chain   []string `json:"chain"`
}

// roleRef names a role: fetch the rest through GraphQL.
type roleRef struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

func refOf(r *ent.Role) roleRef { return roleRef{ID: r.ID, Key: r.Key} }

func decisionOf(d *iam.Decision) decisionJSON {
	suggested := d.SuggestedRefs()
	out := decisionJSON{Permission: d.Permission, Allowed: d.Allowed, Reason: d.Reason.String(),
		Masks: d.Masks, SuggestedRoles: make([]roleRef, len(suggested))}
	for i, r := range suggested {
		out.SuggestedRoles[i] = roleRef(r)
	}
	if p := d.GrantedBy(); p != nil {
		out.GrantedBy = &grantJSON{RoleKey: p.RoleKey, Grant: p.Grant, Chain: p.Chain}
		if d.GrantedByRole() {
			out.GrantedBy.Role = &roleRef{ID: p.RoleID, Key: p.RoleKey}
		}
		if out.GrantedBy.Chain == nil {
			out.GrantedBy.Chain = []string{}
		}
	}
	return out
}

// decisionRequest is one check, or several under "checks".
type decisionRequest struct {
	iam.AuthorizeInput
	Checks []*iam.AuthorizeInput `json:"checks"`
}

// decodeDecisionRequest reads a body that must be one JSON object of a
// decisionRequest's fields and nothing more — as encoding/json's Decoder
// with DisallowUnknownFields would, at a seventh of its cost (a fuzz test
// holds the two to the same answers).
func decodeDecisionRequest(body []byte) (decisionRequest, error) {
	var req decisionRequest
	rest, err := json.Parse(body, &req, json.DisallowUnknownFields)
	if err == nil && len(rest) > 0 {
		err = errors.New("more than one JSON value")
	}
	return req, err
}

func decisionAPI(svc *iam.Service, log *slog.Logger, met *metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if auth.FromContext(ctx) == nil {
			auth.Unauthorized(w, "authentication required: send an operator key, API key or JWT as `Authorization: Bearer …`")
			return
		}
		body, err := bodyBytes(r)
		var req decisionRequest
		if err == nil {
			req, err = decodeDecisionRequest(body)
		}
		if err != nil {
			writeDecisionError(w, apperr.New(apperr.BadUserInput, "the body must be one JSON object: an AuthorizeInput, or {\"checks\": [AuthorizeInput…]}"))
			return
		}
		buf := decisionBuffers.Get().(*[]byte)
		defer func() {
			if cap(*buf) <= 64<<10 {
				decisionBuffers.Put(buf)
			}
		}()
		if req.Checks != nil {
			ds, err := svc.AuthorizeMany(ctx, req.Checks)
			if err != nil {
				writeDecisionError(w, public(ctx, log, met, "decisions", err))
				return
			}
			out := decisionsJSON{Decisions: make([]decisionJSON, len(ds))}
			for i, d := range ds {
				out.Decisions[i] = decisionOf(d)
			}
			*buf, _ = json.Append((*buf)[:0], &out, encodeFlags) // cannot fail: strings, bools and slices
		} else {
			d, err := svc.Authorize(ctx, req.AuthorizeInput)
			if err != nil {
				writeDecisionError(w, public(ctx, log, met, "decisions", err))
				return
			}
			out := decisionOf(d)
			*buf, _ = json.Append((*buf)[:0], &out, encodeFlags)
		}
		*buf = append(*buf, '\n')
		w.Header()["Content-Type"] = jsonContentType
		_, _ = w.Write(*buf)
	})
}

// statusOf is the HTTP status of an error code.
var statusOf = map[apperr.Code]int{
	apperr.Unauthenticated: http.StatusUnauthorized, apperr.Forbidden: http.StatusForbidden,
	apperr.NotFound: http.StatusNotFound, apperr.BadUserInput: http.StatusBadRequest,
	apperr.Conflict: http.StatusConflict, apperr.RateLimited: http.StatusTooManyRequests,
	apperr.Unavailable: http.StatusServiceUnavailable, apperr.Internal: http.StatusInternalServerError,
}

// writeDecisionError writes a GraphQL-shaped error, with the code's status.
func writeDecisionError(w http.ResponseWriter, ae *apperr.Error) {
	if ae == nil {
		ae = apperr.Wrap(errors.New("untyped error"), "decisions")
	}
	status, ok := statusOf[ae.Code]
	if !ok {
		status = http.StatusBadRequest
	}
	if ae.Code == apperr.Unavailable {
		w.Header().Set("Retry-After", strconv.Itoa(auth.UnavailableRetryAfter))
	}
	auth.WriteErrorWith(w, status, string(ae.Code), ae.Message, ae.Extensions)
}
