package limits

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// Cost is what every response says of its operation's complexity, in
// `extensions.cost`, so that a dashboard can size its queries before one is
// refused: requested is the operation's complexity as measured here, limit
// the most an operation may cost.
type Cost struct {
	Requested int `json:"requested"`
	Limit     int `json:"limit"`
}

// costKey is where the measured cost waits, in the operation's stats, for
// the response.
const costKey = "gatehouse.cost"

var _ graphql.ResponseInterceptor = (*limiter)(nil)

// InterceptResponse adds extensions.cost to the response of an operation
// that was measured.
func (e *limiter) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || !graphql.HasOperationContext(ctx) {
		return resp
	}
	c, ok := graphql.GetOperationContext(ctx).Stats.GetExtension(costKey).(Cost)
	if !ok {
		return resp
	}
	if resp.Extensions == nil {
		resp.Extensions = map[string]any{}
	}
	resp.Extensions["cost"] = c
	return resp
}
