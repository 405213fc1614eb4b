package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
)

// TLS returns the HTTPS configuration of GATEHOUSE_TLS_CERT_FILE and
// GATEHOUSE_TLS_KEY_FILE, or nil when neither is set. The pair is read
// again whenever either file changes (a rotation by cert-manager, certbot or
// a mounted secret), checked at each handshake; a pair that does not load —
// say, the certificate written but not yet its key — is skipped, and the
// previous one served, until the files change again.
func (c Config) TLS(log *slog.Logger) (*tls.Config, error) {
	switch {
	case c.TLSCertFile == "" && c.TLSKeyFile == "":
		return nil, nil
	case c.TLSCertFile == "" || c.TLSKeyFile == "":
		return nil, errors.New("set both GATEHOUSE_TLS_CERT_FILE and GATEHOUSE_TLS_KEY_FILE, or neither")
	}
	if log == nil {
		log = slog.Default()
	}
	r := &certReloader{certFile: c.TLSCertFile, keyFile: c.TLSKeyFile, log: log}
	if err := r.load(); err != nil {
		return nil, fmt.Errorf("GATEHOUSE_TLS_CERT_FILE, GATEHOUSE_TLS_KEY_FILE: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.get}, nil
}

// certReloader serves a certificate from files, read again when they change.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu    sync.Mutex
	cert  *tls.Certificate
	stats [2]os.FileInfo // of the files as last read
}

// load reads the pair when the files differ from what was last read; a
// first read must succeed, a later failure keeps the current certificate.
func (r *certReloader) load() error {
	var stats [2]os.FileInfo
	for i, f := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			if r.cert == nil {
				return err
			}
			return nil // mid-rotation: keep serving the current pair
		}
		stats[i] = fi
	}
	if r.cert != nil && same(stats[0], r.stats[0]) && same(stats[1], r.stats[1]) {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	r.stats = stats // a bad pair is tried again only when the files change
	if err != nil {
		if r.cert == nil {
			return err
		}
		r.log.Warn("TLS certificate files changed but do not load; serving the previous certificate", "err", err)
		return nil
	}
	if r.cert != nil {
		r.log.Info("TLS certificate reloaded", "file", r.certFile)
	}
	r.cert = &cert
	return nil
}

func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_ = r.load()
	return r.cert, nil
}

// same reports whether two stats are of the same, unchanged file.
func same(a, b os.FileInfo) bool {
	return b != nil && os.SameFile(a, b) && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
}
