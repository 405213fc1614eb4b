package server

import (
	"crypto/ed25519"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/audit"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
)

// auditKeys loads the checkpoint keys the configuration names (L4): the
// signing key, and the public keys checkpoints are verified with — the
// signing key's own among them.
func auditKeys(cfg Config) (*audit.Signer, *audit.Keys, error) {
	var signer *audit.Signer
	var own []ed25519.PublicKey
	if cfg.AuditSigningKey != "" {
		var err error
		if signer, err = audit.LoadSigner(cfg.AuditSigningKey); err != nil {
			return nil, nil, err
		}
		own = append(own, signer.Public())
	}
	keys, err := audit.LoadKeys(cfg.AuditPublicKeys, own...)
	return signer, keys, err
}

// checkpointInterval is how often this server signs audit checkpoints.
func checkpointInterval(cfg Config) time.Duration {
	if cfg.AuditCheckpointInterval <= 0 {
		return time.Minute
	}
	return cfg.AuditCheckpointInterval
}

// auditJSONL exports a whole audit chain with its signed checkpoints, in the
// format `gatehouse audit verify` checks offline (L4):
//
//	GET /accounts/{id}/audit.jsonl   (iam.audit.read)
//	GET /platform/audit.jsonl        (operators: the platform's chain)
//
// The last line is an end record: a download cut short does not verify.
func auditJSONL(svc *iam.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if auth.FromContext(ctx) == nil {
			auth.Unauthorized(w, "authentication required")
			return
		}
		accountID := r.PathValue("id") // "" on /platform/audit.jsonl
		var out *audit.Writer
		err := svc.ExportAuditLog(ctx, accountID, func() (*audit.Writer, error) {
			w.Header().Set("Content-Type", "application/jsonl; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="audit.jsonl"`)
			var err error
			out, err = audit.NewWriter(w, accountID)
			return out, err
		})
		switch {
		case err != nil && out == nil:
			exportError(w, err)
		case err != nil:
			log.ErrorContext(ctx, "audit export cut short", "account", accountID, "err", err)
		default:
			_ = out.End()
		}
	})
}

// exportError answers a refused or failed export before anything was
// written: the caller's own errors with their code, anything else INTERNAL.
func exportError(w http.ResponseWriter, err error) {
	code, status := apperr.CodeOf(err), http.StatusInternalServerError
	switch code {
	case apperr.NotFound:
		status = http.StatusNotFound
	case apperr.Forbidden:
		status = http.StatusForbidden
	case apperr.Unavailable: // P5: retry shortly
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", strconv.Itoa(auth.UnavailableRetryAfter))
	default:
		code = apperr.Internal
	}
	var ae *apperr.Error
	msg := "internal error"
	if code != apperr.Internal && errors.As(err, &ae) {
		msg = ae.Message
	}
	auth.WriteError(w, status, string(code), msg)
}
