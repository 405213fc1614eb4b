package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// KeyID names a public key in checkpoints: the first 8 bytes of the SHA-256
// of the raw key, in hex. It only picks the key to try; the signature is what
// proves anything.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// Signer signs checkpoints with a private key.
type Signer struct {
	key ed25519.PrivateKey
	id  string
}

// NewSigner returns a Signer for key.
func NewSigner(key ed25519.PrivateKey) *Signer {
	return &Signer{key: key, id: KeyID(key.Public().(ed25519.PublicKey))}
}

// Public returns the key that verifies this signer's checkpoints.
func (s *Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// KeyID returns the id of the signer's public key.
func (s *Signer) KeyID() string { return s.id }

// Keys are the public keys checkpoints may be signed with (old keys stay
// here after a rotation, so that old checkpoints still verify).
type Keys struct{ byID map[string]ed25519.PublicKey }

// NewKeys returns a set of public keys.
func NewKeys(pubs ...ed25519.PublicKey) *Keys {
	k := &Keys{byID: map[string]ed25519.PublicKey{}}
	for _, p := range pubs {
		k.byID[KeyID(p)] = p
	}
	return k
}

// Len is how many keys the set holds.
func (k *Keys) Len() int { return len(k.byID) }

// GenerateKey makes a new signing key and returns it and its public key as
// PEM (PKCS #8 and PKIX), as `gatehouse audit keygen` writes them.
func GenerateKey() (private, public []byte, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), nil
}

// ParsePrivateKey reads an Ed25519 private key from PEM (PKCS #8).
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM PRIVATE KEY block")
		}
		if b.Type != "PRIVATE KEY" {
			continue
		}
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, err
		}
		priv, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("the private key is %T, not Ed25519", k)
		}
		return priv, nil
	}
}

// ParsePublicKeys reads every Ed25519 key of a PEM file: PUBLIC KEY blocks,
// and the public half of a PRIVATE KEY block.
func ParsePublicKeys(data []byte) ([]ed25519.PublicKey, error) {
	var out []ed25519.PublicKey
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		var k any
		var err error
		switch b.Type {
		case "PUBLIC KEY":
			k, err = x509.ParsePKIXPublicKey(b.Bytes)
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		switch k := k.(type) {
		case ed25519.PublicKey:
			out = append(out, k)
		case ed25519.PrivateKey:
			out = append(out, k.Public().(ed25519.PublicKey))
		default:
			return nil, fmt.Errorf("a key is %T, not Ed25519", k)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no Ed25519 key in PEM")
	}
	return out, nil
}

// LoadSigner reads the signing key file.
func LoadSigner(path string) (*Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit signing key: %w", err)
	}
	k, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("audit signing key %s: %w", path, err)
	}
	return NewSigner(k), nil
}

// LoadKeys reads public key files into a set, together with extra keys.
func LoadKeys(paths []string, extra ...ed25519.PublicKey) (*Keys, error) {
	all := append([]ed25519.PublicKey(nil), extra...)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("audit public key: %w", err)
		}
		keys, err := ParsePublicKeys(data)
		if err != nil {
			return nil, fmt.Errorf("audit public key %s: %w", p, err)
		}
		all = append(all, keys...)
	}
	return NewKeys(all...), nil
}
