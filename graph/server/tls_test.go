package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// selfSigned returns a PEM certificate for 127.0.0.1 with the given serial,
// and its key.
func selfSigned(t *testing.T, serial int64) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "gatehouse test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: k})
}

// install writes a file the way rotations do: a new file renamed over the old.
func install(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// served connects to addr trusting only certPEM and returns the serial of
// the certificate the server presents, or the handshake's error.
func served(t *testing.T, addr string, certPEM []byte) (int64, error) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}
	res, err := client.Get("https://" + addr + "/")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.TLS.PeerCertificates[0].SerialNumber.Int64(), nil
}

// HTTPS with GATEHOUSE_TLS_CERT_FILE and _KEY_FILE: the pair is served, a
// rotated pair is served from the next handshake on, and a pair that does
// not load (a certificate without its key yet) leaves the last good one.
func TestTLS_ServesTheFilesAndReloadsThemWhenTheyChange(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{TLSCertFile: filepath.Join(dir, "tls.crt"), TLSKeyFile: filepath.Join(dir, "tls.key")}
	cert1, key1 := selfSigned(t, 1)
	install(t, cfg.TLSCertFile, cert1)
	install(t, cfg.TLSKeyFile, key1)
	tc, err := cfg.TLS(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil || tc == nil {
		t.Fatalf("TLS config: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{TLSConfig: tc, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }),
		ErrorLog: log.New(io.Discard, "", 0)} // the refused old certificate's handshake
	go func() { _ = hs.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = hs.Close() })
	addr := ln.Addr().String()

	if serial, err := served(t, addr, cert1); err != nil || serial != 1 {
		t.Fatalf("first certificate: serial %d, %v", serial, err)
	}
	cert2, key2 := selfSigned(t, 2)
	install(t, cfg.TLSCertFile, cert2)
	install(t, cfg.TLSKeyFile, key2)
	if serial, err := served(t, addr, cert2); err != nil || serial != 2 {
		t.Fatalf("after rotation: serial %d, %v", serial, err)
	}
	if _, err := served(t, addr, cert1); err == nil {
		t.Fatal("the old certificate is still served")
	}
	cert3, _ := selfSigned(t, 3)
	install(t, cfg.TLSCertFile, cert3) // its key not written yet
	if serial, err := served(t, addr, cert2); err != nil || serial != 2 {
		t.Fatalf("mid-rotation: serial %d, %v", serial, err)
	}
}

func TestTLS_NeedsBothFiles(t *testing.T) {
	if tc, err := (Config{}).TLS(nil); tc != nil || err != nil {
		t.Fatalf("no files: %v %v", tc, err)
	}
	if _, err := (Config{TLSCertFile: "x.crt"}).TLS(nil); err == nil {
		t.Fatal("a certificate without its key was accepted")
	}
	if _, err := (Config{TLSCertFile: "/nonexistent.crt", TLSKeyFile: "/nonexistent.key"}).TLS(nil); err == nil {
		t.Fatal("missing files were accepted")
	}
}
