package jwtauth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// wellFormedJSON reports whether the header and the claims of raw, a token
// that LooksLikeJWT, are each exactly one JSON object in UTF-8, as RFC 7515
// §5.2 and RFC 7519 §7.2 require. jwx reads the first object and ignores
// what follows it (`{"email":…}garbage` verifies), which another reader of
// the same token might not: such a token is refused as malformed.
func wellFormedJSON(raw string) bool {
	header, rest, _ := strings.Cut(raw, ".")
	claims, _, _ := strings.Cut(rest, ".")
	return jsonObject(header) && jsonObject(claims)
}

func jsonObject(segment string) bool {
	b, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil || !utf8.Valid(b) || !json.Valid(b) {
		return false
	}
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}
