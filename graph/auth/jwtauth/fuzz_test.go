package jwtauth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fuzzNow is the verifier's clock in FuzzP3_HS256Verify, so that a run
// decides every input the same way whenever it runs.
var fuzzNow = time.Unix(1_800_000_000, 0)

// The ways FuzzP3_HS256Verify signs what it builds.
const (
	signRight   = iota // HMAC-SHA256 with the configured secret
	signWrong          // HMAC-SHA256 with another secret
	signHS384          // HMAC-SHA384 with the configured secret (another HS algorithm)
	signNone           // no signature (alg none)
	signGarbage        // the extra bytes as the signature
	rawToken           // the extra bytes are the whole token
	signModes
)

// FuzzP3_HS256Verify builds a token from a header and claims (JSON text the
// fuzzer mutates) signed one of several ways, or takes arbitrary text, and
// checks that the HS256 verifier accepts it only when an independent check
// agrees: signed with HMAC-SHA256 and the configured secret, header alg
// exactly HS256 without crit, exp not past (leeway allowed), the configured
// issuer and audience, and an email claim, which is what Verify returns.
// Every refusal wraps ErrInvalid, returns no claims and does not quote the
// token.
func FuzzP3_HS256Verify(f *testing.F) {
	const (
		hdr    = `{"alg":"HS256","typ":"JWT"}`
		claims = `{"iss":"https://idp.test","aud":"gatehouse","email":" Ana@Example.TEST ","exp":1800003600,"iat":1799999000}`
	)
	edit := func(old, new string) string { return strings.Replace(claims, old, new, 1) }
	for _, c := range []string{
		claims,
		edit(`"exp":1800003600`, `"exp":1799990000`),                  // expired
		edit(`"exp":1800003600`, `"exp":1799999990`),                  // expired within the leeway
		edit(`"exp":1800003600`, `"exp":"1800003600"`),                // exp as a string
		edit(`"exp":1800003600,`, ``),                                 // no exp
		edit(`"exp":1800003600`, `"exp":1800003600,"exp":1`),          // duplicate exp
		edit(`"iss":"https://idp.test"`, `"iss":"https://evil.test"`), // wrong issuer
		edit(`"iss":"https://idp.test",`, ``),                         // no issuer
		edit(`"aud":"gatehouse"`, `"aud":["other","gatehouse"]`),      // audience list
		edit(`"aud":"gatehouse"`, `"aud":"other"`),                    // wrong audience
		edit(`"aud":"gatehouse"`, `"aud":"gatehouse","aud":"x"`),      // duplicate audience
		edit(`"email":" Ana@Example.TEST "`, `"email":"ana"`),         // bad email
		edit(`"email":" Ana@Example.TEST "`, `"email":["a@b.c"]`),     // email not a string
		edit(`"email"`, `"email_verified":false,"email"`),             // unverified email
		edit(`"iat":1799999000`, `"iat":1800009000`),                  // issued in the future
		edit(`"iat":1799999000`, `"iat":1799999000,"nbf":1800009000`), // not yet valid
		`[]`, `null`, `{}`, `"x"`,
	} {
		f.Add(hdr, c, uint8(signRight), "")
	}
	for _, h := range []string{
		`{"alg":"HS256"}`, `{"alg":"none"}`, `{"alg":"None"}`, `{"alg":"hs256"}`, `{"alg":"HS384"}`, `{"alg":"RS256"}`,
		`{"alg":"HS256","crit":["x"],"x":1}`, `{"alg":"none","alg":"HS256"}`, `{"alg":"HS256","alg":"none"}`,
		`{"alg":"HS256","b64":false,"crit":["b64"]}`, `{"alg":"HS256","kid":"../../dev/null"}`, `{"alg":"HS256","jku":"http://x"}`,
		`{}`, `[]`, `{"alg":["HS256"]}`,
	} {
		for mode := range uint8(signModes) {
			f.Add(h, claims, mode, "c2ln")
		}
	}
	for _, raw := range []string{"", "a.b.c", "..", "a.b.", "eyJhbGciOiJIUzI1NiJ9.e30.", "eyJhbGciOiJub25lIn0.e30.",
		strings.Repeat("A", 100) + "." + strings.Repeat("B", 100) + ".", "a.b.c.d", "a b.c.d", "gk_01JD3V8Q7X9K2M4N6P8R0T2V4W_x"} {
		f.Add("", "", uint8(rawToken), raw)
	}

	v, err := New(context.Background(), Config{HS256Secret: secret, Issuer: issuer, Audience: audience})
	if err != nil {
		f.Fatal(err)
	}
	v.now = func() time.Time { return fuzzNow }
	f.Fuzz(func(t *testing.T, header, claims string, mode uint8, extra string) {
		raw := buildToken(header, claims, mode, extra)
		c, err := v.Verify(context.Background(), raw)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || c != (Claims{}) {
				t.Fatalf("Verify(%q) = %+v, %v; want no claims and ErrInvalid", raw, c, err)
			}
			for _, part := range strings.Split(raw, ".") {
				if len(part) > 8 && strings.Contains(err.Error(), part) {
					t.Fatalf("error %q quotes the token", err)
				}
			}
			return
		}
		if why := refAccepts(raw, v.cfg.Leeway); why != "" {
			t.Fatalf("Verify accepted %q (header %s, claims %s) as %+v, but %s", raw, header, claims, c, why)
		}
		var cl struct{ Email string }
		_ = json.Unmarshal(decodeB64(strings.Split(raw, ".")[1]), &cl)
		if want := strings.ToLower(strings.TrimSpace(cl.Email)); c.Email != want || c.Email == "" {
			t.Fatalf("Verify(%q) email %q, want %q", raw, c.Email, want)
		}
	})
}

func buildToken(header, claims string, mode uint8, extra string) string {
	enc := base64.RawURLEncoding.EncodeToString
	input := enc([]byte(header)) + "." + enc([]byte(claims))
	mac := func(h func() hash.Hash, key string) string {
		m := hmac.New(h, []byte(key))
		m.Write([]byte(input))
		return enc(m.Sum(nil))
	}
	switch mode % signModes {
	case signRight:
		return input + "." + mac(sha256.New, secret)
	case signWrong:
		return input + "." + mac(sha256.New, secret+"!")
	case signHS384:
		return input + "." + mac(sha512.New384, secret)
	case signNone:
		return input + "."
	case signGarbage:
		return input + "." + enc([]byte(extra))
	}
	return extra
}

func decodeB64(s string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil
	}
	return b
}

// refAccepts says why raw must be refused, or "" when it may be accepted.
// It is written from RFC 7515/7519 and the configuration, not from jwx.
func refAccepts(raw string, leeway time.Duration) string {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "it is not three parts"
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(parts[0] + "." + parts[1]))
	if sig := decodeB64(parts[2]); !hmac.Equal(sig, m.Sum(nil)) {
		return "it is not signed with HMAC-SHA256 and the configured secret"
	}
	var hdr map[string]any
	if err := json.Unmarshal(decodeB64(parts[0]), &hdr); err != nil {
		return "its header is not a JSON object"
	}
	if hdr["alg"] != "HS256" {
		return "its header's alg is not HS256"
	}
	if _, ok := hdr["crit"]; ok {
		return "its header has crit"
	}
	var cl map[string]any
	dec := json.NewDecoder(bytes.NewReader(decodeB64(parts[1])))
	dec.UseNumber()
	if err := dec.Decode(&cl); err != nil || cl == nil {
		return "its claims are not a JSON object"
	}
	if _, err := dec.Token(); err != io.EOF {
		return "its claims are followed by more than white space"
	}
	exp, ok := numericDate(cl["exp"])
	if !ok {
		return "it has no exp"
	}
	// One second more than the leeway: exp may be fractional.
	if fuzzNow.After(exp.Add(leeway + time.Second)) {
		return "it expired"
	}
	if cl["iss"] != issuer {
		return "its issuer is not " + issuer
	}
	switch aud := cl["aud"].(type) {
	case string:
		if aud != audience {
			return "its audience is not " + audience
		}
	case []any:
		found := false
		for _, a := range aud {
			found = found || a == audience
		}
		if !found {
			return "its audiences do not include " + audience
		}
	default:
		return "it has no audience"
	}
	if _, ok := cl["email"].(string); !ok {
		return "it has no email"
	}
	if cl["email_verified"] == false || cl["email_verified"] == "false" {
		return "its email is not verified"
	}
	return ""
}

// numericDate reads a NumericDate (RFC 7519 §2): a JSON number of seconds;
// a numeric string is allowed too, in case a library is lenient.
func numericDate(v any) (time.Time, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = x
	default:
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}
