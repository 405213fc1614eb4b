package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/gatehouse-iam/gatehouse/graph/apperr"
)

// lib/pq refuses some statements itself, before they reach the server, with
// plain errors ("pq: got 66001 parameters but PostgreSQL only supports
// 65535 parameters"). They are storage errors: INTERNAL, logged, never
// shown; they were presented as the caller's BAD_USER_INPUT, driver text
// and all.
func TestErrors_DriverRefusalsAreInternalNotBadInput(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, err := range []error{
		errors.New("pq: got 66001 parameters but PostgreSQL only supports 65535 parameters"),
		fmt.Errorf("loading holders: %w", errors.New("pq: unexpected message 'Z'; expected ReadyForQuery")),
	} {
		ae := public(context.Background(), log, nil, "graphql", err)
		if ae == nil || ae.Code != apperr.Internal || ae.Message != "internal error" {
			t.Errorf("%v: presented as %+v; want INTERNAL \"internal error\"", err, ae)
		}
	}
	if ae := public(context.Background(), log, nil, "graphql", errors.New("pqx is not a valid MemberOrderField")); ae != nil {
		t.Errorf("an input error is presented as %+v", ae)
	}
}
